//! The Kubernetes executor (`--executor kubernetes`): `image_ref` steps run
//! as Jobs by the `runbox` binary against a stateful fake API server that
//! plays the Job controller (fake.rs), loaded with seed 000's ConfigMaps,
//! Secrets and registry; seed 000's example runbooks as written.

mod fake;

use serde_json::json;

use crate::harness::Scratch;
use fake::{Fake, configmap, secret};

const CHECK_DB_LAG: &str = "#!/bin/bash\nset -euo pipefail\n\nTHRESHOLD=${1:-5000}\nLAG=$(psql -h $DB_HOST -t -c \\\n  \"SELECT pg_last_wal_receive_lsn() - pg_last_wal_replay_lsn()\" | bc)\n\nif [ $LAG -gt $THRESHOLD ]; then\n  echo \"CRITICAL: Replication lag is ${LAG}ms\"\n  exit 1\nfi\necho \"OK: Replication lag is ${LAG}ms\"\n";
const CLEANUP: &str = "#!/bin/bash\nfind /tmp -type f -mtime +7 -delete\necho \"Cleanup complete\"\n";
/// Seed 000's Secret script, marked so that it can be searched for.
const DELETE_BACKUPS: &str = "#!/bin/bash\nset -euo pipefail\n\n# planted-secret-script: Dangerous operation - requires approval\nBUCKET=\"s3://prod-backups\"\nCUTOFF_DATE=$(date -d \"90 days ago\" +%Y-%m-%d)\n\necho \"Deleting backups older than $CUTOFF_DATE from $BUCKET\"\n\naws s3 ls $BUCKET/ | while read -r line; do\n  DATE=$(echo $line | awk '{print $1}')\n  FILE=$(echo $line | awk '{print $4}')\n\n  if [[ \"$DATE\" < \"$CUTOFF_DATE\" ]]; then\n    echo \"Deleting: $FILE\"\n    aws s3 rm \"$BUCKET/$FILE\"\n  fi\ndone\n";

fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The seed's objects in namespace `ops`, and an AWS credentials Secret.
fn seeded() -> Fake {
    let registry = format!(
        "scripts:\n  check-db-lag:\n    configmap: \"maintenance-scripts\"\n    key: \"check-db-lag.sh\"\n    description: \"Check PostgreSQL replication lag\"\n    approved_by: \"dba-team@company.com\"\n    approved_at: \"2026-02-20T10:00:00Z\"\n    sha256: {}\n  cleanup-temp:\n    configmap: \"maintenance-scripts\"\n    key: \"cleanup-temp-files.sh\"\n    description: \"Clean up temporary files\"\n    approved_by: \"sre-team@company.com\"\n    approved_at: \"2026-02-19T15:30:00Z\"\n    sha256: {}\n",
        sha256(CHECK_DB_LAG),
        sha256(CLEANUP)
    );
    Fake::start(vec![
        configmap("maintenance-scripts", &[("check-db-lag.sh", CHECK_DB_LAG), ("cleanup-temp-files.sh", CLEANUP)]),
        secret("sensitive-scripts", &[("delete-prod-backups.sh", DELETE_BACKUPS)]),
        secret(
            "aws-credentials",
            &[("AWS_ACCESS_KEY_ID", "AKIAPLANTED"), ("AWS_SECRET_ACCESS_KEY", "planted-aws-secret")],
        ),
        configmap("script-registry", &[("registry.yaml", &registry)]),
    ])
}

/// Seed 000's example 1, as written.
const EXAMPLE_1: &str = "id: ops.check-db-lag\nname: \"Check Database Replication Lag\"\n\ninputs:\n  threshold_ms:\n    type: int\n    default: 5000\n\nsteps:\n  - name: check-lag\n    type: script.run\n    with:\n      image_ref: \"postgres\"\n      \n      # Load script from ConfigMap\n      script_from_configmap:\n        configmap_name: \"maintenance-scripts\"\n        key: \"check-db-lag.sh\"\n      \n      args:\n        - \"{{ .Inputs.threshold_ms }}\"\n      \n      env:\n        DB_HOST: \"postgres.database.svc.cluster.local\"\n      \n      timeout: \"30s\"\n";

