//! How a run looks on stderr while it happens: a line as each step starts
//! and ends, a failed step's error with the runbook's file and line, and a
//! summary at the end. On a terminal with colour and markers; in a CI log
//! as plain lines; under GitHub Actions each step's output in a group and a
//! failure as an error annotation on the runbook's line. runbox's own lines
//! never carry colour into a pipe unless `--color always` asks.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use runbox::error::{ErrorCode, Failure};
use runbox::model::{Language, Runbook, Step};
use runbox::run::seams::events::Events;
use runbox::text::{duration, visible, visible_lines};

use crate::github::{annotated_path, data, property, step_summary};
use runbox::{RunReport, StepReport, Stream};

/// How much runbox says besides the steps' own output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// The steps' output and errors only.
    Quiet,
    Normal,
    /// Also each step's limits, source and fuel.
    Verbose,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set or TERM is dumb
    Auto,
    Always,
    Never,
}

/// What runbox's own lines may use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    pub(crate) color: bool,
    /// `▶ ✓ ✗` rather than `> + x`: a UTF-8 locale and a terminal that is not dumb.
    pub(crate) unicode: bool,
    /// GitHub Actions reads workflow commands from the output.
    pub(crate) github: bool,
}

impl Style {
    /// From `--color`, the environment and whether stderr is a terminal.
    pub(crate) fn detect(choice: ColorChoice) -> Style {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let dumb = var("TERM").as_deref() == Some("dumb");
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stderr().is_terminal() && !dumb && var("NO_COLOR").is_none(),
        };
        // The first of these that is set decides, as setlocale(3) reads them.
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|name| var(name)).unwrap_or_default();
        let locale = locale.to_ascii_lowercase();
        let unicode = !dumb && (locale.contains("utf-8") || locale.contains("utf8"));
        Style { color, unicode, github: var("GITHUB_ACTIONS").as_deref() == Some("true") }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    fn started(&self) -> String {
        self.paint("1;36", if self.unicode { "▶" } else { ">" })
    }

    fn passed(&self) -> String {
        self.paint("32", if self.unicode { "✓" } else { "+" })
    }

    fn failed(&self) -> String {
        self.paint("1;31", if self.unicode { "✗" } else { "x" })
    }
}

/// Prints a run as it happens, and its summary.
pub(crate) struct Progress {
    /// The steps' output and refusals (off under `--json`).
    pub(crate) live: bool,
    pub(crate) verbosity: Verbosity,
    pub(crate) style: Style,
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    /// The runbook's file name (`Deploy.md`), for `file:line`.
    file: String,
    /// The runbook's path as given, for GitHub's annotations.
    path: String,
    steps: usize,
    /// The step running now, counted from 1.
    index: usize,
    running: bool,
    /// Whether each stream's last byte ended a line: runbox's lines start
    /// on a line of their own.
    stdout_open: bool,
    stderr_open: bool,
    /// GitHub Actions: the token that ends `::stop-commands::`.
    token: String,
}

impl Progress {
    pub(crate) fn new(live: bool, verbosity: Verbosity, style: Style) -> Progress {
        Progress { live, verbosity, style, state: Mutex::new(ProgressState::default()) }
    }

    /// The runbook about to run: its steps are counted and located in it.
    pub(crate) fn runbook(&self, runbook: &Runbook, path: &std::path::Path) {
        let mut state = self.lock();
        state.file = runbook.file_name();
        state.path = annotated_path(path);
        state.steps = runbook.steps.len();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ends a line a step left open on stderr, and on stdout when it is
    /// the same file (`2>&1`, a terminal, a CI log): runbox's next line
    /// starts a line of its own. Stdout to a file or a pipe of its own is
    /// the steps' data, and gets no byte they did not write.
    fn end_open_lines(&self, state: &mut ProgressState, on_stdout: bool) {
        if state.stdout_open && (on_stdout || same_file(1, 2)) {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"\n").and_then(|()| out.flush());
            state.stdout_open = false;
        }
        if state.stderr_open {
            let _ = std::io::stderr().write_all(b"\n");
            state.stderr_open = false;
        }
    }

    /// Writes runbox's own `line` on stderr, on a line of its own.
    fn say(&self, state: &mut ProgressState, line: &str) {
        self.end_open_lines(state, false);
        let _ = writeln!(std::io::stderr().lock(), "runbox: {line}");
    }

