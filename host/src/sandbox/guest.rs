//! The guest components: their committed bytes, the Wizer snapshot that
//! pre-initialises them, and the on-disk cache of compiled snapshots.
//!
//! The committed `.wasm` is deterministic (it is rebuilt and compared in CI),
//! and so is the snapshot: its initialiser runs in virtual time from a fixed
//! seed (what it would have read of the real clock or randomness, hash
//! seeds among them, would differ on every machine). It is made on first
//! use and cached, keyed by the guest's hash and the engine's compatibility
//! hash. Concurrent cold starts
//! take a lock so that one of them compiles and the others wait.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::component::{Component, Instance, Linker, WasmList};
use wasmtime::{Engine, Store};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use crate::state;

/// A guest component as built by `just guests`.
#[derive(Clone, Copy)]
pub(crate) struct Guest {
    pub(crate) name: &'static str,
    pub(crate) wasm: &'static [u8],
    /// The sha256 of `wasm`, hex (build.rs computes it).
    pub(crate) sha256: &'static str,
    /// Whether its `wizer-initialize` does work worth snapshotting.
    pub(crate) snapshot: bool,
}

/// QuickJS with its globals built: the snapshot cuts a step's cost ~4×.
pub(crate) const JS: Guest = Guest {
    name: "js",
    wasm: include_bytes!("../../../guests/dist/runbox-js.wasm"),
    sha256: env!("RUNBOX_JS_SHA256"),
    snapshot: true,
};
/// bashkit with its ~180 builtins registered; each script then only sets its
/// working directory and variables.
pub(crate) const SH: Guest = Guest {
    name: "sh",
    wasm: include_bytes!("../../../guests/dist/runbox-sh.wasm"),
    sha256: env!("RUNBOX_SH_SHA256"),
    snapshot: true,
};

/// Where compiled guests are kept between runs.
#[derive(Clone, Debug)]
pub struct GuestCache {
    dir: Option<PathBuf>,
    /// The runbox program that compiles what a run did not wait for
    /// (`prepare --background`); `None`: a thread of the running process.
    finisher: Option<PathBuf>,
}

impl GuestCache {
    /// `$RUNBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/runbox`, else
    /// `~/.cache/runbox`, else `runbox-UID/cache` under the system's
    /// temporary directory: never no cache unless asked (`--no-cache`).
    pub fn default_location() -> GuestCache {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = var("RUNBOX_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("runbox")))
            .or_else(|| var("HOME").map(|h| h.join(".cache").join("runbox")))
            .or_else(|| state::private_fallback("cache"));
        GuestCache { dir, finisher: None }
    }

    pub fn at(dir: impl Into<PathBuf>) -> GuestCache {
        GuestCache { dir: Some(dir.into()), finisher: None }
    }

    /// Compiles on every start; nothing is written.
    pub fn disabled() -> GuestCache {
        GuestCache { dir: None, finisher: None }
    }

    /// Code a run did not wait for (see `sandbox::tiers`) is compiled by
    /// `program prepare --background GUEST`, a process of its own, so that a
    /// short-lived process need not outlive the compile.
    pub fn finished_by(mut self, program: PathBuf) -> GuestCache {
        self.finisher = Some(program);
        self
    }

    pub(crate) fn finisher(&self) -> Option<&Path> {
        self.finisher.as_deref()
    }

    /// The cache's directory, if there is one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Where the compiled `guest` for `engine` is kept.
    fn entry(&self, engine: &Engine, guest: &Guest) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.join(format!("{}-{}.cwasm", guest.name, cache_key(engine, guest))))
    }

    /// Whether the compiled `guest` is in the cache, ready to load.
    pub(crate) fn holds(&self, engine: &Engine, guest: &Guest) -> bool {
        self.entry(engine, guest).is_some_and(|path| path.is_file())
    }

    /// Whether another process or thread is making the compiled `guest` for
    /// `engine` now (it holds the entry's lock).
    pub(crate) fn busy(&self, engine: &Engine, guest: &Guest) -> bool {
        let Some(path) = self.entry(engine, guest) else { return false };
        std::fs::OpenOptions::new()
            .write(true)
            .open(path.with_extension("lock"))
            .is_ok_and(|file| matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
    }

    /// Removes the compiled `guest` for `engine` (code that better code has
    /// replaced), with its lock.
    pub(crate) fn forget(&self, engine: &Engine, guest: &Guest) {
        if let Some(path) = self.entry(engine, guest) {
            let _ = std::fs::remove_file(path.with_extension("lock"));
            let _ = std::fs::remove_file(path);
        }
    }

    /// The pre-initialised, compiled `guest`, from the cache when present.
    /// `init` gives the store and linker the guest's initialiser runs in.
    pub(crate) fn load<T: Send + 'static>(
        &self,
        engine: &Engine,
        guest: &Guest,
        init: impl FnOnce() -> anyhow::Result<(Store<T>, Linker<T>)>,
    ) -> anyhow::Result<Component> {
        // Compiled guests are native code that the next runbox process runs:
        // the cache is private to this user, and one that others could write
        // is refused rather than trusted.
        if let Some(dir) = &self.dir {
            state::create_private_dir(dir)
                .map_err(|e| anyhow::anyhow!("cannot create the compiled-guest cache {}: {e}", dir.display()))?;
            state::check_private(dir).map_err(|why| {
                anyhow::anyhow!(
                    "runbox will not load compiled code from the cache {}: {why} (or set RUNBOX_CACHE_DIR to a private directory)",
                    dir.display()
                )
            })?;
        }
        let path = self.entry(engine, guest);
        let cached = |path: &Path| {
            (path.exists() && state::check_private(path).is_ok()).then(|| deserialize(engine, path).ok()).flatten()
        };
        if let Some(component) = path.as_deref().and_then(cached) {
            return Ok(component);
        }
        // Concurrent cold starts wait for one compilation instead of each
        // doing it; a cache that cannot be locked just costs the work.
        let _lock = path.as_deref().and_then(|p| lock(&p.with_extension("lock")));
        if let Some(component) = path.as_deref().and_then(cached) {
            return Ok(component);
        }
        let component = if guest.snapshot {
            let (store, linker) = init()?;
            Component::new(engine, &snapshot(&linker, guest.wasm, store)?)?
        } else {
            Component::new(engine, guest.wasm)?
        };
        if let Some(path) = &path {
            // A cache that cannot be written costs speed, not correctness.
            if let Err(e) = write_atomically(path, &component.serialize()?) {
                tracing::warn!("cannot cache the compiled {} guest at {}: {e}", guest.name, path.display());
            }
        }
        Ok(component)
    }
}