/// Seed 000's example 2, as written.
const EXAMPLE_2: &str = "id: ops.delete-old-backups\nname: \"Delete Old Production Backups\"\n\nsteps:\n  - name: delete-backups\n    type: script.run\n    with:\n      image_ref: \"aws\"\n      \n      # Load script from Secret\n      script_from_secret:\n        secret_name: \"sensitive-scripts\"\n        key: \"delete-prod-backups.sh\"\n      \n      secret_env_all:\n        - \"aws-credentials\"\n      \n      timeout: \"30m\"\n      \n      # Require approval for sensitive operation\n      approval_required: true\n      approvers:\n        - \"sre-leads\"\n";

/// Seed 000's example 4, as written.
const EXAMPLE_4: &str = "id: ops.db-maintenance\nname: \"Database Maintenance\"\n\nsteps:\n  - name: check-lag\n    type: script.run\n    with:\n      image_ref: \"postgres\"\n      \n      # Reference by registry ID\n      script_id: \"check-db-lag\"\n      \n      env:\n        DB_HOST: \"postgres.database.svc.cluster.local\"\n";

const IMAGES: [&str; 6] = [
    "--executor=kubernetes",
    "--image=postgres=docker.io/library/postgres:17",
    "--image=aws=docker.io/amazon/aws-cli:2.22.0",
    "--image=base=docker.io/library/busybox:1.37",
    "--json",
    "--no-history",
];

/// What runbox left in the cluster: Jobs, pods, NetworkPolicies and the
/// Secrets it made (the seed's four stay).
fn left(api: &Fake) -> Vec<String> {
    let mut left = Vec::new();
    for resource in ["jobs", "pods", "networkpolicies", "secrets"] {
        for name in api.names(resource) {
            if !["sensitive-scripts", "aws-credentials"].contains(&name.as_str()) {
                left.push(format!("{resource}/{name}"));
            }
        }
    }
    left
}

/// The whole output with the script's temporary path in the fake's
/// stand-in for the container replaced by the path it has in the pod.
fn in_pod(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        match line.find("/script: line") {
            // `/tmp/.tmpXXXX/script: line 6: …` → `/runbox/script/script: line 6: …`
            Some(at) => out.push_str(&format!("/runbox/script{}", &line[at..])),
            None => out.push_str(line),
        }
    }
    out
}

