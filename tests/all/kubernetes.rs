//! Script sources read through the Kubernetes API (the `kubernetes`
//! feature): the `runbox` binary against an API server the test serves on
//! 127.0.0.1, reached through a kubeconfig, answering as the API server
//! does (objects, Status bodies with their codes).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::{Scratch, base64, http_server};

/// The script a Secret holds: it must never be shown.
const SECRET_SCRIPT: &str = "# planted-k8s-secret-script\necho cleaned\n";

/// An API server on loopback with one ConfigMap and one Secret in `ops`; a
/// namespace `locked` whose reads are forbidden; the paths it was asked.
struct ApiServer {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
    /// What key `check.sh` of ConfigMap `ops/maintenance-scripts` holds.
    check: Arc<Mutex<String>>,
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The registry ConfigMap's `registry.yaml` (seed 000's example 4, pinned).
fn registry() -> String {
    format!(
        "scripts:\n  check-lag:\n    configmap: maintenance-scripts\n    key: check.sh\n    description: Check PostgreSQL replication lag\n    approved_by: dba-team@company.com\n    approved_at: \"2026-02-20T10:00:00Z\"\n    sha256: {}\n  cleanup:\n    secret: sensitive-scripts\n    key: cleanup.sh\n    description: Clean up\n    approved_by: sre-leads@company.com\n    sha256: {}\n  on-disk:\n    file: scripts/x.sh\n    sha256: {}\n  climbing:\n    configmap: ../secrets/sensitive-scripts\n    key: cleanup.sh\n    sha256: {}\n",
        sha256("echo \"lag is fine\"\n"),
        sha256(SECRET_SCRIPT),
        sha256("echo x\n"),
        sha256(SECRET_SCRIPT),
    )
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code })
}

