//! Runaway guests end in their error code and never take the host down.

use std::time::Duration;

use runbox::model::limits::Limits;
use runbox::{ErrorCode, GuestCache, Language, Sandbox, Script, StepContext};

use crate::harness::shown;
use crate::harness::{Scratch, error_code};
use crate::snapshot;

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("while (true) {}", &["--fuel", "50000000", "--timeout", "60s"]);
    run.code(152);
    assert_eq!(error_code(&json), "OutOfFuel");
    assert!(json["fuel_consumed"].as_u64().unwrap() >= 50_000_000);
}

#[test]
fn an_endless_loop_hits_the_wall_clock_deadline() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("while (true) {}", &["--timeout", "200ms", "--fuel", "1000000000000"]);
    run.code(124);
    assert_eq!(error_code(&json), "Timeout");
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let s = Scratch::new();
    let (run, json) =
        s.runbox().js("const keep = []; while (true) keep.push(new Array(1e5).fill(7));", &["--memory", "64MiB"]);
    run.code(137);
    assert_eq!(error_code(&json), "MemoryLimit");
    let (run, json) = s.runbox().js("return 'x'.repeat(2 ** 28).length", &["--memory", "64MiB"]);
    run.code(137);
    assert_eq!(error_code(&json), "MemoryLimit");
}

#[test]
fn an_output_flood_is_cut_at_the_limit_and_marked() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("while (true) console.log('flood flood flood')", &["--max-output", "4KiB"]);
    run.code(153);
    assert_eq!(error_code(&json), "OutputLimit");
    let stdout = json["stdout"].as_str().unwrap();
    assert!(
        stdout.ends_with("[runbox: cut stdout at 4096 bytes: the step's output limit]\n"),
        "{}",
        &stdout[stdout.len() - 80..]
    );
    assert!(stdout.len() < 4096 + 64);
    let (run, json) = s.runbox().js("console.error('e'.repeat(5000))", &["--max-output", "1KiB"]);
    run.code(153);
    assert_eq!(
        json["stderr"],
        format!(
            "{}\n[runbox: cut stderr at 1024 bytes: the step's output limit]\nOutputLimit: the step wrote more than 1024 bytes to stderr\n",
            "e".repeat(1024)
        )
    );
}

#[test]
fn a_promise_that_never_settles_is_an_error_not_a_hang() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("await new Promise(() => {}); return 'unreachable'", &["--timeout", "60s"]);
    run.code(1);
    assert_eq!(error_code(&json), "RuntimeError");
    assert_eq!(
        json["error"]["message"],
        "the step's promise never settled: it awaits something that nothing will resolve (no timers or I/O are left to run)"
    );
}

#[test]
fn unbounded_recursion_is_a_range_error() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("function down(n) {\n  return down(n + 1) + 1\n}\ndown(0)", &[]);
    run.code(1);
    assert_eq!(error_code(&json), "RuntimeError");
    assert_eq!(json["error"]["message"], "RangeError: Maximum call stack size exceeded", "{json:#}");
}

/// As in Node, a script catches its own runaway recursion, in JavaScript or
/// in the engine's own recursive functions (JSON, the parser), on the
/// baseline code of a first run as on the optimised code: the host's stack
/// outlasts the guest's check (it aborted the whole process before).
#[test]
fn a_runaway_recursion_is_a_range_error_the_script_can_catch() {
    let s = Scratch::new();
    let script = r#"
const caught = (f) => { try { f(); return 'not thrown' } catch (e) { return `${e instanceof RangeError} ${e.message}` } };
const deep = []; let x = deep; for (let i = 0; i < 60000; i++) { const y = []; x.push(y); x = y }
console.log(caught(function down() { return down() + 1 }));
console.log(caught(() => JSON.stringify(deep)));
console.log(caught(() => JSON.parse('['.repeat(200000))));
console.log(caught(() => eval('('.repeat(200000) + '1' + ')'.repeat(200000))));
console.log(caught(function again() { return [1].map(again) }));
"#;
    let expected = "true Maximum call stack size exceeded\n".repeat(5);
    let fresh = s.state.path().join("fresh-cache");
    for cache in [None, Some(&fresh)] {
        let mut runbox = s.runbox();
        if let Some(cache) = cache {
            runbox = runbox.env("RUNBOX_CACHE_DIR", &cache.to_string_lossy());
        }
        let (run, json) = runbox.js(script, &[]);
        run.success();
        assert_eq!(json["stdout"], expected.as_str(), "{json:#}");
    }
}

