//! How a [`Runner`](super::Runner) runs runbooks: its [`Config`] (limits,
//! grants, state locations, budgets, deterministic mode) and the defaults
//! every front end starts from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;

use super::records::{history, record};
use super::seams::caller::Caller;
use super::seams::clock::{Clock, Fixed};
use super::sub_runbooks::tree;
use crate::model::cluster::Executor;
use crate::model::limits::{LimitOverrides, Limits};
use crate::plan::consent::{ConsentStore, Grants};
use crate::plan::sources::Secrets;
use crate::sandbox::{GuestCache, Virtual};
use crate::state::Protected;
use crate::store::Store;

/// How a [`Runner`](super::Runner) runs runbooks.
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
    /// The record store every run's record is kept in (no mount may reach
    /// it either); none for a library's runner unless it gives one.
    pub store: Option<Arc<Store>>,
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
    /// Guest instances kept warm between steps: a pool of this many slots
    /// (at most 1024), each keeping the memory its last step wrote (up to
    /// 16 MiB) mapped and reset in place, so that the next step faults none
    /// of it in. Worth it where many steps run, at once or one after
    /// another (a server sets it to its concurrency); steps past the pool
    /// run as with 0, the default, where each step maps its memory afresh.
    pub warm_instances: usize,
    /// `--executor kubernetes`: `image_ref` steps run as Kubernetes Jobs,
    /// in the images it allows.
    pub executor: Option<Executor>,
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
    pub(super) fn ids(&self) -> Fixed {
        Fixed {
            at: self.clock,
            correlation_id: format!("00000000-0000-4000-8000-{:012x}", self.seed & 0xffff_ffff_ffff),
            user: "runbox".into(),
        }
    }
}

/// Deterministic mode's clock and caller: fixed, and the handles scripts read
/// drawn from the seed (a random one would change their fuel).
pub(super) struct Seeded {
    pub(super) fixed: Fixed,
    pub(super) time: Virtual,
    /// Execution ids handed out so far: the next one's number. Not drawn
    /// from `time`'s generators, which would change what guests draw.
    pub(super) executions: std::sync::atomic::AtomicU64,
}

impl Clock for Seeded {
    fn now(&self) -> OffsetDateTime {
        self.fixed.now()
    }
}

impl Caller for Seeded {
    fn correlation_id(&self) -> String {
        self.fixed.correlation_id()
    }

    fn user(&self) -> String {
        self.fixed.user()
    }

    /// A UUIDv7 at the fixed clock, numbered from the seed.
    fn execution_id(&self) -> String {
        let n = self.executions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let millis = u64::try_from(self.fixed.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let mut random = [0u8; 10];
        random[..2].copy_from_slice(&(self.time.seed() as u16).to_be_bytes());
        random[2..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().to_string()
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
            history_keep: history::DEFAULT_KEEP,
            cache: GuestCache::default_location(),
            env: HashMap::new(),
            grants: Grants::default(),
            consent: ConsentStore::default_location(),
            log: record::default_log_path(),
            store: None,
            secrets: Secrets::default(),
            output_budget: DEFAULT_OUTPUT_BUDGET,
            deadline: None,
            max_recursion_depth: MAX_RECURSION_DEPTH,
            max_sub_runbooks: tree::MAX_SUB_RUNBOOKS,
            max_tree_log: tree::MAX_TREE_LOG,
            api_base_url: DEFAULT_API_BASE_URL.to_string(),
            deterministic: None,
            native_helper: crate::native::default_helper(),
            warm_instances: 0,
            executor: None,
        }
    }
}

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
        if let Some(store) = self.store.as_ref().and_then(|s| s.path()) {
            // SQLite keeps its journal and shared memory beside the file.
            for suffix in ["", "-wal", "-shm"] {
                let mut path = store.as_os_str().to_owned();
                path.push(suffix);
                protected.push(Protected::new(Path::new(&path), "record store"));
            }
        }
        if let Some(dir) = self.consent.dir() {
            protected.push(Protected::new(dir, "consent store"));
        }
        protected
    }
}
