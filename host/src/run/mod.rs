//! Executes runbooks: validated plan → consent → steps in fresh sandbox
//! instances → report → History and the JSON record.
//!
//! This file holds the [`Runner`]: a run from its checks to its record. Its
//! parts are beside it: [`config`] (how it runs), [`decide`] (the one
//! consent decision), [`steps`] (a granted run's steps), [`chain`] (the executions
//! a run belongs to), [`records`] (what a run leaves behind), [`seams`]
//! (what a front end plugs in), [`sub_runbooks`], and the one-offs and
//! workspaces steps mount. It imports `plan/` and `sandbox/` and everything
//! below them; nothing in the crate imports it but the front ends (the CLI,
//! the API). It never reads stdin or prints: those are the seams' business.

pub mod chain;
pub mod config;
mod decide;
pub mod lint;
pub mod records;
mod runner;
pub mod seams;
pub mod single;
mod steps;
pub mod sub_runbooks;
pub mod workspace;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

pub use chain::{CHAIN_VARIABLES, Chain};
pub use config::{
    Config, DEFAULT_API_BASE_URL, DEFAULT_OUTPUT_BUDGET, Deterministic, FORBIDDEN_STATUS, HISTORY_STREAM_BYTES,
    MAX_RECURSION_DEPTH,
};
pub use runner::Runner;
pub use seams::Seams;

use crate::error::{ErrorCode, Failure, Invalid};
use crate::model::{ClaimRequirement, Format, Runbook};
use crate::plan::{self, Host, Plan};
use crate::sandbox::StepContext;
use crate::text::excerpt;
use chain::recursion_refusal;
use records::history::{Entry, EntryBody};
use records::record::Breadcrumb;
use records::report::RunReport;
use steps::variables;
use sub_runbooks::tree::Tree;
use workspace::Workspace;

/// The named values a runbook's steps can `get`.
pub type Inputs = Map<String, Value>;

impl Runner {
    /// Runs `runbook` as a new top-level execution, records it, and
    /// reports it.
    pub fn run(&self, runbook: &Runbook, inputs: &Inputs) -> RunReport {
        let chain = Chain { stack: Vec::new(), correlation_id: self.seams.caller.correlation_id() };
        self.run_in_chain(runbook, inputs, &chain)
    }

