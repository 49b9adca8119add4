//! The seams a front end plugs into a run: who approves a step
//! ([`approve::Approver`]), who watches it ([`events::Events`]), and the
//! clock and identities it is stamped with ([`clock::Clock`],
//! [`caller::Caller`]). The command line, the API and tests each give their own.

pub mod approve;
pub mod caller;
pub mod clock;
pub mod events;

use std::sync::{Arc, Mutex};

use super::records::mask::{LiveMask, Masker};
use crate::sandbox::{Cancel, Live, Stream};
use approve::{Approver, Unattended};
use caller::Caller;
use clock::{Clock, System};
use events::{Events, Quiet};

/// What a front end plugs into a [`Runner`](super::Runner). The default asks nobody,
/// shows nothing, reads the system clock and is never cancelled.
#[derive(Clone)]
pub struct Seams {
    pub approver: Arc<dyn Approver>,
    pub events: Arc<dyn Events>,
    pub clock: Arc<dyn Clock>,
    pub caller: Arc<dyn Caller>,
    /// Stops the running step and the run when tripped.
    pub cancel: Cancel,
}

impl Default for Seams {
    fn default() -> Seams {
        Seams {
            approver: Arc::new(Unattended),
            events: Arc::new(Quiet),
            clock: Arc::new(System),
            caller: Arc::new(System),
            cancel: Cancel::new(),
        }
    }
}

/// The runner's [`Events`] as the sandbox's [`Live`] output, with the
/// run's secrets masked as they stream (a terminal is a CI job's log too).
pub(super) struct LiveEvents {
    events: Arc<dyn Events>,
    /// None when the run has no secret to mask: bytes pass as written,
    /// without a copy or a lock on every write.
    mask: Option<Mutex<LiveMask>>,
}

impl LiveEvents {
    pub(super) fn new(events: Arc<dyn Events>, masker: Masker) -> LiveEvents {
        let mask = (!masker.is_empty()).then(|| Mutex::new(LiveMask::new(masker)));
        LiveEvents { events, mask }
    }

    /// Shows what was held back in case it began a secret: the step ended.
    pub(super) fn flush(&self) {
        let Some(mask) = &self.mask else { return };
        for (index, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let held = mask.lock().unwrap_or_else(|e| e.into_inner()).flush(index);
            if !held.is_empty() {
                self.events.output(stream, &held);
            }
        }
    }
}

impl Live for LiveEvents {
    fn write(&self, stream: Stream, bytes: &[u8]) {
        let Some(mask) = &self.mask else { return self.events.output(stream, bytes) };
        let index = match stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        };
        let shown = mask.lock().unwrap_or_else(|e| e.into_inner()).write(index, bytes);
        if !shown.is_empty() {
            self.events.output(stream, &shown);
        }
    }
}
