//! What an execution produced: the result `--json` prints, the JSON record
//! logs, and history summarises.

use serde::Serialize;

use crate::engine::{Outcome, StepError};
use crate::error::ErrorCode;
use crate::limits::Limits;
use crate::runbook::Step;

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub runbook: String,
    pub file: String,
    /// The first failing step's exit status, else 0.
    pub exit_code: i32,
    pub correlation_id: String,
    pub duration_ms: u128,
    pub stdout: String,
    pub stderr: String,
    /// Set when the runbook was refused before any step ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    pub steps: Vec<StepReport>,
}

impl RunReport {
    pub(crate) fn new(runbook: &str, file: &std::path::Path, correlation_id: &str) -> RunReport {
        RunReport {
            runbook: runbook.to_string(),
            file: file.display().to_string(),
            exit_code: 0,
            correlation_id: correlation_id.to_string(),
            duration_ms: 0,
            stdout: String::new(),
            stderr: String::new(),
            error: None,
            steps: Vec::new(),
        }
    }

    /// Marks the runbook as refused before any step ran.
    pub(crate) fn refuse(&mut self, code: ErrorCode, message: String) {
        self.exit_code = code.exit_status();
        self.stderr = format!("{code}: {message}\n");
        self.error = Some(ErrorReport { code, message, line: None, column: None, stack: None });
    }

    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    pub name: String,
    pub language: &'static str,
    /// The runbook line of the step's first source line.
    pub line: usize,
    /// Where the script came from and its sha256, for the audit.
    pub source: SourceReport,
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub duration_ms: f64,
    pub fuel_consumed: u64,
    pub limits: Limits,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceReport {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub reference: String,
    pub sha256: String,
    pub content: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

impl From<StepError> for ErrorReport {
    fn from(e: StepError) -> ErrorReport {
        ErrorReport { code: e.code, message: e.message, line: e.line, column: e.column, stack: e.stack }
    }
}

impl StepReport {
    pub(crate) fn new(step: &Step, source: SourceReport, limits: Limits, outcome: Outcome) -> StepReport {
        StepReport {
            name: step.name.clone(),
            language: step.language.as_str(),
            line: step.line,
            source,
            exit_code: outcome.exit_code,
            stdout: outcome.stdout.text,
            stderr: outcome.stderr.text,
            stdout_truncated: outcome.stdout.truncated,
            stderr_truncated: outcome.stderr.truncated,
            duration_ms: outcome.duration.as_secs_f64() * 1000.0,
            fuel_consumed: outcome.fuel_consumed,
            limits,
            result: outcome.result,
            error: outcome.error.map(ErrorReport::from),
        }
    }
}
