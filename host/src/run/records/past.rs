//! A runbook's past executions, wherever they are kept: a markdown
//! runbook's `# History`, a YAML runbook's records in the JSON log.

use std::io::BufRead;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::history;
use crate::error::Failure;
use crate::model::{Format, Runbook};

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

/// The executions of `runbook` recorded so far: its `# History` for
/// markdown, the records in `log` for YAML (none when there is no log yet).
pub fn executions(runbook: &Runbook, log: Option<&Path>) -> std::io::Result<Vec<Execution>> {
    match runbook.format {
        Format::Markdown => {
            let text = std::fs::read_to_string(&runbook.path)?;
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
            let Some(log) = log else { return Ok(Vec::new()) };
            if log == Path::new(super::record::STDOUT) {
                let message = "the records go to stdout (--log -): give the file they are kept in with --log";
                return Err(std::io::Error::other(message));
            }
            let file_name = runbook.file_name();
            let mut found = Vec::new();
            // The rotated log first (older), then the current one.
            for path in [super::record::rotated(log), log.to_path_buf()] {
                let file = match std::fs::File::open(&path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                // Line by line: the log grows with every run of every runbook.
                for line in std::io::BufReader::new(file).lines() {
                    let Ok(record) = serde_json::from_str::<Value>(&line?) else { continue };
                    let same_file = record["file"]
                        .as_str()
                        .is_some_and(|f| Path::new(f).file_name().is_some_and(|n| n == file_name.as_str()));
                    if record["runbook"] != runbook.name.as_str() || !same_file {
                        continue;
                    }
                    let text = |v: &Value| v.as_str().map(str::to_string);
                    found.push(Execution {
                        at: text(&record["breadcrumb"]["at_time"]).unwrap_or_default(),
                        exit_code: record["exit_code"].as_i64(),
                        error: serde_json::from_value::<Failure>(record["error"].clone()).ok().map(|f| f.to_string()),
                        stdout: text(&record["stdout"]),
                        stderr: text(&record["stderr"]),
                        correlation_id: text(&record["correlation_id"]),
                    });
                }
            }
            Ok(found)
        }
    }
}
