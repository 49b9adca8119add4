//! Which compiled code a step runs on. runbox runs Cranelift's optimised
//! code, but making it for the shell guest (snapshot and compile) takes
//! about six seconds on a 2-core machine, which a first run should not wait
//! for. Until that code is cached, steps run on Winch's baseline code of the
//! guest as built, without its snapshot (wasmtime's single-pass compiler:
//! it compiles several times faster; its code runs slower and counts fuel a
//! little differently, under the same limits), while the optimised code is
//! compiled in the background: by a `runbox prepare` process of its own when
//! runbox says how to start one, so that a short process need not outlive
//! the compile, else on a thread. Deterministic mode waits for the optimised
//! code: its fuel is what a pipeline pins.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Config, Engine, Store, Strategy};

use super::bindings::js::JsPre;
use super::bindings::sh::ShPre;
use super::determinism::Virtual;
use super::guest::{self, Guest, GuestCache};
use super::host;
use super::script::StepContext;
use super::store::StepState;
use super::ticker::Ticker;
use super::warm::{Slot, Warm};
use crate::model::Language;
use crate::model::limits::Limits;

/// A guest's bindings, ready to instantiate on the engine they were made for.
pub(crate) trait Pre: Sized + Send + Sync + 'static {
    fn new(pre: InstancePre<StepState>) -> wasmtime::Result<Self>;
    fn engine(&self) -> &Engine;
}

impl Pre for JsPre<StepState> {
    fn new(pre: InstancePre<StepState>) -> wasmtime::Result<Self> {
        JsPre::new(pre)
    }
    fn engine(&self) -> &Engine {
        self.instance_pre().engine()
    }
}

impl Pre for ShPre<StepState> {
    fn new(pre: InstancePre<StepState>) -> wasmtime::Result<Self> {
        ShPre::new(pre)
    }
    fn engine(&self) -> &Engine {
        self.instance_pre().engine()
    }
}

/// An engine and the linker of runbox's imports for it.
/// The most host stack guest code may take. It must outlast the guest's own
/// stack checks (QuickJS throws a catchable RangeError at 768 KiB of its
/// shadow stack), so that a deep recursion is the script's error and not a
/// trap: native frames are up to twenty times the shadow stack's
/// (`JSON.stringify` of nested arrays: ~20 bytes a level against ~400).
/// Winch's frames are the larger.
const WINCH_WASM_STACK: usize = 32 << 20;
const CRANELIFT_WASM_STACK: usize = 32 << 20;

/// The stack of the thread a guest runs on: the guest's most, and room for
/// the host functions it calls and wasmtime's own frames. A thread with
/// less (a process's 8 MiB main thread, tokio's 2 MiB blocking threads)
/// overflowed when a guest recursed deeply, and the process aborted.
pub(crate) const GUEST_THREAD_STACK: usize = WINCH_WASM_STACK + (8 << 20);

#[derive(Clone)]
struct Compiler {
    engine: Engine,
    linker: Linker<StepState>,
}

impl Compiler {
    /// Fuel, epochs and room for the guests' 1 MiB shadow stacks' worth of
    /// interpreter frames, so deep recursion ends on the guest's stack;
    /// instances from `warm`'s pool when given.
    fn new(strategy: Strategy, limited: bool, warm: Option<&Warm>) -> anyhow::Result<Compiler> {
        let mut config = Config::new();
        if let Some(warm) = warm {
            warm.configure(&mut config);
        }
        config.strategy(strategy).consume_fuel(limited).epoch_interruption(limited).wasm_component_model(true);
        // Winch's frames are larger than Cranelift's: the same guest
        // recursion needs more of the host's stack.
        let stack = if matches!(strategy, Strategy::Winch) { WINCH_WASM_STACK } else { CRANELIFT_WASM_STACK };
        config.max_wasm_stack(stack).async_stack_size(stack + (1 << 20));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::<StepState>::new(&engine);
        host::add_to_linker(&mut linker)?;
        Ok(Compiler { engine, linker })
    }