fn answer(path: &str, check: &str) -> (u16, Value) {
    let b64 = |text: &str| base64(text.as_bytes());
    match path {
        "/api/v1/namespaces/ops/configmaps/maintenance-scripts" => (
            200,
            json!({ "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": { "name": "maintenance-scripts", "namespace": "ops", "resourceVersion": "7" },
                    "data": { "check.sh": check } }),
        ),
        "/api/v1/namespaces/ops/secrets/sensitive-scripts" => (
            200,
            json!({ "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": { "name": "sensitive-scripts", "namespace": "ops", "resourceVersion": "8" },
                    "data": { "cleanup.sh": b64(SECRET_SCRIPT) } }),
        ),
        "/api/v1/namespaces/ops/configmaps/huge" => (
            200,
            json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "huge", "namespace": "ops" },
                    "data": { "big.sh": "#".repeat((1 << 20) + 1) } }),
        ),
        "/api/v1/namespaces/ops/configmaps/script-registry" => (
            200,
            json!({ "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": { "name": "script-registry", "namespace": "ops", "resourceVersion": "9" },
                    "data": { "registry.yaml": registry() } }),
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

/// A rule of a Role: `(verb, API group, resource)`, the resource with its
/// subresource (`pods/log`).
pub(crate) type RoleRule = (String, String, String);

/// The rules of the Role in `deploy/role.yaml`: what runbox's
/// ServiceAccount may do in its namespace.
pub(crate) fn deployed_role() -> Vec<RoleRule> {
    #[derive(serde::Deserialize)]
    struct Role {
        rules: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Rule {
        api_groups: Vec<String>,
        resources: Vec<String>,
        verbs: Vec<String>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/role.yaml");
    let role: Role = yaml_serde::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut granted = Vec::new();
    for rule in role.rules {
        for group in &rule.api_groups {
            for verb in &rule.verbs {
                granted.extend(rule.resources.iter().map(|r| (verb.clone(), group.clone(), r.clone())));
            }
        }
    }
    granted
}

/// The rule a request needs, as RBAC decides it: `/api/v1/…` is the core
/// group, `/apis/GROUP/VERSION/…` another.
pub(crate) fn request_rule(method: &str, target: &str) -> RoleRule {
    let path = target.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, at) = if parts.first() == Some(&"api") { ("", 2) } else { (parts.get(1).copied().unwrap_or(""), 3) };
    // namespaces/NS/RESOURCE[/NAME[/SUBRESOURCE]]
    let resource = parts.get(at + 2).copied().unwrap_or_default();
    let named = parts.len() > at + 3;
    let resource = match parts.get(at + 4) {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_string(),
    };
    let verb = match (method, named) {
        ("GET", _) if target.contains("watch=true") => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        _ => "unknown",
    };
    (verb.to_string(), group.to_string(), resource)
}

impl ApiServer {
    /// Answers as an API server whose runbox ServiceAccount is bound to the
    /// Role in `deploy/`: a request it does not grant is 403 Forbidden.
    fn start() -> ApiServer {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let check = Arc::new(Mutex::new("echo \"lag is fine\"\n".to_string()));
        let (kept, held) = (Arc::clone(&asked), Arc::clone(&check));
        let role = deployed_role();
        let url = http_server(move |method, target, _| {
            let path = target.split('?').next().unwrap_or_default();
            kept.lock().unwrap().push(format!("{method} {path}"));
            let rule = request_rule(method, target);
            if !role.contains(&rule) {
                let (verb, _, resource) = rule;
                let message = format!(
                    "{resource} is forbidden: User \"system:serviceaccount:ops:runbox\" cannot {verb} resource \"{resource}\" in API group \"\" in the namespace \"ops\""
                );
                return (403, "application/json", status(403, "Forbidden", &message).to_string().into_bytes());
            }
            let (code, answer) = answer(path, &held.lock().unwrap());
            (code, "application/json", answer.to_string().into_bytes())
        });
        ApiServer { url, asked, check }
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

    /// The requests made since it was last asked.
    fn asked(&self) -> Vec<String> {
        std::mem::take(&mut *self.asked.lock().unwrap())
    }
}

/// A scratch folder, the fake API server, and a kubeconfig for it.
fn cluster() -> (Scratch, ApiServer, String) {
    let s = Scratch::new();
    let api = ApiServer::start();
    let kubeconfig = api.kubeconfig(&s);
    (s, api, kubeconfig)
}

fn runbook(source: &str) -> String {
    format!("name: k8s\nsteps:\n  - name: from-cluster\n    type: shell\n    with:\n      {source}\n")
}

#[test]
fn a_configmaps_script_runs_shown_and_hashed_as_a_files() {
    let s = Scratch::new();
    let api = ApiServer::start();
    s.write("cm.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let grant = "--allow-kubernetes=configmap/ops/maintenance-scripts/check.sh";
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(&s))
        .args(["run", "--json", "--no-history", grant, "cm.yaml"])
        .run();
    run.success();
    let report = run.json();
    assert_eq!(report["stdout"], "lag is fine\n");
    assert_eq!(
        report["consent"],
        json!({ "asked": ["--allow-kubernetes configmap/ops/maintenance-scripts/check.sh"], "granted": true, "how": "flags" })
    );
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
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(&s))
        .args(["run", "--json", "--allow-kubernetes", "secret/ops/sensitive-scripts/*", "secret.yaml"])
        .run();
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
    let (s, _api, kubeconfig) = cluster();
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
            "script_from_configmap: { configmap_name: huge, key: big.sh }",
            "step `from-cluster`: script_from_configmap: key `big.sh` of `huge` is 1048577 bytes; scripts are limited to 1048576",
        ),
        (
            "script_from_secret: { secret_name: sensitive-scripts, key: cleanup.sh, namespace: locked }",
            "step `from-cluster`: script_from_secret: runbox may not get Secret `sensitive-scripts` in namespace `locked` (403 Forbidden: secrets \"sensitive-scripts\" is forbidden: User \"system:serviceaccount:ops:runbox\" cannot get resource \"secrets\" in API group \"\" in the namespace \"locked\"); a Role in `locked` with the rule {apiGroups: [\"\"], resources: [\"secrets\"], resourceNames: [\"sensitive-scripts\"], verbs: [\"get\"]}, bound to runbox's ServiceAccount or user, grants it",
        ),
    ];
    for (source, message) in cases {
        s.write("refused.yaml", &runbook(source));
        let run = s
            .runbox()
            .env("KUBECONFIG", &kubeconfig)
            .args([
                "run",
                "--json",
                "--no-history",
                "--allow-kubernetes=configmap/*/*/*",
                "--allow-kubernetes=secret/*/*/*",
            ])
            .args(["refused.yaml"])
            .run();
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
    let (s, api, kubeconfig) = cluster();
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
        let api = ApiServer { url: format!("http://{at}"), asked: Arc::default(), check: Arc::default() };
        let run = s
            .runbox()
            .env("KUBECONFIG", &api.kubeconfig(&s))
            .args(["run", "--json", "--no-history", "--allow-kubernetes=configmap/ops/*/*", "cm.yaml"])
            .run();
        let message = run.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with(&format!("cm.yaml:6: step `from-cluster`: script_from_configmap: {said}")),
            "{message}"
        );
    }
}

