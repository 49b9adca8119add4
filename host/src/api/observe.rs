//! What every request leaves for whoever operates the server: its
//! correlation id echoed (`X-Correlation-Id`, the one its run records; a
//! `traceparent` continued with a span of the server's, exported when the
//! server exports: `spans/`), its count in `/metrics`, and one JSON line on
//! stderr (time, method, route, status, duration, caller, correlation id).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::request::correlation_id;
use super::shared::Shared;
use super::spans::Answered;

/// Who a request's token named, put on its answer by the guard.
#[derive(Clone)]
pub(crate) struct Subject(pub(crate) String);

pub(super) async fn observe(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    // The one id of the request: its handlers read it back from the header.
    let correlation = correlation_id(request.headers());
    let id = HeaderValue::from_str(&correlation).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert("x-correlation-id", id.clone());
    let span = shared.spans.request(request.headers(), method, &route);
    if let Some(parent) = span.parent() {
        request.extensions_mut().insert(parent);
    }
    let mut response = next.run(request).await;
    response.headers_mut().insert("x-correlation-id", id);
    if let Some(trace) = span.traceparent.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        response.headers_mut().insert("traceparent", trace);
    }
    let status = response.status().as_u16();
    shared.metrics.answered(method, &route, status);
    let caller = response.extensions().get::<Subject>().map(|s| s.0.clone());
    let execution_id = response.headers().get("x-execution-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    span.end(&Answered {
        status,
        caller: caller.as_deref(),
        correlation_id: &correlation,
        execution_id: execution_id.as_deref(),
    });
    let line = json!({
        "time": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        "level": "info",
        "message": "request",
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": started.elapsed().as_secs_f64() * 1000.0,
        "caller": caller,
        "correlation_id": correlation,
    });
    // One write per line: lines of concurrent requests never interleave.
    let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
    response
}

/// The method as a metric's label: the API's own, else `other` (a caller
/// cannot make new series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}
