//! A granted run's steps, one after another: approval, template expansion,
//! the sandbox, the native tier or a sub-runbook, masking, the output
//! budget, `on_error`, and what later steps see of earlier ones.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::records::mask::Masker;
use super::records::report::{ApprovalReport, RunReport, StepReport};
use super::runner::Runner;
use super::seams::LiveEvents;
use super::seams::approve::StepApproval;
use crate::error::{ErrorCode, Failure};
use crate::model::limits::Limits;
use crate::model::{Approval, Format, Language, OnError, Runbook, Source, Step};
use crate::plan::Plan;
use crate::plan::sources::Resolved;
use crate::sandbox::{self, Call, Captured, Live, Outcome, Script, StepContext, Stream};
use crate::template::{self, Scope, TemplateError};

impl Runner {
    pub(super) fn run_steps(&self, runbook: &Runbook, plan: &Plan, mut context: StepContext, report: &mut RunReport) {
        // A step certain to be refused approval (nobody to ask, not approved
        // in advance) that would stop the run refuses it before any step runs.
        let certain = runbook.steps.iter().zip(&plan.scripts).find_map(|(step, script)| {
            let approval = step.approval.clone().or_else(|| script.requires_approval.then(Approval::default))?;
            let stops = step.on_error == OnError::Fail;
            (stops && self.seams.approver.refuses_unasked(step, &approval.approvers)).then(|| {
                let unasked = ApprovalReport {
                    approvers: approval.approvers,
                    approved: false,
                    how: "non-interactive",
                    by_user: self.seams.caller.user(),
                };
                refusal(step, &unasked)
            })
        });
        if let Some(message) = certain {
            report.refuse(ErrorCode::ApprovalRequired, format!("{message}; no step ran"));
            return;
        }
        let mut budget = self.config.output_budget;
        let masker = Masker::new(&plan.env);
        let events = &self.seams.events;
        let live_events = Arc::new(LiveEvents::new(Arc::clone(events), masker.clone()));
        let live: Arc<dyn Live> = live_events.clone();
        for (step, script) in runbook.steps.iter().zip(&plan.scripts) {
            // A sub-runbook's steps also end with the step that called it
            // (`context.deadline`), which the limits reported do not show.
            let limits = self.config.overrides.apply(step.limits.apply(self.config.defaults));
            // Interrupted before the step started (or while its approval was
            // asked): it does not run, and neither does any after it.
            let interrupted = |report: &mut RunReport, approval: Option<ApprovalReport>| {
                let signal = self.seams.cancel.signal()?;
                let message = format!("step `{}` did not start: the run was interrupted", step.name);
                let failure = Failure::new(ErrorCode::Interrupted, message);
                let mut refused = StepReport::refused(step, script.audit.clone(), limits, failure);
                refused.exit_code = 128 + signal;
                refused.approval = approval;
                report.exit_code = refused.exit_code;
                report.steps.push(refused);
                Some(())
            };
            if interrupted(report, None).is_some() {
                break;
            }
            let approval = step
                .approval
                .clone()
                .or_else(|| script.requires_approval.then(|| Approval { approvers: Vec::new() }))
                .map(|approval| {
                    let scope = Scope { inputs: &plan.inputs, steps: &context.steps };
                    self.approve(runbook, step, script, &approval, &scope, &masker)
                });
            if interrupted(report, approval.clone()).is_some() {
                break;
            }
            let mut step_report = match approval.as_ref().filter(|a| !a.approved) {
                Some(refused) => {
                    let failure = Failure::new(ErrorCode::ApprovalRequired, refusal(step, refused));
                    events.step_refused(step, &failure);
                    let mut report = StepReport::refused(step, script.audit.clone(), limits, failure.clone());
                    report.mask(&masker);
                    report
                }
                None => {
                    events.step_started(step);
                    let scope = Scope { inputs: &plan.inputs, steps: &context.steps };
                    let outcome = match &step.source {
                        Source::Runbook { name, inputs } => {
                            self.call_child(runbook, step, name, inputs, &scope, &context, limits, &live)
                        }
                        _ if step.container.is_some() => self
                            .prepare(runbook, step, script, &scope, &context)
                            .and_then(|(prepared, step_context)| {
                                self.run_job(runbook, step, &prepared, &step_context, limits, &live)
                            }),
                        _ if step.native.is_some() => self.prepare(runbook, step, script, &scope, &context).and_then(
                            |(prepared, step_context)| {
                                self.run_native(runbook, step, &prepared, &step_context, limits, &live)
                            },
                        ),
                        _ => self.prepare(runbook, step, script, &scope, &context).map(|(prepared, step_context)| {
                            if self.sandbox.cold(step.language, self.virtual_time.is_some()) {
                                events.preparing(step.language);
                            }
                            self.sandbox.run(&prepared, &step_context, limits, Some(Arc::clone(&live)))
                        }),
                    };
                    let mut report = match outcome {
                        Ok(outcome) => {
                            let mut report = StepReport::new(step, script.audit.clone(), limits, outcome);
                            report.name_limit(&runbook.file_name(), runbook.format, &self.config.overrides);
                            report
                        }
                        Err(failure) => {
                            events.step_refused(step, &failure);
                            StepReport::refused(step, script.audit.clone(), limits, failure.clone())
                        }
                    };
                    // What was held back in case it began a secret.
                    live_events.flush();
                    // Masked once, before watchers see it: they see what the records keep.
                    report.mask(&masker);
                    events.step_finished(step, &report);
                    report
                }
            };
            step_report.approval = approval;
            // What the run keeps of all its steps is bounded, however many
            // steps there are and however loud.
            step_report.keep_within(&mut budget);
            report.stdout.push_str(&step_report.stdout);
            report.stderr.push_str(&step_report.stderr);
            // The only other reference went with the last step's store: no
            // copy. Its output without the trailing newlines, as `$(…)` gives
            // it: `for h in {{ steps.find.stdout }}` has no empty last line.
            Arc::make_mut(&mut context.steps).insert(
                step.name.clone(),
                json!({
                    "exit_code": step_report.exit_code,
                    "stdout": step_report.stdout.trim_end_matches('\n'),
                    "stderr": step_report.stderr.trim_end_matches('\n'),
                    "result": step_report.result,
                }),
            );
            let failed = step_report.exit_code != 0;
            // An interrupted run stops whatever the step's on_error says.
            let interrupted = step_report.error.as_ref().is_some_and(|e| e.code == ErrorCode::Interrupted);
            let stop = failed && (step.on_error == OnError::Fail || interrupted);
            step_report.continued = failed && !stop;
            if stop {
                report.exit_code = step_report.exit_code;
            }
            report.steps.push(step_report);
            if stop {
                break;
            }
        }
    }

