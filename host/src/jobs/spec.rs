//! The objects one `image_ref` step is made of: a suspended Job whose pod
//! is hardened by default, the per-execution Secret holding its script and
//! its variables, and the NetworkPolicy that closes its egress but for the
//! ports the runbook was granted. The Secret and the policy are owned by the
//! Job, so the garbage collector deletes them with it.

use std::time::Instant;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::{Value, json};

use crate::sandbox::Cancel;

/// One step to run as a Job.
pub struct JobStep<'a> {
    pub step: &'a str,
    pub runbook: &'a str,
    /// What the step names (`postgres`), and the image that names.
    pub image_ref: &'a str,
    pub image: &'a str,
    pub script: &'a str,
    pub args: &'a [String],
    /// The step's variables: in the per-execution Secret, never the spec.
    pub env: &'a [(String, String)],
    /// Secrets whose every key the container gets (`envFrom`).
    pub secret_env: &'a [String],
    pub execution_id: &'a str,
    pub correlation_id: &'a str,
    /// This runbox process, as the label a server's sweep selects by.
    pub runner: &'a str,
    /// TCP ports the pod may reach (to any address); none: no egress.
    pub egress_ports: Vec<u16>,
    pub cancel: &'a Cancel,
    /// No step runs past this (a sub-runbook's: its caller's end).
    pub deadline: Option<Instant>,
}

/// Where the script's Secret is mounted in the container, and its file.
pub(super) const SCRIPT_DIR: &str = "/runbox/script";
pub(super) const SCRIPT_FILE: &str = "/runbox/script/script";
/// The key of the per-execution Secret that holds the script: not a
/// variable's name, so no variable can take its place.
const SCRIPT_KEY: &str = "runbox.script";
/// The container's name in every Job runbox makes.
pub(super) const CONTAINER: &str = "step";
/// The user the container runs as: no image's root.
const USER: i64 = 65532;
/// How long a finished Job stays for `kubectl describe` before the TTL
/// controller deletes it (runbox deletes it itself when the step ends).
const TTL_SECONDS: i32 = 600;

/// Labels every object of a step carries.
pub(super) const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "runbox");
pub(super) const JOB_LABEL: &str = "runbox.dev/job";
pub(super) const RUNNER_LABEL: &str = "runbox.dev/runner";
const EXECUTION_LABEL: &str = "runbox.dev/execution";
const CORRELATION_LABEL: &str = "runbox.dev/correlation-id";

/// A Job's name for step `step`: `runbox-`, the step's name as a DNS label
/// allows it, and `suffix` (random), at most 52 characters so that the pods'
/// names (the Job's and 11 more) stay labels too.
pub(super) fn job_name(step: &str, suffix: &str) -> String {
    let cleaned: String = step
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(52 - "runbox-".len() - suffix.len() - 1)
        .collect();
    let cleaned = cleaned.trim_matches('-');
    if cleaned.is_empty() { format!("runbox-{suffix}") } else { format!("runbox-{cleaned}-{suffix}") }
}

