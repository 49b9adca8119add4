//! The record store: every execution's record, kept where it can be queried
//! (a runbook's past executions, a server's executions by id, by runbook, by
//! status), the status of those still running and the server that runs them,
//! and a finished execution's events for its followers. By default one
//! SQLite file in runbox's state directory ([`default_path`]), which
//! `runbox run` and `runbox serve` write to alike; for servers on several
//! machines, a PostgreSQL database (`postgres://…`). The JSON-lines log
//! stays beside it as the export for log shippers.
//!
//! The store knows executions as rows of plain data; what a run reports and
//! how it ended is `run/`'s to say.

mod postgres;
mod rows;
mod sqlite;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use postgres::Postgres;
pub use rows::{
    CANCEL_POLL, Filter, HEARTBEAT, LIVE_PAGE, Live, LiveEvent, Replica, Retention, Row, Status, StoreError,
};
pub use sqlite::Sqlite;

use rows::{Write, now_ms};

/// `$RUNBOX_STORE`, else `executions.db` in runbox's state directory.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RUNBOX_STORE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Some(crate::state::state_dir()?.join("executions.db"))
}

/// Whether `location` names a PostgreSQL database (`postgres://…` or
/// `postgresql://…`) rather than a SQLite file.
pub fn is_database(location: &Path) -> bool {
    location.to_str().is_some_and(postgres::is_url)
}

/// The store, shared by a process's runs and requests.
#[derive(Debug)]
pub enum Store {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// Opens the store at `location`: a PostgreSQL database for a
/// `postgres://` URL (connected and migrated), else a SQLite file (created
/// with its folder, private to this user, and migrated).
pub fn open(location: &Path) -> Result<Store, StoreError> {
    match location.to_str().filter(|l| postgres::is_url(l)) {
        Some(url) => Postgres::open(url).map(Store::Postgres),
        None => Sqlite::open(location).map(Store::Sqlite),
    }
}

/// The same call on either backend.
macro_rules! each {
    ($store:expr, $backend:ident => $call:expr) => {
        match $store {
            Store::Sqlite($backend) => $call,
            Store::Postgres($backend) => $call,
        }
    };
}

impl Store {
    /// Applies `write` in a transaction of the store's writer, once it is
    /// committed; how many rows it changed.
    fn write(&self, write: Write) -> Result<usize, StoreError> {
        each!(self, s => s.write(write))
    }

    /// Its file, for a SQLite store (no step may reach it).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Store::Sqlite(sqlite) => Some(sqlite.path()),
            Store::Postgres(_) => None,
        }
    }

    /// The store as messages name it: its file, or its database's URL
    /// without the password.
    pub fn name(&self) -> String {
        match self {
            Store::Sqlite(sqlite) => sqlite.path().display().to_string(),
            Store::Postgres(postgres) => postgres.name().to_string(),
        }
    }

    /// Whether this process made the store (it was not there, or empty).
    pub fn created(&self) -> bool {
        each!(self, s => s.created())
    }

    /// Adds ended executions' rows in one transaction (records kept before
    /// the store was).
    pub fn import(&self, rows: Vec<Row>) -> Result<usize, StoreError> {
        self.write(Write::Import(rows))
    }

    /// Records a running execution of `replica`'s.
    pub fn start(&self, row: &Row, replica: &Replica) -> Result<(), StoreError> {
        self.write(Write::Start(row.clone(), replica.id.clone())).map(drop)
    }

    /// Records how an execution ended: its running row if the store has
    /// one, else a new one (a run of `runbox run`, a sub-runbook's).
    pub fn finish(&self, row: &Row) -> Result<(), StoreError> {
        self.write(Write::Finish(row.clone())).map(drop)
    }

    /// Says that `replica` is alive now.
    pub fn beat(&self, replica: &Replica) -> Result<(), StoreError> {
        self.write(Write::Beat(replica.clone(), now_ms())).map(drop)
    }

    /// Marks as interrupted the running executions of servers that are gone:
    /// those whose heartbeat is older than `lapse`, and those of this host
    /// whose process has ended (a server restarted after `kill -9`).
    /// Returns how many it marked.
    pub fn sweep(&self, me: &Replica, lapse: Duration) -> Result<usize, StoreError> {
        let lapse = i64::try_from(lapse.as_millis()).unwrap_or(i64::MAX);
        self.write(Write::Sweep { me: me.clone(), now: now_ms(), lapse })
    }

    /// Lets finished executions go past `retention`; returns how many went.
    pub fn prune(&self, retention: Retention) -> Result<usize, StoreError> {
        self.write(Write::Prune(retention, now_ms()))
    }

    /// Asks the server running `id` to cancel it for `by` (it looks every
    /// [`CANCEL_POLL`]); false if it is not running.
    pub fn request_cancel(&self, id: &str, by: &str) -> Result<bool, StoreError> {
        self.write(Write::Cancel(id.to_string(), by.to_string())).map(|n| n > 0)
    }

    /// Keeps running executions' newest events (numbers already kept are
    /// left as they are).
    pub fn live(&self, live: Vec<Live>) -> Result<(), StoreError> {
        self.write(Write::Events(live)).map(drop)
    }

    /// An execution's events kept while it ran, after number `after`, at
    /// most [`LIVE_PAGE`]; none once it has ended (its row has them all).
    pub fn live_events(&self, id: &str, after: u64) -> Result<Vec<LiveEvent>, StoreError> {
        each!(self, s => s.live_events(id, after))
    }

    /// The executions `replica` runs that someone asked to cancel, and who.
    pub fn cancels(&self, replica: &Replica) -> Result<Vec<(String, String)>, StoreError> {
        each!(self, s => s.cancels(replica))
    }

    /// How many other servers share the store (those that beat and were
    /// not yet found gone).
    pub fn others(&self, me: &Replica) -> Result<usize, StoreError> {
        each!(self, s => s.others(me))
    }

    /// Whether the store answers a read.
    pub fn check(&self) -> Result<(), StoreError> {
        each!(self, s => s.check())
    }

    /// The execution `id` with its record (the newest, should two share it:
    /// deterministic runs reuse their ids).
    pub fn get(&self, id: &str) -> Result<Option<Row>, StoreError> {
        each!(self, s => s.get(id))
    }

    /// A finished execution's events, if it has any kept.
    pub fn events(&self, id: &str) -> Result<Option<String>, StoreError> {
        each!(self, s => s.events(id))
    }

    /// Executions `filter` selects, newest first, without their records
    /// unless `records`.
    pub fn list(&self, filter: &Filter, records: bool) -> Result<Vec<Row>, StoreError> {
        each!(self, s => s.list(filter, records))
    }
}
