//! The wasmtime side of a step: one `Engine` and one pre-instantiated guest
//! per process, a fresh `Store` and instance per step, and the limits that
//! stop a runaway guest (fuel, an epoch deadline, a memory cap, output caps).

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::clocks::{self, StepTime};
use crate::error::ErrorCode;
use crate::guest::{self, GuestCache};
use crate::http::{self, Failure, NetPolicy};
use crate::limits::Limits;
use crate::mounts::{Mount, WORKDIR};
use crate::output::{Capture, Captured, Echo};
use crate::runbook::Language;

mod bindings {
    pub(crate) mod js {
        wasmtime::component::bindgen!({ path: "../wit", world: "js" });
    }
    pub(crate) mod sh {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "sh",
            with: {
                "runbox:sandbox/context": super::js::runbox::sandbox::context,
                "runbox:sandbox/http": super::js::runbox::sandbox::http,
                "runbox:sandbox/script": super::js::runbox::sandbox::script,
            },
        });
    }
}

use bindings::js::JsPre;
use bindings::js::runbox::sandbox::script::{ErrorKind, JsStep, ScriptError, ShStep};
use bindings::js::runbox::sandbox::{context, http as wit_http};
use bindings::sh::ShPre;

/// How often the epoch advances while a step runs; a step overruns its
/// deadline by at most about this much.
const TICK: Duration = Duration::from_millis(2);

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

/// What a step sees of the execution it belongs to.
#[derive(Clone, Debug, Default)]
pub struct StepContext {
    /// Values `get(name)` returns, as JSON.
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// What `get('steps')` returns: earlier steps' results, shared rather
    /// than copied into every step.
    pub steps: Arc<serde_json::Map<String, serde_json::Value>>,
    /// The only environment variables the guest has.
    pub env: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    pub correlation_id: String,
    pub recursion_stack: Vec<String>,
    /// The hosts the step's `curl` and `fetch` may reach.
    pub net: NetPolicy,
}

/// A step's script.
#[derive(Clone, Debug)]
pub struct Script {
    pub language: Language,
    pub source: String,
    /// The name errors and stacks give the source, e.g. the runbook file;
    /// a shell script's `$0`.
    pub filename: String,
    /// The line of `filename` that holds the source's first line.
    pub first_line: u32,
    /// A shell script's positional parameters.
    pub args: Vec<String>,
    /// The guest's working directory (an absolute path in the sandbox).
    pub cwd: String,
    /// The script comes from a secret: errors do not quote it.
    pub secret: bool,
}

impl Script {
    /// A script of `language` named `filename`, starting at line 1, run in
    /// the sandbox's working directory.
    pub fn new(language: Language, source: impl Into<String>, filename: impl Into<String>) -> Script {
        Script {
            language,
            source: source.into(),
            filename: filename.into(),
            first_line: 1,
            args: Vec::new(),
            cwd: WORKDIR.to_string(),
            secret: false,
        }
    }
}

/// What a guest's `run` returned.
enum Finished {
    Js(Option<String>),
    Sh(i32),
}

/// What a step did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub exit_code: i32,
    pub stdout: Captured,
    pub stderr: Captured,
    pub duration: Duration,
    pub fuel_consumed: u64,
    /// The JSON of a JavaScript step's return value.
    pub result: Option<serde_json::Value>,
    pub error: Option<StepError>,
}

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    pub code: ErrorCode,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub stack: Option<String>,
}

