//! Ctrl-C and SIGTERM: the running step stops at once, the run is recorded
//! as interrupted (History and the JSON log), the scratch directory goes,
//! and runbox exits 128 + the signal.

use std::io::{BufRead, BufReader, Read};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::harness::{Scratch, history_headings, runbook, signal};
use crate::snapshot;

/// Reads `child`'s stdout until a line equal to `line`, and returns what it read.
fn read_until(child: &mut Child, line: &str) -> String {
    let stdout = child.stdout.as_mut().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut seen = String::new();
    loop {
        let mut next = String::new();
        if reader.read_line(&mut next).unwrap() == 0 {
            panic!("stdout ended before {line:?}: {seen:?}");
        }
        seen.push_str(&next);
        if next.trim_end() == line {
            return seen;
        }
    }
}

/// Waits for `child`, failing (and killing it) if it outlives the step's
/// `sleep 100` by far: being stopped "at once" is the behaviour under test.
fn wait(child: &mut Child) -> (i32, String, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stdout = String::new();
            let mut stderr = String::new();
            child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            return (status.code().expect("runbox exits, not killed"), stdout, stderr);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("runbox did not stop on the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt_a_run(name: &str, status: i32, signal_name: &str) {
    let s = Scratch::new();
    let tmp = s.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let script = "```sh\necho started\nsleep 100\necho never\n```\n\n```sh\necho second step\n```";
    s.write("Slow.md", &runbook("Slow", "", &[], &[], script));
    let mut child =
        s.runbox().env("TMPDIR", &tmp.to_string_lossy()).args(["run", "Slow.md", "--timeout", "300s"]).spawn();
    let before = read_until(&mut child, "started");
    signal(&child, name);
    let (code, after, stderr) = wait(&mut child);
    assert_eq!(code, status, "stderr:\n{stderr}");
    assert_eq!(before + &after, "started\n", "nothing runs after the signal");
    let stderr = stderr.replace(&s.path().display().to_string(), "[DIR]");
    snapshot!(format!("interrupt_run_stderr_{signal_name}"), stderr);

    let text = s.read("Slow.md");
    let headings = history_headings(&text);
    assert_eq!(headings.len(), 1, "{text}");
    assert!(headings[0].ends_with(&format!("| Exit Code: {status}")), "{headings:?}");
    assert!(text.contains(&format!("Interrupted: the step was interrupted ({signal_name})")), "{text}");

    let record: serde_json::Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(record["exit_code"], status);
    let steps = record["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "the second step never ran: {record:#}");
    assert_eq!(steps[0]["error"]["code"], "Interrupted");
    assert_eq!(steps[0]["exit_code"], status);

    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the scratch directory is removed: {left:?}");
}

#[test]
fn ctrl_c_stops_the_running_step_and_records_the_run_as_interrupted() {
    interrupt_a_run("INT", 130, "SIGINT");
}

#[test]
fn sigterm_stops_the_running_step_with_status_143() {
    interrupt_a_run("TERM", 143, "SIGTERM");
}

#[test]
fn ctrl_c_stops_a_single_script_waiting_on_a_sleep() {
    let s = Scratch::new();
    let mut child = s.runbox().args(["sh", "--timeout", "300s", "-c", "echo started; sleep 100; echo never"]).spawn();
    read_until(&mut child, "started");
    signal(&child, "INT");
    let (code, stdout, stderr) = wait(&mut child);
    assert_eq!(code, 130, "stderr:\n{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr, "Interrupted: the step was interrupted (SIGINT)\n");
}

#[test]
fn ctrl_c_stops_a_busy_javascript_loop() {
    let s = Scratch::new();
    let mut child = s.runbox().args(["js", "--timeout", "300s", "-e", "console.log('started'); for (;;) {}"]).spawn();
    read_until(&mut child, "started");
    signal(&child, "TERM");
    let (code, _, stderr) = wait(&mut child);
    assert_eq!(code, 143, "stderr:\n{stderr}");
    snapshot!("interrupt_js_busy_loop_stderr", stderr);
}

#[test]
fn ctrl_c_stops_a_step_waiting_on_a_request() {
    // A server that accepts and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let s = Scratch::new();
    let script = format!("echo started; curl -s http://{addr}/never; echo after");
    let mut child = s.runbox().args(["sh", "--timeout", "300s", "--allow-net", &addr, "-c", &script]).spawn();
    read_until(&mut child, "started");
    // Give curl a moment to be inside its request.
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let (code, stdout, stderr) = wait(&mut child);
    assert_eq!(code, 130, "stderr:\n{stderr}");
    assert_eq!(stdout, "", "nothing runs after the signal");
}
