//! runbox's shell step: the bashkit interpreter as a WASI Preview 2
//! component. Every command is a builtin inside the guest — there are no
//! processes to spawn — and files are the step's preopened mounts.
//! Output streams to WASI stdout/stderr as the script writes it, so the
//! host's output caps and live echo apply.

// The generated bindings pass `http::send`'s request as its fields.
#![allow(clippy::too_many_arguments)]

mod bc;
mod curl;
mod dirname;
mod expr;
mod getopt;
mod runbook;
mod seq;
mod sleep;
mod text;
mod wasi_fs;
mod yes;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use bashkit::{Bash, ExecOptions, ExecutionLimits, MemoryLimits, PosixFs, SessionLimits};

wit_bindgen::generate!({ path: "../../wit", world: "sh-snapshot" });

use runbox::sandbox::script::ErrorKind;

/// bashkit's own budgets are lifted: the host's fuel, deadline, memory and
/// output caps govern the step, with the same meaning for every language.
fn limits() -> ExecutionLimits {
    let unlimited = usize::MAX / 2;
    ExecutionLimits::new()
        .max_commands(unlimited)
        .max_loop_iterations(unlimited)
        .max_total_loop_iterations(unlimited)
        .max_work_units(u64::MAX / 2)
        .max_aggregate_input_bytes(u64::MAX / 2)
        .timeout(Duration::from_secs(10 * 365 * 24 * 3600))
        .max_stdout_bytes(unlimited)
        .max_stderr_bytes(unlimited)
        // Buffers of pipes and substitutions, the fields of one word split,
        // a script's size and its parse: the step's memory and fuel bound them.
        .max_live_intermediate_bytes(u64::MAX / 2)
        .max_word_split_fields(unlimited)
        .max_word_split_bytes(unlimited)
        .max_input_bytes(unlimited)
        .max_parser_operations(unlimited)
        .parser_timeout(Duration::from_secs(10 * 365 * 24 * 3600))
}

fn memory_limits() -> MemoryLimits {
    let unlimited = usize::MAX / 2;
    MemoryLimits::new()
        .max_variable_count(unlimited)
        .max_total_variable_bytes(unlimited)
        .max_array_entries(unlimited)
        .max_function_count(unlimited)
}

/// The interpreter with its ~180 builtins registered: built once per
/// instance, by `wizer-initialize` when the host snapshots the guest. It
/// touches no file or variable until a script runs.
fn interpreter() -> Box<Bash> {
    // Boxed: the interpreter is a large value, and every move of it would
    // copy it whole.
    Box::new(
        Bash::builder()
            .fs(Arc::new(PosixFs::new(wasi_fs::WasiFs::default())))
            .limits(limits())
            .session_limits(SessionLimits::unlimited())
            .memory_limits(memory_limits())
            .username("runbox")
            .hostname("sandbox")
            .builtin("curl", Box::new(curl::Curl))
            .builtin("runbook", Box::new(runbook::Runbook))
            // bashkit caps these (60 s of sleep, 100 000 lines of seq,
            // 10 000 of yes);
            // runbox's caps are the step's deadline, output and fuel.
            .command("sleep", sleep::Sleep)
            .command("seq", seq::Seq)
            .command("yes", yes::Yes)
            // Missing (getopt) or wrong (expr's parentheses, bc's floats)
            // in bashkit.
            .command("bc", bc::Bc)
            .command("getopt", getopt::Getopt)
            .command("expr", expr::Expr)
            // bashkit's has no `-z`.
            .command("dirname", dirname::Dirname)
            // Read their files a chunk at a time and stream through pipes
            // (bashkit's hold whole files and every stage's output).
            .command("awk", text::awk::Awk)
            .command("cat", text::cat::Cat)
            .command("cut", text::cut::Cut)
            .command("grep", text::grep::Grep)
            .command("head", text::head::Head)
            .command("sed", text::sed::Sed)
            .command("sort", text::sort::Sort)
            .command("split", text::split::Split)
            .command("csplit", text::csplit::Csplit)
            .command("tail", text::tail::Tail)
            .command("tr", text::tr::Tr)
            .command("uniq", text::uniq::Uniq)
            .command("wc", text::wc::Wc)
            .build(),
    )
}

thread_local! {
    static PREPARED: std::cell::RefCell<Option<Box<Bash>>> = const { std::cell::RefCell::new(None) };
}

/// A script whose first command does not parse never starts, as with
/// bash; a later syntax error ends it there, with status 2, as bash does.
fn check_syntax(step: &ShStep) -> Result<(), ScriptError> {
    match bashkit::parser::Parser::with_limits(&step.source, AST_DEPTH, usize::MAX / 2).parse_recovering() {
        (script, Some(error)) if script.commands.is_empty() => Err(script_error(step, error, 0, 0)),
        _ => Ok(()),
    }
}

/// The first syntax error anywhere in the script, for `runbox validate`.
fn check_whole(step: &ShStep) -> Result<(), ScriptError> {
    let parser = bashkit::parser::Parser::with_limits(&step.source, AST_DEPTH, usize::MAX / 2);
    parser.parse().map(drop).map_err(|error| script_error(step, error, 0, 0))
}

