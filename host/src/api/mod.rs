//! `runbox serve`: the HTTP API README describes. Every request
//! but `/health` carries a bearer JWT; runbooks are named by file name in
//! the served folder; each execution runs as `runbox run` would, bounded by
//! what the operator granted at `serve`, at most `max_concurrent` at once.
//!
//! Sits beside the CLI on top of `run/` (it imports `run/` and what is below
//! it; nothing imports it but the binary).

mod auth;
mod bodies;
mod events;
mod execution_routes;
mod executions;
mod guard;
mod keeper;
mod listen;
mod metrics;
mod observe;
mod oidc;
mod openapi;
mod refusal;
mod request;
mod routes;
mod shared;
mod spans;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Semaphore;

pub use auth::{Keys, MAX_MINTED_TTL, mint};
pub use shared::ServeConfig;

use crate::error::ErrorCode;
use crate::run::Runner;
use crate::sandbox::Cancel;
use crate::store::Replica;
use refusal::Refusal;
use shared::Shared;

/// What every handler of a server shares: its store is the runner's.
fn shared(config: ServeConfig, runner: Runner, cancel: Cancel) -> anyhow::Result<Arc<Shared>> {
    let store = runner.config().store.clone().context("a server needs a record store (--store)")?;
    let slots = Arc::new(Semaphore::new(config.max_concurrent.max(1)));
    Ok(Arc::new(Shared {
        config,
        runner,
        slots,
        cancel,
        executions: Default::default(),
        metrics: Default::default(),
        spans: spans::Spans::from_env()?,
        store,
        replica: Replica::this(),
        store_alive: AtomicBool::new(true),
        others_share: AtomicBool::new(true),
    }))
}

/// The API's routes.
fn router(shared: Arc<Shared>) -> Router {
    let max_body = shared.config.max_body;
    let hidden = Arc::new(guard::server_paths(&shared.config, &shared.runner));
    Router::new()
        .route("/api/runbooks", get(routes::list))
        .route("/api/runbooks/{name}", get(routes::show))
        .route("/api/runbooks/{name}/history", get(routes::history))
        .route("/api/runbooks/{name}/execute", post(routes::execute))
        .route("/api/runbooks/{name}/validate", post(routes::validate))
        .route("/api/executions", get(execution_routes::list))
        .route("/api/executions/{execution_id}", get(execution_routes::show).delete(execution_routes::cancel))
        .route("/api/executions/{execution_id}/cancel", post(execution_routes::cancel_by_post))
        .route("/api/executions/{execution_id}/events", get(execution_routes::events))
        // The token first, then (only for a caller who has one) the body.
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), guard::admit))
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .route("/openapi.json", get(openapi::serve))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            guard::hide_server_paths(request, next, Arc::clone(&hidden))
        }))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            refuse_announced_size(request, next, max_body)
        }))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), observe::observe))
        .with_state(shared)
}

/// 404 with the API's error body.
async fn no_route(request: Request) -> Refusal {
    let message = format!("no route {} (see /openapi.json)", request.uri().path());
    Refusal::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
}

/// 405 with the API's error body.
async fn no_method(request: Request) -> Refusal {
    let message =
        format!("{} is not allowed on {} (see Allow and /openapi.json)", request.method(), request.uri().path());
    Refusal::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::NotFound, message)
}

/// A body announced larger than the cap is refused before it is read: a
/// client cannot hold a connection open by trickling a huge body.
async fn refuse_announced_size(request: Request, next: Next, max_body: usize) -> Response {
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_body as u64) {
        let message = format!("the request body is larger than {max_body} bytes");
        return Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::ConfigInvalid, message).into_response();
    }
    next.run(request).await
}

/// Serves on `listener` until SIGINT or SIGTERM, then stops accepting, trips
/// `cancel` so running steps end (recorded as interrupted), and returns
/// once every response is sent. `ready` is told the address it listens on.
pub fn serve(
    config: ServeConfig,
    listener: std::net::TcpListener,
    runner: Runner,
    cancel: Cancel,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    // Executions call guests on the blocking threads: give them the stack
    // guests need (reserved, not touched), not tokio's 2 MiB.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(crate::sandbox::GUEST_THREAD_STACK)
        .on_thread_start(crate::sandbox::roomy_thread)
        .build()?;
    listener.set_nonblocking(true)?;
    let header_timeout = config.header_timeout;
    let per_peer = config.max_connections_per_peer;
    let shared = shared(config, runner, cancel.clone())?;
    // Before the first request: this server is known, and the executions of
    // servers that died (this one before a restart among them) are ended.
    let ended = keeper::start(&shared)?;
    let flushed = Arc::clone(&shared);
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        ready(listener.local_addr()?);
        keeper::say_ended(ended);
        tokio::spawn(keeper::keep(Arc::clone(&shared)));
        let app = router(shared);
        let shutdown = async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let signal = tokio::select! {
                _ = tokio::signal::ctrl_c() => crate::sandbox::SIGINT,
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => crate::sandbox::SIGTERM,
            };
            cancel.cancel(signal);
        };
        listen::accept(listener, app, header_timeout, per_peer, shutdown).await;
        Ok(())
    });
    // The spans of the last answers, before the process exits.
    flushed.spans.flush();
    served
}