/// One process, one sandbox: after each kind of runaway, the next step runs.
#[test]
fn the_next_step_runs_after_any_runaway_in_the_same_process() {
    let cache = crate::harness::cache_dir();
    let sandbox = Sandbox::new(&GuestCache::at(cache)).unwrap();
    let context = StepContext::default();
    let base = Limits { timeout: Duration::from_secs(60), fuel: 20_000_000_000, memory: 64 << 20, output: 4096 };
    let step = |source: &str| Script::new(Language::JavaScript, source, "step.js");
    let runaways = [
        ("while (true) {}", Limits { fuel: 20_000_000, ..base }, ErrorCode::OutOfFuel),
        ("while (true) {}", Limits { timeout: Duration::from_millis(100), ..base }, ErrorCode::Timeout),
        ("const a = []; while (true) a.push(new Array(1e5).fill(1))", base, ErrorCode::MemoryLimit),
        ("while (true) console.log('x')", base, ErrorCode::OutputLimit),
    ];
    for (source, limits, code) in runaways {
        let outcome = sandbox.run(&step(source), &context, limits, None);
        assert_eq!(outcome.error.map(|e| e.code), Some(code), "{source}");
        let next = sandbox.run(&step("console.log('still here'); return 1 + 1"), &context, base, None);
        assert_eq!((next.exit_code, next.stdout.text.as_str()), (0, "still here\n"), "after {code}: {:?}", next.error);
        assert_eq!(next.result, Some(serde_json::json!(2)));
    }
}

/// Globals a step sets are gone for the next step: each gets a fresh instance.
#[test]
fn steps_share_no_state() {
    let cache = crate::harness::cache_dir();
    let sandbox = Sandbox::new(&GuestCache::at(cache)).unwrap();
    let step = |source: &str| Script::new(Language::JavaScript, source, "s.js");
    let first = sandbox.run(
        &step("globalThis.leak = 1; Math.max = () => 0; return 1"),
        &StepContext::default(),
        Limits::default(),
        None,
    );
    assert_eq!(first.exit_code, 0);
    let second =
        sandbox.run(&step("return [typeof leak, Math.max(1, 2)]"), &StepContext::default(), Limits::default(), None);
    assert_eq!(second.result, Some(serde_json::json!(["undefined", 2])));
}

#[test]
fn a_sleep_longer_than_the_deadline_ends_at_the_deadline() {
    let s = Scratch::new();
    for script in ["sleep 100; echo after", "while true; do sleep 1; done", "read -t 100 x < /dev/stdin; sleep 50"] {
        let run = s.runbox().args(["sh", "--json", "--timeout", "500ms", "-c", script]).run();
        run.code(124);
        let json = run.json();
        assert_eq!(error_code(&json), "Timeout", "{script}");
        assert!(!run.stdout.contains("after"));
        // The step's own time (a cold guest cache's compilation is not in
        // it). Generous for a loaded machine: the point is 0.5 s, not 50 or 100.
        let took = json["duration_ms"].as_f64().unwrap();
        assert!((500.0..3000.0).contains(&took), "`{script}` took {took} ms under a 500ms timeout");
    }
    // A sleep within the deadline sleeps its whole length.
    let started = std::time::Instant::now();
    let shown_run = s.runbox().args(["sh", "--timeout", "5s", "-c", "sleep 0.3; echo woke"]).run();
    shown_run.success();
    snapshot!("runaway_a_sleep_longer_than_the_deadline_ends_at_the_deadline_10", shown(&s, &shown_run));
    assert!(started.elapsed() >= Duration::from_millis(300));
}

