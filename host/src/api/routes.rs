//! The handlers of the HTTP API README describes. Each takes its caller
//! ([`TokenCaller`]) and answers a refusal with the one body
//! ([`Refusal`]); Required Claims are the caller's to decide
//! ([`Caller::refusal`]), for reads here and for runs in the runner.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::bodies::{
    AskShown, ErrorBody, Executed, Health, Listed, PastExecutions, RunRequest, RunbookList, Shown, Validated,
};
use super::refusal::Refusal;
use super::request::{TokenApprover, TokenCaller};
use super::shared::Shared;
use crate::catalog::{catalog, open_named};
use crate::model::Runbook;
use crate::plan::{self, Host};
use crate::run::records::past::executions;
use crate::run::seams::caller::Caller;
use crate::run::seams::events::Quiet;
use crate::run::{FORBIDDEN_STATUS, Runner, Seams};

/// The caller's claims, or 401.
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<serde_json::Map<String, serde_json::Value>, Refusal> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    shared
        .config
        .keys
        .verify(authorization)
        .map_err(|why| Refusal::new(StatusCode::UNAUTHORIZED, crate::error::ErrorCode::Unauthorized, why))
}

/// The runbook named `name` in the served folder: 404 if there is none,
/// 400 for a name that is not a runbook's file name or a runbook that does
/// not parse.
fn runbook(shared: &Shared, name: &str) -> Result<Runbook, Refusal> {
    match open_named(&shared.config.dir, name) {
        Ok(Ok(runbook)) => Ok(runbook),
        Ok(Err(invalid)) => Err(Refusal::bad_request(invalid.to_string())),
        Err(failure) => Err(Refusal::of(failure)),
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
    caller: TokenCaller,
    Path(name): Path<String>,
) -> Result<Json<Shown>, Refusal> {
    let runbook = runbook(&shared, &name)?;
    may_read(&shared, &caller, &runbook).await?;
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
    caller: TokenCaller,
    Path(name): Path<String>,
) -> Result<Json<PastExecutions>, Refusal> {
    let runbook = runbook(&shared, &name)?;
    may_read(&shared, &caller, &runbook).await?;
    let log = shared.runner.config().log.clone();
    let executions = executions(&runbook, log.as_deref()).map_err(Refusal::internal)?;
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
    let seams = Seams {
        approver: Arc::new(TokenApprover { approve, claims: caller.claims.clone() }),
        events: Arc::new(Quiet),
        caller: Arc::new(caller.clone()),
        cancel: shared.cancel.clone(),
        ..Seams::default()
    };
    let deadline = Instant::now() + shared.config.request_timeout;
    shared.runner.with(seams, Some(deadline))
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
    caller: TokenCaller,
    Path(name): Path<String>,
    text: String,
) -> Response {
    let (request, runbook) = match admit(&shared, &text, &name) {
        Ok(admitted) => admitted,
        Err(refused) => return refused.into_response(),
    };
    let Ok(_slot) = shared.slots.try_acquire() else { return Refusal::busy().into_response() };
    let env = request.env().into_iter().collect();
    let shared_for_run = Arc::clone(&shared);
    let ran = tokio::task::spawn_blocking(move || {
        // The runner checks the caller's claims against the runbook's, and
        // its sub-runbooks'.
        let mut runner = runner(&shared_for_run, &caller, request.approve);
        runner.set_env(env);
        runner.run_in_chain(&runbook, &request.inputs, &caller.chain())
    })
    .await;
    match ran {
        Ok(report) => {
            let executed = Executed::of(report);
            let status = StatusCode::from_u16(executed.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(executed)).into_response()
        }
        Err(e) => Refusal::internal(e).into_response(),
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
