//! The runbook API's calls from inside a run. A step sees
//! `RUNBOOK_API_BASE_URL` and `RUNBOOK_API_TOKEN` (an opaque handle, never
//! the caller's token); a request to the base URL carrying the handle is
//! answered here, in process, as the API answers it: `POST
//! /api/runbooks/{name}/execute` runs a sub-runbook of this run, with its
//! identity (the API caller's claims bind the child too), its grants, its
//! chain and its correlation id. The handle opens nothing else, and nothing
//! sent to the base URL reaches the network.

use serde::Serialize;

use super::execute::{ErrorBody, Executed, MAX_BODY_BYTES, RunRequest};
use crate::error::{ErrorCode, Failure};
use crate::run::records::report::RunReport;
use crate::sandbox::{ApiRequest, ApiResponse, Call};

/// Answers `request`, a step's request to the API base URL, for the run
/// whose handle is `handle`: `execute` runs a sub-runbook of that run.
pub(super) fn serve(
    handle: &str,
    request: ApiRequest,
    execute: impl FnOnce(Call) -> Result<RunReport, Failure>,
) -> ApiResponse {
    let path = request.path.split_once('?').map_or(request.path.as_str(), |(path, _)| path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => json(200, &serde_json::json!({ "status": "ok" })),
        (method, ["api", "runbooks", name, "execute"]) => {
            if method != "POST" {
                return refused(405, ErrorCode::ConfigInvalid, format!("{method} {path}: execute takes POST"));
            }
            if request.body.len() > MAX_BODY_BYTES {
                let message = format!("the request body is larger than {MAX_BODY_BYTES} bytes");
                return refused(413, ErrorCode::ConfigInvalid, message);
            }
            if !authorized(handle, &request.headers) {
                return refused(
                    401,
                    ErrorCode::Unauthorized,
                    "a step's API calls need `Authorization: Bearer $RUNBOOK_API_TOKEN`",
                );
            }
            run(name, &request, execute)
        }
        (method, _) => refused(
            404,
            ErrorCode::NotFound,
            format!(
                "{method} {path}: a step reaches only POST /api/runbooks/{{name}}/execute and GET /health through RUNBOOK_API_BASE_URL"
            ),
        ),
    }
}

fn run(name: &str, request: &ApiRequest, execute: impl FnOnce(Call) -> Result<RunReport, Failure>) -> ApiResponse {
    let Some(name) = percent_decoded(name) else {
        return refused(400, ErrorCode::ConfigInvalid, format!("`{name}` is not a runbook's file name"));
    };
    let body = match RunRequest::parse(&String::from_utf8_lossy(&request.body)) {
        Ok(body) => body,
        Err(why) => return refused(400, ErrorCode::ConfigInvalid, why),
    };
    if !body.approve.is_empty() {
        // An approval is a person's; a step may not give one for its child.
        return refused(
            400,
            ErrorCode::ConfigInvalid,
            "`approve` is refused from inside a run: a step cannot approve a sub-runbook's steps",
        );
    }
    let call = Call { runbook: name, env: body.env(), inputs: body.inputs, deadline: request.deadline };
    match execute(call) {
        Ok(report) => {
            let executed = Executed::of(report);
            json(executed.status(), &executed)
        }
        Err(failure) => {
            let status = failure.code.http_status();
            json(status, &ErrorBody { error: failure })
        }
    }
}

/// Whether `headers` carry the run's handle as the bearer token.
fn authorized(handle: &str, headers: &[(String, String)]) -> bool {
    headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization")
            && value.trim().strip_prefix("Bearer ").is_some_and(|token| token.trim() == handle)
    })
}

fn refused(status: u16, code: ErrorCode, message: impl Into<String>) -> ApiResponse {
    json(status, &ErrorBody { error: Failure::new(code, message) })
}

fn json(status: u16, body: &impl Serialize) -> ApiResponse {
    ApiResponse { status, body: serde_json::to_vec(body).unwrap_or_default() }
}

/// `segment` with its `%XX` escapes decoded, if they decode to UTF-8.
fn percent_decoded(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn escapes_decode_and_bad_ones_are_refused() {
        assert_eq!(percent_decoded("Simple%20Runbook.md").as_deref(), Some("Simple Runbook.md"));
        assert_eq!(percent_decoded("%2e%2e").as_deref(), Some(".."));
        assert_eq!(percent_decoded("a%2"), None);
        assert_eq!(percent_decoded("a%zz"), None);
        assert_eq!(percent_decoded("%ff"), None);
    }
}
