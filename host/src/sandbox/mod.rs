//! The wasmtime side of a step: one `Engine` and one pre-instantiated guest
//! per process, a fresh `Store` and instance per step, and the limits that
//! stop a runaway guest (fuel, an epoch deadline, a memory cap, output caps).
//!
//! Owns the engine, the guest cache, the host side of every WIT import
//! (`host/`, one file per interface) and output capture. It knows a step as a
//! [`Script`] with its [`Mount`]s and [`StepContext`]; it never imports
//! `model::Runbook`, `plan/` or `run/` — what it needs of a run comes in
//! through [`StepContext`].

mod bindings;
mod calls;
mod cancel;
mod determinism;
mod failure;
mod guest;
mod host;
mod mount;
mod output;
mod script;
mod stdin;
mod store;
mod ticker;
mod tiers;
mod warm;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::{Engine, Store, UpdateDeadline};

pub use calls::{ApiRequest, ApiResponse, Call, Called, Calls};
pub use cancel::{Cancel, SIGINT, SIGTERM};
pub use determinism::Virtual;
pub use guest::GuestCache;
pub use mount::{Mount, guest_dir};
pub(crate) use output::Capture;
pub use output::{Captured, Live, Stream};
pub use script::{Outcome, Script, StepContext};

use crate::error::{ErrorCode, Failure};
use crate::model::Language;
use crate::model::limits::Limits;
use failure::{describe, failed_to_start, script_error, stopped, withhold_quoted_source};
use script::Finished;
use store::StepState;
use tiers::{Guests, Loaded};

use bindings::js::runbox::sandbox::script::{JsStep, ScriptError, ShStep};

/// The compiled guests and the engines that run them; build one per
/// process.
pub struct Sandbox {
    guests: Guests,
}

impl Sandbox {
    /// Engines and linkers for the guests, which load from `cache`; each
    /// step maps its memory afresh.
    pub fn new(cache: &GuestCache) -> anyhow::Result<Sandbox> {
        Sandbox::warm(cache, 0)
    }

    /// As [`Sandbox::new`], keeping up to `instances` instances warm for the
    /// next steps (see [`Config::warm_instances`](crate::Config)).
    pub fn warm(cache: &GuestCache, instances: usize) -> anyhow::Result<Sandbox> {
        Ok(Sandbox { guests: Guests::new(cache, instances)? })
    }

    /// Compiles the optimised code for `language`'s guest now (snapshot,
    /// compile, cache) rather than at its first step.
    pub fn prepare(&self, language: Language) -> anyhow::Result<()> {
        self.guests.prepare(language)
    }

    /// Whether a step in `language` must wait seconds for its guest to be
    /// made: nothing it can run on is loaded or cached. `deterministic`
    /// runs wait for the optimised code.
    pub fn cold(&self, language: Language, deterministic: bool) -> bool {
        self.guests.cold(language, deterministic)
    }

    pub fn engine(&self) -> &Engine {
        self.guests.engine()
    }

    /// Parses `step` in a fresh instance of its language's guest, running
    /// none of it (`runbox validate`): its first syntax error, positioned as
    /// a run would, or a failure to check it at all.
    pub fn check(&self, step: &Script) -> Result<(), Failure> {
        let started = Instant::now();
        let cannot = |e: anyhow::Error| Failure::new(ErrorCode::ConfigInvalid, format!("cannot check the step: {e:#}"));
        let (guest, _slot) = self.guests.get(step.language, false).map_err(cannot)?;
        let context = StepContext::default();
        let limits = Limits { timeout: CHECK_TIMEOUT, ..Limits::default() };
        let mut store = Store::new(guest.engine(), StepState::new(&context, limits, None, None).map_err(cannot)?);
        store.limiter(|state| &mut state.memory);
        store.set_fuel(limits.fuel).map_err(|e| cannot(e.into()))?;
        let deadline = started + limits.timeout;
        store.data_mut().deadline = deadline;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(wasmtime::format_err!("the check's deadline passed"))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        let _ticking = self.guests.ticker().run();
        let checked = on_guest_stack(|| match &guest {
            Loaded::Js(pre) => {
                pre.instantiate(&mut store).and_then(|guest| guest.call_check(&mut store, &js_step(step)))
            }
            Loaded::Sh(pre) => {
                pre.instantiate(&mut store).and_then(|guest| guest.call_check(&mut store, &sh_step(step)))
            }
        });
        match checked {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(script_error(error, step.secret)),
            Ok(Err(trap)) => Err(cannot(anyhow::anyhow!("{trap:#}"))),
            Err(e) => Err(cannot(e)),
        }
    }

