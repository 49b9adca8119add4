//! What the store keeps, as plain data: an execution's row and its status,
//! a listing's filter, a server's identity and
//! heartbeat, the retention, the writes a store is asked for, and the
//! store's errors; and how both backends put them in columns.

use serde::{Deserialize, Serialize};

use crate::model::ClaimRequirement;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where an execution is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    /// Every step ran and the last exited 0.
    Succeeded,
    /// A step failed (its exit status is the execution's).
    Failed,
    /// Refused before any step ran (invalid, not granted, Required Claims).
    Refused,
    /// Stopped by an API caller.
    Cancelled,
    /// Stopped by a signal or a server's shutdown, or left running by a
    /// server that died.
    Interrupted,
}

impl Status {
    const ALL: [Status; 6] =
        [Status::Running, Status::Succeeded, Status::Failed, Status::Refused, Status::Cancelled, Status::Interrupted];

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == text)
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Refused => "refused",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
        }
    }
}

/// One execution as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Its id (a UUIDv7: ids sort by start).
    pub id: String,
    /// The execution whose step ran it, for a sub-runbook's.
    pub parent_id: Option<String>,
    /// The runbook's file name.
    pub runbook: String,
    /// The runbook's name.
    pub name: String,
    pub status: Status,
    pub by_user: String,
    pub correlation_id: String,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub exit_code: Option<i32>,
    pub cancelled_by: Option<String>,
    /// The runbook's Required Claims when it started: who may see it.
    pub claims: Vec<ClaimRequirement>,
    /// The JSON record, once it has ended (not read by a listing).
    pub record: Option<String>,
    /// Its events, for followers once it has ended (written with its
    /// record, never read back into a row: [`super::Sqlite::events`]).
    pub events: Option<String>,
}

impl Row {
    pub fn started(&self) -> String {
        rfc3339(self.started_at)
    }

    pub fn finished(&self) -> Option<String> {
        self.finished_at.map(rfc3339)
    }
}

/// `at` as RFC 3339, to the millisecond.
fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(u32::from(at.millisecond()) * 1_000_000).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

/// What a listing selects, newest first.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// A runbook's file name.
    pub runbook: Option<String>,
    /// A runbook's name too (a runbook's history: its file and its name).
    pub name: Option<String>,
    pub status: Option<Status>,
    pub correlation_id: Option<String>,
    pub parent_id: Option<String>,
    /// Started at or after.
    pub since: Option<OffsetDateTime>,
    /// Ids before this one.
    pub before: Option<String>,
    pub limit: usize,
}

/// How often a server looks for cancels of its executions asked through
/// another server.
pub const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// A server beats this often, and its running executions are taken as
/// interrupted once it has not beaten for the server's lapse (at least two
/// beats).
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// A server process that runs executions, by its heartbeat.
#[derive(Clone, Debug)]
pub struct Replica {
    /// This process's own id.
    pub id: String,
    /// Where its pid means something: the host's name, its boot and the
    /// process's PID namespace (containers on one node may share a host
    /// name, and clones of a machine its name and namespace numbers).
    pub host: String,
    pub pid: u32,
}

impl Replica {
    /// This process.
    pub fn this() -> Replica {
        let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let namespace = std::fs::read_link("/proc/self/ns/pid").unwrap_or_default();
        // Without either, no other server's pid is taken as this host's.
        let host = match (boot.trim(), namespace.to_string_lossy()) {
            ("", _) | (_, std::borrow::Cow::Borrowed("")) => format!("{name} {}", uuid::Uuid::new_v4()),
            (boot, namespace) => format!("{name} {boot} {namespace}"),
        };
        Replica { id: uuid::Uuid::now_v7().to_string(), host, pid: std::process::id() }
    }

    /// Whether the server `host`/`pid` that last beat at `beat` (ms) is
    /// gone, as this one sees it at `now`: its process of this host has
    /// ended (or is this one: a pid reused after a restart), or it has not
    /// beaten for `lapse` ms.
    pub(super) fn sees_gone(&self, host: &str, pid: i64, beat: i64, now: i64, lapse: i64) -> bool {
        let ended_here = host == self.host && (pid == i64::from(self.pid) || !alive(pid));
        ended_here || now - beat > lapse
    }
}

/// Whether process `pid` of this host is still there.
fn alive(pid: i64) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

/// What the store keeps at most, applied by [`Store::prune`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Finished executions kept per runbook, the newest.
    pub per_runbook: Option<usize>,
    /// Finished executions older than this many seconds go.
    pub max_age_secs: Option<u64>,
}

