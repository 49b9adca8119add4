//! The handlers of the HTTP API README describes. Each takes its caller
//! ([`TokenCaller`]) and answers a refusal with the one body
//! ([`Refusal`]); Required Claims are the caller's to decide
//! ([`Caller::refusal`]), for reads here and for runs in the runner.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::bodies::{
    Accepted, AskShown, ErrorBody, Executed, ExecutionLinks, Health, Listed, PastExecutions, RunRequest, RunbookList,
    Shown, Validated,
};
use super::executions::{Execution, Status};
use super::refusal::Refusal;
use super::request::{TokenApprover, TokenCaller};
use super::shared::Shared;
use super::spans::Parent;
use crate::catalog::{catalog, open_named};
use crate::model::{Format, Runbook};
use crate::plan::sources::Secrets;
use crate::plan::{self, Host};
use crate::run::records::past::executions;
use crate::run::records::report::RunReport;
use crate::run::seams::caller::Caller;
use crate::run::seams::events::{Events, Quiet};
use crate::run::{FORBIDDEN_STATUS, Runner, Seams};
use crate::store::Row;

/// The caller's claims, or 401.
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<serde_json::Map<String, serde_json::Value>, Refusal> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    shared.config.keys.verify(authorization).map_err(|why| {
        let reason = if authorization.is_none() {
            "missing"
        } else if why.contains("ExpiredSignature") {
            "expired"
        } else {
            "invalid"
        };
        shared.metrics.auth_failed(reason);
        Refusal::new(StatusCode::UNAUTHORIZED, crate::error::ErrorCode::Unauthorized, why)
    })
}

/// The runbook named `name` in the served folder: 404 if there is none,
/// 400 for a name that is not a runbook's file name or a runbook that does
/// not parse.
fn runbook(shared: &Shared, name: &str) -> Result<Runbook, Refusal> {
    let file = yaml_by_id(shared, name)?.unwrap_or_else(|| name.to_string());
    match open_named(&shared.config.dir, &file) {
        Ok(Ok(runbook)) => Ok(runbook),
        Ok(Err(invalid)) => Err(Refusal::bad_request(invalid.to_string())),
        Err(failure) => Err(Refusal::of(failure)),
    }
}

/// Whether the server is alive.
///
/// Needs no token; it answers as long as the process serves.
#[utoipa::path(get, path = "/health", tag = "server", responses((status = 200, description = "The server is up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Whether the server is ready for executions.
///
/// 200 once both sandboxes' optimised code is compiled (or was found in the
/// cache) and while the record store answers, else 503; no token needed. A load balancer
/// sends requests once it is ready; `/health` says it is alive meanwhile.
#[utoipa::path(get, path = "/ready", tag = "server", responses(
    (status = 200, description = "Ready: the guests are compiled and the record store answers", body = Health),
    (status = 503, description = "Not yet: the guests are being compiled, or the record store does not answer", body = Health),
))]
pub(crate) async fn ready(State(shared): State<Arc<Shared>>) -> (StatusCode, Json<Health>) {
    let checked = Arc::clone(&shared);
    let store = tokio::task::spawn_blocking(move || checked.store.check()).await;
    let store_ok = matches!(store, Ok(Ok(()))) && shared.store_alive.load(std::sync::atomic::Ordering::Relaxed);
    if !store_ok {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "the record store cannot be reached".into() }));
    }
    let runner = shared.runner.clone();
    let prepared = tokio::task::spawn_blocking(move || runner.prepared()).await.unwrap_or(false);
    match prepared {
        true => (StatusCode::OK, Json(Health { status: "ready".into() })),
        false => (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "preparing the sandboxes".into() })),
    }
}

/// The server's metrics, for Prometheus.
///
/// Executions by runbook and status, execution and step durations,
/// executions in flight, fuel, HTTP requests by route and status, and
/// authentication failures by reason, in Prometheus' text format; no token
/// needed (it names runbooks, never callers or their data).
#[utoipa::path(get, path = "/metrics", tag = "server", responses(
    (status = 200, description = "OpenMetrics text, which Prometheus scrapes", content_type = "application/openmetrics-text"),
))]
pub(crate) async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], shared.metrics.render()).into_response()
}

