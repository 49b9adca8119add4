//! What a Job's pod says of its step: still coming, running (its log can
//! be read), or ended — by the script's exit, the OOM killer, an image that
//! cannot be pulled, a configuration the kubelet refuses, an eviction or
//! the Job's deadline.

use k8s_openapi::api::core::v1::Pod;

use crate::error::{ErrorCode, Failure};

/// One look at the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Scheduled or pulling: nothing to read yet.
    Waiting,
    /// The container runs: its log can be followed.
    Running,
    /// The container exited with `code` (`reason` as the kubelet says it).
    Exited { code: i32, reason: Option<String> },
    /// The pod ended without the script's own status.
    Failed(Failure),
}

/// Waiting reasons that are an image that will not come.
const IMAGE_REASONS: [&str; 4] = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];
/// Waiting reasons that are a pod the kubelet cannot make (a variable's
/// Secret missing, a command not in the image).
const CONFIG_REASONS: [&str; 3] = ["CreateContainerConfigError", "CreateContainerError", "RunContainerError"];

/// What `pod` says, with the image it ran by digest when the kubelet says.
pub(super) fn seen(pod: &Pod, container: &str) -> (Seen, Option<String>) {
    let status = pod.status.clone().unwrap_or_default();
    let state = status.container_statuses.iter().flatten().find(|s| s.name == container);
    let image_id = state.map(|s| s.image_id.clone()).filter(|id| !id.is_empty());
    // An evicted pod's container is killed too (137): the eviction is
    // the cause, not the script.
    let evicted = status.phase.as_deref() == Some("Failed") && status.reason.as_deref() == Some("Evicted");
    if let Some(terminated) = state.and_then(|s| s.state.as_ref()).and_then(|s| s.terminated.as_ref())
        && !evicted
    {
        return (Seen::Exited { code: terminated.exit_code, reason: terminated.reason.clone() }, image_id);
    }
    if status.phase.as_deref() == Some("Failed") {
        let reason = status.reason.clone().unwrap_or_default();
        let message = status.message.clone().unwrap_or_default();
        let failure = match reason.as_str() {
            "Evicted" => {
                Failure::new(ErrorCode::Evicted, format!("the step's pod was evicted from its node: {message}"))
            }
            "DeadlineExceeded" => {
                Failure::new(ErrorCode::Timeout, "the step ran past its timeout (the Job's activeDeadlineSeconds)")
            }
            _ => Failure::new(ErrorCode::RuntimeError, format!("the step's pod failed: {reason} {message}")),
        };
        return (Seen::Failed(failure), image_id);
    }
    if let Some(waiting) = state.and_then(|s| s.state.as_ref()).and_then(|s| s.waiting.as_ref()) {
        let reason = waiting.reason.clone().unwrap_or_default();
        let message = waiting.message.clone().unwrap_or_default();
        if IMAGE_REASONS.contains(&reason.as_str()) {
            let image = state.map(|s| s.image.as_str()).unwrap_or_default();
            let failure = Failure::new(
                ErrorCode::ImageUnavailable,
                format!(
                    "image `{image}` cannot be pulled ({reason}: {message}); check the name and the node's access to its registry"
                ),
            );
            return (Seen::Failed(failure), image_id);
        }
        if CONFIG_REASONS.contains(&reason.as_str()) {
            let failure = Failure::new(
                ErrorCode::ConfigInvalid,
                format!("the step's container cannot start ({reason}: {message})"),
            );
            return (Seen::Failed(failure), image_id);
        }
    }
    if state.and_then(|s| s.state.as_ref()).is_some_and(|s| s.running.is_some()) {
        return (Seen::Running, image_id);
    }
    (Seen::Waiting, image_id)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({ "metadata": { "name": "p" }, "status": status })).unwrap()
    }

    fn container(state: serde_json::Value) -> serde_json::Value {
        json!({ "phase": "Pending", "containerStatuses": [{ "name": "step", "image": "postgres:16", "imageID": "",
                "ready": false, "restartCount": 0, "state": state }] })
    }

    #[test]
    fn each_state_of_the_pod_is_named() {
        let look = |status| seen(&pod(status), "step").0;
        assert_eq!(look(json!({ "phase": "Pending" })), Seen::Waiting);
        assert_eq!(look(container(json!({ "waiting": { "reason": "ContainerCreating" } }))), Seen::Waiting);
        assert_eq!(look(container(json!({ "running": { "startedAt": "2026-12-06T10:00:00Z" } }))), Seen::Running);
        assert_eq!(
            look(container(json!({ "terminated": { "exitCode": 137, "reason": "OOMKilled" } }))),
            Seen::Exited { code: 137, reason: Some("OOMKilled".into()) }
        );
        let pull = look(container(
            json!({ "waiting": { "reason": "ImagePullBackOff", "message": "Back-off pulling image \"postgres:16\"" } }),
        ));
        assert_eq!(
            pull,
            Seen::Failed(Failure::new(
                ErrorCode::ImageUnavailable,
                "image `postgres:16` cannot be pulled (ImagePullBackOff: Back-off pulling image \"postgres:16\"); check the name and the node's access to its registry"
            ))
        );
        let config = look(container(
            json!({ "waiting": { "reason": "CreateContainerConfigError", "message": "secret \"aws-credentials\" not found" } }),
        ));
        assert_eq!(
            config,
            Seen::Failed(Failure::new(
                ErrorCode::ConfigInvalid,
                "the step's container cannot start (CreateContainerConfigError: secret \"aws-credentials\" not found)"
            ))
        );
        let evicted =
            look(json!({ "phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory." }));
        assert_eq!(
            evicted,
            Seen::Failed(Failure::new(
                ErrorCode::Evicted,
                "the step's pod was evicted from its node: The node was low on resource: memory."
            ))
        );
        let mut killed = container(json!({ "terminated": { "exitCode": 137, "reason": "ContainerStatusUnknown" } }));
        killed["phase"] = json!("Failed");
        killed["reason"] = json!("Evicted");
        killed["message"] = json!("The node was low on resource: memory.");
        assert_eq!(look(killed), evicted);
        let deadline = look(json!({ "phase": "Failed", "reason": "DeadlineExceeded" }));
        assert!(matches!(deadline, Seen::Failed(f) if f.code == ErrorCode::Timeout));
    }

    #[test]
    fn the_image_run_is_kept_by_digest() {
        let mut status = container(json!({ "terminated": { "exitCode": 0 } }));
        status["containerStatuses"][0]["imageID"] = json!("docker.io/library/postgres@sha256:abc");
        assert_eq!(seen(&pod(status), "step").1.as_deref(), Some("docker.io/library/postgres@sha256:abc"));
    }
}