#[test]
fn seed_example_1_runs_as_a_hardened_job_and_is_deleted_after() {
    let s = Scratch::new();
    let api = seeded();
    s.write("check-db-lag.yaml", EXAMPLE_1);
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .args(["run"])
        .args(IMAGES)
        .args(["--allow-kubernetes=configmap/ops/maintenance-scripts/check-db-lag.sh", "check-db-lag.yaml"])
        .run();
    // The stand-in image has no psql (nor bc): 127, as any step's missing command.
    assert_eq!(run.code, 127, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let step = &report["steps"][0];
    assert_eq!(step["language"], "image");
    assert_eq!(
        in_pod(step["stdout"].as_str().unwrap()),
        "/runbox/script/script: line 6: psql: command not found\n/runbox/script/script: line 6: bc: command not found\n"
    );
    assert_eq!(
        step["error"],
        json!({ "code": "CommandNotFound", "message": "a command was not found (exit status 127)" })
    );
    let job = step["job"].clone();
    let name = job["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("runbox-check-lag-") && name.len() == "runbox-check-lag-".len() + 8, "{name}");
    assert_eq!(
        job,
        json!({ "name": name, "namespace": "ops", "image": "docker.io/library/postgres:17",
                "image_id": format!("docker.io/library/postgres@sha256:{}", "f".repeat(64)) })
    );
    // The Job as made: suspended, hardened, the script and values only in its Secret.
    let made = api.with(|c| c.created_jobs.clone());
    assert_eq!(made.len(), 1);
    let spec = &made[0]["spec"];
    assert_eq!((spec["suspend"].clone(), spec["backoffLimit"].clone()), (json!(true), json!(0)));
    assert_eq!(spec["activeDeadlineSeconds"], 30);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "docker.io/library/postgres:17");
    assert_eq!(container["command"], json!(["/runbox/script/script"]));
    assert_eq!(container["args"], json!(["5000"]));
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    let text = made[0].to_string();
    assert!(
        !text.contains("psql") && !text.contains("postgres.database.svc"),
        "the script or a value in the Job: {text}"
    );
    assert_eq!(made[0]["metadata"]["labels"]["runbox.dev/correlation-id"], report["correlation_id"]);
    // Deleted when the step ended, with its pod, Secret and NetworkPolicy.
    assert_eq!(left(&api), Vec::<String>::new());
    assert_eq!(api.with(|c| c.deletes.clone()), [json!({ "propagationPolicy": "Background" })]);
}

#[test]
fn seed_example_2_needs_its_secrets_granted_and_its_approval() {
    let s = Scratch::new();
    let api = seeded();
    let kubeconfig = api.kubeconfig(s.state.path());
    s.write("delete-backups.yaml", EXAMPLE_2);
    let script = "--allow-kubernetes=secret/ops/sensitive-scripts/delete-prod-backups.sh";
    let refused = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run"])
        .args(IMAGES)
        .args([script, "delete-backups.yaml"])
        .run();
    assert_eq!(refused.code, 126, "{}", refused.stdout);
    let report = refused.json();
    assert_eq!(
        report["consent"]["asked"],
        json!([
            "--allow-kubernetes secret/ops/sensitive-scripts/delete-prod-backups.sh",
            "--allow-kubernetes secret/ops/aws-credentials/*"
        ])
    );
    assert!(
        report["error"]["message"].as_str().unwrap().contains("--allow-kubernetes secret/ops/aws-credentials/*"),
        "{report:#}"
    );
    assert_eq!(api.with(|c| c.created_jobs.len()), 0, "no Job before consent");
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run"])
        .args(IMAGES)
        .args([script, "--allow-kubernetes=secret/ops/aws-credentials/*", "--approve=delete-backups"])
        .args(["delete-backups.yaml"])
        .run();
    assert_eq!(run.code, 127, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let step = &report["steps"][0];
    let stdout = in_pod(step["stdout"].as_str().unwrap());
    let cutoff = stdout.split("older than ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    assert_eq!(
        stdout,
        format!(
            "Deleting backups older than {cutoff} from s3://prod-backups\n/runbox/script/script: line 10: aws: command not found\n"
        )
    );
    assert_eq!(step["approval"]["approved"], true);
    assert_eq!(step["source"]["sha256"], "withheld (the script is a secret)");
    let made = api.with(|c| c.created_jobs.clone());
    assert_eq!(
        made[0]["spec"]["template"]["spec"]["containers"][0]["envFrom"],
        json!([{ "secretRef": { "name": "aws-credentials" } }])
    );
    assert_eq!(made[0]["spec"]["activeDeadlineSeconds"], 1800);
    for text in [&run.stdout, &run.stderr, &s.log(), &made[0].to_string()] {
        assert!(!text.contains("planted-secret-script"), "the Secret's script shown: {text}");
    }
    assert_eq!(left(&api), Vec::<String>::new());
}

#[test]
fn seed_example_4_takes_its_script_from_the_registry_configmap() {
    let s = Scratch::new();
    let api = seeded();
    s.write("db-maintenance.yaml", EXAMPLE_4);
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .args(["run"])
        .args(IMAGES)
        .args(["--script-registry=ops/script-registry", "db-maintenance.yaml"])
        .run();
    assert_eq!(run.code, 127, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["steps"][0]["source"]["type"], "registry");
    assert_eq!(report["steps"][0]["job"]["image"], "docker.io/library/postgres:17");
    assert_eq!(left(&api), Vec::<String>::new());
}

/// What a Job's container gets: its args, the step's variables (from the
/// per-execution Secret), every key of a secret_env_all Secret — which
/// runbox never sees and so cannot mask — and its status as the step's.
#[test]
fn a_jobs_container_gets_its_args_and_variables_and_its_status_is_the_steps() {
    let s = Scratch::new();
    let api = seeded();
    // Its first watch is answered 410 Expired: runbox lists the pods again.
    api.with(|c| c.expire_next_watch = true);
    s.write(
        "env.yaml",
        "name: env\ninputs:\n  who: { type: string, default: world }\nsteps:\n  - name: show\n    type: sh\n    with:\n      image_ref: base\n      secret_env_all: [aws-credentials]\n      env: { GREETING: \"hello {{ inputs.who }}\" }\n      args: [one, \"two words\"]\n      inline_script: |\n        echo \"$# [$1] [$2] $GREETING $AWS_ACCESS_KEY_ID\"\n        echo to-stderr >&2\n        case \"$(env)\" in *RUNBOOK_API*) echo leaked ;; *RUNBOOK_CORRELATION_ID*) echo clean ;; esac\n        exit 3\n",
    );
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .args(["run"])
        .args(IMAGES)
        .args(["--allow-kubernetes=secret/ops/aws-credentials/*", "env.yaml"])
        .run();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let step = &run.json()["steps"][0];
    assert_eq!(step["stdout"], "2 [one] [two words] hello world AKIAPLANTED\nto-stderr\nclean\n");
    assert_eq!(step["error"], json!({ "code": "CommandFailed", "message": "exit status 3" }));
    let made = api.with(|c| c.created_jobs.clone());
    assert_eq!(
        made[0]["spec"]["template"]["spec"]["containers"][0]["command"],
        json!(["/bin/sh", "/runbox/script/script"])
    );
    assert!(!made[0].to_string().contains("hello world"), "a variable's value in the Job");
    let asked = api.with(|c| c.asked.clone());
    let lists = asked.iter().filter(|r| r.starts_with("GET /api/v1/namespaces/ops/pods?") && !r.contains("watch=true"));
    assert_eq!(lists.count(), 2, "listed again after 410: {asked:#?}");
}

#[test]
fn an_image_step_is_refused_before_anything_runs_without_the_executor_or_its_image() {
    let s = Scratch::new();
    let api = seeded();
    let kubeconfig = api.kubeconfig(s.state.path());
    s.write("image.yaml", "name: image\nsteps:\n  - name: first\n    type: sh\n    with: { inline_script: echo first }\n  - name: pinned\n    type: sh\n    with: { image_ref: alpine, inline_script: echo hi }\n");
    let run = s.runbox().env("KUBECONFIG", &kubeconfig).args(["run", "--json", "--no-history", "image.yaml"]).run();
    assert_eq!(run.code, 2);
    let report = run.json();
    assert_eq!(
        report["error"]["message"],
        "image.yaml:8: step `pinned` runs in image `alpine` as a Kubernetes Job, which only the Kubernetes executor does; run it with --executor kubernetes (runbox run or serve), or remove image_ref to run the script in runbox's sandbox"
    );
    assert_eq!(report["steps"], json!([]));
    let run = s.runbox().env("KUBECONFIG", &kubeconfig).args(["run"]).args(IMAGES).args(["image.yaml"]).run();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.json()["error"]["message"],
        "image.yaml:8: step `pinned`: image `alpine` is not one this server runs: its operator maps postgres, aws, base (--image NAME=IMAGE), and any other image only with --allow-any-image"
    );
    assert_eq!(api.with(|c| c.asked.clone()), Vec::<String>::new(), "no request");
    // A lint without the executor warns; with it, it passes.
    let lint = s.runbox().args(["validate", "--lint", "image.yaml"]).run();
    assert_eq!(lint.code, 0, "{}\n{}", lint.stdout, lint.stderr);
    assert!(
        lint.stdout.contains("only the Kubernetes executor does")
            || lint.stderr.contains("only the Kubernetes executor does")
    );
    let checked = s
        .runbox()
        .args(["validate", "--executor=kubernetes", "--image=alpine=docker.io/library/alpine:3.21", "image.yaml"])
        .run();
    assert_eq!((checked.code, checked.stdout.as_str()), (0, "ok: image.yaml\n"), "{}", checked.stderr);
    // Deterministic mode cannot make a cluster repeatable: the step is refused, no Job made.
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run", "--deterministic"])
        .args(IMAGES)
        .args(["--allow-any-image", "image.yaml"])
        .run();
    assert_eq!(run.code, 126, "{}", run.stdout);
    assert_eq!(
        run.json()["steps"][1]["error"],
        json!({ "code": "PermissionDenied", "message": "step `pinned` runs as a Kubernetes Job, which deterministic mode cannot make repeatable" })
    );
    assert_eq!(api.with(|c| c.asked.clone()), Vec::<String>::new(), "no request");
}

#[test]
fn an_image_that_cannot_be_pulled_and_a_step_past_its_timeout_end_and_leave_nothing() {
    let s = Scratch::new();
    let api = seeded();
    let kubeconfig = api.kubeconfig(s.state.path());
    s.write("pull.yaml", "name: pull\nsteps:\n  - name: pull\n    type: sh\n    with: { image_ref: \"registry.example/no-such-image:1\", inline_script: echo hi }\n");
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run"])
        .args(IMAGES)
        .args(["--allow-any-image", "pull.yaml"])
        .run();
    assert_eq!(run.code, 125, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["steps"][0]["error"],
        json!({ "code": "ImageUnavailable", "message": "image `registry.example/no-such-image:1` cannot be pulled (ErrImagePull: failed to pull and unpack image \"registry.example/no-such-image:1\": not found); check the name and the node's access to its registry" })
    );
    assert_eq!(left(&api), Vec::<String>::new());
    s.write("slow.yaml", "name: slow\nsteps:\n  - name: slow\n    type: sh\n    with: { image_ref: base, timeout: 2s, inline_script: \"echo started; sleep 60; echo never\" }\n");
    let started = std::time::Instant::now();
    let run = s.runbox().env("KUBECONFIG", &kubeconfig).args(["run"]).args(IMAGES).args(["slow.yaml"]).run();
    assert_eq!(run.code, 124, "{}\n{}", run.stdout, run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let step = &run.json()["steps"][0];
    assert_eq!(step["stdout"], "started\n");
    assert_eq!(step["error"]["code"], "Timeout");
    assert_eq!(left(&api), Vec::<String>::new());
}

/// Every request runbox makes is one the Role in `deploy/` grants (the fake
/// answers 403 to any other), and each of the Role's rules is used: the
/// reads of scripts and the registry, the executor's Jobs, and a server's
/// sweep of the Jobs an earlier process of its pod left.
#[test]
fn the_deployed_role_grants_exactly_what_runbox_uses() {
    let s = Scratch::new();
    let api = seeded();
    let kubeconfig = api.kubeconfig(s.state.path());
    s.write("delete-backups.yaml", EXAMPLE_2);
    s.write("db-maintenance.yaml", EXAMPLE_4);
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run"])
        .args(IMAGES)
        .args(["--allow-kubernetes=secret/ops/*/*", "--approve=delete-backups", "delete-backups.yaml"])
        .run();
    assert_eq!(run.code, 127, "{}\n{}", run.stdout, run.stderr);
    let run = s
        .runbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["run"])
        .args(IMAGES)
        .args(["--script-registry=ops/script-registry", "db-maintenance.yaml"])
        .run();
    assert_eq!(run.code, 127, "{}\n{}", run.stdout, run.stderr);
    // A Job an earlier server of pod `runbox-7d9f` left, and one of another pod's.
    let leftover = |name: &str, runner: &str| {
        json!({ "apiVersion": "batch/v1", "kind": "Job",
                "metadata": { "name": name, "labels": { "app.kubernetes.io/managed-by": "runbox", "runbox.dev/runner": runner } },
                "spec": { "suspend": true } })
    };
    api.with(|c| {
        c.seed("jobs", leftover("runbox-left-1", "runbox-7d9f"));
        c.seed("jobs", leftover("runbox-other-1", "runbox-5c2a"));
    });
    let server = crate::api::serve_with(
        &s,
        &["--executor=kubernetes", "--image=base=busybox"],
        &[("KUBECONFIG", &kubeconfig), ("HOSTNAME", "runbox-7d9f")],
    );
    drop(server);
    assert_eq!(api.names("jobs"), ["runbox-other-1"]);
    let mut used: Vec<_> = api
        .with(|c| c.asked.clone())
        .iter()
        .map(|r| {
            let (method, path) = r.split_once(' ').unwrap();
            super::kubernetes::request_rule(method, path)
        })
        .collect();
    used.sort();
    used.dedup();
    let mut role = super::kubernetes::deployed_role();
    role.sort();
    assert_eq!(used, role);
}

/// Seed 000's example 3: a script pre-mounted in the executor's pod (the
/// approved-scripts ConfigMap at `/scripts`, `--scripts-dir /scripts` in
/// deploy/), named by `script_path`. Here the folder is a scratch one, so
/// the runbook names it where the seed writes `/scripts`; the rest is as
/// written.
#[test]
fn seed_example_3_runs_a_premounted_script_in_its_image() {
    let s = Scratch::new();
    let api = seeded();
    let scripts = s.dir.path().join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        scripts.join("health-check.sh"),
        "#!/bin/bash\n# Pre-approved script\necho \"healthy as $(id -u)\"\n",
    )
    .unwrap();
    let example = "id: ops.health-check\nname: \"Run Health Check\"\n\nsteps:\n  - name: check-health\n    type: script.run\n    with:\n      image_ref: \"base\"\n      \n      # Reference pre-mounted script\n      script_path: \"/scripts/health-check.sh\"\n      \n      timeout: \"1m\"\n";
    s.write("health-check.yaml", &example.replace("/scripts/", &format!("{}/", scripts.display())));
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .args(["run"])
        .args(IMAGES)
        .args(["--scripts-dir", &scripts.display().to_string(), "health-check.yaml"])
        .run();
    run.success();
    let report = run.json();
    let uid = String::from_utf8(std::process::Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    assert_eq!(report["steps"][0]["stdout"], format!("healthy as {uid}"));
    assert_eq!(report["steps"][0]["job"]["image"], "docker.io/library/busybox:1.37");
    assert_eq!(api.with(|c| c.created_jobs[0]["spec"]["activeDeadlineSeconds"].clone()), 60);
    assert_eq!(left(&api), Vec::<String>::new());
}

/// Ctrl-C while a Job runs: its log was shown as it came, the step stops at
/// once as any step does (130), and the Job, its pod, Secret and policy are
/// deleted — the pod's process with them.
#[test]
fn ctrl_c_stops_a_jobs_step_and_deletes_the_job() {
    use std::io::{BufRead, BufReader, Read};
    let s = Scratch::new();
    let api = seeded();
    s.write("slow.yaml", "name: slow\nsteps:\n  - name: slow\n    type: sh\n    with: { image_ref: base, inline_script: \"echo started; sleep 100; echo never\" }\n");
    let mut child = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .args(["run", "--no-history", "--executor=kubernetes", "--image=base=busybox", "slow.yaml"])
        .spawn();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "started\n", "the log is shown as it comes");
    assert_eq!(api.names("pods").len(), 1);
    crate::harness::signal(&child, "INT");
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
    assert_eq!(left(&api), Vec::<String>::new());
}

