//! The handlers of the HTTP API README describes. Errors are JSON: `{"error": {"code", "message"}}`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::bodies::{
    AskShown, ErrorBody, Executed, Health, Listed, PastExecutions, RunRequest, RunbookList, Shown, Validated,
};
use super::request::{Caller, Claims, TokenApprover, chain, correlation_id};
use super::shared::Shared;
use crate::catalog::{catalog, open_named};
use crate::error::{ErrorCode, Failure};
use crate::model::Runbook;
use crate::plan::claims::{missing_claim, subject};
use crate::plan::{self, Host};
use crate::run::records::past::executions;
use crate::run::seams::events::Quiet;
use crate::run::{Chain, FORBIDDEN_STATUS, Seams};

/// An error response: its status and `{"error": {"code", "message"}}`.
pub(crate) struct Refusal(StatusCode, Failure);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

fn refusal(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal(status, Failure::new(code, message))
}

/// The HTTP status of a run refused before its steps, by its error code.
fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// The caller's claims, or 401.
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Map<String, Value>, Refusal> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    shared
        .config
        .keys
        .verify(authorization)
        .map_err(|why| refusal(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, why))
}

/// The runbook named `name` in the served folder: 404 if there is none,
/// 400 for a name that is not a runbook's file name or a runbook that does
/// not parse.
fn runbook(shared: &Shared, name: &str) -> Result<Runbook, Refusal> {
    match open_named(&shared.config.dir, name) {
        Ok(Ok(runbook)) => Ok(runbook),
        Ok(Err(invalid)) => Err(refusal(StatusCode::BAD_REQUEST, ErrorCode::ConfigInvalid, invalid.to_string())),
        Err(failure) => Err(Refusal(status_of(failure.code), failure)),
    }
}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "The server is up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

#[utoipa::path(get, path = "/api/runbooks", security(("bearer" = [])), responses(
    (status = 200, description = "The runbooks of the served folder", body = RunbookList),
    (status = 401, description = "No valid token", body = ErrorBody),
))]
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(Claims(claims)): Extension<Claims>,
) -> Result<Json<RunbookList>, Refusal> {
    let dir = shared.config.dir.clone();
    // The folder alone: the API names runbooks by file name.
    let found = tokio::task::spawn_blocking(move || catalog(&dir, 0))
        .await
        .map_err(|e| refusal(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::RuntimeError, e.to_string()))?
        .map_err(|e| refusal(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::RuntimeError, e.to_string()))?;
    // Only what the caller may run.
    let runbooks =
        found.runbooks.iter().filter(|r| missing_claim(&r.claims, &claims).is_none()).map(Listed::of).collect();
    Ok(Json(RunbookList { runbooks }))
}

#[utoipa::path(get, path = "/api/runbooks/{name}", security(("bearer" = [])),
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
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Extension(Claims(claims)): Extension<Claims>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Shown>, Refusal> {
    let runbook = runbook(&shared, &name)?;
    may_read(&shared, &headers, from, &claims, &runbook).await?;
    Ok(Json(Shown::of(&runbook)))
}

#[utoipa::path(get, path = "/api/runbooks/{name}/history", security(("bearer" = [])),
    params(("name" = String, Path, description = "The runbook's file name")),
    responses(
        (status = 200, description = "Its past executions, oldest first", body = PastExecutions),
        (status = 400, description = "Not a runbook's file name, or not a valid runbook", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Required Claims not met", body = ErrorBody),
        (status = 404, description = "No runbook by that name", body = ErrorBody),
    ))]
