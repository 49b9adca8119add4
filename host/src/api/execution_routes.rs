//! The handlers of `/api/executions`: an execution shown, listed, followed
//! (Server-Sent Events) and cancelled. Every one is guarded as reading its
//! runbook is: the caller's token must meet the runbook's Required Claims.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::bodies::{ErrorBody, ExecutionList, ExecutionShown};
use super::executions::{Execution, Status};
use super::refusal::Refusal;
use super::request::TokenCaller;
use super::shared::Shared;
use crate::error::ErrorCode;
use crate::run::seams::caller::Caller;

/// Executions a page lists unless `limit` says otherwise, and at most.
const PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

/// The execution `id`, if the caller may see it: 404 if the server has none
/// by that id (any more), 403 without its runbook's Required Claims.
fn readable(shared: &Shared, caller: &TokenCaller, id: &str) -> Result<Arc<Execution>, Refusal> {
    let Some(execution) = shared.executions.get(id) else {
        let message = format!(
            "no execution {id} on this server (it keeps every running execution and the newest finished ones; the JSON log has every record)"
        );
        return Err(Refusal::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message));
    };
    match caller.refusal(&execution.claims) {
        Some(failure) => Err(Refusal::of(failure)),
        None => Ok(execution),
    }
}

/// Show one execution.
///
/// Its status, caller and chain; the steps finished so far while it runs, its whole report once it has ended.
#[utoipa::path(get, path = "/api/executions/{execution_id}", tag = "executions", security(("bearer" = [])),
    params(("execution_id" = String, Path, description = "The execution's id (`X-Execution-Id`)")),
    responses(
        (status = 200, description = "Its status, and its report once it has ended (the steps finished so far while it runs)", body = ExecutionShown),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The runbook's Required Claims not met", body = ErrorBody),
        (status = 404, description = "No such execution on this server", body = ErrorBody),
    ))]
pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(id): Path<String>,
) -> Result<Json<ExecutionShown>, Refusal> {
    let execution = readable(&shared, &caller, &id)?;
    Ok(Json(ExecutionShown::of(&execution, true)))
}

/// The filters of a listing.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only this runbook's (its file name).
    runbook: Option<String>,
    /// Only these: running, succeeded, failed, refused, cancelled, interrupted.
    status: Option<String>,
    /// Only this chain's.
    correlation_id: Option<String>,
    /// Only those started at or after this instant (RFC 3339).
    since: Option<String>,
    /// At most this many (1 to 1000; 50 by default).
    limit: Option<usize>,
    /// The page after this id (the last one of the page before).
    before: Option<String>,
}

/// List executions, newest first.
///
/// Those the caller may see (its token meets their runbooks' Required Claims), filtered, a page at a time: `next` is the next page's URL.
#[utoipa::path(get, path = "/api/executions", tag = "executions", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The executions the caller may see, newest first; `next` is the next page", body = ExecutionList),
        (status = 400, description = "A filter that is not valid", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ExecutionList>, Refusal> {
    let Query(query) = query.map_err(|e| Refusal::bad_request(format!("the query: {}", e.body_text())))?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(Status::parse(text).ok_or_else(|| {
            Refusal::bad_request(format!(
                "status={text}: give running, succeeded, failed, refused, cancelled or interrupted"
            ))
        })?),
    };
    let since = match query.since.as_deref() {
        None => None,
        Some(text) => Some(OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
            Refusal::bad_request(format!("since={text}: give an RFC 3339 instant such as 2026-12-06T10:00:00Z ({e})"))
        })?),
    };
    let limit = query.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Refusal::bad_request(format!("limit={limit}: give 1 to {MAX_PAGE}")));
    }
    let wanted = |e: &Execution| {
        query.runbook.as_ref().is_none_or(|r| &e.runbook == r)
            && status.is_none_or(|s| e.ended().map_or(Status::Running, |end| end.status) == s)
            && query.correlation_id.as_ref().is_none_or(|c| &e.correlation_id == c)
            && since.is_none_or(|since| e.started_at >= since)
            && caller.refusal(&e.claims).is_none()
    };
    let found = shared.executions.newest(query.before.as_deref(), limit, wanted);
    let next = (found.len() == limit).then(|| next_page(&query, limit, &found[found.len() - 1].id));
    let executions = found.iter().map(|e| ExecutionShown::of(e, false)).collect();
    Ok(Json(ExecutionList { executions, next }))
}

