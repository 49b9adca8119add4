//! The validated plan of an execution: everything a runbook needs of the
//! host, checked before anything runs, with every problem reported at once:
//! variables, typed inputs ([`inputs`]), script sources and their pins
//! ([`sources`]), declared paths held open ([`mounts`]), template
//! references, and what it asks beyond the safe defaults ([`consent`]).
//!
//! Reads the host (files, the secret store, the consent store) but runs
//! nothing: it imports `parse/`, `template/`, `model/` and the bottom files,
//! never `sandbox/` or `run/`.

pub mod claims;
pub mod coerce;
pub mod consent;
pub mod fingerprint;
pub mod mounts;
pub mod sources;

use std::collections::HashMap;

use serde_json::{Map, Value};

use std::path::Path;

use crate::error::{Invalid, Problem};
use crate::model::cluster::Executor;
use crate::model::{Container, Format, Runbook, SecretRef, Source, Step};
use crate::parse;
use crate::state::Protected;
use crate::template;
use consent::Ask;
use fingerprint::Bound;
use mounts::Declared;
use sources::{Resolved, Secrets};

/// What the host gives a run: values for declared variables, inputs and
/// the secret store.
#[derive(Clone, Debug, Default)]
pub struct Host {
    /// Values for the runbook's declared variables, before the process's own.
    pub env: HashMap<String, String>,
    pub inputs: Map<String, Value>,
    pub secrets: Secrets,
    /// Only validating: inputs without a value are not an error.
    pub validating: bool,
    /// runbox's own state, which no declared path may reach.
    pub protected: Vec<Protected>,
    /// Deterministic mode: declared variables come from `env` alone, never
    /// from the process's environment.
    pub sealed_env: bool,
    /// The Kubernetes executor, which runs `image_ref` steps as Jobs.
    pub executor: Option<Executor>,
}

/// What the sandbox of one execution is made of.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The declared variables with their values: the guest's whole environment.
    pub env: Vec<(String, String)>,
    /// The declared paths, resolved on the host.
    pub paths: Vec<Declared>,
    /// Inputs of their declared types, defaults filled in.
    pub inputs: Map<String, Value>,
    /// Each step's script, loaded from its source; in step order.
    pub scripts: Vec<Resolved>,
    /// What the runbook asks beyond the safe defaults, with what
    /// the sub-runbooks it names ask.
    pub asks: Vec<Ask>,
    /// What consent to it binds.
    pub bound: Bound,
}

/// The prefixes of runbox's own variables (`RUNBOX_STORE`, `RUNBOX_STATE_DIR`,
/// …, and its span exporter's settings, a collector's API key in
/// `OTEL_EXPORTER_OTLP_HEADERS` among them), which the process environment
/// never fills a runbook's with.
const OWN_VARIABLES: [&str; 2] = ["RUNBOX_", "OTEL_EXPORTER_OTLP_"];

