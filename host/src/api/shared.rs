//! What a server is configured with, and what every handler shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::auth::Keys;
use super::executions::Executions;
use super::metrics::Metrics;
use super::spans::Spans;
use crate::run::Runner;
use crate::sandbox::Cancel;
use crate::store::{Replica, Retention, Store};

/// How a server serves.
#[derive(Clone)]
pub struct ServeConfig {
    /// The folder whose runbooks are served (by file name).
    pub dir: PathBuf,
    pub keys: Keys,
    /// Executions at once; more are answered 503 with `Retry-After`.
    pub max_concurrent: usize,
    /// No step of a request's execution runs past this.
    pub request_timeout: Duration,
    /// Request bodies larger than this are refused (413).
    pub max_body: usize,
    /// A connection must send a request's head within this, also while it
    /// is kept alive between requests, and then its body within this again;
    /// otherwise it is closed.
    pub header_timeout: Duration,
    /// Connections one peer address may hold at once; more are closed as
    /// they are accepted.
    pub max_connections_per_peer: usize,
    /// What the record store keeps of finished executions.
    pub retention: Retention,
    /// A server that has not beaten for this long is taken as dead: its
    /// running executions are marked interrupted.
    pub lapse: Duration,
}

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) config: ServeConfig,
    /// The operator's configuration and grants, and the compiled guests.
    pub(crate) runner: Runner,
    /// An execution holds one from its start to its end, whether or not its
    /// caller waits.
    pub(crate) slots: Arc<Semaphore>,
    /// Tripped at shutdown: running steps stop and are recorded as
    /// interrupted. Each execution's own token is its child.
    pub(crate) cancel: Cancel,
    pub(crate) executions: Executions,
    pub(crate) metrics: Metrics,
    /// The spans of requests, executions and steps, exported or not.
    pub(crate) spans: Spans,
    /// Every execution's record, this server's and others'.
    pub(crate) store: Arc<Store>,
    /// This server, as the store knows it.
    pub(crate) replica: Replica,
    /// Whether the store took the last heartbeat (`/ready`).
    pub(crate) store_alive: AtomicBool,
    /// Whether other servers shared the store at the last heartbeat (then
    /// running executions' events are kept in it for their followers).
    pub(crate) others_share: AtomicBool,
}
