//! The chain of executions a run belongs to: the runbooks above it, the
//! correlation id they share, the recursion checks, the breadcrumb each
//! record carries, and the system variables that tell a step its chain.

use time::format_description::well_known::Rfc3339;

use super::records::record::Breadcrumb;
use super::runner::Runner;
use crate::error::{ErrorCode, Failure};

/// The variables every step sees of its execution chain, which
/// neither a runbook nor `--env` can set.
pub use crate::model::SYSTEM_VARIABLES as CHAIN_VARIABLES;

/// The executions a run belongs to: the runbooks above it (outermost first,
/// by file name) and the correlation id they share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub stack: Vec<String>,
    pub correlation_id: String,
}

/// Why a runbook named `file` may not run below `chain`, if it may not.
pub(super) fn recursion_refusal(file: &str, chain: &[String], max_depth: usize) -> Option<Failure> {
    if chain.iter().any(|c| c == file) {
        let message = format!("Recursion detected: Runbook {file} already in execution chain: {chain:?}");
        return Some(Failure::new(ErrorCode::RecursionDetected, message));
    }
    let depth = chain.len() + 1;
    (depth > max_depth).then(|| {
        Failure::new(
            ErrorCode::RecursionDepthExceeded,
            format!("Recursion depth limit exceeded: {depth} (max: {max_depth})"),
        )
    })
}

impl Runner {
    /// `env` with the system variables, replacing any of the same
    /// names: the chain's, the API base URL, and the run's opaque handle in
    /// place of a token.
    pub(super) fn with_system_variables(
        &self,
        env: &[(String, String)],
        breadcrumb: &Breadcrumb,
        handle: &str,
    ) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            env.iter().filter(|(name, _)| !CHAIN_VARIABLES.contains(&name.as_str())).cloned().collect();
        let stack = serde_json::to_string(&breadcrumb.recursion_stack).unwrap_or_default();
        let values = [&breadcrumb.correlation_id, &stack, &self.config.api_base_url, &handle.to_string()];
        env.extend(CHAIN_VARIABLES.iter().zip(values).map(|(name, value)| (name.to_string(), value.clone())));
        env
    }

    /// A new execution whose chain of runbooks is `stack`.
    pub(super) fn breadcrumb(&self, stack: Vec<String>, correlation_id: String) -> Breadcrumb {
        Breadcrumb {
            at_time: self.seams.clock.now().format(&Rfc3339).unwrap_or_default(),
            by_user: self.seams.caller.user(),
            from_ip: self.seams.caller.remote_ip(),
            correlation_id,
            recursion_stack: stack,
        }
    }
}
