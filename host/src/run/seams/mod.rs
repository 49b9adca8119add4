//! The seams a front end plugs into a run: who approves a step
//! ([`approve::Approver`]), who watches it ([`events::Events`]), and the
//! clock and identities it is stamped with ([`clock::Clock`],
//! [`caller::Caller`]). The command line, the API and tests each give their own.

pub mod approve;
pub mod caller;
pub mod clock;
pub mod events;

use std::sync::Arc;

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

/// The runner's [`Events`] as the sandbox's [`Live`] output.
pub(super) struct LiveEvents(pub(super) Arc<dyn Events>);

impl Live for LiveEvents {
    fn write(&self, stream: Stream, bytes: &[u8]) {
        self.0.output(stream, bytes);
    }
}
