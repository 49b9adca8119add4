//! Required Claims: a runbook's RBAC, checked against the claims
//! of the token an API caller presented. They bind API callers only: under
//! `runbox run` the local user is the authority.

use serde_json::{Map, Value};

use crate::model::ClaimRequirement;

/// The caller's name for records: the token's `sub`.
pub fn subject(claims: &Map<String, Value>) -> String {
    claims.get("sub").and_then(Value::as_str).unwrap_or("unknown").to_string()
}

/// The values a claim holds: a string or an array of strings.
pub fn held(claims: &Map<String, Value>, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// The refusal for the first Required Claim the token does not meet.
pub fn missing_claim(required: &[ClaimRequirement], claims: &Map<String, Value>) -> Option<String> {
    let unmet = required.iter().find(|r| {
        let held = held(claims, &r.claim);
        !r.values.iter().any(|v| held.contains(v))
    })?;
    let what = unmet.claim.strip_suffix('s').unwrap_or(&unmet.claim);
    Some(format!(
        "RBAC Failure: Access denied for user {}. Missing required {what}: {}",
        subject(claims),
        unmet.values.join(" or ")
    ))
}
