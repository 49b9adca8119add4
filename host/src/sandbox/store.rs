//! The store's data for one step: its WASI context and mounts, output
//! captures, limits, what it may read of its execution, and what happened
//! to it (timed out, memory refused, hosts denied).

use std::sync::Arc;
use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use super::calls::Calls;
use super::cancel::Cancel;
use super::determinism::{Virtual, nanos};
use super::mount::Mount;
use super::output::{Capture, Echo};
use super::script::StepContext;
use super::stdin::StepStdin;
use crate::model::WORKDIR;
use crate::model::limits::Limits;
use crate::model::net::NetPolicy;

/// The store's data for one step.
pub(crate) struct StepState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryCap,
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    pub(crate) limits: Limits,
    pub(crate) timed_out: bool,
    pub(crate) variables: serde_json::Map<String, serde_json::Value>,
    pub(crate) steps: Arc<serde_json::Map<String, serde_json::Value>>,
    pub(crate) correlation_id: String,
    pub(crate) recursion_stack: Vec<String>,
    pub(crate) net: NetPolicy,
    /// When the step must end; host calls get what is left of it.
    pub(crate) deadline: Instant,
    /// Stops the step, and ends its waits, when tripped.
    pub(crate) cancel: Cancel,
    /// Runs the step's sub-runbook calls, in a runbook.
    pub(crate) calls: Option<Arc<dyn Calls>>,
    /// Instant zero of the guest's monotonic clock.
    pub(crate) origin: Instant,
    /// `host:port`s the step asked for and was refused.
    pub(crate) denied: Vec<String>,
    /// Deterministic mode's virtual time, and when the step ends in it.
    pub(crate) virtual_time: Option<Virtual>,
    pub(crate) virtual_deadline: u64,
    /// The directories the step sees, for what WASI does not tell it.
    pub(crate) mounts: Vec<Mount>,
}

impl StepState {
    pub(crate) fn new(
        context: &StepContext,
        limits: Limits,
        out_echo: Echo,
        err_echo: Echo,
    ) -> anyhow::Result<StepState> {
        let stdout = Capture::new(limits.output, out_echo);
        let stderr = Capture::new(limits.output, err_echo);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone()).envs(&context.env).initial_cwd(WORKDIR);
        if let Some(time) = &context.virtual_time {
            wasi.wall_clock(time.wall_clock())
                .secure_random(time.rng())
                .insecure_random(time.rng())
                .insecure_random_seed(time.insecure_seed());
        }
        if context.stdin {
            wasi.stdin(StepStdin { deadline: Instant::now() + limits.timeout, cancel: context.cancel.clone() });
        }
        for mount in &context.mounts {
            let perms = if mount.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            // The handle held since validation, not the path: whatever has
            // been renamed or replaced since, the guest sees what was granted.
            wasi.preopened_dir(mount.handle_path(), &mount.guest, perms)
                .map_err(|e| anyhow::anyhow!("cannot mount {} at {}: {e}", mount.host.display(), mount.guest))?;
        }
        Ok(StepState {
            wasi: wasi.build(),
            table: handles(),
            memory: MemoryCap { limit: limits.memory, exceeded: false, peak: 0 },
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
            cancel: context.cancel.clone(),
            calls: context.calls.clone(),
            origin: Instant::now(),
            denied: Vec::new(),
            virtual_deadline: context
                .virtual_time
                .as_ref()
                .map_or(0, |time| time.now().saturating_add(nanos(limits.timeout))),
            virtual_time: context.virtual_time.clone(),
            mounts: context.mounts.clone(),
        })
    }
}

/// The most handles (open files, directories, streams, sockets, timers) a
/// step may hold at once. Each open file is one of the host process's
/// descriptors: without a bound, one step holding files open (`split -n
/// r/100000`) exhausts the process's `RLIMIT_NOFILE` and every other
/// execution of a `runbox serve` fails to open anything, its sockets too.
/// Scripts are used to the 1024 descriptors of a default `ulimit -n`: that
/// many files, each with the handles the guest's libc reads or writes it
/// through (up to four), and room for the step's own streams, mounts and
/// timers.
const MAX_HANDLES: usize = 4 * 1024 + 64;

fn handles() -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_HANDLES);
    table
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Refuses linear memory past the step's limit and remembers that it did,
/// so the failure is reported as `MemoryLimit` rather than a crash; and
/// the most the step's memory grew to, which its report gives.
pub(crate) struct MemoryCap {
    pub(crate) limit: u64,
    pub(crate) exceeded: bool,
    pub(crate) peak: u64,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.exceeded = true;
            wasmtime::bail!("memory limit of {} bytes exceeded", self.limit);
        }
        self.peak = self.peak.max(desired as u64);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