/// The nesting bashkit parses (its default): deeper would overflow the
/// guest's stack.
const AST_DEPTH: usize = 100;

/// A bashkit error as the host reports it: positions in the user's file.
/// `prefix` is what runbox put before the script on its first line, and
/// `lines_before` the lines it put before that (a script that starts at
/// line `first_line` of its file is run below `first_line - 1` empty
/// lines, so that bash's own messages and `$LINENO` count the file's lines).
fn script_error(step: &ShStep, error: bashkit::Error, prefix: usize, lines_before: usize) -> ScriptError {
    let first_line = step.first_line.max(1) as usize;
    match error {
        bashkit::Error::Parse { message, line, column } => {
            // The line in the script's own numbering, from 1.
            let own = line.saturating_sub(lines_before);
            ScriptError {
                kind: ErrorKind::Syntax,
                message: format!("syntax error: {message}"),
                line: u32::try_from(own + first_line - 1).ok().filter(|_| own > 0),
                column: u32::try_from(column)
                    .ok()
                    .filter(|&c| c > 0)
                    .map(|c| if own <= 1 { c.saturating_sub(prefix as u32).max(1) } else { c }),
                stack: None,
            }
        }
        bashkit::Error::ResourceLimit(limit) => ScriptError {
            kind: ErrorKind::Runtime,
            message: format!(
                "the shell interpreter's fixed limit: {limit}; runbox's shell (bashkit) cannot go past it, \
                 whatever the step's limits (see docs/shell-compat.md)"
            ),
            line: None,
            column: None,
            stack: None,
        },
        other => {
            ScriptError { kind: ErrorKind::Runtime, message: other.to_string(), line: None, column: None, stack: None }
        }
    }
}

fn run(step: ShStep) -> Result<i32, ScriptError> {
    check_syntax(&step)?;
    let mut bash = PREPARED.with(|p| p.borrow_mut().take()).unwrap_or_else(interpreter);
    let mut state = bash.shell_state();
    state.cwd = step.cwd.clone().into();
    state.env.extend(std::env::vars());
    // bash inherits these from its environment, so they are exported: a
    // command (`env`, awk's `ENVIRON`) sees them. bashkit has them as shell
    // variables only; the step's own values, when it sets them, win.
    for name in ["HOME", "PATH", "SHELL", "USER"] {
        if !state.env.contains_key(name)
            && let Some(value) = state.variables.get(name)
        {
            state.env.insert(name.into(), value.clone());
        }
    }
    // `env` lists PWD as `$PWD` says (bashkit's default named /home/user).
    state.env.insert("PWD".into(), step.cwd.clone());
    bash.restore_shell_state(&state);
    // The instance ends with this step: freeing what it built is wasted work.
    std::mem::forget(state);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let status = runtime.block_on(async move {
        // A snapshot froze the interpreter's $RANDOM state and $SECONDS base:
        // give each script its own, from the host's randomness and clock.
        // On the script's first line, so that its lines keep their numbers.
        let mut seed = [0u8; 4];
        getrandom::fill(&mut seed).expect("the host provides randomness");
        // A script read from a file names it in BASH_SOURCE[0], as bash's
        // does (`cd "$(dirname "${BASH_SOURCE[0]}")"`).
        let source_name =
            if step.from_file { format!("BASH_SOURCE=({}); ", quoted(&step.filename)) } else { String::new() };
        let prefix = format!("RANDOM={}; SECONDS=0; {source_name}", u32::from_le_bytes(seed));
        let lines_before = step.first_line.max(1) as usize - 1;
        let source = format!("{}{prefix}{}", "\n".repeat(lines_before), step.source);
        let stream = Box::new(|stdout: &bashkit::StreamData, stderr: &bashkit::StreamData| {
            // A failed write means the host stopped the step (an output cap);
            // it traps the guest itself, so nothing is left to report here.
            let _ = std::io::stdout().write_all(stdout.as_bytes()).and_then(|()| std::io::stdout().flush());
            let _ = std::io::stderr().write_all(stderr.as_bytes());
        });
        let mut options =
            ExecOptions::new().streaming(stream).arg0(step.filename.clone()).positional(step.args.clone());
        // bashkit takes stdin whole, before the script starts: what `runbox
        // sh` was given on its stdin (a runbook's step has none: at once EOF).
        let mut input = Vec::new();
        if std::io::stdin().read_to_end(&mut input).is_ok() && !input.is_empty() {
            options = options.stdin(input);
        }
        let executed = bash.exec_with_options(&source, options).await;
        std::mem::forget(bash);
        executed.map(|result| result.exit_code).map_err(|e| script_error(&step, e, prefix.len(), lines_before))
    });
    std::mem::forget(runtime);
    status
}

/// `text` as one shell word, in single quotes.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

struct ShGuest;

impl Guest for ShGuest {
    fn run(step: ShStep) -> Result<i32, ScriptError> {
        run(step)
    }

    fn check(step: ShStep) -> Result<(), ScriptError> {
        check_whole(&step)
    }

    fn wizer_initialize() {
        PREPARED.with(|p| *p.borrow_mut() = Some(interpreter()));
    }
}

export!(ShGuest);
