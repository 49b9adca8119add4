//! Executes runbooks: validated plan → steps in fresh sandbox instances →
//! report → history and the JSON record.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::consent::{self, Ask, ConsentStore, Decision, Grants};
use crate::engine::{Sandbox, Script, StepContext};
use crate::error::ErrorCode;
use crate::guest::GuestCache;
use crate::history::{self, Entry, EntryBody};
use crate::http::NetPolicy;
use crate::limits::{LimitOverrides, Limits};
use crate::mask::Masker;
use crate::mounts::{self, Workspace};
use crate::output::{excerpt, visible, visible_lines};
use crate::plan::{self, Host, Plan};
use crate::record::{self, Breadcrumb};
use crate::report::{ApprovalReport, RunReport, StepReport};
use crate::runbook::{Approval, Format, Language, OnError, Step};
use crate::runbook::{Invalid, Runbook};
use crate::sources::{Resolved, Secrets};
use crate::state::Protected;
use crate::template::{self, Scope, TemplateError};

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
    /// Echo the steps' output live to this process's stdout and stderr.
    pub echo: bool,
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
    /// Steps approved in advance (`--approve STEP`), by name.
    pub approve: Vec<String>,
    /// Ask on the terminal for the approval a step needs.
    pub interactive: bool,
    /// Bytes of output (stdout and stderr of all steps) a run keeps for
    /// templates, `--json` and the record; past it, steps keep a marker.
    pub output_budget: usize,
}

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
            history_keep: history::DEFAULT_KEEP,
            echo: false,
            cache: GuestCache::default_location(),
            env: HashMap::new(),
            grants: Grants::default(),
            consent: ConsentStore::default_location(),
            log: record::default_log_path(),
            secrets: Secrets::default(),
            approve: Vec::new(),
            interactive: false,
            output_budget: DEFAULT_OUTPUT_BUDGET,
        }
    }
}

