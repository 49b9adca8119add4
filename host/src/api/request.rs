//! What one request brings to a run: its caller ([`TokenCaller`], the
//! handlers' extractor) with the identity the records name, the chain it
//! continues (`X-Recursion-Stack`, `X-Correlation-Id` or W3C `traceparent`),
//! and the approvals its token can give.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::auth::may_approve;
use super::refusal::Refusal;
use crate::error::ErrorCode;
use crate::model::{Runbook, Step};
use crate::plan::claims::subject;
use crate::plan::consent::Ask;
use crate::run::Chain;
use crate::run::seams::approve::{Approved, Approver, ConsentAnswer, StepApproval};
use crate::run::seams::caller::Caller;

/// The claims of the caller's verified token, put on each request by the
/// guard before its body is read.
#[derive(Clone)]
pub(crate) struct Claims(pub(crate) Map<String, Value>);

/// The caller of a request, as the guard admitted it: the handlers' one
/// extractor of who is asking. Its token's claims (which the guard put on
/// the request), the address it came from, and the chain it continues.
#[derive(Clone)]
pub(crate) struct TokenCaller {
    pub(crate) user: String,
    pub(crate) from_ip: Option<String>,
    pub(crate) correlation_id: String,
    /// The token's claims: the Required Claims of the runbook and of every
    /// sub-runbook it calls are checked against them.
    pub(crate) claims: Map<String, Value>,
    /// `X-Recursion-Stack`: the runbooks above this request's run.
    pub(crate) stack: Vec<String>,
}

impl TokenCaller {
    /// The chain a run of this request continues.
    pub(crate) fn chain(&self) -> Chain {
        Chain { stack: self.stack.clone(), correlation_id: self.correlation_id.clone() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TokenCaller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<TokenCaller, Refusal> {
        // The guard puts the claims on every route but /health and /openapi.json.
        let Claims(claims) = parts.extensions.get::<Claims>().cloned().ok_or_else(|| {
            Refusal::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "no verified token on this request")
        })?;
        let from_ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let correlation_id = correlation_id(&parts.headers);
        let stack = parts
            .headers
            .get("x-recursion-stack")
            .and_then(|v| v.to_str().ok())
            .and_then(|text| serde_json::from_str::<Vec<String>>(text).ok())
            .unwrap_or_default();
        Ok(TokenCaller { user: subject(&claims), from_ip, correlation_id, claims, stack })
    }
}

impl Caller for TokenCaller {
    fn correlation_id(&self) -> String {
        self.correlation_id.clone()
    }

    fn user(&self) -> String {
        self.user.clone()
    }

    fn remote_ip(&self) -> Option<String> {
        self.from_ip.clone()
    }

    fn claims(&self) -> Option<&Map<String, Value>> {
        Some(&self.claims)
    }
}

/// Approves the steps a request names in `"approve"` when its token holds,
/// in `roles` or `groups`, one of the step's approvers. Consent beyond the
/// server's grants is never given per request.
pub(crate) struct TokenApprover {
    pub(crate) approve: Vec<String>,
    pub(crate) claims: Map<String, Value>,
}

impl Approver for TokenApprover {
    fn consent(&self, _: &Runbook, _: &[Ask]) -> ConsentAnswer {
        ConsentAnswer { granted: false, always: false, how: "not granted by the server" }
    }

    fn approve(&self, request: &StepApproval<'_>) -> Approved {
        let named = self.approve.iter().any(|s| s == &request.step.name);
        match (named, may_approve(request.approvers, &self.claims)) {
            (true, true) => Approved { approved: true, how: "request (token)" },
            (true, false) => Approved { approved: false, how: "request (token lacks an approver role)" },
            _ => Approved { approved: false, how: "non-interactive" },
        }
    }

    fn refuses_unasked(&self, step: &Step, approvers: &[String]) -> bool {
        !(self.approve.iter().any(|s| s == &step.name) && may_approve(approvers, &self.claims))
    }
}

/// The id the chain shares: `X-Correlation-Id` if it is a sane one, else
/// `traceparent`'s trace id, else a new one.
pub(crate) fn correlation_id(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let sane = |id: &&str| {
        !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    };
    if let Some(id) = header("x-correlation-id").filter(sane) {
        return id.to_string();
    }
    let trace = header("traceparent").and_then(|t| {
        let parts: Vec<&str> = t.split('-').collect();
        (parts.len() == 4 && parts[1].len() == 32 && parts[1].chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| parts[1].to_ascii_lowercase())
            .filter(|id| id.chars().any(|c| c != '0'))
    });
    trace.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
