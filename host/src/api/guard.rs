//! What stands before the handlers: the bearer token, checked before a
//! body is read (a client without one cannot make the server hold what it
//! announces), the body then read within the header timeout (a client with
//! one cannot hold it by withholding the last byte), and, on every answer,
//! where the server keeps its files replaced by names that say what they
//! are: no response shows the served folder's, the secrets', the state's
//! or the cache's absolute path.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;

use super::observe::Subject;
use super::refusal::Refusal;
use super::request::Claims;
use super::routes::authenticate;
use super::shared::{ServeConfig, Shared};
use crate::error::ErrorCode;
use crate::run::Runner;

/// Checks the caller's token (401 without), then reads the body, at most
/// `max_body` bytes within `header_timeout` (408 past it), and hands the
/// handler both.
pub(super) async fn admit(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let claims = match authenticate(&shared, request.headers()) {
        Ok(claims) => claims,
        Err(refused) => return refused.into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let limit = shared.config.max_body;
    let timeout = shared.config.header_timeout;
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            let message = format!("the request body is larger than {limit} bytes, or was cut off");
            return Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::ConfigInvalid, message).into_response();
        }
        Err(_) => {
            let message = format!("the request body did not arrive within {timeout:?}");
            return Refusal::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout, message).into_response();
        }
    };
    let subject = Subject(crate::plan::claims::subject(&claims));
    parts.extensions.insert(Claims(claims));
    let mut response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    response.extensions_mut().insert(subject);
    response
}

/// The server's own paths, longest first, each with what an answer says
/// instead: the served folder becomes relative names, the others their role.
pub(super) fn server_paths(config: &ServeConfig, runner: &Runner) -> Vec<(String, String)> {
    let run = runner.config();
    let mut named: Vec<(std::path::PathBuf, &str)> = vec![(config.dir.clone(), ".")];
    named.push((run.secrets.dir.clone(), "<secrets directory>"));
    if let Some(log) = &run.log {
        named.push((log.clone(), "<execution log>"));
        if let Some(parent) = log.parent() {
            named.push((parent.to_path_buf(), "<state directory>"));
        }
    }
    if let Some(path) = run.store.as_ref().and_then(|s| s.path()) {
        named.push((path.to_path_buf(), "<record store>"));
    }
    if let Some(dir) = run.cache.dir() {
        named.push((dir.to_path_buf(), "<cache>"));
    }
    if let Some(dir) = run.consent.dir() {
        named.push((dir.to_path_buf(), "<consent store>"));
    }
    let mut paths = Vec::new();
    for (path, name) in named {
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        for form in [path, real] {
            let text = form.display().to_string();
            // `/` or a relative path would rewrite what is not a path of ours.
            if text.len() > 1 && form.is_absolute() && !paths.iter().any(|(p, _)| *p == text) {
                paths.push((text, name.to_string()));
            }
        }
    }
    // A database's URL (without its password) names its user and host.
    if let Some(store) = run.store.as_ref().filter(|s| s.path().is_none()) {
        paths.push((store.name(), "<record store>".to_string()));
    }
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    paths
}

/// Rewrites the server's paths out of every answer: a whole body at once,
/// an event stream event by event (each is one frame) as it is sent.
pub(super) async fn hide_server_paths(request: Request, next: Next, paths: Arc<Vec<(String, String)>>) -> Response {
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let streamed = parts.headers.get(CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streamed {
        let frames = body.into_data_stream().map(move |frame| {
            frame.map(|bytes| match without_paths(&bytes, &paths) {
                Some(text) => Bytes::from(text),
                None => bytes,
            })
        });
        return Response::from_parts(parts, Body::from_stream(frames));
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Refusal::internal("cannot send the answer").into_response();
    };
    match without_paths(&bytes, &paths) {
        None => Response::from_parts(parts, Body::from(bytes)),
        Some(text) => {
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(text))
        }
    }
}

/// `bytes` with the server's paths replaced, if it holds any.
fn without_paths(bytes: &[u8], paths: &[(String, String)]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    if !paths.iter().any(|(p, _)| text.contains(p.as_str())) {
        return None;
    }
    let mut text = text.into_owned();
    for (path, name) in paths {
        // The served folder's files by their names, as the API names them.
        let within = if name == "." { String::new() } else { format!("{name}/") };
        text = text.replace(&format!("{path}/"), &within).replace(path.as_str(), name);
    }
    Some(text)
}