/// An exclusive lock on `path`, held until the file is dropped.
fn lock(path: &Path) -> Option<std::fs::File> {
    std::fs::create_dir_all(path.parent()?).ok()?;
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).ok()?;
    file.lock().ok()?;
    Some(file)
}

/// How snapshots are made; a change of recipe is a new cache entry.
/// 2: pre-initialised in virtual time from a fixed seed.
const SNAPSHOT_RECIPE: u32 = 2;

fn cache_key(engine: &Engine, guest: &Guest) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    SNAPSHOT_RECIPE.hash(&mut hasher);
    if !guest.snapshot {
        "not snapshotted".hash(&mut hasher);
    }
    format!("{}-{:016x}", &guest.sha256[..16], hasher.finish())
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: the file was written by `write_atomically` from
    // `Component::serialize` for an engine with the same compatibility hash
    // (it is in the file name); wasmtime checks its header and version. It
    // is this user's, in a directory only this user can write, which no
    // sandbox can mount (`state::refuse_state`).
    Ok(unsafe { Component::deserialize_file(engine, path)? })
}

/// Writes `path` whole or not at all, in its directory as it is: `load`
/// made and checked it, and one removed since (a compile in the background
/// can outlive it) is not made again.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Runs the guest's `wizer-initialize` and returns the component with the
/// resulting state baked in.
fn snapshot<T: Send + 'static>(linker: &Linker<T>, wasm: &[u8], mut store: Store<T>) -> anyhow::Result<Vec<u8>> {
    let mut wizer = Wizer::new();
    // Removing the export trips wizer 48 (the core alias of the lifted
    // function outlives it); the guest's initialiser is idempotent anyway.
    wizer.keep_init_func(true);
    let (context, instrumented) = wizer.instrument_component(wasm)?;
    let component = Component::new(store.engine(), &instrumented)?;
    let instance = linker.instantiate(&mut store, &component)?;
    let init = instance.get_typed_func::<(), ()>(&mut store, wizer.get_init_func())?;
    init.call(&mut store, ())?;
    let mut state = SyncInstance { store: &mut store, instance, error: None };
    let snapshot = block_on(wizer.snapshot_component(&context, &mut state))?;
    if let Some(error) = state.error {
        return Err(error);
    }
    Ok(snapshot)
}

/// Wizer reads the instance's state through async calls; a synchronous
/// store answers them at once.
struct SyncInstance<'a, T: 'static> {
    store: &'a mut Store<T>,
    instance: Instance,
    error: Option<anyhow::Error>,
}

impl<T: Send> SyncInstance<'_, T> {
    fn call<R>(&mut self, instance: &str, func: &str) -> Option<R>
    where
        R: wasmtime::component::Lift + wasmtime::component::ComponentType + 'static,
    {
        let result = (|| -> anyhow::Result<R> {
            let (_, parent) = self
                .instance
                .get_export(&mut *self.store, None, instance)
                .ok_or_else(|| anyhow::anyhow!("the instrumented guest lacks `{instance}`"))?;
            let (_, index) = self
                .instance
                .get_export(&mut *self.store, Some(&parent), func)
                .ok_or_else(|| anyhow::anyhow!("the instrumented guest lacks `{instance}#{func}`"))?;
            let typed = self.instance.get_typed_func::<(), (R,)>(&mut *self.store, index)?;
            let (value,) = typed.call(&mut *self.store, ())?;
            Ok(value)
        })();
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }
}

impl<T: Send> ComponentInstanceState for SyncInstance<'_, T> {
    async fn call_func_ret_list_u8(&mut self, instance: &str, func: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.call::<WasmList<u8>>(instance, func) {
            Some(list) => contents(list.as_le_slice(&*self.store)),
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).unwrap_or_default()
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).unwrap_or_default()
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func).unwrap_or_default().to_bits()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func).unwrap_or_default().to_bits()
    }
}

/// Polls a future that never waits (every call above completes at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
