//! A first run on a machine (an empty compiled-guest cache): it answers on
//! baseline code while the optimised code is compiled in the background by
//! `runbox prepare`, it honours every limit on that code, and deterministic
//! mode waits for the optimised code, whose fuel it reports.

use std::path::Path;
use std::time::Duration;

use runbox::model::limits::Limits;
use runbox::{ErrorCode, GuestCache, Language, Sandbox, Script, StepContext};

use crate::harness::Scratch;

/// The compiled guests in `cache`, by file name, sorted.
fn compiled(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cwasm"))
        .collect();
    names.sort();
    names
}

/// `runbox prepare GUEST...` on `cache`: it waits for a compile already
/// under way there.
fn prepare(s: &Scratch, cache: &Path, guests: &[&str]) {
    s.runbox().env("RUNBOX_CACHE_DIR", &cache.to_string_lossy()).args(["prepare"]).args(guests).run().success();
}

#[test]
fn a_first_run_answers_before_the_optimised_code_is_compiled() {
    let s = Scratch::new();
    let cache = s.state.path().join("cache");
    let first =
        s.runbox().env("RUNBOX_CACHE_DIR", &cache.to_string_lossy()).args(["sh", "-c", "echo first; exit 3"]).run();
    // The output's end came with the step's: no compile holds it open.
    assert_eq!((first.code, first.stdout.as_str(), first.stderr.as_str()), (3, "first\n", ""));
    let baseline = compiled(&cache);
    assert_eq!(baseline.len(), 1, "only the baseline code, when the step ended: {baseline:?}");

    // The compile left running is waited for, not done again; the
    // optimised code replaces the baseline code in the cache.
    prepare(&s, &cache, &["sh"]);
    let optimised = compiled(&cache);
    assert_eq!(optimised.len(), 1, "{optimised:?}");
    assert_ne!(optimised, baseline);
    let second = s.runbox().env("RUNBOX_CACHE_DIR", &cache.to_string_lossy()).args(["sh", "-c", "echo second"]).run();
    assert_eq!((second.code, second.stdout.as_str()), (0, "second\n"));
    assert_eq!(compiled(&cache), optimised, "the second run compiled nothing");

    // `runbox prepare` alone fills a cache with both guests, and says so.
    let other = s.state.path().join("other");
    let prepared = s.runbox().env("RUNBOX_CACHE_DIR", &other.to_string_lossy()).args(["prepare"]).run();
    prepared.success();
    let said: Vec<&str> = prepared.stderr.lines().map(|l| l.split(" (").next().unwrap()).collect();
    let dir = other.display();
    assert_eq!(
        said,
        [
            format!("runbox: the JavaScript sandbox is compiled, in {dir}"),
            format!("runbox: the shell sandbox is compiled, in {dir}"),
        ]
    );
    assert_eq!(compiled(&other).len(), 2);
}

/// Deterministic mode pins fuel, so its first run waits for the code every
/// later run uses: the same fuel from an empty cache as from a warm one.
#[test]
fn a_deterministic_first_run_counts_the_fuel_of_every_run() {
    let s = Scratch::new();
    let cache = s.state.path().join("cache");
    let script = "let s = 0; for (let i = 0; i < 20000; i++) s += i % 7; console.log(s)";
    let fuel = |cache: Option<&Path>| {
        let mut runbox = s.runbox();
        if let Some(cache) = cache {
            runbox = runbox.env("RUNBOX_CACHE_DIR", &cache.to_string_lossy());
        }
        let (run, json) = runbox.js(script, &["--deterministic"]);
        run.success();
        json["fuel_consumed"].as_u64().unwrap()
    };
    assert_eq!(fuel(Some(&cache)), fuel(None));
    assert_eq!(compiled(&cache).len(), 1, "the optimised code only");
}

