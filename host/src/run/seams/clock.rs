//! Where a run's time comes from: the record's and History's timestamps.
//! The system's by default; deterministic mode and tests give a fixed one
//! ([`Fixed`], which names a fixed caller too).

use time::OffsetDateTime;

/// The time a run records.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, random v4 ids and `$USER`.
#[derive(Clone, Copy, Debug, Default)]
pub struct System;

impl Clock for System {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
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
