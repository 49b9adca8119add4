//! Deterministic mode (for CI): the same runbook and inputs give
//! the same bytes and the same fuel on every run, from any directory, user,
//! `HOME`, `TZ` or `LANG`; time and randomness are virtual and seeded; no
//! network, no host variable, no History. Golden files pin each sample's
//! output and fuel: after a deliberate change of guest or engine, update
//! them with `INSTA_UPDATE=always cargo test --release deterministic`.

use serde_json::{Value, json};

use crate::harness::{Run, Scratch, history_headings, runbook};

/// How each sample runs in CI: its arguments after `run --deterministic`.
const SAMPLES: &[(&str, &[&str])] = &[
    ("ConfigAudit.md", &["--env", "REQUIRED_KEYS=timeout retries"]),
    ("HelloWorld.md", &["--env", "GREETING_NAME=Ada"]),
    ("LogSummary.md", &[]),
    ("ParentRunbook.md", &[]),
    ("SimpleRunbook.md", &["--env", "CHILD_VAR=ci"]),
    ("check-db-lag.yaml", &["--input", "threshold_ms=100"]),
    ("health-check.yaml", &["--input", "service=billing"]),
    (
        "prune-backups.yaml",
        &["--secrets-dir", "prune-backups/example-secrets", "--input", "keep=2", "--approve", "plan"],
    ),
];

/// `runbox run --deterministic --json ARGS` on a fresh copy of the samples,
/// as a different user in a different place.
fn run_as(who: usize, args: &[&str]) -> Run {
    let s = Scratch::new();
    s.samples();
    let home = s.state.path().join(format!("home-{who}"));
    let (user, tz, lang) = [("ada", "Asia/Tokyo", "ja_JP.UTF-8"), ("bob", "America/Lima", "C")][who % 2];
    s.runbox()
        .env("HOME", &home.to_string_lossy())
        .env("USER", user)
        .env("TZ", tz)
        .env("LANG", lang)
        .args(["run", "--deterministic", "--json"])
        .args(args)
        .run()
}

/// `json` without its wall-clock durations, the one thing allowed to differ.
fn without_durations(mut json: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("duration_ms");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut json);
    json
}

#[test]
fn every_sample_gives_the_same_bytes_and_fuel_anywhere() {
    let covered: Vec<&str> = SAMPLES.iter().map(|(name, _)| *name).collect();
    assert_eq!(crate::harness::sample_names(), covered, "every sample runs in deterministic mode here");
    for (name, extra) in SAMPLES {
        let args: Vec<&str> = extra.iter().copied().chain([*name]).collect();
        let (first, second) = (run_as(0, &args), run_as(1, &args));
        assert_eq!(first.code, second.code, "{name}");
        let json = without_durations(first.json());
        assert_eq!(json, without_durations(second.json()), "{name}: the two runs differ");
        assert_eq!(first.stderr, second.stderr, "{name}");
        let golden = json!({
            "exit_code": json["exit_code"],
            "stdout": json["stdout"],
            "stderr": json["stderr"],
            "steps": json["steps"].as_array().unwrap().iter().map(|s| json!({
                "name": s["name"],
                "exit_code": s["exit_code"],
                "fuel": s["fuel_consumed"],
            })).collect::<Vec<_>>(),
        });
        insta::assert_snapshot!(format!("deterministic_{name}"), serde_json::to_string_pretty(&golden).unwrap());
    }
}

/// Every way a script reads time or randomness, in both languages.
const CLOCKS_SH: &str = "date\ndate +%s%N\necho \"random $RANDOM $RANDOM\"\necho \"seconds $SECONDS\"\nsleep 20\necho \"seconds $SECONDS\"\ndate -u +%FT%TZ\n";
const CLOCKS_JS: &str =
    "console.log(Date.now(), new Date().toISOString(), performance.now(), Math.random(), Math.random())";

fn clocks(s: &Scratch, extra: &[&str]) -> (String, String) {
    let sh = s.runbox().args(["sh", "--deterministic", "-c", CLOCKS_SH]).args(extra).run();
    let js = s.runbox().args(["js", "--deterministic", "-e", CLOCKS_JS]).args(extra).run();
    assert_eq!((sh.code, js.code), (0, 0), "{}{}", sh.stderr, js.stderr);
    (sh.stdout, js.stdout)
}