    /// The guest's bindings, from the cache or made (snapshot, compile).
    fn load<P: Pre>(&self, cache: &GuestCache, guest: &Guest) -> Result<P, String> {
        let component = cache.load(&self.engine, guest, initialiser).map_err(|e| format!("{e:#}"))?;
        self.linker.instantiate_pre(&component).and_then(P::new).map_err(|e| format!("{e:#}"))
    }
}

/// The store and linker a guest's initialiser runs in before the snapshot.
/// It is runbox's own code and runs once: Winch compiles it in a fraction of
/// Cranelift's time, and it needs no fuel or epochs. It runs in virtual time
/// from a fixed seed, so that the snapshot is the same on every machine (no
/// real clock or randomness in it); each run reseeds what it needs.
fn initialiser() -> anyhow::Result<(Store<StepState>, Linker<StepState>)> {
    let Compiler { engine, linker } = Compiler::new(Strategy::Winch, false, None)?;
    let context = StepContext { virtual_time: Some(Virtual::new(0, Duration::ZERO)), ..StepContext::default() };
    let state = StepState::new(&context, Limits::default(), None, None)?;
    Ok((Store::new(&engine, state), linker))
}

/// One guest's code at both tiers.
struct Tiers<P> {
    guest: &'static Guest,
    /// Shared with the thread that may be compiling it.
    optimized: Arc<OnceLock<Result<P, String>>>,
    baseline: OnceLock<Result<P, String>>,
    /// The optimised code on the engine of steps past the warm pool.
    overflow: OnceLock<Result<P, String>>,
    finishing: Once,
}

impl<P> Tiers<P> {
    fn new(guest: &'static Guest) -> Tiers<P> {
        Tiers {
            guest,
            optimized: Arc::default(),
            baseline: OnceLock::new(),
            overflow: OnceLock::new(),
            finishing: Once::new(),
        }
    }

    /// The guest as the baseline code compiles it: not snapshotted. Winch
    /// compiles the guest as built in half the time the initialiser and the
    /// snapshot take together, and each step then builds its interpreter
    /// itself (about a millisecond).
    fn unsnapshotted(&self) -> Guest {
        Guest { snapshot: false, ..*self.guest }
    }
}

/// A step's guest, ready to instantiate.
pub(crate) enum Loaded<'a> {
    Js(&'a JsPre<StepState>),
    Sh(&'a ShPre<StepState>),
}

impl Loaded<'_> {
    pub(crate) fn engine(&self) -> &Engine {
        match self {
            Loaded::Js(pre) => Pre::engine(*pre),
            Loaded::Sh(pre) => Pre::engine(*pre),
        }
    }
}

/// The guests of a process, each loaded on first use, so JavaScript-only
/// runbooks never pay for the shell and the reverse.
pub(crate) struct Guests {
    cache: GuestCache,
    /// Its instances come from `warm`'s pool when there is one.
    optimized: Compiler,
    baseline: OnceLock<Option<Compiler>>,
    warm: Option<Warm>,
    /// The optimised code's engine for steps past the pool: instances on
    /// demand.
    overflow: OnceLock<Result<Compiler, String>>,
    js: Tiers<JsPre<StepState>>,
    sh: Tiers<ShPre<StepState>>,
    ticker: Ticker,
}

