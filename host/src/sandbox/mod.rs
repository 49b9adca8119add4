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
mod step;
mod ticker;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store, UpdateDeadline};

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
use step::StepState;
use ticker::Ticker;

use bindings::js::JsPre;
use bindings::js::runbox::sandbox::script::{JsStep, ScriptError, ShStep};
use bindings::sh::ShPre;

/// The compiled guests and the engine that runs them; build one per process.
/// Each guest is loaded on first use, so JavaScript-only runbooks never pay
/// for the shell and the reverse.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<StepState>,
    cache: GuestCache,
    js: OnceLock<Result<JsPre<StepState>, String>>,
    sh: OnceLock<Result<ShPre<StepState>, String>>,
    ticker: Ticker,
}

impl Sandbox {
    /// An engine and linker for the guests, which load from `cache`.
    pub fn new(cache: &GuestCache) -> anyhow::Result<Sandbox> {
        let mut config = Config::new();
        config.consume_fuel(true).epoch_interruption(true).wasm_component_model(true);
        // Room for the guests' 1 MiB shadow stacks' worth of interpreter
        // frames, so deep recursion ends on the guest's stack.
        config.max_wasm_stack(4 << 20).async_stack_size(5 << 20);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::<StepState>::new(&engine);
        host::add_to_linker(&mut linker)?;
        let ticker = Ticker::start(engine.clone());
        Ok(Sandbox { engine, linker, cache: cache.clone(), js: OnceLock::new(), sh: OnceLock::new(), ticker })
    }

    /// Loads (snapshot, compile, cache) the guest for `language` now rather
    /// than at its first step.
    pub fn prepare(&self, language: Language) -> anyhow::Result<()> {
        match language {
            Language::JavaScript => self.js().map(drop),
            Language::Shell => self.sh().map(drop),
        }
    }

    /// Whether the guest for `language` must still be made (snapshot and
    /// compile: seconds) before a step can run: not loaded, not cached.
    pub fn cold(&self, language: Language) -> bool {
        let (loaded, guest) = match language {
            Language::JavaScript => (self.js.get().is_some(), &guest::JS),
            Language::Shell => (self.sh.get().is_some(), &guest::SH),
        };
        !loaded && !self.cache.holds(&self.engine, guest)
    }

    fn js(&self) -> anyhow::Result<&JsPre<StepState>> {
        let pre = self.js.get_or_init(|| {
            let component = self.load(&guest::JS).map_err(|e| format!("{e:#}"))?;
            self.linker.instantiate_pre(&component).and_then(JsPre::new).map_err(|e| format!("{e:#}"))
        });
        pre.as_ref().map_err(|e| anyhow::anyhow!("cannot load the JavaScript guest: {e}"))
    }

    fn sh(&self) -> anyhow::Result<&ShPre<StepState>> {
        let pre = self.sh.get_or_init(|| {
            let component = self.load(&guest::SH).map_err(|e| format!("{e:#}"))?;
            self.linker.instantiate_pre(&component).and_then(ShPre::new).map_err(|e| format!("{e:#}"))
        });
        pre.as_ref().map_err(|e| anyhow::anyhow!("cannot load the shell guest: {e}"))
    }

