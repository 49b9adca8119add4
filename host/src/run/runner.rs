//! The [`Runner`]: what one holds (its configuration, seams, compiled
//! guests, deterministic time, the consent and budget a chain shares) and
//! how it is built. What it does with a runbook is in `run/mod.rs` and the
//! files beside it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;

use super::config::{Config, Seeded};
use super::seams::Seams;
use super::sub_runbooks::tree::Tree;
use crate::model::Language;
use crate::plan::fingerprint::Child;
use crate::sandbox::{Sandbox, Virtual};

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
    pub(super) config: Config,
    pub(super) seams: Seams,
    /// Shared with the runners of sub-runbooks.
    pub(super) sandbox: Arc<Sandbox>,
    /// Deterministic mode's virtual time, shared by every step this runner
    /// and its sub-runbooks' runners run.
    pub(super) virtual_time: Option<Virtual>,
    /// The sub-runbooks the runbooks of this chain name, as they were when
    /// the chain's first run was granted: they run under its grant.
    pub(super) covered: Arc<Vec<Child>>,
    /// What the run's tree of sub-runbooks has spent, shared by its chain;
    /// none until a run starts one.
    pub(super) tree: Option<Arc<Tree>>,
    /// The id the next run takes, when its front end chose it (a server
    /// names an execution before it starts); else the caller's new one.
    pub(super) execution_id: Option<String>,
    /// The execution whose step runs this runner's runs (a sub-runbook's).
    pub(super) parent_execution_id: Option<String>,
}

impl Runner {
    /// A runner with the default [`Seams`]: unattended, quiet, system time.
    pub fn new(config: Config) -> anyhow::Result<Runner> {
        Runner::with_seams(config, Seams::default())
    }

    /// In deterministic mode the clock and ids are fixed whatever `seams`
    /// says, and no History is written.
    pub fn with_seams(mut config: Config, mut seams: Seams) -> anyhow::Result<Runner> {
        let sandbox = Arc::new(Sandbox::warm(&config.cache, config.warm_instances)?);
        let virtual_time = match config.deterministic {
            Some(fixed) => {
                let since_epoch = fixed.clock - OffsetDateTime::UNIX_EPOCH;
                let start = std::time::Duration::try_from(since_epoch)
                    .map_err(|_| anyhow::anyhow!("--clock {}: give an instant after 1970", fixed.clock))?;
                let time = Virtual::new(fixed.seed, start);
                let ids = Arc::new(Seeded { fixed: fixed.ids(), time: time.clone(), executions: Default::default() });
                seams.clock = ids.clone();
                seams.caller = ids;
                config.history = false;
                Some(time)
            }
            None => None,
        };
        Ok(Runner {
            config,
            seams,
            sandbox,
            virtual_time,
            covered: Arc::default(),
            tree: None,
            execution_id: None,
            parent_execution_id: None,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Values for declared variables, before the process's own.
    pub fn set_env(&mut self, env: HashMap<String, String>) {
        self.config.env = env;
    }

    /// The id the next run records, instead of a new one.
    pub fn set_execution_id(&mut self, id: String) {
        self.execution_id = Some(id);
    }

    /// The id of a new run: the one set, else the caller's new one.
    pub(super) fn new_execution_id(&self) -> String {
        self.execution_id.clone().unwrap_or_else(|| self.seams.caller.execution_id())
    }

    /// This runner (its configuration and compiled guests) with other seams,
    /// and no step running past `deadline`: one per request of a server.
    pub fn with(&self, seams: Seams, deadline: Option<Instant>) -> Runner {
        let mut runner = self.clone();
        runner.seams = seams;
        runner.config.deadline = deadline;
        runner
    }

    /// Whether both guests' optimised code is compiled or cached: a step
    /// waits for nothing.
    pub fn prepared(&self) -> bool {
        [Language::JavaScript, Language::Shell].into_iter().all(|l| !self.sandbox.cold(l, true))
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
}
