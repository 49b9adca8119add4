//! What an execution produced: the result `--json` prints, the JSON record
//! logs, and history summarises.

use serde::Serialize;

use crate::error::{ErrorCode, Failure};
use crate::model::Step;
use crate::model::cluster::JobRecord;
use crate::model::limits::{LimitOverrides, Limits};
use crate::plan::sources::SourceReport;
use crate::sandbox::Outcome;
use crate::store::Status;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    /// This execution's own id (a UUIDv7: ids sort by start).
    pub execution_id: String,
    /// The execution whose step ran this one, for a sub-runbook's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_execution_id: Option<String>,
    pub runbook: String,
    pub file: String,
    /// The first failing step's exit status, else 0.
    pub exit_code: i32,
    pub correlation_id: String,
    /// The inputs the steps saw, typed and with defaults.
    pub inputs: serde_json::Map<String, serde_json::Value>,
    pub duration_ms: u128,
    pub stdout: String,
    pub stderr: String,
    /// What the runbook asked beyond the safe defaults, and how it was decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::plan::consent::Decision>,
    /// Set when the runbook was refused before any step ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    pub steps: Vec<StepReport>,
    /// Who stopped it, when an API caller did (not a signal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<String>,
}

impl RunReport {
    pub(crate) fn new(runbook: &str, file: &std::path::Path, correlation_id: &str) -> RunReport {
        RunReport {
            execution_id: String::new(),
            parent_execution_id: None,
            runbook: runbook.to_string(),
            file: file.display().to_string(),
            exit_code: 0,
            correlation_id: correlation_id.to_string(),
            inputs: serde_json::Map::new(),
            duration_ms: 0,
            stdout: String::new(),
            stderr: String::new(),
            consent: None,
            error: None,
            steps: Vec::new(),
            cancelled_by: None,
        }
    }

    /// Marks the runbook as refused before any step ran.
    pub(crate) fn refuse(&mut self, code: ErrorCode, message: String) {
        self.refuse_with_status(code, message, code.exit_status());
    }

    /// [`RunReport::refuse`] with an exit status of its own (128 + a signal).
    pub(crate) fn refuse_with_status(&mut self, code: ErrorCode, message: String, status: i32) {
        let failure = Failure::new(code, message);
        self.exit_code = status;
        self.stderr = format!("{failure}\n");
        self.error = Some(failure);
    }

    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }

    /// Whether a signal or a cancel stopped it (before or during a step).
    pub fn interrupted(&self) -> bool {
        let interrupted = |e: &Option<Failure>| e.as_ref().is_some_and(|e| e.code == ErrorCode::Interrupted);
        interrupted(&self.error) || self.steps.iter().any(|s| interrupted(&s.error))
    }

    /// How its execution ended.
    pub fn status(&self) -> Status {
        if self.interrupted() {
            if self.cancelled_by.is_some() { Status::Cancelled } else { Status::Interrupted }
        } else if self.error.is_some() {
            Status::Refused
        } else if self.succeeded() {
            Status::Succeeded
        } else {
            Status::Failed
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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
    /// The sandbox's linear memory at its largest, in bytes (not for a
    /// native step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_peak: Option<u64>,
    pub limits: Limits,
    /// Set when the step needed approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalReport>,
    /// The step failed but its `on_error: continue` let the runbook go on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// The step returned a result the run had no room left to keep.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub result_omitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    /// A native step: what confined it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confinement: Option<String>,
    /// A step run as a Kubernetes Job (an `image_ref` step under the
    /// Kubernetes executor): the Job, its namespace and image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobRecord>,
}

/// How a step that needs approval got it, or did not.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApprovalReport {
    pub approvers: Vec<String>,
    pub approved: bool,
    /// `--approve`, `terminal`, or `non-interactive` (refused).
    pub how: &'static str,
    pub by_user: String,
}

impl StepReport {
    pub(crate) fn new(step: &Step, source: SourceReport, limits: Limits, outcome: Outcome) -> StepReport {
        StepReport {
            approval: None,
            continued: false,
            confinement: outcome.confinement,
            job: outcome.job,
            name: step.name.clone(),
            language: step.kind(),
            line: step.line,
            source,
            exit_code: outcome.exit_code,
            stdout: outcome.stdout.text,
            stderr: outcome.stderr.text,
            stdout_truncated: outcome.stdout.truncated,
            stderr_truncated: outcome.stderr.truncated,
            duration_ms: outcome.duration.as_secs_f64() * 1000.0,
            fuel_consumed: outcome.fuel_consumed,
            memory_peak: outcome.memory_peak,
            limits,
            result: outcome.result,
            result_omitted: false,
            error: outcome.error,
        }
    }

