//! `runbox serve` as an operator sees it: `/metrics`, `/ready`, a log line
//! per request, and the correlation id and trace every answer carries.

use serde_json::{Value, json};

use crate::api::{hello, request, serve, token};
use crate::harness::{Scratch, runbook};

/// The value of the series `name` with exactly `labels`, if it is there.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() { name.to_string() } else { format!("{name}{{{labels}}}") };
    text.lines().find_map(|l| l.strip_prefix(&format!("{series} "))).map(|v| v.trim().parse().unwrap())
}

#[test]
fn metrics_count_executions_requests_and_refused_tokens() {
    let s = Scratch::new();
    hello(&s);
    s.write("Fails.md", &runbook("Fails", "", &[], &[], "```sh\nexit 3\n```"));
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let execute = |name: &str, body: &str| {
        request("POST", &format!("{}/api/runbooks/{name}/execute", server.base), Some(&bearer), &[], body).status
    };
    assert_eq!(execute("Hello.md", r#"{"env_vars":{"GREETING":"a"}}"#), 200);
    assert_eq!(execute("Hello.md", r#"{"env_vars":{"GREETING":"b"}}"#), 200);
    assert_eq!(execute("Fails.md", ""), 200);
    assert_eq!(execute("Hello.md", ""), 400);
    let url = format!("{}/api/runbooks", server.base);
    assert_eq!(request("GET", &url, None, &[], "").status, 401);
    assert_eq!(request("GET", &url, Some("not-a-token"), &[], "").status, 401);
    let metrics = request("GET", &format!("{}/metrics", server.base), None, &[], "");
    assert_eq!(metrics.status, 200);
    let text = metrics.json["text"].as_str().unwrap();
    let counted = |labels: &str| sample(text, "runbox_executions_total", labels);
    assert_eq!(counted(r#"runbook="Hello.md",status="succeeded""#), Some(2.0), "{text}");
    assert_eq!(counted(r#"runbook="Fails.md",status="failed""#), Some(1.0), "{text}");
    assert_eq!(counted(r#"runbook="Hello.md",status="refused""#), Some(1.0), "{text}");
    assert_eq!(sample(text, "runbox_executions_in_flight", ""), Some(0.0), "{text}");
    assert_eq!(sample(text, "runbox_execution_duration_seconds_count", r#"runbook="Hello.md""#), Some(3.0));
    assert_eq!(sample(text, "runbox_step_duration_seconds_count", r#"type="sh""#), Some(3.0), "{text}");
    assert!(sample(text, "runbox_fuel_consumed_total", r#"runbook="Hello.md""#).unwrap() > 0.0);
    let route = |status: &str| {
        let labels = format!(r#"method="POST",route="/api/runbooks/{{name}}/execute",status="{status}""#);
        sample(text, "runbox_http_requests_total", &labels)
    };
    assert_eq!((route("200"), route("400")), (Some(3.0), Some(1.0)), "{text}");
    assert_eq!(sample(text, "runbox_auth_failures_total", r#"reason="missing""#), Some(1.0));
    assert_eq!(sample(text, "runbox_auth_failures_total", r#"reason="invalid""#), Some(1.0));
    // Labels are the server's own: no caller's path or method makes a series.
    request("GET", &format!("{}/api/no/such/route-PLANTED", server.base), Some(&bearer), &[], "");
    {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(server.base.strip_prefix("http://").unwrap()).unwrap();
        let head = format!(
            "BREW /api/runbooks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {bearer}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    }
    let text =
        request("GET", &format!("{}/metrics", server.base), None, &[], "").json["text"].as_str().unwrap().to_string();
    assert!(!text.contains("PLANTED") && !text.contains("BREW"), "{text}");
    assert!(text.contains(r#"route="unmatched""#) && text.contains(r#"method="other""#), "{text}");
}

#[test]
fn every_request_has_a_log_line_and_its_correlation_id_echoed() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let given =
        request("POST", &url, Some(&bearer), &[("X-Correlation-Id", "corr-ops-1")], r#"{"env_vars":{"GREETING":"x"}}"#);
    let header = |reply: &crate::api::Reply, name: &str| reply.header(name).unwrap_or_default().to_string();
    assert_eq!(header(&given, "x-correlation-id"), "corr-ops-1");
    // A new id is made when none is given, and it is the one the run records.
    let made = request("POST", &url, Some(&bearer), &[], r#"{"env_vars":{"GREETING":"y"}}"#);
    assert_eq!(header(&made, "x-correlation-id"), made.json["correlation_id"].as_str().unwrap());
    // A W3C trace is continued: its trace id, a span of the server's.
    let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let traced = request("GET", &format!("{}/health", server.base), None, &[("traceparent", trace)], "");
    let answered = header(&traced, "traceparent");
    assert!(answered.starts_with("00-0af7651916cd43dd8448eb211c80319c-") && answered.ends_with("-01"), "{answered}");
    assert_ne!(answered, trace);
    assert_eq!(header(&traced, "x-correlation-id"), "0af7651916cd43dd8448eb211c80319c");
    let unauthorised =
        request("GET", &format!("{}/api/runbooks", server.base), None, &[("X-Correlation-Id", "corr-ops-2")], "");
    assert_eq!(header(&unauthorised, "x-correlation-id"), "corr-ops-2");
    // One JSON line per request, in order.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.stderr().lines().count() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let lines: Vec<Value> = server.stderr().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let shown: Vec<(String, String, u64, Option<String>, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!((l["level"].as_str(), l["message"].as_str()), (Some("info"), Some("request")), "{l}");
            assert!(l["time"].as_str().unwrap().ends_with('Z') && l["duration_ms"].as_f64().unwrap() >= 0.0, "{l}");
            (
                l["method"].as_str().unwrap().to_string(),
                l["route"].as_str().unwrap().to_string(),
                l["status"].as_u64().unwrap(),
                l["caller"].as_str().map(str::to_string),
                l["correlation_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let execute = "/api/runbooks/{name}/execute".to_string();
    let made_id = made.json["correlation_id"].as_str().unwrap().to_string();
    assert_eq!(
        shown,
        [
            ("POST".into(), execute.clone(), 200, Some("ada".into()), "corr-ops-1".into()),
            ("POST".into(), execute, 200, Some("ada".into()), made_id),
            ("GET".into(), "/health".into(), 200, None, "0af7651916cd43dd8448eb211c80319c".into()),
            ("GET".into(), "/api/runbooks".into(), 401, None, "corr-ops-2".into()),
        ]
    );
    assert!(!server.stderr().contains(&bearer), "no token in the log");
}

#[test]
fn ready_says_when_the_sandboxes_are_compiled() {
    let s = Scratch::new();
    let server = serve(&s, &[]);
    let url = format!("{}/ready", server.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut reply = request("GET", &url, None, &[], "");
    while reply.status == 503 && std::time::Instant::now() < deadline {
        assert_eq!(reply.json, json!({ "status": "preparing the sandboxes" }));
        std::thread::sleep(std::time::Duration::from_millis(100));
        reply = request("GET", &url, None, &[], "");
    }
    assert_eq!((reply.status, reply.json), (200, json!({ "status": "ready" })));
}
