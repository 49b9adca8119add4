//! Sub-runbooks (SPEC §3, seed 001): what `run/` hands each step as its
//! [`Calls`]. A child is named by its file name beside the calling runbook,
//! refused if it would recurse or nest too deep, and run in fresh sandboxes
//! under the parent's grants and recorded consent (it is asked nothing and
//! never widens what the user granted), within the calling step's deadline.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::Runner;
use super::approve::Unattended;
use super::events::Quiet;
use crate::error::{ErrorCode, Failure};
use crate::model::Runbook;
use crate::parse;
use crate::sandbox::{Call, Called, Calls};

/// How deep runbooks may nest unless configured otherwise: a stack of
/// exactly this many runs, one more is refused.
pub const MAX_RECURSION_DEPTH: usize = 50;

/// The sub-runbooks of one execution.
struct SubRunbooks {
    /// Runs the children: the parent's configuration and sandbox, nobody to
    /// ask, nothing shown live (a child's output is the calling step's to use).
    runner: Runner,
    /// Where the calling runbook is; children are its neighbours.
    folder: PathBuf,
    /// The chain so far, outermost first, ending with the calling runbook.
    stack: Vec<String>,
}

impl Runner {
    /// What a step of `runbook`, running in the chain `stack` (ending with
    /// `runbook`), calls sub-runbooks through.
    pub fn sub_runbooks(&self, runbook: &Runbook, stack: &[String]) -> Arc<dyn Calls> {
        let mut runner = self.clone();
        runner.seams.approver = Arc::new(Unattended);
        runner.seams.events = Arc::new(Quiet);
        Arc::new(SubRunbooks { runner, folder: runbook.folder().to_path_buf(), stack: stack.to_vec() })
    }
}

impl Calls for SubRunbooks {
    fn call(&self, call: Call) -> Result<Called, Failure> {
        let invalid = |message: String| Failure::new(ErrorCode::ConfigInvalid, message);
        let name = call.runbook.as_str();
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && Path::new(name).file_name().is_some_and(|n| n == name)
            && !name.contains(['\\', '\0']);
        if !plain {
            return Err(invalid(format!("`{name}` is not the file name of a runbook beside the calling one")));
        }
        let runbook = parse::load(&self.folder.join(name)).map_err(|e| invalid(e.to_string()))?;
        if self.stack.contains(&runbook.name) {
            return Err(Failure::new(
                ErrorCode::RecursionDetected,
                format!("Recursion detected: Runbook {} already in execution chain: {:?}", runbook.name, self.stack),
            ));
        }
        let depth = self.stack.len() + 1;
        if depth > MAX_RECURSION_DEPTH {
            return Err(Failure::new(
                ErrorCode::RecursionDepthExceeded,
                format!("Recursion depth limit exceeded: {depth} (max: {MAX_RECURSION_DEPTH})"),
            ));
        }
        if Instant::now() >= call.deadline {
            return Err(Failure::new(ErrorCode::Timeout, "the calling step's deadline passed"));
        }
        let mut runner = self.runner.clone();
        runner.config.env = call.env.into_iter().collect();
        runner.config.deadline = Some(runner.config.deadline.map_or(call.deadline, |d| d.min(call.deadline)));
        let report = runner.run_in_chain(&runbook, &call.inputs, self.stack.clone());
        Ok(Called {
            exit_code: report.exit_code,
            result: report.steps.last().and_then(|s| s.result.clone()),
            stdout: report.stdout,
            stderr: report.stderr,
        })
    }
}