/// Opt-in, against a real cluster: with `RUNBOX_TEST_KUBECONFIG` naming a
/// kubeconfig whose identity may do what `deploy/role.yaml` grants in
/// `RUNBOX_TEST_NAMESPACE` (default `default`), an image step runs as a Job
/// there in `RUNBOX_TEST_IMAGE` (default busybox), its log and status come
/// back, and no Job of it is left. Skipped, saying so, otherwise.
#[test]
fn a_job_against_a_real_cluster_when_one_is_given() {
    let Ok(kubeconfig) = std::env::var("RUNBOX_TEST_KUBECONFIG") else {
        eprintln!(
            "skipped: set RUNBOX_TEST_KUBECONFIG (and RUNBOX_TEST_NAMESPACE, RUNBOX_TEST_IMAGE) to run an image step as a Job in a real cluster (README, Developing)"
        );
        return;
    };
    let namespace = std::env::var("RUNBOX_TEST_NAMESPACE").unwrap_or_else(|_| "default".into());
    let image = std::env::var("RUNBOX_TEST_IMAGE").unwrap_or_else(|_| "docker.io/library/busybox:1.37".into());
    let s = Scratch::new();
    // runbox makes its Jobs in the context's namespace: a copy that names it.
    let config = s.state.path().join("kubeconfig");
    std::fs::copy(&kubeconfig, &config).unwrap();
    let kubectl = |args: &[&str]| {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&config)
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    kubectl(&["config", "set-context", "--current", "--namespace", &namespace]);
    s.write("real-job.yaml", "name: real-job\nsteps:\n  - name: in-image\n    type: sh\n    with: { image_ref: test, timeout: 3m, inline_script: \"echo from a real Job as $(id -u); exit 3\" }\n");
    let run = s
        .runbox()
        .env("KUBECONFIG", &config.display().to_string())
        .args([
            "run",
            "--json",
            "--no-history",
            "--executor=kubernetes",
            &format!("--image=test={image}"),
            "real-job.yaml",
        ])
        .run();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let step = &run.json()["steps"][0];
    assert_eq!(step["stdout"], "from a real Job as 65532\n");
    assert_eq!(step["job"]["namespace"], namespace.as_str());
    let name = step["job"]["name"].as_str().unwrap();
    let left = kubectl(&["get", "jobs", "--namespace", &namespace, "--ignore-not-found", "-o", "name", name]);
    assert_eq!(left, "", "the Job is deleted");
}

