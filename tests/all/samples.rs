//! Each sample runbook in runbooks/, run on a copy as a user would.

use crate::harness::shown;
use crate::harness::{Scratch, history_headings};
use crate::snapshot;

/// Every sample has a test here; a new sample without one fails this.
#[test]
fn every_sample_runbook_is_covered() {
    let covered = [
        "ConfigAudit.md",
        "HelloWorld.md",
        "LogSummary.md",
        "ParentRunbook.md",
        "SimpleRunbook.md",
        "check-db-lag.yaml",
        "health-check.yaml",
        "prune-backups.yaml",
    ];
    assert_eq!(crate::harness::sample_names(), covered);
}

#[test]
fn hello_world_greets_writes_its_card_and_records_history() {
    let s = Scratch::new();
    let runbook = s.sample("HelloWorld");
    let run = s.runbox().env("GREETING_NAME", "Ada").args(["run", "HelloWorld.md"]).run();
    run.success();
    snapshot!("samples_hello_world_greets_writes_its_card_and_records_history", shown(&s, &run));
    assert_eq!(s.read("out/card.txt"), "Hello, Ada! Welcome to runbox.\n");

    let text = std::fs::read_to_string(runbook).unwrap();
    let headings = history_headings(&text);
    assert_eq!(headings.len(), 1, "{text}");
    assert!(headings[0].ends_with("| Exit Code: 0"), "{}", headings[0]);
    assert!(text.contains("**Stdout:**\n```\nHello, Ada! Welcome to runbox.\n```"), "{text}");
}

#[test]
fn hello_world_history_reads_back_each_execution() {
    let s = Scratch::new();
    s.sample("HelloWorld");
    s.runbox().env("GREETING_NAME", "Ada").args(["run", "HelloWorld.md"]).run().success();
    s.runbox().env_remove("GREETING_NAME").args(["run", "HelloWorld.md"]).run().code(2);
    let entries = s.runbox().args(["history", "--json", "HelloWorld.md"]).run().success().json();
    assert_eq!(entries.as_array().unwrap().len(), 2, "{entries:#}");
    assert_eq!((entries[0]["exit_code"].as_i64(), entries[1]["exit_code"].as_i64()), (Some(0), Some(2)));
    assert_eq!(entries[0]["stdout"], "Hello, Ada! Welcome to runbox.\n");
    assert_eq!(
        entries[1]["error"],
        "ConfigInvalid: HelloWorld.md:8: environment variable `GREETING_NAME` is not set (Who to greet); give it with --env GREETING_NAME=VALUE or export GREETING_NAME (over the API: in env_vars)\n",
        "{entries:#}"
    );
    let shown_run = s.runbox().args(["history", "HelloWorld.md"]).run();
    shown_run.success();
    snapshot!("samples_hello_world_history_reads_back_each_execution_10", shown(&s, &shown_run));
}

