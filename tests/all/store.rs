//! The record store from the outside: `runbox history` as a query, two
//! servers on one store, a server killed with -9, retention, and a store
//! that runbox will not open.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{request, serve, serve_with, token};
use crate::api_executions::{events, poll, slow, wait_for_event};
use crate::harness::{Scratch, Yaml, runbook};

/// A YAML runbook that echoes its input `n`.
fn counter(s: &Scratch) {
    let yaml = Yaml::new("Counter").field("inputs:\n  n: { type: int }").sh("count", "echo \"n={{ inputs.n }}\"");
    s.write("counter.yaml", &yaml.text());
}

#[test]
fn a_yaml_runbooks_history_is_a_query_of_the_store() {
    let s = Scratch::new();
    counter(&s);
    for n in 1..=3 {
        s.runbox().args(["run", "counter.yaml", "--input", &format!("n={n}")]).run().success();
    }
    // The newest two, oldest first; the log still has every record.
    let history = s.runbox().args(["history", "counter.yaml", "--json", "--limit", "2"]).run();
    let shown: Vec<(String, i64)> = history
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["stdout"].as_str().unwrap().to_string(), e["exit_code"].as_i64().unwrap()))
        .collect();
    assert_eq!(shown, [("n=2\n".to_string(), 0), ("n=3\n".to_string(), 0)]);
    assert_eq!(s.log().lines().count(), 3);
    // Records to stdout for a container's log: the store still answers.
    s.runbox().args(["--log", "-", "run", "counter.yaml", "--input", "n=4"]).run().success();
    let history = s.runbox().args(["history", "counter.yaml", "--json", "--limit", "1"]).run();
    assert_eq!(history.success().json()[0]["stdout"], "n=4\n");
    // Private to this user: it holds every run's output.
    use std::os::unix::fs::PermissionsExt;
    let store = s.state.path().join("executions.db");
    assert_eq!(std::fs::metadata(&store).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_store_planted_as_a_symlink_or_out_of_reach_is_refused_naming_it() {
    let s = Scratch::new();
    counter(&s);
    let target = s.join("elsewhere.db");
    std::fs::write(&target, "").unwrap();
    let store = s.state.path().join("executions.db");
    std::os::unix::fs::symlink(&target, &store).unwrap();
    let history = s.runbox().args(["history", "counter.yaml"]).run();
    history.code(2).stderr_has(&format!(
        "the record store {}: it is a symlink, which runbox does not follow for its store",
        store.display()
    ));
    // A run without its store still runs and logs, and says so.
    let run = s.runbox().args(["run", "counter.yaml", "--input", "n=1"]).run();
    run.success().stderr_has("it is a symlink").stderr_has("the run is not kept in it");
    assert_eq!(std::fs::read(&target).unwrap(), b"", "nothing was written through the link");
    // A server does not start without one.
    let secret = s.state.path().join("jwt.secret");
    std::fs::write(&secret, "a-test-secret-that-is-long-enough-0123456789").unwrap();
    let missing = "/proc/no-such-dir/executions.db";
    let serve = s
        .runbox()
        .args(["serve", "--dir", ".", "--addr", "127.0.0.1:0", "--jwt-secret-file", &secret.to_string_lossy()])
        .args(["--store", missing])
        .run();
    serve.code(2).stderr_has(&format!("the record store {missing}: cannot create its folder"));
}

#[test]
fn two_servers_on_one_store_list_show_follow_and_cancel_through_either() {
    two_servers_list_show_follow_and_cancel(&Scratch::new(), &[]);
}

/// Two servers on the store `store` names (their own flags) list, show,
/// follow and cancel each other's executions.
pub(crate) fn two_servers_list_show_follow_and_cancel(s: &Scratch, store: &[&str]) {
    slow(s, "Slow", 30);
    let (one, two) = (serve(s, store), serve(s, store));
    let (ada, bob) = (token("ada", json!({})), token("bob", json!({})));
    let url = format!("{}/api/runbooks/Slow.md/execute?wait=false", one.base);
    let id = request("POST", &url, Some(&ada), &[], "").json["execution_id"].as_str().unwrap().to_string();
    wait_for_event(&one.base, &id, &ada, "output");
    // The other server lists and shows it as running.
    let listed = request("GET", &format!("{}/api/executions?status=running", two.base), Some(&ada), &[], "");
    assert_eq!(listed.status, 200, "{:#}", listed.json);
    let ids: Vec<&str> =
        listed.json["executions"].as_array().unwrap().iter().map(|e| e["execution_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()]);
    let on_two = format!("{}/api/executions/{id}", two.base);
    let shown = request("GET", &on_two, Some(&ada), &[], "");
    assert_eq!((shown.status, &shown.json["status"]), (200, &json!("running")), "{:#}", shown.json);
    // Followed through the other server live: its output arrives while it
    // runs (the server running it keeps its events in the store).
    wait_for_event(&two.base, &id, &ada, "output");
    assert_eq!(request("GET", &on_two, Some(&ada), &[], "").json["status"], "running");
    let follow = |base: &str| {
        let (url, ada) = (format!("{base}/api/executions/{id}/events"), ada.clone());
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let response = agent.get(&url).header("Authorization", format!("Bearer {ada}")).call().unwrap();
            response.into_body().read_to_string().unwrap()
        })
    };
    let (follower, local) = (follow(&two.base), follow(&one.base));
    // Cancelled through the other server: the step stops within a poll.
    let started = Instant::now();
    let cancelled = request("DELETE", &on_two, Some(&bob), &[], "");
    assert_eq!(cancelled.status, 202, "{:#}", cancelled.json);
    let ended = poll(&on_two, &ada, |j| j["status"] != "running");
    assert!(started.elapsed() < Duration::from_secs(20), "the 30 s step was stopped, not waited for");
    assert_eq!((&ended["status"], &ended["cancelled_by"]), (&json!("cancelled"), &json!("bob")), "{ended:#}");
    assert_eq!(ended["report"]["exit_code"], 130);
    assert_eq!(ended["report"]["return_code"], 130);
    assert_eq!(ended["report"]["steps"][0]["error"]["message"], "the step was cancelled by bob");
    // Both servers show the same execution once it has ended.
    let on_one = request("GET", &format!("{}/api/executions/{id}", one.base), Some(&ada), &[], "").json;
    assert_eq!((&on_one["status"], &on_one["cancelled_by"]), (&ended["status"], &ended["cancelled_by"]));
    let again = request("POST", &format!("{on_two}/cancel"), Some(&bob), &[], "");
    assert_eq!((again.status, &again.json["error"]["code"]), (409, &json!("Finished")));
    // The other server's followers get what the running server's get.
    let (followed, local) = (events(&follower.join().unwrap()), events(&local.join().unwrap()));
    assert_eq!(followed, local);
    let kinds: Vec<&str> = followed.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["step_started", "output", "output", "step_finished", "execution_finished"], "{followed:?}");
    assert_eq!(followed[1].2, json!({ "step": "step-1", "stream": "stdout", "text": "first\n" }));
    let said = json!({ "step": "step-1", "stream": "stderr", "text": "Interrupted: the step was cancelled by bob\n" });
    assert_eq!(followed[2].2, said);
    let last = followed.last().unwrap();
    assert_eq!((last.1.as_str(), &last.2), ("execution_finished", &json!({ "status": "cancelled", "exit_code": 130 })));
}