/// A Job's log is held to the step's output limit — a flood ends the step
/// (153) and the Job — and a secret value runbox gave the container is
/// masked in it as in any step's output; the Job spec never held it.
#[test]
fn a_jobs_flood_is_cut_at_the_output_limit_and_its_secrets_are_masked() {
    let s = Scratch::new();
    let api = seeded();
    s.write(
        "flood.yaml",
        "name: flood\npermissions:\n  env: [DB_PASSWORD]\nsteps:\n  - name: flood\n    type: sh\n    with:\n      image_ref: base\n      output: 4KiB\n      inline_script: |\n        echo \"password is $DB_PASSWORD\"\n        while :; do echo flood; done\n",
    );
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .env("DB_PASSWORD", "planted-db-password")
        .args(["run"])
        .args(IMAGES)
        .args(["flood.yaml"])
        .run();
    assert_eq!(run.code, 153, "{}\n{}", run.stdout, run.stderr);
    let step = &run.json()["steps"][0];
    let stdout = step["stdout"].as_str().unwrap();
    assert!(stdout.starts_with("password is ***\nflood\nflood\n"), "{stdout}");
    assert!(stdout.ends_with("[runbox: cut stdout at 4096 bytes: the step's output limit]\n"), "{stdout}");
    assert_eq!(
        step["error"],
        json!({ "code": "OutputLimit", "message": "step `flood` (flood.yaml:11) wrote more than 4096 bytes to stdout; raise it with output: under the step's with: or --max-output" })
    );
    for text in [&run.stdout, &run.stderr, &s.log(), &api.with(|c| c.created_jobs[0].to_string())] {
        assert!(!text.contains("planted-db-password"), "the secret shown: {text}");
    }
    assert_eq!(left(&api), Vec::<String>::new());
}

