//! The stable error codes of SPEC §1.4 and the exit statuses they map to.

use serde::Serialize;

/// Why a step or a runbook failed. The names are part of the public contract:
/// they appear in `--json` output, history and the JSON log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    ConfigInvalid,
    InvalidCwd,
    SyntaxError,
    RuntimeError,
    CommandNotFound,
    CommandFailed,
    Timeout,
    OutOfFuel,
    MemoryLimit,
    OutputLimit,
    PermissionDenied,
    RecursionDetected,
    RecursionDepthExceeded,
    Forbidden,
    ApprovalRequired,
}

impl ErrorCode {
    /// The process exit status for this failure when the script itself gave
    /// none: shell conventions where one exists (124 timeout, 126, 127,
    /// 128+signal for the limits that mirror a signal).
    pub fn exit_status(self) -> i32 {
        match self {
            ErrorCode::ConfigInvalid
            | ErrorCode::InvalidCwd
            | ErrorCode::RecursionDetected
            | ErrorCode::RecursionDepthExceeded => 2,
            ErrorCode::SyntaxError | ErrorCode::RuntimeError | ErrorCode::CommandFailed => 1,
            ErrorCode::CommandNotFound => 127,
            ErrorCode::PermissionDenied => 126,
            ErrorCode::Timeout => 124,
            // SIGKILL, as the kernel's OOM killer would.
            ErrorCode::MemoryLimit => 137,
            // SIGXCPU: CPU time limit exceeded.
            ErrorCode::OutOfFuel => 152,
            // SIGXFSZ: file size limit exceeded.
            ErrorCode::OutputLimit => 153,
            // EX_NOPERM from sysexits.h.
            ErrorCode::Forbidden | ErrorCode::ApprovalRequired => 77,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ConfigInvalid => "ConfigInvalid",
            ErrorCode::InvalidCwd => "InvalidCwd",
            ErrorCode::SyntaxError => "SyntaxError",
            ErrorCode::RuntimeError => "RuntimeError",
            ErrorCode::CommandNotFound => "CommandNotFound",
            ErrorCode::CommandFailed => "CommandFailed",
            ErrorCode::Timeout => "Timeout",
            ErrorCode::OutOfFuel => "OutOfFuel",
            ErrorCode::MemoryLimit => "MemoryLimit",
            ErrorCode::OutputLimit => "OutputLimit",
            ErrorCode::PermissionDenied => "PermissionDenied",
            ErrorCode::RecursionDetected => "RecursionDetected",
            ErrorCode::RecursionDepthExceeded => "RecursionDepthExceeded",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::ApprovalRequired => "ApprovalRequired",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