/// A runbook names objects of the cluster; runbox would read them with the
/// user's own credentials. Nothing is requested until the user grants each
/// key, by flag; a grant of another key, namespace or kind does not do.
#[test]
fn a_cluster_read_is_asked_and_nothing_is_requested_until_it_is_granted() {
    let (s, api, kubeconfig) = cluster();
    s.write(
        "k8s.yaml",
        "name: k8s\nsteps:\n  - name: check\n    type: shell\n    with: { script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh } }\n  - name: clean\n    type: shell\n    with: { script_from_secret: { secret_name: sensitive-scripts, key: cleanup.sh, namespace: ops } }\n",
    );
    let run = |grants: &[&str]| {
        s.runbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(["run", "--json", "--no-history"])
            .args(grants)
            .args(["k8s.yaml"])
            .run()
    };
    let configmap = "configmap/ops/maintenance-scripts/check.sh";
    let secret = "secret/ops/sensitive-scripts/cleanup.sh";
    let line = |object: &str| {
        let (line, step) = if object == configmap { (5, "check") } else { (8, "clean") };
        format!(
            "  - read from the Kubernetes API {object} (line {line}: step `{step}` runs it as its script, read with your Kubernetes credentials)\n"
        )
    };
    for (grants, missing) in [
        (&[][..], &[configmap, secret][..]),
        (
            &["--allow-kubernetes=configmap/ops/maintenance-scripts/other.sh", "--allow-kubernetes=secret/ops/*/*"],
            &[configmap],
        ),
        (
            &["--allow-kubernetes=configmap/default/*/*", "--allow-kubernetes=secret/*/sensitive-scripts/*"],
            &[configmap],
        ),
        (
            &["--allow-kubernetes=secret/ops/maintenance-scripts/check.sh", "--allow-kubernetes=secret/ops/*/*"],
            &[configmap],
        ),
        (&["--allow-kubernetes=configmap/*/*/*", "--allow-kubernetes=configmap/ops/sensitive-scripts/*"], &[secret]),
        (&["--allow-net=ops", "--allow-read=/"], &[configmap, secret]),
    ] {
        let refusal = run(grants);
        refusal.code(126);
        let report = refusal.json();
        assert_eq!(report["error"]["code"], "PermissionDenied", "{grants:?}");
        let flags: Vec<String> = missing.iter().map(|o| format!("--allow-kubernetes {o}")).collect();
        let expected = format!(
            "k8s.yaml asks for what needs your grant:\n{}grant it with {} (or --allow-all), or record consent for this version of the file with `runbox allow k8s.yaml`",
            missing.iter().map(|o| line(o)).collect::<String>(),
            flags.join(" ")
        );
        assert_eq!(report["error"]["message"], expected.as_str(), "{grants:?}");
        assert_eq!(report["steps"], json!([]));
        assert_eq!(api.asked(), Vec::<String>::new(), "a request was made with {grants:?}");
    }
    let granted = run(&[
        "--allow-kubernetes=configmap/ops/maintenance-scripts/check.sh",
        "--allow-kubernetes=secret/ops/sensitive-scripts/cleanup.sh",
    ]);
    granted.success();
    assert_eq!(granted.json()["stdout"], "lag is fine\ncleaned\n");
    assert_eq!(
        api.asked(),
        [
            "GET /api/v1/namespaces/ops/configmaps/maintenance-scripts",
            "GET /api/v1/namespaces/ops/secrets/sensitive-scripts"
        ]
    );
    // --allow-all grants whatever the runbook declares, its cluster reads too.
    run(&["--allow-all"]).success();
}