#[test]
fn time_and_randomness_are_the_same_every_run_and_follow_seed_and_clock() {
    let s = Scratch::new();
    let (sh, js) = clocks(&s, &[]);
    assert_eq!(clocks(&s, &[]), (sh.clone(), js.clone()));
    let lines: Vec<&str> = sh.lines().collect();
    assert_eq!(lines[0], "Thu Jan  1 00:00:00 UTC 2026", "{sh}");
    assert_eq!(lines[3], "seconds 0");
    assert_eq!(lines[4], "seconds 20", "sleep waits in virtual time: {sh}");
    assert_eq!(lines[5], "2026-01-01T00:00:20Z", "{sh}");
    assert!(js.starts_with("1767225600001 2026-01-01T00:00:00.002Z "), "{js}");
    let (seeded_sh, seeded_js) = clocks(&s, &["--seed", "7"]);
    assert_eq!(seeded_sh.lines().next(), Some(lines[0]), "the seed moves no clock");
    assert_ne!(seeded_sh.lines().nth(2), Some(lines[2]), "$RANDOM follows the seed");
    assert_ne!(
        seeded_js.split(' ').skip(3).collect::<Vec<_>>(),
        js.split(' ').skip(3).collect::<Vec<_>>(),
        "Math.random follows the seed"
    );
    let (later_sh, later_js) = clocks(&s, &["--clock", "2030-05-05T10:00:00Z"]);
    assert_eq!(later_sh.lines().next(), Some("Sun May  5 10:00:00 UTC 2030"));
    assert_eq!(later_sh.lines().nth(2), Some(lines[2]), "the clock moves no random number");
    assert!(later_js.starts_with("1904205600001 2030-05-05T10:00:00.002Z "), "{later_js}");
}

/// File times are the run's starting instant in deterministic mode (a
/// checkout's, or a step's writes', would differ on every run), the host's
/// otherwise.
#[test]
fn file_times_are_the_clocks_start() {
    let s = Scratch::new();
    let old = s.write("old", "");
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000))
        .unwrap();
    // A umask of 002 on this machine: the bits shown do not depend on it.
    std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o664)).unwrap();
    let sh = "touch new; mkdir dir; ls -l old new; ls -ld dir; [ new -nt old ] && echo newer || echo same; stat old | grep Modify";
    let run = s.runbox().args(["sh", "--deterministic", "-c", sh]).run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "-rw-r--r--        0 2026-01-01 00:00 old\n-rw-r--r--        0 2026-01-01 00:00 new\ndrwxr-xr-x     4096 2026-01-01 00:00 dir\nsame\nModify: 1767225600\n",
            ""
        )
    );
    let js = "console.log(['old', 'new', 'dir', '.'].map((f) => fs.statSync(f).mtimeMs).join(' '))";
    let times = |extra: &[&str]| s.runbox().args(["js", "-e", js]).args(extra).run().success().stdout.clone();
    assert_eq!(times(&["--deterministic"]), "1767225600000 1767225600000 1767225600000 1767225600000\n");
    assert_eq!(
        times(&["--clock", "2030-05-05T10:00:00Z"]),
        "1904205600000 1904205600000 1904205600000 1904205600000\n"
    );
    let real = times(&[]);
    assert!(real.starts_with("1000000000000 "), "outside deterministic mode the host's times: {real}");
}

/// A wait past the step's timeout ends it as `Timeout` in virtual time: at
/// once, and the same on every run.
#[test]
fn a_virtual_wait_past_the_timeout_is_a_timeout() {
    let s = Scratch::new();
    let run = s
        .runbox()
        .args(["sh", "--deterministic", "--timeout", "10s", "--json", "-c", "echo a; sleep 3600; echo b"])
        .run();
    let json = run.json();
    assert_eq!(
        (run.code, json["error"]["code"].as_str(), json["stdout"].as_str()),
        (124, Some("Timeout"), Some("a\n"))
    );
    assert!(json["duration_ms"].as_f64().unwrap() < 10_000.0, "it did not wait in real time: {json}");
}