/// List the runbooks the caller may run.
///
/// Every runbook of the served folder whose Required Claims the caller's token meets, with its steps.
#[utoipa::path(get, path = "/api/runbooks", tag = "runbooks", security(("bearer" = [])), responses(
    (status = 200, description = "The runbooks of the served folder", body = RunbookList),
    (status = 401, description = "No valid token", body = ErrorBody),
))]
pub(crate) async fn list(State(shared): State<Arc<Shared>>, caller: TokenCaller) -> Result<Json<RunbookList>, Refusal> {
    let dir = shared.config.dir.clone();
    // The folder alone: the API names runbooks by file name.
    let found = tokio::task::spawn_blocking(move || catalog(&dir, 0))
        .await
        .map_err(Refusal::internal)?
        .map_err(Refusal::internal)?;
    // Only what the caller may run.
    let runbooks = found.runbooks.iter().filter(|r| caller.refusal(&r.claims).is_none()).map(Listed::of).collect();
    Ok(Json(RunbookList { runbooks }))
}

/// Show one runbook.
///
/// Its steps, Required Claims and declared inputs. A YAML runbook is named by its file name or its `id`.
#[utoipa::path(get, path = "/api/runbooks/{name}", tag = "runbooks", security(("bearer" = [])),
    params(("name" = String, Path, description = "The runbook's file name")),
    responses(
        (status = 200, description = "The runbook", body = Shown),
        (status = 400, description = "Not a runbook's file name, or not a valid runbook", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Required Claims not met", body = ErrorBody),
        (status = 404, description = "No runbook by that name", body = ErrorBody),
    ))]
pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(name): Path<String>,
) -> Result<Json<Shown>, Refusal> {
    let runbook = runbook(&shared, &name)?;
    may_read(&shared, &caller, &runbook).await?;
    Ok(Json(Shown::of(&runbook)))
}

/// A YAML runbook's executions its history shows: the newest.
const HISTORY_LIMIT: usize = 100;

/// A runbook's past executions.
///
/// A markdown runbook's `# History`, or a YAML runbook's newest 100 records from the record store, oldest first.
#[utoipa::path(get, path = "/api/runbooks/{name}/history", tag = "runbooks", security(("bearer" = [])),
    params(("name" = String, Path, description = "The runbook's file name")),
    responses(
        (status = 200, description = "Its past executions, oldest first", body = PastExecutions),
        (status = 400, description = "Not a runbook's file name, or not a valid runbook", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Required Claims not met", body = ErrorBody),
        (status = 404, description = "No runbook by that name", body = ErrorBody),
        (status = 503, description = "The record store could not be read", body = ErrorBody),
    ))]
pub(crate) async fn history(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(name): Path<String>,
) -> Result<Json<PastExecutions>, Refusal> {
    let runbook = runbook(&shared, &name)?;
    may_read(&shared, &caller, &runbook).await?;
    let store = Arc::clone(&shared.store);
    let executions = tokio::task::spawn_blocking(move || executions(&runbook, Some(&store), HISTORY_LIMIT))
        .await
        .map_err(Refusal::internal)?
        .map_err(Refusal::store)?;
    Ok(Json(PastExecutions { runbook: name, executions }))
}

/// The file of the YAML runbook whose `id` is `name`, when `name` is not a
/// runbook's file name (none when it is one); 400 if no runbook or several
/// have that id.
fn yaml_by_id(shared: &Shared, name: &str) -> Result<Option<String>, Refusal> {
    if [".md", ".yaml", ".yml"].iter().any(|ext| name.ends_with(ext)) || name.contains(['/', '\\', '\0']) {
        return Ok(None);
    }
    let found = catalog(&shared.config.dir, 0).map_err(Refusal::internal)?;
    let files: Vec<String> =
        found.runbooks.iter().filter(|r| r.format == Format::Yaml && r.name == name).map(Runbook::file_name).collect();
    match files.as_slice() {
        [] => Err(Refusal::bad_request(format!(
            "`{name}` is neither a runbook's file name (.md, .yaml, .yml) nor a YAML runbook's id"
        ))),
        [file] => Ok(Some(file.clone())),
        several => Err(Refusal::bad_request(format!(
            "`{name}` is the id of several YAML runbooks ({}): name one by its file name",
            several.join(", ")
        ))),
    }
}

