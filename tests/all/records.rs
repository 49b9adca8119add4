//! History entries in the runbook and the JSON record of each execution.

use crate::harness::{Scratch, Yaml, history_headings, runbook, shown};
use crate::snapshot;
use serde_json::{Value, json};

#[test]
fn twenty_concurrent_runs_leave_twenty_whole_entries() {
    let s = Scratch::new();
    let script = "```js\nconsole.log(`run ${get('RUN_ID')}`)\n```";
    let path = s.write("Busy.md", &runbook("Busy", "RUN_ID: which run this is", &[], &[], script));
    let children: Vec<_> =
        (0..20).map(|i| s.runbox().env("RUN_ID", &i.to_string()).args(["run", "Busy.md"]).spawn()).collect();
    for child in children {
        let out = crate::harness::Run::from(child.wait_with_output().unwrap());
        out.success();
    }
    let text = std::fs::read_to_string(path).unwrap();
    let headings = history_headings(&text);
    assert_eq!(headings.len(), 20, "{text}");
    assert!(headings.iter().all(|h| h.ends_with("| Exit Code: 0")));
    for i in 0..20 {
        assert_eq!(text.matches(&format!("```\nrun {i}\n```")).count(), 1, "run {i} is recorded once:\n{text}");
    }
    let records = s.log();
    assert_eq!(records.lines().count(), 20);
    for line in records.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every record is one whole JSON line");
    }
}

#[test]
fn history_keeps_the_most_recent_entries() {
    let s = Scratch::new();
    let script = "```js\nconsole.log(get('n'))\n```";
    let path = s.write("Keep.md", &runbook("Keep", "", &[], &[], script));
    for n in 0..4 {
        s.runbox().args(["run", "Keep.md", "--history-keep", "2", "--input", &format!("n={n}")]).run().success();
    }
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(history_headings(&text).len(), 2, "{text}");
    assert!(text.contains("```\n2\n```") && text.contains("```\n3\n```") && !text.contains("```\n1\n```"), "{text}");
    assert!(text.starts_with("# Keep\nA test runbook."), "the rest of the runbook is untouched");
}

#[test]
fn no_history_leaves_the_file_alone() {
    let s = Scratch::new();
    let text = runbook("Quiet", "", &[], &[], "```js\nconsole.log(1)\n```");
    let path = s.write("Quiet.md", &text);
    s.runbox().args(["run", "--no-history", "Quiet.md"]).run().success();
    assert_eq!(std::fs::read_to_string(path).unwrap(), text);
}

#[test]
fn each_execution_logs_one_json_record_with_its_audit_trail() {
    let s = Scratch::new();
    let script = "```js {name=only fuel=900000000}\nconsole.log('audited'); return 7\n```";
    s.write("Audit.md", &runbook("Audit", "", &[], &[], script));
    s.runbox().args(["run", "Audit.md"]).run().success();
    let record: serde_json::Value = serde_json::from_str(s.log().trim()).unwrap();
    let crumb = &record["breadcrumb"];
    assert!(crumb["at_time"].as_str().unwrap().contains('T'));
    assert_eq!(crumb["recursion_stack"], serde_json::json!(["Audit.md"]));
    assert_eq!(crumb["correlation_id"], record["correlation_id"]);
    assert_eq!(record["runbook"], "Audit");
    assert_eq!(record["exit_code"], 0);
    let step = &record["steps"][0];
    assert_eq!(step["name"], "only");
    assert_eq!(step["source"]["content"], "console.log('audited'); return 7\n");
    assert_eq!(step["source"]["sha256"], "fb3e74474e19562e1a914ed6257287d252d039aba7e56fc679a3828696c456e1");
    assert_eq!(step["limits"]["fuel"], 900_000_000);
    assert_eq!(step["stdout"], "audited\n");
    assert_eq!(step["result"], 7);
    assert!(step["fuel_consumed"].as_u64().unwrap() > 0);
}

#[test]
fn secret_looking_variables_are_masked_in_history_the_record_and_json() {
    let s = Scratch::new();
    let token = "tok-PLANTED-31337";
    let script = "```sh\necho \"token is $API_TOKEN, region $REGION\"\necho \"$API_TOKEN\" >&2\n```\n\n```js\nreturn {t: get('API_TOKEN')}\n```";
    s.write("Mask.md", &crate::harness::runbook("Mask", "API_TOKEN: a token\nREGION: where", &[], &[], script));
    let run = s.runbox().env("API_TOKEN", token).env("REGION", "eu-west-1").args(["run", "--json", "Mask.md"]).run();
    let json = run.success().json();
    assert_eq!(json["steps"][0]["stdout"], "token is ***, region eu-west-1\n");
    assert_eq!(json["steps"][0]["stderr"], "***\n");
    assert_eq!(json["steps"][1]["result"], serde_json::json!({"t": "***"}));
    for (what, text) in [("--json", run.stdout), ("history", s.read("Mask.md")), ("record", s.log())] {
        assert!(!text.contains(token), "the token is in the {what}: {text}");
        assert!(text.contains("***"), "{what}: {text}");
    }
}

#[test]
fn a_secret_scripts_hash_is_not_logged() {
    let s = Scratch::new();
    let secret = "echo hi";
    let text = "name: S\nsteps:\n  - name: a\n    type: sh\n    with: { script_from_secret: { env: OPS_SCRIPT } }\n";
    s.write("s.yaml", text);
    s.runbox().env("OPS_SCRIPT", secret).args(["run", "s.yaml"]).run().success();
    let log = s.log();
    assert!(!log.contains(&runbox::text::sha256(secret)), "{log}");
    assert!(log.contains("\"sha256\":\"withheld (the script is a secret)\""), "{log}");
}