    /// Writes GitHub workflow commands on stdout, each on a line of its own.
    fn command(&self, state: &mut ProgressState, lines: &[String]) {
        self.end_open_lines(state, true);
        let mut out = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    fn at(&self, state: &ProgressState, step: &Step) -> String {
        format!("{}:{}", state.file, step.line)
    }

    /// `error: Deploy.md:17: step `count`: CommandFailed: exit status 3`
    /// for a failed step; a limit's message names the step and its line
    /// itself.
    fn error_line(&self, state: &ProgressState, step: &Step, failure: &Failure) -> String {
        let at = self.at(state, step);
        let error = self.style.paint("1;31", "error:");
        let failure = visible_lines(&failure.to_string());
        if failure.contains(&format!("({at})")) {
            format!("{error} {failure}")
        } else {
            format!("{error} {at}: step `{}`: {failure}", visible(&step.name))
        }
    }

    /// A runbook that is not valid: under GitHub Actions, each problem as
    /// an annotation on its line (the problems themselves are printed by
    /// the caller).
    pub(crate) fn invalid(&self, invalid: &runbox::error::Invalid, path: &std::path::Path) {
        if !self.style.github {
            return;
        }
        let mut state = self.lock();
        let path = annotated_path(path);
        let lines: Vec<String> = invalid
            .problems
            .iter()
            .map(|p| {
                let line = if p.line > 0 { format!(",line={}", p.line) } else { String::new() };
                format!(
                    "::error file={}{line},title={}::{}",
                    property(&path),
                    property("runbox: not a valid runbook"),
                    data(&p.message)
                )
            })
            .collect();
        self.command(&mut state, &lines);
    }

    /// GitHub's annotation of `failure` on the step's line.
    fn annotate(&self, state: &mut ProgressState, step: &Step, failure: &Failure) {
        if self.style.github {
            let title = format!("runbox: step {} failed", visible(&step.name));
            let line = format!(
                "::error file={},line={},title={}::{}",
                property(&state.path),
                step.line,
                property(&title),
                data(&failure.to_string())
            );
            self.command(state, &[line]);
        }
    }

    /// The last line of a run: what ran, what failed and why, what did not
    /// run, the exit status, and whether runbox or the script decided it.
    pub(crate) fn summary(&self, runbook: &Runbook, report: &RunReport) {
        if self.live && self.style.github {
            step_summary(runbook, report);
        }
        if !self.live || (self.verbosity == Verbosity::Quiet && report.succeeded()) {
            return;
        }
        let mut state = self.lock();
        let file = visible(&runbook.file_name());
        let took = duration(report.duration_ms as f64);
        let line = if let Some(error) = &report.error {
            format!(
                "{} {file} refused by runbox ({}, exit {}) in {took}: no step ran",
                self.style.failed(),
                error.code,
                report.exit_code
            )
        } else {
            let mut parts = Vec::new();
            let passed = report.steps.iter().filter(|s| s.exit_code == 0).count();
            if passed > 0 {
                parts.push(format!("{passed} passed"));
            }
            for step in report.steps.iter().filter(|s| s.exit_code != 0) {
                let why = match &step.error {
                    Some(e) if decided_by_runbox(e.code) => format!("{}, by runbox", e.code),
                    Some(e) => format!("{}, exit {}", e.code, step.exit_code),
                    None => format!("exit {}", step.exit_code),
                };
                let how = if step.continued { "failed and continued" } else { "failed" };
                parts.push(format!("`{}` {how} ({why})", visible(&step.name)));
            }
            let skipped = runbook.steps.len().saturating_sub(report.steps.len());
            if skipped > 0 {
                let why = if report.interrupted() { "the run was interrupted" } else { "an earlier step failed" };
                let names: Vec<String> =
                    runbook.steps[report.steps.len()..].iter().map(|s| format!("`{}`", visible(&s.name))).collect();
                parts.push(format!("{skipped} not run ({}: {why})", names.join(", ")));
            }
            let (marker, verdict) = if report.succeeded() {
                (self.style.passed(), "passed".to_string())
            } else {
                (self.style.failed(), format!("failed (exit {})", report.exit_code))
            };
            let steps = runbook.steps.len();
            format!(
                "{marker} {file} {verdict} in {took}: {steps} step{}: {}",
                if steps == 1 { "" } else { "s" },
                if parts.is_empty() { "none".to_string() } else { parts.join(", ") }
            )
        };
        self.say(&mut state, &line);
        if let Some(error) = &report.error
            && self.style.github
        {
            let line = format!(
                "::error file={},title={}::{}",
                property(&state.path),
                property(&format!("runbox: {file} refused")),
                data(&error.to_string())
            );
            self.command(&mut state, &[line]);
        }
    }
}

impl Events for Progress {
    fn step_started(&self, step: &Step) {
        if !self.live {
            return;
        }
        let mut state = self.lock();
        state.index += 1;
        state.running = true;
        let what = format!(
            "{} ({}, {}) [{}/{}]",
            visible(&step.name),
            step.kind(),
            self.at(&state, step),
            state.index,
            state.steps
        );
        if self.style.github {
            // Output a runbook writes can hold workflow commands of its own
            // (`::error`, `::endgroup::`, `::add-mask::`): GitHub ignores
            // them until the token, which the runbook cannot know.
            state.token = uuid::Uuid::new_v4().simple().to_string();
            let lines =
                [format!("::group::{}", data(&format!("runbox: {what}"))), format!("::stop-commands::{}", state.token)];
            self.command(&mut state, &lines);
        } else if self.verbosity != Verbosity::Quiet {
            let line = format!("{} {what}", self.style.started());
            self.say(&mut state, &line);
        }
    }

