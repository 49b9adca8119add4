//! Script sources read through the Kubernetes API (the `kubernetes`
//! feature): the `runbox` binary against an API server the test serves on
//! 127.0.0.1, reached through a kubeconfig, answering as the API server
//! does (objects, Status bodies with their codes).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::{Scratch, http_server};

/// The script a Secret holds: it must never be shown.
const SECRET_SCRIPT: &str = "# planted-k8s-secret-script\necho cleaned\n";

/// An API server on loopback with one ConfigMap and one Secret in `ops`; a
/// namespace `locked` whose reads are forbidden; the paths it was asked.
struct ApiServer {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code })
}

fn answer(path: &str) -> (u16, Value) {
    let b64 = |text: &str| {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..4 {
                out.push(if i <= chunk.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
            }
        }
        out
    };
    match path {
        "/api/v1/namespaces/ops/configmaps/maintenance-scripts" => (
            200,
            json!({ "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": { "name": "maintenance-scripts", "namespace": "ops", "resourceVersion": "7" },
                    "data": { "check.sh": "echo \"lag is fine\"\n" } }),
        ),
        "/api/v1/namespaces/ops/secrets/sensitive-scripts" => (
            200,
            json!({ "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": { "name": "sensitive-scripts", "namespace": "ops", "resourceVersion": "8" },
                    "data": { "cleanup.sh": b64(SECRET_SCRIPT) } }),
        ),
        p if p.starts_with("/api/v1/namespaces/locked/") => {
            let resource = p.split('/').nth(5).unwrap_or_default();
            let name = p.split('/').nth(6).unwrap_or_default();
            let message = format!(
                "{resource} \"{name}\" is forbidden: User \"system:serviceaccount:ops:runbox\" cannot get resource \"{resource}\" in API group \"\" in the namespace \"locked\""
            );
            (403, status(403, "Forbidden", &message))
        }
        p => {
            let resource = p.split('/').nth(5).unwrap_or_default();
            let name = p.split('/').nth(6).unwrap_or_default();
            (404, status(404, "NotFound", &format!("{resource} \"{name}\" not found")))
        }
    }
}

impl ApiServer {
    fn start() -> ApiServer {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&asked);
        let url = http_server(move |method, target, _| {
            let path = target.split('?').next().unwrap_or_default();
            kept.lock().unwrap().push(format!("{method} {path}"));
            let (code, answer) = answer(path);
            (code, "application/json", answer.to_string().into_bytes())
        });
        ApiServer { url, asked }
    }

    /// A kubeconfig for it in `s`'s state folder (context namespace `ops`).
    fn kubeconfig(&self, s: &Scratch) -> String {
        let path = s.state.path().join("kubeconfig");
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: runbox\n    namespace: ops\ncurrent-context: fake\nusers:\n- name: runbox\n  user:\n    token: a-token-for-the-fake\n",
            self.url
        );
        std::fs::write(&path, config).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

fn runbook(source: &str) -> String {
    format!("name: k8s\nsteps:\n  - name: from-cluster\n    type: shell\n    with:\n      {source}\n")
}