    /// Runs `runbook` as a child of the executions in `chain`: its
    /// recursion stack is the chain's and its own file name, its correlation
    /// id the chain's. It is refused if it is in the chain already, or the
    /// stack would be deeper than [`Config::max_recursion_depth`].
    pub fn run_in_chain(&self, runbook: &Runbook, inputs: &Inputs, chain: &Chain) -> RunReport {
        let started = Instant::now();
        let read = if self.config.executor.is_some() {
            plan::under_executor(runbook)
        } else {
            std::borrow::Cow::Borrowed(runbook)
        };
        let runbook = read.as_ref();
        let file = runbook.file_name();
        let recursion = recursion_refusal(&file, &chain.stack, self.config.max_recursion_depth);
        let mut stack = chain.stack.clone();
        stack.push(file);
        let breadcrumb = self.breadcrumb(stack, chain.correlation_id.clone());
        let mut report = self.new_report(&runbook.name, &runbook.path, &breadcrumb.correlation_id);
        let mut host = Host {
            env: self.config.env.clone(),
            inputs: inputs.clone(),
            secrets: self.config.secrets.clone(),
            validating: false,
            protected: self.config.protected(),
            sealed_env: self.virtual_time.is_some(),
            executor: self.config.executor.clone(),
        };
        // A refusal for want of Required Claims is exit code 403, as over HTTP.
        let unmet = self.seams.caller.refusal(&runbook.claims);
        let mut answered = None;
        let checked = match (recursion, unmet) {
            (Some(refusal), _) | (None, Some(refusal)) => Err(refusal),
            (None, None) => match self.cluster_reads(runbook, &host) {
                Ok((reads, answer)) => {
                    (host.secrets.cluster, answered) = (reads, answer);
                    plan::check(runbook, &host).map_err(|problems| {
                        let lines: Vec<String> = problems.iter().map(|p| p.located(&runbook.file_name())).collect();
                        Failure::new(ErrorCode::ConfigInvalid, lines.join("\n"))
                    })
                }
                Err((decision, refusal)) => {
                    report.consent = Some(decision);
                    Err(refusal)
                }
            },
        };
        match checked {
            Ok(plan) => {
                let (decision, refused) = self.decide(runbook, &plan, answered);
                report.consent = Some(decision);
                if let Some(signal) = self.seams.cancel.signal() {
                    report.refuse_with_status(
                        ErrorCode::Interrupted,
                        "interrupted before any step ran".to_string(),
                        128 + signal,
                    );
                } else if let Some(refusal) = refused {
                    report.refuse(refusal.code, refusal.message);
                } else {
                    match Workspace::prepare(&plan.paths) {
                        Ok(workspace) => {
                            report.inputs = plan.inputs.clone();
                            let context = self.context(runbook, &plan, &workspace, &breadcrumb, &report.execution_id);
                            self.run_steps(runbook, &plan, context, &mut report);
                        }
                        Err(e) => {
                            report.refuse(ErrorCode::ConfigInvalid, format!("cannot prepare the sandbox's files: {e}"))
                        }
                    }
                }
            }
            Err(refusal) if refusal.code == ErrorCode::Forbidden => {
                report.refuse_with_status(refusal.code, refusal.message, FORBIDDEN_STATUS)
            }
            Err(refusal) => report.refuse(refusal.code, refusal.message),
        }
        report.duration_ms = started.elapsed().as_millis();
        self.finish(runbook, report, &breadcrumb)
    }

    /// What every step of a granted run starts from: its variables, its
    /// chain's system variables, the workspace's mounts, the network the
    /// decision opened, and the sub-runbooks it may call.
    fn context(
        &self,
        runbook: &Runbook,
        plan: &Plan,
        workspace: &Workspace,
        breadcrumb: &Breadcrumb,
        execution_id: &str,
    ) -> StepContext {
        let handle = self.seams.caller.api_handle();
        let env = self.with_system_variables(&plan.env, breadcrumb, &handle);
        let chain =
            Chain { stack: breadcrumb.recursion_stack.clone(), correlation_id: breadcrumb.correlation_id.clone() };
        let tree = self
            .tree
            .clone()
            .unwrap_or_else(|| Arc::new(Tree::new(self.config.max_sub_runbooks, self.config.max_tree_log)));
        StepContext {
            variables: variables(&plan.inputs, &env),
            steps: Arc::default(),
            env,
            mounts: workspace.mounts().to_vec(),
            correlation_id: breadcrumb.correlation_id.clone(),
            recursion_stack: breadcrumb.recursion_stack.clone(),
            net: self.net_policy(runbook),
            stdin: false,
            virtual_time: self.virtual_time.clone(),
            deadline: self.config.deadline,
            cancel: self.seams.cancel.clone(),
            calls: Some(self.calls_with_handle(
                runbook,
                &chain,
                handle,
                &plan.bound.children,
                tree,
                Some(execution_id),
            )),
        }
    }

    /// Records `runbook` as refused by the caller before it was checked (a
    /// server's access control): its History and the log, with `status`.
    pub fn refuse(&self, runbook: &Runbook, chain: &Chain, failure: Failure, status: i32) -> RunReport {
        let (report, breadcrumb) = self.refused_report(runbook, chain, failure, status);
        self.finish(runbook, report, &breadcrumb)
    }

