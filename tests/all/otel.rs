//! `runbox serve` built with the `otel` feature, exporting to a collector
//! the test serves on loopback (OTLP/HTTP, protobuf, decoded with the
//! protocol's own messages): a span per request continuing the caller's
//! `traceparent`, one per execution under it, one per step under that; no
//! step output, input or token in anything exported.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

use crate::api::{request, serve_with, token};
use crate::harness::{Scratch, http_server};

/// Each request's path and body, as a collector got them.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// What a collector on loopback was sent.
struct Collector {
    url: String,
    received: Received,
}

impl Collector {
    fn start() -> Collector {
        let received = Received::default();
        let kept = Arc::clone(&received);
        let url = http_server(move |_, target, body| {
            kept.lock().unwrap().push((target.to_string(), body.to_vec()));
            (200, "application/x-protobuf", Vec::new())
        });
        Collector { url, received }
    }

    /// Every span received so far, with its resource's service name.
    fn spans(&self) -> Vec<(String, Span)> {
        let received = self.received.lock().unwrap();
        let mut spans = Vec::new();
        for (path, body) in received.iter() {
            assert_eq!(path, "/v1/traces");
            let export = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            for resource in export.resource_spans {
                let attributes = resource.resource.map(|r| r.attributes).unwrap_or_default();
                let service = attributes.iter().find(|a| a.key == "service.name").map(|a| text(a.value.as_ref()));
                for scope in resource.scope_spans {
                    spans.extend(scope.spans.into_iter().map(|s| (service.clone().unwrap_or_default(), s)));
                }
            }
        }
        spans
    }