#[test]
fn a_configmaps_script_runs_shown_and_hashed_as_a_files() {
    let s = Scratch::new();
    let api = ApiServer::start();
    s.write("cm.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let run =
        s.runbox().env("KUBECONFIG", &api.kubeconfig(&s)).args(["run", "--json", "--no-history", "cm.yaml"]).run();
    run.success();
    let report = run.json();
    assert_eq!(report["stdout"], "lag is fine\n");
    let source = &report["steps"][0]["source"];
    assert_eq!(
        source,
        &json!({ "type": "configmap", "reference": "ops/maintenance-scripts/check.sh",
                 "sha256": "7017684ec576a99466ac7835e58586a66c25bf6a65f62523fa7fa3a2db1f3473",
                 "content": "echo \"lag is fine\"\n" })
    );
    assert_eq!(api.asked(), ["GET /api/v1/namespaces/ops/configmaps/maintenance-scripts"]);
}

#[test]
fn a_secrets_script_runs_and_is_never_shown() {
    let s = Scratch::new();
    let api = ApiServer::start();
    s.write(
        "secret.yaml",
        &runbook("script_from_secret: { secret_name: sensitive-scripts, key: cleanup.sh, namespace: ops }"),
    );
    let run = s.runbox().env("KUBECONFIG", &api.kubeconfig(&s)).args(["run", "--json", "secret.yaml"]).run();
    run.success();
    let report = run.json();
    assert_eq!(report["stdout"], "cleaned\n");
    assert_eq!(
        report["steps"][0]["source"],
        json!({ "type": "secret", "reference": "kubernetes:ops/sensitive-scripts/cleanup.sh",
                "sha256": "withheld (the script is a secret)" })
    );
    for text in [&run.stdout, &run.stderr, &s.log(), &s.read("secret.yaml")] {
        assert!(!text.contains("planted-k8s-secret-script"), "the secret's script shown: {text}");
    }
}

#[test]
fn each_refusal_names_what_is_missing_or_forbidden_before_anything_runs() {
    let s = Scratch::new();
    let api = ApiServer::start();
    let kubeconfig = api.kubeconfig(&s);
    let cases = [
        (
            "script_from_configmap: { configmap_name: absent, key: check.sh }",
            "step `from-cluster`: script_from_configmap: the API server has no ConfigMap `absent` in namespace `ops` (404 NotFound)",
        ),
        (
            "script_from_configmap: { configmap_name: maintenance-scripts, key: absent.sh }",
            "step `from-cluster`: script_from_configmap: ConfigMap `maintenance-scripts` in namespace `ops` has no key `absent.sh` (it has keys check.sh)",
        ),
        (
            "script_from_secret: { secret_name: sensitive-scripts, key: cleanup.sh, namespace: locked }",
            "step `from-cluster`: script_from_secret: runbox may not get Secret `sensitive-scripts` in namespace `locked` (403 Forbidden: secrets \"sensitive-scripts\" is forbidden: User \"system:serviceaccount:ops:runbox\" cannot get resource \"secrets\" in API group \"\" in the namespace \"locked\"); a Role in `locked` with the rule {apiGroups: [\"\"], resources: [\"secrets\"], resourceNames: [\"sensitive-scripts\"], verbs: [\"get\"]}, bound to runbox's ServiceAccount or user, grants it",
        ),
    ];
    for (source, message) in cases {
        s.write("refused.yaml", &runbook(source));
        let run =
            s.runbox().env("KUBECONFIG", &kubeconfig).args(["run", "--json", "--no-history", "refused.yaml"]).run();
        assert_ne!(run.code, 0, "{}", run.stdout);
        let report = run.json();
        assert_eq!(report["error"]["message"].as_str().unwrap(), format!("refused.yaml:6: {message}"), "{report:#}");
        assert_eq!(report["steps"], json!([]), "nothing ran: {report:#}");
    }
}

/// Names reach the API's paths only when they are the API's names: a
/// ConfigMap source that climbs to a Secret is refused before any request.
#[test]
fn names_that_would_climb_the_apis_paths_are_refused_before_any_request() {
    let s = Scratch::new();
    let api = ApiServer::start();
    let kubeconfig = api.kubeconfig(&s);
    let cases = [
        (
            "script_from_configmap: { configmap_name: \"../secrets/sensitive-scripts\", key: cleanup.sh }",
            "script_from_configmap: `../secrets/sensitive-scripts` is not an object's name",
        ),
        (
            "script_from_configmap: { configmap_name: maintenance-scripts, key: \"../x\" }",
            "script_from_configmap: `../x` is not a key",
        ),
        (
            "script_from_secret: { secret_name: sensitive-scripts, key: cleanup.sh, namespace: \"ops/secrets\" }",
            "script_from_secret: `ops/secrets` is not a namespace's name",
        ),
    ];
    for (source, message) in cases {
        s.write("climb.yaml", &runbook(source));
        let run = s.runbox().env("KUBECONFIG", &kubeconfig).args(["validate", "climb.yaml"]).run();
        assert_ne!(run.code, 0);
        assert!(run.stderr.contains(message) || run.stdout.contains(message), "{}\n{}", run.stdout, run.stderr);
    }
    assert_eq!(api.asked(), Vec::<String>::new());
}

/// A server that cannot be reached, and one that never answers, are named
/// with where they are; the second within the read's 10 s.
#[test]
fn an_api_server_that_is_not_there_or_silent_is_named() {
    let s = Scratch::new();
    s.write("cm.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_at = silent.local_addr().unwrap();
    // Accepts, reads, never answers.
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(held);
    });
    for (at, said) in [
        (
            closed,
            format!(
                "cannot reach the Kubernetes API server at http://{closed}/ to read ConfigMap `maintenance-scripts` in namespace `ops`"
            ),
        ),
        (
            silent_at,
            format!(
                "the Kubernetes API server at http://{silent_at}/ did not answer within 10s (reading ConfigMap `maintenance-scripts` in namespace `ops`)"
            ),
        ),
    ] {
        let api = ApiServer { url: format!("http://{at}"), asked: Arc::default() };
        let run =
            s.runbox().env("KUBECONFIG", &api.kubeconfig(&s)).args(["run", "--json", "--no-history", "cm.yaml"]).run();
        let message = run.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with(&format!("cm.yaml:6: step `from-cluster`: script_from_configmap: {said}")),
            "{message}"
        );
    }
}