    /// A `type: runbook` step: its sub-runbook, called with its env and
    /// inputs expanded, as the step's outcome. A child refused before it ran
    /// is the step's refusal.
    #[allow(clippy::too_many_arguments)]
    fn call_child(
        &self,
        runbook: &Runbook,
        step: &Step,
        name: &str,
        inputs: &[(String, String)],
        scope: &Scope<'_>,
        context: &StepContext,
        limits: Limits,
        live: &Arc<dyn Live>,
    ) -> Result<Outcome, Failure> {
        let in_step =
            |e: TemplateError| Failure::config(format!("{}:{}: {}", runbook.file_name(), step.line, e.message));
        let plain = |text: &str| template::expand_plain(text, scope).map_err(in_step);
        let env = step.env.iter().map(|(k, v)| Ok((k.clone(), plain(v)?))).collect::<Result<Vec<_>, _>>()?;
        let inputs = inputs.iter().map(|(k, v)| Ok((k.clone(), Value::String(plain(v)?)))).collect::<Result<_, _>>()?;
        let calls = context.calls.as_ref().ok_or_else(|| Failure::config("no sub-runbooks here"))?;
        let started = Instant::now();
        let deadline = self.config.deadline.map_or(started + limits.timeout, |d| d.min(started + limits.timeout));
        let call = Call { runbook: name.to_string(), env, inputs, deadline };
        let called = calls.call(call)?;
        // The child ran quietly; its output is this step's, shown as any step's.
        live.write(Stream::Stdout, called.stdout.as_bytes());
        live.write(Stream::Stderr, called.stderr.as_bytes());
        let error = (called.exit_code != 0)
            .then(|| Failure::new(ErrorCode::CommandFailed, format!("sub-runbook {name} exited {}", called.exit_code)));
        Ok(Outcome {
            exit_code: called.exit_code,
            stdout: Captured { text: called.stdout, truncated: false },
            stderr: Captured { text: called.stderr, truncated: false },
            duration: started.elapsed(),
            fuel_consumed: 0,
            memory_peak: None,
            result: called.result,
            error,
            confinement: None,
            job: None,
        })
    }

