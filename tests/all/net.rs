//! `curl` and `fetch` reach only the hosts a step was granted, through the
//! host; tested against a loopback server this test process runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::harness::shown;
use crate::harness::{Scratch, error_code};
use crate::snapshot;

/// A loopback HTTP server for one test; it lives as long as the process.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    addr
}

fn answer(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let (status, extra, content) = match path {
        "/data" => ("200 OK", "Content-Type: application/json\r\n".to_string(), br#"{"n":42}"#.to_vec()),
        "/echo" => {
            let token =
                head.lines().find(|l| l.to_ascii_lowercase().starts_with("x-token:")).unwrap_or("x-token: none");
            let text = format!(
                "{} {} {}",
                request_line.split(' ').next().unwrap(),
                token.to_ascii_lowercase(),
                String::from_utf8_lossy(&body)
            );
            ("200 OK", String::new(), text.into_bytes())
        }
        "/moved" => ("302 Found", "Location: /data\r\n".to_string(), Vec::new()),
        "/away" => ("302 Found", "Location: http://192.0.2.7:8080/x\r\n".to_string(), Vec::new()),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(5));
            ("200 OK", String::new(), b"late".to_vec())
        }
        _ => ("404 Not Found", String::new(), b"no such page".to_vec()),
    };
    let response =
        format!("HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n", content.len());
    let _ = stream.write_all(response.as_bytes()).and_then(|()| stream.write_all(&content));
}

#[test]
fn curl_reaches_an_allowed_host_with_the_common_flags() {
    let s = Scratch::new();
    let addr = serve();
    let script = format!(
        "set -e\n\
         curl -s http://{addr}/data; echo\n\
         curl -s -o /dev/null -w '%{{http_code}}\\n' http://{addr}/missing\n\
         curl -sS -X PUT -H 'X-Token: abc' -d 'a=1' -d 'b=2' http://{addr}/echo; echo\n\
         echo payload > body.txt; curl -s --data-binary @body.txt http://{addr}/echo; echo\n\
         curl -sL http://{addr}/moved; echo\n\
         curl -s -o saved.json http://{addr}/data\n\
         curl -sf http://{addr}/missing || echo \"fail=$?\""
    );
    let run = s.runbox().args(["sh", "--allow-net", &addr, "-c", &script]).run();
    run.success();
    assert_eq!(
        run.stdout,
        "{\"n\":42}\n404\nPUT x-token: abc a=1&b=2\nPOST x-token: none payload\n\n{\"n\":42}\nfail=22\n"
    );
    assert_eq!(s.read("saved.json"), "{\"n\":42}");
}

#[test]
fn curl_to_a_host_not_granted_is_refused_and_named() {
    let s = Scratch::new();
    let addr = serve();
    let run = s.runbox().args(["sh", "--json", "-c", &format!("curl -sS http://{addr}/data")]).run();
    assert_eq!((run.code, error_code(&run.json())), (7, "PermissionDenied"));
    let json = run.json();
    assert_eq!(
        json["stderr"],
        format!(
            "curl: (7) runbox: the sandbox may not reach {addr} (not an allowed host)\nPermissionDenied: the step failed after it was refused {addr}; allow it with --allow-net {addr}\n"
        ),
        "{json:#}"
    );
    assert_eq!(
        json["error"]["message"],
        format!("the step failed after it was refused {addr}; allow it with --allow-net {addr}")
    );
    // Another port of an allowed host is another host.
    let other = format!("127.0.0.1:{}", addr.rsplit(':').next().unwrap().parse::<u16>().unwrap() + 1);
    let run = s.runbox().args(["sh", "--allow-net", &other, "-c", &format!("curl -s http://{addr}/data")]).run();
    assert_eq!(run.code, 7);
}

#[test]
fn a_redirect_to_a_host_not_granted_is_refused() {
    let s = Scratch::new();
    let addr = serve();
    let run = s.runbox().args(["sh", "--allow-net", &addr, "-c", &format!("curl -sSL http://{addr}/away")]).run();
    assert_eq!(run.code, 7);
    snapshot!("net_a_redirect_to_a_host_not_granted_is_refused", shown(&s, &run));
}

#[test]
fn fetch_reaches_an_allowed_host() {
    let s = Scratch::new();
    let addr = serve();
    let code = format!(
        "const r = await fetch('http://{addr}/data');\
         const echo = await fetch('http://{addr}/echo', {{ method: 'post', headers: {{ 'X-Token': 't' }}, body: 'hi' }});\
         const missing = await fetch('http://{addr}/missing');\
         return [r.status, r.ok, r.headers.get('Content-Type'), await r.json(), await echo.text(), missing.status, missing.ok]"
    );
    let (run, json) = s.runbox().js(&code, &["--allow-net", &addr]);
    run.success();
    assert_eq!(
        json["result"],
        serde_json::json!([200, true, "application/json", { "n": 42 }, "POST x-token: t hi", 404, false])
    );
}

#[test]
fn fetch_to_a_host_not_granted_rejects_and_can_be_handled() {
    let s = Scratch::new();
    let addr = serve();
    let code =
        format!("try {{ await fetch('http://{addr}/data') }} catch (e) {{ return [e.name, e.code, e.message] }}");
    let (run, json) = s.runbox().js(&code, &[]);
    run.success();
    assert_eq!(json["result"][0], "TypeError");
    assert_eq!(json["result"][1], "EACCES");
    assert!(json["result"][2].as_str().unwrap().contains(&addr));
    let (run, json) = s.runbox().js(&format!("await fetch('http://{addr}/data')"), &[]);
    assert_eq!((run.code, error_code(&json)), (1, "PermissionDenied"));
}

#[test]
fn request_time_counts_against_the_deadline() {
    let s = Scratch::new();
    let addr = serve();
    let script = format!("curl -s http://{addr}/slow");
    let run = s.runbox().args(["sh", "--json", "--timeout", "1s", "--allow-net", &addr, "-c", &script]).run();
    assert_eq!((run.code, error_code(&run.json())), (124, "Timeout"), "the request ends at the step's deadline");
    assert!(!run.stdout.contains("late"));
    let code = format!("await fetch('http://{addr}/slow')");
    let run = s.runbox().args(["js", "--json", "--timeout", "1s", "--allow-net", &addr, "-e", &code]).run();
    assert_eq!((run.code, error_code(&run.json())), (124, "Timeout"));
}
