//! How runbox says what went wrong: the stable error codes (README: Limits and error codes) and
//! the exit statuses they map to, a step's or run's [`Failure`], and the
//! [`Problem`]s found in a runbook file ([`Invalid`]).
//!
//! The bottom of the house: this file imports nothing of the crate.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a step or a runbook failed. The names are part of the public contract:
/// they appear in `--json` output, history and the JSON log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Stopped by Ctrl-C, SIGTERM or a server shutting down.
    Interrupted,
    /// No runbook by that name (a sub-runbook call, an API path).
    NotFound,
    /// An API request without a valid token (HTTP 401).
    Unauthorized,
    /// A run's tree of sub-runbooks passed its bound on executions or on
    /// the bytes its records take.
    TreeLimit,
    /// An API server had no free execution slot (HTTP 503, `Retry-After`).
    Busy,
    /// An API request to change an execution that has already ended (HTTP 409).
    Finished,
    /// The record store could not be read or written (HTTP 503).
    StoreUnavailable,
    /// A Job's container image could not be pulled (or named).
    ImageUnavailable,
    /// A Job's pod was evicted from its node (pressure, drain, preemption).
    Evicted,
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
            | ErrorCode::RecursionDepthExceeded
            | ErrorCode::TreeLimit => 2,
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
            // 128 + SIGINT; a step stopped by another signal exits 128 + it.
            ErrorCode::Interrupted => 130,
            ErrorCode::NotFound => 2,
            ErrorCode::Unauthorized => 77,
            // EX_TEMPFAIL from sysexits.h: try again later.
            ErrorCode::Busy | ErrorCode::StoreUnavailable => 75,
            ErrorCode::Finished => 2,
            // What `docker run` exits with when the container cannot start.
            ErrorCode::ImageUnavailable => 125,
            // 128 + SIGTERM: the kubelet stops an evicted pod's containers.
            ErrorCode::Evicted => 143,
        }
    }

    /// The HTTP status an API answers a refusal with this code: 403 for
    /// what the caller may not do, 404 for what is not there, 503 for a
    /// server that is busy or stopping, 409 for a change to what has ended,
    /// 400 for the rest.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::PermissionDenied | ErrorCode::Forbidden => 403,
            ErrorCode::Unauthorized => 401,
            ErrorCode::NotFound => 404,
            ErrorCode::Finished => 409,
            ErrorCode::Interrupted | ErrorCode::Busy | ErrorCode::StoreUnavailable => 503,
            _ => 400,
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
            ErrorCode::Interrupted => "Interrupted",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::TreeLimit => "TreeLimit",
            ErrorCode::Busy => "Busy",
            ErrorCode::Finished => "Finished",
            ErrorCode::StoreUnavailable => "StoreUnavailable",
            ErrorCode::ImageUnavailable => "ImageUnavailable",
            ErrorCode::Evicted => "Evicted",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a step or a run failed: what `--json`, history and the JSON log
