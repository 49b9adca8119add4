//! What a step is given — its [`Script`] and [`StepContext`] — and what it
//! returns ([`Outcome`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::calls::Calls;
use super::cancel::Cancel;
use super::determinism::Virtual;
use super::mount::Mount;
use super::output::Captured;
use crate::error::Failure;
use crate::model::net::NetPolicy;
use crate::model::{Language, WORKDIR};

/// What a step sees of the execution it belongs to, and what stops it.
#[derive(Clone, Debug, Default)]
pub struct StepContext {
    /// Values `get(name)` returns, as JSON.
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// What `get('steps')` returns: earlier steps' results, shared rather
    /// than copied into every step.
    pub steps: Arc<serde_json::Map<String, serde_json::Value>>,
    /// The only environment variables the guest has.
    pub env: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    pub correlation_id: String,
    pub recursion_stack: Vec<String>,
    /// The hosts the step's `curl` and `fetch` may reach.
    pub net: NetPolicy,
    /// Hand the process's stdin to the guest (`runbox sh`/`js`); otherwise
    /// the guest's stdin is empty.
    pub stdin: bool,
    /// Stops the step when tripped.
    pub cancel: Cancel,
    /// Starts sub-runbooks for the step; none outside a runbook.
    pub calls: Option<Arc<dyn Calls>>,
    /// Deterministic mode: the run's virtual time and seed, which every
    /// clock and random source of the guest reads; and no network.
    pub virtual_time: Option<Virtual>,
    /// No later than this, whatever the step's timeout: the end of the step
    /// that called this sub-runbook.
    pub deadline: Option<Instant>,
}

/// A step's script.
#[derive(Clone, Debug)]
pub struct Script {
    pub language: Language,
    pub source: String,
    /// The name errors and stacks give the source, e.g. the runbook file;
    /// a shell script's `$0`.
    pub filename: String,
    /// The line of `filename` that holds the source's first line.
    pub first_line: u32,
    /// A shell script's positional parameters.
    pub args: Vec<String>,
    /// A shell script read from the file `filename` (`BASH_SOURCE[0]`).
    pub from_file: bool,
    /// The guest's working directory (an absolute path in the sandbox).
    pub cwd: String,
    /// The script comes from a secret: errors do not quote it.
    pub secret: bool,
}

impl Script {
    /// A script of `language` named `filename`, starting at line 1, run in
    /// the sandbox's working directory.
    pub fn new(language: Language, source: impl Into<String>, filename: impl Into<String>) -> Script {
        Script {
            language,
            source: source.into(),
            filename: filename.into(),
            first_line: 1,
            args: Vec::new(),
            from_file: false,
            cwd: WORKDIR.to_string(),
            secret: false,
        }
    }
}

/// What a guest's `run` returned.
pub(crate) enum Finished {
    Js(Option<String>),
    Sh(i32),
}

/// What a step did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub exit_code: i32,
    pub stdout: Captured,
    pub stderr: Captured,
    pub duration: Duration,
    pub fuel_consumed: u64,
    /// The sandbox's linear memory at its largest, in bytes; `None` for a
    /// native step.
    pub memory_peak: Option<u64>,
    /// The JSON of a JavaScript step's return value.
    pub result: Option<serde_json::Value>,
    pub error: Option<Failure>,
    /// A native step: what confined it.
    pub confinement: Option<String>,
    /// A step run as a Kubernetes Job: which, where, on what image.
    pub job: Option<crate::model::cluster::JobRecord>,
}

impl Outcome {
    /// A step that ran as a process outside the wasm sandbox (the native
    /// tier, a Kubernetes Job): no fuel, no linear memory, no result.
    pub fn outside(
        exit_code: i32,
        stdout: Captured,
        stderr: Captured,
        duration: Duration,
        error: Option<Failure>,
    ) -> Outcome {
        Outcome {
            exit_code,
            stdout,
            stderr,
            duration,
            fuel_consumed: 0,
            memory_peak: None,
            result: None,
            error,
            confinement: None,
            job: None,
        }
    }
}
