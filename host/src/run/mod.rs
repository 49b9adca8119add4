//! Executes runbooks: validated plan → consent → steps in fresh sandbox
//! instances → report → history and the JSON record.
//!
//! Owns the [`Runner`], reports, History, the JSON record and the seams a
//! front end plugs in ([`Seams`]: who approves, who watches, the clock and
//! ids, cancellation). It imports `plan/` and `sandbox/` and everything below
//! them; nothing in the crate imports it but the front ends (the CLI, later
//! the API). It never reads stdin or prints: those are the seams' business.

pub mod lint;
pub mod records;
pub mod seams;
pub mod single;
pub mod sub_runbooks;
pub mod workspace;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ErrorCode, Failure, Invalid};
use crate::model::limits::{LimitOverrides, Limits};
use crate::model::net::NetPolicy;
use crate::model::{Approval, Format, Language, OnError, Runbook, Source, Step};
use crate::plan::claims;
use crate::plan::consent::{self, Ask, ConsentStore, Consented, Decision, Grants};
use crate::plan::fingerprint::{Bound, Child};
use crate::plan::sources::{Resolved, Secrets};
use crate::plan::{self, Host, Plan};
use crate::sandbox::{
    self, Call, Cancel, Captured, GuestCache, Live, Outcome, Sandbox, Script, StepContext, Stream, Virtual,
};
use crate::state::Protected;
use crate::template::{self, Scope, TemplateError};
use crate::text::excerpt;
use records::history::{Entry, EntryBody};
use records::mask::Masker;
use records::record::Breadcrumb;
use records::report::{ApprovalReport, RunReport, StepReport};
use seams::approve::{Approver, StepApproval, Unattended};
use seams::clock::{Clock, Fixed, Ids, System};
use seams::events::{Events, Quiet};
use sub_runbooks::tree::Tree;
use workspace::Workspace;

/// How a [`Runner`] runs runbooks.
#[derive(Clone, Debug)]
pub struct Config {
    /// Limits of every step unless the step or `overrides` say otherwise.
    pub defaults: Limits,
    /// Limits given on the command line; they win over the runbook's.
    pub overrides: LimitOverrides,
    /// Append an entry to the runbook's `# History`.
    pub history: bool,
    /// Entries a history keeps.
    pub history_keep: usize,
    /// Where compiled guests are cached.
    pub cache: GuestCache,
    /// Values for the runbook's declared variables, before the process's own.
    pub env: HashMap<String, String>,
    /// What the user grants beyond the safe defaults (`--allow-*`); the
    /// hosts of `grants.net` are open to steps whether or not the runbook
    /// asks for them.
    pub grants: Grants,
    /// Consent recorded with `runbox allow`.
    pub consent: ConsentStore,
    /// The execution log, which no mount may reach.
    pub log: Option<PathBuf>,
    /// Where `script_from_secret` reads secrets.
    pub secrets: Secrets,
    /// Bytes of output (stdout and stderr of all steps) a run keeps for
    /// templates, `--json` and the record; past it, steps keep a marker.
    pub output_budget: usize,
    /// No step runs past this instant: a sub-runbook's, the end of the step
    /// that called it.
    pub deadline: Option<Instant>,
    /// How deep runbooks may nest (`MAX_RECURSION_DEPTH`, as the runbook API names it): a
    /// recursion stack of exactly this many runs, one more is refused.
    pub max_recursion_depth: usize,
    /// Child executions one run's tree may make ([`tree`]).
    pub max_sub_runbooks: usize,
    /// Bytes of records one run's children may log.
    pub max_tree_log: u64,
    /// `RUNBOOK_API_BASE_URL`: where steps send API calls, which
    /// the host answers in process (sub-runbooks with the run's identity).
    pub api_base_url: String,
    /// Deterministic mode: virtual time from this instant and
    /// randomness from this seed for every guest, no network, no host
    /// variable, fixed ids, no History.
    pub deterministic: Option<Deterministic>,
    /// The program that confines native steps: `runbox-native`, or `runbox`
    /// itself (`runbox __native`).
    pub native_helper: Option<PathBuf>,
}

/// What deterministic mode starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deterministic {
    pub seed: u64,
    /// Where the guests' virtual clock starts; the record's time.
    pub clock: OffsetDateTime,
}

impl Default for Deterministic {
    fn default() -> Deterministic {
        Deterministic { seed: 0, clock: time::macros::datetime!(2026-01-01 00:00:00 UTC) }
    }
}