/// A grant that is not one is refused at the command line, naming the part.
#[test]
fn a_grant_of_no_object_is_refused_at_the_command_line() {
    let s = Scratch::new();
    s.write("k8s.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let run = s.runbox().args(["run", "--allow-kubernetes", "configmap/ops/../x", "k8s.yaml"]).run();
    run.code(2).stderr_has("`configmap/ops/../x`: `..` is not an object's name (or `*`)");
}

/// A sub-runbook's cluster reads are asked with its caller's, before
/// either reads anything.
#[test]
fn a_sub_runbooks_cluster_read_is_asked_with_its_callers() {
    let (s, api, kubeconfig) = cluster();
    s.write("child.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    s.write(
        "parent.yaml",
        "name: parent\nsteps:\n  - name: call\n    type: runbook\n    with: { runbook: child.yaml }\n",
    );
    let run = s.runbox().env("KUBECONFIG", &kubeconfig).args(["run", "--json", "--no-history", "parent.yaml"]).run();
    run.code(126);
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("  - read from the Kubernetes API configmap/ops/maintenance-scripts/check.sh (line 6: child.yaml: step `from-cluster` runs it as its script"),
        "{message}"
    );
    assert_eq!(api.asked(), Vec::<String>::new());
    let granted = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "run",
            "--json",
            "--no-history",
            "--allow-kubernetes=configmap/ops/maintenance-scripts/check.sh",
            "parent.yaml",
        ])
        .run();
    granted.success();
    assert_eq!(granted.json()["stdout"], "lag is fine\n");
}

/// `runbox allow` records consent to read a ConfigMap and binds what it
/// holds: runs need no flag then, until someone changes it in the cluster.
#[test]
fn consent_to_a_configmap_holds_until_its_script_changes() {
    let (s, api, kubeconfig) = cluster();
    s.write("cm.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let allow = s.runbox().env("KUBECONFIG", &kubeconfig).args(["allow", "cm.yaml"]).run();
    allow.success();
    assert_eq!(api.asked(), ["GET /api/v1/namespaces/ops/configmaps/maintenance-scripts"]);
    let run = || s.runbox().env("KUBECONFIG", &kubeconfig).args(["run", "--json", "--no-history", "cm.yaml"]).run();
    let allowed = run();
    allowed.success();
    assert_eq!(allowed.json()["consent"]["how"], "runbox allow");
    assert_eq!(allowed.json()["stdout"], "lag is fine\n");
    *api.check.lock().unwrap() = "echo \"something else\"\n".into();
    api.asked();
    let changed = run();
    changed.code(126);
    let message = changed.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("consent was recorded for another version: `configmap:ops/maintenance-scripts/check.sh` changed since\ncm.yaml asks for what needs your grant:"),
        "{message}"
    );
    assert_eq!(changed.json()["steps"], json!([]));
}

