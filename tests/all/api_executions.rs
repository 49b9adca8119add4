//! `runbox serve`'s executions from the outside: ids, asynchronous answers,
//! reading and listing, Server-Sent Events, cancellation, and the guards on
//! each.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{hello, request, serve, token};
use crate::harness::{Scratch, runbook};

/// A runbook that prints a line, waits `seconds`, and prints another.
pub(crate) fn slow(s: &Scratch, name: &str, seconds: u32) {
    let script = format!("```sh\necho first\nsleep {seconds}\necho second\n```");
    s.write(&format!("{name}.md"), &runbook(name, "", &[], &[], &script));
}

/// GETs `url` until `done` holds of the answer (an execution that ends).
pub(crate) fn poll(url: &str, bearer: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = request("GET", url, Some(bearer), &[], "");
        if done(&reply.json) || Instant::now() > deadline {
            return reply.json;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The events of a stream's text: (id, event, data) of each.
pub(crate) fn events(text: &str) -> Vec<(u64, String, Value)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty() && !block.starts_with(':'))
        .map(|block| {
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or_default().to_string()
            };
            (field("id").parse().unwrap(), field("event"), serde_json::from_str(&field("data")).unwrap())
        })
        .collect()
}

#[test]
fn an_asynchronous_execution_is_answered_at_once_then_read_and_followed() {
    let s = Scratch::new();
    slow(&s, "Slow", 1);
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/Slow.md/execute", server.base);
    let accepted = request("POST", &url, Some(&bearer), &[("Prefer", "wait=5, respond-async")], "");
    assert_eq!(accepted.status, 202, "{:#}", accepted.json);
    let id = accepted.json["execution_id"].as_str().unwrap().to_string();
    assert_eq!(uuid_version(&id), 7, "{id}");
    let location = format!("/api/executions/{id}");
    assert_eq!(accepted.header("location"), Some(location.as_str()));
    assert_eq!(accepted.header("x-execution-id"), Some(id.as_str()));
    assert_eq!(accepted.header("preference-applied"), Some("respond-async"));
    let links = json!({ "self": location, "events": format!("{location}/events") });
    assert_eq!(accepted.json, json!({ "execution_id": id, "status": "running", "links": links }));
    // Running: its status and the steps finished so far.
    let running = request("GET", &format!("{}{location}", server.base), Some(&bearer), &[], "");
    assert_eq!((running.status, &running.json["status"]), (200, &json!("running")), "{:#}", running.json);
    assert_eq!(running.json["steps_so_far"], json!([]));
    assert!(running.json.get("report").is_none());
    // Followed while it runs, to its end.
    let followed = request("GET", &format!("{}{location}/events", server.base), Some(&bearer), &[], "");
    assert_eq!(followed.status, 200);
    assert_eq!(followed.header("content-type"), Some("text/event-stream"));
    let stream = events(followed.json["text"].as_str().unwrap());
    let shown: Vec<(u64, &str, Value)> = stream
        .iter()
        .map(|(id, kind, data)| {
            let mut data = data.clone();
            data.as_object_mut().unwrap().remove("duration_ms");
            (*id, kind.as_str(), data)
        })
        .collect();
    let step = json!({ "step": "step-1" });
    let out = |text: &str| json!({ "step": "step-1", "stream": "stdout", "text": text });
    assert_eq!(
        shown,
        [
            (1, "step_started", json!({ "step": "step-1", "type": "sh", "line": 17 })),
            (2, "output", out("first\n")),
            (3, "output", out("second\n")),
            (
                4,
                "step_finished",
                json!({ "step": "step-1", "exit_code": 0, "error": null, "stdout_truncated": false, "stderr_truncated": false })
            ),
            (5, "execution_finished", json!({ "status": "succeeded", "exit_code": 0 })),
        ],
        "{step}"
    );
    // Ended: its whole report, as the synchronous answer has it.
    let ended = request("GET", &format!("{}{location}", server.base), Some(&bearer), &[], "");
    assert_eq!(ended.json["status"], "succeeded");
    assert_eq!(ended.json["by_user"], "ada");
    assert_eq!(ended.json["report"]["execution_id"], id.as_str());
    assert_eq!(ended.json["report"]["stdout"], "first\nsecond\n");
    assert_eq!(ended.json["report"]["return_code"], 0);
    assert!(ended.json["finished_at"].as_str().unwrap() >= ended.json["started_at"].as_str().unwrap());
    // A follower that comes back resumes after the last event it saw; a
    // finished execution's events are replayed and the stream closes.
    let resumed =
        request("GET", &format!("{}{location}/events", server.base), Some(&bearer), &[("Last-Event-ID", "3")], "");
    let ids: Vec<u64> = events(resumed.json["text"].as_str().unwrap()).iter().map(|e| e.0).collect();
    assert_eq!(ids, [4, 5]);
    // An id past the end gives nothing more; one that is not a number, everything.
    for (last, expected) in [("18446744073709551615", vec![]), ("not-a-number", vec![1, 2, 3, 4, 5])] {
        let url = format!("{}{location}/events", server.base);
        let replayed = request("GET", &url, Some(&bearer), &[("Last-Event-ID", last)], "");
        let ids: Vec<u64> = events(replayed.json["text"].as_str().unwrap_or_default()).iter().map(|e| e.0).collect();
        assert_eq!(ids, expected, "{last}");
    }
    // The record in the log carries the id.
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["execution_id"], id.as_str());
    // `?wait=false` is the same as the header.
    let by_query = request("POST", &format!("{url}?wait=false"), Some(&bearer), &[], "");
    assert_eq!(by_query.status, 202, "{:#}", by_query.json);
}

