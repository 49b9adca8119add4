//! The one body every refusal of the API has, whoever refuses — the guard
//! (no token, a body too large or too slow), a handler (a bad name, a
//! missing runbook, unmet Required Claims, a busy server) or the server
//! itself: its HTTP status and `{"error": {"code", "message"}}`. A run
//! refused after it was admitted answers its whole report instead
//! (`Executed`), whose `error` has the same shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::bodies::ErrorBody;
use crate::error::{ErrorCode, Failure};

/// A refusal: its status and its failure.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) failure: Failure,
    /// Seconds after which a busy server may be asked again.
    retry_after: Option<&'static str>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { status, failure: Failure::new(code, message), retry_after: None }
    }

    /// `failure` with the status its code answers with (403, 404, 503, 400).
    pub(crate) fn of(failure: Failure) -> Refusal {
        let status = StatusCode::from_u16(failure.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        Refusal { status, failure, retry_after: None }
    }

    /// 400: a request the API cannot take as it is.
    pub(crate) fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, ErrorCode::ConfigInvalid, message)
    }

    /// 500: the server failed, not the request.
    pub(crate) fn internal(error: impl std::fmt::Display) -> Refusal {
        Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::RuntimeError, error.to_string())
    }

    /// 503 with `Retry-After: 5`: the record store failed (`error` names it).
    pub(crate) fn store(error: impl std::fmt::Display) -> Refusal {
        let refusal = Refusal::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::StoreUnavailable, error.to_string());
        Refusal { retry_after: Some("5"), ..refusal }
    }

    /// 503 with `Retry-After: 1`: every execution slot is taken.
    pub(crate) fn busy() -> Refusal {
        let busy = "too many executions at once; retry shortly";
        Refusal { retry_after: Some("1"), ..Refusal::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, busy) }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ErrorBody { error: self.failure })).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        response
    }
}
