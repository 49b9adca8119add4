//! The run's one consent decision: whether what a runbook asks (its
//! [`Ask`]s, from `plan/consent.rs`) is granted, and how — by flags, by the
//! calling runbook's consent, by consent recorded with `runbox allow`, or by
//! the person the [`Approver`](super::seams::approve::Approver) asks — and,
//! when it is not, the refusal the user reads. Also what the decision opens:
//! the network a step may reach.

use super::runner::Runner;
use crate::error::{ErrorCode, Failure};
use crate::model::Runbook;
use crate::model::net::NetPolicy;
use crate::plan::Plan;
use crate::plan::consent::{self, Ask, Consented, Decision};

impl Runner {
    /// Whether what `runbook` asks is granted, and the refusal when it is
    /// not: by flags, by the consent of the runbook that names it, by
    /// consent recorded for this version of the file and every file it binds,
    /// or by the person at the terminal. A refusal after recorded consent no
    /// longer holds names the files that changed.
    pub(super) fn decide(&self, runbook: &Runbook, plan: &Plan) -> (Decision, Option<Failure>) {
        let (asks, bound) = (&plan.asks, &plan.bound);
        let asked: Vec<String> = asks.iter().map(Ask::flag).collect();
        let decision = |granted, how| Decision { asked: asked.clone(), granted, how };
        let grants = &self.config.grants;
        if asks.is_empty() {
            return (decision(true, "nothing asked"), None);
        }
        if asks.iter().all(|a| grants.grants(a)) {
            return (decision(true, if grants.all { "--allow-all" } else { "flags" }), None);
        }
        let real = crate::state::real(&runbook.path);
        if self.covered.iter().any(|c| c.path == real && c.digest == bound.digest()) {
            return (decision(true, "the calling runbook's consent"), None);
        }
        let changed = match self.config.consent.granted(runbook, asks, &bound.files) {
            Consented::Yes => return (decision(true, "runbox allow"), None),
            Consented::No => Vec::new(),
            Consented::Changed(files) => {
                self.seams.events.notice(&consent::changed_message(&files));
                files
            }
        };
        let ungranted: Vec<Ask> = asks.iter().filter(|a| !grants.grants(a)).cloned().collect();
        let answer = self.seams.approver.consent(runbook, &ungranted);
        if !answer.granted {
            let message = consent::refusal(runbook, asks, grants, &changed);
            return (decision(false, answer.how), Some(Failure::new(ErrorCode::PermissionDenied, message)));
        }
        if answer.always {
            match self.config.consent.record(runbook, asks, &bound.files) {
                Ok(file) => self.seams.events.notice(&format!("consent recorded in {}", file.display())),
                Err(e) => self.seams.events.notice(&format!("cannot record consent ({e}); allowed this once")),
            }
        }
        (decision(true, answer.how), None)
    }

    /// The hosts the user allows, and those the runbook asked for (by now
    /// granted, or the run was refused).
    pub(super) fn net_policy(&self, runbook: &Runbook) -> NetPolicy {
        let hosts: Vec<&str> = runbook.net.iter().map(|h| h.host.as_str()).collect();
        // Each host was checked when the runbook was parsed.
        self.config.grants.net.merged(&NetPolicy::new(&hosts).unwrap_or_default())
    }
}