/// A markdown runbook of `n` JS steps, each printing `bytes` (newline
/// included) to stdout and to stderr.
fn loud(n: usize, bytes: usize) -> String {
    let step = format!("```js\nconsole.log('o'.repeat({0})); console.error('e'.repeat({0}))\n```\n", bytes - 1);
    crate::harness::runbook("Loud", "", &[], &[], &step.repeat(n))
}

#[test]
fn what_a_run_keeps_of_many_loud_steps_is_bounded() {
    let s = Scratch::new();
    s.write("Loud.md", &loud(120, 1 << 20));
    let run = s.runbox().args(["run", "--json", "--no-history", "Loud.md"]).run();
    let json = run.success().json();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 120, "every step ran");
    let kept: usize =
        steps.iter().map(|s| s["stdout"].as_str().unwrap().len() + s["stderr"].as_str().unwrap().len()).sum();
    let budget = runbox::DEFAULT_OUTPUT_BUDGET;
    // Each cut step adds one short marker line.
    assert!(kept <= budget + 240 * 100, "kept {kept} bytes of output, budget {budget}");
    assert!(kept >= budget, "the budget is used, not wasted: {kept}");
    assert_eq!(steps[0]["stdout"].as_str().unwrap().len(), 1 << 20, "the first steps are whole");
    let last = steps[119]["stdout"].as_str().unwrap();
    assert!(last.starts_with("[runbox: cut 1048576 bytes: the run keeps at most its output budget]"), "{last:.200}");
    assert_eq!(steps[119]["stdout_truncated"], true);
    // The record is one line of about the kept output (twice: steps and totals).
    let log = s.log();
    assert!(log.len() < 3 * budget, "the record is {} bytes", log.len());
    assert!(run.stdout.len() < 3 * budget, "--json printed {} bytes", run.stdout.len());
}

#[test]
fn the_history_of_a_loud_runbook_stays_loadable() {
    let s = Scratch::new();
    s.write("Loud.md", &loud(1, 1 << 20));
    for _ in 0..25 {
        s.runbox().args(["run", "Loud.md"]).run().success();
    }
    let text = s.read("Loud.md");
    assert_eq!(crate::harness::history_headings(&text).len(), 20);
    // 20 entries of two 8 KiB excerpts, not 20 MiB.
    assert!(text.len() < 20 * 2 * (runbox::HISTORY_STREAM_BYTES + 200) + 2000, "{} bytes", text.len());
    assert!(text.contains("bytes: History keeps the start and the end; the JSON record keeps more]"));
    s.runbox().args(["validate", "Loud.md"]).run().success();
    let shown_run = s.runbox().args(["run", "Loud.md", "--history-keep", "1000"]).run();
    assert_eq!(shown_run.code, 2, "{}", shown_run.stderr);
    snapshot!("runaway_the_history_of_a_loud_runbook_stays_loadable_10", shown(&s, &shown_run));
}

#[test]
fn a_runbook_holds_at_most_ten_thousand_steps() {
    let s = Scratch::new();
    let text = crate::harness::runbook("Many", "", &[], &[], &"```js\nreturn 1\n```\n".repeat(10_001));
    s.write("Many.md", &text);
    let shown_run = s.runbox().args(["validate", "Many.md"]).run();
    assert_eq!(shown_run.code, 1, "{}", shown_run.stderr);
    snapshot!("runaway_a_runbook_holds_at_most_ten_thousand_steps_10", shown(&s, &shown_run));
}

