//! The Kubernetes executor: an `image_ref` step run as a Job. The Job is
//! made suspended, its Secret (script and variables) and NetworkPolicy made
//! owned by it, then it is let go; runbox watches its pod (resuming a watch
//! the server drops), follows the container's log into the step's output
//! under the step's output limit, takes the exit code from the container's
//! terminated state, and deletes the Job with its pod, Secret and policy
//! (propagation Background) however the step ends. A server sweeps the
//! Jobs a previous process of its pod left when it starts.

mod pods;
mod spec;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{AsyncReadExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{
    DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, PropagationPolicy, WatchEvent, WatchParams,
};
use kube::{Api, Client, Config};

use crate::error::{ErrorCode, Failure};
use crate::model::cluster::JobRecord;
use crate::model::limits::Limits;
use crate::sandbox::{Capture, Captured, Live, Outcome, Stream};
use pods::Seen;
pub use spec::JobStep;

/// How often the wait for the pod looks at the deadline, Ctrl-C and the
/// output limit between the watch's events.
const TICK: Duration = Duration::from_millis(100);
/// How long the log may take to end once the container has.
const LOG_GRACE: Duration = Duration::from_secs(5);

/// Runs `step` as a Job and reports it as any step's outcome: its log is
/// its stdout (a pod's log holds both streams), runbox's own words its
/// stderr.
pub fn run(step: &JobStep<'_>, limits: Limits, live: Option<Arc<dyn Live>>) -> Outcome {
    let started = Instant::now();
    let out = Capture::new(limits.output, live.clone().map(|l| (l, Stream::Stdout)));
    let ended = crate::kubernetes::on_runtime(async { Ok(run_async(step, limits, out.clone(), started).await) })
        .unwrap_or_else(|e| Err(Failure::new(ErrorCode::RuntimeError, e)));
    let (exit_code, error, job) = match ended {
        Ok(ended) => ended,
        Err(failure) => (failure.status(step.cancel.signal()), Some(failure), None),
    };
    let stdout = out.finish("stdout");
    let mut stderr = Captured::default();
    if let Some(error) = error.as_ref().filter(|e| !e.said_by_script()) {
        let line = format!("{error}\n");
        if let Some(live) = &live {
            live.write(Stream::Stderr, line.as_bytes());
        }
        stderr.text = line;
    }
    Outcome { job, ..Outcome::outside(exit_code, stdout, stderr, started.elapsed(), error) }
}

type Ended = (i32, Option<Failure>, Option<JobRecord>);

async fn run_async(step: &JobStep<'_>, limits: Limits, out: Capture, started: Instant) -> Result<Ended, Failure> {
    let config = match tokio::time::timeout(crate::kubernetes::READ_TIMEOUT, Config::infer()).await {
        Ok(Ok(config)) => config,
        Ok(Err(e)) => {
            return Err(Failure::config(format!(
                "the Kubernetes executor has no configuration: neither KUBECONFIG (or ~/.kube/config) nor a pod's ServiceAccount ({e})"
            )));
        }
        Err(_) => return Err(Failure::config("reading the Kubernetes configuration timed out")),
    };
    let namespace = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| Failure::config(format!("cannot make a client for the API server at {server}: {e}")))?;
    let deadline = step.deadline.map_or(started + limits.timeout, |d| d.min(started + limits.timeout));
    let seconds = deadline.saturating_duration_since(Instant::now()).as_secs_f64().ceil() as i64;
    let name = spec::job_name(step.step, &suffix());
    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
    let at = Where { namespace: &namespace, server: &server };
    let made = tokio::time::timeout(
        crate::kubernetes::READ_TIMEOUT,
        jobs.create(&PostParams::default(), &spec::job(step, &name, seconds, limits.memory)),
    )
    .await
    .map_err(|_| at.silent("create", "jobs"))?
    .map_err(|e| at.refused(&e, "create", "jobs", "batch"))?;
    let record =
        JobRecord { name: name.clone(), namespace: namespace.clone(), image: step.image.to_string(), image_id: None };
    let uid = made.metadata.uid.unwrap_or_default();
    let ran = supervise(step, &client, &at, &name, &uid, limits, &out, deadline, record).await;
    // However it ended: the Job, its pod, its Secret and its policy go.
    if let Err(e) = delete(&jobs, &name).await {
        tracing::warn!(job = %name, namespace = %namespace, "cannot delete the step's Job (its TTL will): {e}");
    }
    ran
}

