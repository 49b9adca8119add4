//! Sub-runbooks: what `run/` hands each step as its
//! [`Calls`]. A child is named by its file name beside the calling runbook
//! and runs in fresh sandboxes under the parent's grants and recorded
//! consent (it is asked nothing and never widens what the user granted; a
//! child the parent's runbook names runs under the parent's consent, which
//! bound its files and asked what it asks),
//! within the calling step's deadline, with the chain's correlation id. The
//! recursion checks are the runner's, so a refused child is in its own
//! History and the log like any refused run.

mod bridge;
pub mod execute;
pub mod tree;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::catalog::open_named;
use crate::error::{ErrorCode, Failure};
use crate::model::Runbook;
use crate::plan::fingerprint::Child;
use crate::run::records::report::RunReport;
use crate::run::seams::approve::Unattended;
use crate::run::seams::events::Quiet;
use crate::run::{Chain, Runner};
use crate::sandbox::{ApiRequest, ApiResponse, Call, Called, Calls};
use tree::Tree;

/// Native stack for a child's thread: what a guest may use and room for the
/// host. Each child runs on a thread of its own, so nesting never stacks
/// guests on one native stack.
const CHILD_STACK: usize = crate::sandbox::GUEST_THREAD_STACK;

/// The sub-runbooks of one execution.
struct SubRunbooks {
    /// Runs the children: the parent's configuration and sandbox, nobody to
    /// ask, nothing shown live (a child's output is the calling step's to use).
    runner: Runner,
    /// Where the calling runbook is; children are its neighbours.
    folder: PathBuf,
    /// The chain so far, ending with the calling runbook.
    chain: Chain,
    /// The run's `RUNBOOK_API_TOKEN`: the only bearer the bridge accepts.
    handle: String,
}

impl Runner {
    /// What a step of `runbook`, running in `chain` (whose stack ends with
    /// `runbook`), calls sub-runbooks through, with a handle of its own.
    pub fn sub_runbooks(&self, runbook: &Runbook, chain: &Chain) -> Arc<dyn Calls> {
        let tree = self
            .tree
            .clone()
            .unwrap_or_else(|| Arc::new(Tree::new(self.config.max_sub_runbooks, self.config.max_tree_log)));
        self.calls_with_handle(runbook, chain, self.seams.caller.api_handle(), &[], tree, None)
    }

    /// [`Runner::sub_runbooks`] whose bridge takes `handle`, the run's
    /// `RUNBOOK_API_TOKEN`; the sub-runbooks `runbook` names (`covered`, as
    /// they were when its run was granted) run under its grant, and every
    /// child counts against `tree` and names `parent` (the calling
    /// execution) as its parent.
    pub(super) fn calls_with_handle(
        &self,
        runbook: &Runbook,
        chain: &Chain,
        handle: String,
        covered: &[Child],
        tree: Arc<Tree>,
        parent: Option<&str>,
    ) -> Arc<dyn Calls> {
        let mut runner = self.clone();
        runner.tree = Some(tree);
        runner.execution_id = None;
        runner.parent_execution_id = parent.map(str::to_string);
        if !covered.is_empty() {
            runner.covered = Arc::new(self.covered.iter().chain(covered).cloned().collect());
        }
        runner.seams.approver = Arc::new(Unattended);
        runner.seams.events = Arc::new(Quiet);
        Arc::new(SubRunbooks { runner, folder: runbook.folder().to_path_buf(), chain: chain.clone(), handle })
    }
}

impl SubRunbooks {
    /// Runs the child `call` names and reports it; `Err` when it could not
    /// even be found or read (its refusals, recursion among them, are in
    /// its report).
    fn execute(&self, call: Call) -> Result<RunReport, Failure> {
        if Instant::now() >= call.deadline {
            return Err(Failure::new(ErrorCode::Timeout, "the calling step's deadline passed"));
        }
        if let Some(tree) = &self.runner.tree {
            tree.enter_child()?;
        }
        let opened = open_named(&self.folder, &call.runbook).map_err(|mut failure| {
            // On the command line the folder is the user's own; over the
            // API a name could be one the caller's claims hide.
            let meant = (failure.code == ErrorCode::NotFound && self.runner.seams.caller.claims().is_none())
                .then(|| crate::catalog::nearest_named(&self.folder, &call.runbook))
                .flatten();
            if let Some(meant) = meant {
                failure.message.push_str(&format!("; did you mean `{meant}`?"));
            }
            failure
        })?;
        let runbook = match opened {
            Ok(runbook) => runbook,
            Err(e) => {
                let report = self.runner.record_invalid(&e);
                return Err(report.error.unwrap_or_else(|| Failure::new(ErrorCode::ConfigInvalid, e.to_string())));
            }
        };
        let mut runner = self.runner.clone();
        runner.config.env = call.env.into_iter().collect();
        runner.config.deadline = Some(runner.config.deadline.map_or(call.deadline, |d| d.min(call.deadline)));
        let chain = &self.chain;
        let inputs = &call.inputs;
        let report = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("runbox-child".into())
                .stack_size(CHILD_STACK)
                .spawn_scoped(scope, || {
                    crate::sandbox::roomy_thread();
                    runner.run_in_chain(&runbook, inputs, chain)
                })
                .map(|child| child.join())
        });
        match report {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(_)) => Err(Failure::new(ErrorCode::RuntimeError, "the sub-runbook's thread panicked")),
            Err(e) => Err(Failure::new(ErrorCode::ConfigInvalid, format!("cannot start the sub-runbook: {e}"))),
        }
    }
}

impl Calls for SubRunbooks {
    fn call(&self, call: Call) -> Result<Called, Failure> {
        let report = self.execute(call)?;
        if let Some(refusal) = report.error {
            return Err(refusal);
        }
        Ok(Called {
            exit_code: report.exit_code,
            result: report.steps.last().and_then(|s| s.result.clone()),
            stdout: report.stdout,
            stderr: report.stderr,
        })
    }

    fn api_base_url(&self) -> &str {
        &self.runner.config.api_base_url
    }

    fn serve(&self, request: ApiRequest) -> ApiResponse {
        bridge::serve(&self.handle, request, |call| {
            let mut report = self.execute(call)?;
            // What a step reads must not vary from run to run.
            if self.runner.virtual_time.is_some() {
                report.duration_ms = 0;
                report.steps.iter_mut().for_each(|step| step.duration_ms = 0.0);
            }
            Ok(report)
        })
    }
}
