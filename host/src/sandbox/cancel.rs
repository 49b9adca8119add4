//! A token that stops running steps: the CLI trips it on SIGINT/SIGTERM, a
//! server on shutdown. A step checks it at every epoch tick (a few
//! milliseconds) and every wait it makes ends when it trips.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::task::Poll;

use tokio::sync::Notify;

/// Clones share one token; once tripped it stays tripped.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// The signal that asked (0: not cancelled).
    signal: AtomicI32,
    tripped: Notify,
}

/// SIGINT, for [`Cancel::cancel`] by Ctrl-C.
pub const SIGINT: i32 = 2;
/// SIGTERM, for [`Cancel::cancel`] by a service manager or a shutdown.
pub const SIGTERM: i32 = 15;

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Stops whatever runs under this token. `signal` is the signal that
    /// asked (the exit status becomes 128 + it); the first one wins.
    pub fn cancel(&self, signal: i32) {
        let signal = if signal > 0 { signal } else { SIGTERM };
        if self.0.signal.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.0.tripped.notify_waiters();
        }
    }

    /// The signal that cancelled, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0.signal.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.signal().is_some()
    }

    /// Completes once cancelled.
    pub async fn cancelled(&self) {
        loop {
            let mut notified = pin!(self.0.tripped.notified());
            notified.as_mut().enable();
            if self.is_cancelled() {
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
}