    fn output(&self, stream: Stream, bytes: &[u8]) {
        if !self.live || bytes.is_empty() {
            return;
        }
        let mut state = self.lock();
        let open = !bytes.ends_with(b"\n");
        // The terminal going away must not fail the step; the capture is whole.
        let _ = match stream {
            Stream::Stdout => {
                state.stdout_open = open;
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Stream::Stderr => {
                state.stderr_open = open;
                std::io::stderr().write_all(bytes)
            }
        };
    }

    fn step_finished(&self, step: &Step, report: &StepReport) {
        if !self.live {
            return;
        }
        let mut state = self.lock();
        state.running = false;
        if self.style.github {
            let lines = [format!("::{}::", state.token), "::endgroup::".to_string()];
            self.command(&mut state, &lines);
        }
        let took = duration(report.duration_ms);
        match &report.error {
            Some(failure) if report.exit_code != 0 => {
                let continued = if step.on_error == runbox::model::OnError::Continue { ", continuing" } else { "" };
                let line = format!(
                    "{} {} failed in {took} (exit {}{continued})",
                    self.style.failed(),
                    visible(&step.name),
                    report.exit_code
                );
                self.say(&mut state, &line);
                let error = self.error_line(&state, step, failure);
                self.say(&mut state, &error);
                self.annotate(&mut state, step, failure);
            }
            _ if self.verbosity != Verbosity::Quiet => {
                let line = format!("{} {} passed in {took}", self.style.passed(), visible(&step.name));
                self.say(&mut state, &line);
            }
            _ => {}
        }
        if self.verbosity == Verbosity::Verbose {
            let l = &report.limits;
            let line = format!(
                "  source {} {} sha256 {}; fuel {} of {}; limits: timeout {:?}, memory {} bytes, output {} bytes",
                report.source.kind,
                visible(&report.source.reference),
                report.source.sha256,
                report.fuel_consumed,
                l.fuel,
                l.timeout,
                l.memory,
                l.output
            );
            self.say(&mut state, &line);
        }
    }

    fn step_refused(&self, step: &Step, failure: &Failure) {
        if !self.live {
            return;
        }
        let mut state = self.lock();
        // A step that started reports its failure when it finishes.
        if state.running {
            return;
        }
        state.index += 1;
        let line = format!("{} {} not run", self.style.failed(), visible(&step.name));
        self.say(&mut state, &line);
        let error = self.error_line(&state, step, failure);
        self.say(&mut state, &error);
        self.annotate(&mut state, step, failure);
    }

    fn preparing(&self, language: Language) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let what = match language {
            Language::Shell => "shell",
            Language::JavaScript => "JavaScript",
        };
        let mut state = self.lock();
        self.say(&mut state, &format!("preparing the {what} sandbox (on a first run only)…"));
    }

    fn notice(&self, text: &str) {
        let mut state = self.lock();
        self.say(&mut state, &visible_lines(text));
    }
}

/// Whether descriptors `a` and `b` are one open file or one terminal.
fn same_file(a: i32, b: i32) -> bool {
    use std::os::fd::BorrowedFd;
    // SAFETY: 1 and 2 are open for the whole life of the process.
    #[allow(unsafe_code)]
    let (a, b) = unsafe { (BorrowedFd::borrow_raw(a), BorrowedFd::borrow_raw(b)) };
    match (rustix::fs::fstat(a), rustix::fs::fstat(b)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Whether a step's failure was runbox's decision (a limit, a refusal, a
/// signal) rather than the script's own status or error.
fn decided_by_runbox(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::CommandFailed | ErrorCode::CommandNotFound | ErrorCode::SyntaxError | ErrorCode::RuntimeError
    )
}