#[test]
fn the_network_and_host_variables_are_off() {
    let s = Scratch::new();
    s.write("Net.md", &runbook("Net", "", &[], &[], "```sh\ncurl -sS http://example.com/\n```"));
    let run = s.runbox().args(["run", "--deterministic", "--allow-net", "example.com", "--json", "Net.md"]).run();
    let json = run.json();
    assert_eq!((run.code, json["steps"][0]["error"]["code"].as_str()), (7, Some("PermissionDenied")), "{json:#}");
    assert_eq!(
        json["steps"][0]["error"]["message"],
        "network is off in deterministic mode; the step failed after it reached for example.com:80"
    );
    assert_eq!(
        json["steps"][0]["stderr"].as_str().unwrap().lines().next(),
        Some("curl: (7) Failed to connect: PermissionDenied: network is off in deterministic mode")
    );
    s.write("Var.md", &runbook("Var", "DB_HOST: the database", &[], &[], "```sh\necho \"$DB_HOST\"\n```"));
    let run = s.runbox().env("DB_HOST", "from-the-host").args(["run", "--deterministic", "Var.md"]).run();
    assert_eq!(run.code, 2);
    run.stderr_has("environment variable `DB_HOST` is not set (the database); deterministic mode reads no host variable: give it with --env DB_HOST=VALUE");
    let run = s
        .runbox()
        .env("DB_HOST", "from-the-host")
        .args(["run", "--deterministic", "--env", "DB_HOST=given", "Var.md"])
        .run();
    assert_eq!(run.stdout, "given\n");
}

/// A CI run leaves tracked files alone: no History; the record is still logged.
#[test]
fn no_history_is_written_and_the_record_is_fixed() {
    let s = Scratch::new();
    s.write("Hi.md", &runbook("Hi", "", &[], &[], "```sh\necho hi\n```"));
    s.runbox().args(["run", "--deterministic", "Hi.md"]).run().success();
    assert_eq!(history_headings(&s.read("Hi.md")).len(), 0);
    let record: Value = serde_json::from_str(s.log().lines().last().unwrap()).unwrap();
    assert_eq!(
        record["breadcrumb"],
        json!({
            "at_time": "2026-01-01T00:00:00Z",
            "by_user": "runbox",
            "correlation_id": "00000000-0000-4000-8000-000000000000",
            "recursion_stack": ["Hi.md"],
        })
    );
}

/// `deterministic: true` in a YAML runbook is `--deterministic`.
#[test]
fn a_yaml_runbook_can_ask_for_deterministic_mode() {
    let s = Scratch::new();
    let yaml = "name: t\ndeterministic: true\nsteps:\n  - name: s\n    type: js\n    with: { inline_script: 'console.log(new Date().toISOString(), Math.random())' }\n";
    s.write("t.yaml", yaml);
    let first = s.runbox().args(["run", "t.yaml"]).run();
    let flagged = s.runbox().args(["run", "--deterministic", "--seed", "0", "t.yaml"]).run();
    assert_eq!(first.stdout, flagged.stdout);
    assert!(first.stdout.starts_with("2026-01-01T00:00:00.001Z 0."), "{}", first.stdout);
    s.write("bad.yaml", &yaml.replace("deterministic: true", "deterministic: often"));
    let run = s.runbox().args(["run", "bad.yaml"]).run();
    crate::snapshot!("run_deterministic_not_a_bool", crate::harness::shown(&s, &run));
}

/// A Python JUnit consumer (junitparser, from PyPI) in a virtual
/// environment of the test run's own.
fn junit_reader() -> std::path::PathBuf {
    // Two tests ask at once; two `venv`s racing on one directory fail with
    // "File exists".
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("junit-venv");
    let python = venv.join("bin/python");
    let ready = std::process::Command::new(&python).args(["-c", "import junitparser"]).output();
    if !ready.is_ok_and(|o| o.status.success()) {
        // --clear: a half-made venv (an interrupted run) is made again.
        let made = std::process::Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv).status();
        assert!(made.is_ok_and(|s| s.success()), "python3 -m venv (Debian: python3-venv) is needed");
        let pip = venv.join("bin/pip");
        let installed = std::process::Command::new(pip).args(["install", "--quiet", "junitparser==5.0.3"]).status();
        assert!(installed.is_ok_and(|s| s.success()), "pip install junitparser");
    }
    python
}

