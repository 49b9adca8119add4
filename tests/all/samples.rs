//! Each sample runbook in runbooks/, run on a copy as a user would.

use crate::harness::{Scratch, history_headings};

/// Every sample has a test here; a new sample without one fails this.
#[test]
fn every_sample_runbook_is_covered() {
    let covered = ["ConfigAudit.md", "HelloWorld.md", "LogSummary.md"];
    let mut samples: Vec<String> = std::fs::read_dir(crate::harness::repo().join("runbooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    samples.sort();
    assert_eq!(samples, covered);
}

#[test]
fn hello_world_greets_writes_its_card_and_records_history() {
    let s = Scratch::new();
    let runbook = s.sample("HelloWorld");
    let run = s.runbox().env("GREETING_NAME", "Ada").args(["run", "HelloWorld.md"]).run();
    run.success().stdout_has("Hello, Ada! Welcome to runbox.");
    assert_eq!(s.read("out/card.txt"), "Hello, Ada! Welcome to runbox.\n");

    let text = std::fs::read_to_string(runbook).unwrap();
    let headings = history_headings(&text);
    assert_eq!(headings.len(), 1, "{text}");
    assert!(headings[0].ends_with("| Exit Code: 0"), "{}", headings[0]);
    assert!(text.contains("**Stdout:**\n```\nHello, Ada! Welcome to runbox.\n```"), "{text}");
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
    run.code(2)
        .stderr_has("ConfigInvalid")
        .stderr_has("HelloWorld.md:8: environment variable `GREETING_NAME` is not set");
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
    s.runbox()
        .args(["validate", "HelloWorld.md", "--env", "GREETING_NAME=x"])
        .run()
        .success()
        .stdout_has("ok: HelloWorld.md");
    s.runbox()
        .args(["validate", "HelloWorld.md"])
        .env_remove("GREETING_NAME")
        .run()
        .code(1)
        .stderr_has("GREETING_NAME");
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
    run.code(1)
        .stderr_has("too many errors")
        .stderr_has("LogSummary.md:45:")
        .stderr_has("error rate 0.250 is above 0.1");
}

#[test]
fn config_audit_names_the_incomplete_config_and_fails() {
    let s = Scratch::new();
    let runbook = s.sample("ConfigAudit");
    let run = s.runbox().env("REQUIRED_KEYS", "timeout retries").args(["run", "ConfigAudit.md"]).run();
    run.code(1).stdout_has("audited 3 configs, 1 incomplete").stderr_has("cron: missing retries");
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