impl Deterministic {
    /// The ids of every run: fixed by the seed.
    fn ids(&self) -> Fixed {
        Fixed {
            at: self.clock,
            correlation_id: format!("00000000-0000-4000-8000-{:012x}", self.seed & 0xffff_ffff_ffff),
            user: "runbox".into(),
        }
    }
}

/// Deterministic mode's clock and ids: fixed, and the handles scripts read
/// drawn from the seed (a random one would change their fuel).
struct Seeded {
    fixed: Fixed,
    time: Virtual,
}

impl Clock for Seeded {
    fn now(&self) -> OffsetDateTime {
        self.fixed.now()
    }
}

impl Ids for Seeded {
    fn correlation_id(&self) -> String {
        self.fixed.correlation_id()
    }

    fn user(&self) -> String {
        self.fixed.user()
    }

    fn api_handle(&self) -> String {
        self.time.handle()
    }
}

/// The API base URL when `API_PROTOCOL`, `API_HOST` and `API_PORT` are unset.
pub const DEFAULT_API_BASE_URL: &str = "http://localhost:8083";

/// How deep runbooks nest unless configured otherwise.
pub const MAX_RECURSION_DEPTH: usize = 50;

/// The variables every step sees of its execution chain, which
/// neither a runbook nor `--env` can set.
pub use crate::model::SYSTEM_VARIABLES as CHAIN_VARIABLES;

/// The exit code History and the record give a run refused for want of
/// Required Claims: the HTTP status.
pub const FORBIDDEN_STATUS: i32 = 403;

/// What a run keeps of its steps' output unless configured otherwise.
pub const DEFAULT_OUTPUT_BUDGET: usize = 8 << 20;
/// What a History entry keeps of each stream: the runbook file must stay
/// loadable however loud its runs are.
pub const HISTORY_STREAM_BYTES: usize = 8 << 10;

impl Default for Config {
    fn default() -> Config {
        Config {
            defaults: Limits::default(),
            overrides: LimitOverrides::default(),
            history: true,
            history_keep: records::history::DEFAULT_KEEP,
            cache: GuestCache::default_location(),
            env: HashMap::new(),
            grants: Grants::default(),
            consent: ConsentStore::default_location(),
            log: records::record::default_log_path(),
            secrets: Secrets::default(),
            output_budget: DEFAULT_OUTPUT_BUDGET,
            deadline: None,
            max_recursion_depth: MAX_RECURSION_DEPTH,
            max_sub_runbooks: sub_runbooks::tree::MAX_SUB_RUNBOOKS,
            max_tree_log: sub_runbooks::tree::MAX_TREE_LOG,
            api_base_url: DEFAULT_API_BASE_URL.to_string(),
            deterministic: None,
            native_helper: crate::native::default_helper(),
        }
    }
}

/// What a front end plugs into a [`Runner`]. The default asks nobody,
/// shows nothing, reads the system clock and is never cancelled.
#[derive(Clone)]
pub struct Seams {
    pub approver: Arc<dyn Approver>,
    pub events: Arc<dyn Events>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn Ids>,
    /// Stops the running step and the run when tripped.
    pub cancel: Cancel,
}

impl Default for Seams {
    fn default() -> Seams {
        Seams {
            approver: Arc::new(Unattended),
            events: Arc::new(Quiet),
            clock: Arc::new(System),
            ids: Arc::new(System),
            cancel: Cancel::new(),
        }
    }
}

/// Runs runbooks in the sandbox. Build one and reuse it: it holds the
/// compiled guests.
///
/// ```no_run
/// use runbox::{Config, Runner, parse};
///
/// let runner = Runner::new(Config { history: false, ..Config::default() })?;
/// let runbook = parse::load("runbooks/HelloWorld.md".as_ref())?;
/// let report = runner.run(&runbook, &Default::default());
/// println!("{} exited {}", report.runbook, report.exit_code);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct Runner {
    config: Config,
    seams: Seams,
    /// Shared with the runners of sub-runbooks.
    sandbox: Arc<Sandbox>,
    /// Deterministic mode's virtual time, shared by every step this runner
    /// and its sub-runbooks' runners run.
    virtual_time: Option<Virtual>,
    /// The sub-runbooks the runbooks of this chain name, as they were when
    /// the chain's first run was granted: they run under its grant.
    covered: Arc<Vec<Child>>,
    /// What the run's tree of sub-runbooks has spent, shared by its chain;
    /// none until a run starts one.
    tree: Option<Arc<Tree>>,
}