/// `--junit` writes a report that a real JUnit consumer reads as runbox
/// meant it: a case per step with its outcome, error code, message and
/// output; steps that never ran skipped.
#[test]
fn junit_reports_read_back_in_a_junit_consumer() {
    let s = Scratch::new();
    let yaml = r#"name: ci
steps:
  - name: ok
    type: sh
    with: { inline_script: 'echo "<out> & ]]> done"' }
  - name: bad
    type: js
    on_error: continue
    with: { inline_script: 'throw new TypeError("boom")' }
  - name: fails
    type: sh
    with: { inline_script: 'echo to-stderr >&2; exit 3' }
  - name: never
    type: sh
    with: { inline_script: 'echo never' }
"#;
    s.write("ci.yaml", yaml);
    let run = s.runbox().args(["run", "--deterministic", "--junit", "report.xml", "ci.yaml"]).run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let read = r#"
import json, sys
from junitparser import JUnitXml
out = []
for suite in JUnitXml.fromfile(sys.argv[1]):
    out.append({"suite": suite.name, "tests": suite.tests, "failures": suite.failures, "skipped": suite.skipped,
        "cases": [{"name": c.name, "classname": c.classname, "passed": c.is_passed, "skipped": c.is_skipped,
                   "results": [[type(r).__name__, r.type, r.message, r.text] for r in c.result],
                   "out": c.system_out, "err": c.system_err} for c in suite]})
print(json.dumps(out))
"#;
    let read =
        std::process::Command::new(junit_reader()).args(["-c", read]).arg(s.join("report.xml")).output().unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let report: Value = serde_json::from_slice(&read.stdout).unwrap();
    let case = |name: &str, passed: bool, skipped: bool, results: Value, out: Value, err: Value| json!({ "name": name, "classname": "ci", "passed": passed, "skipped": skipped, "results": results, "out": out, "err": err });
    assert_eq!(
        report,
        json!([{
            "suite": "ci.yaml", "tests": 4, "failures": 2, "skipped": 1,
            "cases": [
                case("ok", true, false, json!([]), json!("<out> & ]]> done\n"), Value::Null),
                case("bad", false, false, json!([["Failure", "RuntimeError", "TypeError: boom", "exit status 1"]]), Value::Null,
                    json!("ci.yaml:9:11: RuntimeError: TypeError: boom\n    at <anonymous> (ci.yaml:9:11)\n")),
                case("fails", false, false, json!([["Failure", "CommandFailed", "exit status 3", "exit status 3"]]), Value::Null,
                    json!("to-stderr\n")),
                case("never", false, true, json!([["Skipped", null, "not run: an earlier step failed", null]]), Value::Null, Value::Null),
            ],
        }])
    );
}

/// A runbook that does not even parse is still a JUnit report: one error.
#[test]
fn junit_reports_a_runbook_that_does_not_parse() {
    let s = Scratch::new();
    s.write("bad.yaml", "name: bad\nsteps: 3\n");
    let run = s.runbox().args(["run", "--junit", "report.xml", "bad.yaml"]).run();
    assert_eq!(run.code, 2);
    let read = r#"
import json, sys
from junitparser import JUnitXml
print(json.dumps([[s.name, s.errors, [[c.name, c.classname, [[type(r).__name__, r.type] for r in c.result]] for c in s]] for s in JUnitXml.fromfile(sys.argv[1])]))
"#;
    let read =
        std::process::Command::new(junit_reader()).args(["-c", read]).arg(s.join("report.xml")).output().unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let report: Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(report, json!([["bad.yaml", 1, [["bad.yaml (refused)", "bad", [["Error", "ConfigInvalid"]]]]]]));
}

/// A directory's size is the file system's (4096 on ext4, 40 and more on
/// tmpfs): deterministic mode gives 4096 wherever the files are, so the
/// output and fuel do not depend on the machine or on `TMPDIR`.
#[test]
fn directory_sizes_do_not_depend_on_the_file_system() {
    let script = "mkdir -p d/e; ls -ld d . /tmp; echo \"$(stat -c %s d)\"";
    let js = "fs.mkdirSync('d/e', { recursive: true }); console.log(fs.statSync('d').size, fs.statSync('.').size)";
    let on = |dir: &std::path::Path| {
        let s = Scratch::new();
        let sh = s
            .runbox()
            .current_dir(dir)
            .env("TMPDIR", &dir.to_string_lossy())
            .args(["sh", "--deterministic", "--json", "-c", script])
            .run();
        std::fs::remove_dir_all(dir.join("d")).unwrap();
        let js = s
            .runbox()
            .current_dir(dir)
            .env("TMPDIR", &dir.to_string_lossy())
            .args(["js", "--deterministic", "--json", "-e", js])
            .run();
        let (sh, js) = (sh.json(), js.json());
        (sh["stdout"].clone(), sh["fuel_consumed"].clone(), js["stdout"].clone(), js["fuel_consumed"].clone())
    };
    let disk = tempfile::tempdir().unwrap();
    let memory = tempfile::tempdir_in("/dev/shm").unwrap();
    let (on_disk, in_memory) = (on(disk.path()), on(memory.path()));
    assert_eq!(on_disk, in_memory);
    assert_eq!(on_disk.2, "4096 4096\n");
}
