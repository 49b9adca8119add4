//! `runbox serve` from the outside: tokens
//! signed here, requests over loopback, History and the log read back.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::harness::{Scratch, history_headings, runbook};

const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

/// A server over `s`'s folder, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    /// What it wrote to stderr after its first line, as it writes it (read
    /// on a thread: a server whose pipe fills would stop answering).
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Its stderr so far, after the line naming its address.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGKILL, as the OOM killer or a node's loss would, and waits.
    pub(crate) fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends `signal` (SIGSTOP freezes it, SIGCONT thaws it).
    pub(crate) fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// SIGTERM, then waits for it to exit, which it must do with 0.
    pub(crate) fn terminate(&mut self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
}

pub(crate) fn serve(s: &Scratch, extra: &[&str]) -> Server {
    serve_with(s, extra, &[])
}

/// The same, with variables of its own.
pub(crate) fn serve_with(s: &Scratch, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let secret = s.state.path().join("jwt.secret");
    std::fs::write(&secret, SECRET).unwrap();
    let secret = secret.to_string_lossy();
    serve_keyed(s, &[&["--jwt-secret-file", &secret], extra].concat(), env)
}

/// A server over `s`'s folder checking tokens as `keys` (flags) say.
pub(crate) fn serve_keyed(s: &Scratch, keys: &[&str], env: &[(&str, &str)]) -> Server {
    let mut runbox = s.runbox();
    for (name, value) in env {
        runbox = runbox.env(name, value);
    }
    let mut child = runbox.args(["serve", "--dir", ".", "--addr", "127.0.0.1:0"]).args(keys).spawn();
    let mut line = String::new();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    reader.read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("runbox: serving on ").unwrap_or_else(|| panic!("no address: {line:?}"));
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let written = std::sync::Arc::clone(&stderr);
    std::thread::spawn(move || {
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            written.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    Server { base: base.to_string(), child, stderr }
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A token for `sub` with `claims`, signed with `key` by `algorithm`.
fn token_with(claims: Value, key: &EncodingKey, algorithm: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), &claims, key).unwrap()
}

pub(crate) fn token(sub: &str, extra: Value) -> String {
    let mut claims = json!({ "sub": sub, "exp": now() + 600 });
    claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    token_with(claims, &EncodingKey::from_secret(SECRET.as_bytes()), Algorithm::HS256)
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) json: Value,
}

impl Reply {
    /// The value of the header `name` (lowercase), if it was sent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub(crate) fn request(method: &str, url: &str, token: Option<&str>, headers: &[(&str, &str)], body: &str) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = agent.run(builder.body(body.as_bytes().to_vec()).unwrap()).unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = response.into_body().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text }));
    Reply { status, headers, json }
}

pub(crate) fn hello(s: &Scratch) {
    s.write("Hello.md", &runbook("Hello", "GREETING: who", &[], &[], "```sh\necho \"hello $GREETING\"\n```"));
}

/// A step recursing as deep as it can, on the baseline code a fresh server
/// runs first, ends in its own error; the server (whose request threads
/// have small stacks) answers the next request.
#[test]
fn a_deep_recursion_fails_its_execution_not_the_server() {
    let s = Scratch::new();
    let step = "```javascript\nJSON.parse('['.repeat(200000))\n```";
    s.write("Deep.md", &runbook("Deep", "", &[], &[], step));
    let fresh = s.state.path().join("fresh-cache");
    let server = serve_with(&s, &[], &[("RUNBOX_CACHE_DIR", &fresh.to_string_lossy())]);
    let url = format!("{}/api/runbooks/Deep.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("ada", json!({}))), &[], "{}");
    assert_eq!(reply.json["return_code"], 1, "{:#}", reply.json);
    assert!(
        reply.json["stderr"].as_str().unwrap().contains("RangeError: Maximum call stack size exceeded"),
        "{:#}",
        reply.json
    );
    let health = request("GET", &format!("{}/health", server.base), None, &[], "");
    assert_eq!((health.status, health.json), (200, json!({ "status": "ok" })));
}

#[test]
fn an_execution_runs_the_runbook_and_answers_its_report() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let reply = request(
        "POST",
        &url,
        Some(&token("ada", json!({}))),
        &[("X-Correlation-Id", "corr-api-1")],
        r#"{"env_vars": {"GREETING": "api"}}"#,
    );
    assert_eq!(reply.status, 200, "{:#}", reply.json);
    assert_eq!(reply.json["return_code"], 0);
    assert_eq!(reply.json["stdout"], "hello api\n");
    assert_eq!(reply.json["correlation_id"], "corr-api-1");
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["breadcrumb"]["by_user"], "ada");
    assert_eq!(record["breadcrumb"]["from_ip"], "127.0.0.1");
    assert_eq!(record["breadcrumb"]["correlation_id"], "corr-api-1");
    assert_eq!(record["breadcrumb"]["recursion_stack"], json!(["Hello.md"]));
    assert_eq!(history_headings(&s.read("Hello.md")).len(), 1);
    let health = request("GET", &format!("{}/health", server.base), None, &[], "");
    assert_eq!((health.status, health.json), (200, json!({ "status": "ok" })));
}

