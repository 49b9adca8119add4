//! One script outside a runbook (`runbox sh`, `runbox js`): a host
//! directory as its working directory, the extra mounts, variables and
//! hosts the caller gives, the process's stdin if asked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::runner::Runner;
use super::seams::LiveEvents;
use crate::error::Failure;
use crate::model::limits::Limits;
use crate::model::net::NetPolicy;
use crate::run::workspace::Workspace;
use crate::sandbox::{Live, Mount, Script, StepContext};
use crate::state::{real, refuse_state};

/// A script and what it may touch.
#[derive(Clone, Debug)]
pub struct Single {
    pub script: Script,
    /// The caller's current directory, mounted read-write as the script's
    /// working directory.
    pub dir: PathBuf,
    /// Also mounted read-only, each at its own absolute path.
    pub read: Vec<PathBuf>,
    /// Also mounted read-write, each at its own absolute path.
    pub write: Vec<PathBuf>,
    /// The only environment variables the script sees.
    pub env: Vec<(String, String)>,
    pub net: NetPolicy,
    pub limits: Limits,
    /// Hand the process's stdin to the script.
    pub stdin: bool,
}

/// What the script did: the shape of a step in a run's `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct SingleReport {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    pub duration_ms: f64,
    pub fuel_consumed: u64,
    /// The sandbox's linear memory at its largest, in bytes (not for a
    /// native step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_peak: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
}

impl Runner {
    /// Runs `single`. Mounting a directory that holds or lies inside
    /// runbox's own state is refused, as for runbooks.
    pub fn run_single(&self, single: Single) -> anyhow::Result<SingleReport> {
        let protected = self.config.protected();
        refuse_state(&real(&single.dir), &protected).map_err(|why| {
            anyhow::anyhow!(
                "cannot mount the current directory as the script's working directory: {why}; \
                 run it from a project directory"
            )
        })?;
        let mut extra = Vec::new();
        for (dirs, writable) in [(&single.read, false), (&single.write, true)] {
            for dir in dirs {
                extra.push(extra_mount(dir, writable, &protected)?);
            }
        }
        let workspace = Workspace::at(&single.dir, extra)?;
        let variables = single.env.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let context = StepContext {
            variables,
            steps: Default::default(),
            env: single.env,
            mounts: workspace.mounts().to_vec(),
            correlation_id: self.seams.caller.correlation_id(),
            recursion_stack: vec![single.script.filename.clone()],
            net: single.net,
            stdin: single.stdin,
            calls: None,
            cancel: self.seams.cancel.clone(),
            virtual_time: self.virtual_time.clone(),
            deadline: None,
        };
        // A one-off script's variables are the caller's own: nothing to mask.
        let live = Arc::new(LiveEvents::new(Arc::clone(&self.seams.events), Default::default()));
        if self.sandbox.cold(single.script.language, self.virtual_time.is_some()) {
            self.seams.events.preparing(single.script.language);
        }
        let outcome = self.sandbox.run(&single.script, &context, single.limits, Some(live.clone() as Arc<dyn Live>));
        live.flush();
        Ok(SingleReport {
            exit_code: outcome.exit_code,
            stdout: outcome.stdout.text,
            stderr: outcome.stderr.text,
            duration_ms: outcome.duration.as_secs_f64() * 1000.0,
            fuel_consumed: outcome.fuel_consumed,
            memory_peak: outcome.memory_peak,
            result: outcome.result,
            error: outcome.error,
        })
    }
}

/// `dir` mounted at its own absolute path.
fn extra_mount(dir: &Path, writable: bool, protected: &[crate::state::Protected]) -> anyhow::Result<Mount> {
    let cannot = |why: String| anyhow::anyhow!("cannot mount {}: {why}", dir.display());
    let host = dir.canonicalize().map_err(|e| cannot(e.to_string()))?;
    if !host.is_dir() {
        return Err(cannot("not a directory".into()));
    }
    refuse_state(&host, protected).map_err(cannot)?;
    let guest = host.to_string_lossy().into_owned();
    Mount::open(&host, guest, writable).map_err(|e| cannot(e.to_string()))
}
