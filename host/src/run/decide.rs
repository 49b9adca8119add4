//! The run's one consent decision: whether what a runbook asks (its
//! [`Ask`]s, from `plan/consent.rs`) is granted, and how — by flags, by the
//! calling runbook's consent, by consent recorded with `runbox allow`, or by
//! the person the [`Approver`](super::seams::approve::Approver) asks — and,
//! when it is not, the refusal the user reads. Also what the decision opens:
//! the network a step may reach.

use super::runner::Runner;
use super::seams::approve::ConsentAnswer;
use crate::error::{ErrorCode, Failure};
use crate::model::Runbook;
use crate::model::cluster::ObjectGrant;
use crate::model::net::NetPolicy;
use crate::plan::consent::{self, Ask, AskKind, Consented, Decision};
use crate::plan::fingerprint::Child;
use crate::plan::{self, Host, Plan};

impl Runner {
    /// The keys of ConfigMaps and Secrets the plan of `runbook` may read:
    /// each is read with the user's credentials, so it is decided before the
    /// plan reads anything, by flags, by the calling runbook's consent, by
    /// consent recorded for this version of the runbook's file (what the
    /// objects hold is checked with the rest of the plan), or by the person
    /// at the terminal, who is asked then for all the runbook asks — that
    /// answer is the run's. Refused, the run ends before any request.
    pub(super) fn cluster_reads(
        &self,
        runbook: &Runbook,
        host: &Host,
    ) -> Result<(Vec<ObjectGrant>, Option<ConsentAnswer>), (Decision, Failure)> {
        let grants = &self.config.grants;
        let asks = plan::asks_before_reading(runbook, host);
        let reads: Vec<&Ask> = asks.iter().filter(|a| a.kind == AskKind::Kubernetes).collect();
        let exactly = |asks: &[&Ask]| -> Vec<ObjectGrant> {
            grants.kubernetes.iter().cloned().chain(consent::object_grants(asks.iter().copied())).collect()
        };
        let ungranted: Vec<&Ask> = reads.iter().copied().filter(|a| !grants.grants(a)).collect();
        let real = crate::state::real(&runbook.path);
        // A sub-runbook's reads were asked with its caller's: those exactly,
        // not what its file names since.
        let covered =
            |c: &Child| c.path == real && ungranted.iter().all(|a| c.asks.iter().any(|b| b.flag() == a.flag()));
        if ungranted.is_empty()
            || self.covered.iter().any(covered)
            || self.config.consent.names(runbook, &ungranted.iter().map(|a| (*a).clone()).collect::<Vec<_>>())
        {
            return Ok((exactly(&reads), None));
        }
        let all_ungranted: Vec<Ask> = asks.iter().filter(|a| !grants.grants(a)).cloned().collect();
        let answer = self.seams.approver.consent(runbook, &all_ungranted);
        if answer.granted {
            return Ok((exactly(&reads), Some(answer)));
        }
        let asked = asks.iter().map(Ask::flag).collect();
        let message = consent::refusal(runbook, &asks, grants, &[]);
        Err((Decision { asked, granted: false, how: answer.how }, Failure::new(ErrorCode::PermissionDenied, message)))
    }

    /// Whether what `runbook` asks is granted, and the refusal when it is
    /// not: by flags, by the consent of the runbook that names it, by
    /// consent recorded for this version of the file and every file it binds,
    /// or by the person at the terminal (unless `answered` there already,
    /// before the cluster was read). A refusal after recorded consent no
    /// longer holds names the files that changed.
    pub(super) fn decide(
        &self,
        runbook: &Runbook,
        plan: &Plan,
        answered: Option<ConsentAnswer>,
    ) -> (Decision, Option<Failure>) {
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
        // Asked already, before the cluster was read: not asked twice.
        let answer = answered.unwrap_or_else(|| self.seams.approver.consent(runbook, &ungranted));
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