    /// A refusal of a read of `runbook` (showing it, its history, a
    /// validation) for the caller `self`'s seams name: a record in the log
    /// only, so that refused reads, however many, never push the runbook's
    /// real History entries out.
    pub fn refuse_in_log(&self, runbook: &Runbook, chain: &Chain, failure: Failure, status: i32) -> RunReport {
        let (report, breadcrumb) = self.refused_report(runbook, chain, failure, status);
        self.record(&breadcrumb, &report, &runbook.claims);
        report
    }

    /// The report of `runbook` refused in `chain`, and its breadcrumb.
    fn refused_report(
        &self,
        runbook: &Runbook,
        chain: &Chain,
        failure: Failure,
        status: i32,
    ) -> (RunReport, Breadcrumb) {
        let mut stack = chain.stack.clone();
        stack.push(runbook.file_name());
        let breadcrumb = self.breadcrumb(stack, chain.correlation_id.clone());
        let mut report = self.new_report(&runbook.name, &runbook.path, &breadcrumb.correlation_id);
        report.refuse_with_status(failure.code, failure.message, status);
        (report, breadcrumb)
    }

    /// A new execution's report, with its ids.
    fn new_report(&self, runbook: &str, file: &std::path::Path, correlation_id: &str) -> RunReport {
        let mut report = RunReport::new(runbook, file, correlation_id);
        report.execution_id = self.new_execution_id();
        report.parent_execution_id = self.parent_execution_id.clone();
        report
    }

    /// Emits the record of `report` to the log and keeps it in the store.
    fn record(&self, breadcrumb: &Breadcrumb, report: &RunReport, claims: &[ClaimRequirement]) {
        let at = self.seams.clock.now();
        let Some(json) = records::record::json(breadcrumb, report, at) else { return };
        self.count_logged(records::record::emit(&json));
        if let Some(store) = &self.config.store {
            let row = records::record::row(breadcrumb, report, claims, at, json, self.seams.events.kept());
            if let Err(e) = store.finish(&row) {
                tracing::error!("{e}");
                self.seams.events.notice(&format!("{e} (the JSON log still has the record)"));
            }
        }
    }

    /// A child's record counts against its tree's bytes.
    fn count_logged(&self, bytes: usize) {
        if let Some(tree) = &self.tree {
            tree.logged(bytes);
        }
    }

    /// Appends `report` to the runbook's History and emits its record.
    fn finish(&self, runbook: &Runbook, mut report: RunReport, breadcrumb: &Breadcrumb) -> RunReport {
        if report.interrupted() {
            report.cancelled_by = self.seams.cancel.by();
        }
        if self.config.history && runbook.format == Format::Markdown {
            let body = match &report.error {
                Some(error) => EntryBody::Error(excerpt(&error.to_string(), HISTORY_STREAM_BYTES)),
                None => EntryBody::Output {
                    stdout: excerpt(&report.stdout, HISTORY_STREAM_BYTES),
                    stderr: excerpt(&report.stderr, HISTORY_STREAM_BYTES),
                },
            };
            let entry = Entry { at: self.seams.clock.now(), exit_code: report.exit_code, body };
            if let Err(e) = records::history::append(&runbook.path, &entry, self.config.history_keep) {
                tracing::error!("{e}");
                self.seams.events.notice(&format!("{e} (the JSON record still has the full result)"));
            }
        }
        self.record(breadcrumb, &report, &runbook.claims);
        report
    }

    /// Records the refusal of a runbook that could not even be parsed. Its
    /// file is left alone (appending to a malformed file could lose what is
    /// in it); the JSON record keeps the refusal.
    pub fn record_invalid(&self, invalid: &Invalid) -> RunReport {
        let name = invalid.file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let breadcrumb =
            self.breadcrumb(vec![crate::model::file_name(&invalid.file)], self.seams.caller.correlation_id());
        let mut report = self.new_report(&name, &invalid.file, &breadcrumb.correlation_id);
        report.refuse(ErrorCode::ConfigInvalid, invalid.to_string());
        self.record(&breadcrumb, &report, &[]);
        report
    }
}
