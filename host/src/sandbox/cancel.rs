//! A token that stops running steps: the CLI trips it on SIGINT/SIGTERM, a
//! server on shutdown, and a server's caller one execution's (a child of
//! the server's: [`Cancel::child`]). A step checks it at every epoch tick (a
//! few milliseconds) and every wait it makes ends when it trips.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::sync::Notify;

use crate::error::{ErrorCode, Failure};

/// Clones share one token; once tripped it stays tripped.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// The signal that asked (0: not cancelled).
    signal: AtomicI32,
    /// Who asked, when someone other than a signal did (an API caller).
    by: Mutex<Option<String>>,
    tripped: Notify,
    /// A token that trips this one too (a server's, for an execution's).
    parent: Option<Cancel>,
}

/// SIGINT, for [`Cancel::cancel`] by Ctrl-C.
pub const SIGINT: i32 = 2;
/// SIGTERM, for [`Cancel::cancel`] by a service manager or a shutdown.
pub const SIGTERM: i32 = 15;

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// A token of its own that `self` trips too: cancelling it stops only
    /// what runs under it.
    pub fn child(&self) -> Cancel {
        Cancel(Arc::new(Inner { parent: Some(self.clone()), ..Inner::default() }))
    }

    /// Stops whatever runs under this token. `signal` is the signal that
    /// asked (the exit status becomes 128 + it); the first one wins.
    pub fn cancel(&self, signal: i32) {
        let signal = if signal > 0 { signal } else { SIGTERM };
        if self.0.signal.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.0.tripped.notify_waiters();
        }
    }

    /// [`Cancel::cancel`] as Ctrl-C does, asked by `who`; false if it was
    /// cancelled already (then `who` is not recorded).
    pub fn cancel_by(&self, who: &str) -> bool {
        let mut by = self.0.by.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_cancelled() {
            return false;
        }
        *by = Some(who.to_string());
        self.cancel(SIGINT);
        true
    }

    /// Who cancelled this token with [`Cancel::cancel_by`], if it was not a
    /// signal (or its parent).
    pub fn by(&self) -> Option<String> {
        self.0.by.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The failure of a step this token stopped: who cancelled it, else the
    /// signal.
    pub fn interrupted(&self) -> Failure {
        match self.by() {
            Some(by) => Failure::new(ErrorCode::Interrupted, format!("the step was cancelled by {by}")),
            None => Failure::interrupted(self.signal()),
        }
    }

    /// The signal that cancelled, if any: this token's, else its parent's.
    pub fn signal(&self) -> Option<i32> {
        match self.0.signal.load(Ordering::SeqCst) {
            0 => self.0.parent.as_ref()?.signal(),
            signal => Some(signal),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.signal().is_some()
    }

    /// Completes once cancelled (or its parent is).
    pub async fn cancelled(&self) {
        match &self.0.parent {
            None => self.own_cancelled().await,
            Some(parent) => {
                tokio::select! {
                    () = self.own_cancelled() => {}
                    () = Box::pin(parent.cancelled()) => {}
                }
            }
        }
    }

    async fn own_cancelled(&self) {
        loop {
            let mut notified = pin!(self.0.tripped.notified());
            notified.as_mut().enable();
            if self.0.signal.load(Ordering::SeqCst) != 0 {
                return;
            }
            notified.await;
        }
    }

    /// Runs `work` until it completes, the token trips or `until` passes;
    /// `None` unless `work` completed.
    pub(crate) async fn bounded<F: Future>(&self, work: F, until: tokio::time::Instant) -> Option<F::Output> {
        let mut work = pin!(work);
        let mut cancelled = pin!(self.cancelled());
        let mut deadline = pin!(tokio::time::sleep_until(until));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if cancelled.as_mut().poll(cx).is_ready() || deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_wins_and_stays() {
        let cancel = Cancel::new();
        assert_eq!(cancel.signal(), None);
        let clone = cancel.clone();
        clone.cancel(SIGINT);
        cancel.cancel(SIGTERM);
        assert_eq!(cancel.signal(), Some(SIGINT));
        assert!(clone.is_cancelled());
    }

    #[test]
    fn a_child_stops_with_its_parent_and_alone() {
        let server = Cancel::new();
        let (one, two) = (server.child(), server.child());
        assert!(one.cancel_by("ada"));
        assert!(!one.cancel_by("bob"), "the first one wins");
        assert_eq!((one.signal(), one.by().as_deref()), (Some(SIGINT), Some("ada")));
        assert_eq!((two.signal(), server.signal()), (None, None), "a child's cancel stays its own");
        server.cancel(SIGTERM);
        assert_eq!((two.signal(), two.by()), (Some(SIGTERM), None));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(two.cancelled());
    }
}