/// The URL of the page after `last`, with the same filters.
fn next_page(query: &ListQuery, limit: usize, last: &str) -> String {
    let limit = limit.to_string();
    let filters = [
        ("runbook", query.runbook.as_deref()),
        ("status", query.status.as_deref()),
        ("correlation_id", query.correlation_id.as_deref()),
        ("since", query.since.as_deref()),
        ("limit", Some(limit.as_str())),
        ("before", Some(last)),
    ];
    let pairs: Vec<String> =
        filters.iter().filter_map(|(name, value)| Some(format!("{name}={}", encoded((*value)?)))).collect();
    format!("/api/executions?{}", pairs.join("&"))
}

/// `text` percent-encoded for a query, all but unreserved characters.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Cancel an execution.
///
/// Its running step stops as on Ctrl-C (within milliseconds), no further step runs, and it is recorded as cancelled by the caller.
#[utoipa::path(delete, path = "/api/executions/{execution_id}", tag = "executions", security(("bearer" = [])),
    params(("execution_id" = String, Path, description = "The execution's id")),
    responses(
        (status = 202, description = "Cancelled: its running step stops as on Ctrl-C and it is recorded as cancelled, by the caller", body = ExecutionShown),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The runbook's Required Claims not met", body = ErrorBody),
        (status = 404, description = "No such execution on this server", body = ErrorBody),
        (status = 409, description = "It has already ended", body = ErrorBody),
    ))]
pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ExecutionShown>), Refusal> {
    let execution = readable(&shared, &caller, &id)?;
    let finished =
        || Refusal::new(StatusCode::CONFLICT, ErrorCode::Finished, format!("execution {id} has already ended"));
    if execution.ended().is_some() || !execution.cancel.cancel_by(&caller.user()) {
        return Err(finished());
    }
    Ok((StatusCode::ACCEPTED, Json(ExecutionShown::of(&execution, false))))
}

/// Cancel an execution (for clients that cannot send DELETE).
///
/// The same as `DELETE /api/executions/{execution_id}`.
#[utoipa::path(post, path = "/api/executions/{execution_id}/cancel", tag = "executions", security(("bearer" = [])),
    params(("execution_id" = String, Path, description = "The execution's id")),
    responses(
        (status = 202, description = "Cancelled, as DELETE does", body = ExecutionShown),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The runbook's Required Claims not met", body = ErrorBody),
        (status = 404, description = "No such execution on this server", body = ErrorBody),
        (status = 409, description = "It has already ended", body = ErrorBody),
    ))]
pub(crate) async fn cancel_by_post(
    shared: State<Arc<Shared>>,
    caller: TokenCaller,
    id: Path<String>,
) -> Result<(StatusCode, Json<ExecutionShown>), Refusal> {
    cancel(shared, caller, id).await
}

/// Follow an execution.
///
/// Server-Sent Events as it runs: each step's start, its output (masked as the records are), its end, then the execution's end, after which the stream closes. `Last-Event-ID` resumes after an event; a finished execution's events are replayed.
#[utoipa::path(get, path = "/api/executions/{execution_id}/events", tag = "executions", security(("bearer" = [])),
    params(
        ("execution_id" = String, Path, description = "The execution's id"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event"),
    ),
    responses(
        (status = 200, description = "Server-Sent Events: step_started, output, step_finished, step_refused, notice, then execution_finished; a finished execution's are replayed", content_type = "text/event-stream"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The runbook's Required Claims not met", body = ErrorBody),
        (status = 404, description = "No such execution on this server", body = ErrorBody),
    ))]
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, Refusal> {
    let execution = readable(&shared, &caller, &id)?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    // Each follower reads the one log from its own position.
    let batches = stream::unfold((execution, after), |(execution, after)| async move {
        let batch = execution.events.after(after).await;
        let last = batch.last()?.id;
        Some((batch, (execution, last)))
    });
    let events = batches.flat_map(|batch| {
        stream::iter(
            batch.into_iter().map(|e| Ok(SseEvent::default().id(e.id.to_string()).event(e.kind).data(&e.data))),
        )
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