/// Deletes Job `name` with what it owns (propagation Background), trying
/// again after a failure that is not the API server's answer (a pooled
/// connection a proxy closed): cleanup must not hang on one request.
async fn delete(jobs: &Api<Job>, name: &str) -> Result<(), String> {
    let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..DeleteParams::default() };
    let mut failed = String::new();
    for _ in 0..3 {
        match within(jobs.delete(name, &params)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(kube::Error::Api(status))) if status.code == 404 => return Ok(()),
            Ok(Err(kube::Error::Api(status))) => {
                return Err(format!("{} {}: {}", status.code, status.reason, status.message));
            }
            Ok(Err(e)) => failed = e.to_string(),
            Err(_) => failed = "the API server did not answer in time".into(),
        }
        tokio::time::sleep(TICK).await;
    }
    Err(failed)
}

/// Where the executor makes its objects, for its messages.
struct Where<'a> {
    namespace: &'a str,
    server: &'a str,
}

impl Where<'_> {
    fn refused(&self, error: &kube::Error, verb: &str, resource: &str, group: &str) -> Failure {
        let namespace = self.namespace;
        match error {
            // Refused by an admission policy (PodSecurity, a webhook, a
            // quota), not by RBAC: its message says why; no Role helps.
            kube::Error::Api(status)
                if status.code == 403 && !status.message.contains(&format!("cannot {verb} resource")) =>
            {
                Failure::denied(format!(
                    "the API server at {} refused to {verb} {resource} in namespace `{namespace}` (403 Forbidden: {})",
                    self.server, status.message
                ))
            }
            kube::Error::Api(status) if status.code == 403 => Failure::denied(format!(
                "runbox may not {verb} {resource} in namespace `{namespace}` (403 Forbidden: {}); a Role in `{namespace}` with the rule {{apiGroups: [\"{group}\"], resources: [\"{resource}\"], verbs: [\"{verb}\"]}}, bound to runbox's ServiceAccount or user, grants it (deploy/role.yaml has every rule the executor needs)",
                status.message
            )),
            kube::Error::Api(status) if status.code == 401 => Failure::denied(format!(
                "the API server at {} refused runbox's credentials (401 Unauthorized: {})",
                self.server, status.message
            )),
            kube::Error::Api(status) => Failure::new(
                ErrorCode::RuntimeError,
                format!(
                    "the API server at {} would not {verb} {resource} ({} {}: {})",
                    self.server, status.code, status.reason, status.message
                ),
            ),
            other => Failure::new(
                ErrorCode::RuntimeError,
                format!("cannot reach the Kubernetes API server at {} to {verb} {resource}: {other}", self.server),
            ),
        }
    }

    fn silent(&self, verb: &str, resource: &str) -> Failure {
        Failure::new(
            ErrorCode::RuntimeError,
            format!(
                "the Kubernetes API server at {} did not answer within {}s (to {verb} {resource})",
                self.server,
                crate::kubernetes::READ_TIMEOUT.as_secs()
            ),
        )
    }
}

/// `work` within the time a request to the API server may take.
fn within<F: Future>(work: F) -> tokio::time::Timeout<F> {
    tokio::time::timeout(crate::kubernetes::READ_TIMEOUT, work)
}