/// Every limit holds on baseline code: a fresh sandbox without a cache runs
/// its first step on it.
#[test]
fn baseline_code_honours_every_limit() {
    let base = Limits { timeout: Duration::from_secs(60), fuel: 20_000_000_000, memory: 64 << 20, output: 4096 };
    let cases = [
        (Language::JavaScript, "while (true) {}", Limits { fuel: 20_000_000, ..base }, ErrorCode::OutOfFuel),
        (
            Language::JavaScript,
            "while (true) {}",
            Limits { timeout: Duration::from_millis(200), ..base },
            ErrorCode::Timeout,
        ),
        (
            Language::JavaScript,
            "const a = []; while (true) a.push(new Array(1e5).fill(1))",
            base,
            ErrorCode::MemoryLimit,
        ),
        (Language::JavaScript, "while (true) console.log('x')", base, ErrorCode::OutputLimit),
        (Language::JavaScript, "function down(n) { return down(n + 1) + 1 } down(0)", base, ErrorCode::RuntimeError),
        (Language::Shell, "while true; do :; done", Limits { fuel: 20_000_000, ..base }, ErrorCode::OutOfFuel),
        (
            Language::Shell,
            "while true; do :; done",
            Limits { timeout: Duration::from_millis(200), ..base },
            ErrorCode::Timeout,
        ),
    ];
    for (language, source, limits, code) in cases {
        let sandbox = Sandbox::new(&GuestCache::disabled()).unwrap();
        let outcome = sandbox.run(&Script::new(language, source, "first"), &StepContext::default(), limits, None);
        assert_eq!(outcome.error.as_ref().map(|e| e.code), Some(code), "{source}: {:?}", outcome.error);
        if code == ErrorCode::RuntimeError {
            let message = &outcome.error.unwrap().message;
            assert!(message.contains("Maximum call stack size exceeded"), "{message}");
        }
    }
}

/// The background compile holds no descriptor runbox was given beyond its
/// stdio: a caller reading a pipe it passed as fd 3 (`3>&1`, a common way to
/// capture stderr) sees its end when runbox exits, not when the compile does.
#[test]
fn the_background_compile_keeps_no_descriptor_of_the_callers() {
    let s = Scratch::new();
    let cache = s.state.path().join("cache");
    let out = std::process::Command::new("bash")
        .args(["-c", "exec 3>&1; \"$RUNBOX\" sh -c 'echo hi' > /dev/null"])
        .env("RUNBOX", env!("CARGO_BIN_EXE_runbox"))
        .env("RUNBOX_CACHE_DIR", &cache)
        .env("RUNBOX_LOG", s.log_path())
        .current_dir(s.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let when_it_ended = compiled(&cache);
    prepare(&s, &cache, &["sh"]);
    assert_ne!(compiled(&cache), when_it_ended, "the pipe ended only when the optimised code was made");
}

/// The background compile outlives the run: it is given where runbox keeps
/// its files, and none of the caller's other variables (a token, say).
#[test]
fn the_background_compile_keeps_no_variable_of_the_callers() {
    let s = Scratch::new();
    let cache = s.state.path().join("cache");
    let run = s
        .runbox()
        .env("RUNBOX_CACHE_DIR", &cache.to_string_lossy())
        .env("DEPLOY_TOKEN", "PLANTED-SECRET-4c1d")
        .args(["sh", "-c", "true"])
        .run();
    run.success();
    let ours = format!("RUNBOX_CACHE_DIR={}", cache.display());
    let environs: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
            let environ = String::from_utf8_lossy(&std::fs::read(dir.join("environ")).ok()?).into_owned();
            (cmdline.windows(13).any(|w| w == b"--background\0") && environ.split('\0').any(|v| v == ours))
                .then_some(environ)
        })
        .collect();
    assert_eq!(environs.len(), 1, "one background compile for this cache");
    assert!(!environs[0].contains("PLANTED-SECRET"), "{}", environs[0]);
    prepare(&s, &cache, &["sh"]);
}

/// A library's sandbox, with no runbox program to start, compiles the
/// optimised code on a thread: the cache then holds it in place of the
/// baseline code, and the process's later steps run on it (with its fuel).
#[test]
fn in_a_library_the_optimised_code_is_compiled_on_a_thread() {
    let s = Scratch::new();
    let cache = s.state.path().join("cache");
    let step = Script::new(Language::JavaScript, "return 6 * 7", "t.js");
    let run = |sandbox: &Sandbox| {
        let outcome = sandbox.run(&step, &StepContext::default(), Limits::default(), None);
        assert_eq!(outcome.result, Some(serde_json::json!(42)), "{:?}", outcome.error);
        outcome.fuel_consumed
    };
    let warm = run(&Sandbox::new(&GuestCache::at(crate::harness::cache_dir())).unwrap());
    let sandbox = Sandbox::new(&GuestCache::at(&cache)).unwrap();
    assert_ne!(run(&sandbox), warm, "the first step runs on baseline code");
    let baseline = compiled(&cache);
    assert_eq!(baseline.len(), 1, "{baseline:?}");
    let started = std::time::Instant::now();
    // Done when the baseline entry is gone: it goes once the optimised code
    // is cached and loaded.
    while compiled(&cache).contains(&baseline[0]) && started.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let optimised = compiled(&cache);
    assert!(optimised.len() == 1 && optimised != baseline, "{optimised:?}");
    assert_eq!(run(&sandbox), warm, "later steps run on the optimised code");
}