pub(crate) async fn history(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Extension(Claims(claims)): Extension<Claims>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PastExecutions>, Refusal> {
    let runbook = runbook(&shared, &name)?;
    may_read(&shared, &headers, from, &claims, &runbook).await?;
    let log = shared.runner.config().log.clone();
    let executions = executions(&runbook, log.as_deref())
        .map_err(|e| refusal(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::RuntimeError, e.to_string()))?;
    Ok(Json(PastExecutions { runbook: name, executions }))
}

/// An execute or validate request, admitted: its body (400 if malformed)
/// and the runbook it names.
fn admit(shared: &Shared, text: &str, name: &str) -> Result<(RunRequest, Runbook), Refusal> {
    let request = body(text)?;
    Ok((request, runbook(shared, name)?))
}

/// A read of `runbook` (show, history, validate) by a caller without its
/// Required Claims: 403, and a record in the log, never in History (so
/// repeated refusals cannot push the runbook's real entries out).
async fn may_read(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    from: SocketAddr,
    claims: &Map<String, Value>,
    runbook: &Runbook,
) -> Result<(), Refusal> {
    let Some(message) = missing_claim(&runbook.claims, claims) else { return Ok(()) };
    let (shared, headers, claims, runbook) = (Arc::clone(shared), headers.clone(), claims.clone(), runbook.clone());
    let failure = Failure::new(ErrorCode::Forbidden, message);
    let logged = failure.clone();
    let _ = tokio::task::spawn_blocking(move || {
        let (runner, chain) = prepare(&shared, &headers, from, &claims, Vec::new());
        runner.refuse_in_log(&runbook, &chain, logged, FORBIDDEN_STATUS)
    })
    .await;
    Err(Refusal(StatusCode::FORBIDDEN, failure))
}

fn body(text: &str) -> Result<RunRequest, Refusal> {
    RunRequest::parse(text).map_err(|why| refusal(StatusCode::BAD_REQUEST, ErrorCode::ConfigInvalid, why))
}

/// What one request's run needs: the runner with the caller's seams, and
/// the chain it continues.
fn prepare(
    shared: &Shared,
    headers: &HeaderMap,
    from: SocketAddr,
    claims: &Map<String, Value>,
    approve: Vec<String>,
) -> (crate::run::Runner, Chain) {
    let correlation_id = correlation_id(headers);
    let caller = Arc::new(Caller {
        user: subject(claims),
        from_ip: Some(from.ip().to_string()),
        correlation_id: correlation_id.clone(),
        claims: claims.clone(),
    });
    let seams = Seams {
        approver: Arc::new(TokenApprover { approve, claims: claims.clone() }),
        events: Arc::new(Quiet),
        ids: caller,
        cancel: shared.cancel.clone(),
        ..Seams::default()
    };
    let deadline = Instant::now() + shared.config.request_timeout;
    (shared.runner.with(seams, Some(deadline)), chain(headers, correlation_id))
}

#[utoipa::path(post, path = "/api/runbooks/{name}/execute", security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "The runbook's file name"),
        ("X-Correlation-Id" = Option<String>, Header, description = "The chain's id (else traceparent's, else new)"),
        ("X-Recursion-Stack" = Option<String>, Header, description = "The chain so far: a JSON array of file names"),
    ),
    request_body = RunRequest,
    responses(
        (status = 200, description = "It ran: its report (return_code is its exit status)", body = Executed),
        (status = 400, description = "A bad name or body; or refused before any step (invalid, recursion): then the whole report, with its `error`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Required Claims not met, or a grant the server lacks: the report, with its `error`", body = ErrorBody),
        (status = 404, description = "No runbook by that name", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "Too many executions at once (Retry-After), or shutting down", body = ErrorBody),
    ))]
pub(crate) async fn execute(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Extension(Claims(claims)): Extension<Claims>,
    Path(name): Path<String>,
    headers: HeaderMap,
    text: String,
) -> Response {
    let (request, runbook) = match admit(&shared, &text, &name) {
        Ok(admitted) => admitted,
        Err(refused) => return refused.into_response(),
    };
    let Ok(_slot) = shared.slots.try_acquire() else {
        let mut busy = refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Interrupted,
            "too many executions at once; retry shortly",
        )
        .into_response();
        busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    let env = request.env().into_iter().collect();
    let shared_for_run = Arc::clone(&shared);
    let ran = tokio::task::spawn_blocking(move || {
        // The runner checks the caller's claims (Caller's) against the
        // runbook's, and its sub-runbooks'.
        let (mut runner, chain) = prepare(&shared_for_run, &headers, from, &claims, request.approve);
        runner.set_env(env);
        runner.run_in_chain(&runbook, &request.inputs, &chain)
    })
    .await;
    match ran {
        Ok(report) => {
            let executed = Executed::of(report);
            let status = StatusCode::from_u16(executed.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(executed)).into_response()
        }
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::RuntimeError, e.to_string()).into_response(),
    }
}

#[utoipa::path(post, path = "/api/runbooks/{name}/validate", security(("bearer" = [])),
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
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Extension(Claims(claims)): Extension<Claims>,
    Path(name): Path<String>,
    headers: HeaderMap,
    text: String,
) -> Response {
    let (request, runbook) = match admit(&shared, &text, &name) {
        Ok(admitted) => admitted,
        // What is wrong with the request is a validation's answer too.
        Err(Refusal(StatusCode::BAD_REQUEST, failure)) => {
            let problems = vec![failure.message];
            let answer = Validated { valid: false, asks: Vec::new(), problems };
            return (StatusCode::BAD_REQUEST, Json(answer)).into_response();
        }
        Err(refused) => return refused.into_response(),
    };
    if let Err(refused) = may_read(&shared, &headers, from, &claims, &runbook).await {
        return refused.into_response();
    }
    let shared_for_run = Arc::clone(&shared);
    let checked = tokio::task::spawn_blocking(move || {
        let (runner, _chain) = prepare(&shared_for_run, &headers, from, &claims, Vec::new());
        let host = Host {
            env: request.env().into_iter().collect(),
            inputs: request.inputs,
            secrets: runner.config().secrets.clone(),
            validating: true,
            protected: runner.config().protected(),
            sealed_env: false,
        };
        plan::check(&runbook, &host)
            .map(|plan| plan.asks)
            .map_err(|problems| problems.iter().map(|p| p.located(&runbook.file_name())).collect::<Vec<_>>())
    })
    .await;
    match ran_or_500(checked) {
        Ok(Ok(asks)) => {
            let asks = asks.iter().map(|a| AskShown { ask: a.to_string(), flag: a.flag() }).collect();
            Json(Validated { valid: true, asks, problems: Vec::new() }).into_response()
        }
        Ok(Err(problems)) => {
            (StatusCode::BAD_REQUEST, Json(Validated { valid: false, asks: Vec::new(), problems })).into_response()
        }
        Err(refused) => refused.into_response(),
    }
}

fn ran_or_500<T>(joined: Result<T, tokio::task::JoinError>) -> Result<T, Refusal> {
    joined.map_err(|e| refusal(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::RuntimeError, e.to_string()))
}