/// An execute or validate request, admitted: its body (400 if malformed)
/// and the runbook it names.
fn admit(shared: &Shared, text: &str, name: &str) -> Result<(RunRequest, Runbook), Refusal> {
    let request = body(text)?;
    let runbook = runbook(shared, name)?;
    let steps: Vec<&str> = runbook.steps.iter().map(|s| s.name.as_str()).collect();
    if let Some(unknown) = request.approve.iter().find(|n| !steps.contains(&n.as_str())) {
        let message = format!(
            "\"approve\": {} has no step named `{unknown}` (its steps: {})",
            runbook.file_name(),
            steps.join(", ")
        );
        return Err(Refusal::bad_request(message));
    }
    Ok((request, runbook))
}

/// A read of `runbook` (show, history, validate) by a caller without its
/// Required Claims: 403, and a record in the log, never in History (so
/// repeated refusals cannot push the runbook's real entries out).
async fn may_read(shared: &Arc<Shared>, caller: &TokenCaller, runbook: &Runbook) -> Result<(), Refusal> {
    let Some(failure) = caller.refusal(&runbook.claims) else { return Ok(()) };
    let (shared, caller, runbook, logged) = (Arc::clone(shared), caller.clone(), runbook.clone(), failure.clone());
    let _ = tokio::task::spawn_blocking(move || {
        runner(&shared, &caller, Vec::new()).refuse_in_log(&runbook, &caller.chain(), logged, FORBIDDEN_STATUS)
    })
    .await;
    Err(Refusal::of(failure))
}

fn body(text: &str) -> Result<RunRequest, Refusal> {
    RunRequest::parse(text).map_err(Refusal::bad_request)
}

/// The runner of one request's run: the server's, with the caller's seams
/// (its identity and claims, the approvals its token gives) and the
/// request's deadline.
fn runner(shared: &Shared, caller: &TokenCaller, approve: Vec<String>) -> Runner {
    runner_of(shared, caller, approve, None, None)
}

/// [`runner`] of `execution`: its events are the execution's log and it
/// stops when the execution is cancelled.
/// A runner for `caller`; one that runs `execution` tells `events` (its
/// log, and its spans) what its steps do.
fn runner_of(
    shared: &Shared,
    caller: &TokenCaller,
    approve: Vec<String>,
    execution: Option<&Execution>,
    events: Option<Arc<dyn Events>>,
) -> Runner {
    let seams = Seams {
        approver: Arc::new(TokenApprover { approve, claims: caller.claims.clone() }),
        events: events.unwrap_or_else(|| Arc::new(Quiet)),
        caller: Arc::new(caller.clone()),
        cancel: execution.map_or_else(|| shared.cancel.clone(), |e| e.cancel.clone()),
        ..Seams::default()
    };
    let deadline = Instant::now() + shared.config.request_timeout;
    shared.runner.with(seams, Some(deadline))
}

/// How an execute request asks to be answered: `?wait=false` (or
/// `Prefer: respond-async`) for 202 at once.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct ExecuteOptions {
    /// `false`: answer 202 with the execution's `Location` at once, as
    /// `Prefer: respond-async` does; else the report when it ends.
    wait: Option<bool>,
}

/// Whether `Prefer` (RFC 7240) asks for an asynchronous answer.
fn prefers_async(headers: &HeaderMap) -> bool {
    let preferences = headers.get_all("prefer").into_iter().filter_map(|v| v.to_str().ok());
    preferences.flat_map(|v| v.split(',')).any(|p| {
        let token = p.split(';').next().unwrap_or("").trim();
        token.eq_ignore_ascii_case("respond-async")
    })
}