#[test]
fn hello_world_reports_its_result_as_json() {
    let s = Scratch::new();
    s.sample("HelloWorld");
    let run = s.runbox().env("GREETING_NAME", "Grace").args(["run", "--json", "--no-history", "HelloWorld.md"]).run();
    let json = run.success().json();
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["steps"][0]["result"], serde_json::json!({ "greeted": "Grace", "bytes": 33 }));
    assert!(json["steps"][0]["fuel_consumed"].as_u64().unwrap() > 0);
    assert_eq!(json["steps"][0]["source"]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn hello_world_without_its_variable_is_refused_and_the_refusal_recorded() {
    let s = Scratch::new();
    let runbook = s.sample("HelloWorld");
    let run = s.runbox().args(["run", "HelloWorld.md"]).env_remove("GREETING_NAME").run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("samples_hello_world_without_its_variable_is_refused_and_the_refusal_recorded", shown(&s, &run));
    assert!(!s.join("out").exists(), "nothing runs when validation fails");
    let text = std::fs::read_to_string(runbook).unwrap();
    assert!(history_headings(&text)[0].ends_with("| Exit Code: 2"));
    assert!(
        text.contains("**Error:**\n```\nConfigInvalid: HelloWorld.md:8: environment variable `GREETING_NAME`"),
        "{text}"
    );
}

#[test]
fn hello_world_validates_when_its_variable_is_given() {
    let s = Scratch::new();
    s.sample("HelloWorld");
    let shown_run = s.runbox().args(["validate", "HelloWorld.md", "--env", "GREETING_NAME=x"]).run();
    shown_run.success();
    snapshot!("samples_hello_world_validates_when_its_variable_is_given_10", shown(&s, &shown_run));
    let shown_run = s.runbox().args(["validate", "HelloWorld.md"]).env_remove("GREETING_NAME").run();
    assert_eq!(shown_run.code, 1, "{}", shown_run.stderr);
    snapshot!("samples_hello_world_validates_when_its_variable_is_given_11", shown(&s, &shown_run));
}

#[test]
fn log_summary_counts_levels_chains_its_steps_and_passes_the_gate() {
    let s = Scratch::new();
    s.sample("LogSummary");
    let run = s.runbox().args(["run", "--json", "LogSummary.md"]).run();
    let json = run.success().json();
    let counts = serde_json::json!({ "INFO": 4, "DEBUG": 1, "WARN": 1, "ERROR": 2 });
    assert_eq!(json["steps"][0]["name"], "summarise");
    assert_eq!(json["steps"][0]["result"]["counts"], counts);
    assert_eq!(json["steps"][1]["result"]["rate"], 0.25);
    let written: serde_json::Value = serde_json::from_str(&s.read("out/summary.json")).unwrap();
    assert_eq!(written["counts"], counts);
    assert_eq!(json["steps"][0]["limits"]["timeout_ms"], 10_000, "the step's timeout attribute applies");
}

#[test]
fn log_summary_fails_the_gate_with_the_throwing_line() {
    let s = Scratch::new();
    s.sample("LogSummary");
    let run = s.runbox().args(["run", "LogSummary.md", "--input", "threshold=0.1"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    snapshot!("samples_log_summary_fails_the_gate_with_the_throwing_line", shown(&s, &run));
}

#[test]
fn config_audit_names_the_incomplete_config_and_fails() {
    let s = Scratch::new();
    let runbook = s.sample("ConfigAudit");
    let run = s.runbox().env("REQUIRED_KEYS", "timeout retries").args(["run", "ConfigAudit.md"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    snapshot!("samples_config_audit_names_the_incomplete_config_and_fails", shown(&s, &run));
    assert_eq!(s.read("out/config-audit.txt"), "api: ok\ncron: missing retries\nworker: ok\n");
    let text = std::fs::read_to_string(runbook).unwrap();
    assert!(history_headings(&text)[0].ends_with("| Exit Code: 1"), "{text}");
}

#[test]
fn config_audit_passes_when_every_config_has_the_keys() {
    let s = Scratch::new();
    s.sample("ConfigAudit");
    let run = s.runbox().env("REQUIRED_KEYS", "timeout").args(["run", "--json", "ConfigAudit.md"]).run();
    let json = run.success().json();
    assert_eq!(json["steps"][0]["language"], "sh");
    assert_eq!(json["stdout"], "audited 3 configs, 0 incomplete\n");
}

#[test]
fn check_db_lag_chains_shell_and_js_steps_through_templates() {
    let s = Scratch::new();
    s.samples();
    let run = s.runbox().args(["run", "--json", "check-db-lag.yaml"]).run();
    let json = run.success().json();
    assert_eq!(json["inputs"], serde_json::json!({ "threshold_ms": 5000, "replica": "db-replica-1" }));
    assert_eq!(json["steps"][0]["stdout"], "OK: Replication lag is 420ms\n");
    assert_eq!(json["steps"][1]["result"], serde_json::json!({ "lag_ms": 420, "ok": true, "status": "OK" }));
    assert_eq!(s.read("out/lag-report.txt"), "OK replica=db-replica-1 lag_ms=420 threshold_ms=5000\n");
}

#[test]
fn check_db_lag_is_audited_step_by_step_in_the_json_log() {
    let s = Scratch::new();
    s.samples();
    s.runbox().args(["run", "check-db-lag.yaml", "--input", "replica=db-replica-2"]).run().code(1);
    let log = s.log();
    let record: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    let crumb = &record["breadcrumb"];
    assert!(crumb["at_time"].as_str().unwrap().starts_with("20"), "{crumb}");
    assert!(!crumb["by_user"].as_str().unwrap().is_empty());
    assert_eq!(crumb["recursion_stack"], serde_json::json!(["check-db-lag.yaml"]));
    assert_eq!(crumb["correlation_id"], record["correlation_id"]);
    assert_eq!((record["runbook"].as_str(), record["exit_code"].as_i64()), (Some("ops.check-db-lag"), Some(1)));
    assert_eq!(record["inputs"], serde_json::json!({ "threshold_ms": 5000, "replica": "db-replica-2" }));
    let check = &record["steps"][0];
    let source = &check["source"];
    assert_eq!((source["type"].as_str(), source["reference"].as_str()), (Some("inline"), Some("check-db-lag.yaml:24")));
    let content = source["content"].as_str().unwrap();
    assert!(content.starts_with("set -euo pipefail\n"), "the script as written, templates unexpanded: {content}");
    assert_eq!(source["sha256"], runbox::text::sha256(content));
    assert_eq!(check["exit_code"], 1);
    assert_eq!(check["continued"], true);
    assert!(check["fuel_consumed"].as_u64().unwrap() > 0 && check["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(check["limits"]["timeout_ms"], 10_000, "the step's timeout applies and is recorded");
    assert_eq!(record["steps"].as_array().unwrap().len(), 3);
}

#[test]
fn check_db_lag_reports_a_critical_lag_and_fails() {
    let s = Scratch::new();
    s.samples();
    let run = s
        .runbox()
        .args(["run", "check-db-lag.yaml", "--input", "threshold_ms=100", "--input", "replica=db-replica-2"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    snapshot!("samples_check_db_lag_reports_a_critical_lag_and_fails", shown(&s, &run));
    assert_eq!(s.read("out/lag-report.txt"), "CRITICAL replica=db-replica-2 lag_ms=7300 threshold_ms=100\n");
    let run = s.runbox().args(["run", "--json", "check-db-lag.yaml", "--input", "threshold_ms=100"]).run();
    let json = run.code(1).json();
    assert_eq!(
        (json["steps"][0]["exit_code"].as_i64(), json["steps"][0]["continued"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(json["steps"].as_array().unwrap().len(), 3, "on_error: continue let the later steps run");
    assert_eq!(json["steps"][2]["exit_code"], 1, "the report step failed the runbook");
}

#[test]
fn check_db_lag_refuses_an_input_of_the_wrong_type_before_running() {
    let s = Scratch::new();
    s.samples();
    let run = s.runbox().args(["run", "check-db-lag.yaml", "--input", "threshold_ms=soon"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("samples_check_db_lag_refuses_an_input_of_the_wrong_type_before_running", shown(&s, &run));
    assert!(!s.join("out").exists(), "nothing ran");
}

#[test]
fn health_check_runs_the_pinned_registry_script_and_a_script_file() {
    let s = Scratch::new();
    s.samples();
    let run = s.runbox().args(["run", "--json", "health-check.yaml"]).run();
    let json = run.success().json();
    let check = &json["steps"][0]["source"];
    assert_eq!(check["type"], "registry");
    assert_eq!(check["registry"]["approved_by"], "sre-team@example.com");
    assert!(check["content"].as_str().unwrap().contains("Approved health check"));
    assert_eq!(json["steps"][1]["source"]["type"], "file");
    assert_eq!(json["steps"][1]["result"]["components"]["db"], "up");
    let run = s.runbox().args(["run", "health-check.yaml", "--input", "service=billing"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    snapshot!("samples_health_check_runs_the_pinned_registry_script_and_a_script_file", shown(&s, &run));
}

#[test]
fn health_check_refuses_a_registry_script_that_changed_since_approval() {
    let s = Scratch::new();
    s.samples();
    let script = s.read("scripts/health-check.sh");
    s.write("scripts/health-check.sh", &script.replace("exit 2", "exit 0"));
    let run = s.runbox().args(["run", "health-check.yaml"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("samples_health_check_refuses_a_registry_script_that_changed_since_approval", shown(&s, &run));
    snapshot!("samples_health_check_refuses_a_registry_script_that_changed_since_approval", shown(&s, &run));
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
}

#[test]
fn prune_backups_needs_approval_and_never_logs_its_secret_script() {
    let s = Scratch::new();
    s.samples();
    let secrets = s.join("prune-backups/example-secrets");
    let secrets = secrets.to_str().unwrap();
    let refused = s.runbox().env("RUNBOX_SECRETS_DIR", secrets).args(["run", "--json", "prune-backups.yaml"]).run();
    let json = refused.code(77).json();
    // Nobody to ask and no --approve: refused before the first step runs.
    assert_eq!(json["error"]["code"], "ApprovalRequired");
    assert_eq!(json["steps"], serde_json::json!([]));
    assert!(!s.join("out/prune-plan.txt").exists());

    let run = s
        .runbox()
        .env("RUNBOX_SECRETS_DIR", secrets)
        .args(["run", "prune-backups.yaml", "--input", "keep=2", "--approve", "plan"])
        .run();
    run.success();
    snapshot!("samples_prune_backups_needs_approval_and_never_logs_its_secret_script", shown(&s, &run));
    assert_eq!(std::fs::read_dir(s.join("prune-backups/backups")).unwrap().count(), 4, "the backups are read-only");
    let log = s.log();
    assert!(!log.contains("Plans which backups to delete"), "the secret script is not in the log");
    assert!(log.contains("\"type\":\"secret\",\"reference\":\"ops-scripts/prune-backups.sh\""), "{log}");
    assert!(log.contains("\"approved\":true,\"how\":\"--approve\""), "{log}");
    let history = s.runbox().args(["history", "--json", "prune-backups.yaml"]).run();
    let entries = history.success().json();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[0]["exit_code"], 77);
}

#[test]
fn simple_runbook_echoes_its_variable_and_its_chain() {
    let s = Scratch::new();
    s.sample("SimpleRunbook");
    let run = s.runbox().env("CHILD_VAR", "hi").args(["run", "--json", "SimpleRunbook.md"]).run();
    let json = run.success().json();
    let id = json["correlation_id"].as_str().unwrap();
    assert_eq!(
        json["stdout"],
        format!("SimpleRunbook got CHILD_VAR=hi\nCorrelation ID: {id}\nRecursion stack: [\"SimpleRunbook.md\"]\n")
    );
    assert_eq!(history_headings(&s.read("SimpleRunbook.md")).len(), 1);
}

/// A parent runbook written for the runbook API: a `curl` to `$RUNBOOK_API_BASE_URL` with the opaque
/// `$RUNBOOK_API_TOKEN` runs SimpleRunbook.md in process, in the same chain,
/// with no network granted and no server listening.
#[test]
fn parent_runbook_calls_simple_runbook_through_the_api_base_url() {
    let s = Scratch::new();
    s.sample("ParentRunbook");
    s.sample("SimpleRunbook");
    let run = s.runbox().env_remove("CHILD_VAR").args(["run", "-q", "ParentRunbook.md"]).run();
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    let id = lines[1].strip_prefix("Correlation ID: ").unwrap();
    assert_eq!(
        [lines[0], lines[2], lines[4]],
        ["Parent runbook starting", "Recursion stack: [\"ParentRunbook.md\"]", "Parent runbook completed"]
    );
    let response: serde_json::Value =
        serde_json::from_str(lines[3].strip_prefix("Child runbook response: ").unwrap()).unwrap();
    assert_eq!(response["return_code"], 0);
    assert_eq!(response["runbook"], "SimpleRunbook");
    assert_eq!(response["correlation_id"], id);
    assert_eq!(
        response["stdout"],
        format!(
            "SimpleRunbook got CHILD_VAR=value\nCorrelation ID: {id}\nRecursion stack: [\"ParentRunbook.md\",\"SimpleRunbook.md\"]\n"
        )
    );
    assert_eq!(run.stderr, "");
    // Each has its own History entry and record, in one chain.
    assert_eq!(history_headings(&s.read("SimpleRunbook.md")).len(), 1);
    assert_eq!(history_headings(&s.read("ParentRunbook.md")).len(), 1);
    let stacks: Vec<serde_json::Value> = s
        .log()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["breadcrumb"]["recursion_stack"].clone())
        .collect();
    assert_eq!(
        stacks,
        [serde_json::json!(["ParentRunbook.md", "SimpleRunbook.md"]), serde_json::json!(["ParentRunbook.md"])]
    );
}

#[test]
fn parent_runbook_fails_when_its_child_is_refused() {
    let s = Scratch::new();
    s.sample("ParentRunbook");
    // No SimpleRunbook.md beside it: the API answers 404, and the parent says so.
    let run = s.runbox().args(["run", "--json", "ParentRunbook.md"]).run();
    let json = run.json();
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json["stderr"], "SimpleRunbook.md failed (return_code none)\n");
    let response = json["stdout"].as_str().unwrap().lines().nth(3).unwrap();
    assert_eq!(
        response,
        r#"Child runbook response: {"error":{"code":"NotFound","message":"no runbook is named `SimpleRunbook.md`"}}"#
    );
}