#[test]
fn a_server_killed_with_9_has_its_executions_marked_interrupted() {
    a_server_killed_with_9_leaves_its_executions_interrupted(&Scratch::new(), &[]);
}

/// A server whose heartbeat stops while its process lives on (frozen here;
/// a server on another machine, say) is taken for dead once
/// `--replica-lapse` has passed since its last beat: another server marks
/// its execution interrupted then, and not before.
#[test]
fn a_server_that_stops_beating_is_taken_for_dead_after_the_lapse() {
    let s = Scratch::new();
    slow(&s, "Slow", 60);
    let ada = token("ada", json!({}));
    let frozen = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Slow.md/execute?wait=false", frozen.base);
    let id = request("POST", &url, Some(&ada), &[], "").json["execution_id"].as_str().unwrap().to_string();
    wait_for_event(&frozen.base, &id, &ada, "output");
    frozen.signal(rustix::process::Signal::STOP);
    let stopped = Instant::now();
    let other = serve(&s, &["--replica-lapse", "10s"]);
    let on_other = format!("{}/api/executions/{id}", other.base);
    // Its pid is alive: only the lapse can end it.
    let ended = poll(&on_other, &ada, |j| j["status"] != "running");
    assert_eq!(ended["status"], "interrupted", "{ended:#}");
    // Its last beat was at most one heartbeat before it froze.
    assert!(stopped.elapsed() >= Duration::from_secs(5), "ended {:?} after the freeze", stopped.elapsed());
    frozen.signal(rustix::process::Signal::CONT);
}