#[test]
fn history_shows_control_characters_as_escapes() {
    let s = Scratch::new();
    let script = "```js\nconsole.log('ok\\r\\u001b[2J\\u001b]0;pwned\\u0007done')\n```";
    s.write("Esc.md", &crate::harness::runbook("Esc", "", &[], &[], script));
    s.runbox().args(["run", "Esc.md"]).run().success();
    let run = s.runbox().args(["history", "Esc.md"]).run();
    run.success().stdout_has("    ok\\r\\u{1b}[2J\\u{1b}]0;pwned\\u{7}done\n");
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\r'), "{:?}", run.stdout);
}

#[test]
fn a_reader_that_goes_away_ends_list_and_history_quietly() {
    let s = Scratch::new();
    s.samples();
    for _ in 0..3 {
        s.runbox().env("GREETING_NAME", "Ada").args(["run", "HelloWorld.md"]).run().success();
    }
    for args in [vec!["list", "."], vec!["history", "HelloWorld.md"]] {
        // The read end is closed before runbox starts: every write is a broken pipe.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut runbox = s.runbox().args(&args);
        runbox.cmd.stdout(writer).stderr(std::process::Stdio::piped());
        let out = runbox.cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}

/// A declared secret used as a key of a step's result is masked like a
/// value: in `--json` and in the log.
#[test]
fn a_secret_used_as_a_key_is_masked_too() {
    let s = Scratch::new();
    let script = "```js\nconst t = get('API_TOKEN');\nreturn { [t]: 'seen', [`${t}-2`]: 'twice', plain: 1 }\n```";
    s.write("Keys.md", &runbook("Keys", "API_TOKEN: a token", &[], &[], script));
    let run = s.runbox().env("API_TOKEN", "PLANTED-KEY-SECRET").args(["run", "--json", "Keys.md"]).run();
    run.success();
    assert!(!run.stdout.contains("PLANTED-KEY-SECRET"), "{}", run.stdout);
    assert!(!s.log().contains("PLANTED-KEY-SECRET"));
    assert!(!s.read("Keys.md").contains("PLANTED-KEY-SECRET"));
    assert_eq!(run.json()["steps"][0]["result"], serde_json::json!({ "***": "seen", "***-2": "twice", "plain": 1 }));
}

/// Without `USER` (cron, systemd, containers) the record names the
/// process's account from the passwd database, not `unknown`.
#[test]
fn the_record_names_the_account_without_user_set() {
    let s = Scratch::new();
    s.write("Who.md", &runbook("Who", "", &[], &[], "```sh\necho hi\n```"));
    s.runbox().env_remove("USER").args(["run", "-q", "--no-history", "Who.md"]).run().success();
    let account = std::process::Command::new("id").arg("-un").output().unwrap();
    let account = String::from_utf8(account.stdout).unwrap().trim().to_string();
    let record: serde_json::Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["breadcrumb"]["by_user"], account.as_str(), "{record}");
}

#[test]
fn a_secret_a_step_prints_is_masked_in_the_live_output_too() {
    // The terminal is a CI job's log as often as a person's screen.
    let s = Scratch::new();
    let script = "echo \"tok=$API_TOKEN\"\nprintf 'sup'; printf 'ersecret123 split\\n'\necho \"err $API_TOKEN\" >&2\nprintf 'ends with sup'";
    let text = Yaml::new("Live").field("permissions:\n  env: [API_TOKEN]").sh("print", script).text();
    s.write("live.yaml", &text);
    let run = s.runbox().env("API_TOKEN", "supersecret123").args(["run", "--no-history", "live.yaml"]).run();
    assert!(!format!("{}{}", run.stdout, run.stderr).contains("supersecret123"));
    snapshot!("records_live_output_is_masked", shown(&s, &run));
}

/// Each record has a top-level timestamp and level for log shippers, and
/// `--log -` writes them to stdout (a container's log) instead of a file.
#[test]
fn records_carry_a_timestamp_and_level_and_go_to_stdout_with_log_dash() {
    let s = Scratch::new();
    s.write("ok.yaml", "name: ok\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: echo fine }\n");
    s.write("bad.yaml", "name: bad\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: exit 4 }\n");
    s.runbox().args(["run", "ok.yaml"]).run().success();
    assert_eq!(s.runbox().args(["run", "bad.yaml"]).run().code, 4);
    let records: Vec<serde_json::Value> = s.log().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let levels: Vec<&str> = records.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["info", "error"]);
    for record in &records {
        let at = record["timestamp"].as_str().unwrap();
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
        assert!(at >= record["breadcrumb"]["at_time"].as_str().unwrap(), "made at the run's end: {record}");
    }
    std::fs::remove_file(s.log_path()).unwrap();
    let run = s.runbox().args(["--log", "-", "run", "ok.yaml"]).run();
    let (output, line) = run.success().stdout.split_once('\n').unwrap();
    assert_eq!(output, "fine");
    let record: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
    assert_eq!((record["level"].as_str(), record["stdout"].as_str()), (Some("info"), Some("fine\n")));
    assert!(line.ends_with("}\n") && !s.log_path().exists(), "one line on stdout, no file");
    // The record store has them whatever the log: both runs of ok.yaml.
    let history = s.runbox().args(["--log", "-", "history", "--json", "ok.yaml"]).run();
    let stdout: Vec<Value> = history.success().json().as_array().unwrap().iter().map(|e| e["stdout"].clone()).collect();
    assert_eq!(stdout, [json!("fine\n"), json!("fine\n")]);
}
