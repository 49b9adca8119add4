//! History entries in the runbook and the JSON record of each execution.

use crate::harness::{Scratch, history_headings, runbook};

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
    assert_eq!(crumb["recursion_stack"], serde_json::json!(["Audit"]));
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
