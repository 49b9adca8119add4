//! The seam through which a step starts a sub-runbook. The sandbox knows
//! nothing of runbooks: `run/` implements [`Calls`] and hands it to each step
//! in its [`StepContext`](super::StepContext), and the guests' `runbooks`
//! import calls it.

use std::fmt;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::error::Failure;

/// A sub-runbook a step asks to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The runbook's file name, beside the calling runbook.
    pub runbook: String,
    /// Values for the child's declared variables.
    pub env: Vec<(String, String)>,
    pub inputs: Map<String, Value>,
    /// When the calling step must end: the child's time counts against it.
    pub deadline: Instant,
}

/// What the sub-runbook did.
#[derive(Clone, Debug, PartialEq)]
pub struct Called {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The last step's result, if it returned one.
    pub result: Option<Value>,
}

/// A request a step sent to the API base URL (the
/// `RUNBOOK_API_BASE_URL`), which the host answers itself.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    pub method: String,
    /// The path below the base URL, with its query: `/api/runbooks/X/execute`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the calling step must end.
    pub deadline: Instant,
}

/// The host's answer to an [`ApiRequest`]: a JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Runs sub-runbooks on a step's behalf. A refusal (recursion, an unknown
/// runbook, a grant the parent lacks) is a [`Failure`]; a child that ran
/// and failed is a [`Called`] with its exit code.
pub trait Calls: Send + Sync {
    fn call(&self, call: Call) -> Result<Called, Failure>;

    /// The base URL whose requests [`Calls::serve`] answers in process: a
    /// step's request there never reaches the network.
    fn api_base_url(&self) -> &str;

    /// Answers a step's request to the API base URL as the API would, with
    /// the identity of whoever started the run.
    fn serve(&self, request: ApiRequest) -> ApiResponse;
}

impl fmt::Debug for dyn Calls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Calls")
    }
}