/// At a terminal the person is asked once, before anything is read; a no
/// reads nothing, a yes reads and runs, an always is kept for later runs.
#[test]
fn at_a_terminal_a_cluster_read_is_asked_once_before_it_is_made() {
    let (s, api, kubeconfig) = cluster();
    s.write("cm.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let prompt = "runbox: cm.yaml asks for:\r\n  - read from the Kubernetes API configmap/ops/maintenance-scripts/check.sh (line 6: step `from-cluster` runs it as its script, read with your Kubernetes credentials)\r\nrunbox: allow? [y]es this once, [a]lways for this version of the file, [N]o: ";
    let at_terminal = |answer: &str| {
        s.runbox()
            .env("KUBECONFIG", &kubeconfig)
            .env("NO_COLOR", "1")
            .args(["run", "--no-history", "cm.yaml"])
            .on_terminal(answer)
    };
    let declined = at_terminal("n\n");
    assert_eq!(declined.code, 126, "{}", declined.stdout);
    assert!(declined.stdout.starts_with(prompt), "{:?}", declined.stdout);
    assert_eq!(api.asked(), Vec::<String>::new());
    for answer in ["y\n", "a\n"] {
        let granted = at_terminal(answer);
        assert_eq!(granted.code, 0, "{}", granted.stdout);
        assert_eq!(granted.stdout.matches("allow?").count(), 1, "asked more than once: {}", granted.stdout);
        assert!(granted.stdout.contains("lag is fine"), "{}", granted.stdout);
        assert_eq!(api.asked(), ["GET /api/v1/namespaces/ops/configmaps/maintenance-scripts"]);
    }
    s.runbox().env("KUBECONFIG", &kubeconfig).args(["run", "--no-history", "cm.yaml"]).run().success();
}

/// `runbox validate` reads a cluster's script only when granted as `run`
/// is, and says which flag grants it.
#[test]
fn validate_reads_only_what_is_granted() {
    let (s, api, kubeconfig) = cluster();
    s.write("cm.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let ungranted = s.runbox().env("KUBECONFIG", &kubeconfig).args(["validate", "cm.yaml"]).run();
    ungranted.code(1).stderr_has("error: step `from-cluster`: script_from_configmap: runbox reads configmap `maintenance-scripts` in namespace `ops` with your Kubernetes credentials only when you grant it: --allow-kubernetes configmap/ops/maintenance-scripts/check.sh\n");
    assert_eq!(api.asked(), Vec::<String>::new());
    let granted = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["validate", "--allow-kubernetes", "configmap/ops/maintenance-scripts/check.sh", "cm.yaml"])
        .run();
    granted.success();
    assert_eq!(api.asked(), ["GET /api/v1/namespaces/ops/configmaps/maintenance-scripts"]);
}

/// A sub-runbook reads, under its caller's consent, only what was asked
/// with the caller: a step that rewrites it first to name another Secret
/// gets that read refused, and nothing is requested.
#[test]
fn a_sub_runbook_rewritten_during_the_run_reads_nothing_it_was_not_granted() {
    let (s, api, kubeconfig) = cluster();
    s.write("child.yaml", &runbook("script_from_configmap: { configmap_name: maintenance-scripts, key: check.sh }"));
    let swapped = runbook("script_from_secret: { secret_name: sensitive-scripts, key: cleanup.sh, namespace: ops }");
    s.write("swapped.txt", &swapped);
    s.write(
        "parent.yaml",
        "name: parent\npermissions:\n  write: [\"./\"]\nsteps:\n  - name: swap\n    type: sh\n    with: { inline_script: 'cat swapped.txt > child.yaml' }\n  - name: call\n    type: runbook\n    with: { runbook: child.yaml }\n",
    );
    let folder = s.join(".").canonicalize().unwrap();
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run", "--json", "--no-history", "--allow-kubernetes=configmap/ops/maintenance-scripts/check.sh"])
        .args(["--allow-write", folder.to_str().unwrap(), "parent.yaml"])
        .run();
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert_eq!(s.read("child.yaml"), swapped, "the step did not rewrite the child");
    let report = run.json();
    let call = &report["steps"][1];
    assert_eq!(call["name"], "call", "{report:#}");
    assert!(
        call["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-kubernetes secret/ops/sensitive-scripts/cleanup.sh"),
        "{report:#}"
    );
    assert!(!api.asked().iter().any(|r| r.contains("secrets")), "the Secret was requested");
}

/// `--script-registry NS/NAME`: `script_id` reads key `registry.yaml` of
/// that ConfigMap, and its entries' scripts from the ConfigMaps and Secrets
/// of its namespace, each held to its sha256 pin.
#[test]
fn a_registry_in_a_configmap_runs_its_pinned_entries() {
    let (s, api, kubeconfig) = cluster();
    // A registry.yaml on disk is not read when the operator names one.
    s.write("registry.yaml", "scripts: {}\n");
    s.write(
        "reg.yaml",
        "name: reg\nsteps:\n  - name: lag\n    type: shell\n    with: { script_id: check-lag }\n  - name: clean\n    type: shell\n    with: { script_id: cleanup }\n",
    );
    let run = || {
        s.runbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(["run", "--json", "--no-history", "--script-registry", "ops/script-registry", "reg.yaml"])
            .run()
    };
    let ran = run();
    ran.success();
    let report = ran.json();
    assert_eq!(report["stdout"], "lag is fine\ncleaned\n");
    assert_eq!(
        report["steps"][0]["source"],
        json!({ "type": "registry", "reference": "check-lag (configmap ops/maintenance-scripts/check.sh)",
                "sha256": sha256("echo \"lag is fine\"\n"), "content": "echo \"lag is fine\"\n",
                "registry": { "id": "check-lag", "file": "configmap:ops/script-registry/registry.yaml",
                              "description": "Check PostgreSQL replication lag", "approved_by": "dba-team@company.com",
                              "approved_at": "2026-02-20T10:00:00Z" } })
    );
    assert_eq!(
        report["steps"][1]["source"],
        json!({ "type": "secret", "reference": "cleanup (secret kubernetes:ops/sensitive-scripts/cleanup.sh)",
                "sha256": sha256(SECRET_SCRIPT),
                "registry": { "id": "cleanup", "file": "configmap:ops/script-registry/registry.yaml",
                              "description": "Clean up", "approved_by": "sre-leads@company.com", "approved_at": null } })
    );
    for text in [&ran.stdout, &ran.stderr, &s.log()] {
        assert!(!text.contains("planted-k8s-secret-script"), "the secret's script shown: {text}");
    }
    assert_eq!(
        api.asked(),
        [
            "GET /api/v1/namespaces/ops/configmaps/script-registry",
            "GET /api/v1/namespaces/ops/configmaps/maintenance-scripts",
            "GET /api/v1/namespaces/ops/configmaps/script-registry",
            "GET /api/v1/namespaces/ops/secrets/sensitive-scripts",
        ]
    );
    // Changed in the cluster since it was approved: refused by its pin.
    *api.check.lock().unwrap() = "echo \"something else\"\n".into();
    let refused = run();
    assert_ne!(refused.code, 0);
    assert_eq!(
        refused.json()["error"]["message"],
        format!(
            "reg.yaml:5: step `lag`: script_id `check-lag` is refused: its script's sha256 is {}, but ConfigMap ops/script-registry pins {}; the script changed since it was approved",
            sha256("echo \"something else\"\n"),
            sha256("echo \"lag is fine\"\n")
        )
    );
}

/// A registry in the cluster has no folder, and its entries' names reach
/// the API's paths only when they are the API's names.
#[test]
fn a_registry_in_a_configmap_names_no_file_and_no_path_that_climbs() {
    let (s, api, kubeconfig) = cluster();
    s.write("scripts/x.sh", "echo x\n");
    for (id, message) in [
        (
            "on-disk",
            "ConfigMap ops/script-registry: entry `on-disk` names a file, but a registry in the cluster has no folder: name a `configmap` or `secret` and its `key`",
        ),
        (
            "climbing",
            "ConfigMap ops/script-registry: entry `climbing`: `../secrets/sensitive-scripts` or `cleanup.sh` is not an object's name and key",
        ),
        (
            "absent",
            "script_id `absent` is not in ConfigMap ops/script-registry (it lists: check-lag, cleanup, climbing, on-disk)",
        ),
    ] {
        s.write(
            "one.yaml",
            &format!("name: one\nsteps:\n  - name: a\n    type: shell\n    with: {{ script_id: {id} }}\n"),
        );
        let run = s
            .runbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(["run", "--json", "--no-history", "--script-registry=ops/script-registry", "one.yaml"])
            .run();
        assert_ne!(run.code, 0);
        assert_eq!(run.json()["error"]["message"], format!("one.yaml:5: step `a`: {message}"));
        assert_eq!(api.asked(), ["GET /api/v1/namespaces/ops/configmaps/script-registry"]);
    }
    let bad = s.runbox().args(["run", "--script-registry", "ops/../x", "one.yaml"]).run();
    bad.code(2).stderr_has("`ops/../x` is not NAMESPACE/NAME of a ConfigMap (e.g. ops/script-registry)");
}

/// Opt-in, against a real cluster: with `RUNBOX_TEST_KUBECONFIG` naming a
/// kubeconfig whose identity may create, get and delete ConfigMaps and
/// Secrets in `RUNBOX_TEST_NAMESPACE` (default `default`), kubectl makes a
/// ConfigMap and a Secret, runbox runs their scripts and is refused a key
/// neither has, and kubectl deletes them. Skipped, saying so, otherwise.
#[test]
fn against_a_real_cluster_when_one_is_given() {
    let Ok(kubeconfig) = std::env::var("RUNBOX_TEST_KUBECONFIG") else {
        eprintln!(
            "skipped: set RUNBOX_TEST_KUBECONFIG (and RUNBOX_TEST_NAMESPACE) to run runbox against a real cluster (README, Developing)"
        );
        return;
    };
    let namespace = std::env::var("RUNBOX_TEST_NAMESPACE").unwrap_or_else(|_| "default".into());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("runbox-test-{}-{nanos}", std::process::id());
    let kubectl = |args: &[&str]| {
        let out = std::process::Command::new("kubectl")
            .args(["--kubeconfig", &kubeconfig, "--namespace", &namespace])
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    /// Deletes what the test made, however it ends.
    struct Made<'a>(&'a dyn Fn(&[&str]), &'a str);
    impl Drop for Made<'_> {
        fn drop(&mut self) {
            (self.0)(&["delete", "configmap,secret", self.1, "--ignore-not-found"]);
        }
    }
    kubectl(&["create", "configmap", &name, "--from-literal=check.sh=echo from a real ConfigMap"]);
    let _made = Made(&kubectl, &name);
    kubectl(&["create", "secret", "generic", &name, "--from-literal=run.sh=echo from a real Secret"]);
    let s = Scratch::new();
    s.write(
        "real.yaml",
        &format!(
            "name: real\nsteps:\n  - name: cm\n    type: shell\n    with: {{ script_from_configmap: {{ configmap_name: {name}, key: check.sh, namespace: {namespace} }} }}\n  - name: secret\n    type: shell\n    with: {{ script_from_secret: {{ secret_name: {name}, key: run.sh, namespace: {namespace} }} }}\n"
        ),
    );
    let grants = [
        format!("--allow-kubernetes=configmap/{namespace}/{name}/*"),
        format!("--allow-kubernetes=secret/{namespace}/{name}/*"),
    ];
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run", "--json", "--no-history"])
        .args(&grants)
        .args(["real.yaml"])
        .run();
    run.success();
    assert_eq!(run.json()["stdout"], "from a real ConfigMap\nfrom a real Secret\n");
    s.write(
        "absent.yaml",
        &runbook(&format!(
            "script_from_configmap: {{ configmap_name: {name}, key: absent.sh, namespace: {namespace} }}"
        )),
    );
    let refused = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run", "--json", "--no-history"])
        .args(&grants)
        .args(["absent.yaml"])
        .run();
    assert_eq!(
        refused.json()["error"]["message"],
        format!(
            "absent.yaml:6: step `from-cluster`: script_from_configmap: ConfigMap `{name}` in namespace `{namespace}` has no key `absent.sh` (it has keys check.sh)"
        )
    );
}