/// Follows execution `id` until it tells `kind`, then hangs up.
pub(crate) fn wait_for_event(base: &str, id: &str, bearer: &str, kind: &str) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.strip_prefix("http://").unwrap()).unwrap();
    let head = format!("GET /api/executions/{id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let (mut seen, mut buffer) = (Vec::new(), [0u8; 4096]);
    while !String::from_utf8_lossy(&seen).contains(&format!("event: {kind}\n")) {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "the stream ended before {kind}: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buffer[..n]);
    }
}

fn uuid_version(id: &str) -> u32 {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    assert_eq!(hex.len(), 32, "{id}");
    hex[12..13].parse().unwrap()
}

#[test]
fn a_synchronous_answer_names_its_execution() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let ran = request("POST", &url, Some(&bearer), &[], r#"{"env_vars":{"GREETING":"x"}}"#);
    assert_eq!(ran.status, 200, "{:#}", ran.json);
    let id = ran.json["execution_id"].as_str().unwrap();
    assert_eq!(ran.header("x-execution-id"), Some(id));
    let shown = request("GET", &format!("{}/api/executions/{id}", server.base), Some(&bearer), &[], "");
    assert_eq!(shown.json["status"], "succeeded");
    assert_eq!(shown.json["report"]["stdout"], "hello x\n");
    // A refused run is an execution too.
    let refused = request("POST", &url, Some(&bearer), &[], "");
    let id = refused.json["execution_id"].as_str().unwrap();
    assert_eq!(refused.status, 400, "{:#}", refused.json);
    let shown = request("GET", &format!("{}/api/executions/{id}", server.base), Some(&bearer), &[], "");
    assert_eq!(shown.json["status"], "refused");
    assert_eq!(shown.json["report"]["error"]["code"], "ConfigInvalid");
}

/// A caller that hangs up does not end its execution, nor free its slot:
/// the run goes on to its end, holds `--max-concurrent` meanwhile, and is
/// recorded.
#[test]
fn a_caller_that_hangs_up_leaves_its_execution_running_in_its_slot() {
    use std::io::Write;
    let s = Scratch::new();
    slow(&s, "Slow", 2);
    let server = serve(&s, &["--max-concurrent", "1"]);
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let bearer = token("ada", json!({}));
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "POST /api/runbooks/Slow.md/execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(stream);
    std::thread::sleep(Duration::from_millis(200));
    let busy = request("POST", &format!("{}/api/runbooks/Slow.md/execute", server.base), Some(&bearer), &[], "");
    assert_eq!(busy.status, 503, "{:#}", busy.json);
    assert_eq!(busy.json["error"]["code"], "Busy");
    let list = format!("{}/api/executions", server.base);
    let listed = poll(&list, &bearer, |j| j["executions"][0]["status"] == "succeeded");
    assert_eq!(listed["executions"].as_array().unwrap().len(), 1, "{listed:#}");
    let id = listed["executions"][0]["execution_id"].as_str().unwrap();
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!((record["execution_id"].as_str(), &record["stdout"]), (Some(id), &json!("first\nsecond\n")));
}

