//! Why a step failed, as the sandbox reports it: the limit that stopped it,
//! the guest's own error (its message capped, a secret's withheld), and the
//! text an interpreter would print for it.

use std::time::Instant;

use wasmtime::Trap;
use wasmtime::component::ResourceTableError;

use super::bindings::js::runbox::sandbox::script::{ErrorKind, ScriptError};
use super::cancel::Cancel;
use super::output::Captured;
use super::script::{Outcome, Script};
use super::store::StepState;
use crate::error::{ErrorCode, Failure};

pub(crate) fn failed_to_start(started: Instant, error: anyhow::Error, say: impl Fn(&str)) -> Outcome {
    let text = format!("runbox: cannot start the sandbox: {error:#}\n");
    say(&text);
    Outcome {
        exit_code: ErrorCode::ConfigInvalid.exit_status(),
        stdout: Captured::default(),
        stderr: Captured { text, truncated: false },
        duration: started.elapsed(),
        fuel_consumed: 0,
        memory_peak: None,
        result: None,
        error: Some(Failure::new(ErrorCode::ConfigInvalid, format!("cannot start the sandbox: {error:#}"))),
        confinement: None,
        job: None,
    }
}

/// The interpreter's own messages about a secret script (`NAME: line 3: …`)
/// may quote its source; the records keep only where they point.
pub(crate) fn withhold_quoted_source(stderr: &str, filename: &str) -> String {
    let prefix = format!("{filename}: ");
    stderr
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix(&prefix) {
            Some(rest) => {
                let at = rest.split(": ").next().filter(|p| p.starts_with("line ")).unwrap_or("");
                format!(
                    "{prefix}{at}{}[message withheld: the script is secret]\n",
                    if at.is_empty() { "" } else { ": " }
                )
            }
            None => line.to_string(),
        })
        .collect()
}

/// The text a failed step adds to its stderr, as an interpreter would print it.
pub(crate) fn describe(error: &Failure, step: &Script) -> String {
    // `SyntaxError: SyntaxError: …` says nothing twice.
    let what =
        if error.message.starts_with(&format!("{}:", error.code)) { error.message.clone() } else { error.to_string() };
    let mut text = match (error.line, error.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}: {what}\n", step.filename),
        (Some(l), None) => format!("{}:{l}: {what}\n", step.filename),
        _ => format!("{what}\n"),
    };
    if let Some(stack) = &error.stack {
        text.push_str(stack.trim_end());
        text.push('\n');
    }
    text
}

/// Once per step, after the shell said `kubectl: command not found`: the
/// commands it could not find, and the tier that runs real tools.
pub(crate) fn native_hint(stderr: &str) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for line in stderr.lines() {
        let Some((before, _)) = line.split_once(": command not found") else { continue };
        let name = before.rsplit(": ").next().unwrap_or(before).trim();
        if !name.is_empty() && name.len() <= 64 && !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return None;
    }
    let shown = names.iter().take(5).map(|n| format!("`{}`", crate::text::visible(n))).collect::<Vec<_>>().join(", ");
    Some(format!(
        "runbox: {shown} {} not in the sandbox, whose commands are runbox's own; a native step \
         (```bash {{native}}```, or `native: true` in YAML, run with --allow-native) runs the machine's real tools\n",
        if names.len() == 1 { "is" } else { "are" }
    ))
}

/// The guest's report of a failed script. A secret script's messages and
/// stack may quote its code, so only their position is kept.
pub(crate) fn script_error(e: ScriptError, secret: bool) -> Failure {
    let code = match e.kind {
        ErrorKind::Syntax => ErrorCode::SyntaxError,
        ErrorKind::Runtime | ErrorKind::Unsettled => ErrorCode::RuntimeError,
    };
    if secret {
        let message = "the script comes from a secret, so the message is withheld".to_string();
        return Failure { code, message, line: e.line, column: e.column, stack: None };
    }
    // A guest chooses its message's size (`throw new Error('x'.repeat(3e7))`):
    // runbox keeps the start of it.
    let capped = |mut text: String| {
        crate::text::cut(&mut text, MAX_MESSAGE_BYTES, "error messages are kept up to 16 KiB");
        text
    };
    let stack = e.stack.map(|stack| capped(without_prelude(&stack))).filter(|s| !s.trim().is_empty());
    Failure { code, message: capped(e.message), line: e.line, column: e.column, stack }
}

/// `stack` without the frames of runbox's own JavaScript (`runbook.call`,
/// `fetch`, `fs`): the script's author can do nothing with them.
fn without_prelude(stack: &str) -> String {
    stack
        .lines()
        .filter(|l| !l.contains("(runbox:prelude:") && !l.trim().starts_with("at runbox:prelude:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// What is kept of a guest's error message, and of its stack.
const MAX_MESSAGE_BYTES: usize = 16 << 10;

/// Names the limit that stopped a guest, from what the store recorded.
pub(crate) fn stopped(state: &StepState, cancel: &Cancel, trap: &wasmtime::Error) -> Failure {
    let limits = &state.limits;
    if cancel.is_cancelled() {
        cancel.interrupted()
    } else if state.stdout.exceeded() || state.stderr.exceeded() {
        let stream = if state.stdout.exceeded() { "stdout" } else { "stderr" };
        Failure::output_limit(limits.output, stream)
    } else if state.memory.exceeded {
        Failure::memory_limit(limits.memory)
    } else if state.timed_out || Instant::now() >= state.deadline {
        Failure::timeout(limits.timeout)
    } else if matches!(trap.downcast_ref::<Trap>(), Some(Trap::OutOfFuel)) {
        Failure::out_of_fuel(limits.fuel)
    } else if matches!(trap.downcast_ref::<Trap>(), Some(Trap::StackOverflow | Trap::MemoryOutOfBounds)) {
        // The interpreter's stack is first in linear memory: overflowing it
        // faults below address 0. QuickJS checks its stack and throws a
        // RangeError the script can catch; this is what a recursion its check
        // does not cover ends in.
        Failure::new(
            ErrorCode::RuntimeError,
            "RangeError: Maximum call stack size exceeded (the step recursed too deeply)",
        )
    } else if trap.chain().any(|e| matches!(e.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full))) {
        Failure::new(
            ErrorCode::RuntimeError,
            "the step held too many files, directories and streams open at once (runbox allows a step \
             about 1024, as a default `ulimit -n` does, so that no step takes the host's descriptors from \
             the other runs); close what it is done with, or split the work",
        )
    } else {
        Failure::new(ErrorCode::RuntimeError, format!("the sandboxed interpreter crashed: {trap:#}"))
    }
}