/// The runner's [`Events`] as the sandbox's [`Live`] output.
struct LiveEvents(Arc<dyn Events>);

impl Live for LiveEvents {
    fn write(&self, stream: Stream, bytes: &[u8]) {
        self.0.output(stream, bytes);
    }
}

/// The named values a runbook's steps can `get`.
pub type Inputs = Map<String, Value>;

impl Config {
    /// runbox's own state, which no mount may reach: the compiled-guest
    /// cache, the execution log and the consent store.
    pub fn protected(&self) -> Vec<Protected> {
        let mut protected = Vec::new();
        if let Some(dir) = self.cache.dir() {
            protected.push(Protected::new(dir, "compiled-guest cache"));
        }
        if let Some(log) = &self.log {
            protected.push(Protected::new(log, "execution log"));
        }
        if let Some(dir) = self.consent.dir() {
            protected.push(Protected::new(dir, "consent store"));
        }
        protected
    }
}

impl Runner {
    /// A runner with the default [`Seams`]: unattended, quiet, system time.
    pub fn new(config: Config) -> anyhow::Result<Runner> {
        Runner::with_seams(config, Seams::default())
    }

    /// In deterministic mode the clock and ids are fixed whatever `seams`
    /// says, and no History is written.
    pub fn with_seams(mut config: Config, mut seams: Seams) -> anyhow::Result<Runner> {
        let sandbox = Arc::new(Sandbox::new(&config.cache)?);
        let virtual_time = match config.deterministic {
            Some(fixed) => {
                let since_epoch = fixed.clock - OffsetDateTime::UNIX_EPOCH;
                let start = std::time::Duration::try_from(since_epoch)
                    .map_err(|_| anyhow::anyhow!("--clock {}: give an instant after 1970", fixed.clock))?;
                let time = Virtual::new(fixed.seed, start);
                let ids = Arc::new(Seeded { fixed: fixed.ids(), time: time.clone() });
                seams.clock = ids.clone();
                seams.ids = ids;
                config.history = false;
                Some(time)
            }
            None => None,
        };
        Ok(Runner { config, seams, sandbox, virtual_time, covered: Arc::default(), tree: None })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Values for declared variables, before the process's own.
    pub fn set_env(&mut self, env: HashMap<String, String>) {
        self.config.env = env;
    }

    /// This runner (its configuration and compiled guests) with other seams,
    /// and no step running past `deadline`: one per request of a server.
    pub fn with(&self, seams: Seams, deadline: Option<Instant>) -> Runner {
        let mut runner = self.clone();
        runner.seams = seams;
        runner.config.deadline = deadline;
        runner
    }

    /// Compiles both guests' optimised code on a thread of its own, so that
    /// a long-lived runner (a server) has it before its first requests need
    /// it; steps that come sooner run on baseline code meanwhile.
    pub fn prepare_in_background(&self) {
        let sandbox = Arc::clone(&self.sandbox);
        let started = std::thread::Builder::new().name("runbox-prepare".into()).spawn(move || {
            for language in [Language::JavaScript, Language::Shell] {
                if let Err(e) = sandbox.prepare(language) {
                    tracing::warn!("{e:#}");
                }
            }
        });
        if let Err(e) = started {
            tracing::debug!("cannot start preparing the guests: {e}");
        }
    }

    /// Runs `runbook` as a new top-level execution, records it, and
    /// reports it.
    pub fn run(&self, runbook: &Runbook, inputs: &Inputs) -> RunReport {
        let chain = Chain { stack: Vec::new(), correlation_id: self.seams.ids.correlation_id() };
        self.run_in_chain(runbook, inputs, &chain)
    }

    /// Runs `runbook` as a child of the executions in `chain`: its
    /// recursion stack is the chain's and its own file name, its correlation
    /// id the chain's. It is refused if it is in the chain already, or the
    /// stack would be deeper than [`Config::max_recursion_depth`].
    pub fn run_in_chain(&self, runbook: &Runbook, inputs: &Inputs, chain: &Chain) -> RunReport {
        let started = Instant::now();
        let file = runbook.file_name();
        let recursion = recursion_refusal(&file, &chain.stack, self.config.max_recursion_depth);
        let mut stack = chain.stack.clone();
        stack.push(file);
        let breadcrumb = self.breadcrumb(stack, chain.correlation_id.clone());
        let mut report = RunReport::new(&runbook.name, &runbook.path, &breadcrumb.correlation_id);
        let host = Host {
            env: self.config.env.clone(),
            inputs: inputs.clone(),
            secrets: self.config.secrets.clone(),
            validating: false,
            protected: self.config.protected(),
            sealed_env: self.virtual_time.is_some(),
        };
        // A refusal for want of Required Claims is exit code 403, as over HTTP.
        let unmet = self.seams.ids.claims().and_then(|claims| claims::missing_claim(&runbook.claims, claims));
        let checked = match (recursion, unmet) {
            (Some(refusal), _) => Err(refusal),
            (None, Some(message)) => Err(Failure::new(ErrorCode::Forbidden, message)),
            (None, None) => plan::check(runbook, &host).map_err(|problems| {
                let lines: Vec<String> = problems.iter().map(|p| p.located(&runbook.file_name())).collect();
                Failure::new(ErrorCode::ConfigInvalid, lines.join("\n"))
            }),
        };
        match checked {
            Ok(plan) => {
                let asks = &plan.asks;
                let (decision, changed) = self.decide(runbook, asks, &plan.bound);
                let granted = decision.granted;
                report.consent = Some(decision);
                if let Some(signal) = self.seams.cancel.signal() {
                    report.refuse_with_status(
                        ErrorCode::Interrupted,
                        "interrupted before any step ran".to_string(),
                        128 + signal,
                    );
                } else if !granted {
                    report.refuse(
                        ErrorCode::PermissionDenied,
                        consent::refusal(runbook, asks, &self.config.grants, &changed),
                    );
                } else {
                    match Workspace::prepare(&plan.paths) {
                        Ok(workspace) => {
                            report.inputs = plan.inputs.clone();
                            let handle = self.seams.ids.api_handle();
                            let env = self.with_system_variables(&plan.env, &breadcrumb, &handle);
                            let context = StepContext {
                                variables: variables(&plan.inputs, &env),
                                steps: Arc::default(),
                                env,
                                mounts: workspace.mounts().to_vec(),
                                correlation_id: report.correlation_id.clone(),
                                recursion_stack: breadcrumb.recursion_stack.clone(),
                                net: self.net_policy(runbook),
                                stdin: false,
                                virtual_time: self.virtual_time.clone(),
                                deadline: self.config.deadline,
                                cancel: self.seams.cancel.clone(),
                                calls: Some(self.calls_with_handle(
                                    runbook,
                                    &Chain {
                                        stack: breadcrumb.recursion_stack.clone(),
                                        correlation_id: breadcrumb.correlation_id.clone(),
                                    },
                                    handle,
                                    &plan.bound.children,
                                    self.tree.clone().unwrap_or_else(|| {
                                        Arc::new(Tree::new(self.config.max_sub_runbooks, self.config.max_tree_log))
                                    }),
                                )),
                            };
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
        self.count_logged(records::record::emit(&breadcrumb, &report));
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
        let mut report = RunReport::new(&runbook.name, &runbook.path, &breadcrumb.correlation_id);
        report.refuse_with_status(failure.code, failure.message, status);
        (report, breadcrumb)
    }

    /// A child's record counts against its tree's bytes.
    fn count_logged(&self, bytes: usize) {
        if let Some(tree) = &self.tree {
            tree.logged(bytes);
        }
    }

    /// Appends `report` to the runbook's History and emits its record.
    fn finish(&self, runbook: &Runbook, report: RunReport, breadcrumb: &Breadcrumb) -> RunReport {
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
        self.count_logged(records::record::emit(breadcrumb, &report));
        report
    }

    /// The hosts the user allows, and those the runbook asked for (by now
    /// granted, or the run was refused).
    fn net_policy(&self, runbook: &Runbook) -> NetPolicy {
        let hosts: Vec<&str> = runbook.net.iter().map(|h| h.host.as_str()).collect();
        // Each host was checked when the runbook was parsed.
        self.config.grants.net.merged(&NetPolicy::new(&hosts).unwrap_or_default())
    }

    /// Whether what `runbook` asks is granted: by flags, by consent recorded
    /// for this version of the file and every file it binds, by the consent
    /// of the runbook that names it, or by the person at the terminal; and,
    /// when recorded consent no longer holds, which files changed.
    fn decide(&self, runbook: &Runbook, asks: &[Ask], bound: &Bound) -> (Decision, Vec<String>) {
        let asked: Vec<String> = asks.iter().map(Ask::flag).collect();
        let decision = |granted, how| Decision { asked: asked.clone(), granted, how };
        let grants = &self.config.grants;
        if asks.is_empty() {
            return (decision(true, "nothing asked"), Vec::new());
        }
        if asks.iter().all(|a| grants.grants(a)) {
            return (decision(true, if grants.all { "--allow-all" } else { "flags" }), Vec::new());
        }
        let real = crate::state::real(&runbook.path);
        if self.covered.iter().any(|c| c.path == real && c.digest == bound.digest()) {
            return (decision(true, "the calling runbook's consent"), Vec::new());
        }
        let changed = match self.config.consent.granted(runbook, asks, &bound.files) {
            Consented::Yes => return (decision(true, "runbox allow"), Vec::new()),
            Consented::No => Vec::new(),
            Consented::Changed(files) => {
                self.seams.events.notice(&consent::changed_message(&files));
                files
            }
        };
        let ungranted: Vec<Ask> = asks.iter().filter(|a| !grants.grants(a)).cloned().collect();
        let answer = self.seams.approver.consent(runbook, &ungranted);
        if answer.granted && answer.always {
            match self.config.consent.record(runbook, asks, &bound.files) {
                Ok(file) => self.seams.events.notice(&format!("consent recorded in {}", file.display())),
                Err(e) => self.seams.events.notice(&format!("cannot record consent ({e}); allowed this once")),
            }
        }
        (decision(answer.granted, answer.how), changed)
    }

    fn run_steps(&self, runbook: &Runbook, plan: &Plan, mut context: StepContext, report: &mut RunReport) {
        // A step certain to be refused approval (nobody to ask, not approved
        // in advance) that would stop the run refuses it before any step runs.
        let certain = runbook.steps.iter().zip(&plan.scripts).find_map(|(step, script)| {
            let approval = step.approval.clone().or_else(|| script.requires_approval.then(Approval::default))?;
            let stops = step.on_error == OnError::Fail;
            (stops && self.seams.approver.refuses_unasked(step, &approval.approvers)).then(|| {
                let unasked = ApprovalReport {
                    approvers: approval.approvers,
                    approved: false,
                    how: "non-interactive",
                    by_user: self.seams.ids.user(),
                };
                refusal(step, &unasked)
            })
        });
        if let Some(message) = certain {
            report.refuse(ErrorCode::ApprovalRequired, format!("{message}; no step ran"));
            return;
        }
        let mut budget = self.config.output_budget;
        let masker = Masker::new(&plan.env);
        let events = &self.seams.events;
        let live: Arc<dyn Live> = Arc::new(LiveEvents(Arc::clone(events)));
        for (step, script) in runbook.steps.iter().zip(&plan.scripts) {
            // A sub-runbook's steps also end with the step that called it
            // (`context.deadline`), which the limits reported do not show.
            let limits = self.config.overrides.apply(step.limits.apply(self.config.defaults));
            // Interrupted before the step started (or while its approval was
            // asked): it does not run, and neither does any after it.
            let interrupted = |report: &mut RunReport, approval: Option<ApprovalReport>| {
                let signal = self.seams.cancel.signal()?;
                let message = format!("step `{}` did not start: the run was interrupted", step.name);
                let failure = Failure::new(ErrorCode::Interrupted, message);
                let mut refused = StepReport::refused(step, script.audit.clone(), limits, failure);
                refused.exit_code = 128 + signal;
                refused.approval = approval;
                report.exit_code = refused.exit_code;
                report.steps.push(refused);
                Some(())
            };
            if interrupted(report, None).is_some() {
                break;
            }
            let approval = step
                .approval
                .clone()
                .or_else(|| script.requires_approval.then(|| Approval { approvers: Vec::new() }))
                .map(|approval| {
                    let scope = Scope { inputs: &plan.inputs, steps: &context.steps };
                    self.approve(runbook, step, script, &approval, &scope, &masker)
                });
            if interrupted(report, approval.clone()).is_some() {
                break;
            }
            let mut step_report = match approval.as_ref().filter(|a| !a.approved) {
                Some(refused) => {
                    let failure = Failure::new(ErrorCode::ApprovalRequired, refusal(step, refused));
                    events.step_refused(step, &failure);
                    let mut report = StepReport::refused(step, script.audit.clone(), limits, failure.clone());
                    report.mask(&masker);
                    report
                }
                None => {
                    events.step_started(step);
                    let scope = Scope { inputs: &plan.inputs, steps: &context.steps };
                    let outcome = match &step.source {
                        Source::Runbook { name, inputs } => {
                            self.call_child(runbook, step, name, inputs, &scope, &context, limits)
                        }
                        _ if step.native.is_some() => self.prepare(runbook, step, script, &scope, &context).and_then(
                            |(prepared, step_context)| {
                                self.run_native(runbook, step, &prepared, &step_context, limits, &live)
                            },
                        ),
                        _ => self.prepare(runbook, step, script, &scope, &context).map(|(prepared, step_context)| {
                            if self.sandbox.cold(step.language, self.virtual_time.is_some()) {
                                events.preparing(step.language);
                            }
                            self.sandbox.run(&prepared, &step_context, limits, Some(Arc::clone(&live)))
                        }),
                    };
                    let mut report = match outcome {
                        Ok(outcome) => {
                            let mut report = StepReport::new(step, script.audit.clone(), limits, outcome);
                            report.name_limit(&runbook.file_name(), runbook.format, &self.config.overrides);
                            report
                        }
                        Err((code, message)) => {
                            let failure = Failure::new(code, message);
                            events.step_refused(step, &failure);
                            StepReport::refused(step, script.audit.clone(), limits, failure.clone())
                        }
                    };
                    // Masked once, before watchers see it: they see what the records keep.
                    report.mask(&masker);
                    events.step_finished(step, &report);
                    report
                }
            };
            step_report.approval = approval;
            // What the run keeps of all its steps is bounded, however many
            // steps there are and however loud.
            step_report.keep_within(&mut budget);
            report.stdout.push_str(&step_report.stdout);
            report.stderr.push_str(&step_report.stderr);
            // The only other reference went with the last step's store: no
            // copy. Its output without the trailing newlines, as `$(…)` gives
            // it: `for h in {{ steps.find.stdout }}` has no empty last line.
            Arc::make_mut(&mut context.steps).insert(
                step.name.clone(),
                json!({
                    "exit_code": step_report.exit_code,
                    "stdout": step_report.stdout.trim_end_matches('\n'),
                    "stderr": step_report.stderr.trim_end_matches('\n'),
                    "result": step_report.result,
                }),
            );
            let failed = step_report.exit_code != 0;
            // An interrupted run stops whatever the step's on_error says.
            let interrupted = step_report.error.as_ref().is_some_and(|e| e.code == ErrorCode::Interrupted);
            let stop = failed && (step.on_error == OnError::Fail || interrupted);
            step_report.continued = failed && !stop;
            if stop {
                report.exit_code = step_report.exit_code;
            }
            report.steps.push(step_report);
            if stop {
                break;
            }
        }
    }

    /// A `type: runbook` step: its sub-runbook, called with its env and
    /// inputs expanded, as the step's outcome. A child refused before it ran
    /// is the step's refusal.
    #[allow(clippy::too_many_arguments)]
    fn call_child(
        &self,
        runbook: &Runbook,
        step: &Step,
        name: &str,
        inputs: &[(String, String)],
        scope: &Scope<'_>,
        context: &StepContext,
        limits: Limits,
    ) -> Result<Outcome, (ErrorCode, String)> {
        let in_step = |e: TemplateError| {
            (ErrorCode::ConfigInvalid, format!("{}:{}: {}", runbook.file_name(), step.line, e.message))
        };
        let plain = |text: &str| template::expand_plain(text, scope).map_err(in_step);
        let env = step.env.iter().map(|(k, v)| Ok((k.clone(), plain(v)?))).collect::<Result<Vec<_>, _>>()?;
        let inputs = inputs.iter().map(|(k, v)| Ok((k.clone(), Value::String(plain(v)?)))).collect::<Result<_, _>>()?;
        let calls = context.calls.as_ref().ok_or((ErrorCode::ConfigInvalid, "no sub-runbooks here".to_string()))?;
        let started = Instant::now();
        let deadline = self.config.deadline.map_or(started + limits.timeout, |d| d.min(started + limits.timeout));
        let call = Call { runbook: name.to_string(), env, inputs, deadline };
        let called = calls.call(call).map_err(|f| (f.code, f.message))?;
        // The child ran quietly; its output is this step's, shown as any step's.
        self.seams.events.output(Stream::Stdout, called.stdout.as_bytes());
        self.seams.events.output(Stream::Stderr, called.stderr.as_bytes());
        let error = (called.exit_code != 0)
            .then(|| Failure::new(ErrorCode::CommandFailed, format!("sub-runbook {name} exited {}", called.exit_code)));
        Ok(Outcome {
            exit_code: called.exit_code,
            stdout: Captured { text: called.stdout, truncated: false },
            stderr: Captured { text: called.stderr, truncated: false },
            duration: started.elapsed(),
            fuel_consumed: 0,
            result: called.result,
            error,
            confinement: None,
        })
    }

    /// A step of the native tier, which the consent decision allowed.
    fn run_native(
        &self,
        runbook: &Runbook,
        step: &Step,
        prepared: &Script,
        context: &StepContext,
        limits: Limits,
        live: &Arc<dyn Live>,
    ) -> Result<Outcome, (ErrorCode, String)> {
        let native = step.native.ok_or((ErrorCode::ConfigInvalid, "not a native step".to_string()))?;
        if self.virtual_time.is_some() {
            return Err((
                ErrorCode::PermissionDenied,
                format!(
                    "step `{}` runs {} natively, which deterministic mode cannot make repeatable",
                    step.name,
                    native.program()
                ),
            ));
        }
        let helper = self.config.native_helper.as_deref().ok_or((
            ErrorCode::PermissionDenied,
            "the native tier needs the runbox binary, which cannot be found".to_string(),
        ))?;
        let native_step = crate::native::NativeStep {
            native,
            script: &prepared.source,
            args: &prepared.args,
            env: &context.env,
            cwd: &prepared.cwd,
            mounts: &context.mounts,
            tcp_ports: self.net_policy(runbook).tcp_ports(),
            unconfined: self.config.grants.unconfined,
            helper,
            cancel: &self.seams.cancel,
            deadline: self.config.deadline,
        };
        Ok(crate::native::run(&native_step, limits, Some(Arc::clone(live))))
    }

    /// The script with its templates expanded, and the context it runs in.
    fn prepare(
        &self,
        runbook: &Runbook,
        step: &Step,
        script: &Resolved,
        scope: &Scope<'_>,
        context: &StepContext,
    ) -> Result<(Script, StepContext), (ErrorCode, String)> {
        // Positions in the script's own file; a secret's text is not quoted.
        let in_script = |e: TemplateError| {
            let line = script.first_line as usize + e.line;
            let message =
                if script.is_secret() { "a template in it cannot be expanded".to_string() } else { e.message };
            (ErrorCode::ConfigInvalid, format!("{}:{line}: {message}", script.filename))
        };
        let in_step = |e: TemplateError| {
            (ErrorCode::ConfigInvalid, format!("{}:{}: {}", runbook.file_name(), step.line, e.message))
        };
        let mut prepared = Script::new(step.language, script.text.clone(), script.filename.clone());
        prepared.first_line = script.first_line;
        prepared.secret = script.is_secret();
        let mut step_context = context.clone();
        if runbook.format == Format::Yaml {
            match step.language {
                Language::Shell => {
                    let expanded = template::expand_shell(&script.text, scope).map_err(in_script)?;
                    prepared.source = expanded.script;
                    step_context.env.extend(expanded.variables);
                }
                Language::JavaScript => {
                    let expanded = template::expand_js(&script.text, scope).map_err(in_script)?;
                    prepared.source = expanded.source;
                    step_context.variables.extend(expanded.variables);
                }
            }
            let plain = |text: &str| template::expand_plain(text, scope).map_err(in_step);
            prepared.args = step.args.iter().map(|a| plain(a)).collect::<Result<_, _>>()?;
            for (name, value) in &step.env {
                let value = plain(value)?;
                step_context.env.retain(|(n, _)| n != name);
                step_context.env.push((name.clone(), value.clone()));
                step_context.variables.insert(name.clone(), Value::String(value));
            }
            step_context.variables.insert("args".into(), json!(prepared.args));
            if let Some(cwd) = &step.cwd {
                let cwd = plain(cwd)?;
                prepared.cwd =
                    sandbox::guest_dir(&step_context.mounts, &cwd).map_err(|m| (ErrorCode::InvalidCwd, m))?;
            }
        }
        Ok((prepared, step_context))
    }

    /// Whether `step` may run, as the [`Approver`] decides.
    fn approve(
        &self,
        runbook: &Runbook,
        step: &Step,
        script: &Resolved,
        approval: &Approval,
        scope: &Scope<'_>,
        masker: &Masker,
    ) -> ApprovalReport {
        // The values the script's templates will have, as the approver must
        // see them to know what runs (a YAML runbook's only).
        let mut values: Vec<(String, String)> = Vec::new();
        if runbook.format == Format::Yaml {
            for (reference, _) in template::references(&script.text).0 {
                let written = format!("{{{{ {} }}}}", reference.written);
                if values.iter().any(|(w, _)| *w == written) {
                    continue;
                }
                let mut value = match scope.value(&reference) {
                    Ok(value) => template::text_of(&value),
                    Err(why) => format!("(no value: {why})"),
                };
                masker.text(&mut value);
                values.push((written, value));
            }
        }
        let request = StepApproval {
            step,
            approvers: &approval.approvers,
            source: &script.audit,
            script: &script.text,
            values: &values,
        };
        let answer = self.seams.approver.approve(&request);
        ApprovalReport {
            approvers: approval.approvers.clone(),
            approved: answer.approved,
            how: answer.how,
            by_user: self.seams.ids.user(),
        }
    }

    /// Records the refusal of a runbook that could not even be parsed. Its
    /// file is left alone (appending to a malformed file could lose what is
    /// in it); the JSON record keeps the refusal.
    pub fn record_invalid(&self, invalid: &Invalid) -> RunReport {
        let name = invalid.file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let breadcrumb = self.breadcrumb(vec![crate::model::file_name(&invalid.file)], self.seams.ids.correlation_id());
        let mut report = RunReport::new(&name, &invalid.file, &breadcrumb.correlation_id);
        report.refuse(ErrorCode::ConfigInvalid, invalid.to_string());
        self.count_logged(records::record::emit(&breadcrumb, &report));
        report
    }

    /// `env` with the system variables, replacing any of the same
    /// names: the chain's, the API base URL, and the run's opaque handle in
    /// place of a token.
    fn with_system_variables(
        &self,
        env: &[(String, String)],
        breadcrumb: &Breadcrumb,
        handle: &str,
    ) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            env.iter().filter(|(name, _)| !CHAIN_VARIABLES.contains(&name.as_str())).cloned().collect();
        let stack = serde_json::to_string(&breadcrumb.recursion_stack).unwrap_or_default();
        let values = [&breadcrumb.correlation_id, &stack, &self.config.api_base_url, &handle.to_string()];
        env.extend(CHAIN_VARIABLES.iter().zip(values).map(|(name, value)| (name.to_string(), value.clone())));
        env
    }

    /// A new execution whose chain of runbooks is `stack`.
    fn breadcrumb(&self, stack: Vec<String>, correlation_id: String) -> Breadcrumb {
        Breadcrumb {
            at_time: self.seams.clock.now().format(&Rfc3339).unwrap_or_default(),
            by_user: self.seams.ids.user(),
            from_ip: self.seams.ids.remote_ip(),
            correlation_id,
            recursion_stack: stack,
        }
    }
}

fn refusal(step: &Step, approval: &ApprovalReport) -> String {
    let approvers = if approval.approvers.is_empty() {
        String::new()
    } else {
        format!(" by one of {}", approval.approvers.join(", "))
    };
    match approval.how {
        "terminal" => format!("step `{}` needs approval{approvers}, and it was declined at the terminal", step.name),
        _ => format!(
            "step `{}` needs approval{approvers}; review it and run again with --approve {} (or run on a terminal to be asked)",
            step.name, step.name
        ),
    }
}

/// Inputs by name, and `inputs`, `env` and `steps` as objects; declared
/// variables by name too where no input has the name.
fn variables(inputs: &Map<String, Value>, env: &[(String, String)]) -> Map<String, Value> {
    let mut vars = Map::new();
    for (name, value) in env {
        vars.insert(name.clone(), Value::String(value.clone()));
    }
    vars.extend(inputs.clone());
    vars.insert("inputs".into(), Value::Object(inputs.clone()));
    vars.insert("env".into(), Value::Object(env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()));
    vars
}

/// The executions a run belongs to: the runbooks above it (outermost first,
/// by file name) and the correlation id they share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub stack: Vec<String>,
    pub correlation_id: String,
}

/// Why a runbook named `file` may not run below `chain`, if it may not.
fn recursion_refusal(file: &str, chain: &[String], max_depth: usize) -> Option<Failure> {
    if chain.iter().any(|c| c == file) {
        let message = format!("Recursion detected: Runbook {file} already in execution chain: {chain:?}");
        return Some(Failure::new(ErrorCode::RecursionDetected, message));
    }
    let depth = chain.len() + 1;
    (depth > max_depth).then(|| {
        Failure::new(
            ErrorCode::RecursionDepthExceeded,
            format!("Recursion depth limit exceeded: {depth} (max: {max_depth})"),
        )
    })
}