impl Guests {
    /// Guests whose optimised code keeps `warm` instances warm (none: each
    /// step's memory is mapped afresh). A pool the system will not reserve
    /// (a capped address space) is said and done without.
    pub(crate) fn new(cache: &GuestCache, warm: usize) -> anyhow::Result<Guests> {
        let mut warm = Warm::new(warm);
        let optimized = match Compiler::new(Strategy::Auto, true, warm.as_ref()) {
            Ok(compiler) => compiler,
            Err(e) if warm.is_some() => {
                tracing::warn!("no warm instances, each step maps its memory afresh: {e:#}");
                warm = None;
                Compiler::new(Strategy::Auto, true, None)?
            }
            Err(e) => return Err(e),
        };
        let ticker = Ticker::start(optimized.engine.clone());
        Ok(Guests {
            cache: cache.clone(),
            optimized,
            baseline: OnceLock::new(),
            warm,
            overflow: OnceLock::new(),
            js: Tiers::new(&guest::JS),
            sh: Tiers::new(&guest::SH),
            ticker,
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.optimized.engine
    }

    pub(crate) fn ticker(&self) -> &Ticker {
        &self.ticker
    }

    /// The code a step in `language` runs on: the optimised code when it is
    /// loaded or cached, or when `wait` (deterministic mode) says to compile
    /// it now; else the baseline code, with the optimised compile started in
    /// the background. The slot of the warm pool it took, if any, must be
    /// held until the step's store is dropped.
    pub(crate) fn get(&self, language: Language, wait: bool) -> anyhow::Result<(Loaded<'_>, Option<Slot>)> {
        let what = match language {
            Language::JavaScript => "JavaScript",
            Language::Shell => "shell",
        };
        let loaded = match language {
            Language::JavaScript => self.slotted(&self.js, wait).map(|(pre, slot)| (Loaded::Js(pre), slot)),
            Language::Shell => self.slotted(&self.sh, wait).map(|(pre, slot)| (Loaded::Sh(pre), slot)),
        };
        loaded.map_err(|e| anyhow::anyhow!("cannot load the {what} guest: {e}"))
    }

    /// `pick`'s code, with a slot of the warm pool when it is the optimised
    /// code and the pool has one; else the optimised code on demand.
    fn slotted<'a, P: Pre>(&'a self, tiers: &'a Tiers<P>, wait: bool) -> Result<(&'a P, Option<Slot>), String> {
        let pre = self.pick(tiers, wait)?;
        let Some(warm) = &self.warm else { return Ok((pre, None)) };
        if !Engine::same(pre.engine(), &self.optimized.engine) {
            return Ok((pre, None));
        }
        if let Some(slot) = warm.take() {
            return Ok((pre, Some(slot)));
        }
        let overflow = self
            .overflow
            .get_or_init(|| {
                let compiler = Compiler::new(Strategy::Auto, true, None).map_err(|e| format!("{e:#}"))?;
                self.ticker.also(compiler.engine.clone());
                Ok(compiler)
            })
            .as_ref()
            .map_err(Clone::clone)?;
        let pre =
            tiers.overflow.get_or_init(|| overflow.load(&self.cache, tiers.guest)).as_ref().map_err(Clone::clone)?;
        Ok((pre, None))
    }

    /// Compiles the optimised code for `language` now, into the cache,
    /// where it replaces the baseline code.
    pub(crate) fn prepare(&self, language: Language) -> anyhow::Result<()> {
        self.get(language, true)?;
        if let Some(baseline) = self.baseline() {
            let guest = match language {
                Language::JavaScript => &self.js.unsnapshotted(),
                Language::Shell => &self.sh.unsnapshotted(),
            };
            self.cache.forget(&baseline.engine, guest);
        }
        Ok(())
    }

    /// Whether a step in `language` must wait seconds for its code to be
    /// made: nothing it can run on is loaded or cached.
    pub(crate) fn cold(&self, language: Language, wait: bool) -> bool {
        match language {
            Language::JavaScript => self.is_cold(&self.js, wait),
            Language::Shell => self.is_cold(&self.sh, wait),
        }
    }

    fn is_cold<P: Pre>(&self, tiers: &Tiers<P>, wait: bool) -> bool {
        let ready = |slot: &OnceLock<Result<P, String>>, compiler: &Compiler, guest: &Guest| {
            slot.get().is_some() || self.cache.holds(&compiler.engine, guest)
        };
        if ready(&tiers.optimized, &self.optimized, tiers.guest) {
            return false;
        }
        wait || self.baseline().is_none_or(|baseline| !ready(&tiers.baseline, baseline, &tiers.unsnapshotted()))
    }

    fn pick<'a, P: Pre>(&'a self, tiers: &'a Tiers<P>, wait: bool) -> Result<&'a P, String> {
        let optimized = || {
            tiers.optimized.get_or_init(|| self.optimized.load(&self.cache, tiers.guest)).as_ref().map_err(Clone::clone)
        };
        if let Some(Ok(pre)) = tiers.optimized.get() {
            return Ok(pre);
        }
        if wait || self.cache.holds(&self.optimized.engine, tiers.guest) {
            return optimized();
        }
        let Some(baseline) = self.baseline() else {
            return optimized();
        };
        match tiers.baseline.get_or_init(|| baseline.load(&self.cache, &tiers.unsnapshotted())) {
            Ok(pre) => {
                tiers.finishing.call_once(|| self.finish_later(tiers));
                Ok(pre)
            }
            // Baseline code that cannot be made costs the wait, not the step.
            Err(e) => {
                tracing::debug!("no baseline code for the {} guest: {e}", tiers.guest.name);
                optimized()
            }
        }
    }

    /// Winch's engine, ticked with the other; `None` where Winch does not
    /// run (it compiles for x86-64 only).
    fn baseline(&self) -> Option<&Compiler> {
        self.baseline
            .get_or_init(|| {
                let compiler = Compiler::new(Strategy::Winch, true, None).ok()?;
                self.ticker.also(compiler.engine.clone());
                Some(compiler)
            })
            .as_ref()
    }

    /// Starts the optimised compile of `tiers`' guest without waiting for it.
    fn finish_later<P: Pre>(&self, tiers: &Tiers<P>) {
        if let (Some(dir), Some(program)) = (self.cache.dir(), self.cache.finisher()) {
            // Concurrent first runs start one compile, not one each; and a
            // cache that did not take the baseline code will not take the
            // optimised code either.
            let kept = self.baseline().is_some_and(|b| self.cache.holds(&b.engine, &tiers.unsnapshotted()));
            if !kept || self.cache.busy(&self.optimized.engine, tiers.guest) {
                return;
            }
            match spawn_prepare(program, dir, tiers.guest) {
                Ok(()) => return,
                Err(e) => tracing::debug!("cannot start {} prepare: {e}; compiling on a thread", program.display()),
            }
        }
        let (compiler, cache, guest, slot) =
            (self.optimized.clone(), self.cache.clone(), tiers.guest, Arc::clone(&tiers.optimized));
        let baseline = self.baseline().map(|b| (b.engine.clone(), tiers.unsnapshotted()));
        let started = std::thread::Builder::new().name(format!("runbox-compile-{}", guest.name)).spawn(move || {
            if slot.get_or_init(|| compiler.load(&cache, guest)).is_ok()
                && let Some((engine, unsnapshotted)) = baseline
            {
                cache.forget(&engine, &unsnapshotted);
            }
        });
        if let Err(e) = started {
            tracing::debug!("cannot start the {} guest's compile: {e}", guest.name);
        }
    }
}

/// The variables a background compile is given: where runbox keeps its files.
const PASSED_ON: [&str; 6] = ["HOME", "XDG_STATE_HOME", "RUNBOX_STATE_DIR", "RUNBOX_LOG", "TMPDIR", "RUNBOX_LOG_LEVEL"];

/// `PROGRAM prepare --background GUEST`, in a process group of its own, with
/// no stdin, stdout or stderr of the caller's (it closes any other it
/// inherits first thing): a script reading runbox's output sees its end when
/// the step ends, not when the compile does. It works in `/`, holding no
/// directory of the caller's busy (a disk being unmounted, say).
fn spawn_prepare(program: &Path, cache: &Path, guest: &Guest) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    // Only what says where runbox's files are: the caller's other variables
    // (tokens, say) need not live on in a process that outlasts it.
    command.env_clear();
    for name in PASSED_ON {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
        .args(["prepare", "--background", guest.name])
        .env("RUNBOX_CACHE_DIR", std::path::absolute(cache)?)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
}