#[test]
fn a_cancelled_execution_stops_at_once_and_records_who_cancelled_it() {
    let s = Scratch::new();
    slow(&s, "Slow", 30);
    let server = serve(&s, &[]);
    let (ada, bob) = (token("ada", json!({})), token("bob", json!({})));
    let url = format!("{}/api/runbooks/Slow.md/execute?wait=false", server.base);
    let mut ids = Vec::new();
    for cancel in [("DELETE", ""), ("POST", "/cancel")] {
        let id = request("POST", &url, Some(&ada), &[], "").json["execution_id"].as_str().unwrap().to_string();
        let execution = format!("{}/api/executions/{id}", server.base);
        wait_for_event(&server.base, &id, &ada, "output");
        let running = request("GET", &execution, Some(&ada), &[], "");
        assert_eq!(running.json["status"], "running");
        let started = Instant::now();
        let cancelled = request(cancel.0, &format!("{execution}{}", cancel.1), Some(&bob), &[], "");
        assert_eq!(cancelled.status, 202, "{:#}", cancelled.json);
        let ended = poll(&execution, &ada, |j| j["status"] != "running");
        assert!(started.elapsed() < Duration::from_secs(20), "the 30 s step was stopped, not waited for");
        assert_eq!(ended["status"], "cancelled", "{ended:#}");
        assert_eq!(ended["cancelled_by"], "bob");
        assert_eq!(ended["report"]["exit_code"], 130);
        assert_eq!(ended["report"]["steps"][0]["error"]["message"], "the step was cancelled by bob");
        let again = request("DELETE", &execution, Some(&bob), &[], "");
        assert_eq!((again.status, &again.json["error"]["code"]), (409, &json!("Finished")), "{:#}", again.json);
        ids.push(id);
    }
    let log = s.log();
    let records: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ended: Vec<(&str, &str, i64)> = records
        .iter()
        .map(|r| {
            (r["execution_id"].as_str().unwrap(), r["cancelled_by"].as_str().unwrap(), r["exit_code"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(ended, [(ids[0].as_str(), "bob", 130), (ids[1].as_str(), "bob", 130)]);
    assert!(s.read("Slow.md").contains("the step was cancelled by bob"));
}

#[test]
fn executions_are_listed_newest_first_filtered_and_paged() {
    let s = Scratch::new();
    hello(&s);
    s.write("Other.md", &runbook("Other", "", &[], &[], "```sh\nexit 3\n```"));
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let run = |name: &str, body: &str, correlation: &str| {
        let url = format!("{}/api/runbooks/{name}/execute", server.base);
        let reply = request("POST", &url, Some(&bearer), &[("X-Correlation-Id", correlation)], body);
        reply.json["execution_id"].as_str().unwrap().to_string()
    };
    let since = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap();
    let ids = [
        run("Hello.md", r#"{"env_vars":{"GREETING":"1"}}"#, "c-1"),
        run("Other.md", "", "c-2"),
        run("Hello.md", r#"{"env_vars":{"GREETING":"2"}}"#, "c-2"),
    ];
    let list = |query: &str| {
        let reply = request("GET", &format!("{}/api/executions{query}", server.base), Some(&bearer), &[], "");
        assert_eq!(reply.status, 200, "{query}: {:#}", reply.json);
        let found = reply.json["executions"].as_array().unwrap().iter();
        let ids: Vec<String> = found.map(|e| e["execution_id"].as_str().unwrap().to_string()).collect();
        (ids, reply.json["next"].as_str().map(str::to_string))
    };
    let [first, second, third] = ids.each_ref().map(String::as_str);
    assert_eq!(list(""), (vec![third.to_string(), second.to_string(), first.to_string()], None));
    assert_eq!(list("?runbook=Hello.md").0, [third, first]);
    assert_eq!(list("?status=failed").0, [second]);
    assert_eq!(list("?correlation_id=c-2").0, [third, second]);
    assert_eq!(list(&format!("?since={}", since.replace(':', "%3A"))).0.len(), 3);
    assert_eq!(list("?since=2999-01-01T00:00:00Z").0.len(), 0);
    // Pages of one: each names the next.
    let (page, next) = list("?limit=1&runbook=Hello.md");
    assert_eq!(page, [third]);
    let next = next.unwrap();
    assert_eq!(next, format!("/api/executions?runbook=Hello.md&limit=1&before={third}"));
    let (page, next) = list(next.strip_prefix("/api/executions").unwrap());
    assert_eq!(page, [first]);
    let (page, next) = list(next.unwrap().strip_prefix("/api/executions").unwrap());
    assert_eq!((page, next), (vec![], None));
    for (query, says) in [
        ("?status=done", "status=done: give running, succeeded"),
        ("?since=yesterday", "since=yesterday: give an RFC 3339 instant"),
        ("?limit=0", "limit=0: give 1 to 1000"),
        ("?limit=5000", "limit=5000: give 1 to 1000"),
        ("?colour=red", "unknown field `colour`"),
    ] {
        let reply = request("GET", &format!("{}/api/executions{query}", server.base), Some(&bearer), &[], "");
        assert_eq!(reply.status, 400, "{query}");
        let message = reply.json["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
    }
    let missing = request("GET", &format!("{}/api/executions/no-such-id", server.base), Some(&bearer), &[], "");
    assert_eq!((missing.status, &missing.json["error"]["code"]), (404, &json!("NotFound")));
}

/// An execution is shown, followed, listed and cancelled only to a caller
/// whose token meets its runbook's Required Claims; its secrets are masked
/// in its events as in its report.
#[test]
fn executions_are_guarded_as_their_runbooks_and_their_events_are_masked() {
    let s = Scratch::new();
    let text = runbook(
        "Guarded",
        "API_TOKEN: a secret",
        &[],
        &[],
        "```sh\necho \"using $API_TOKEN\"\nsleep 1\necho PLANTED-GUARDED-OUTPUT\n```",
    )
    .replace("# Script", "# Required Claims\n```yaml\nroles: [admin]\n```\n\n# Script");
    s.write("Guarded.md", &text);
    let server = serve(&s, &[]);
    let admin = token("root1", json!({ "roles": ["admin"] }));
    let viewer = token("viewer1", json!({ "roles": ["viewer"] }));
    let url = format!("{}/api/runbooks/Guarded.md/execute?wait=false", server.base);
    let body = r#"{"env_vars":{"API_TOKEN":"PLANTED-SECRET-4711"}}"#;
    let id = request("POST", &url, Some(&admin), &[], body).json["execution_id"].as_str().unwrap().to_string();
    let execution = format!("{}/api/executions/{id}", server.base);
    for (method, path) in [("GET", ""), ("GET", "/events"), ("DELETE", ""), ("POST", "/cancel")] {
        let reply = request(method, &format!("{execution}{path}"), Some(&viewer), &[], "");
        assert_eq!((reply.status, &reply.json["error"]["code"]), (403, &json!("Forbidden")), "{method} {path}");
        assert!(!reply.json.to_string().contains("PLANTED"), "{method} {path}: {:#}", reply.json);
    }
    let listed = request("GET", &format!("{}/api/executions", server.base), Some(&viewer), &[], "");
    assert_eq!(listed.json["executions"], json!([]));
    let followed = request("GET", &format!("{execution}/events"), Some(&admin), &[], "");
    let text = followed.json["text"].as_str().unwrap();
    assert!(text.contains("using ***\\n") && text.contains("PLANTED-GUARDED-OUTPUT"), "{text}");
    assert!(!text.contains("PLANTED-SECRET"), "{text}");
    let shown = request("GET", &execution, Some(&admin), &[], "");
    assert!(!shown.json.to_string().contains("PLANTED-SECRET"), "{:#}", shown.json);
    assert_eq!(shown.json["status"], "succeeded");
    let listed = request("GET", &format!("{}/api/executions", server.base), Some(&admin), &[], "");
    assert_eq!(listed.json["executions"][0]["execution_id"], id.as_str());
}

/// Shutting down interrupts asynchronous executions too: each ends
/// recorded as interrupted before the server exits.
#[test]
fn sigterm_interrupts_asynchronous_executions_and_records_them() {
    let s = Scratch::new();
    slow(&s, "Slow", 30);
    let mut server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/Slow.md/execute?wait=false", server.base);
    let id = request("POST", &url, Some(&bearer), &[], "").json["execution_id"].as_str().unwrap().to_string();
    wait_for_event(&server.base, &id, &bearer, "output");
    let started = Instant::now();
    server.terminate();
    assert!(started.elapsed() < Duration::from_secs(20));
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["execution_id"], id.as_str());
    assert_eq!(record["exit_code"], 143, "{record:#}");
    assert!(record.get("cancelled_by").is_none());
}

#[test]
fn the_api_answers_as_a_client_expects() {
    let s = Scratch::new();
    hello(&s);
    s.write("disk.yaml", "id: disk-check\nname: Disk check\nsteps:\n  - name: show\n    type: sh\n    with:\n      inline_script: echo disk ok\n");
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    // A YAML runbook by its id, as by its file name.
    for name in ["disk-check", "disk.yaml"] {
        let ran = request("POST", &format!("{}/api/runbooks/{name}/execute", server.base), Some(&bearer), &[], "");
        assert_eq!((ran.status, &ran.json["stdout"]), (200, &json!("disk ok\n")), "{name}: {:#}", ran.json);
        let shown = request("GET", &format!("{}/api/runbooks/{name}", server.base), Some(&bearer), &[], "");
        assert_eq!(shown.json["name"], "disk.yaml");
    }
    let unknown = request("POST", &format!("{}/api/runbooks/disk-chek/execute", server.base), Some(&bearer), &[], "");
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.json["error"]["message"],
        "`disk-chek` is neither a runbook's file name (.md, .yaml, .yml) nor a YAML runbook's id"
    );
    // A step to approve that the runbook does not have.
    let approve = request(
        "POST",
        &format!("{}/api/runbooks/disk.yaml/execute", server.base),
        Some(&bearer),
        &[],
        r#"{"approve":["sho"]}"#,
    );
    assert_eq!(approve.status, 400);
    assert_eq!(approve.json["error"]["message"], "\"approve\": disk.yaml has no step named `sho` (its steps: show)");
    // Unknown routes and methods answer the error body.
    let nowhere = request("GET", &format!("{}/api/nowhere", server.base), Some(&bearer), &[], "");
    assert_eq!(
        (nowhere.status, nowhere.json),
        (404, json!({ "error": { "code": "NotFound", "message": "no route /api/nowhere (see /openapi.json)" } }))
    );
    let put = request("PUT", &format!("{}/api/runbooks/Hello.md/execute", server.base), Some(&bearer), &[], "");
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("POST"));
    assert_eq!(
        put.json["error"]["message"],
        "PUT is not allowed on /api/runbooks/Hello.md/execute (see Allow and /openapi.json)"
    );
}

/// A client that asks for a large answer and never reads it cannot hold the
/// server past its shutdown: connections get a bounded time to drain.
#[test]
fn a_client_that_never_reads_cannot_hold_the_server_at_shutdown() {
    use std::io::Write;
    let s = Scratch::new();
    let script = "```sh\nyes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | head -c 8000000\n```";
    s.write("Loud.md", &runbook("Loud", "", &[], &[], script));
    let mut server = serve(&s, &["--max-output", "16MiB"]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/Loud.md/execute?wait=false", server.base);
    let id = request("POST", &url, Some(&bearer), &[], "").json["execution_id"].as_str().unwrap().to_string();
    let listed =
        poll(&format!("{}/api/executions", server.base), &bearer, |j| j["executions"][0]["status"] != "running");
    assert_eq!(listed["executions"][0]["status"], "succeeded", "{listed:#}");
    let mut stalled = Vec::new();
    for path in [format!("/api/executions/{id}"), format!("/api/executions/{id}/events")] {
        let mut stream = std::net::TcpStream::connect(server.base.strip_prefix("http://").unwrap()).unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stalled.push(stream);
    }
    std::thread::sleep(Duration::from_millis(1000));
    let started = Instant::now();
    server.terminate();
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    drop(stalled);
}

/// A step that streams more than an execution's event log keeps: its
/// followers get 16 MiB of output, one notice saying the rest is left to the
/// report, then the step's and the execution's ends.
#[test]
fn an_execution_streams_at_most_its_event_logs_output() {
    use std::io::{Read, Write};
    let s = Scratch::new();
    let script = "```sh\nyes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | head -c 20000000\n```";
    s.write("Flood.md", &runbook("Flood", "", &[], &[], script));
    let server = serve(&s, &["--max-output", "32MiB"]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/Flood.md/execute?wait=false", server.base);
    let id = request("POST", &url, Some(&bearer), &[], "").json["execution_id"].as_str().unwrap().to_string();
    let mut stream = std::net::TcpStream::connect(server.base.strip_prefix("http://").unwrap()).unwrap();
    let head = format!(
        "GET /api/executions/{id}/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {bearer}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer);
    let kinds: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    let outputs = kinds.iter().filter(|k| **k == "output").count();
    let after: Vec<&str> = kinds.iter().copied().filter(|k| *k != "output").collect();
    assert_eq!(after, ["step_started", "notice", "step_finished", "execution_finished"], "{outputs} outputs");
    assert!(text.contains("output past 16777216 bytes is not streamed; the report has what the run kept"));
    // The log's JSON of 16 MiB of output, and no more.
    assert!(answer.len() > 16_000_000 && answer.len() < 18_500_000, "{} bytes", answer.len());
}