/// `runbox serve --executor kubernetes`: a caller's execution runs its image
/// step as a Job labelled with the caller's correlation id, and the reply
/// and the record name the Job.
#[test]
fn a_server_runs_image_steps_as_jobs_for_its_callers() {
    let s = Scratch::new();
    let api = seeded();
    let kubeconfig = api.kubeconfig(s.state.path());
    s.write("db-maintenance.yaml", EXAMPLE_4);
    let server = crate::api::serve_with(
        &s,
        &[
            "--executor=kubernetes",
            "--image=postgres=docker.io/library/postgres:17",
            "--script-registry=ops/script-registry",
        ],
        &[("KUBECONFIG", &kubeconfig)],
    );
    let reply = crate::api::request(
        "POST",
        &format!("{}/api/runbooks/db-maintenance.yaml/execute", server.base),
        Some(&crate::api::token("ada", json!({}))),
        &[("X-Correlation-Id", "corr-jobs-1")],
        "{}",
    );
    assert_eq!((reply.status, reply.json["return_code"].clone()), (200, json!(127)), "{:#}", reply.json);
    let job = &reply.json["steps"][0]["job"];
    assert_eq!(
        (job["namespace"].as_str(), job["image"].as_str()),
        (Some("ops"), Some("docker.io/library/postgres:17"))
    );
    let made = api.with(|c| c.created_jobs.clone());
    assert_eq!(made[0]["metadata"]["labels"]["runbox.dev/correlation-id"], "corr-jobs-1");
    assert_eq!(made[0]["metadata"]["name"], job["name"]);
    let record: serde_json::Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["steps"][0]["job"], *job);
    assert_eq!(left(&api), Vec::<String>::new());
}

