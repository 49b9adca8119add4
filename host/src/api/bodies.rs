//! The API's request and response bodies: what the handlers read and
//! answer, and what `/openapi.json` describes (derived from these types).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::executions::{Execution as ExecutionState, Status};
use crate::model::{Format, Runbook};
use crate::run::records::past::Execution;
use crate::store::Row;

pub(crate) use crate::run::sub_runbooks::execute::{ErrorBody, Executed, RunRequest};

#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    pub(crate) status: String,
}

/// One step of a listed runbook.
#[derive(Serialize, ToSchema)]
pub(crate) struct ListedStep {
    pub(crate) name: String,
    /// `sh`, `js` or `runbook`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

/// A runbook as the list shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Listed {
    /// Its file name: how the API names it.
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) description: String,
    /// `markdown` or `yaml`.
    pub(crate) format: String,
    pub(crate) steps: Vec<ListedStep>,
}

impl Listed {
    pub(crate) fn of(runbook: &Runbook) -> Listed {
        Listed {
            name: runbook.file_name(),
            title: runbook.name.clone(),
            description: runbook.description.clone(),
            format: match runbook.format {
                Format::Markdown => "markdown".into(),
                Format::Yaml => "yaml".into(),
            },
            steps: runbook.steps.iter().map(|s| ListedStep { name: s.name.clone(), kind: s.kind().into() }).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RunbookList {
    pub(crate) runbooks: Vec<Listed>,
}

/// A claim a caller's token must hold one of the values of.
#[derive(Serialize, ToSchema)]
pub(crate) struct RequiredClaim {
    pub(crate) claim: String,
    pub(crate) values: Vec<String>,
}

/// A declared input.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeclaredInput {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) default: Option<Value>,
    pub(crate) description: String,
}

/// One runbook, with what a caller needs to run it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Shown {
    #[serde(flatten)]
    pub(crate) listed: Listed,
    pub(crate) required_claims: Vec<RequiredClaim>,
    pub(crate) inputs: Vec<DeclaredInput>,
}

impl Shown {
    pub(crate) fn of(runbook: &Runbook) -> Shown {
        Shown {
            listed: Listed::of(runbook),
            required_claims: runbook
                .claims
                .iter()
                .map(|c| RequiredClaim { claim: c.claim.clone(), values: c.values.clone() })
                .collect(),
            inputs: runbook
                .inputs
                .iter()
                .map(|i| DeclaredInput {
                    name: i.name.clone(),
                    kind: i.kind.as_str().into(),
                    default: i.default.clone(),
                    description: i.description.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PastExecutions {
    pub(crate) runbook: String,
    pub(crate) executions: Vec<Execution>,
}

/// Something a runbook asks beyond the safe defaults, and the flag that
/// grants it at `serve`.
#[derive(Serialize, ToSchema)]
pub(crate) struct AskShown {
    pub(crate) ask: String,
    pub(crate) flag: String,
}

/// A validation's answer: valid with its asks, or every problem.
#[derive(Serialize, ToSchema)]
pub(crate) struct Validated {
    pub(crate) valid: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) asks: Vec<AskShown>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) problems: Vec<String>,
}

/// Where an execution is read and followed.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExecutionLinks {
    /// `GET` shows it, `DELETE` cancels it.
    #[serde(rename = "self")]
    pub(crate) this: String,
    /// Server-Sent Events: its steps and output as they happen.
    pub(crate) events: String,
}

impl ExecutionLinks {
    pub(crate) fn of(id: &str) -> ExecutionLinks {
        ExecutionLinks { this: format!("/api/executions/{id}"), events: format!("/api/executions/{id}/events") }
    }
}

/// An execution as `GET /api/executions/{id}` shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExecutionShown {
    pub(crate) execution_id: String,
    /// The runbook's file name.
    pub(crate) runbook: String,
    pub(crate) status: Status,
    pub(crate) by_user: String,
    pub(crate) correlation_id: String,
    pub(crate) started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) finished_at: Option<String>,
    /// Who cancelled it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cancelled_by: Option<String>,
    /// The execution whose step ran it (a sub-runbook's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent_execution_id: Option<String>,
    /// The sub-runbooks its steps ran, oldest first (shown with the whole
    /// execution, not in a listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) children: Option<Vec<Child>>,
    /// While it runs: the steps that have finished (their output is in its
    /// events).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub(crate) steps_so_far: Option<Vec<Value>>,
    /// Once it has ended: its whole report, as the synchronous answer has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Executed>)]
    pub(crate) report: Option<Value>,
    pub(crate) links: ExecutionLinks,
}

/// A sub-runbook's execution, as its parent lists it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Child {
    pub(crate) execution_id: String,
    pub(crate) runbook: String,
    pub(crate) status: Status,
    pub(crate) links: ExecutionLinks,
}

impl Child {
    pub(crate) fn of(row: &Row) -> Child {
        Child {
            execution_id: row.id.clone(),
            runbook: row.runbook.clone(),
            status: row.status,
            links: ExecutionLinks::of(&row.id),
        }
    }
}

impl ExecutionShown {
    /// `execution` (this server's) as it is now; `whole` adds its report or
    /// steps so far.
    pub(crate) fn of(execution: &ExecutionState, whole: bool) -> ExecutionShown {
        let ended = execution.ended();
        let report = ended
            .as_ref()
            .filter(|_| whole)
            .map(|e| serde_json::to_value(Executed::of(e.report.clone())).unwrap_or_default());
        ExecutionShown {
            execution_id: execution.id.clone(),
            runbook: execution.runbook.clone(),
            status: ended.as_ref().map_or(Status::Running, |e| e.status),
            by_user: execution.by_user.clone(),
            correlation_id: execution.correlation_id.clone(),
            started_at: execution.started_at(),
            finished_at: ended.as_ref().map(|e| e.finished_at.clone()),
            cancelled_by: ended.as_ref().and_then(|e| e.report.cancelled_by.clone()),
            parent_execution_id: None,
            children: None,
            steps_so_far: (whole && ended.is_none()).then(|| execution.events.finished_steps()),
            report,
            links: ExecutionLinks::of(&execution.id),
        }
    }

    /// An execution as the store keeps it; `whole` adds its report (its
    /// record as the synchronous answer has it).
    pub(crate) fn stored(row: &Row, whole: bool) -> ExecutionShown {
        let report = row.record.as_deref().filter(|_| whole).and_then(|r| serde_json::from_str::<Value>(r).ok()).map(
            |mut record| {
                if let Some(fields) = record.as_object_mut() {
                    for field in ["timestamp", "level", "breadcrumb"] {
                        fields.remove(field);
                    }
                    fields.insert("return_code".into(), row.exit_code.into());
                }
                record
            },
        );
        ExecutionShown {
            execution_id: row.id.clone(),
            runbook: row.runbook.clone(),
            status: row.status,
            by_user: row.by_user.clone(),
            correlation_id: row.correlation_id.clone(),
            started_at: row.started(),
            finished_at: row.finished(),
            cancelled_by: row.cancelled_by.clone(),
            parent_execution_id: row.parent_id.clone(),
            children: None,
            steps_so_far: None,
            report,
            links: ExecutionLinks::of(&row.id),
        }
    }
}

/// `GET /api/executions`: newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExecutionList {
    pub(crate) executions: Vec<ExecutionShown>,
    /// The next page's URL, when there may be more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<String>,
}

/// The answer to an asynchronous execute (202).
#[derive(Serialize, ToSchema)]
pub(crate) struct Accepted {
    pub(crate) execution_id: String,
    pub(crate) status: Status,
    pub(crate) links: ExecutionLinks,
}
