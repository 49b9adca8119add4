//! Executes runbooks: validated plan → steps in fresh sandbox instances →
//! report → history and the JSON record.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Instant;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::engine::{Sandbox, Script, StepContext};
use crate::error::ErrorCode;
use crate::guest::GuestCache;
use crate::history::{self, Entry, EntryBody};
use crate::http::NetPolicy;
use crate::limits::{LimitOverrides, Limits};
use crate::mounts::Workspace;
use crate::plan::{self, Plan};
use crate::record::{self, Breadcrumb};
use crate::report::{RunReport, SourceReport, StepReport};
use crate::runbook::{Invalid, Runbook};

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
    /// The hosts steps may reach over HTTP.
    pub net: NetPolicy,
}

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
            net: NetPolicy::default(),
        }
    }
}

/// Runs runbooks in the sandbox. Build one and reuse it: it holds the
/// compiled guests.
///
/// ```no_run
/// use runbox::{Config, Runner, markdown};
///
/// let runner = Runner::new(Config { history: false, ..Config::default() })?;
/// let runbook = markdown::load("runbooks/HelloWorld.md".as_ref())?;
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
        match plan::check(runbook, &self.config.env) {
            Ok(Plan { env, paths }) => match Workspace::prepare(&paths) {
                Ok(workspace) => {
                    let context = StepContext {
                        variables: variables(inputs, &env),
                        env,
                        mounts: workspace.mounts().to_vec(),
                        correlation_id: report.correlation_id.clone(),
                        recursion_stack: breadcrumb.recursion_stack.clone(),
                        net: self.config.net.clone(),
                    };
                    self.run_steps(runbook, context, &mut report);
                }
                Err(e) => report.refuse(ErrorCode::ConfigInvalid, format!("cannot prepare the sandbox's files: {e}")),
            },
            Err(problems) => {
                let lines: Vec<String> =
                    problems.iter().map(|p| format!("{}:{}: {}", runbook.file_name(), p.line, p.message)).collect();
                report.refuse(ErrorCode::ConfigInvalid, lines.join("\n"));
            }
        }
        report.duration_ms = started.elapsed().as_millis();
        if self.config.history {
            let body = match &report.error {
                Some(error) => EntryBody::Error(format!("{}: {}", error.code, error.message)),
                None => EntryBody::Output { stdout: report.stdout.clone(), stderr: report.stderr.clone() },
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

    fn run_steps(&self, runbook: &Runbook, mut context: StepContext, report: &mut RunReport) {
        let mut results = Map::new();
        for step in &runbook.steps {
            let limits = self.config.overrides.apply(step.limits.apply(self.config.defaults));
            let script = Script {
                language: step.language,
                source: step.source.clone(),
                filename: runbook.file_name(),
                first_line: step.line as u32,
                args: Vec::new(),
            };
            let progress = self.config.echo && std::io::stderr().is_terminal();
            if progress {
                eprintln!("runbox: ▶ {} ({}, line {})", step.name, step.language.as_str(), step.line);
            }
            let outcome = self.sandbox.run(&script, &context, limits, self.config.echo);
            if progress {
                eprintln!(
                    "runbox: {} {} exited {} in {:.1?}",
                    if outcome.exit_code == 0 { "✓" } else { "✗" },
                    step.name,
                    outcome.exit_code,
                    outcome.duration
                );
            }
            let audit = SourceReport {
                kind: "inline",
                reference: format!("{}:{}", runbook.file_name(), step.line),
                sha256: hex_sha256(&step.source),
                content: step.source.clone(),
            };
            let step_report = StepReport::new(step, audit, limits, outcome);
            report.stdout.push_str(&step_report.stdout);
            report.stderr.push_str(&step_report.stderr);
            results.insert(
                step.name.clone(),
                json!({
                    "exit_code": step_report.exit_code,
                    "stdout": step_report.stdout,
                    "stderr": step_report.stderr,
                    "result": step_report.result,
                }),
            );
            context.variables.insert("steps".into(), Value::Object(results.clone()));
            let failed = step_report.exit_code != 0;
            if failed {
                report.exit_code = step_report.exit_code;
            }
            report.steps.push(step_report);
            if failed {
                break;
            }
        }
    }
}

/// Inputs by name, and `inputs`, `env` and `steps` as objects; declared
/// variables by name too where no input has the name.
fn variables(inputs: &Inputs, env: &[(String, String)]) -> Map<String, Value> {
    let mut vars = Map::new();
    for (name, value) in env {
        vars.insert(name.clone(), Value::String(value.clone()));
    }
    vars.extend(inputs.clone());
    vars.insert("inputs".into(), Value::Object(inputs.clone()));
    vars.insert("env".into(), Value::Object(env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()));
    vars.insert("steps".into(), Value::Object(Map::new()));
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

pub(crate) fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