impl StepError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> StepError {
        StepError { code, message: message.into(), line: None, column: None, stack: None }
    }
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
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        clocks::add_to_linker(&mut linker)?;
        context::add_to_linker::<_, HasSelf<StepState>>(&mut linker, |state| state)?;
        wit_http::add_to_linker::<_, HasSelf<StepState>>(&mut linker, |state| state)?;
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
        let store = || {
            let state = StepState::new(&StepContext::default(), Limits::default(), Echo::None, Echo::None)?;
            let mut store = Store::new(&self.engine, state);
            // No limits while pre-initialising (the epoch may already be
            // advancing: deadlines are relative, so stay clear of overflow).
            store.set_fuel(u64::MAX)?;
            store.set_epoch_deadline(u64::MAX / 2);
            Ok(store)
        };
        self.cache.load(&self.engine, guest, store, &self.linker)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs one step in a fresh instance of its language's guest.
    pub fn run(&self, step: &Script, context: &StepContext, limits: Limits, echo: bool) -> Outcome {
        // Loading a guest the first time (snapshot, compile) is not the step's
        // time: its deadline starts after.
        if let Err(e) = self.prepare(step.language) {
            return failed_to_start(Instant::now(), e, echo);
        }
        let started = Instant::now();
        // A secret script's stderr is shown once its quotes of the source are
        // withheld, after the step, not live.
        let out_echo = if echo { Echo::Stdout } else { Echo::None };
        let err_echo = if echo && !step.secret { Echo::Stderr } else { Echo::None };
        let state = match StepState::new(context, limits, out_echo, err_echo) {
            Ok(state) => state,
            Err(e) => return failed_to_start(started, e, echo),
        };
        let (stdout, stderr) = (state.stdout.clone(), state.stderr.clone());
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        if let Err(e) = store.set_fuel(limits.fuel) {
            return failed_to_start(started, e.into(), echo);
        }
        let deadline = started + limits.timeout;
        store.data_mut().deadline = deadline;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut cx| {
            if Instant::now() >= deadline {
                cx.data_mut().timed_out = true;
                Err(wasmtime::format_err!("the step's deadline passed"))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });

        let _ticking = self.ticker.run();
        let called = match self.call(step, &mut store) {
            Ok(called) => called,
            Err(e) => return failed_to_start(started, e, echo),
        };
        let fuel_consumed = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let (exit_code, result, error) = match called {
            Ok(Ok(Finished::Js(json))) => match json.as_deref().map(serde_json::from_str).transpose() {
                Ok(result) => (0, result, None),
                Err(e) => (
                    1,
                    None,
                    Some(StepError::new(ErrorCode::RuntimeError, format!("the step's result is not JSON: {e}"))),
                ),
            },
            Ok(Ok(Finished::Sh(0))) => (0, None, None),
            Ok(Ok(Finished::Sh(127))) => (
                127,
                None,
                Some(StepError::new(ErrorCode::CommandNotFound, "a command was not found (exit status 127)")),
            ),
            Ok(Ok(Finished::Sh(status))) => {
                (status, None, Some(StepError::new(ErrorCode::CommandFailed, format!("exit status {status}"))))
            }
            Ok(Err(script)) => (1, None, Some(script_error(script, step.secret))),
            Err(trap) => {
                let error = stopped(store.data(), &trap);
                (error.code.exit_status(), None, Some(error))
            }
        };
        // A step that failed after a refused request failed for want of it.
        let error = match (error, store.data().denied.first()) {
            (Some(e), Some(host))
                if !matches!(
                    e.code,
                    ErrorCode::Timeout | ErrorCode::OutOfFuel | ErrorCode::MemoryLimit | ErrorCode::OutputLimit
                ) =>
            {
                Some(StepError::new(
                    ErrorCode::PermissionDenied,
                    format!("the step failed after it was refused {host}; allow it with --allow-net {host}"),
                ))
            }
            (error, _) => error,
        };
        let stdout = stdout.finish("stdout");
        let mut stderr = stderr.finish("stderr");
        if step.secret {
            stderr.text = withhold_quoted_source(&stderr.text, &step.filename);
            if echo {
                eprint!("{}", stderr.text);
            }
        }
        // A shell script's failing commands have said why on stderr already.
        let said = |e: &&StepError| matches!(e.code, ErrorCode::CommandFailed | ErrorCode::CommandNotFound);
        if let Some(error) = error.as_ref().filter(|e| !said(e)) {
            stderr.text.push_str(&describe(error, step));
            if echo {
                eprint!("{}", describe(error, step));
            }
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

fn failed_to_start(started: Instant, error: anyhow::Error, echo: bool) -> Outcome {
    if echo {
        eprintln!("runbox: cannot start the sandbox: {error:#}");
    }
    Outcome {
        exit_code: ErrorCode::ConfigInvalid.exit_status(),
        stdout: Captured::default(),
        stderr: Captured { text: format!("runbox: cannot start the sandbox: {error:#}\n"), truncated: false },
        duration: started.elapsed(),
        fuel_consumed: 0,
        result: None,
        error: Some(StepError::new(ErrorCode::ConfigInvalid, format!("cannot start the sandbox: {error:#}"))),
    }
}

/// The interpreter's own messages about a secret script (`NAME: line 3: …`)
/// may quote its source; the records keep only where they point.
fn withhold_quoted_source(stderr: &str, filename: &str) -> String {
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
fn describe(error: &StepError, step: &Script) -> String {
    // `SyntaxError: SyntaxError: …` says nothing twice.
    let what = if error.message.starts_with(&format!("{}:", error.code)) {
        error.message.clone()
    } else {
        format!("{}: {}", error.code, error.message)
    };
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

/// The guest's report of a failed script. A secret script's messages and
/// stack may quote its code, so only their position is kept.
fn script_error(e: ScriptError, secret: bool) -> StepError {
    let code = match e.kind {
        ErrorKind::Syntax => ErrorCode::SyntaxError,
        ErrorKind::Runtime | ErrorKind::Unsettled => ErrorCode::RuntimeError,
    };
    if secret {
        let message = "the script comes from a secret, so the message is withheld".to_string();
        return StepError { code, message, line: e.line, column: e.column, stack: None };
    }
    // A guest chooses its message's size (`throw new Error('x'.repeat(3e7))`):
    // runbox keeps the start of it.
    let capped = |mut text: String| {
        crate::output::cut(&mut text, MAX_MESSAGE_BYTES, "error messages are kept up to 16 KiB");
        text
    };
    StepError { code, message: capped(e.message), line: e.line, column: e.column, stack: e.stack.map(capped) }
}

/// What is kept of a guest's error message, and of its stack.
const MAX_MESSAGE_BYTES: usize = 16 << 10;

/// Names the limit that stopped a guest, from what the store recorded.
fn stopped(state: &StepState, trap: &wasmtime::Error) -> StepError {
    let limits = &state.limits;
    if state.stdout.exceeded() || state.stderr.exceeded() {
        let stream = if state.stdout.exceeded() { "stdout" } else { "stderr" };
        StepError::new(ErrorCode::OutputLimit, format!("the step wrote more than {} bytes to {stream}", limits.output))
    } else if state.memory.exceeded {
        StepError::new(ErrorCode::MemoryLimit, format!("the step needed more than {} bytes of memory", limits.memory))
    } else if state.timed_out {
        StepError::new(ErrorCode::Timeout, format!("the step ran past its {:?} timeout", limits.timeout))
    } else if matches!(trap.downcast_ref::<Trap>(), Some(Trap::OutOfFuel)) {
        StepError::new(ErrorCode::OutOfFuel, format!("the step used up its fuel ({} units)", limits.fuel))
    } else if matches!(trap.downcast_ref::<Trap>(), Some(Trap::StackOverflow | Trap::MemoryOutOfBounds)) {
        // The interpreter's stack is first in linear memory: overflowing it
        // faults below address 0 (QuickJS has no stack check on WASI).
        StepError::new(
            ErrorCode::RuntimeError,
            "RangeError: Maximum call stack size exceeded (the step recursed too deeply)",
        )
    } else {
        StepError::new(ErrorCode::RuntimeError, format!("the sandboxed interpreter crashed: {trap:#}"))
    }
}

/// The store's data for one step.
pub(crate) struct StepState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
    stdout: Capture,
    stderr: Capture,
    limits: Limits,
    timed_out: bool,
    variables: serde_json::Map<String, serde_json::Value>,
    steps: Arc<serde_json::Map<String, serde_json::Value>>,
    correlation_id: String,
    recursion_stack: Vec<String>,
    net: NetPolicy,
    /// When the step must end; host calls get what is left of it.
    deadline: Instant,
    /// Instant zero of the guest's monotonic clock.
    origin: Instant,
    /// `host:port`s the step asked for and was refused.
    denied: Vec<String>,
}

impl StepState {
    fn new(context: &StepContext, limits: Limits, out_echo: Echo, err_echo: Echo) -> anyhow::Result<StepState> {
        let stdout = Capture::new(limits.output, out_echo);
        let stderr = Capture::new(limits.output, err_echo);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone()).envs(&context.env).initial_cwd(WORKDIR);
        for mount in &context.mounts {
            let perms = if mount.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            // The handle held since validation, not the path: whatever has
            // been renamed or replaced since, the guest sees what was granted.
            wasi.preopened_dir(mount.handle_path(), &mount.guest, perms)
                .map_err(|e| anyhow::anyhow!("cannot mount {} at {}: {e}", mount.host.display(), mount.guest))?;
        }
        Ok(StepState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryCap { limit: limits.memory, exceeded: false },
            stdout,
            stderr,
            limits,
            timed_out: false,
            variables: context.variables.clone(),
            steps: Arc::clone(&context.steps),
            correlation_id: context.correlation_id.clone(),
            recursion_stack: context.recursion_stack.clone(),
            net: context.net.clone(),
            deadline: Instant::now() + limits.timeout,
            origin: Instant::now(),
            denied: Vec::new(),
        })
    }
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl StepTime for StepState {
    fn origin(&self) -> Instant {
        self.origin
    }

    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl context::Host for StepState {
    fn get(&mut self, name: String) -> Option<String> {
        match name.as_str() {
            "steps" => serde_json::to_string(&*self.steps).ok(),
            _ => self.variables.get(&name).map(|v| v.to_string()),
        }
    }

    fn correlation_id(&mut self) -> String {
        self.correlation_id.clone()
    }

    fn recursion_stack(&mut self) -> Vec<String> {
        self.recursion_stack.clone()
    }
}

impl bindings::js::runbox::sandbox::script::Host for StepState {}

impl wit_http::Host for StepState {
    fn send(&mut self, request: wit_http::Request) -> Result<wit_http::Response, wit_http::Error> {
        let request = http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            follow_redirects: request.follow_redirects,
        };
        match http::send(&self.net, request, self.deadline) {
            Ok(r) => Ok(wit_http::Response { status: r.status, headers: r.headers, body: r.body, url: r.url }),
            Err(Failure::Denied(host)) => {
                self.denied.push(host.clone());
                Err(wit_http::Error::Denied(host))
            }
            Err(Failure::Invalid(why)) => Err(wit_http::Error::Invalid(why)),
            Err(Failure::Failed(why)) => Err(wit_http::Error::Failed(why)),
            Err(Failure::Timeout) => Err(wit_http::Error::Timeout),
            Err(Failure::TooLarge(limit)) => Err(wit_http::Error::TooLarge(limit)),
        }
    }
}

/// Refuses linear memory past the step's limit and remembers that it did,
/// so the failure is reported as `MemoryLimit` rather than a crash.
struct MemoryCap {
    limit: u64,
    exceeded: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.exceeded = true;
            wasmtime::bail!("memory limit of {} bytes exceeded", self.limit);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Advances the engine's epoch every [`TICK`] while any step runs, and
/// sleeps otherwise.
struct Ticker {
    running: Arc<(Mutex<usize>, Condvar)>,
}

struct Ticking(Arc<(Mutex<usize>, Condvar)>);

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let running = Arc::new((Mutex::new(0usize), Condvar::new()));
        let shared = Arc::clone(&running);
        std::thread::Builder::new()
            .name("runbox-epoch".into())
            .spawn(move || {
                let (count, wake) = &*shared;
                loop {
                    let guard = count.lock().unwrap_or_else(|p| p.into_inner());
                    let guard = wake.wait_while(guard, |n| *n == 0).unwrap_or_else(|p| p.into_inner());
                    drop(guard);
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .expect("the epoch thread starts");
        Ticker { running }
    }

    fn run(&self) -> Ticking {
        let (count, wake) = &*self.running;
        *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        wake.notify_all();
        Ticking(Arc::clone(&self.running))
    }
}

impl Drop for Ticking {
    fn drop(&mut self) {
        *self.0.0.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
    }
}