/// A label's value: at most 63 letters, digits, `-`, `_`, `.`, starting and
/// ending with a letter or digit.
pub(super) fn label_value(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .take(63)
        .collect();
    cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

fn labels(step: &JobStep<'_>, name: &str) -> Value {
    json!({
        MANAGED_BY.0: MANAGED_BY.1,
        JOB_LABEL: name,
        RUNNER_LABEL: label_value(step.runner),
        EXECUTION_LABEL: label_value(step.execution_id),
        CORRELATION_LABEL: label_value(step.correlation_id),
    })
}

/// The Job, suspended: its pod starts only once its Secret and its
/// NetworkPolicy exist.
pub(super) fn job(step: &JobStep<'_>, name: &str, deadline_seconds: i64, memory: u64) -> Job {
    // A script that names its interpreter (`#!/bin/bash`) is run by it;
    // any other by the image's `sh`.
    let command: Vec<&str> =
        if step.script.starts_with("#!") { vec![SCRIPT_FILE] } else { vec!["/bin/sh", SCRIPT_FILE] };
    let env: Vec<Value> = step
        .env
        .iter()
        .map(|(variable, _)| json!({ "name": variable, "valueFrom": { "secretKeyRef": { "name": name, "key": variable } } }))
        .collect();
    let env_from: Vec<Value> = step.secret_env.iter().map(|s| json!({ "secretRef": { "name": s } })).collect();
    let labels = labels(step, name);
    let object = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": { "runbox.dev/step": step.step, "runbox.dev/runbook": step.runbook, "runbox.dev/image-ref": step.image_ref },
        },
        "spec": {
            "suspend": true,
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds.max(1),
            "ttlSecondsAfterFinished": TTL_SECONDS,
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": false,
                    "enableServiceLinks": false,
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": USER,
                        "runAsGroup": USER,
                        "seccompProfile": { "type": "RuntimeDefault" },
                    },
                    "containers": [{
                        "name": CONTAINER,
                        "image": step.image,
                        "command": command,
                        "args": step.args,
                        "env": env,
                        "envFrom": env_from,
                        "workingDir": "/tmp",
                        "resources": {
                            "requests": { "memory": memory.to_string(), "cpu": "100m" },
                            "limits": { "memory": memory.to_string() },
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "privileged": false,
                            "capabilities": { "drop": ["ALL"] },
                        },
                        "volumeMounts": [
                            { "name": "script", "mountPath": SCRIPT_DIR, "readOnly": true },
                            { "name": "tmp", "mountPath": "/tmp" },
                        ],
                    }],
                    "volumes": [
                        { "name": "script", "secret": { "secretName": name, "defaultMode": 0o555,
                          "items": [{ "key": SCRIPT_KEY, "path": "script" }] } },
                        { "name": "tmp", "emptyDir": { "sizeLimit": "256Mi" } },
                    ],
                },
            },
        },
    });
    serde_json::from_value(object).expect("a Job runbox builds is a Job")
}

