//! The executions a server has started: each with its id, its caller, its
//! status, its events ([`EventLog`]), the token that cancels it, and its
//! report once it has ended. Every running execution is kept; of the
//! finished ones the newest, up to [`KEEP_FINISHED`] of them and
//! [`KEEP_FINISHED_BYTES`] of reports and events; the record store has
//! them all, and those of other servers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;

use super::events::EventLog;
use crate::model::{ClaimRequirement, Runbook};
use crate::run::records::report::RunReport;
use crate::sandbox::Cancel;
pub(crate) use crate::store::Status;

/// Finished executions a server keeps in memory.
pub(crate) const KEEP_FINISHED: usize = 1000;
/// What the finished executions kept may hold, reports and events together.
pub(crate) const KEEP_FINISHED_BYTES: usize = 256 << 20;

/// How an execution ended.
pub(crate) struct Ended {
    pub(crate) status: Status,
    pub(crate) finished_at: String,
    pub(crate) report: RunReport,
}

/// One execution of a runbook by a caller.
pub(crate) struct Execution {
    pub(crate) id: String,
    /// The runbook's file name in the served folder.
    pub(crate) runbook: String,
    pub(crate) by_user: String,
    pub(crate) correlation_id: String,
    pub(crate) started_at: OffsetDateTime,
    /// The runbook's Required Claims: who may see or cancel the execution.
    pub(crate) claims: Vec<ClaimRequirement>,
    pub(crate) cancel: Cancel,
    pub(crate) events: Arc<EventLog>,
    ended: watch::Sender<Option<Arc<Ended>>>,
}

impl Execution {
    /// Its end, if it has ended.
    pub(crate) fn ended(&self) -> Option<Arc<Ended>> {
        self.ended.borrow().clone()
    }

    /// Waits for its end.
    pub(crate) async fn finished(&self) -> Arc<Ended> {
        let mut ended = self.ended.subscribe();
        loop {
            if let Some(done) = ended.borrow_and_update().clone() {
                return done;
            }
            if ended.changed().await.is_err() {
                // The sender lives as long as `self`: unreachable, but never a hang.
                std::future::pending::<()>().await;
            }
        }
    }

    pub(crate) fn started_at(&self) -> String {
        self.started_at.format(&Rfc3339).unwrap_or_default()
    }

    /// Memory its report and events hold.
    fn bytes(&self) -> usize {
        // Its output twice: the report's and its steps'.
        let report = self.ended().map_or(0, |e| 2 * (e.report.stdout.len() + e.report.stderr.len()));
        self.events.bytes() + report
    }
}

/// The executions of one server.
#[derive(Default)]
pub(crate) struct Executions {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// By id: UUIDv7s sort by start, so the last is the newest.
    by_id: BTreeMap<String, Arc<Execution>>,
    /// The finished ones, in the order they finished, with their bytes.
    finished: VecDeque<(String, usize)>,
    finished_bytes: usize,
}

impl Executions {
    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new running execution of `runbook` by `by_user` in the chain
    /// `correlation_id`, cancelled when `server` is.
    pub(crate) fn start(
        &self,
        id: String,
        runbook: &Runbook,
        by_user: &str,
        correlation_id: &str,
        server: &Cancel,
    ) -> Arc<Execution> {
        let execution = Arc::new(Execution {
            id: id.clone(),
            runbook: runbook.file_name(),
            by_user: by_user.to_string(),
            correlation_id: correlation_id.to_string(),
            started_at: OffsetDateTime::now_utc(),
            claims: runbook.claims.clone(),
            cancel: server.child(),
            events: Arc::default(),
            ended: watch::Sender::new(None),
        });
        self.lock().by_id.insert(id, Arc::clone(&execution));
        execution
    }

    /// Records how `execution` ended, tells its followers and waiters, and
    /// lets the oldest finished executions go past what is kept.
    pub(crate) fn finish(&self, execution: &Execution, report: RunReport) -> Arc<Ended> {
        let status = report.status();
        let finished_at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        let data = serde_json::json!({ "status": status, "exit_code": report.exit_code });
        execution.events.close("execution_finished", &data);
        let ended = Arc::new(Ended { status, finished_at, report });
        execution.ended.send_replace(Some(Arc::clone(&ended)));
        let bytes = execution.bytes();
        let mut kept = self.lock();
        kept.finished.push_back((execution.id.clone(), bytes));
        kept.finished_bytes += bytes;
        while kept.finished.len() > KEEP_FINISHED || kept.finished_bytes > KEEP_FINISHED_BYTES {
            let Some((id, bytes)) = kept.finished.pop_front() else { break };
            kept.finished_bytes -= bytes;
            kept.by_id.remove(&id);
        }
        ended
    }

    /// The executions still running.
    pub(crate) fn running(&self) -> Vec<Arc<Execution>> {
        self.lock().by_id.values().filter(|e| e.ended().is_none()).cloned().collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Execution>> {
        self.lock().by_id.get(id).cloned()
    }
}
