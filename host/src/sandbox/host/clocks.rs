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

use std::time::{Duration, Instant};

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use crate::sandbox::cancel::Cancel;
use crate::sandbox::step::StepState;

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
}

/// Replaces `wasi:clocks/monotonic-clock` in `linker` (after wasmtime-wasi
/// has added its own).
pub(crate) fn add_to_linker<T: StepTime>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("now", |cx: StoreContextMut<'_, T>, (): ()| Ok((nanos(cx.data().origin().elapsed()),)))?;
    clock.func_wrap("resolution", |_: StoreContextMut<'_, T>, (): ()| Ok((1u64,)))?;
    clock.func_wrap("subscribe-duration", |mut cx: StoreContextMut<'_, T>, (duration,): (u64,)| {
        let until = Instant::now().checked_add(Duration::from_nanos(duration));
        wait(cx.data_mut(), until)
    })?;
    clock.func_wrap("subscribe-instant", |mut cx: StoreContextMut<'_, T>, (when,): (u64,)| {
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
}
