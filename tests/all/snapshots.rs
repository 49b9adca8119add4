//! Whole outputs, pinned: `validate`'s report, `run --json`, `list` and
//! `history`, as a user reads them. What differs from run to run (the
//! scratch folder's path, durations, fuel, ids, times) is filtered out;
//! everything else must match its snapshot in `snapshots/`. After a
//! deliberate change: `INSTA_UPDATE=always cargo test --release`, then
//! review the `.snap` diff.

use crate::harness::{Scratch, shown};
use crate::snapshot;

#[test]
fn validate_reports_every_problem_and_every_ask() {
    let s = Scratch::new();
    s.samples();
    s.write(
        "Broken.md",
        "# Broken\n\n# Script\n```js\nreturn 1\n```\n\n# File System Requirements\n```yaml\nInput:\n- ../up\n```\n",
    );
    s.write(
        "Asks.md",
        "# Asks\nReads the host's hosts file.\n\n# Environment Requirements\n```yaml\n{}\n```\n\n# File System Requirements\n```yaml\nInput:\n- /etc/hosts\nOutput:\n- ./out\n```\n\n# Script\n```sh\ncat /etc/hosts\n```\n\n# History\n",
    );
    let run = s
        .runbox()
        .env_remove("GREETING_NAME")
        .args(["validate", "HelloWorld.md", "Broken.md", "Asks.md", "check-db-lag.yaml", "missing.md"])
        .run();
    snapshot!("validate", shown(&s, &run));
}

#[test]
fn run_json_is_the_whole_report() {
    let s = Scratch::new();
    s.samples();
    let run = s.runbox().args(["run", "--json", "check-db-lag.yaml", "--input", "replica=db-replica-2"]).run();
    snapshot!("run_json_check_db_lag", shown(&s, &run));
    let run = s.runbox().env("GREETING_NAME", "Ada").args(["run", "--json", "--no-history", "HelloWorld.md"]).run();
    snapshot!("run_json_hello_world", shown(&s, &run));
}

#[test]
fn a_failed_step_has_one_json_shape_in_a_run_and_alone() {
    let s = Scratch::new();
    let alone = s.runbox().args(["sh", "--json", "-c", "echo out; exit 3"]).run().json();
    s.write("Fail.md", &crate::harness::runbook("Fail", "", &[], &[], "```sh\necho out; exit 3\n```"));
    let run = s.runbox().args(["run", "--json", "--no-history", "Fail.md"]).run().json();
    let step = &run["steps"][0];
    assert_eq!(alone["error"], step["error"]);
    assert_eq!(alone["error"], serde_json::json!({"code": "CommandFailed", "message": "exit status 3"}));
    for key in ["exit_code", "stdout", "stderr"] {
        assert_eq!(alone[key], step[key], "{key}");
    }
    // Fields a step does not have are absent, not null, in both.
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&alone), ["duration_ms", "error", "exit_code", "fuel_consumed", "memory_peak", "stderr", "stdout"]);
    let thrown = s.runbox().args(["js", "--json", "-e", "null.x"]).run().json();
    assert_eq!(keys(&thrown["error"]), ["code", "column", "line", "message", "stack"]);
}

#[test]
fn list_shows_every_sample() {
    let s = Scratch::new();
    s.samples();
    snapshot!("list", shown(&s, &s.runbox().args(["list"]).run()));
    snapshot!("list_json", shown(&s, &s.runbox().args(["list", "--json"]).run()));
}

#[test]
fn history_reads_back_markdown_and_yaml_runs() {
    let s = Scratch::new();
    s.samples();
    s.runbox().env("GREETING_NAME", "Ada").args(["run", "HelloWorld.md"]).run().success();
    s.runbox().env_remove("GREETING_NAME").args(["run", "HelloWorld.md"]).run().code(2);
    snapshot!("history_markdown", shown(&s, &s.runbox().args(["history", "HelloWorld.md"]).run()));
    snapshot!("history_markdown_json", shown(&s, &s.runbox().args(["history", "--json", "HelloWorld.md"]).run()));
    s.runbox().args(["run", "check-db-lag.yaml"]).run().success();
    s.runbox().args(["run", "check-db-lag.yaml", "--input", "threshold_ms=x"]).run().code(2);
    snapshot!("history_yaml", shown(&s, &s.runbox().args(["history", "check-db-lag.yaml"]).run()));
    snapshot!("history_yaml_json", shown(&s, &s.runbox().args(["history", "--json", "check-db-lag.yaml"]).run()));
}
