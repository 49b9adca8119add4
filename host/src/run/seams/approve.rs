//! Who decides what a run may do beyond its safe defaults, and whether a
//! step that needs approval may run: a person at a terminal (the CLI's), a
//! list approved in advance, an API request (later). The runner asks an
//! [`Approver`]; it never reads stdin itself.

use crate::model::Runbook;
use crate::model::Step;
use crate::plan::consent::Ask;
use crate::plan::sources::SourceReport;

/// What the runner asks before it acts.
pub trait Approver: Send + Sync {
    /// Whether `runbook` may have `asks` (what neither flags nor recorded
    /// consent grant).
    fn consent(&self, runbook: &Runbook, asks: &[Ask]) -> ConsentAnswer;

    /// Whether a step that needs approval may run.
    fn approve(&self, request: &StepApproval<'_>) -> Approved;

    /// Whether `step` is certain to be refused approval without anyone
    /// being asked (nobody to ask, and not approved in advance): the run
    /// is then refused before its first step, not after the steps before
    /// it ran. `false` when someone will be asked.
    fn refuses_unasked(&self, _step: &Step, _approvers: &[String]) -> bool {
        false
    }
}

/// An [`Approver`]'s answer about consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsentAnswer {
    pub granted: bool,
    /// Record it for this version of the file (`runbox allow`).
    pub always: bool,
    /// How it was decided, for the record: `terminal`, `not granted`, …
    pub how: &'static str,
}

/// A step that needs approval, as shown to whoever decides.
#[derive(Clone, Copy, Debug)]
pub struct StepApproval<'a> {
    pub step: &'a Step,
    /// Who may approve it, if the runbook says.
    pub approvers: &'a [String],
    /// Where its script comes from, and its sha256.
    pub source: &'a SourceReport,
    /// The script itself (a secret's too: the person approving must see
    /// what runs).
    pub script: &'a str,
    /// Each template in the script (`{{ steps.find.stdout }}`) with the value
    /// it will have when the step runs, secrets masked: what will run is the
    /// script with these.
    pub values: &'a [(String, String)],
}

/// An [`Approver`]'s answer about a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approved {
    pub approved: bool,
    /// `--approve`, `terminal`, `non-interactive`, …
    pub how: &'static str,
}

/// Nobody to ask: nothing beyond the safe defaults, no step that needs
/// approval. What runs in CI and behind a server unless told otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unattended;

impl Approver for Unattended {
    fn consent(&self, _: &Runbook, _: &[Ask]) -> ConsentAnswer {
        ConsentAnswer { granted: false, always: false, how: "not granted" }
    }

    fn approve(&self, _: &StepApproval<'_>) -> Approved {
        Approved { approved: false, how: "non-interactive" }
    }

    fn refuses_unasked(&self, _: &Step, _: &[String]) -> bool {
        true
    }
}

/// Steps approved in advance by name (`--approve STEP`); anything else goes
/// to `then`.
pub struct PreApproved<A> {
    pub steps: Vec<String>,
    pub then: A,
}

impl<A: Approver> Approver for PreApproved<A> {
    fn consent(&self, runbook: &Runbook, asks: &[Ask]) -> ConsentAnswer {
        self.then.consent(runbook, asks)
    }

    fn approve(&self, request: &StepApproval<'_>) -> Approved {
        if self.steps.iter().any(|s| s == &request.step.name) {
            Approved { approved: true, how: "--approve" }
        } else {
            self.then.approve(request)
        }
    }

    fn refuses_unasked(&self, step: &Step, approvers: &[String]) -> bool {
        !self.steps.iter().any(|s| s == &step.name) && self.then.refuses_unasked(step, approvers)
    }
}