/// Runs runbooks in the sandbox. Build one and reuse it: it holds the
/// compiled guests.
///
/// ```no_run
/// use runbox::{Config, Runner, runbook};
///
/// let runner = Runner::new(Config { history: false, ..Config::default() })?;
/// let runbook = runbook::load("runbooks/HelloWorld.md".as_ref())?;
/// let report = runner.run(&runbook, &Default::default());
/// println!("{} exited {}", report.runbook, report.exit_code);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct Runner {
    config: Config,
    sandbox: Sandbox,
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
    pub fn new(config: Config) -> anyhow::Result<Runner> {
        let sandbox = Sandbox::new(&config.cache)?;
        Ok(Runner { config, sandbox })
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Runs `runbook`, records the execution, and reports it.
    pub fn run(&self, runbook: &Runbook, inputs: &Inputs) -> RunReport {
        let started = Instant::now();
        let breadcrumb = breadcrumb(&runbook.name);
        let mut report = RunReport::new(&runbook.name, &runbook.path, &breadcrumb.correlation_id);
        let host = Host {
            env: self.config.env.clone(),
            inputs: inputs.clone(),
            secrets: self.config.secrets.clone(),
            validating: false,
            protected: self.config.protected(),
        };
        match plan::check(runbook, &host) {
            Ok(plan) => {
                let asks = consent::asks(runbook, &plan.paths);
                let decision = self.decide(runbook, &asks);
                let granted = decision.granted;
                report.consent = Some(decision);
                if !granted {
                    report.refuse(ErrorCode::PermissionDenied, consent::refusal(runbook, &asks, &self.config.grants));
                } else {
                    match Workspace::prepare(&plan.paths) {
                        Ok(workspace) => {
                            report.inputs = plan.inputs.clone();
                            let context = StepContext {
                                variables: variables(&plan.inputs, &plan.env),
                                steps: Arc::default(),
                                env: plan.env.clone(),
                                mounts: workspace.mounts().to_vec(),
                                correlation_id: report.correlation_id.clone(),
                                recursion_stack: breadcrumb.recursion_stack.clone(),
                                net: self.net_policy(runbook),
                            };
                            self.run_steps(runbook, &plan, context, &mut report);
                        }
                        Err(e) => {
                            report.refuse(ErrorCode::ConfigInvalid, format!("cannot prepare the sandbox's files: {e}"))
                        }
                    }
                }
            }
            Err(problems) => {
                let lines: Vec<String> = problems.iter().map(|p| p.located(&runbook.file_name())).collect();
                report.refuse(ErrorCode::ConfigInvalid, lines.join("\n"));
            }
        }
        report.duration_ms = started.elapsed().as_millis();
        if self.config.history && runbook.format == Format::Markdown {
            let body = match &report.error {
                Some(error) => {
                    EntryBody::Error(excerpt(&format!("{}: {}", error.code, error.message), HISTORY_STREAM_BYTES))
                }
                None => EntryBody::Output {
                    stdout: excerpt(&report.stdout, HISTORY_STREAM_BYTES),
                    stderr: excerpt(&report.stderr, HISTORY_STREAM_BYTES),
                },
            };
            let entry = Entry { at: OffsetDateTime::now_utc(), exit_code: report.exit_code, body };
            if let Err(e) = history::append(&runbook.path, &entry, self.config.history_keep) {
                tracing::error!("{e}");
                eprintln!("runbox: {e} (the JSON record still has the full result)");
            }
        }
        record::emit(&breadcrumb, &report);
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
    /// for this version of the file, or by the person at the terminal.
    fn decide(&self, runbook: &Runbook, asks: &[Ask]) -> Decision {
        let asked: Vec<String> = asks.iter().map(Ask::flag).collect();
        let decision = |granted, how| Decision { asked: asked.clone(), granted, how };
        let grants = &self.config.grants;
        if asks.is_empty() {
            return decision(true, "nothing asked");
        }
        if asks.iter().all(|a| grants.grants(a)) {
            return decision(true, if grants.all { "--allow-all" } else { "flags" });
        }
        if self.config.consent.granted(runbook, asks) {
            return decision(true, "runbox allow");
        }
        if !self.config.interactive {
            return decision(false, "not granted");
        }
        eprintln!("runbox: {} asks for:", visible(&runbook.file_name()));
        for ask in asks.iter().filter(|a| !grants.grants(a)) {
            eprintln!("  - {ask}");
        }
        eprint!("runbox: allow? [y]es this once, [a]lways for this version of the file, [N]o: ");
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return decision(false, "declined at the terminal");
        }
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => decision(true, "terminal"),
            "a" | "always" => {
                match self.config.consent.record(runbook, asks) {
                    Ok(file) => eprintln!("runbox: consent recorded in {}", file.display()),
                    Err(e) => eprintln!("runbox: cannot record consent ({e}); allowed this once"),
                }
                decision(true, "terminal (always)")
            }
            _ => decision(false, "declined at the terminal"),
        }
    }

    fn run_steps(&self, runbook: &Runbook, plan: &Plan, mut context: StepContext, report: &mut RunReport) {
        let mut budget = self.config.output_budget;
        let masker = Masker::new(&plan.env);
        for (step, script) in runbook.steps.iter().zip(&plan.scripts) {
            let limits = self.config.overrides.apply(step.limits.apply(self.config.defaults));
            let progress = self.config.echo && std::io::stderr().is_terminal();
            let approval = step
                .approval
                .clone()
                .or_else(|| script.requires_approval.then(|| Approval { approvers: Vec::new() }))
                .map(|approval| self.approve(step, script, &approval));
            let mut step_report = match approval.as_ref().filter(|a| !a.approved) {
                Some(refused) => {
                    let message = refusal(step, refused);
                    if self.config.echo {
                        eprintln!("runbox: {}: {message}", ErrorCode::ApprovalRequired);
                    }
                    StepReport::refused(step, script.audit.clone(), limits, ErrorCode::ApprovalRequired, message)
                }
                None => {
                    if progress {
                        eprintln!("runbox: ▶ {} ({}, line {})", step.name, step.language.as_str(), step.line);
                    }
                    let scope = Scope { inputs: &plan.inputs, steps: &context.steps };
                    let report = match self.prepare(runbook, step, script, &scope, &context) {
                        Ok((prepared, step_context)) => {
                            let outcome = self.sandbox.run(&prepared, &step_context, limits, self.config.echo);
                            StepReport::new(step, script.audit.clone(), limits, outcome)
                        }
                        Err((code, message)) => {
                            if self.config.echo {
                                eprintln!("runbox: step `{}`: {code}: {message}", step.name);
                            }
                            StepReport::refused(step, script.audit.clone(), limits, code, message)
                        }
                    };
                    if progress {
                        eprintln!(
                            "runbox: {} {} exited {} in {:.1}ms",
                            if report.exit_code == 0 { "✓" } else { "✗" },
                            step.name,
                            report.exit_code,
                            report.duration_ms
                        );
                    }
                    report
                }
            };
            step_report.approval = approval;
            step_report.mask(&masker);
            // What the run keeps of all its steps is bounded, however many
            // steps there are and however loud.
            step_report.keep_within(&mut budget);
            report.stdout.push_str(&step_report.stdout);
            report.stderr.push_str(&step_report.stderr);
            // The only other reference went with the last step's store: no copy.
            Arc::make_mut(&mut context.steps).insert(
                step.name.clone(),
                json!({
                    "exit_code": step_report.exit_code,
                    "stdout": step_report.stdout,
                    "stderr": step_report.stderr,
                    "result": step_report.result,
                }),
            );
            let failed = step_report.exit_code != 0;
            let stop = failed && step.on_error == OnError::Fail;
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
                prepared.cwd = mounts::guest_dir(&step_context.mounts, &cwd).map_err(|m| (ErrorCode::InvalidCwd, m))?;
            }
        }
        Ok((prepared, step_context))
    }

    /// Whether `step` may run: approved in advance with `--approve`, or by
    /// the person at the terminal after seeing the script and its hash.
    fn approve(&self, step: &Step, script: &Resolved, approval: &Approval) -> ApprovalReport {
        let by_user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let report = |approved, how| ApprovalReport {
            approvers: approval.approvers.clone(),
            approved,
            how,
            by_user: by_user.clone(),
        };
        if self.config.approve.iter().any(|s| s == &step.name) {
            return report(true, "--approve");
        }
        if !self.config.interactive {
            return report(false, "non-interactive");
        }
        let approvers = if approval.approvers.is_empty() {
            String::new()
        } else {
            format!(" (approvers: {})", visible(&approval.approvers.join(", ")))
        };
        // Everything shown here is the runbook's to choose; none of it may
        // rewrite what the person deciding sees.
        let name = visible(&step.name);
        eprintln!("runbox: step `{name}` needs approval{approvers}");
        eprintln!(
            "runbox: source: {} {}  sha256: {}",
            script.audit.kind,
            visible(&script.audit.reference),
            script.audit.sha256
        );
        eprintln!("----------------------------------------");
        eprint!("{}", visible_lines(&script.text));
        if !script.text.ends_with('\n') {
            eprintln!();
        }
        eprintln!("----------------------------------------");
        eprint!("runbox: run step `{name}`? [y/N] ");
        let mut answer = String::new();
        let approved = std::io::stdin().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes");
        report(approved, "terminal")
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

/// Records the refusal of a runbook that could not even be parsed. Its file
/// is left alone (appending to a malformed file could lose what is in it);
/// the JSON record keeps the refusal.
pub fn record_invalid(invalid: &Invalid) -> RunReport {
    let name = invalid.file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let breadcrumb = breadcrumb(&name);
    let mut report = RunReport::new(&name, &invalid.file, &breadcrumb.correlation_id);
    report.refuse(ErrorCode::ConfigInvalid, invalid.to_string());
    record::emit(&breadcrumb, &report);
    report
}

/// A new top-level execution of `runbook` by this process's user.
fn breadcrumb(runbook: &str) -> Breadcrumb {
    Breadcrumb {
        at_time: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        by_user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        from_ip: None,
        correlation_id: uuid::Uuid::new_v4().to_string(),
        recursion_stack: vec![runbook.to_string()],
    }
}