/// A server killed with -9 on the store `store` names: another marks its
/// executions interrupted, and so does one restarted in its place.
pub(crate) fn a_server_killed_with_9_leaves_its_executions_interrupted(s: &Scratch, store: &[&str]) {
    slow(s, "Slow", 60);
    let ada = token("ada", json!({}));
    let mut dying = serve(s, store);
    let url = format!("{}/api/runbooks/Slow.md/execute?wait=false", dying.base);
    let id = request("POST", &url, Some(&ada), &[], "").json["execution_id"].as_str().unwrap().to_string();
    wait_for_event(&dying.base, &id, &ada, "output");
    // Another server sharing the store sees it running, then, once the
    // dead one's process is gone, ends it at its next heartbeat.
    let other = serve(s, store);
    let on_other = format!("{}/api/executions/{id}", other.base);
    assert_eq!(request("GET", &on_other, Some(&ada), &[], "").json["status"], "running");
    // Its output reached the store (the other server follows it live).
    wait_for_event(&other.base, &id, &ada, "output");
    dying.kill_9();
    let ended = poll(&on_other, &ada, |j| j["status"] != "running");
    assert_eq!(ended["status"], "interrupted", "{ended:#}");
    assert!(ended["finished_at"].is_string(), "{ended:#}");
    // Its events as the store kept them, then its end.
    let replayed = request("GET", &format!("{on_other}/events"), Some(&ada), &[], "");
    let replayed = events(replayed.json["text"].as_str().unwrap());
    let kinds: Vec<&str> = replayed.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["step_started", "output", "execution_finished"], "{replayed:?}");
    assert_eq!(replayed[1].2, json!({ "step": "step-1", "stream": "stdout", "text": "first\n" }));
    assert_eq!(replayed[2].2, json!({ "status": "interrupted", "exit_code": Value::Null }));
    drop(other);
    // A server restarted alone ends its own before its first request.
    let mut again = serve(s, store);
    let url = format!("{}/api/runbooks/Slow.md/execute?wait=false", again.base);
    let second = request("POST", &url, Some(&ada), &[], "").json["execution_id"].as_str().unwrap().to_string();
    wait_for_event(&again.base, &second, &ada, "output");
    again.kill_9();
    let restarted = serve(s, store);
    let shown = request("GET", &format!("{}/api/executions/{second}", restarted.base), Some(&ada), &[], "");
    assert_eq!(shown.json["status"], "interrupted", "{:#}", shown.json);
    let replayed = request("GET", &format!("{}/api/executions/{second}/events", restarted.base), Some(&ada), &[], "");
    let replayed = events(replayed.json["text"].as_str().unwrap());
    // Killed at once: what it kept of its events (nothing, unless it ran a
    // second first), then its end.
    let kinds: Vec<&str> = replayed.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert!(["step_started", "output"].starts_with(&kinds[..kinds.len() - 1]), "{replayed:?}");
    assert_eq!(replayed.last().unwrap().2, json!({ "status": "interrupted", "exit_code": Value::Null }));
}

#[test]
fn the_store_keeps_what_the_retention_says_and_children_are_shown_with_their_parent() {
    retention_and_children(&Scratch::new(), &[]);
}

