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

use super::bodies::{Child, ErrorBody, ExecutionList, ExecutionShown};
use super::events::{EventLog, numbered};
use super::executions::{Execution, Status};
use super::refusal::Refusal;
use super::request::TokenCaller;
use super::shared::Shared;
use crate::error::ErrorCode;
use crate::run::seams::caller::Caller;
use crate::store::{Filter, LIVE_PAGE, LiveEvent, Row, Store};

/// How often a follower of another server's execution looks for its end.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Executions a page lists unless `limit` says otherwise, and at most.
const PAGE: usize = 50;
const MAX_PAGE: usize = 1000;
/// Rows of the store one listing reads at most.
const SCANNED: usize = 10_000;

/// An execution the caller may see: this server's, or one the store has
/// (ended, or run by another server).
enum Found {
    Here(Arc<Execution>),
    Stored(Box<Row>),
}

/// Runs `read` against the store on a blocking thread; 503 if it fails.
async fn stored<T: Send + 'static>(
    shared: &Arc<Shared>,
    read: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Refusal> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || read(&shared.store)).await.map_err(Refusal::internal)?.map_err(Refusal::store)
}

/// The execution `id`, if the caller may see it: 404 if there is none by
/// that id, 403 without its runbook's Required Claims.
async fn readable(shared: &Arc<Shared>, caller: &TokenCaller, id: &str) -> Result<Found, Refusal> {
    let found = match shared.executions.get(id) {
        Some(execution) => Some((execution.claims.clone(), Found::Here(execution))),
        None => {
            let wanted = id.to_string();
            let row = stored(shared, move |store| store.get(&wanted)).await?;
            row.map(|row| (row.claims.clone(), Found::Stored(Box::new(row))))
        }
    };
    let Some((claims, found)) = found else {
        let message = format!("no execution {id}");
        return Err(Refusal::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message));
    };
    match caller.refusal(&claims) {
        Some(failure) => Err(Refusal::of(failure)),
        None => Ok(found),
    }
}

/// The sub-runbooks `id` ran, oldest first.
async fn children(shared: &Arc<Shared>, id: &str) -> Result<Vec<Child>, Refusal> {
    let filter = Filter { parent_id: Some(id.to_string()), limit: MAX_PAGE, ..Filter::default() };
    let mut rows = stored(shared, move |store| store.list(&filter, false)).await?;
    rows.reverse();
    Ok(rows.iter().map(Child::of).collect())
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
        (status = 404, description = "No such execution (on any server sharing the record store)", body = ErrorBody),
        (status = 503, description = "The record store could not be read", body = ErrorBody),
    ))]
pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(id): Path<String>,
) -> Result<Json<ExecutionShown>, Refusal> {
    let mut shown = match readable(&shared, &caller, &id).await? {
        Found::Here(execution) => ExecutionShown::of(&execution, true),
        Found::Stored(row) => ExecutionShown::stored(&row, true),
    };
    shown.children = Some(children(&shared, &id).await?);
    Ok(Json(shown))
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
        (status = 503, description = "The record store could not be read", body = ErrorBody),
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
    // A page of the store at a time, keeping those the caller may see.
    let filter = Filter {
        runbook: query.runbook.clone(),
        status,
        correlation_id: query.correlation_id.clone(),
        since,
        before: query.before.clone(),
        limit: MAX_PAGE,
        ..Filter::default()
    };
    // A caller who may see few of many executions gets a short page and
    // `next` once SCANNED rows were read, not a scan of the whole store.
    let (mut found, mut scanned): (Vec<Row>, usize) = (Vec::new(), 0);
    let mut page = filter;
    let next = loop {
        let asked = page.clone();
        let rows = stored(&shared, move |store| store.list(&asked, false)).await?;
        let full = rows.len() == page.limit;
        scanned += rows.len();
        page.before = rows.last().map(|r| r.id.clone()).or(page.before);
        let visible = rows.into_iter().filter(|r| caller.refusal(&r.claims).is_none());
        found.extend(visible.take(limit - found.len()));
        if found.len() == limit {
            break Some(found[found.len() - 1].id.clone());
        }
        if !full {
            break None;
        }
        if scanned >= SCANNED {
            break page.before.clone();
        }
    };
    let next = next.map(|last| next_page(&query, limit, &last));
    let executions = found.iter().map(|row| ExecutionShown::stored(row, false)).collect();
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
        (status = 404, description = "No such execution (on any server sharing the record store)", body = ErrorBody),
        (status = 503, description = "The record store could not be read", body = ErrorBody),
        (status = 409, description = "It has already ended", body = ErrorBody),
    ))]
pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ExecutionShown>), Refusal> {
    let finished =
        || Refusal::new(StatusCode::CONFLICT, ErrorCode::Finished, format!("execution {id} has already ended"));
    match readable(&shared, &caller, &id).await? {
        Found::Here(execution) => {
            if execution.ended().is_some() || !execution.cancel.cancel_by(&caller.user()) {
                return Err(finished());
            }
            Ok((StatusCode::ACCEPTED, Json(ExecutionShown::of(&execution, false))))
        }
        // Another server runs it: it reads the request from the store.
        Found::Stored(row) => {
            let (wanted, by) = (id.clone(), caller.user());
            if row.status != Status::Running
                || !stored(&shared, move |store| store.request_cancel(&wanted, &by)).await?
            {
                return Err(finished());
            }
            Ok((StatusCode::ACCEPTED, Json(ExecutionShown::stored(&row, false))))
        }
    }
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
        (status = 404, description = "No such execution (on any server sharing the record store)", body = ErrorBody),
        (status = 503, description = "The record store could not be read", body = ErrorBody),
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
        (status = 404, description = "No such execution (on any server sharing the record store)", body = ErrorBody),
        (status = 503, description = "The record store could not be read", body = ErrorBody),
    ))]
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, Refusal> {
    let log = match readable(&shared, &caller, &id).await? {
        Found::Here(execution) => Arc::clone(&execution.events),
        Found::Stored(row) => followed(&shared, *row).await?,
    };
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    // Each follower reads the one log from its own position.
    let batches = stream::unfold((log, after), |(log, after)| async move {
        let batch = log.after(after).await;
        let last = batch.last()?.id;
        Some((batch, (log, last)))
    });
    let events = batches.flat_map(|batch| {
        stream::iter(
            batch.into_iter().map(|e| Ok(SseEvent::default().id(e.id.to_string()).event(e.kind).data(&e.data))),
        )
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The events of an execution the store has: replayed once it has ended;
/// while another server runs it, those that server keeps in the store, as
/// they come (read by a task that ends with its follower).
async fn followed(shared: &Arc<Shared>, row: Row) -> Result<Arc<EventLog>, Refusal> {
    let log = Arc::new(EventLog::default());
    if row.status == Status::Running {
        tokio::spawn(follow(Arc::clone(shared), row, Arc::downgrade(&log)));
    } else {
        let (events, end) = ended_events(shared, &row).await?;
        log.end_kept(events, &end);
    }
    Ok(log)
}

/// Reads the events another server keeps of its running execution into
/// `log` every [`FOLLOW_POLL`] until it ends (then its end) or the follower
/// has gone. A store that fails meanwhile is read again at the next poll.
async fn follow(shared: Arc<Shared>, mut row: Row, log: std::sync::Weak<EventLog>) {
    let mut after = 0;
    loop {
        let id = row.id.clone();
        if let Ok(kept) = stored(&shared, move |store| store.live_events(&id, after)).await {
            let Some(live) = log.upgrade() else { return };
            let full = kept.len() == LIVE_PAGE;
            after = kept.last().map_or(after, |(seq, _, _)| *seq);
            live.push_kept(kept);
            if full {
                continue;
            }
        }
        tokio::time::sleep(FOLLOW_POLL).await;
        if log.strong_count() == 0 {
            return;
        }
        let id = row.id.clone();
        match stored(&shared, move |store| store.get(&id)).await {
            Ok(Some(now)) if now.status == Status::Running => row = now,
            Ok(Some(now)) => {
                let ended = ended_events(&shared, &now).await;
                let (events, end) = ended.unwrap_or_else(|_| (Vec::new(), end_of(&now)));
                if let Some(live) = log.upgrade() {
                    live.end_kept(events, &end);
                }
                return;
            }
            // Gone from the store (its retention): its end is unknown.
            Ok(None) => {
                if let Some(live) = log.upgrade() {
                    live.end_kept(Vec::new(), &serde_json::json!({ "status": Status::Interrupted, "exit_code": null }));
                }
                return;
            }
            Err(_) => {}
        }
    }
}

/// An ended execution's events as the store keeps them: with its record, or
/// (a server that died) those kept while it ran; and its end.
async fn ended_events(shared: &Arc<Shared>, row: &Row) -> Result<(Vec<LiveEvent>, serde_json::Value), Refusal> {
    let id = row.id.clone();
    let kept = stored(shared, move |store| store.events(&id)).await?;
    let events = match kept {
        Some(kept) => numbered(Some(&kept)),
        None => {
            let mut events: Vec<LiveEvent> = Vec::new();
            loop {
                let (id, after) = (row.id.clone(), events.last().map_or(0, |(seq, _, _)| *seq));
                let page = stored(shared, move |store| store.live_events(&id, after)).await?;
                let full = page.len() == LIVE_PAGE;
                events.extend(page);
                if !full {
                    break events;
                }
            }
        }
    };
    Ok((events, end_of(row)))
}

/// The `execution_finished` event's data of an ended execution.
fn end_of(row: &Row) -> serde_json::Value {
    serde_json::json!({ "status": row.status, "exit_code": row.exit_code })
}