    fn load(&self, guest: &guest::Guest) -> anyhow::Result<wasmtime::component::Component> {
        let init = || {
            // The initialiser is runbox's own code and runs once: Winch, the
            // baseline compiler, compiles it in a fraction of Cranelift's
            // time; no fuel or epochs to honour.
            let mut config = Config::new();
            config.strategy(wasmtime::Strategy::Winch).wasm_component_model(true);
            config.max_wasm_stack(4 << 20).async_stack_size(5 << 20);
            let engine = Engine::new(&config)?;
            let mut linker = Linker::<StepState>::new(&engine);
            host::add_to_linker(&mut linker)?;
            // Pre-initialised in virtual time from a fixed seed, so that the
            // snapshot is the same on every machine (no real clock or
            // randomness in it); each run reseeds what it needs.
            let context = StepContext { virtual_time: Some(Virtual::new(0, Duration::ZERO)), ..StepContext::default() };
            let state = StepState::new(&context, Limits::default(), None, None)?;
            Ok((Store::new(&engine, state), linker))
        };
        self.cache.load(&self.engine, guest, init)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
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
        if let Err(e) = self.prepare(step.language) {
            return failed_to_start(Instant::now(), e, say);
        }
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
        let mut store = Store::new(&self.engine, state);
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

        let _ticking = self.ticker.run();
        let called = match self.call(step, &mut store) {
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
            Ok(Ok(Finished::Sh(0))) => (0, None, None),
            Ok(Ok(Finished::Sh(127))) => {
                (127, None, Some(Failure::new(ErrorCode::CommandNotFound, "a command was not found (exit status 127)")))
            }
            Ok(Ok(Finished::Sh(status))) => {
                (status, None, Some(Failure::new(ErrorCode::CommandFailed, format!("exit status {status}"))))
            }
            Ok(Err(script)) => (1, None, Some(script_error(script, step.secret))),
            Err(trap) => {
                let error = stopped(store.data(), &context.cancel, &trap);
                let status = match (error.code, context.cancel.signal()) {
                    (ErrorCode::Interrupted, Some(signal)) => 128 + signal,
                    (code, _) => code.exit_status(),
                };
                (status, None, Some(error))
            }
        };
        // A step that failed after a refused request failed for want of it.
        let error = match (error, store.data().denied.first()) {
            (Some(e), Some(host))
                if !matches!(
                    e.code,
                    ErrorCode::Timeout
                        | ErrorCode::OutOfFuel
                        | ErrorCode::MemoryLimit
                        | ErrorCode::OutputLimit
                        | ErrorCode::Interrupted
                ) =>
            {
                let message = if store.data().virtual_time.is_some() {
                    format!("network is off in deterministic mode; the step failed after it reached for {host}")
                } else {
                    format!("the step failed after it was refused {host}; allow it with --allow-net {host}")
                };
                Some(Failure::new(ErrorCode::PermissionDenied, message))
            }
            (error, _) => error,
        };
        let stdout = stdout.finish("stdout");
        let mut stderr = stderr.finish("stderr");
        if step.secret {
            stderr.text = withhold_quoted_source(&stderr.text, &step.filename);
            say(&stderr.text);
        }
        // A shell script's failing commands have said why on stderr already.
        let said = |e: &&Failure| matches!(e.code, ErrorCode::CommandFailed | ErrorCode::CommandNotFound);
        if let Some(error) = error.as_ref().filter(|e| !said(e)) {
            let described = describe(error, step);
            stderr.text.push_str(&described);
            say(&described);
        }
        Outcome { exit_code, stdout, stderr, duration: started.elapsed(), fuel_consumed, result, error }
    }
}

impl Sandbox {
    /// Instantiates the step's guest in `store` and calls its `run`; the
    /// outer error is the guest's (not loadable), the middle one a trap.
    fn call(
        &self,
        step: &Script,
        store: &mut Store<StepState>,
    ) -> anyhow::Result<wasmtime::Result<Result<Finished, ScriptError>>> {
        Ok(match step.language {
            Language::JavaScript => {
                let input = JsStep {
                    source: step.source.clone(),
                    filename: step.filename.clone(),
                    first_line: step.first_line,
                    cwd: step.cwd.clone(),
                };
                let pre = self.js()?;
                pre.instantiate(&mut *store)
                    .and_then(|guest| guest.call_run(&mut *store, &input))
                    .map(|r| r.map(Finished::Js))
            }
            Language::Shell => {
                let input = ShStep {
                    source: step.source.clone(),
                    filename: step.filename.clone(),
                    first_line: step.first_line,
                    cwd: step.cwd.clone(),
                    args: step.args.clone(),
                };
                let pre = self.sh()?;
                pre.instantiate(&mut *store)
                    .and_then(|guest| guest.call_run(&mut *store, &input))
                    .map(|r| r.map(Finished::Sh))
            }
        })
    }
}