/// The retention applied to the store `store` names, and a parent shown
/// with its child.
pub(crate) fn retention_and_children(s: &Scratch, store: &[&str]) {
    let serve = |flags: &[&str]| serve(s, &[store, flags].concat());
    s.write("Child.md", &runbook("Child", "", &[], &[], "```sh\necho child\n```"));
    let parent = "```js\nconst r = runbook.call('Child.md', {});\nconsole.log(r.stdout.trim());\n```";
    s.write("Parent.md", &runbook("Parent", "", &[], &[], parent));
    let ada = token("ada", json!({}));
    let server = serve(&[]);
    let mut parents = Vec::new();
    for _ in 0..3 {
        let url = format!("{}/api/runbooks/Parent.md/execute", server.base);
        let reply = request("POST", &url, Some(&ada), &[], "");
        assert_eq!(reply.json["stdout"], "child\n", "{:#}", reply.json);
        parents.push(reply.json["execution_id"].as_str().unwrap().to_string());
    }
    let shown = request("GET", &format!("{}/api/executions/{}", server.base, parents[2]), Some(&ada), &[], "").json;
    let children = shown["children"].as_array().unwrap();
    assert_eq!(children.len(), 1, "{shown:#}");
    assert_eq!((&children[0]["runbook"], &children[0]["status"]), (&json!("Child.md"), &json!("succeeded")));
    let child = children[0]["execution_id"].as_str().unwrap();
    let child_shown = request("GET", &format!("{}/api/executions/{child}", server.base), Some(&ada), &[], "").json;
    assert_eq!(child_shown["parent_execution_id"], parents[2]);
    drop(server);
    // Restarted keeping one per runbook: the newest parent and child stay.
    let server = serve(&["--retain-runs", "1"]);
    let listed = request("GET", &format!("{}/api/executions", server.base), Some(&ada), &[], "").json;
    let runbooks: Vec<&str> =
        listed["executions"].as_array().unwrap().iter().map(|e| e["runbook"].as_str().unwrap()).collect();
    assert_eq!(runbooks, ["Child.md", "Parent.md"], "{listed:#}");
    assert_eq!(listed["executions"][1]["execution_id"], parents[2]);
    let gone = request("GET", &format!("{}/api/executions/{}", server.base, parents[0]), Some(&ada), &[], "");
    assert_eq!(gone.status, 404);
    drop(server);
    // Restarted removing what started more than a second ago: nothing left.
    std::thread::sleep(Duration::from_millis(1100));
    let server = serve(&["--retain-age", "1s"]);
    let listed = request("GET", &format!("{}/api/executions", server.base), Some(&ada), &[], "").json;
    assert_eq!(listed, json!({ "executions": [] }));
}

#[test]
fn a_store_that_cannot_be_written_answers_503_and_fails_readiness_not_health() {
    let s = Scratch::new();
    slow(&s, "Quick", 0);
    let ada = token("ada", json!({}));
    let server = serve(&s, &[]);
    let ready = format!("{}/ready", server.base);
    assert_eq!(poll_status(&ready, 200), 200);
    // Another process (a backup tool, say) holds the store's write lock.
    let store = s.state.path().join("executions.db");
    let holder = "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(120)";
    let mut holder = std::process::Command::new("python3")
        .args(["-c", holder, &store.to_string_lossy()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(holder.stdout.take().unwrap()), &mut line).unwrap();
    assert_eq!(line, "locked\n");
    let url = format!("{}/api/runbooks/Quick.md/execute", server.base);
    let message = unavailable(&server.base, &url, &ada);
    assert_eq!(message, "the record store <record store>: database is locked", "named by its role, not its path");
    // The lock released: ready again, and executions run.
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(poll_status(&ready, 200), 200);
    let ran = request("POST", &url, Some(&ada), &[], "");
    assert_eq!((ran.status, &ran.json["stdout"]), (200, &json!("first\nsecond\n")), "{:#}", ran.json);
}

/// What a server whose store fails answers: 503 `StoreUnavailable` with
/// `Retry-After: 5` to a POST of `url` (its message returned), `/ready`
/// failing, `/health` not.
pub(crate) fn unavailable(base: &str, url: &str, bearer: &str) -> String {
    let refused = request("POST", url, Some(bearer), &[], "");
    assert_eq!(
        (refused.status, &refused.json["error"]["code"]),
        (503, &json!("StoreUnavailable")),
        "{:#}",
        refused.json
    );
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(poll_status(&format!("{base}/ready"), 503), 503, "readiness fails with the store");
    assert_eq!(request("GET", &format!("{base}/health"), None, &[], "").status, 200);
    refused.json["error"]["message"].as_str().unwrap().to_string()
}

/// GETs `url` until it answers `status` (or a minute passes); its last status.
pub(crate) fn poll_status(url: &str, status: u16) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = request("GET", url, None, &[], "").status;
        if got == status || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn no_step_may_mount_the_store_or_its_journal_wherever_it_is() {
    let s = Scratch::new();
    std::fs::create_dir(s.join("data")).unwrap();
    let data = s.join("data").to_string_lossy().into_owned();
    for target in ["executions.db", "executions.db-wal"] {
        let script = format!("echo forged > {data}/{target}");
        let yaml = Yaml::new("Forge").field(&format!("permissions:\n  write: [{data}]")).sh("forge", &script);
        s.write("forge.yaml", &yaml.text());
        let store = format!("{data}/executions.db");
        let run = s.runbox().args(["--store", &store, "run", "forge.yaml", "--allow-write", &data]).run();
        run.code(2).stderr_has(&format!("{data} contains runbox's record store ({store}), which no sandbox may reach"));
    }
    // The store is untouched and still answers.
    let history =
        s.runbox().args(["--store", &format!("{data}/executions.db"), "history", "--json", "forge.yaml"]).run();
    let refusals: Vec<(i64, bool)> = history
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["exit_code"].as_i64().unwrap(), e["error"].as_str().unwrap().contains("runbox's record store")))
        .collect();
    assert_eq!(refusals, [(2, true), (2, true)]);
}