#[test]
fn without_a_valid_token_every_route_but_health_is_401() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let other = EncodingKey::from_secret(b"another-secret-another-secret-another-secret");
    let expired = token_with(
        json!({ "sub": "ada", "exp": now() - 3600 }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    );
    let not_yet = token_with(
        json!({ "sub": "ada", "exp": now() + 7200, "nbf": now() + 3600 }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    );
    let forged = token_with(json!({ "sub": "ada", "exp": now() + 600 }), &other, Algorithm::HS256);
    let no_exp = token_with(json!({ "sub": "ada" }), &EncodingKey::from_secret(SECRET.as_bytes()), Algorithm::HS256);
    let hs512 = token_with(
        json!({ "sub": "ada", "exp": now() + 600 }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS512,
    );
    // alg: none, hand-made: header {"alg":"none"}, no signature.
    let none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        base64_url(&json!({ "sub": "ada", "exp": now() + 600 }).to_string())
    );
    let tokens = [
        None,
        Some("garbage"),
        Some(expired.as_str()),
        Some(not_yet.as_str()),
        Some(forged.as_str()),
        Some(no_exp.as_str()),
        Some(hs512.as_str()),
        Some(none.as_str()),
    ];
    for (i, token) in tokens.iter().enumerate() {
        for (method, path) in
            [("GET", "/api/runbooks"), ("GET", "/api/runbooks/Hello.md"), ("POST", "/api/runbooks/Hello.md/execute")]
        {
            let reply = request(method, &format!("{}{path}", server.base), *token, &[], "");
            assert_eq!(reply.status, 401, "token {i} on {path}: {:#}", reply.json);
            assert_eq!(reply.json["error"]["code"], "Unauthorized", "a JSON error body: {:#}", reply.json);
        }
    }
    assert!(!s.read("Hello.md").contains("### "), "nothing ran");
}

fn base64_url(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn required_claims_refuse_with_403_and_the_refusal_goes_to_history() {
    let s = Scratch::new();
    let text = runbook("Guarded", "", &[], &[], "```sh\necho ran\n```")
        .replace("# Script", "# Required Claims\n```yaml\nroles: [developer, admin]\n```\n\n# Script");
    s.write("Guarded.md", &text);
    let server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Guarded.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("viewer123", json!({ "roles": ["viewer"] }))), &[], "");
    assert_eq!(reply.status, 403, "{:#}", reply.json);
    let message = "RBAC Failure: Access denied for user viewer123. Missing required role: developer or admin";
    assert_eq!(reply.json["error"]["message"], message);
    let history = s.read("Guarded.md");
    assert_eq!(history_headings(&history).len(), 1);
    assert!(history_headings(&history)[0].ends_with("| Exit Code: 403"), "{history}");
    assert!(history.contains(message), "{history}");
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(
        (record["exit_code"].clone(), record["breadcrumb"]["by_user"].clone()),
        (json!(403), json!("viewer123"))
    );
    // One matching value of each claim is enough; a string claim counts.
    let reply = request("POST", &url, Some(&token("dev1", json!({ "roles": "admin" }))), &[], "");
    assert_eq!((reply.status, reply.json["stdout"].clone()), (200, json!("ran\n")), "{:#}", reply.json);
}

#[test]
fn names_that_are_not_runbooks_in_the_folder_are_refused() {
    let s = Scratch::new();
    hello(&s);
    s.write("notes.txt", "not a runbook");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("Out.md"), runbook("Out", "", &[], &[], "```sh\necho PLANTED-OUT\n```"))
        .unwrap();
    std::os::unix::fs::symlink(outside.path().join("Out.md"), s.join("Link.md")).unwrap();
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    for (name, status) in [
        ("..%2FHello.md", 400),
        ("%2e%2e%2fHello.md", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("notes.txt", 400),
        ("registry.yaml", 400),
        (".hidden.md", 400),
        ("Link.md", 400),
        ("Missing.md", 404),
    ] {
        let reply = request("POST", &format!("{}/api/runbooks/{name}/execute", server.base), Some(&bearer), &[], "");
        assert_eq!(reply.status, status, "{name}: {:#}", reply.json);
        assert!(!reply.json.to_string().contains("PLANTED"), "{name}");
    }
}