/// carry. Its [`Display`](fmt::Display) is the one `Code: message` form every
/// report uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    /// Where in the script, when the guest said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), line: None, column: None, stack: None }
    }

    /// The runbook, a template in it or what it was given is not valid.
    pub fn config(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::ConfigInvalid, message)
    }

    /// Something the user did not grant, or the machine does not allow.
    pub fn denied(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::PermissionDenied, message)
    }

    /// A step, in either tier, that ran past its timeout.
    pub fn timeout(limit: Duration) -> Failure {
        Failure::new(ErrorCode::Timeout, format!("the step ran past its {limit:?} timeout"))
    }

    /// A step, in either tier, that wrote more than `limit` bytes to `stream`.
    pub fn output_limit(limit: usize, stream: &str) -> Failure {
        Failure::new(ErrorCode::OutputLimit, format!("the step wrote more than {limit} bytes to {stream}"))
    }

    /// A guest that needed more than `limit` bytes of memory.
    pub fn memory_limit(limit: u64) -> Failure {
        Failure::new(ErrorCode::MemoryLimit, format!("the step needed more than {limit} bytes of memory"))
    }

    /// A guest that used up its `fuel`.
    pub fn out_of_fuel(fuel: u64) -> Failure {
        Failure::new(ErrorCode::OutOfFuel, format!("the step used up its fuel ({fuel} units)"))
    }

    /// A step, in either tier, stopped by `signal` (Ctrl-C, SIGTERM, a
    /// server's cancellation).
    pub fn interrupted(signal: Option<i32>) -> Failure {
        let how = match signal {
            Some(2) => " (SIGINT)".to_string(),
            Some(15) => " (SIGTERM)".to_string(),
            Some(other) => format!(" (signal {other})"),
            None => String::new(),
        };
        Failure::new(ErrorCode::Interrupted, format!("the step was interrupted{how}"))
    }

    /// A script's own exit status, in either tier: none for 0, the shell's
    /// convention for 127. (126, "found but not runnable", is the script's
    /// failure as any other status is: its shell said why.)
    pub fn exit_status(status: i32) -> Option<Failure> {
        match status {
            0 => None,
            127 => Some(Failure::new(ErrorCode::CommandNotFound, "a command was not found (exit status 127)")),
            status => Some(Failure::new(ErrorCode::CommandFailed, format!("exit status {status}"))),
        }
    }

    /// The exit status a step stopped by this failure exits with: 128 +
    /// the signal for an interruption, the code's own otherwise.
    pub fn status(&self, signal: Option<i32>) -> i32 {
        match (self.code, signal) {
            (ErrorCode::Interrupted, Some(signal)) => 128 + signal,
            (code, _) => code.exit_status(),
        }
    }

    /// A stop by one of the step's limits or a cancellation, which the
    /// script cannot have said anything about.
    pub fn is_stop(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::Timeout
                | ErrorCode::OutOfFuel
                | ErrorCode::MemoryLimit
                | ErrorCode::OutputLimit
                | ErrorCode::Interrupted
        )
    }

    /// The script's commands said why on stderr already.
    pub fn said_by_script(&self) -> bool {
        matches!(self.code, ErrorCode::CommandFailed | ErrorCode::CommandNotFound)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Something wrong with a runbook, at a line of its file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problem {
    /// 1-based; 0: the file as a whole.
    pub line: usize,
    /// The 1-based column (in characters) where the span it is about
    /// starts, when known: a terminal shows a caret under it.
    pub column: Option<usize>,
    /// How many characters the span covers (0: the rest of the line).
    pub width: usize,
    pub message: String,
    /// Text on its line the problem is about, when the column is not
    /// known: a terminal puts the caret under it.
    pub mark: Option<String>,
    /// What to do about it: the nearest valid name, the form expected.
    pub help: Option<String>,
    /// A value the host did not give (a declared variable, a required
    /// input), which `runbox validate --lint` reports as a warning.
    pub missing: bool,
    /// Accepted, but not the way README writes it: `validate` warns, a
    /// run goes on.
    pub warning: bool,
}

impl Problem {
    pub fn new(line: usize, message: impl Into<String>) -> Problem {
        Problem { line, message: message.into(), ..Problem::default() }
    }

    /// A value the host did not give.
    pub fn missing(line: usize, message: impl Into<String>) -> Problem {
        Problem { missing: true, ..Problem::new(line, message) }
    }

    /// Accepted with a warning.
    pub fn warning(line: usize, message: impl Into<String>) -> Problem {
        Problem { warning: true, ..Problem::new(line, message) }
    }

    /// The span it is about: `width` characters from `column`.
    pub fn spanning(self, column: usize, width: usize) -> Problem {
        Problem { column: Some(column.max(1)), width, ..self }
    }

    /// The span it is about is where `text` first appears on its line (a
    /// template in a script): see [`Problem::span_in`].
    pub fn marking(self, text: impl Into<String>) -> Problem {
        Problem { mark: Some(text.into()), ..self }
    }

    /// The 1-based column and the width of the span on `line`, the text of
    /// its line: as given, or where its mark is.
    pub fn span_in(&self, line: &str) -> (Option<usize>, usize) {
        if self.column.is_some() {
            return (self.column, self.width);
        }
        match self.mark.as_deref().and_then(|mark| Some((line.find(mark)?, mark))) {
            Some((at, mark)) => (Some(line[..at].chars().count() + 1), mark.chars().count()),
            None => (None, 0),
        }
    }

    /// What to do about it.
    pub fn help(self, help: impl Into<String>) -> Problem {
        Problem { help: Some(help.into()), ..self }
    }

    /// `file:line: message; help`, or `file: message` for the whole file
    /// (line 0): the one-line form records and the API show.
    pub fn located(&self, file: &str) -> String {
        let help = self.help.as_ref().map_or(String::new(), |help| format!("; {help}"));
        match self.line {
            0 => format!("{file}: {}{help}", self.message),
            line => format!("{file}:{line}: {}{help}", self.message),
        }
    }
}

/// Every problem found in one runbook file.
#[derive(Clone, Debug, thiserror::Error)]
pub struct Invalid {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl Invalid {
    /// `value`, parsed from `file` with `problems`, when every problem is a
    /// warning; else the problems that are not.
    pub fn unless_warnings<T>(file: &std::path::Path, (value, problems): (T, Vec<Problem>)) -> Result<T, Invalid> {
        if problems.iter().all(|p| p.warning) {
            return Ok(value);
        }
        Err(Invalid { file: file.to_path_buf(), problems: problems.into_iter().filter(|p| !p.warning).collect() })
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{} is not a valid runbook ({n} problem{}):", self.file.display(), if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  {}", p.located(&self.file.display().to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tiers_say_a_script_status_and_a_stop_the_same_way() {
        let said = |status| Failure::exit_status(status).map(|f| f.to_string());
        assert_eq!(said(0), None);
        assert_eq!(said(3).as_deref(), Some("CommandFailed: exit status 3"));
        assert_eq!(said(127).as_deref(), Some("CommandNotFound: a command was not found (exit status 127)"));
        assert_eq!(said(126).as_deref(), Some("CommandFailed: exit status 126"));
        let interrupted = Failure::interrupted(Some(15));
        assert_eq!(interrupted.to_string(), "Interrupted: the step was interrupted (SIGTERM)");
        assert_eq!(interrupted.status(Some(15)), 143);
        assert_eq!(Failure::timeout(Duration::from_secs(2)).status(Some(2)), 124);
        assert_eq!(
            Failure::output_limit(5, "stderr").to_string(),
            "OutputLimit: the step wrote more than 5 bytes to stderr"
        );
        assert!(Failure::out_of_fuel(1).is_stop() && !Failure::config("x").is_stop());
        assert!(Failure::exit_status(1).unwrap().said_by_script());
    }
}