/// Run a runbook.
///
/// Answers its report when it ends; with `Prefer: respond-async` or `?wait=false`, 202 at once with the execution's `Location`. Either way the execution is named by `X-Execution-Id`, runs to its end if the caller hangs up, and holds one of `--max-concurrent` slots meanwhile.
#[utoipa::path(post, path = "/api/runbooks/{name}/execute", tag = "runbooks", security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "The runbook's file name"),
        ExecuteOptions,
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 at once (RFC 7240)"),
        ("X-Correlation-Id" = Option<String>, Header, description = "The chain's id (else traceparent's, else new)"),
        ("X-Recursion-Stack" = Option<String>, Header, description = "The chain so far: a JSON array of file names"),
    ),
    request_body = RunRequest,
    responses(
        (status = 200, description = "It ran: its report (return_code is its exit status); `X-Execution-Id` names it", body = Executed),
        (status = 202, description = "Started (asked with `Prefer: respond-async` or `?wait=false`): `Location` is where it is read", body = Accepted),
        (status = 400, description = "A bad name or body; or refused before any step (invalid, recursion): then the whole report, with its `error`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Required Claims not met, or a grant the server lacks: the report, with its `error`", body = ErrorBody),
        (status = 404, description = "No runbook by that name", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "Too many executions at once (Retry-After), shutting down, or the record store could not be written", body = ErrorBody),
    ))]
pub(crate) async fn execute(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(name): Path<String>,
    Query(options): Query<ExecuteOptions>,
    parent: Option<Extension<Parent>>,
    headers: HeaderMap,
    text: String,
) -> Response {
    let (request, runbook) = match admit(&shared, &text, &name) {
        Ok(admitted) => admitted,
        Err(refused) => return refused.into_response(),
    };
    // The slot is the execution's, not the request's: a caller who hangs up
    // does not free it while the run goes on.
    let Ok(slot) = Arc::clone(&shared.slots).try_acquire_owned() else { return Refusal::busy().into_response() };
    let answer_now = options.wait == Some(false) || prefers_async(&headers);
    let id = caller.execution_id();
    // In the store before the answer names it: other servers list it, and
    // it is marked interrupted should this one die.
    let running = running_row(&id, &runbook, &caller);
    let (store, replica, row) = (Arc::clone(&shared.store), shared.replica.clone(), running.clone());
    match tokio::task::spawn_blocking(move || store.start(&row, &replica)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Refusal::store(e).into_response(),
        Err(e) => return Refusal::internal(e).into_response(),
    }
    let execution = shared.executions.start(id.clone(), &runbook, &caller.user, &caller.correlation_id, &shared.cancel);
    shared.metrics.started();
    let span = shared.spans.execution(parent.as_ref().map(|p| &p.0), &execution);
    let events = span.events(Arc::clone(&execution.events) as Arc<dyn Events>);
    let env = request.env().into_iter().collect();
    let (shared_for_run, run) = (Arc::clone(&shared), Arc::clone(&execution));
    let ran = tokio::task::spawn_blocking(move || {
        // The runner checks the caller's claims against the runbook's, and
        // its sub-runbooks'.
        let mut runner = runner_of(&shared_for_run, &caller, request.approve, Some(&run), Some(events));
        runner.set_env(env);
        runner.set_execution_id(run.id.clone());
        runner.run_in_chain(&runbook, &request.inputs, &caller.chain())
    });
    let (shared_for_end, ending) = (Arc::clone(&shared), Arc::clone(&execution));
    tokio::spawn(async move {
        let report = match ran.await {
            Ok(report) => report,
            Err(e) => {
                // The runner recorded nothing: the store is told here.
                let report = crashed(&ending, &e);
                let row = Row {
                    status: report.status(),
                    finished_at: Some(time::OffsetDateTime::now_utc()),
                    exit_code: Some(report.exit_code),
                    record: serde_json::to_string(&report).ok(),
                    events: Some(ending.events.stored()),
                    ..running
                };
                let store = Arc::clone(&shared_for_end.store);
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.finish(&row)).await {
                    tracing::error!("{e}");
                }
                report
            }
        };
        let ended = shared_for_end.executions.finish(&ending, report);
        shared_for_end.metrics.ended(&ending.runbook, ended.status, &ended.report);
        span.end(ended.status, &ended.report);
        drop(slot);
    });
    let mut response = if answer_now {
        let location = format!("/api/executions/{id}");
        let accepted = Accepted { execution_id: id.clone(), status: Status::Running, links: ExecutionLinks::of(&id) };
        let mut response = (StatusCode::ACCEPTED, Json(accepted)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::LOCATION, header_value(&location));
        headers.insert("preference-applied", HeaderValue::from_static("respond-async"));
        response
    } else {
        let ended = execution.finished().await;
        let executed = Executed::of(ended.report.clone());
        let status = StatusCode::from_u16(executed.status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(executed)).into_response()
    };
    response.headers_mut().insert("x-execution-id", header_value(&id));
    response
}