/// The owner reference that makes an object go with the Job `name`.
fn owned_by(name: &str, uid: &str) -> Value {
    json!([{ "apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid }])
}

/// The Secret the Job's pod reads its script and variables from: never
/// its spec, which anyone who may read Jobs reads, and which is limited in
/// size.
pub(super) fn secret(step: &JobStep<'_>, name: &str, uid: &str) -> Secret {
    let mut data = serde_json::Map::new();
    data.insert(SCRIPT_KEY.into(), json!(step.script));
    for (variable, value) in step.env {
        data.insert(variable.clone(), json!(value));
    }
    let object = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": { "name": name, "labels": labels(step, name), "ownerReferences": owned_by(name, uid) },
        "immutable": true,
        "stringData": data,
    });
    serde_json::from_value(object).expect("a Secret runbox builds is a Secret")
}

/// Egress of the Job's pod: none, or the TCP ports granted (to any
/// address: a NetworkPolicy selects addresses, not host names) and DNS.
pub(super) fn network_policy(step: &JobStep<'_>, name: &str, uid: &str) -> NetworkPolicy {
    let egress: Vec<Value> = if step.egress_ports.is_empty() {
        Vec::new()
    } else {
        let ports: Vec<Value> = step.egress_ports.iter().map(|p| json!({ "protocol": "TCP", "port": p })).collect();
        vec![
            json!({ "ports": ports }),
            json!({ "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }] }),
        ]
    };
    let object = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": { "name": name, "labels": labels(step, name), "ownerReferences": owned_by(name, uid) },
        "spec": {
            "podSelector": { "matchLabels": { JOB_LABEL: name } },
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": egress,
        },
    });
    serde_json::from_value(object).expect("a NetworkPolicy runbox builds is one")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step<'a>(script: &'a str, env: &'a [(String, String)], cancel: &'a Cancel) -> JobStep<'a> {
        JobStep {
            step: "check_lag",
            runbook: "lag.yaml",
            image_ref: "postgres",
            image: "docker.io/library/postgres:16",
            script,
            args: &[],
            env,
            secret_env: &[],
            execution_id: "0193-ab",
            correlation_id: "c0ffee",
            runner: "runbox-7d9f/x",
            egress_ports: Vec::new(),
            cancel,
            deadline: None,
        }
    }

    #[test]
    fn names_and_labels_are_what_the_api_accepts() {
        assert_eq!(job_name("check_lag", "a1b2c3d4"), "runbox-check-lag-a1b2c3d4");
        assert_eq!(job_name("__", "a1b2c3d4"), "runbox-a1b2c3d4");
        let long = job_name(&"x".repeat(200), "a1b2c3d4");
        assert_eq!(long.len(), 52);
        assert!(long.ends_with("-a1b2c3d4"));
        assert_eq!(label_value("runbox-7d9f/x"), "runbox-7d9f-x");
        assert_eq!(label_value(&format!("-{}", "a".repeat(100))), "a".repeat(62));
    }

    #[test]
    fn the_pod_is_hardened_and_the_script_and_values_are_only_in_the_secret() {
        let cancel = Cancel::new();
        let env = [("DB_PASSWORD".to_string(), "planted-value".to_string())];
        let step = step("#!/bin/bash\necho hi\n", &env, &cancel);
        let job = serde_json::to_value(job(&step, "runbox-check-lag-1", 30, 256 << 20)).unwrap();
        let text = job.to_string();
        assert!(!text.contains("planted-value") && !text.contains("echo hi"), "{text}");
        let spec = &job["spec"];
        assert_eq!(spec["suspend"], true);
        assert_eq!(spec["backoffLimit"], 0);
        assert_eq!(spec["activeDeadlineSeconds"], 30);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
        let container = &pod["containers"][0];
        assert_eq!(container["command"], json!([SCRIPT_FILE]));
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(container["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(
            container["env"],
            json!([{ "name": "DB_PASSWORD", "valueFrom": { "secretKeyRef": { "name": "runbox-check-lag-1", "key": "DB_PASSWORD" } } }])
        );
        let secret = serde_json::to_value(secret(&step, "runbox-check-lag-1", "uid-1")).unwrap();
        assert_eq!(
            secret["stringData"],
            json!({ "runbox.script": "#!/bin/bash\necho hi\n", "DB_PASSWORD": "planted-value" })
        );
        assert_eq!(secret["metadata"]["ownerReferences"][0]["uid"], "uid-1");
        let plain = job_of_script("echo hi\n");
        assert_eq!(plain["spec"]["template"]["spec"]["containers"][0]["command"], json!(["/bin/sh", SCRIPT_FILE]));
    }

    fn job_of_script(script: &str) -> Value {
        let cancel = Cancel::new();
        serde_json::to_value(job(&step(script, &[], &cancel), "runbox-x-1", 30, 1 << 20)).unwrap()
    }

    #[test]
    fn egress_is_closed_unless_ports_were_granted() {
        let cancel = Cancel::new();
        let mut step = step("echo", &[], &cancel);
        let closed = serde_json::to_value(network_policy(&step, "runbox-x-1", "u")).unwrap();
        assert_eq!(closed["spec"]["egress"], json!([]));
        assert_eq!(closed["spec"]["podSelector"], json!({ "matchLabels": { JOB_LABEL: "runbox-x-1" } }));
        step.egress_ports = vec![443, 5432];
        let open = serde_json::to_value(network_policy(&step, "runbox-x-1", "u")).unwrap();
        assert_eq!(
            open["spec"]["egress"],
            json!([
                { "ports": [{ "protocol": "TCP", "port": 443 }, { "protocol": "TCP", "port": 5432 }] },
                { "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }] },
            ])
        );
    }
}