#[test]
fn a_listing_reads_a_bounded_part_of_the_store_whatever_the_caller_may_see() {
    let s = Scratch::new();
    let server = serve(&s, &[]);
    // Many executions the caller may not see (their runbook needs a role),
    // newer than the one it may: rows as runbox writes them.
    let store = s.state.path().join("executions.db");
    let fill = r#"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = "INSERT INTO executions (id, runbook, name, status, by_user, correlation_id, started_ms, claims) VALUES (?, ?, ?, 'succeeded', 'ada', 'c', 0, ?)"
db.execute(row, ("01a10000-0000-7000-8000-000000000001", "Open.md", "Open", "[]"))
hidden = '[{"claim": "roles", "values": ["admin"]}]'
db.executemany(row, [("01a20000-0000-7000-8000-%012d" % n, "Guarded.md", "Guarded", hidden) for n in range(10050)])
db.commit()
"#;
    let filled = std::process::Command::new("python3").args(["-c", fill, &store.to_string_lossy()]).status().unwrap();
    assert!(filled.success());
    let ada = token("ada", json!({}));
    let first = request("GET", &format!("{}/api/executions?limit=5", server.base), Some(&ada), &[], "");
    assert_eq!(first.json["executions"], json!([]), "{:#}", first.json);
    let next = first.json["next"].as_str().expect("a next page where the scan stopped");
    assert_eq!(next, "/api/executions?limit=5&before=01a20000-0000-7000-8000-000000000050");
    let second = request("GET", &format!("{}{next}", server.base), Some(&ada), &[], "");
    let ids: Vec<&str> =
        second.json["executions"].as_array().unwrap().iter().map(|e| e["execution_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["01a10000-0000-7000-8000-000000000001"]);
    assert!(second.json.get("next").is_none(), "{:#}", second.json);
    // An admin sees the guarded ones, a page of five.
    let admin = token("root", json!({ "roles": ["admin"] }));
    let page = request("GET", &format!("{}/api/executions?limit=5", server.base), Some(&admin), &[], "").json;
    assert_eq!(page["executions"].as_array().unwrap().len(), 5);
    assert_eq!(page["executions"][0]["execution_id"], "01a20000-0000-7000-8000-000000010049");
}

#[test]
fn a_new_store_takes_the_records_of_the_log_kept_before_it() {
    let s = Scratch::new();
    counter(&s);
    // Records as an older runbox logged them: one without an execution id,
    // one refused, and a line that is not a record.
    let old = json!({
        "breadcrumb": { "at_time": "2026-11-01T10:00:00Z", "by_user": "ada", "correlation_id": "c1", "recursion_stack": ["counter.yaml"] },
        "runbook": "counter", "file": s.join("counter.yaml").to_string_lossy(), "exit_code": 0,
        "correlation_id": "c1", "stdout": "n=1\n", "stderr": "", "steps": [],
    });
    let refused = json!({
        "timestamp": "2026-11-02T10:00:01Z", "level": "error", "execution_id": "01a19bb3-9500-7000-8000-000000000002",
        "breadcrumb": { "at_time": "2026-11-02T10:00:00Z", "by_user": "bob", "correlation_id": "c2", "recursion_stack": ["counter.yaml"] },
        "runbook": "counter", "file": "counter.yaml", "exit_code": 2, "correlation_id": "c2", "stdout": "",
        "stderr": "ConfigInvalid: no\n", "error": { "code": "ConfigInvalid", "message": "no" }, "steps": [],
    });
    std::fs::write(s.log_path(), format!("{old}\nnot a record\n{refused}\n")).unwrap();
    let run = s.runbox().args(["run", "counter.yaml", "--input", "n=3"]).run();
    run.success().stderr_has("keeps the 2 records of");
    let history = s.runbox().args(["history", "counter.yaml", "--json"]).run();
    let shown: Vec<(String, i64, Option<String>)> = history
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["at"].as_str().unwrap().to_string(),
                e["exit_code"].as_i64().unwrap(),
                e["error"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        shown[..2],
        [
            ("2026-11-01T10:00:00Z".to_string(), 0, None),
            ("2026-11-02T10:00:00Z".to_string(), 2, Some("ConfigInvalid: no".to_string())),
        ]
    );
    assert_eq!(shown.len(), 3);
    // Imported once: the store is not new any more.
    let again = s.runbox().args(["run", "counter.yaml", "--input", "n=4"]).run();
    assert!(!again.success().stderr.contains("keeps the"), "{}", again.stderr);
    // The API lists them to nobody (their runbook's claims were not logged)
    // but shows them in the runbook's history.
    let server = serve(&s, &[]);
    let admin = token("root", json!({ "roles": ["admin"] }));
    let listed = request("GET", &format!("{}/api/executions?limit=10", server.base), Some(&admin), &[], "").json;
    assert_eq!(listed["executions"].as_array().unwrap().len(), 2, "only the two runs of this runbox: {listed:#}");
    let hidden = request(
        "GET",
        &format!("{}/api/executions/01a19bb3-9500-7000-8000-000000000002", server.base),
        Some(&admin),
        &[],
        "",
    );
    assert_eq!(hidden.status, 403, "{:#}", hidden.json);
    let past =
        request("GET", &format!("{}/api/runbooks/counter.yaml/history", server.base), Some(&admin), &[], "").json;
    assert_eq!(past["executions"].as_array().unwrap().len(), 4, "{past:#}");
}

#[test]
fn a_runbook_never_gets_runboxs_own_variables_from_its_environment() {
    // The store's URL (with a database password, say) set for the server:
    // a served runbook that declares it must not be handed it.
    let s = Scratch::new();
    let store = s.state.path().join("planted-secret-store.db").to_string_lossy().into_owned();
    let script = "```sh\necho \"store=$RUNBOX_STORE\"\n```";
    s.write("Leak.md", &runbook("Leak", "RUNBOX_STORE: the store", &[], &[], script));
    let ada = token("ada", json!({}));
    let server = serve_with(&s, &[], &[("RUNBOX_STORE", &store)]);
    let url = format!("{}/api/runbooks/Leak.md/execute", server.base);
    let refused = request("POST", &url, Some(&ada), &[], "");
    assert_eq!(refused.status, 400, "{:#}", refused.json);
    let message = refused.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("`RUNBOX_STORE` is runbox's own"), "{message}");
    // Given by the caller, it is the caller's value.
    let given = request("POST", &url, Some(&ada), &[], r#"{"env_vars": {"RUNBOX_STORE": "mine"}}"#);
    assert_eq!((given.status, &given.json["stdout"]), (200, &json!("store=mine\n")), "{:#}", given.json);
    drop(server);
    // The same from the command line.
    let ran = s.runbox().env("RUNBOX_STORE", &store).args(["run", "Leak.md"]).run();
    ran.code(2).stderr_has("`RUNBOX_STORE` is runbox's own");
    for text in
        [&refused.json.to_string(), &given.json.to_string(), &ran.stdout, &ran.stderr, &s.log(), &s.read("Leak.md")]
    {
        assert!(!text.contains("planted-secret-store"), "the store's location shown: {text}");
    }
}
