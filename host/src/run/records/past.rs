//! A runbook's past executions, wherever they are kept: a markdown
//! runbook's `# History`, a YAML runbook's records in the JSON log.

use serde::Serialize;
use serde_json::Value;

use super::history;
use crate::error::Failure;
use crate::model::{Format, Runbook};
use crate::store::{Filter, Store, StoreError};

/// One past execution, oldest first in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Execution {
    /// When it ran, as recorded.
    pub at: String,
    pub exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Only the JSON log keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// The executions of `runbook` recorded so far, oldest first: its
/// `# History` for markdown, its newest `limit` records in `store` for YAML
/// (none without a store).
pub fn executions(runbook: &Runbook, store: Option<&Store>, limit: usize) -> Result<Vec<Execution>, StoreError> {
    match runbook.format {
        Format::Markdown => {
            let text = std::fs::read_to_string(&runbook.path)
                .map_err(|e| StoreError { store: runbook.path.display().to_string(), message: e.to_string() })?;
            Ok(history::read(&text)
                .into_iter()
                .map(|e| {
                    let block = |label: &str| e.blocks.iter().find(|(l, _)| l == label).map(|(_, text)| text.clone());
                    Execution {
                        at: e.at.clone(),
                        exit_code: e.exit_code.map(i64::from),
                        error: block("Error"),
                        stdout: block("Stdout"),
                        stderr: block("Stderr"),
                        correlation_id: None,
                    }
                })
                .collect())
        }
        Format::Yaml => {
            let Some(store) = store else { return Ok(Vec::new()) };
            let filter = Filter {
                runbook: Some(runbook.file_name()),
                name: Some(runbook.name.clone()),
                limit,
                ..Filter::default()
            };
            let mut found: Vec<Execution> = store
                .list(&filter, true)?
                .into_iter()
                .map(|row| {
                    let record: Value =
                        row.record.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
                    let text = |v: &Value| v.as_str().map(str::to_string);
                    Execution {
                        at: text(&record["breadcrumb"]["at_time"]).unwrap_or_else(|| row.started()),
                        exit_code: row.exit_code.map(i64::from),
                        error: serde_json::from_value::<Failure>(record["error"].clone()).ok().map(|f| f.to_string()),
                        stdout: text(&record["stdout"]),
                        stderr: text(&record["stderr"]),
                        correlation_id: Some(row.correlation_id),
                    }
                })
                .collect();
            found.reverse();
            Ok(found)
        }
    }
}
