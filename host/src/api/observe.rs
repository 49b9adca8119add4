//! What every request leaves for whoever operates the server: its
//! correlation id echoed (`X-Correlation-Id`, the one its run records; a
//! `traceparent` continued with a span of the server's), its count in
//! `/metrics`, and one JSON line on stderr (time, method, route, status,
//! duration, caller, correlation id).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::request::correlation_id;
use super::shared::Shared;

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
    let trace = continued_trace(request.headers());
    let mut response = next.run(request).await;
    response.headers_mut().insert("x-correlation-id", id);
    if let Some(trace) = trace.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert("traceparent", trace);
    }
    let status = response.status().as_u16();
    shared.metrics.answered(method, &route, status);
    let caller = response.extensions().get::<Subject>().map(|s| s.0.clone());
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

/// A W3C `traceparent` that continues the request's: its version, trace id
/// and flags, with a span id of this server's.
fn continued_trace(headers: &HeaderMap) -> Option<String> {
    let text = headers.get("traceparent")?.to_str().ok()?.trim();
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let valid = parts.len() == 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1].bytes().any(|b| b != b'0')
        && hex(parts[2], 16)
        && hex(parts[3], 2);
    if !valid {
        return None;
    }
    let span = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    Some(format!("{}-{}-{span}-{}", parts[0], parts[1].to_ascii_lowercase(), parts[3]))
}
