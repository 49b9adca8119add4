//! The record store: every execution's record, kept where it can be queried
//! (a runbook's past executions, a server's executions by id, by runbook, by
//! status), the status of those still running and the server that runs them,
//! and a finished execution's events for its followers. One SQLite file in
//! runbox's state directory ([`default_path`]); `runbox run` and `runbox
//! serve` write to the same one. The JSON-lines log stays beside it as the
//! export for log shippers.
//!
//! The store knows executions as rows of plain data; what a run reports and
//! how it ended is `run/`'s to say.

mod rows;
mod sqlite;

use std::path::{Path, PathBuf};

pub use rows::{CANCEL_POLL, Filter, HEARTBEAT, Replica, Retention, Row, Status, StoreError};
pub use sqlite::Sqlite;

/// `$RUNBOX_STORE`, else `executions.db` in runbox's state directory.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RUNBOX_STORE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Some(crate::state::state_dir()?.join("executions.db"))
}

/// The store, shared by a process's runs and requests.
pub type Store = Sqlite;

/// Opens the store at `path` (creating it and its folder, private to this
/// user), migrated to this runbox's schema.
pub fn open(path: &Path) -> Result<Store, StoreError> {
    Sqlite::open(path)
}