    /// A limit's failure names the step, where it is and how to raise the
    /// limit: `Timeout: step `count` (Deploy.md:15) ran past its 2s timeout;
    /// raise it with timeout=… on the step's code fence or --timeout`.
    /// `overridden` says whether the command line set the limits (which then
    /// win over the step's own).
    pub(crate) fn name_limit(&mut self, file: &str, format: crate::model::Format, overridden: &LimitOverrides) {
        let Some(error) = &mut self.error else { return };
        let (attribute, flag, set) = match error.code {
            ErrorCode::Timeout => ("timeout", "--timeout", overridden.timeout.is_some()),
            ErrorCode::OutOfFuel => ("fuel", "--fuel", overridden.fuel.is_some()),
            ErrorCode::MemoryLimit => ("memory", "--memory", overridden.memory.is_some()),
            ErrorCode::OutputLimit => ("output", "--max-output", overridden.output.is_some()),
            _ => return,
        };
        let what = error.message.strip_prefix("the step ").unwrap_or(&error.message);
        let place = match format {
            crate::model::Format::Markdown => format!("{attribute}=… on the step's code fence"),
            crate::model::Format::Yaml => format!("{attribute}: under the step's with:"),
        };
        let raise = if set {
            format!("raise {flag}, which overrides the step's own {attribute}")
        } else {
            format!("raise it with {place} or {flag}")
        };
        error.message = format!("step `{}` ({file}:{}) {what}; {raise}", self.name, self.line);
    }

    /// Masks secret values in everything the step's report keeps.
    pub(crate) fn mask(&mut self, masker: &super::mask::Masker) {
        masker.text(&mut self.stdout);
        masker.text(&mut self.stderr);
        if let Some(result) = &mut self.result {
            masker.json(result);
        }
        if let Some(error) = &mut self.error {
            masker.text(&mut error.message);
            if let Some(stack) = &mut error.stack {
                masker.text(stack);
            }
        }
    }

    /// A step that did not run: `code` says why.
    pub(crate) fn refused(step: &Step, source: SourceReport, limits: Limits, failure: Failure) -> StepReport {
        StepReport {
            name: step.name.clone(),
            language: step.kind(),
            line: step.line,
            source,
            exit_code: failure.code.exit_status(),
            stdout: String::new(),
            stderr: format!("{failure}\n"),
            stdout_truncated: false,
            stderr_truncated: false,
            duration_ms: 0.0,
            fuel_consumed: 0,
            memory_peak: None,
            limits,
            approval: None,
            continued: false,
            confinement: None,
            job: None,
            result: None,
            result_omitted: false,
            error: Some(failure),
        }
    }

    /// Cuts what the step keeps — streams, result, error — to what is left
    /// of the run's output `budget`, and takes it from the budget. An error
    /// keeps at least its first line's worth, so a failure stays readable.
    pub(crate) fn keep_within(&mut self, budget: &mut usize) {
        let why = "the run keeps at most its output budget";
        for (text, truncated) in
            [(&mut self.stdout, &mut self.stdout_truncated), (&mut self.stderr, &mut self.stderr_truncated)]
        {
            *truncated |= crate::text::cut(text, *budget, why);
            // A cut string keeps its capacity: without this, each loud
            // step past the budget would keep its megabytes.
            text.shrink_to_fit();
            *budget = budget.saturating_sub(text.len());
        }
        if let Some(result) = &self.result {
            let size = result.to_string().len();
            if size > *budget {
                self.result = None;
                self.result_omitted = true;
                self.stderr
                    .push_str(&crate::text::cut_marker(&format!("the step's result ({size} bytes of JSON)"), why));
            } else {
                *budget -= size;
            }
        }
        if let Some(error) = &mut self.error {
            for text in std::iter::once(&mut error.message).chain(error.stack.as_mut()) {
                crate::text::cut(text, (*budget).max(MIN_KEPT_MESSAGE), why);
                text.shrink_to_fit();
                *budget = budget.saturating_sub(text.len());
            }
        }
    }
}

/// What an error message or stack keeps when the run's budget is spent.
const MIN_KEPT_MESSAGE: usize = 512;