    /// Waits (up to 20 s) for `count` spans.
    fn wait_for(&self, count: usize) -> Vec<(String, Span)> {
        let started = Instant::now();
        loop {
            let spans = self.spans();
            if spans.len() >= count || started.elapsed() > Duration::from_secs(20) {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn bytes(&self) -> Vec<u8> {
        self.received.lock().unwrap().iter().flat_map(|(_, body)| body.clone()).collect()
    }
}

fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// A span as the test compares it: name, kind, status code and attributes
/// (ids and times compared apart).
fn shape(span: &Span) -> (String, i32, i32, BTreeMap<String, String>) {
    let attributes = span.attributes.iter().map(|a| (a.key.clone(), text(a.value.as_ref()))).collect();
    (span.name.clone(), span.kind, span.status.as_ref().map_or(0, |s| s.code), attributes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn requests_executions_and_steps_are_exported_as_one_trace() {
    let s = Scratch::new();
    s.write(
        "traced.yaml",
        "name: traced\nsteps:\n  - name: greet\n    type: shell\n    with: { inline_script: \"echo planted-output-5be1\" }\n  - name: fail\n    type: shell\n    with: { inline_script: \"exit 3\" }\n",
    );
    let collector = Collector::start();
    let server =
        serve_with(&s, &[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url), ("OTEL_BSP_SCHEDULE_DELAY", "50")]);
    let bearer = token("ada", json!({}));
    // Probes and scrapes make no span (a kubelet's every few seconds would
    // bury the traces): only the five below are exported.
    for probe in ["/health", "/ready", "/metrics"] {
        assert_eq!(request("GET", &format!("{}{probe}", server.base), Some(&bearer), &[], "").status, 200);
    }
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace}-{caller_span}-01");
    let url = format!("{}/api/runbooks/traced.yaml/execute", server.base);
    let headers = [("traceparent", traceparent.as_str()), ("X-Correlation-Id", "corr-otel-1")];
    let reply = request("POST", &url, Some(&bearer), &headers, r#"{"inputs":{}}"#);
    assert_eq!((reply.status, reply.json["return_code"].clone()), (200, json!(3)), "{:#}", reply.json);
    let execution = reply.header("x-execution-id").unwrap().to_string();
    let answered = reply.header("traceparent").unwrap().to_string();
    let request_span = answered.strip_prefix(&format!("00-{trace}-")).and_then(|t| t.strip_suffix("-01")).unwrap();
    // A request with no traceparent starts a trace of its own.
    let listed = request("GET", &format!("{}/api/runbooks", server.base), Some(&bearer), &[], "");
    let own = listed.header("traceparent").unwrap().to_string();

    let spans = collector.wait_for(5);
    let by_name = |name: &str| {
        let found: Vec<&Span> = spans.iter().filter(|(_, s)| s.name == name).map(|(_, s)| s).collect();
        assert_eq!(found.len(), 1, "{name}: {spans:#?}");
        found[0]
    };
    let post = by_name("POST /api/runbooks/{name}/execute");
    let run = by_name("execute traced.yaml");
    let greet = by_name("step greet");
    let fail = by_name("step fail");
    let list = by_name("GET /api/runbooks");
    assert_eq!(spans.len(), 5, "{spans:#?}");
    assert!(spans.iter().all(|(service, _)| service == "runbox"));

    // One trace, the caller's: the request under the caller's span, the
    // execution under the request, the steps under the execution.
    for span in [post, run, greet, fail] {
        assert_eq!(hex(&span.trace_id), trace);
    }
    assert_eq!(
        [&post.parent_span_id, &run.parent_span_id, &greet.parent_span_id, &fail.parent_span_id].map(|p| hex(p)),
        [caller_span.to_string(), hex(&post.span_id), hex(&run.span_id), hex(&run.span_id)]
    );
    assert_eq!(hex(&post.span_id), request_span);
    assert_eq!(own, format!("00-{}-{}-01", hex(&list.trace_id), hex(&list.span_id)));
    assert!(list.parent_span_id.is_empty() && hex(&list.trace_id) != trace);
    // The steps within the execution, in order; the request around it.
    assert!(run.start_time_unix_nano >= post.start_time_unix_nano && run.end_time_unix_nano <= post.end_time_unix_nano);
    assert!(
        greet.start_time_unix_nano >= run.start_time_unix_nano && greet.end_time_unix_nano <= fail.start_time_unix_nano
    );
    assert!(fail.end_time_unix_nano <= run.end_time_unix_nano);

    // Kinds: server 2, internal 1; statuses: unset 0, error 2.
    assert_eq!(
        shape(post),
        (
            "POST /api/runbooks/{name}/execute".into(),
            2,
            0,
            map(&[
                ("http.request.method", "POST"),
                ("http.route", "/api/runbooks/{name}/execute"),
                ("http.response.status_code", "200"),
                ("enduser.id", "ada"),
                ("runbox.correlation_id", "corr-otel-1"),
                ("runbox.execution_id", &execution),
            ])
        )
    );
    assert_eq!(
        shape(run),
        (
            "execute traced.yaml".into(),
            1,
            2,
            map(&[
                ("runbox.execution_id", &execution),
                ("runbox.runbook", "traced.yaml"),
                ("runbox.correlation_id", "corr-otel-1"),
                ("enduser.id", "ada"),
                ("runbox.status", "failed"),
                ("runbox.exit_code", "3"),
            ])
        )
    );
    let step = |name: &str, line: &str, code: &str, status: i32, extra: &[(&str, &str)]| {
        let mut attributes = map(&[
            ("runbox.step", name),
            ("runbox.step.type", "sh"),
            ("runbox.step.line", line),
            ("runbox.step.exit_code", code),
        ]);
        attributes.extend(map(extra));
        (format!("step {name}"), 1, status, attributes)
    };
    let mut greeted = shape(greet);
    let fuel = greeted.3.remove("runbox.step.fuel_consumed").unwrap();
    assert!(fuel.parse::<u64>().unwrap() > 0);
    assert_eq!(greeted, step("greet", "5", "0", 0, &[]));
    let mut failed = shape(fail);
    failed.3.remove("runbox.step.fuel_consumed").unwrap();
    assert_eq!(failed, step("fail", "8", "3", 2, &[("runbox.error_code", "CommandFailed")]));
    assert_eq!(
        shape(list),
        (
            "GET /api/runbooks".into(),
            2,
            0,
            map(&[
                ("http.request.method", "GET"),
                ("http.route", "/api/runbooks"),
                ("http.response.status_code", "200"),
                ("enduser.id", "ada"),
                ("runbox.correlation_id", listed.header("x-correlation-id").unwrap()),
            ])
        )
    );

    // Nothing a step printed, and no token, in anything sent.
    let sent = String::from_utf8_lossy(&collector.bytes()).into_owned();
    for planted in ["planted-output-5be1", bearer.as_str(), &bearer[bearer.len() - 20..]] {
        assert!(!sent.contains(planted), "{planted} was exported");
    }
}

/// A collector that is not there costs the server nothing it answers: the
/// executions run, and the failure is said once, not once per batch.
#[test]
fn a_collector_that_is_down_is_said_once_and_answers_go_on() {
    let s = Scratch::new();
    crate::api::hello(&s);
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve_with(
        &s,
        &[],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("http://127.0.0.1:{port}")), ("OTEL_BSP_SCHEDULE_DELAY", "20")],
    );
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    for _ in 0..5 {
        let reply = request("POST", &url, Some(&token("ada", json!({}))), &[], r#"{"env_vars":{"GREETING":"x"}}"#);
        assert_eq!((reply.status, reply.json["return_code"].clone()), (200, json!(0)), "{:#}", reply.json);
        std::thread::sleep(Duration::from_millis(100));
    }
    let stderr = server.stderr();
    assert_eq!(stderr.matches("cannot export spans").count(), 1, "{stderr}");
}

/// An endpoint the exporter cannot use stops the server, naming the
/// variable.
#[test]
fn a_bad_endpoint_stops_the_server_naming_the_variable() {
    let s = Scratch::new();
    let secret = s.state.path().join("jwt.secret");
    std::fs::write(&secret, "a-test-secret-that-is-long-enough-0123456789").unwrap();
    let run = s
        .runbox()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url at all")
        .args(["serve", "--dir", ".", "--addr", "127.0.0.1:0", "--jwt-secret-file"])
        .args([&secret])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{}", run.stderr);
}
