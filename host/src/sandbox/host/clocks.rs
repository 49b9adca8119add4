//! The guests' monotonic clock, served by runbox rather than wasmtime-wasi,
//! so that every wait a guest makes ends by its step's deadline.
//!
//! wasmtime-wasi's `subscribe-duration` waits in real time inside a host
//! call, where epoch interruption cannot reach: `sleep 100` under a 500 ms
//! timeout returned after 100 s. Here each pollable a guest subscribes to
//! is cut at the step's deadline; the guest wakes then, and the epoch check
//! that follows stops it with `Timeout`. (The alternative, calling guests
//! asynchronously under a timeout, would put every step on a fiber for the
//! sake of one import.)
//!
//! In deterministic mode the clock is the run's virtual time: a read moves
//! it one tick, a wait moves it by what was waited and returns at once, and
//! a wait past the step's timeout (in virtual time) ends the step with
//! `Timeout`, the same on every run.

use std::time::{Duration, Instant};

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use crate::sandbox::cancel::Cancel;
use crate::sandbox::determinism::Virtual;
use crate::sandbox::store::StepState;

/// The interface replaced; guests importing any 0.2.x version link to it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// A store's view of the step's time.
pub(crate) trait StepTime: Send + 'static {
    /// Instant zero of the guest's monotonic clock.
    fn origin(&self) -> Instant;
    /// When the step must end.
    fn deadline(&self) -> Instant;
    /// Ends every wait early when tripped.
    fn cancel(&self) -> &Cancel;
    fn table(&mut self) -> &mut ResourceTable;
    /// Deterministic mode's virtual time, and when the step ends in it.
    fn virtual_time(&self) -> Option<(&Virtual, u64)>;
    /// Records that the step ran out of (virtual) time.
    fn time_out(&mut self);
}

/// Replaces `wasi:clocks/monotonic-clock` in `linker` (after wasmtime-wasi
/// has added its own).
pub(crate) fn add_to_linker<T: StepTime>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("now", |cx: StoreContextMut<'_, T>, (): ()| match cx.data().virtual_time() {
        Some((time, _)) => Ok((time.read(),)),
        None => Ok((nanos(cx.data().origin().elapsed()),)),
    })?;
    clock.func_wrap("resolution", |_: StoreContextMut<'_, T>, (): ()| Ok((1u64,)))?;
    clock.func_wrap("subscribe-duration", |mut cx: StoreContextMut<'_, T>, (duration,): (u64,)| {
        if let Some((time, _)) = cx.data().virtual_time() {
            let until = time.now().saturating_add(duration);
            return wait_virtually(cx.data_mut(), until);
        }
        let until = Instant::now().checked_add(Duration::from_nanos(duration));
        wait(cx.data_mut(), until)
    })?;
    clock.func_wrap("subscribe-instant", |mut cx: StoreContextMut<'_, T>, (when,): (u64,)| {
        if cx.data().virtual_time().is_some() {
            return wait_virtually(cx.data_mut(), when);
        }
        let until = cx.data().origin().checked_add(Duration::from_nanos(when));
        wait(cx.data_mut(), until)
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A pollable ready at `until` or at the deadline, whichever comes first.
fn wait<T: StepTime>(state: &mut T, until: Option<Instant>) -> wasmtime::Result<(Resource<DynPollable>,)> {
    let deadline = state.deadline();
    let until = until.map_or(deadline, |u| u.min(deadline));
    let cancel = state.cancel().clone();
    let resource = state.table().push(Wait { until: tokio::time::Instant::from_std(until), cancel })?;
    Ok((subscribe(state.table(), resource)?,))
}

/// A wait in virtual time: time moves to `until` and the pollable is ready
/// at once; past the step's virtual deadline, the step times out.
fn wait_virtually<T: StepTime>(state: &mut T, until: u64) -> wasmtime::Result<(Resource<DynPollable>,)> {
    let Some((time, deadline)) = state.virtual_time() else { return wait(state, None) };
    if until > deadline {
        time.advance_to(deadline);
        state.time_out();
        return Err(wasmtime::format_err!("the step's deadline passed (in virtual time)"));
    }
    time.advance_to(until);
    wait(state, Some(Instant::now()))
}

struct Wait {
    until: tokio::time::Instant,
    cancel: Cancel,
}

#[wasmtime_wasi::async_trait]
impl Pollable for Wait {
    async fn ready(&mut self) {
        // Ready at `until`, or at once when the step is cancelled.
        self.cancel.bounded(std::future::pending::<()>(), self.until).await;
    }
}

impl StepTime for StepState {
    fn origin(&self) -> Instant {
        self.origin
    }

    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn virtual_time(&self) -> Option<(&Virtual, u64)> {
        self.virtual_time.as_ref().map(|time| (time, self.virtual_deadline))
    }

    fn time_out(&mut self) {
        self.timed_out = true;
    }
}
