//! Where a run's time and identities come from: the record's and History's
//! timestamps, the correlation id, the user. The system's by default; a
//! deterministic mode supplies fixed ones.

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// The time a run records.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The ids a run records.
pub trait Ids: Send + Sync {
    /// A new execution's correlation id.
    fn correlation_id(&self) -> String;
    /// Who runs it.
    fn user(&self) -> String;
    /// Where the request came from, for a server.
    fn remote_ip(&self) -> Option<String> {
        None
    }
    /// The claims of the token an API caller presented, which a runbook's
    /// Required Claims are checked against; none when the local user runs
    /// (the local user is the authority, SPEC §3).
    fn claims(&self) -> Option<&Map<String, Value>> {
        None
    }
    /// A new run's `RUNBOOK_API_TOKEN`: an opaque handle that only that
    /// run's steps can use, toward the API base URL.
    fn api_handle(&self) -> String {
        format!("runbox-handle-{}", uuid::Uuid::new_v4().simple())
    }
}

/// The system clock, random v4 ids and `$USER`.
#[derive(Clone, Copy, Debug, Default)]
pub struct System;

impl Clock for System {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

impl Ids for System {
    fn correlation_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn user(&self) -> String {
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    }
}

/// The same instant and ids every time.
#[derive(Clone, Debug)]
pub struct Fixed {
    pub at: OffsetDateTime,
    pub correlation_id: String,
    pub user: String,
}

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.at
    }
}

impl Ids for Fixed {
    fn correlation_id(&self) -> String {
        self.correlation_id.clone()
    }

    fn user(&self) -> String {
        self.user.clone()
    }
}
