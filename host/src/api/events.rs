//! What an execution tells its followers (`GET /api/executions/{id}/events`):
//! one log of numbered events per execution, appended by the run (as its
//! [`Events`] seam) and read by every follower from its own position, so
//! any number of followers cost one copy of the output. Output arrives
//! masked (the runner masks before its seams see it) and in whole UTF-8
//! characters; past [`MAX_LOG_BYTES`] further output is left to the report.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::error::Failure;
use crate::model::Step;
use crate::run::records::report::StepReport;
use crate::run::seams::events::Events;
use crate::sandbox::Stream;
use crate::store::{LIVE_PAGE, LiveEvent};

/// Output one execution's log keeps for its followers; the report keeps
/// what the run's output caps allow, whatever this drops.
pub(crate) const MAX_LOG_BYTES: usize = 16 << 20;

/// The kinds of event there are.
const KINDS: [&str; 6] = ["step_started", "output", "step_finished", "step_refused", "notice", "execution_finished"];

/// The events [`EventLog::stored`] made, numbered from 1.
pub(crate) fn numbered(stored: Option<&str>) -> Vec<LiveEvent> {
    let events: Vec<(String, String)> = stored.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    (1..).zip(events).map(|(seq, (kind, data))| (seq, kind, data)).collect()
}

/// The kind of a kept event's name (a kind this runbox does not know, from
/// a newer one, is a notice).
fn kind_named(name: &str) -> &'static str {
    KINDS.into_iter().find(|k| *k == name).unwrap_or("notice")
}

/// One event: its number (SSE's `id`, from 1), its kind (SSE's `event`) and
/// its JSON (SSE's `data`).
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) id: u64,
    pub(crate) kind: &'static str,
    pub(crate) data: String,
}

/// An execution's events so far; closed when it has ended.
#[derive(Default)]
pub(crate) struct EventLog {
    log: Mutex<Log>,
    changed: Notify,
}

#[derive(Default)]
struct Log {
    events: Vec<Arc<Event>>,
    bytes: usize,
    closed: bool,
    /// Output was dropped past the cap (said once).
    dropped: bool,
    /// The step whose output arrives.
    step: String,
    /// Per stream, the bytes of a character split between two writes.
    partial: [Vec<u8>; 2],
    /// Events up to this number are in the store.
    stored_until: u64,
}

impl EventLog {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an event of `kind` (ignored once closed).
    pub(crate) fn push(&self, kind: &'static str, data: &Value) {
        let mut log = self.lock();
        if !log.closed {
            log.append(kind, data.to_string());
        }
        drop(log);
        self.changed.notify_waiters();
    }

    /// Appends the last event; followers get what is left, then the end.
    pub(crate) fn close(&self, kind: &'static str, data: &Value) {
        let mut log = self.lock();
        if !log.closed {
            log.flush_partial();
            log.append(kind, data.to_string());
            log.closed = true;
        }
        drop(log);
        self.changed.notify_waiters();
    }

    /// Its events as the store keeps them once the execution has ended: a
    /// JSON array of `[kind, data]`.
    pub(crate) fn stored(&self) -> String {
        let log = self.lock();
        let events: Vec<(&str, &str)> = log.events.iter().map(|e| (e.kind, e.data.as_str())).collect();
        serde_json::to_string(&events).unwrap_or_else(|_| "[]".into())
    }

    /// The events the store does not have yet (at most [`LIVE_PAGE`]),
    /// from their first number on.
    pub(crate) fn unstored(&self) -> Option<(u64, Vec<(String, String)>)> {
        let log = self.lock();
        let start = usize::try_from(log.stored_until).unwrap_or(usize::MAX).min(log.events.len());
        let end = log.events.len().min(start + LIVE_PAGE);
        let events: Vec<(String, String)> =
            log.events[start..end].iter().map(|e| (e.kind.to_string(), e.data.clone())).collect();
        (!events.is_empty()).then(|| (log.stored_until + 1, events))
    }

    /// Says that the store has the events up to number `until`.
    pub(crate) fn stored_until(&self, until: u64) {
        let mut log = self.lock();
        log.stored_until = log.stored_until.max(until);
    }

    /// Appends events another server kept in the store, each numbered;
    /// those this log has already are left.
    pub(crate) fn push_kept(&self, kept: Vec<LiveEvent>) {
        let mut log = self.lock();
        log.append_kept(kept);
        drop(log);
        self.changed.notify_waiters();
    }