    /// Runs one step in a fresh instance of its language's guest; `live`
    /// sees its output as it is written.
    pub fn run(&self, step: &Script, context: &StepContext, limits: Limits, live: Option<Arc<dyn Live>>) -> Outcome {
        let say = |text: &str| {
            if let Some(live) = &live {
                live.write(Stream::Stderr, text.as_bytes());
            }
        };
        // Loading a guest the first time (snapshot, compile) is not the step's
        // time: its deadline starts after.
        // The slot is held until the store is dropped (after it, declared
        // before it).
        let (guest, _slot) = match self.guests.get(step.language, context.virtual_time.is_some()) {
            Ok(got) => got,
            Err(e) => return failed_to_start(Instant::now(), e, say),
        };
        let started = Instant::now();
        // A secret script's stderr is shown once its quotes of the source are
        // withheld, after the step, not live.
        let out_echo = live.clone().map(|l| (l, Stream::Stdout));
        let err_echo = live.clone().filter(|_| !step.secret).map(|l| (l, Stream::Stderr));
        let state = match StepState::new(context, limits, out_echo, err_echo) {
            Ok(state) => state,
            Err(e) => return failed_to_start(started, e, say),
        };
        let (stdout, stderr) = (state.stdout.clone(), state.stderr.clone());
        let mut store = Store::new(guest.engine(), state);
        store.limiter(|state| &mut state.memory);
        if let Err(e) = store.set_fuel(limits.fuel) {
            return failed_to_start(started, e.into(), say);
        }
        let deadline = context.deadline.map_or(started + limits.timeout, |d| d.min(started + limits.timeout));
        store.data_mut().deadline = deadline;
        store.set_epoch_deadline(1);
        let cancel = context.cancel.clone();
        store.epoch_deadline_callback(move |mut cx| {
            if cancel.is_cancelled() {
                Err(wasmtime::format_err!("the step was interrupted"))
            } else if Instant::now() >= deadline {
                cx.data_mut().timed_out = true;
                Err(wasmtime::format_err!("the step's deadline passed"))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });

        let _ticking = self.guests.ticker().run();
        let called = match on_guest_stack(|| call(step, &guest, &mut store)).and_then(|called| called) {
            Ok(called) => called,
            Err(e) => return failed_to_start(started, e, say),
        };
        let fuel_consumed = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let (exit_code, result, error) = match called {
            Ok(Ok(Finished::Js(json))) => match json.as_deref().map(serde_json::from_str).transpose() {
                Ok(result) => (0, result, None),
                Err(e) => (
                    1,
                    None,
                    Some(Failure::new(ErrorCode::RuntimeError, format!("the step's result is not JSON: {e}"))),
                ),
            },
            Ok(Ok(Finished::Sh(status))) => (status, None, Failure::exit_status(status)),
            Ok(Err(script)) => {
                let error = script_error(script, step.secret);
                // A script bash cannot parse exits 2, as bash does; Node's 1.
                let status =
                    if error.code == ErrorCode::SyntaxError && step.language == Language::Shell { 2 } else { 1 };
                (status, None, Some(error))
            }
            Err(trap) => {
                let error = stopped(store.data(), &context.cancel, &trap);
                (error.status(context.cancel.signal()), None, Some(error))
            }
        };
        // A step that failed after a refused request failed for want of it.
        let error = match (error, store.data().denied.first()) {
            (Some(e), Some(host)) if !e.is_stop() => {
                let message = if store.data().virtual_time.is_some() {
                    format!("network is off in deterministic mode; the step failed after it reached for {host}")
                } else {
                    format!("the step failed after it was refused {host}; allow it with --allow-net {host}")
                };
                Some(Failure::denied(message))
            }
            (error, _) => error,
        };
        let stdout = stdout.finish("stdout");
        let mut stderr = stderr.finish("stderr");
        if step.secret {
            stderr.text = withhold_quoted_source(&stderr.text, &step.filename);
            say(&stderr.text);
        }
        if step.language == Language::Shell
            && let Some(hint) = failure::native_hint(&stderr.text)
        {
            stderr.text.push_str(&hint);
            say(&hint);
        }
        // A shell script's failing commands have said why on stderr already.
        if let Some(error) = error.as_ref().filter(|e| !e.said_by_script()) {
            let described = describe(error, step);
            stderr.text.push_str(&described);
            say(&described);
        }
        Outcome {
            exit_code,
            stdout,
            stderr,
            duration: started.elapsed(),
            fuel_consumed,
            memory_peak: Some(store.data().memory.peak),
            result,
            error,
            confinement: None,
            job: None,
        }
    }
}

/// Instantiates the step's guest in `store` and calls its `run`; the outer
/// error is the guest's (not loadable), the middle one a trap.
fn call(
    step: &Script,
    guest: &Loaded<'_>,
    store: &mut Store<StepState>,
) -> anyhow::Result<wasmtime::Result<Result<Finished, ScriptError>>> {
    Ok(match guest {
        Loaded::Js(pre) => pre
            .instantiate(&mut *store)
            .and_then(|guest| guest.call_run(&mut *store, &js_step(step)))
            .map(|r| r.map(Finished::Js)),
        Loaded::Sh(pre) => pre
            .instantiate(&mut *store)
            .and_then(|guest| guest.call_run(&mut *store, &sh_step(step)))
            .map(|r| r.map(Finished::Sh)),
    })
}

thread_local! {
    /// This thread was made with [`GUEST_THREAD_STACK`] of stack.
    static ROOMY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The stack a thread that calls guests needs: see [`roomy_thread`].
pub const GUEST_THREAD_STACK: usize = tiers::GUEST_THREAD_STACK;

/// Says that the current thread was made with [`GUEST_THREAD_STACK`] of
/// stack (runbox's main thread, a sub-runbook's, the server's): guests are
/// called on it directly. On any other thread each call takes a thread of
/// its own, which costs about 0.1 ms a step.
pub fn roomy_thread() {
    ROOMY.with(|roomy| roomy.set(true));
}

/// Runs `f`, which calls into a guest, on a stack that holds the guest's
/// deepest recursion: this thread's when it has one, else a thread's of its
/// own.
fn on_guest_stack<R: Send>(f: impl FnOnce() -> R + Send) -> anyhow::Result<R> {
    if ROOMY.with(std::cell::Cell::get) {
        return Ok(f());
    }
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("runbox-step".into())
            .stack_size(GUEST_THREAD_STACK)
            .spawn_scoped(scope, || {
                roomy_thread();
                f()
            })
            .map_err(|e| anyhow::anyhow!("cannot start the step's thread: {e}"))?;
        thread.join().map_err(|panic| std::panic::resume_unwind(panic))
    })
}

/// How long checking one step's syntax may take.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn js_step(step: &Script) -> JsStep {
    JsStep {
        source: step.source.clone(),
        filename: step.filename.clone(),
        first_line: step.first_line,
        cwd: step.cwd.clone(),
    }
}

fn sh_step(step: &Script) -> ShStep {
    ShStep {
        source: step.source.clone(),
        filename: step.filename.clone(),
        first_line: step.first_line,
        cwd: step.cwd.clone(),
        args: step.args.clone(),
        from_file: step.from_file,
    }
}