/// Checks `runbook` against this host: its variables are set (from
/// `host.env` first, then the process environment), its inputs have their
/// types, its paths stay where they may, its scripts load (and match their
/// pins), and its templates name inputs and earlier steps that exist.
pub fn check(runbook: &Runbook, host: &Host) -> Result<Plan, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut values = Vec::new();
    for requirement in &runbook.env {
        // runbox's own variables (its store's URL, its folders) configure
        // runbox; a runbook gets one only when it is given.
        let own = OWN_VARIABLES.iter().any(|prefix| requirement.name.starts_with(prefix));
        let from_process = || (!host.sealed_env && !own).then(|| std::env::var(&requirement.name).ok()).flatten();
        match host.env.get(&requirement.name).cloned().or_else(from_process) {
            Some(value) => values.push((requirement.name.clone(), value)),
            None if own => {
                let name = &requirement.name;
                let message = format!(
                    "environment variable `{name}` is runbox's own: runbooks are not handed it from runbox's environment"
                );
                let help = format!("give it with --env {name}=VALUE (over the API: in env_vars)");
                problems.push(Problem::missing(requirement.line, message).help(help));
            }
            None => {
                let mut message = format!("environment variable `{}` is not set", requirement.name);
                if !requirement.description.is_empty() {
                    message.push_str(&format!(" ({})", requirement.description));
                }
                let name = &requirement.name;
                let help = if host.sealed_env {
                    format!("deterministic mode reads no host variable: give it with --env {name}=VALUE")
                } else {
                    format!("give it with --env {name}=VALUE or export {name} (over the API: in env_vars)")
                };
                problems.push(Problem::missing(requirement.line, message).help(help));
            }
        }
    }
    let paths = mounts::resolve(runbook, &host.protected).unwrap_or_else(|more| {
        problems.extend(more);
        Vec::new()
    });
    let typed = match runbook.format {
        Format::Markdown => Ok(host.inputs.clone()),
        Format::Yaml => coerce::check(&runbook.inputs, &host.inputs, !host.validating),
    };
    let inputs = typed.unwrap_or_else(|more| {
        problems.extend(more);
        Map::new()
    });
    let mut scripts = Vec::new();
    for (i, step) in runbook.steps.iter().enumerate() {
        match sources::resolve(runbook, step, &host.secrets) {
            Ok(script) => {
                if runbook.format == Format::Yaml {
                    check_templates(runbook, step, &runbook.steps[..i], &script, &mut problems);
                }
                scripts.push(script);
            }
            // A secret the host does not hold is a value not given (CI
            // lints without the secrets); any other source must load.
            // So is a cluster CI cannot reach, or has not been granted.
            Err(message) if matches!(step.source, Source::Secret(_) | Source::ConfigMap { .. }) => {
                problems.push(Problem::missing(step.line, format!("step `{}`: {message}", step.name)))
            }
            Err(message) => problems.push(Problem::new(step.line, format!("step `{}`: {message}", step.name))),
        }
        if let Some(container) = &step.container {
            check_image(step, container, host.executor.as_ref(), &mut problems);
        }
    }
    problems.sort_by_key(|p| p.line);
    if !problems.is_empty() {
        return Err(problems);
    }
    let bound = fingerprint::bind_loaded(runbook, Some(&scripts), &host.secrets, &host.protected);
    let mut asks = consent::asks(runbook, &paths);
    asks.extend(bound.children.iter().flat_map(|c| c.asks.iter().cloned()));
    Ok(Plan { env: values, paths, inputs, scripts, asks, bound })
}

/// `runbook` as the Kubernetes executor reads it: there, a
/// `script_from_secret` naming a secret and a key is that key of a Secret
/// of the executor's namespace, read through the API — the one rule for
/// where a secret comes from is a `namespace`, or the executor.
pub fn under_executor(runbook: &Runbook) -> std::borrow::Cow<'_, Runbook> {
    let in_directory = |step: &Step| matches!(&step.source, Source::Secret(SecretRef::File { key: Some(_), .. }));
    if !runbook.steps.iter().any(in_directory) {
        return std::borrow::Cow::Borrowed(runbook);
    }
    let mut read = runbook.clone();
    for step in read.steps.iter_mut() {
        if let Source::Secret(SecretRef::File { secret_name, key: Some(key) }) = &step.source {
            let (secret_name, key) = (secret_name.clone(), key.clone());
            // Names the API has (checked as the API's names are) or left to the directory.
            if crate::model::is_object_name(&secret_name) && crate::model::is_data_key(&key) {
                let namespace = sources::default_namespace();
                step.source = Source::Secret(SecretRef::Kubernetes { secret_name, key, namespace });
            }
        }
    }
    std::borrow::Cow::Owned(read)
}

/// An `image_ref` step runs only under the Kubernetes executor, in an image
/// its operator allows; validating without the executor, it is what the
/// host lacks, as a secret CI does not hold is.
fn check_image(step: &Step, container: &Container, executor: Option<&Executor>, problems: &mut Vec<Problem>) {
    let name = &step.name;
    match executor {
        None => {
            let message = if cfg!(feature = "kubernetes") {
                format!(
                    "step `{name}` runs in image `{}` as a Kubernetes Job, which only the Kubernetes executor does",
                    container.image
                )
            } else {
                format!(
                    "step `{name}` runs in image `{}` as a Kubernetes Job, and this build of runbox has no Kubernetes executor",
                    container.image
                )
            };
            let help = if cfg!(feature = "kubernetes") {
                "run it with --executor kubernetes (runbox run or serve), or remove image_ref to run the script in runbox's sandbox"
            } else {
                "build runbox with `--features kubernetes`, or remove image_ref to run the script in runbox's sandbox"
            };
            problems.push(Problem::missing(step.line, message).help(help));
        }
        Some(executor) => {
            if let Err(message) = executor.image(&container.image) {
                problems.push(Problem::new(step.line, format!("step `{name}`: {message}")));
            }
        }
    }
}