    /// A step of the native tier, which the consent decision allowed.
    fn run_native(
        &self,
        runbook: &Runbook,
        step: &Step,
        prepared: &Script,
        context: &StepContext,
        limits: Limits,
        live: &Arc<dyn Live>,
    ) -> Result<Outcome, Failure> {
        let native = step.native.ok_or_else(|| Failure::config("not a native step"))?;
        if self.virtual_time.is_some() {
            return Err(Failure::denied(format!(
                "step `{}` runs {} natively, which deterministic mode cannot make repeatable",
                step.name,
                native.program()
            )));
        }
        let helper = self
            .config
            .native_helper
            .as_deref()
            .ok_or_else(|| Failure::denied("the native tier needs the runbox binary, which cannot be found"))?;
        let native_step = crate::native::NativeStep {
            native,
            script: &prepared.source,
            args: &prepared.args,
            env: &context.env,
            cwd: &prepared.cwd,
            mounts: &context.mounts,
            tcp_ports: self.net_policy(runbook).tcp_ports(),
            unconfined: self.config.grants.unconfined,
            helper,
            cancel: &self.seams.cancel,
            deadline: self.config.deadline,
        };
        Ok(crate::native::run(&native_step, limits, Some(Arc::clone(live))))
    }

    /// An `image_ref` step, as a Kubernetes Job in the image the operator
    /// maps its name to.
    #[cfg(feature = "kubernetes")]
    fn run_job(
        &self,
        runbook: &Runbook,
        step: &Step,
        prepared: &Script,
        context: &StepContext,
        limits: Limits,
        live: &Arc<dyn Live>,
    ) -> Result<Outcome, Failure> {
        let container = step.container.as_ref().ok_or_else(|| Failure::config("not an image step"))?;
        let executor = self.config.executor.as_ref().ok_or_else(|| {
            Failure::config(format!("step `{}` names image_ref: run it with --executor kubernetes", step.name))
        })?;
        if self.virtual_time.is_some() {
            return Err(Failure::denied(format!(
                "step `{}` runs as a Kubernetes Job, which deterministic mode cannot make repeatable",
                step.name
            )));
        }
        let image = executor.image(&container.image).map_err(Failure::config)?;
        // The bridge to runbox's API is a loopback address and a token for
        // it: neither means anything in the cluster, and the token is runbox's.
        let env: Vec<(String, String)> = context
            .env
            .iter()
            .filter(|(name, _)| name != "RUNBOOK_API_BASE_URL" && name != "RUNBOOK_API_TOKEN")
            .cloned()
            .collect();
        let runner = crate::jobs::runner();
        let job = crate::jobs::JobStep {
            step: &step.name,
            runbook: &runbook.file_name(),
            image_ref: &container.image,
            image: &image,
            script: &prepared.source,
            args: &prepared.args,
            env: &env,
            secret_env: &container.secret_env,
            execution_id: self.execution_id.as_deref().unwrap_or(&context.correlation_id),
            correlation_id: &context.correlation_id,
            runner: &runner,
            egress_ports: self.net_policy(runbook).tcp_ports(),
            cancel: &self.seams.cancel,
            deadline: self.config.deadline,
        };
        Ok(crate::jobs::run(&job, limits, Some(Arc::clone(live))))
    }

    /// Refused: this build has no Kubernetes executor (the plan says so
    /// before any step runs).
    #[cfg(not(feature = "kubernetes"))]
    fn run_job(
        &self,
        _: &Runbook,
        step: &Step,
        _: &Script,
        _: &StepContext,
        _: Limits,
        _: &Arc<dyn Live>,
    ) -> Result<Outcome, Failure> {
        Err(Failure::config(format!("step `{}` names image_ref, and this build has no Kubernetes executor", step.name)))
    }

