//! An execute request and its answer, as the API serves them and as the
//! bridge (the in-process API calls from steps) serves them: one
//! shape for both, so a script sees the same JSON either way.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::Failure;
use crate::run::records::report::RunReport;

/// The largest request body the API, and the bridge, take.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// An execute or validate request.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Values for the runbook's declared variables.
    #[serde(default)]
    pub env_vars: Map<String, Value>,
    /// The runbook's inputs, checked against their declared types.
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// Steps to approve: the token's `roles` or `groups` must hold one of
    /// each step's approvers.
    #[serde(default)]
    pub approve: Vec<String>,
}

impl RunRequest {
    /// The request in `text`; an empty body asks for nothing.
    pub fn parse(text: &str) -> Result<RunRequest, String> {
        if text.trim().is_empty() {
            return Ok(RunRequest::default());
        }
        serde_json::from_str(text).map_err(|e| format!("the request body: {e}"))
    }

    /// `env_vars` as the variables' text: a string as it is, anything else
    /// as its JSON.
    pub fn env(&self) -> Vec<(String, String)> {
        let text = |value: &Value| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.env_vars.iter().map(|(k, v)| (k.clone(), text(v))).collect()
    }
}

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: Failure,
}

/// An execution's report (as `runbox run --json` prints it) and its
/// `return_code`.
#[derive(Serialize, ToSchema)]
pub struct Executed {
    pub return_code: i32,
    #[serde(flatten)]
    pub report: RunReport,
}

impl Executed {
    pub fn of(report: RunReport) -> Executed {
        Executed { return_code: report.exit_code, report }
    }

    /// The HTTP status of the answer: 200 when the runbook ran (whatever it
    /// exited), else its refusal's.
    pub fn status(&self) -> u16 {
        self.report.error.as_ref().map_or(200, |e| e.code.http_status())
    }
}