/// A write the store is asked for; each backend applies it in a
/// transaction of its writer's.
pub(super) enum Write {
    Start(Row, String),
    Finish(Row),
    Beat(Replica, i64),
    Sweep {
        me: Replica,
        now: i64,
        lapse: i64,
    },
    Prune(Retention, i64),
    Cancel(String, String),
    Import(Vec<Row>),
    /// Running executions' newest events, for followers on other servers.
    Events(Vec<Live>),
}

/// A running execution's events from number `first` on (each its kind and
/// JSON), kept while it runs so that followers of other servers see them.
#[derive(Clone, Debug)]
pub struct Live {
    pub id: String,
    pub first: u64,
    pub events: Vec<(String, String)>,
}

/// One kept event of a running execution: its number, kind and JSON.
pub type LiveEvent = (u64, String, String);

/// Events a read of a running execution's returns at most.
pub const LIVE_PAGE: usize = 1000;

/// A value a listing's condition compares with.
pub(super) enum Value {
    Text(String),
    Integer(i64),
}

impl Filter {
    /// The listing's conditions: a column and its comparison, each before
    /// the placeholder of its value.
    pub(super) fn conditions(&self) -> Vec<(&'static str, Value)> {
        let mut conditions = Vec::new();
        let text = |value: &String| Value::Text(value.clone());
        conditions.extend(self.runbook.as_ref().map(|v| ("runbook = ", text(v))));
        conditions.extend(self.name.as_ref().map(|v| ("name = ", text(v))));
        conditions.extend(self.status.map(|v| ("status = ", Value::Text(v.name().into()))));
        conditions.extend(self.correlation_id.as_ref().map(|v| ("correlation_id = ", text(v))));
        conditions.extend(self.parent_id.as_ref().map(|v| ("parent_id = ", text(v))));
        conditions.extend(self.since.map(|v| ("started_ms >= ", Value::Integer(millis(v)))));
        conditions.extend(self.before.as_ref().map(|v| ("id < ", text(v))));
        conditions
    }
}

/// A Required Claim as the `claims` column keeps it (JSON): the claim and
/// the values of which a caller's token needs one.
#[derive(Serialize, Deserialize)]
struct Claim {
    claim: String,
    values: Vec<String>,
}

/// `claims` as the `claims` column keeps them.
pub(super) fn claims_column(claims: &[ClaimRequirement]) -> String {
    let claims: Vec<Claim> =
        claims.iter().map(|c| Claim { claim: c.claim.clone(), values: c.values.clone() }).collect();
    serde_json::to_string(&claims).unwrap_or_else(|_| "[]".into())
}

/// The claims of a `claims` column.
pub(super) fn claims_of(column: &str) -> Vec<ClaimRequirement> {
    serde_json::from_str::<Vec<Claim>>(column)
        .unwrap_or_default()
        .into_iter()
        .map(|c| ClaimRequirement { claim: c.claim, values: c.values, line: 0 })
        .collect()
}

/// The status of a `status` column: one this runbox does not know was
/// written by a newer one.
pub(super) fn status_of(column: &str) -> Status {
    Status::parse(column).unwrap_or(Status::Interrupted)
}

/// An instant as the store keeps it: milliseconds since the epoch.
pub(super) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(super) fn instant(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(super) fn now_ms() -> i64 {
    millis(OffsetDateTime::now_utc())
}

/// The store could not do what was asked: it names the store.
#[derive(Debug, thiserror::Error)]
#[error("the record store {store}: {message}")]
pub struct StoreError {
    pub store: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::Replica;

    #[test]
    fn a_server_of_another_pid_namespace_or_boot_is_not_taken_for_gone_by_its_pid() {
        let me = Replica::this();
        let dead = i64::from(i32::MAX);
        let (beat, now, lapse) = (1_000, 2_000, 30_000);
        assert!(me.sees_gone(&me.host, dead, beat, now, lapse), "a dead process of this host");
        let name = me.host.split(' ').next().unwrap();
        for elsewhere in [format!("{name} another-boot pid:[4026531836]"), name.to_string()] {
            assert!(!me.sees_gone(&elsewhere, dead, beat, now, lapse), "{elsewhere}");
            assert!(me.sees_gone(&elsewhere, dead, beat, beat + lapse + 1, lapse), "lapsed: {elsewhere}");
        }
    }
}