/// Eight random hex digits: Jobs of one step in one second differ.
fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// From the made Job to the step's end: its Secret and policy, the Job let
/// go, the pod watched, its log followed.
#[allow(clippy::too_many_arguments)]
async fn supervise(
    step: &JobStep<'_>,
    client: &Client,
    at: &Where<'_>,
    name: &str,
    uid: &str,
    limits: Limits,
    out: &Capture,
    deadline: Instant,
    mut record: JobRecord,
) -> Result<Ended, Failure> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), at.namespace);
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), at.namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), at.namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), at.namespace);
    within(secrets.create(&PostParams::default(), &spec::secret(step, name, uid)))
        .await
        .map_err(|_| at.silent("create", "secrets"))?
        .map_err(|e| at.refused(&e, "create", "secrets", ""))?;
    within(policies.create(&PostParams::default(), &spec::network_policy(step, name, uid)))
        .await
        .map_err(|_| at.silent("create", "networkpolicies"))?
        .map_err(|e| at.refused(&e, "create", "networkpolicies", "networking.k8s.io"))?;
    let go = Patch::Merge(serde_json::json!({ "spec": { "suspend": false } }));
    within(jobs.patch(name, &PatchParams::default(), &go))
        .await
        .map_err(|_| at.silent("patch", "jobs"))?
        .map_err(|e| at.refused(&e, "patch", "jobs", "batch"))?;

    let selector = format!("{}={name}", spec::JOB_LABEL);
    let mut log: Option<tokio::task::JoinHandle<Result<(), String>>> = None;
    // Set once the pod has ended: the log's next stream is its last.
    let ended = Arc::new(AtomicBool::new(false));
    let mut version: Option<String> = None;
    let seen = 'watch: loop {
        // A list first (and again when the server says the version is gone),
        // then a watch from its version, resumed from the last event's.
        let rv = match version.clone() {
            Some(rv) => rv,
            None => {
                let listed = match within(pods.list(&ListParams::default().labels(&selector))).await {
                    Ok(Ok(listed)) => listed,
                    Ok(Err(e @ kube::Error::Api(_))) => return Err(at.refused(&e, "list", "pods", "")),
                    // A pooled connection a proxy closed, a slow answer: again,
                    // until the step's end.
                    Ok(Err(_)) | Err(_) => {
                        if let Some(stopped) = stop(step, out, deadline, limits) {
                            break 'watch Seen::Failed(stopped);
                        }
                        tokio::time::sleep(TICK).await;
                        continue 'watch;
                    }
                };
                for pod in &listed.items {
                    let (seen, image_id) = pods::seen(pod, spec::CONTAINER);
                    record.image_id = image_id.or(record.image_id);
                    if let Some(ended) = look(seen, pod, &pods, out, &ended, &mut log) {
                        break 'watch ended;
                    }
                }
                listed.metadata.resource_version.unwrap_or_default()
            }
        };
        version = Some(rv.clone());
        let params = WatchParams::default().labels(&selector).timeout(290);
        let mut events = match within(pods.watch(&params, &rv)).await {
            Ok(Ok(events)) => events.boxed(),
            Ok(Err(e @ kube::Error::Api(_))) => return Err(at.refused(&e, "watch", "pods", "")),
            Ok(Err(_)) | Err(_) => {
                if let Some(stopped) = stop(step, out, deadline, limits) {
                    break 'watch Seen::Failed(stopped);
                }
                tokio::time::sleep(TICK).await;
                continue 'watch;
            }
        };
        loop {
            if let Some(stopped) = stop(step, out, deadline, limits) {
                break 'watch Seen::Failed(stopped);
            }
            let event = match tokio::time::timeout(TICK, events.next()).await {
                Err(_) => continue,
                // Dropped by the server or the network: resumed from `version`.
                Ok(None) | Ok(Some(Err(_))) => continue 'watch,
                Ok(Some(Ok(event))) => event,
            };
            match event {
                WatchEvent::Added(pod) | WatchEvent::Modified(pod) => {
                    version = pod.metadata.resource_version.clone().or(version);
                    let (seen, image_id) = pods::seen(&pod, spec::CONTAINER);
                    record.image_id = image_id.or(record.image_id);
                    if let Some(ended) = look(seen, &pod, &pods, out, &ended, &mut log) {
                        break 'watch ended;
                    }
                }
                WatchEvent::Deleted(pod) => {
                    let (seen, _) = pods::seen(&pod, spec::CONTAINER);
                    if matches!(seen, Seen::Exited { .. } | Seen::Failed(_)) {
                        break 'watch seen;
                    }
                    if Instant::now() >= deadline {
                        break 'watch Seen::Failed(Failure::timeout(limits.timeout));
                    }
                    break 'watch Seen::Failed(Failure::new(
                        ErrorCode::RuntimeError,
                        "the step's pod was deleted before its container ended (by someone else, or the Job's deadline)",
                    ));
                }
                WatchEvent::Bookmark(mark) => version = Some(mark.metadata.resource_version),
                // 410 Gone: the version is too old to resume from; list again.
                WatchEvent::Error(_) => {
                    version = None;
                    continue 'watch;
                }
            }
        }
    };
    // What the container wrote before it ended, to its end; a step runbox
    // stops (its deadline, Ctrl-C, its output limit) stops reading at once.
    ended.store(true, Ordering::SeqCst);
    let by_runbox = matches!(&seen, Seen::Failed(f) if matches!(f.code, ErrorCode::Timeout | ErrorCode::Interrupted | ErrorCode::OutputLimit));
    if let Some(log) = log {
        if by_runbox {
            log.abort();
        } else {
            let _ = tokio::time::timeout(LOG_GRACE, log).await;
        }
    }
    let ended = match seen {
        Seen::Exited { .. } if out.exceeded() => {
            (153, Some(Failure::output_limit(limits.output, "stdout")), Some(record))
        }
        Seen::Exited { code, reason } if reason.as_deref() == Some("OOMKilled") => {
            let failure = Failure::new(
                ErrorCode::MemoryLimit,
                format!("the step needed more than {} bytes of memory (its container was OOMKilled)", limits.memory),
            );
            (code, Some(failure), Some(record))
        }
        Seen::Exited { code, .. } => (code, Failure::exit_status(code), Some(record)),
        Seen::Failed(failure) => {
            let status = if failure.code == ErrorCode::Interrupted {
                failure.status(step.cancel.signal())
            } else {
                failure.code.exit_status()
            };
            (status, Some(failure), Some(record))
        }
        Seen::Waiting | Seen::Running => {
            let failure = Failure::new(ErrorCode::RuntimeError, "the step's pod was lost before it ended");
            (failure.code.exit_status(), Some(failure), Some(record))
        }
    };
    Ok(ended)
}