#[test]
fn recursion_through_the_header_is_refused_with_400() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let bearer = token("ada", json!({}));
    let reply = request("POST", &url, Some(&bearer), &[("X-Recursion-Stack", r#"["Parent.md","Hello.md"]"#)], "");
    assert_eq!(reply.status, 400, "{:#}", reply.json);
    assert_eq!(reply.json["error"]["code"], "RecursionDetected");
    // An invalid header starts a new chain.
    let reply =
        request("POST", &url, Some(&bearer), &[("X-Recursion-Stack", "not json")], r#"{"env_vars":{"GREETING":"x"}}"#);
    assert_eq!(reply.status, 200, "{:#}", reply.json);
    // W3C traceparent gives the correlation id when there is no X-Correlation-Id.
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let reply = request("POST", &url, Some(&bearer), &[("traceparent", trace)], r#"{"env_vars":{"GREETING":"x"}}"#);
    assert_eq!(reply.json["correlation_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[test]
fn a_token_never_reaches_guests_responses_history_or_the_log() {
    let s = Scratch::new();
    let script = "```sh\nenv\necho \"$RUNBOOK_CORRELATION_ID\"\n```";
    s.write("Env.md", &runbook("Env", "", &[], &[], script));
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({ "planted": "PLANTED-TOKEN-CLAIM" }));
    let url = format!("{}/api/runbooks/Env.md/execute", server.base);
    let reply = request("POST", &url, Some(&bearer), &[], "");
    assert_eq!(reply.status, 200, "{:#}", reply.json);
    let signature = bearer.rsplit('.').next().unwrap();
    for (what, text) in [("response", reply.json.to_string()), ("history", s.read("Env.md")), ("log", s.log())] {
        assert!(!text.contains(signature) && !text.contains("PLANTED-TOKEN-CLAIM"), "the token reached the {what}");
    }
}

#[test]
fn bodies_too_large_or_malformed_are_refused() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let bearer = token("ada", json!({}));
    // Announced larger than the cap: refused before the body is read.
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/runbooks/Hello.md/execute HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
        2 << 20
    );
    std::io::Write::write_all(&mut stream, head.as_bytes()).unwrap();
    let mut status = String::new();
    BufReader::new(&stream).read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let reply = request("POST", &url, Some(&bearer), &[], r#"{"env_vars": 3}"#);
    assert_eq!((reply.status, reply.json["error"]["code"].clone()), (400, json!("ConfigInvalid")));
    let reply = request("POST", &url, Some(&bearer), &[], r#"{"unknown": 1}"#);
    assert_eq!(reply.status, 400, "{:#}", reply.json);
}

#[test]
fn grants_are_the_servers_and_approvals_need_an_approver_role() {
    let s = Scratch::new();
    let yaml = "name: gated\nsteps:\n  - name: deploy\n    type: sh\n    approval_required: true\n    approvers: [sre-leads]\n    with: { inline_script: echo deployed }\n";
    s.write("gated.yaml", yaml);
    s.write("Abs.md", &runbook("Abs", "", &["/etc/hostname"], &[], "```sh\ncat /etc/hostname\n```"));
    let server = serve(&s, &[]);
    let url = |name: &str| format!("{}/api/runbooks/{name}/execute", server.base);
    let body = r#"{"approve": ["deploy"]}"#;
    let reply = request("POST", &url("gated.yaml"), Some(&token("dev", json!({ "roles": ["dev"] }))), &[], body);
    // Certain to be refused (the token holds no approver role): refused
    // before any step runs, as a run refused before its steps is.
    assert_eq!((reply.status, reply.json["return_code"].clone()), (400, json!(77)), "{:#}", reply.json);
    assert_eq!(reply.json["error"]["code"], "ApprovalRequired");
    assert_eq!(reply.json["steps"], json!([]));
    let reply =
        request("POST", &url("gated.yaml"), Some(&token("lead", json!({ "groups": ["sre-leads"] }))), &[], body);
    assert_eq!((reply.status, reply.json["stdout"].clone()), (200, json!("deployed\n")), "{:#}", reply.json);
    // An absolute path needs the operator's grant; a request cannot give it.
    let reply = request("POST", &url("Abs.md"), Some(&token("ada", json!({}))), &[], "");
    assert_eq!(
        (reply.status, reply.json["error"]["code"].clone()),
        (403, json!("PermissionDenied")),
        "{:#}",
        reply.json
    );
}

#[test]
fn list_get_history_and_validate() {
    let s = Scratch::new();
    hello(&s);
    s.write("check.yaml", "name: check\ninputs:\n  n: { type: int }\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: echo }\n");
    // Not named by a file name in the folder: not listed.
    s.write("sub/Deep.md", &runbook("Deep", "", &[], &[], "```sh\necho deep\n```"));
    let server = serve(&s, &[]);
    let bearer = token("ada", json!({}));
    let list = request("GET", &format!("{}/api/runbooks", server.base), Some(&bearer), &[], "");
    let names: Vec<&str> =
        list.json["runbooks"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Hello.md", "check.yaml"]);
    let one = request("GET", &format!("{}/api/runbooks/check.yaml", server.base), Some(&bearer), &[], "");
    assert_eq!(one.json["inputs"][0]["type"], "int");
    let url = format!("{}/api/runbooks/check.yaml/validate", server.base);
    let ok = request("POST", &url, Some(&bearer), &[], r#"{"inputs": {"n": "3"}}"#);
    assert_eq!((ok.status, ok.json["valid"].clone()), (200, json!(true)), "{:#}", ok.json);
    let bad = request("POST", &url, Some(&bearer), &[], r#"{"inputs": {"n": "three"}}"#);
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json["problems"],
        json!(["check.yaml:3: input `n`: expected an int, got `three`"]),
        "{:#}",
        bad.json
    );
    request(
        "POST",
        &format!("{}/api/runbooks/Hello.md/execute", server.base),
        Some(&bearer),
        &[],
        r#"{"env_vars":{"GREETING":"h"}}"#,
    );
    let history = request("GET", &format!("{}/api/runbooks/Hello.md/history", server.base), Some(&bearer), &[], "");
    assert_eq!(history.json["executions"][0]["stdout"], "hello h\n", "{:#}", history.json);
}

#[test]
fn executions_beyond_the_limit_are_told_to_retry() {
    let s = Scratch::new();
    s.write("Slow.md", &runbook("Slow", "", &[], &[], "```sh\nsleep 2\necho done\n```"));
    let server = serve(&s, &["--max-concurrent", "1"]);
    let url = format!("{}/api/runbooks/Slow.md/execute", server.base);
    let bearer = token("ada", json!({}));
    let (first_url, first_token) = (url.clone(), bearer.clone());
    let first = std::thread::spawn(move || request("POST", &first_url, Some(&first_token), &[], ""));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let busy = request("POST", &url, Some(&bearer), &[], "");
    assert_eq!(busy.status, 503, "{:#}", busy.json);
    assert!(busy.headers.iter().any(|(k, v)| k == "retry-after" && v == "1"));
    // Reading and validating run nothing: they are answered while the slot is taken.
    let list = request("GET", &format!("{}/api/runbooks", server.base), Some(&bearer), &[], "");
    let validated = request("POST", &format!("{}/api/runbooks/Slow.md/validate", server.base), Some(&bearer), &[], "");
    let shown = request("GET", &format!("{}/api/runbooks/Slow.md", server.base), Some(&bearer), &[], "");
    assert_eq!((list.status, validated.status, shown.status), (200, 200, 200), "{:#}", validated.json);
    assert_eq!(first.join().unwrap().json["stdout"], "done\n");
}

/// A client that never finishes a request head (slowloris), or opens a
/// connection and sends nothing, or keeps one alive without a next request,
/// loses it after `--header-timeout`; the server goes on answering.
#[test]
fn connections_that_send_no_request_head_are_closed() {
    use std::io::{Read, Write};
    let s = Scratch::new();
    let server = serve(&s, &["--header-timeout", "300ms"]);
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let mut closed = Vec::new();
    for sent in ["", "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"] {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.write_all(sent.as_bytes()).unwrap();
        // Long enough for any machine; the server closes at 300 ms.
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let mut answer = String::new();
        let read = stream.read_to_string(&mut answer);
        closed.push((read.is_ok(), answer.starts_with("HTTP/1.1 200 OK") || answer.is_empty()));
    }
    assert_eq!(closed, [(true, true); 3], "each connection ends with EOF, not the client's timeout");
    let health = request("GET", &format!("{}/health", server.base), None, &[], "");
    assert_eq!(health.status, 200);
}

#[test]
fn fifty_concurrent_executions_leave_fifty_records_and_a_whole_history() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &["--max-concurrent", "50", "--history-keep", "100"]);
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let bearer = token("ada", json!({}));
    let runs: Vec<_> = (0..50)
        .map(|i| {
            let (url, bearer) = (url.clone(), bearer.clone());
            std::thread::spawn(move || {
                request("POST", &url, Some(&bearer), &[], &format!(r#"{{"env_vars":{{"GREETING":"n{i}"}}}}"#))
            })
        })
        .collect();
    for run in runs {
        let reply = run.join().unwrap();
        assert_eq!(reply.status, 200, "{:#}", reply.json);
    }
    assert_eq!(s.log().lines().count(), 50);
    let text = s.read("Hello.md");
    assert_eq!(history_headings(&text).len(), 50);
    for i in 0..50 {
        assert!(text.contains(&format!("hello n{i}\n")), "entry {i} is in History");
    }
}

/// A key pair made by openssl: (private PEM, public PEM).
pub(crate) fn key_pair(kind: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    let made = std::process::Command::new("openssl").args(kind).arg("-out").arg(&private).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let made = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    (std::fs::read(private).unwrap(), std::fs::read(public).unwrap())
}

#[test]
fn public_keys_pin_their_algorithm() {
    let rsa = key_pair(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let ec = key_pair(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    for (public, algorithm, key) in [
        (&rsa.1, Algorithm::RS256, EncodingKey::from_rsa_pem(&rsa.0).unwrap()),
        (&ec.1, Algorithm::ES256, EncodingKey::from_ec_pem(&ec.0).unwrap()),
    ] {
        let s = Scratch::new();
        hello(&s);
        let public_file = s.state.path().join("public.pem");
        std::fs::write(&public_file, public).unwrap();
        let mut child = s
            .runbox()
            .args(["serve", "--dir", ".", "--addr", "127.0.0.1:0", "--jwt-public-key", &public_file.to_string_lossy()])
            .spawn();
        let mut line = String::new();
        BufReader::new(child.stderr.as_mut().unwrap()).read_line(&mut line).unwrap();
        let server = Server {
            base: line.trim().trim_start_matches("runbox: serving on ").to_string(),
            child,
            stderr: Default::default(),
        };
        let url = format!("{}/api/runbooks", server.base);
        let claims = json!({ "sub": "ada", "exp": now() + 600 });
        let good = token_with(claims.clone(), &key, algorithm);
        assert_eq!(request("GET", &url, Some(&good), &[], "").status, 200, "{algorithm:?}");
        // HS/RS confusion: the public key used as an HMAC secret.
        let confused = token_with(claims.clone(), &EncodingKey::from_secret(public), Algorithm::HS256);
        assert_eq!(request("GET", &url, Some(&confused), &[], "").status, 401, "{algorithm:?}");
    }
}

#[test]
fn sigterm_lets_running_executions_end_recorded_and_the_server_exits() {
    let s = Scratch::new();
    s.write("Slow.md", &runbook("Slow", "", &[], &[], "```sh\necho started\nsleep 100\n```"));
    let mut server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Slow.md/execute", server.base);
    let bearer = token("ada", json!({}));
    let running = std::thread::spawn(move || request("POST", &url, Some(&bearer), &[], ""));
    std::thread::sleep(std::time::Duration::from_millis(700));
    let sent =
        std::process::Command::new("kill").args(["-s", "TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let reply = running.join().unwrap();
    assert_eq!(reply.json["steps"][0]["error"]["code"], "Interrupted", "{:#}", reply.json);
    assert_eq!(reply.json["return_code"], 143);
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(history_headings(&s.read("Slow.md"))[0].ends_with("| Exit Code: 143"));
}

/// README, every `--help` and the OpenAPI document stand on their own: they
/// cite no document the repository does not hold (a specification section,
/// a seed document).
#[test]
fn no_document_outside_the_repository_is_cited() {
    let s = Scratch::new();
    let readme = std::fs::read_to_string(crate::harness::repo().join("README.md")).unwrap();
    let mut texts = vec![("README.md".to_string(), readme)];
    texts.push(("runbox --help".to_string(), s.runbox().args(["--help"]).run().stdout));
    for command in ["run", "validate", "list", "allow", "revoke", "history", "serve", "js", "sh", "prepare"] {
        texts.push((format!("runbox {command} --help"), s.runbox().args([command, "--help"]).run().stdout));
    }
    let server = serve(&s, &[]);
    let doc = request("GET", &format!("{}/openapi.json", server.base), None, &[], "");
    texts.push(("openapi.json".to_string(), doc.json.to_string()));
    for (what, text) in texts {
        assert!(text.len() > 100, "{what} is empty");
        for cited in ["SPEC", "seed 0", "Seed 0"] {
            let lines: Vec<&str> = text.lines().filter(|l| l.contains(cited)).collect();
            assert!(lines.is_empty(), "{what} cites `{cited}`:\n{}", lines.join("\n"));
        }
    }
}

#[test]
fn the_openapi_document_describes_every_route() {
    let s = Scratch::new();
    let server = serve(&s, &[]);
    let doc = request("GET", &format!("{}/openapi.json", server.base), None, &[], "");
    assert_eq!(doc.status, 200);
    let paths: Vec<&String> = doc.json["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/api/executions",
            "/api/executions/{execution_id}",
            "/api/executions/{execution_id}/cancel",
            "/api/executions/{execution_id}/events",
            "/api/runbooks",
            "/api/runbooks/{name}",
            "/api/runbooks/{name}/execute",
            "/api/runbooks/{name}/history",
            "/api/runbooks/{name}/validate",
            "/health",
            "/metrics",
            "/ready"
        ]
    );
    assert_eq!(doc.json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let execute = &doc.json["paths"]["/api/runbooks/{name}/execute"]["post"];
    let statuses: Vec<&String> = execute["responses"].as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["200", "202", "400", "401", "403", "404", "413", "503"]);
    // Each operation says what it does, under its resource's tag.
    for (path, operations) in doc.json["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(
                summary.len() > 10 && operation["description"].as_str().is_some_and(|d| d.len() > 20),
                "{method} {path}"
            );
            let tag = if path.starts_with("/api/executions") {
                "executions"
            } else if path.starts_with("/api/runbooks") {
                "runbooks"
            } else {
                "server"
            };
            assert_eq!(operation["tags"], json!([tag]), "{method} {path}");
        }
    }
    // The report's schema is derived from the type --json prints.
    let step = &doc.json["components"]["schemas"]["StepReport"]["properties"];
    assert!(step["fuel_consumed"].is_object() && step["limits"].is_object(), "{step:#}");
}

/// Required Claims bind the API caller however a runbook is reached: a
/// runbook without claims cannot call one with them on behalf of a caller
/// who lacks them, by `runbook`, by `runbook.call` or by a `curl` to the API base URL.
/// Under `runbox run` the local user is the authority.
#[test]
fn required_claims_bind_the_callers_sub_runbooks_too() {
    let s = Scratch::new();
    let guarded = runbook("Guarded", "", &[], &[], "```sh\necho guarded-ran\n```")
        .replace("# Script", "# Required Claims\n```yaml\nroles: admin\n```\n\n# Script");
    s.write("Guarded.md", &guarded);
    let script = r#"```sh
runbook Guarded.md; echo "builtin=$?"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RUNBOOK_API_BASE_URL/api/runbooks/Guarded.md/execute" -H "Authorization: Bearer $RUNBOOK_API_TOKEN")
echo "curl=$code"
```"#;
    s.write("Open.md", &runbook("Open", "", &[], &[], script));
    let server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Open.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("viewer9", json!({ "roles": ["viewer"] }))), &[], "");
    assert_eq!(reply.status, 200, "{:#}", reply.json);
    let message = "RBAC Failure: Access denied for user viewer9. Missing required role: admin";
    assert_eq!(reply.json["stdout"], "builtin=77\ncurl=403\n");
    assert_eq!(reply.json["stderr"], format!("runbook: Forbidden: {message}\n"));
    let history = s.read("Guarded.md");
    let headings = history_headings(&history);
    assert_eq!(headings.len(), 2, "{history}");
    assert!(headings.iter().all(|h| h.ends_with("| Exit Code: 403")), "{history}");
    assert!(!history[history.find("\n# History").unwrap()..].contains("guarded-ran"), "{history}");
    // A caller with the role runs both.
    let reply = request("POST", &url, Some(&token("root1", json!({ "roles": ["admin"] }))), &[], "");
    assert_eq!(reply.json["stdout"], "guarded-ran\nbuiltin=0\ncurl=200\n", "{:#}", reply.json);
    drop(server);
    let run = s.runbox().args(["run", "--no-history", "Open.md"]).run();
    assert_eq!(run.stdout, "guarded-ran\nbuiltin=0\ncurl=200\n", "{}", run.stderr);
}

/// A parent runbook over HTTP: the child runs in process as the caller,
/// in the request's chain; the handle the step holds opens nothing at the
/// real server, even where the operator lets steps reach it.
#[test]
fn parent_runbook_over_http_runs_its_child_as_the_caller() {
    let s = Scratch::new();
    s.sample("ParentRunbook");
    s.sample("SimpleRunbook");
    let probe = r#"```sh
curl -s -w ' %{http_code}\n' -X POST "$REAL_SERVER/api/runbooks/SimpleRunbook.md/execute" -H "Authorization: Bearer $RUNBOOK_API_TOKEN"
```"#;
    s.write("Probe.md", &runbook("Probe", "REAL_SERVER: the server's own URL", &[], &[], probe));
    let server = serve(&s, &["--allow-net", "localhost"]);
    let bearer = token("ada", json!({}));
    let url = format!("{}/api/runbooks/ParentRunbook.md/execute", server.base);
    let reply = request("POST", &url, Some(&bearer), &[("X-Correlation-Id", "corr-parent-1")], "");
    assert_eq!(reply.status, 200, "{:#}", reply.json);
    assert_eq!(reply.json["return_code"], 0);
    let stdout = reply.json["stdout"].as_str().unwrap();
    assert!(stdout.starts_with("Parent runbook starting\nCorrelation ID: corr-parent-1\n"), "{stdout}");
    assert!(stdout.ends_with("Parent runbook completed\n"), "{stdout}");
    let records: Vec<Value> = s.log().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let crumbs: Vec<Value> = records.iter().map(|r| r["breadcrumb"].clone()).collect();
    for (crumb, stack) in
        crumbs.iter().zip([json!(["ParentRunbook.md", "SimpleRunbook.md"]), json!(["ParentRunbook.md"])])
    {
        assert_eq!(
            (&crumb["by_user"], &crumb["from_ip"], &crumb["correlation_id"], &crumb["recursion_stack"]),
            (&json!("ada"), &json!("127.0.0.1"), &json!("corr-parent-1"), &stack)
        );
    }
    let probe = format!("{}/api/runbooks/Probe.md/execute", server.base);
    // The same server by another name: not the base URL the host answers in
    // process, so the request goes over the network to the real server.
    let real = server.base.replace("127.0.0.1", "localhost");
    let body = json!({ "env_vars": { "REAL_SERVER": real } }).to_string();
    let reply = request("POST", &probe, Some(&bearer), &[], &body);
    let answer = reply.json["stdout"].as_str().unwrap();
    assert!(answer.ends_with(" 401\n") && answer.contains("\"Unauthorized\""), "{:#}", reply.json);
}

/// The runbook API's configuration: `API_HOST` and `API_PORT` say where to listen
/// unless `--addr` does, and the base URL steps see follows them.
#[test]
fn serve_listens_where_api_host_and_api_port_say() {
    let s = Scratch::new();
    s.write("Base.md", &runbook("Base", "", &[], &[], "```sh\necho \"$RUNBOOK_API_BASE_URL\"\n```"));
    let secret = s.state.path().join("jwt.secret");
    std::fs::write(&secret, SECRET).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut child = s
        .runbox()
        .env("API_HOST", "127.0.0.1")
        .env("API_PORT", &port)
        .args(["serve", "--dir", ".", "--jwt-secret-file", &secret.to_string_lossy()])
        .spawn();
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap()).read_line(&mut line).unwrap();
    let server = Server { base: format!("http://127.0.0.1:{port}"), child, stderr: Default::default() };
    assert_eq!(line, format!("runbox: serving on {}\n", server.base));
    steps_see_the_base_url(&server);
}

/// A step of Base.md, run through `server`, prints the server's own URL.
fn steps_see_the_base_url(server: &Server) {
    let url = format!("{}/api/runbooks/Base.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("ada", json!({}))), &[], "");
    assert_eq!(reply.json["stdout"], format!("{}\n", server.base), "{:#}", reply.json);
}

/// `--addr HOST:0` listens on a port the kernel picks; the base URL steps see
/// names that port, not 0.
#[test]
fn on_a_port_the_kernel_picks_steps_see_that_port() {
    let s = Scratch::new();
    s.write("Base.md", &runbook("Base", "", &[], &[], "```sh\necho \"$RUNBOOK_API_BASE_URL\"\n```"));
    let server = serve(&s, &[]);
    assert!(!server.base.ends_with(":0"), "{}", server.base);
    steps_see_the_base_url(&server);
}

/// A server compiles both guests' optimised code as it starts, without
/// waiting for a request to need it.
#[test]
fn a_server_prepares_its_guests_before_requests_need_them() {
    let s = Scratch::new();
    hello(&s);
    let cache = s.state.path().join("fresh-cache");
    let server = serve_with(&s, &[], &[("RUNBOX_CACHE_DIR", &cache.to_string_lossy())]);
    let compiled = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&cache)
            .map(|dir| dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.retain(|n| n.ends_with(".cwasm"));
        names.sort();
        names
    };
    let started = std::time::Instant::now();
    while compiled().len() < 2 && started.elapsed() < std::time::Duration::from_secs(300) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let names = compiled();
    assert!(names.len() == 2 && names[0].starts_with("js-") && names[1].starts_with("sh-"), "{names:?}");
    let url = format!("{}/api/runbooks/Hello.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("ada", json!({}))), &[], r#"{"env_vars":{"GREETING":"you"}}"#);
    assert_eq!((reply.status, &reply.json["stdout"]), (200, &json!("hello you\n")), "{:#}", reply.json);
    assert_eq!(compiled(), names, "the request compiled nothing");
}

/// A runbook is shown only to callers who may run it: without its Required
/// Claims, `show`, `history` and `validate` are 403 and `list` leaves it
/// out. A refused read goes to the log, never to History, so repeating it
/// cannot push the runbook's real entries out.
#[test]
fn reading_a_runbook_needs_its_required_claims() {
    let s = Scratch::new();
    hello(&s);
    let text = runbook("Guarded", "", &[], &[], "```sh\necho PLANTED-GUARDED-OUTPUT\n```")
        .replace("# Script", "# Required Claims\n```yaml\nroles: [admin]\n```\n\n# Script");
    s.write("Guarded.md", &text);
    let server = serve(&s, &["--history-keep", "3"]);
    let admin = token("root1", json!({ "roles": ["admin"] }));
    let ran = request("POST", &format!("{}/api/runbooks/Guarded.md/execute", server.base), Some(&admin), &[], "");
    assert_eq!(ran.status, 200, "{:#}", ran.json);
    let viewer = token("viewer1", json!({ "roles": ["viewer"] }));
    let list = request("GET", &format!("{}/api/runbooks", server.base), Some(&viewer), &[], "");
    let names: Vec<&str> =
        list.json["runbooks"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Hello.md"]);
    let log_lines = s.log().lines().count();
    for _ in 0..5 {
        for (method, path) in [
            ("GET", "/api/runbooks/Guarded.md"),
            ("GET", "/api/runbooks/Guarded.md/history"),
            ("POST", "/api/runbooks/Guarded.md/validate"),
        ] {
            let reply = request(method, &format!("{}{path}", server.base), Some(&viewer), &[], "");
            assert_eq!(reply.status, 403, "{path}: {:#}", reply.json);
            assert_eq!(reply.json["error"]["code"], "Forbidden");
            assert!(!reply.json.to_string().contains("PLANTED"), "{path}: {:#}", reply.json);
        }
    }
    // History still holds the one real run; the log holds each refusal.
    let history = s.read("Guarded.md");
    assert_eq!(history_headings(&history).len(), 1, "{history}");
    assert!(history.contains("PLANTED-GUARDED-OUTPUT"));
    assert_eq!(s.log().lines().count(), log_lines + 15);
    let admin_list = request("GET", &format!("{}/api/runbooks", server.base), Some(&admin), &[], "");
    assert_eq!(admin_list.json["runbooks"].as_array().unwrap().len(), 2);
    let shown = request("GET", &format!("{}/api/runbooks/Guarded.md/history", server.base), Some(&admin), &[], "");
    assert_eq!(shown.status, 200);
}

/// Without a token the server answers 401 at once, without waiting for (or
/// holding) the body a client announces; with one, a body that does not
/// arrive in time loses its connection.
#[test]
fn a_body_is_read_only_after_the_token_is_checked_and_only_for_so_long() {
    use std::io::{Read, Write};
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &["--header-timeout", "500ms"]);
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let withheld = |authorization: &str| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /api/runbooks/Hello.md/execute HTTP/1.1\r\nHost: x\r\n{authorization}Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{\"env_vars\""
        );
        stream.write_all(head.as_bytes()).unwrap();
        // Long enough for any machine; the server answers at once, or at 500 ms.
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        (read.is_ok(), String::from_utf8_lossy(&answer).lines().next().unwrap_or("").to_string())
    };
    assert_eq!(withheld(""), (true, "HTTP/1.1 401 Unauthorized".to_string()));
    let (ended, status) = withheld(&format!("Authorization: Bearer {}\r\n", token("ada", json!({}))));
    assert!(ended, "the server let the body take more than its time");
    assert!(status.is_empty() || status.starts_with("HTTP/1.1 408"), "{status}");
    assert!(!s.read("Hello.md").contains("### "), "nothing ran");
}

/// A peer holds at most `--max-connections-per-peer` connections at once;
/// past it, new ones are closed at once, and its others go on.
#[test]
fn one_peer_holds_a_bounded_number_of_connections() {
    use std::io::Read;
    let s = Scratch::new();
    let server = serve(&s, &["--max-connections-per-peer", "4"]);
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let held: Vec<_> = (0..4).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut fifth = std::net::TcpStream::connect(&addr).unwrap();
    fifth.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut answer = Vec::new();
    assert!(fifth.read_to_end(&mut answer).is_ok(), "the fifth connection is closed");
    drop(held);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(request("GET", &format!("{}/health", server.base), None, &[], "").status, 200);
}

/// A JWT whose `crit` header names an extension runbox does not understand
/// is refused (RFC 7515 §4.1.11), even correctly signed.
#[test]
fn a_token_with_critical_extensions_is_refused() {
    let s = Scratch::new();
    hello(&s);
    let server = serve(&s, &[]);
    let header = base64_url(r#"{"alg":"HS256","typ":"JWT","crit":["exp-ext"],"exp-ext":true}"#);
    let claims = base64_url(&json!({ "sub": "ada", "exp": now() + 600 }).to_string());
    let signing = format!("{header}.{claims}");
    let signature =
        jsonwebtoken::crypto::sign(signing.as_bytes(), &EncodingKey::from_secret(SECRET.as_bytes()), Algorithm::HS256)
            .unwrap();
    let critical = format!("{signing}.{signature}");
    let reply = request("GET", &format!("{}/api/runbooks", server.base), Some(&critical), &[], "");
    assert_eq!(reply.status, 401, "{:#}", reply.json);
    assert_eq!(
        reply.json,
        json!({"error": {"code": "Unauthorized", "message": "the token's header names critical extensions (`crit`), which runbox does not understand"}})
    );
}

/// No answer shows where the server keeps its files: not the served folder,
/// not the secrets directory, whatever the runbook makes go wrong.
#[test]
fn answers_show_no_server_path() {
    let s = Scratch::new();
    let secrets = tempfile::tempdir().unwrap();
    s.write("Hello.md", &runbook("Hello", "", &[], &[], "```sh\necho hi\n```"));
    s.write(
        "bad.yaml",
        "name: bad\nsteps:\n  - name: a\n    type: sh\n    with: { script_file: ../outside.sh }\n  - name: b\n    type: sh\n    with: { script_id: nothing }\n  - name: c\n    type: sh\n    with: { script_from_secret: { secret_name: db, key: x } }\n",
    );
    std::fs::write(s.path().parent().unwrap().join("outside.sh"), "echo out").ok();
    let dir = s.path().display().to_string();
    let real = s.path().canonicalize().unwrap().display().to_string();
    // The served folder is `.`, which runbox makes absolute.
    let server = serve_with(&s, &["--secrets-dir", &secrets.path().display().to_string()], &[]);
    let bearer = token("ada", json!({}));
    let mut answers = String::new();
    for (method, path) in [
        ("POST", "/api/runbooks/bad.yaml/execute"),
        ("POST", "/api/runbooks/bad.yaml/validate"),
        ("POST", "/api/runbooks/Hello.md/execute"),
        ("GET", "/api/runbooks/Hello.md"),
        ("GET", "/api/runbooks/Hello.md/history"),
    ] {
        answers.push_str(&request(method, &format!("{}{path}", server.base), Some(&bearer), &[], "").json.to_string());
    }
    // Executions as they are shown, listed and followed.
    let listed = request("GET", &format!("{}/api/executions", server.base), Some(&bearer), &[], "");
    answers.push_str(&listed.json.to_string());
    for execution in listed.json["executions"].as_array().unwrap() {
        let at = format!("{}{}", server.base, execution["links"]["self"].as_str().unwrap());
        answers.push_str(&request("GET", &at, Some(&bearer), &[], "").json.to_string());
        answers.push_str(&request("GET", &format!("{at}/events"), Some(&bearer), &[], "").json.to_string());
    }
    assert!(answers.contains("\"file\":\"Hello.md\""), "{answers}");
    assert!(answers.contains("outside.sh"), "{answers}");
    for path in [&dir, &real, &secrets.path().display().to_string()] {
        assert!(!answers.contains(path.as_str()), "{path} in {answers}");
    }
}

/// A request's tree of sub-runbooks runs within the request's slot: with
/// one slot, a parent calling its child neither waits for a second slot
/// nor deadlocks against itself.
#[test]
fn a_requests_sub_runbooks_run_within_its_slot() {
    let s = Scratch::new();
    s.sample("ParentRunbook");
    s.sample("SimpleRunbook");
    let server = serve(&s, &["--max-concurrent", "1"]);
    let url = format!("{}/api/runbooks/ParentRunbook.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("ada", json!({}))), &[], "");
    assert_eq!((reply.status, reply.json["return_code"].clone()), (200, json!(0)), "{:#}", reply.json);
    assert!(reply.json["stdout"].as_str().unwrap().ends_with("Parent runbook completed\n"));
    assert_eq!(s.log().lines().count(), 2, "the parent and its child");
}

/// A misspelt `runbook.call` over the API names no runbook meant: the name
/// nearest could be one the caller's claims hide (on the command line it is
/// named: sub_runbooks.rs).
#[test]
fn a_misspelt_call_over_the_api_suggests_no_name() {
    let s = Scratch::new();
    s.write("Secret.md", &runbook("Secret", "", &[], &[], "```sh\necho secret\n```"));
    s.write("Caller.md", &runbook("Caller", "", &[], &[], "```js\nrunbook.call('Secrte.md');\n```"));
    let server = serve(&s, &[]);
    let url = format!("{}/api/runbooks/Caller.md/execute", server.base);
    let reply = request("POST", &url, Some(&token("ada", json!({}))), &[], "{}");
    assert_eq!(
        reply.json["stderr"],
        "Caller.md:17:8: RuntimeError: Error: NotFound: no runbook is named `Secrte.md`\n    at <anonymous> (Caller.md:17:8)\n"
    );
}

/// `runbox token` mints what the server accepts, from the same secret file
/// (its final newline trimmed as the server trims it), short-lived only.
#[test]
fn runbox_token_mints_a_token_the_server_accepts() {
    let s = Scratch::new();
    let text = runbook("Guarded", "", &[], &[], "```sh\necho guarded\n```")
        .replace("# Script", "# Required Claims\n```yaml\nroles: [admin]\n```\n\n# Script");
    s.write("Guarded.md", &text);
    let server = serve(&s, &[]);
    let secret = s.state.path().join("jwt.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let file = secret.to_string_lossy().to_string();
    let mint =
        |extra: &[&str]| s.runbox().args(["token", "--jwt-secret-file", &file, "--sub", "ada"]).args(extra).run();
    let url = format!("{}/api/runbooks/Guarded.md/execute", server.base);
    let admin = mint(&["--role", "admin", "--ttl", "2m"]);
    let ran = request("POST", &url, Some(admin.success().stdout.trim()), &[], "");
    assert_eq!((ran.status, &ran.json["stdout"]), (200, &json!("guarded\n")), "{:#}", ran.json);
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["breadcrumb"]["by_user"], "ada");
    let plain = mint(&[]);
    let refused = request("POST", &url, Some(plain.success().stdout.trim()), &[], "");
    assert_eq!(refused.status, 403, "{:#}", refused.json);
    for (extra, says) in [
        (&["--ttl", "25h"][..], "--ttl 90000s: give a lifetime from 1s to 24h"),
        (&["--sub", " "][..], "--sub: give the caller's name"),
    ] {
        let run = s
            .runbox()
            .args(["token", "--jwt-secret-file", &file])
            .args(if extra[0] == "--sub" { &[][..] } else { &["--sub", "ada"][..] })
            .args(extra)
            .run();
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
    std::fs::write(&secret, "short\n").unwrap();
    let short = mint(&[]);
    assert!(short.stderr.contains("an HS256 secret needs at least 32 bytes"), "{}", short.stderr);
}

/// A server keeps its guests' instances warm between executions (one slot
/// with `--max-concurrent 1`, so each execution reuses the last one's) and
/// resets them in place: what one caller's step left (a global, a
/// prototype's property, an exported variable, a file, a memory bomb's
/// pages) is not there for the next caller's step, and the memory cap holds
/// in a warm slot as in a fresh one.
#[test]
fn a_warm_instance_keeps_nothing_of_the_last_callers_step() {
    let s = Scratch::new();
    let plant_js = "```js\nglobalThis.planted = 'mallory'.repeat(1e6);\nObject.prototype.planted = 'mallory';\nconsole.log(typeof planted);\n```";
    let read_js = "```js\nconsole.log(typeof globalThis.planted, typeof ({}).planted);\n```";
    let plant_sh = "```sh\nexport PLANTED=mallory\necho mallory > /tmp/planted\necho planted\n```";
    let read_sh = "```sh\necho \"${PLANTED-unset} $(cat /tmp/planted 2>/dev/null || echo no-file)\"\n```";
    let bomb = "```js\nconst keep = []; while (true) keep.push(new Array(1e5).fill(7));\n```";
    for (name, script) in
        [("PlantJs", plant_js), ("ReadJs", read_js), ("PlantSh", plant_sh), ("ReadSh", read_sh), ("Bomb", bomb)]
    {
        s.write(&format!("{name}.md"), &runbook(name, "", &[], &[], script));
    }
    let server = serve(&s, &["--max-concurrent", "1", "--memory", "64MiB"]);
    let bearer = token("mallory", json!({}));
    let execute = |name: &str| {
        let reply = request("POST", &format!("{}/api/runbooks/{name}.md/execute", server.base), Some(&bearer), &[], "");
        assert_eq!(reply.status, 200, "{name}: {:#}", reply.json);
        let error = reply.json["steps"][0]["error"]["code"].as_str().unwrap_or("none").to_string();
        (reply.json["return_code"].as_i64().unwrap(), reply.json["stdout"].as_str().unwrap().to_string(), error)
    };
    let clean_js = (0, "undefined undefined\n".to_string(), "none".to_string());
    assert_eq!(execute("ReadJs"), clean_js);
    assert_eq!(execute("PlantJs"), (0, "string\n".to_string(), "none".to_string()));
    assert_eq!(execute("ReadJs"), clean_js);
    assert_eq!(execute("PlantSh"), (0, "planted\n".to_string(), "none".to_string()));
    assert_eq!(execute("ReadSh"), (0, "unset no-file\n".to_string(), "none".to_string()));
    assert_eq!(execute("Bomb"), (137, String::new(), "MemoryLimit".to_string()));
    assert_eq!(execute("Bomb"), (137, String::new(), "MemoryLimit".to_string()));
    assert_eq!(execute("ReadJs"), clean_js);
}

/// The server's OpenTelemetry exporter settings (a collector's API key in
/// `OTEL_EXPORTER_OTLP_HEADERS`, say) are runbox's own: a served runbook
/// that declares one is not handed the server's value.
#[test]
fn a_runbook_never_gets_the_servers_exporter_settings() {
    let s = Scratch::new();
    let script = "```sh\necho \"headers=$OTEL_EXPORTER_OTLP_HEADERS\"\n```";
    s.write("Leak.md", &runbook("Leak", "OTEL_EXPORTER_OTLP_HEADERS: the collector's", &[], &[], script));
    let server = serve_with(&s, &[], &[("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=planted-collector-key")]);
    let url = format!("{}/api/runbooks/Leak.md/execute", server.base);
    let refused = request("POST", &url, Some(&token("ada", json!({}))), &[], "");
    assert_eq!(refused.status, 400, "{:#}", refused.json);
    let message = refused.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("`OTEL_EXPORTER_OTLP_HEADERS` is runbox's own"), "{message}");
    assert!(!refused.json.to_string().contains("planted-collector-key"));
}
