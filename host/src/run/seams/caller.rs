//! Who runs a runbook, as the run records it and checks it: the local user
//! (the [`System`](super::clock::System)'s `$USER`), an API caller's token, or
//! a fixed one. The runner asks its [`Caller`] for the ids it records and,
//! for an API caller, the claims a runbook's Required Claims are checked
//! against.

use serde_json::{Map, Value};

use super::clock::{Fixed, System};
use crate::error::{ErrorCode, Failure};
use crate::model::ClaimRequirement;
use crate::plan::claims::missing_claim;

/// Who runs: the ids a run records (the user, where from, the
/// correlation id of a new chain), the claims of an API caller, and the
/// handle a run's steps call the API with.
pub trait Caller: Send + Sync {
    /// A new execution's correlation id.
    fn correlation_id(&self) -> String;
    /// A new execution's own id: a UUIDv7, so ids sort by when they started.
    fn execution_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
    /// Who runs it.
    fn user(&self) -> String;
    /// Where the request came from, for a server.
    fn remote_ip(&self) -> Option<String> {
        None
    }
    /// The claims of the token an API caller presented, which a runbook's
    /// Required Claims are checked against; none when the local user runs
    /// (the local user is the authority on their own machine).
    fn claims(&self) -> Option<&Map<String, Value>> {
        None
    }
    /// Why this caller may not see or run a runbook that requires
    /// `required`: the first Required Claim its token does not meet. The
    /// one place Required Claims are decided, for the API's reads and for
    /// every run of a chain.
    fn refusal(&self, required: &[ClaimRequirement]) -> Option<Failure> {
        let message = missing_claim(required, self.claims()?)?;
        Some(Failure::new(ErrorCode::Forbidden, message))
    }
    /// A new run's `RUNBOOK_API_TOKEN`: an opaque handle that only that
    /// run's steps can use, toward the API base URL.
    fn api_handle(&self) -> String {
        format!("runbox-handle-{}", uuid::Uuid::new_v4().simple())
    }
}

impl Caller for System {
    fn correlation_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// `$USER`, else the account of this process's user (cron, systemd units
    /// and containers often run without `USER`), else `uid N`.
    fn user(&self) -> String {
        let uid = rustix::process::geteuid().as_raw();
        std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| account_name(uid))
            .unwrap_or_else(|| format!("uid {uid}"))
    }
}

/// The passwd entry's name of `uid` (files, LDAP, whatever NSS says).
#[allow(unsafe_code)]
fn account_name(uid: u32) -> Option<String> {
    let mut buffer = vec![0 as libc::c_char; 16 << 10];
    // SAFETY: an all-zero passwd is a valid value of the plain C struct.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the size given; the entry's
    // strings point into `buffer`, read before it is dropped.
    let status = unsafe { libc::getpwuid_r(uid, &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found) };
    if status != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so pw_name is a NUL-terminated string in `buffer`.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    name.to_str().ok().filter(|n| !n.is_empty()).map(str::to_string)
}

impl Caller for Fixed {
    fn correlation_id(&self) -> String {
        self.correlation_id.clone()
    }

    fn user(&self) -> String {
        self.user.clone()
    }
}
