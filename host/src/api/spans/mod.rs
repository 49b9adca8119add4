//! What a request, an execution and its steps leave for a tracing backend:
//! the caller's W3C `traceparent` continued with a span of the server's
//! (answered in the response's `traceparent`), and, in a server built with
//! the `otel` feature whose `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, those spans exported over
//! OTLP/HTTP: one per request, one per execution under the request that
//! started it, one per step under its execution. Spans carry names, ids,
//! statuses, exit codes and error codes; never a step's output, an input,
//! a variable, an error's message or a token.

#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otel")]
use otel as export;
#[cfg(not(feature = "otel"))]
mod off;
#[cfg(not(feature = "otel"))]
use off as export;

use std::sync::Arc;

use axum::http::HeaderMap;

pub(crate) use export::Parent;
use export::{Export, Live, Running};

use super::executions::Execution;
use crate::api::executions::Status;
use crate::run::records::report::RunReport;
use crate::run::seams::events::Events;

/// The routes of health checks and scrapes, which make no span.
const PROBES: [&str; 3] = ["/health", "/ready", "/metrics"];

/// The server's exporter, if it exports.
pub(crate) struct Spans {
    export: Option<Export>,
}

impl Spans {
    /// An exporter when the `OTEL_*` variables ask for one (and the server
    /// was built to export); a variable it cannot use is an error naming it.
    pub(crate) fn from_env() -> anyhow::Result<Spans> {
        Ok(Spans { export: Export::from_env()? })
    }

    /// A request's span: the `traceparent` it continues, if it gave one.
    // Without the feature, an exporter has no value: its arm is unreachable.
    #[cfg_attr(not(feature = "otel"), allow(unreachable_code, unused_variables))]
    pub(crate) fn request(&self, headers: &HeaderMap, method: &str, route: &str) -> RequestSpan {
        let incoming = incoming(headers);
        match &self.export {
            // A probe every few seconds from each kubelet and Prometheus
            // would bury the traces worth reading.
            Some(export) if !PROBES.contains(&route) => {
                let live = export.request(incoming.as_ref(), method, route);
                RequestSpan { traceparent: Some(live.traceparent()), live: Some(live) }
            }
            _ => RequestSpan { traceparent: incoming.map(|t| t.continued(&own_span_id())), live: None },
        }
    }

    /// An execution's span, under the request that started it.
    pub(crate) fn execution(&self, parent: Option<&Parent>, execution: &Execution) -> ExecutionSpan {
        ExecutionSpan { running: self.export.as_ref().map(|export| export.execution(parent, execution)) }
    }

    /// Sends what is still queued (at shutdown).
    pub(crate) fn flush(&self) {
        if let Some(export) = &self.export {
            export.flush();
        }
    }
}

/// A request being answered.
pub(crate) struct RequestSpan {
    /// What the response's `traceparent` says.
    pub(crate) traceparent: Option<String>,
    live: Option<Live>,
}

impl RequestSpan {
    /// What an execution the request starts is parented to.
    pub(crate) fn parent(&self) -> Option<Parent> {
        self.live.as_ref().map(Live::parent)
    }

    pub(crate) fn end(self, answered: &Answered<'_>) {
        if let Some(live) = self.live {
            live.end(answered);
        }
    }
}

/// How a request was answered, as its span says.
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct Answered<'a> {
    pub(crate) status: u16,
    pub(crate) caller: Option<&'a str>,
    pub(crate) correlation_id: &'a str,
    pub(crate) execution_id: Option<&'a str>,
}

/// An execution running, with its span when the server exports.
pub(crate) struct ExecutionSpan {
    running: Option<Running>,
}

impl ExecutionSpan {
    /// The execution's events seam: `events`, and a span per step when the
    /// server exports.
    pub(crate) fn events(&self, events: Arc<dyn Events>) -> Arc<dyn Events> {
        match &self.running {
            Some(running) => running.events(events),
            None => events,
        }
    }

    pub(crate) fn end(self, status: Status, report: &RunReport) {
        if let Some(running) = self.running {
            running.end(status, report);
        }
    }
}

/// A valid W3C `traceparent` a request gave.
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct Incoming {
    version: String,
    trace_id: String,
    span_id: String,
    flags: String,
}

impl Incoming {
    /// The `traceparent` of a span of the server's under it.
    fn continued(&self, span_id: &str) -> String {
        format!("{}-{}-{span_id}-{}", self.version, self.trace_id, self.flags)
    }
}

/// The request's `traceparent`, when it is one (version `ff`, an all-zero
/// trace or span id, or a malformed field: none).
fn incoming(headers: &HeaderMap) -> Option<Incoming> {
    let text = headers.get("traceparent")?.to_str().ok()?.trim();
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    let valid = parts.len() == 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && nonzero(parts[1])
        && hex(parts[2], 16)
        && nonzero(parts[2])
        && hex(parts[3], 2);
    valid.then(|| Incoming {
        version: parts[0].to_ascii_lowercase(),
        trace_id: parts[1].to_ascii_lowercase(),
        span_id: parts[2].to_ascii_lowercase(),
        flags: parts[3].to_ascii_lowercase(),
    })
}

/// A span id of the server's when it does not export (nothing records it).
fn own_span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}