#[test]
fn huge_results_and_error_messages_count_against_the_runs_budget() {
    let s = Scratch::new();
    let mut text = String::from("name: Heavy\nsteps:\n");
    for i in 0..12 {
        text.push_str(&format!(
            "  - name: r{i}\n    type: js\n    on_error: continue\n    with: {{ inline_script: \"return 'r'.repeat(4e6)\" }}\n"
        ));
        text.push_str(&format!(
            "  - name: e{i}\n    type: js\n    on_error: continue\n    with: {{ inline_script: \"throw new Error('e'.repeat(4e6))\" }}\n"
        ));
    }
    s.write("heavy.yaml", &text);
    let run = s.runbox().args(["run", "--json", "heavy.yaml"]).run();
    let json = run.success().json();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 24, "every step ran");
    let budget = runbox::DEFAULT_OUTPUT_BUDGET;
    // 12 results and 12 errors of 4 MB each would be 96 MB (and each error twice: message and stderr).
    assert!(run.stdout.len() < 3 * budget, "--json printed {} bytes", run.stdout.len());
    assert!(s.log().len() < 3 * budget, "the record is {} bytes", s.log().len());
    assert_eq!(steps[0]["result"].as_str().map(str::len), Some(4_000_000), "the first result is whole");
    let dropped = steps.iter().find(|s| s["result_omitted"] == true).expect("a later result is dropped");
    assert!(
        dropped["stderr"].as_str().unwrap().contains(
            "[runbox: cut the step's result (4000002 bytes of JSON): the run keeps at most its output budget]"
        ),
        "{dropped:#}"
    );
    let error = steps[1]["error"]["message"].as_str().unwrap();
    assert!(
        error.len() < 100_000 && error.contains("bytes: error messages are kept up to 16 KiB]"),
        "an error message is capped: {} bytes",
        error.len()
    );
}

/// Peak memory of `runbox run --no-history RUNBOOK`, in KiB, as the kernel
/// counted it for the process (python3's getrusage of its child).
fn peak_rss_kib(s: &Scratch, runbook: &str) -> u64 {
    let runbox = s.runbox();
    let mut wrapper = std::process::Command::new("python3");
    wrapper
        .args([
            "-c",
            "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        ])
        .arg(runbox.cmd.get_program())
        .args(["run", "--no-history", runbook])
        .current_dir(s.path());
    for (k, v) in runbox.cmd.get_envs() {
        if let Some(v) = v {
            wrapper.env(k, v);
        }
    }
    let out = wrapper.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Past the run's output budget a loud step keeps only a marker, and its
/// memory goes with it: many loud steps cost what a few do (BENCHMARKS.md
/// has 1,000 against 10; this bound is looser).
#[test]
fn memory_does_not_grow_with_loud_steps() {
    let s = Scratch::new();
    s.write("Few.md", &loud(10, 1 << 20).replace("Loud", "Few"));
    s.write("Many.md", &loud(150, 1 << 20).replace("Loud", "Many"));
    let (few, many) = (peak_rss_kib(&s, "Few.md"), peak_rss_kib(&s, "Many.md"));
    assert!(many < few + (64 << 10), "150 loud steps peaked at {many} KiB, 10 at {few} KiB");
}

/// A step that holds files open is bounded: each is one of the host
/// process's descriptors, and a `runbox serve` whose descriptors one step
/// took could not open a file or accept a connection for any other run.
/// The bound is about 1024 files a step, a default `ulimit -n`'s worth.
#[test]
fn a_step_holding_files_open_is_stopped_at_its_handle_bound() {
    let s = Scratch::new();
    s.write("f.txt", "a\nb\nc\n");
    let message = "the step held too many files, directories and streams open at once (runbox allows a step \
                   about 1024, as a default `ulimit -n` does, so that no step takes the host's descriptors \
                   from the other runs); close what it is done with, or split the work";
    // The JavaScript guest's own bound comes first, as Node's EMFILE.
    let (run, json) = s.runbox().js("const keep = []; while (true) keep.push(fs.openSync('f.txt', 'r'))", &[]);
    run.code(1);
    assert_eq!(json["error"]["message"], "Error: EMFILE: too many open files, open 'f.txt'", "{json:#}");
    // GNU's round-robin split keeps every piece open.
    let run = s.runbox().args(["sh", "--json", "-c", "split -n r/5000 f.txt piece_"]).run();
    let json = run.json();
    assert_eq!(error_code(&json), "RuntimeError");
    assert_eq!(json["error"]["message"], message, "{json:#}");
    // Below the bound, as many as a script needs.
    let run = s
        .runbox()
        .args(["sh", "-c", "rm -f piece_*; split -n r/1000 f.txt piece_ && ls piece_* | wc -l && cat piece_aab"])
        .run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "1000\nb\n"), "{}", run.stderr);
}