/// What consent to `runbook` covers (for `runbox allow`, which needs no
/// values for variables or inputs): what it and the sub-runbooks it names
/// ask, and the files it binds.
pub fn consent_asks(runbook: &Runbook, host: &Host) -> Result<(Vec<Ask>, Bound), Vec<Problem>> {
    let bound = fingerprint::bind(runbook, &host.secrets, &host.protected);
    let mut asks = consent::asks_of(runbook, &host.protected)?;
    asks.extend(bound.children.iter().flat_map(|c| c.asks.iter().cloned()));
    Ok((asks, bound))
}

/// What `runbook` and the sub-runbooks it names ask, found without a
/// request to the Kubernetes API: what decides which of its cluster objects
/// the plan may then read.
pub fn asks_before_reading(runbook: &Runbook, host: &Host) -> Vec<Ask> {
    // Only a runbook that names a cluster object, or a sub-runbook that
    // might, needs the walk: most runs skip a second read of their files.
    let may_read = |step: &Step| {
        matches!(
            step.source,
            Source::ConfigMap { .. } | Source::Secret(SecretRef::Kubernetes { .. }) | Source::Runbook { .. }
        )
    };
    if !cfg!(feature = "kubernetes") || !runbook.steps.iter().any(may_read) {
        return Vec::new();
    }
    let mut host = host.clone();
    host.secrets.cluster.clear();
    host.secrets.registry = None;
    consent_asks(runbook, &host).map(|(asks, _)| asks).unwrap_or_default()
}

/// Reads the runbook at `path` and checks it against this host: what
/// `runbox validate` reports and a server's validate endpoint answers.
pub fn validate(path: &Path, host: &Host) -> Result<(Runbook, Plan), Invalid> {
    let runbook = parse::load(path)?;
    let plan = check(&runbook, host).map_err(|problems| Invalid { file: path.to_path_buf(), problems })?;
    Ok((runbook, plan))
}

/// Templates must read declared inputs and earlier steps.
fn check_templates(runbook: &Runbook, step: &Step, earlier: &[Step], script: &Resolved, problems: &mut Vec<Problem>) {
    // (text, its line in the runbook, whether its own lines count from there)
    let mut texts: Vec<(&str, usize, bool)> = vec![];
    // A secret's text is not shown, not even in a message about a template.
    if !script.is_secret() {
        texts.push((&script.text, step.line, matches!(step.source, Source::Inline(_))));
    }
    texts.extend(step.args.iter().map(|a| (a.as_str(), step.line, false)));
    texts.extend(step.env.iter().map(|(_, v)| (v.as_str(), step.line, false)));
    if let Source::Runbook { inputs, .. } = &step.source {
        texts.extend(inputs.iter().map(|(_, v)| (v.as_str(), step.line, false)));
    }
    texts.extend(step.cwd.iter().map(|c| (c.as_str(), step.line, false)));
    for (text, base, offsets) in texts {
        let (references, errors) = template::references(text);
        for e in errors {
            let line = if offsets { base + e.line } else { base };
            problems.push(Problem::new(line, format!("step `{}`: {}", step.name, e.message)));
        }
        for (r, offset) in references {
            let line = if offsets { base + offset } else { base };
            let name = &r.path[0];
            let known = match r.root.as_str() {
                "inputs" => runbook.inputs.iter().any(|i| &i.name == name),
                _ => earlier.iter().any(|s| &s.name == name),
            };
            if !known {
                let what = if r.root == "inputs" {
                    format!("no input is named `{name}`")
                } else if name == &step.name {
                    "a step cannot read its own output".to_string()
                } else if runbook.steps.iter().any(|s| &s.name == name) {
                    format!("step `{name}` does not run before `{}`", step.name)
                } else {
                    format!("no step is named `{name}`")
                };
                let problem = Problem::new(line, format!("step `{}`: `{{{{ {} }}}}`: {what}", step.name, r.written));
                problems.push(problem.marking(r.written.clone()));
            }
        }
    }
}