    /// Appends the last of an ended execution's kept events and closes the
    /// log, with `end` as its last event when they lack one.
    pub(crate) fn end_kept(&self, kept: Vec<LiveEvent>, end: &Value) {
        let mut log = self.lock();
        log.append_kept(kept);
        if !log.closed && log.events.last().is_none_or(|e| e.kind != "execution_finished") {
            log.append("execution_finished", end.to_string());
        }
        log.closed = true;
        drop(log);
        self.changed.notify_waiters();
    }

    /// Bytes this log holds.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// The `step_finished` events' steps so far: the report of a running
    /// execution.
    pub(crate) fn finished_steps(&self) -> Vec<Value> {
        let log = self.lock();
        let finished = log.events.iter().filter(|e| e.kind == "step_finished");
        finished.filter_map(|e| serde_json::from_str(&e.data).ok()).collect()
    }

    /// The events after `after`, waiting for some if there are none yet;
    /// empty once the log is closed and all were read.
    pub(crate) async fn after(&self, after: u64) -> Vec<Arc<Event>> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let log = self.lock();
                let start = usize::try_from(after).unwrap_or(usize::MAX).min(log.events.len());
                if start < log.events.len() || log.closed {
                    return log.events[start..].to_vec();
                }
            }
            notified.await;
        }
    }

    fn output(&self, stream: Stream, bytes: &[u8]) {
        let mut log = self.lock();
        if log.closed || log.dropped {
            return;
        }
        let index = usize::from(matches!(stream, Stream::Stderr));
        let mut pending = std::mem::take(&mut log.partial[index]);
        pending.extend_from_slice(bytes);
        let whole = whole_characters(&pending);
        let text = String::from_utf8_lossy(&pending[..whole]).into_owned();
        log.partial[index] = pending[whole..].to_vec();
        if text.is_empty() {
            return;
        }
        if log.bytes + text.len() > MAX_LOG_BYTES {
            log.dropped = true;
            let message =
                format!("output past {MAX_LOG_BYTES} bytes is not streamed; the report has what the run kept");
            log.append("notice", json!({ "message": message }).to_string());
        } else {
            let data = json!({ "step": log.step, "stream": stream_name(stream), "text": text });
            log.append("output", data.to_string());
        }
        drop(log);
        self.changed.notify_waiters();
    }
}

impl Log {
    /// Appends the numbered events that follow this log's last.
    fn append_kept(&mut self, kept: Vec<LiveEvent>) {
        for (seq, kind, data) in kept {
            if !self.closed && seq == self.events.len() as u64 + 1 {
                self.append(kind_named(&kind), data);
            }
        }
    }

    fn append(&mut self, kind: &'static str, data: String) {
        self.bytes += data.len();
        let id = self.events.len() as u64 + 1;
        self.events.push(Arc::new(Event { id, kind, data }));
    }

    /// What is left of a split character, as the replacement character.
    fn flush_partial(&mut self) {
        for (index, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let partial = std::mem::take(&mut self.partial[index]);
            if !partial.is_empty() && !self.dropped {
                let text = String::from_utf8_lossy(&partial);
                let data = json!({ "step": self.step, "stream": stream_name(stream), "text": text });
                self.append("output", data.to_string());
            }
        }
    }
}

/// How many leading bytes of `bytes` are whole characters: all but an
/// incomplete sequence at the end (invalid bytes count as whole: they
/// become U+FFFD).
fn whole_characters(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(e) => {
            let invalid_end = e.valid_up_to() + e.error_len().unwrap_or(1);
            invalid_end + whole_characters(&bytes[invalid_end..])
        }
    }
}

fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

/// The run's seam that appends to an execution's log.
impl Events for EventLog {
    fn kept(&self) -> Option<String> {
        Some(self.stored())
    }

    fn step_started(&self, step: &Step) {
        let mut log = self.lock();
        log.flush_partial();
        log.step = step.name.clone();
        drop(log);
        self.push("step_started", &json!({ "step": step.name, "type": step.kind(), "line": step.line }));
    }

    fn output(&self, stream: Stream, bytes: &[u8]) {
        EventLog::output(self, stream, bytes);
    }

    fn step_finished(&self, step: &Step, report: &StepReport) {
        self.lock().flush_partial();
        // The step's report without its output, which was streamed.
        let data = json!({
            "step": step.name,
            "exit_code": report.exit_code,
            "duration_ms": report.duration_ms,
            "stdout_truncated": report.stdout_truncated,
            "stderr_truncated": report.stderr_truncated,
            "error": report.error,
        });
        self.push("step_finished", &data);
    }

    /// Only the code: the message (which may hold a value the mask has not
    /// seen yet) is in the report, masked.
    fn step_refused(&self, step: &Step, failure: &Failure) {
        self.push("step_refused", &json!({ "step": step.name, "code": failure.code }));
    }
}
