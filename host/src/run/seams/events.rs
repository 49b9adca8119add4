//! What a run tells whoever watches it while it happens: a step started,
//! its output as written, it finished or was refused, and notices (consent
//! recorded, history not written). The CLI prints them on a terminal; a
//! server will stream them. The runner itself never prints.

use crate::error::Failure;
use crate::model::{Language, Step};
use crate::sandbox::Stream;

use crate::run::records::report::StepReport;

/// Every method does nothing unless overridden.
pub trait Events: Send + Sync {
    /// A step is about to run (it was approved, if it needed to be).
    fn step_started(&self, _step: &Step) {}

    /// A running step wrote `bytes` to `stream`.
    fn output(&self, _stream: Stream, _bytes: &[u8]) {}

    /// A step that started has ended.
    fn step_finished(&self, _step: &Step, _report: &StepReport) {}

    /// A step did not run: not approved, or its templates or `cwd` could not
    /// be prepared.
    fn step_refused(&self, _step: &Step, _failure: &Failure) {}

    /// Something the person running should know that is not a step's output.
    fn notice(&self, _text: &str) {}

    /// The sandbox for `language` is being made, which takes a moment the
    /// first time on a machine (seconds in deterministic mode, or with
    /// `--no-cache` there).
    fn preparing(&self, _language: Language) {}

    /// What the record store keeps of the events told so far, with the
    /// run's record, for followers once the run has ended (a server's log
    /// of them); none unless overridden.
    fn kept(&self) -> Option<String> {
        None
    }
}

/// Watches nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Events for Quiet {}