    /// The script with its templates expanded, and the context it runs in.
    fn prepare(
        &self,
        runbook: &Runbook,
        step: &Step,
        script: &Resolved,
        scope: &Scope<'_>,
        context: &StepContext,
    ) -> Result<(Script, StepContext), Failure> {
        // Positions in the script's own file; a secret's text is not quoted.
        let in_script = |e: TemplateError| {
            let line = script.first_line as usize + e.line;
            let message =
                if script.is_secret() { "a template in it cannot be expanded".to_string() } else { e.message };
            Failure::config(format!("{}:{line}: {message}", script.filename))
        };
        let in_step =
            |e: TemplateError| Failure::config(format!("{}:{}: {}", runbook.file_name(), step.line, e.message));
        let mut prepared = Script::new(step.language, script.text.clone(), script.filename.clone());
        prepared.first_line = script.first_line;
        prepared.secret = script.is_secret();
        let mut step_context = context.clone();
        if runbook.format == Format::Yaml {
            match step.language {
                Language::Shell => {
                    let expanded = template::expand_shell(&script.text, scope).map_err(in_script)?;
                    prepared.source = expanded.script;
                    step_context.env.extend(expanded.variables);
                }
                Language::JavaScript => {
                    let expanded = template::expand_js(&script.text, scope).map_err(in_script)?;
                    prepared.source = expanded.source;
                    step_context.variables.extend(expanded.variables);
                }
            }
            let plain = |text: &str| template::expand_plain(text, scope).map_err(in_step);
            prepared.args = step.args.iter().map(|a| plain(a)).collect::<Result<_, _>>()?;
            for (name, value) in &step.env {
                let value = plain(value)?;
                step_context.env.retain(|(n, _)| n != name);
                step_context.env.push((name.clone(), value.clone()));
                step_context.variables.insert(name.clone(), Value::String(value));
            }
            step_context.variables.insert("args".into(), json!(prepared.args));
            if let Some(cwd) = &step.cwd {
                let cwd = plain(cwd)?;
                prepared.cwd = sandbox::guest_dir(&step_context.mounts, &cwd)
                    .map_err(|m| Failure::new(ErrorCode::InvalidCwd, m))?;
            }
        }
        Ok((prepared, step_context))
    }

    /// Whether `step` may run, as the [`Approver`] decides.
    fn approve(
        &self,
        runbook: &Runbook,
        step: &Step,
        script: &Resolved,
        approval: &Approval,
        scope: &Scope<'_>,
        masker: &Masker,
    ) -> ApprovalReport {
        // The values the script's templates will have, as the approver must
        // see them to know what runs (a YAML runbook's only).
        let mut values: Vec<(String, String)> = Vec::new();
        if runbook.format == Format::Yaml {
            for (reference, _) in template::references(&script.text).0 {
                let written = format!("{{{{ {} }}}}", reference.written);
                if values.iter().any(|(w, _)| *w == written) {
                    continue;
                }
                let mut value = match scope.value(&reference) {
                    Ok(value) => template::text_of(&value),
                    Err(why) => format!("(no value: {why})"),
                };
                masker.text(&mut value);
                values.push((written, value));
            }
        }
        let request = StepApproval {
            step,
            approvers: &approval.approvers,
            source: &script.audit,
            script: &script.text,
            values: &values,
        };
        let answer = self.seams.approver.approve(&request);
        ApprovalReport {
            approvers: approval.approvers.clone(),
            approved: answer.approved,
            how: answer.how,
            by_user: self.seams.caller.user(),
        }
    }
}

fn refusal(step: &Step, approval: &ApprovalReport) -> String {
    let approvers = if approval.approvers.is_empty() {
        String::new()
    } else {
        format!(" by one of {}", approval.approvers.join(", "))
    };
    match approval.how {
        "terminal" => format!("step `{}` needs approval{approvers}, and it was declined at the terminal", step.name),
        _ => format!(
            "step `{}` needs approval{approvers}; review it and run again with --approve {} (or run on a terminal to be asked)",
            step.name, step.name
        ),
    }
}

/// Inputs by name, and `inputs`, `env` and `steps` as objects; declared
/// variables by name too where no input has the name.
pub(super) fn variables(inputs: &Map<String, Value>, env: &[(String, String)]) -> Map<String, Value> {
    let mut vars = Map::new();
    for (name, value) in env {
        vars.insert(name.clone(), Value::String(value.clone()));
    }
    vars.extend(inputs.clone());
    vars.insert("inputs".into(), Value::Object(inputs.clone()));
    vars.insert("env".into(), Value::Object(env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()));
    vars
}