/// What a look at the pod means: its end, or nothing yet (the log is
/// followed from when its container runs).
fn look(
    seen: Seen,
    pod: &Pod,
    pods: &Api<Pod>,
    out: &Capture,
    ended: &Arc<AtomicBool>,
    log: &mut Option<tokio::task::JoinHandle<Result<(), String>>>,
) -> Option<Seen> {
    if matches!(seen, Seen::Running | Seen::Exited { .. }) && log.is_none() {
        let name = pod.metadata.name.clone().unwrap_or_default();
        *log = Some(tokio::spawn(follow(pods.clone(), name, out.clone(), Arc::clone(ended))));
    }
    matches!(seen, Seen::Exited { .. } | Seen::Failed(_)).then_some(seen)
}

/// Copies the container's log into `out` until it ends or passes the
/// step's output limit. A stream that ends while the pod runs (a proxy or
/// a load balancer that cuts idle connections) is opened again; the log
/// comes from its start each time, so the bytes already copied are skipped.
/// The stream opened once the pod has `ended` is the last.
async fn follow(pods: Api<Pod>, pod: String, out: Capture, ended: Arc<AtomicBool>) -> Result<(), String> {
    let params = LogParams { follow: true, container: Some(spec::CONTAINER.into()), ..LogParams::default() };
    let mut buffer = vec![0u8; 64 * 1024];
    let mut copied = 0usize;
    loop {
        let last = ended.load(Ordering::SeqCst);
        match pods.log_stream(&pod, &params).await {
            Ok(mut reader) => {
                let mut skip = copied;
                loop {
                    let n = match reader.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let old = skip.min(n);
                    skip -= old;
                    let new = &buffer[old..n];
                    copied += new.len();
                    if !new.is_empty() && !out.accept(new) {
                        return Ok(());
                    }
                }
            }
            Err(e) if last => return Err(e.to_string()),
            Err(_) => {}
        }
        if last {
            return Ok(());
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Why the step stops before its pod ends, if it does.
fn stop(step: &JobStep<'_>, out: &Capture, deadline: Instant, limits: Limits) -> Option<Failure> {
    if out.exceeded() {
        Some(Failure::output_limit(limits.output, "stdout"))
    } else if step.cancel.is_cancelled() {
        Some(step.cancel.interrupted())
    } else if Instant::now() >= deadline {
        Some(Failure::timeout(limits.timeout))
    } else {
        None
    }
}

/// This runbox process's runner label: the pod's name in a cluster
/// (`HOSTNAME`), else the machine's.
pub fn runner() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| rustix::system::uname().nodename().to_string_lossy().into_owned())
}

/// Deletes the Jobs an earlier process labelled `runner` left (a server
/// restarted in its pod): their pods, Secrets and policies go with them.
pub fn sweep(runner: &str) -> Result<usize, String> {
    crate::kubernetes::on_runtime(async {
        let config = tokio::time::timeout(crate::kubernetes::READ_TIMEOUT, Config::infer())
            .await
            .map_err(|_| "reading the Kubernetes configuration timed out".to_string())?
            .map_err(|e| e.to_string())?;
        let namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(|e| e.to_string())?;
        let jobs: Api<Job> = Api::namespaced(client, &namespace);
        let selector = format!(
            "{}={},{}={}",
            spec::MANAGED_BY.0,
            spec::MANAGED_BY.1,
            spec::RUNNER_LABEL,
            spec::label_value(runner)
        );
        let listed =
            tokio::time::timeout(crate::kubernetes::READ_TIMEOUT, jobs.list(&ListParams::default().labels(&selector)))
                .await
                .map_err(|_| "listing the Jobs left behind timed out".to_string())?
                .map_err(|e| e.to_string())?;
        let mut deleted = 0;
        for job in listed.items {
            let Some(name) = job.metadata.name else { continue };
            delete(&jobs, &name).await.map_err(|e| format!("cannot delete Job `{name}`: {e}"))?;
            deleted += 1;
        }
        Ok(deleted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        let status = serde_json::json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                         "message": message, "reason": reason, "code": code });
        kube::Error::Api(Box::new(serde_json::from_value(status).unwrap()))
    }

    #[test]
    fn a_refusal_names_the_rule_that_grants_it_or_the_policy_that_refused() {
        let at = Where { namespace: "ops", server: "https://10.0.0.1:6443/" };
        let rbac = api(
            403,
            "Forbidden",
            "jobs.batch is forbidden: User \"system:serviceaccount:ops:runbox\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"ops\"",
        );
        assert_eq!(
            at.refused(&rbac, "create", "jobs", "batch"),
            Failure::denied(
                "runbox may not create jobs in namespace `ops` (403 Forbidden: jobs.batch is forbidden: User \"system:serviceaccount:ops:runbox\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"ops\"); a Role in `ops` with the rule {apiGroups: [\"batch\"], resources: [\"jobs\"], verbs: [\"create\"]}, bound to runbox's ServiceAccount or user, grants it (deploy/role.yaml has every rule the executor needs)"
            )
        );
        let admission = api(
            403,
            "Forbidden",
            "admission webhook \"policy.example\" denied the request: images must come from registry.example",
        );
        assert_eq!(
            at.refused(&admission, "create", "jobs", "batch"),
            Failure::denied(
                "the API server at https://10.0.0.1:6443/ refused to create jobs in namespace `ops` (403 Forbidden: admission webhook \"policy.example\" denied the request: images must come from registry.example)"
            )
        );
        assert_eq!(
            at.refused(&api(401, "Unauthorized", "Unauthorized"), "create", "jobs", "batch"),
            Failure::denied(
                "the API server at https://10.0.0.1:6443/ refused runbox's credentials (401 Unauthorized: Unauthorized)"
            )
        );
        assert_eq!(
            at.refused(
                &api(422, "Invalid", "Job.batch \"x\" is invalid: spec.template: Required value"),
                "create",
                "jobs",
                "batch"
            ),
            Failure::new(
                ErrorCode::RuntimeError,
                "the API server at https://10.0.0.1:6443/ would not create jobs (422 Invalid: Job.batch \"x\" is invalid: spec.template: Required value)"
            )
        );
    }
}