/// A container the OOM killer ends is `MemoryLimit` with its 137; a pod
/// the kubelet evicts is `Evicted` (143) whatever its container's status;
/// both Jobs are deleted.
#[test]
fn an_oom_killed_container_and_an_evicted_pod_are_named() {
    let s = Scratch::new();
    let api = seeded();
    let kubeconfig = api.kubeconfig(s.state.path());
    let cases = [
        (
            "oom-test",
            137,
            json!({ "code": "MemoryLimit", "message": "step `ends` (ends.yaml:5) needed more than 268435456 bytes of memory (its container was OOMKilled); raise it with memory: under the step's with: or --memory" }),
        ),
        (
            "evict-test",
            143,
            json!({ "code": "Evicted", "message": "the step's pod was evicted from its node: The node was low on resource: memory. Threshold quantity: 100Mi, available: 51Mi." }),
        ),
    ];
    for (image, status, error) in cases {
        s.write("ends.yaml", &format!("name: ends\nsteps:\n  - name: ends\n    type: sh\n    with: {{ image_ref: \"registry.example/{image}:1\", inline_script: \"echo started; sleep 5\" }}\n"));
        let run = s
            .runbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(["run"])
            .args(IMAGES)
            .args(["--allow-any-image", "ends.yaml"])
            .run();
        assert_eq!(run.code, status, "{image}: {}\n{}", run.stdout, run.stderr);
        let step = &run.json()["steps"][0];
        assert_eq!(step["error"], error, "{image}");
        assert_eq!(step["stdout"], "started\n", "{image}");
        assert_eq!(left(&api), Vec::<String>::new(), "{image}");
    }
}

/// A log stream cut while the pod runs (the fake cuts each one a chunk
/// after it was opened, as a proxy cuts long streams) is opened again and
/// read on from where it was: each line once, in order.
#[test]
fn a_cut_log_stream_is_resumed_without_loss_or_repeat() {
    let s = Scratch::new();
    let api = seeded();
    s.write("paced.yaml", "name: paced\nsteps:\n  - name: paced\n    type: sh\n    with: { image_ref: base, inline_script: \"for i in 1 2 3 4; do echo line $i; sleep 0.3; done\" }\n");
    let run = s
        .runbox()
        .env("KUBECONFIG", &api.kubeconfig(s.state.path()))
        .args(["run"])
        .args(IMAGES)
        .args(["paced.yaml"])
        .run();
    run.success();
    assert_eq!(run.json()["steps"][0]["stdout"], "line 1\nline 2\nline 3\nline 4\n");
    let asked = api.with(|c| c.asked.clone());
    let streams = asked.iter().filter(|r| r.contains("/log?")).count();
    assert!(streams >= 3, "the log was opened {streams} times: {asked:#?}");
}