/// A header of text runbox made (an id, a path of one).
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The store's row of a running execution of `runbook` by `caller`.
fn running_row(id: &str, runbook: &Runbook, caller: &TokenCaller) -> Row {
    Row {
        id: id.to_string(),
        parent_id: None,
        runbook: runbook.file_name(),
        name: runbook.name.clone(),
        status: Status::Running,
        by_user: caller.user.clone(),
        correlation_id: caller.correlation_id.clone(),
        started_at: time::OffsetDateTime::now_utc(),
        finished_at: None,
        exit_code: None,
        cancelled_by: None,
        claims: runbook.claims.clone(),
        record: None,
        events: None,
    }
}

/// The report of an execution whose run failed inside the server (a
/// panic): it ends, refused, rather than running forever.
fn crashed(execution: &Execution, error: &tokio::task::JoinError) -> RunReport {
    let mut report =
        RunReport::new(&execution.runbook, std::path::Path::new(&execution.runbook), &execution.correlation_id);
    report.execution_id = execution.id.clone();
    report.refuse(crate::error::ErrorCode::RuntimeError, format!("the execution failed inside the server: {error}"));
    report
}

/// Validate a runbook without running it.
///
/// Every problem, with its line, or what it asks beyond the safe defaults and the flags that grant it.
#[utoipa::path(post, path = "/api/runbooks/{name}/validate", tag = "runbooks", security(("bearer" = [])),
    params(("name" = String, Path, description = "The runbook's file name")),
    request_body = RunRequest,
    responses(
        (status = 200, description = "Valid, with what it asks beyond the safe defaults", body = Validated),
        (status = 400, description = "Every problem (of the runbook, with its line, or of the request)", body = Validated),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Required Claims not met", body = ErrorBody),
        (status = 404, description = "No runbook by that name", body = ErrorBody),
    ))]
pub(crate) async fn validate(
    State(shared): State<Arc<Shared>>,
    caller: TokenCaller,
    Path(name): Path<String>,
    text: String,
) -> Response {
    let (request, runbook) = match admit(&shared, &text, &name) {
        Ok(admitted) => admitted,
        // What is wrong with the request is a validation's answer too.
        Err(Refusal { status: StatusCode::BAD_REQUEST, failure, .. }) => {
            let problems = vec![failure.message];
            let answer = Validated { valid: false, asks: Vec::new(), problems };
            return (StatusCode::BAD_REQUEST, Json(answer)).into_response();
        }
        Err(refused) => return refused.into_response(),
    };
    if let Err(refused) = may_read(&shared, &caller, &runbook).await {
        return refused.into_response();
    }
    let shared_for_run = Arc::clone(&shared);
    let checked = tokio::task::spawn_blocking(move || {
        let runner = runner(&shared_for_run, &caller, Vec::new());
        let host = Host {
            env: request.env().into_iter().collect(),
            inputs: request.inputs,
            // Only what the operator granted is read to validate.
            secrets: Secrets { cluster: runner.config().grants.kubernetes.clone(), ..runner.config().secrets.clone() },
            validating: true,
            protected: runner.config().protected(),
            sealed_env: false,
            executor: runner.config().executor.clone(),
        };
        let read =
            if host.executor.is_some() { plan::under_executor(&runbook) } else { std::borrow::Cow::Borrowed(&runbook) };
        plan::check(&read, &host)
            .map(|plan| plan.asks)
            .map_err(|problems| problems.iter().map(|p| p.located(&runbook.file_name())).collect::<Vec<_>>())
    })
    .await;
    match checked {
        Ok(Ok(asks)) => {
            let asks = asks.iter().map(|a| AskShown { ask: a.to_string(), flag: a.flag() }).collect();
            Json(Validated { valid: true, asks, problems: Vec::new() }).into_response()
        }
        Ok(Err(problems)) => {
            (StatusCode::BAD_REQUEST, Json(Validated { valid: false, asks: Vec::new(), problems })).into_response()
        }
        Err(e) => Refusal::internal(e).into_response(),
    }
}
