//! `just bench`: runbox's per-step overhead and end-to-end time against
//! Node (the plain `vm` approach and `node -e`), measured in one run on one
//! machine, written to BENCHMARKS.md. Run with `cargo bench --bench overhead`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use runbox::model::limits::Limits;
use runbox::{GuestCache, Language, Sandbox, Script, StepContext};

const STEP_RUNS: usize = 2000;
const SHELL_RUNS: usize = 1000;
const LOOP: &str = "i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; echo $i";
const PROCESS_RUNS: usize = 40;
const DEADLINE_RUNS: usize = 20;
const COLD_RUNS: usize = 3;
const MANY_STEPS: [usize; 2] = [1000, 4000];
const NATIVE_RUNS: usize = 200;
/// Loud runs compared for peak memory: each step prints 1 MiB to stdout and
/// to stderr, so all but the first few are past the run's output budget.
const LOUD_STEPS: [usize; 2] = [10, 1000];

/// Where the data-size bench's section of BENCHMARKS.md begins, and then
/// `bench/api-load`'s: this bench writes what is above them.
const DATA_MARKER: &str = "<!-- cargo bench --bench data_sizes writes below this line -->";
const API_LOAD_MARKER: &str = "<!-- bench/api-load writes below this line -->";

/// On a thread with the stack guests need, as runbox's own commands run:
/// steps call their guest on it rather than on a thread of their own.
fn main() -> anyhow::Result<()> {
    std::thread::Builder::new()
        .stack_size(runbox::sandbox::GUEST_THREAD_STACK)
        .spawn(|| {
            runbox::sandbox::roomy_thread();
            bench()
        })?
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn bench() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cache = GuestCache::at(Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-cache"));

    // Per step: a warm engine, a fresh instance per step, `return 1`.
    // Both guests' optimised code, compiled by `runbox prepare` if the
    // cache lacks it: in a process of its own, so that the compile's memory
    // is not this process's peak RSS (nor, through fork, Node's).
    let runbox_bin = env!("CARGO_BIN_EXE_runbox");
    // Whether this run compiles them, or an earlier run's cache holds them.
    let cache_was_empty = std::fs::read_dir(cache.dir().unwrap()).map_or(true, |mut entries| entries.next().is_none());
    let first = Instant::now();
    let prepared = Command::new(runbox_bin).arg("prepare").env("RUNBOX_CACHE_DIR", cache.dir().unwrap()).output()?;
    anyhow::ensure!(prepared.status.success(), "runbox prepare: {}", String::from_utf8_lossy(&prepared.stderr));
    let first_start = first.elapsed();
    let warm = Instant::now();
    let sandbox = Sandbox::new(&cache)?;
    sandbox.prepare(Language::JavaScript)?;
    sandbox.prepare(Language::Shell)?;
    let warm_start = warm.elapsed();
    let step = Script::new(Language::JavaScript, "return 1", "bench.js");
    let context = StepContext::default();
    let mut fuel = 0;
    for _ in 0..50 {
        sandbox.run(&step, &context, Limits::default(), None);
    }
    let mut steps = Vec::with_capacity(STEP_RUNS);
    for _ in 0..STEP_RUNS {
        let t = Instant::now();
        let outcome = sandbox.run(&step, &context, Limits::default(), None);
        steps.push(t.elapsed());
        assert_eq!(outcome.result, Some(serde_json::json!(1)), "{:?}", outcome.error);
        fuel = outcome.fuel_consumed;
    }
    let (runbox_p50, runbox_p99) = percentiles(&mut steps);
    let runbox_rss = peak_rss_kib();

    let node = Command::new("node").arg(repo.join("bench/node_vm.js")).arg(STEP_RUNS.to_string()).output();
    let node: Option<serde_json::Value> =
        node.ok().filter(|o| o.status.success()).and_then(|o| serde_json::from_slice(&o.stdout).ok());
    let us = |key: &str| node.as_ref().and_then(|n| n[key].as_f64()).map(|v| Duration::from_nanos((v * 1000.0) as u64));

    // A trivial shell step, against spawning bash as a plain Node runner does and as a
    // plain fork/exec would; then a CPU-bound loop against bash.
    let echo = Script::new(Language::Shell, "echo hi", "bench.sh");
    for _ in 0..20 {
        sandbox.run(&echo, &context, Limits::default(), None);
    }
    let mut shell_steps = Vec::with_capacity(SHELL_RUNS);
    let mut shell_fuel = 0;
    for _ in 0..SHELL_RUNS {
        let t = Instant::now();
        let outcome = sandbox.run(&echo, &context, Limits::default(), None);
        shell_steps.push(t.elapsed());
        assert_eq!(outcome.stdout.text, "hi\n", "{:?}", outcome.error);
        shell_fuel = outcome.fuel_consumed;
    }
    let (sh_p50, sh_p99) = percentiles(&mut shell_steps);
    let node_exec = Command::new("node").arg(repo.join("bench/node_exec.js")).arg(SHELL_RUNS.to_string()).output();
    let node_exec: Option<serde_json::Value> =
        node_exec.ok().filter(|o| o.status.success()).and_then(|o| serde_json::from_slice(&o.stdout).ok());
    let exec_us =
        |key: &str| node_exec.as_ref().and_then(|n| n[key].as_f64()).map(|v| Duration::from_nanos((v * 1000.0) as u64));
    let bash_spawn = time_process(SHELL_RUNS, || {
        let mut c = Command::new("bash");
        c.args(["-c", "echo hi"]);
        c
    });
    let long = Script::new(Language::Shell, LOOP, "loop.sh");
    let limits = Limits { fuel: u64::MAX / 4, timeout: Duration::from_secs(600), ..Limits::default() };
    let t = Instant::now();
    let looped = sandbox.run(&long, &context, limits, None);
    let runbox_loop = t.elapsed();
    assert_eq!(looped.stdout.text, "100000\n", "{:?}", looped.error);
    let bash_loop = time_process(5, || {
        let mut c = Command::new("bash");
        c.args(["-c", LOOP]);
        c
    });

    // End to end: a one-line runbook through the binary, against `node -e`.
    let one_line = repo.join("bench/OneLine.md");
    let cache_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-cache");
    let e2e_runbox = time_process(PROCESS_RUNS, || {
        let mut c = Command::new(runbox_bin);
        c.args(["run", "--no-history"])
            .arg(&one_line)
            .env("RUNBOX_CACHE_DIR", &cache_dir)
            .env("RUNBOX_LOG", "/dev/null");
        c
    })
    .ok_or_else(|| anyhow::anyhow!("`runbox run {}` failed", one_line.display()))?;
    let e2e_node = time_process(PROCESS_RUNS, || {
        let mut c = Command::new("node");
        c.args(["-e", "console.log(1)"]);
        c
    });

    // A first run on a machine: an empty cache each time, whole process.
    let scratch = tempfile::tempdir()?;
    // It answers on baseline code and leaves `runbox prepare` compiling the
    // optimised code; how much later that is cached is waited for (not
    // timed into the run), so the next run starts from an idle machine.
    let cold = |args: &[&str], guest: &str| -> anyhow::Result<(Duration, Duration)> {
        let (mut times, mut behind) = (Vec::with_capacity(COLD_RUNS), Vec::with_capacity(COLD_RUNS));
        for _ in 0..COLD_RUNS {
            let empty = tempfile::tempdir()?;
            let t = Instant::now();
            let out = Command::new(runbox_bin)
                .args(args)
                .current_dir(scratch.path())
                .env("RUNBOX_CACHE_DIR", empty.path())
                .env("RUNBOX_LOG", "/dev/null")
                .output()?;
            anyhow::ensure!(out.status.success(), "runbox {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            times.push(t.elapsed());
            let waited =
                Command::new(runbox_bin).args(["prepare", guest]).env("RUNBOX_CACHE_DIR", empty.path()).output()?;
            anyhow::ensure!(waited.status.success(), "runbox prepare: {}", String::from_utf8_lossy(&waited.stderr));
            behind.push(t.elapsed());
        }
        Ok((percentiles(&mut times).0, percentiles(&mut behind).0))
    };
    let cold_sh = cold(&["sh", "-c", "true"], "sh")?;
    let cold_js = cold(&["js", "-e", "1"], "js")?;
    // The wait a run had before baseline code: `runbox prepare` alone.
    let prepared = |guest: &str| -> anyhow::Result<Duration> {
        let mut times = Vec::with_capacity(COLD_RUNS);
        for _ in 0..COLD_RUNS {
            let empty = tempfile::tempdir()?;
            let t = Instant::now();
            let out =
                Command::new(runbox_bin).args(["prepare", guest]).env("RUNBOX_CACHE_DIR", empty.path()).output()?;
            anyhow::ensure!(out.status.success(), "runbox prepare {guest}: {}", String::from_utf8_lossy(&out.stderr));
            times.push(t.elapsed());
        }
        Ok(percentiles(&mut times).0)
    };
    let (prepare_sh, prepare_js) = (prepared("sh")?, prepared("js")?);
    let warm = |args: &'static [&'static str]| {
        time_process(PROCESS_RUNS, || {
            let mut c = Command::new(runbox_bin);
            c.args(args).current_dir(scratch.path()).env("RUNBOX_CACHE_DIR", &cache_dir).env("RUNBOX_LOG", "/dev/null");
            c
        })
        .map_or("failed".to_string(), |(p50, _)| format!("{:.2} ms", p50.as_secs_f64() * 1e3))
    };
    let (warm_sh, warm_js) = (warm(&["sh", "-c", "true"]), warm(&["js", "-e", "1"]));
    let size = |name: &str| {
        std::fs::metadata(repo.join("guests/dist").join(name))
            .map_or("unknown".to_string(), |m| format!("{:.2} MB", m.len() as f64 / 1e6))
    };
    let (sh_size, js_size) = (size("runbox-sh.wasm"), size("runbox-js.wasm"));
    // A YAML runbook of N trivial JS steps, whole run: linear in N.
    let mut many = Vec::new();
    for n in MANY_STEPS {
        let steps: String = (0..n)
            .map(|i| format!("  - {{ name: s{i}, type: js, with: {{ inline_script: 'return {i}' }} }}\n"))
            .collect();
        let file = scratch.path().join(format!("many-{n}.yaml"));
        std::fs::write(&file, format!("name: many\nsteps:\n{steps}"))?;
        let t = Instant::now();
        let out = Command::new(runbox_bin)
            .args(["run", "--no-history"])
            .arg(&file)
            .current_dir(scratch.path())
            .env("RUNBOX_CACHE_DIR", &cache_dir)
            .env("RUNBOX_LOG", "/dev/null")
            .output()?;
        anyhow::ensure!(out.status.success(), "{n} steps: {}", String::from_utf8_lossy(&out.stderr));
        many.push((n, t.elapsed()));
    }

    // A native `echo hi` step (bash as a real process), confined by the
    // kernel and unconfined, against the same bash fork/exec.
    let workdir = tempfile::tempdir()?;
    let mounts = vec![runbox::sandbox::Mount::open(workdir.path(), runbox::model::WORKDIR, true)?];
    let cancel = runbox::Cancel::new();
    let helper = Path::new(env!("CARGO_BIN_EXE_runbox-native")).to_path_buf();
    let native = |unconfined: bool| -> anyhow::Result<(Duration, Duration)> {
        let step = runbox::native::NativeStep {
            native: runbox::model::Native::Bash,
            script: "echo hi",
            args: &[],
            env: &[],
            cwd: runbox::model::WORKDIR,
            mounts: &mounts,
            tcp_ports: Vec::new(),
            unconfined,
            helper: &helper,
            cancel: &cancel,
            deadline: None,
        };
        let mut times = Vec::with_capacity(NATIVE_RUNS);
        for _ in 0..NATIVE_RUNS {
            let t = Instant::now();
            let outcome = runbox::native::run(&step, Limits::default(), None);
            times.push(t.elapsed());
            anyhow::ensure!(outcome.stdout.text == "hi\n", "native step: {:?}", outcome.error);
        }
        Ok(percentiles(&mut times))
    };
    let (native_confined, native_unconfined) = (native(false)?, native(true)?);

    // Peak memory of a whole `runbox run` of loud steps, as the kernel
    // counted it for that process (python3's getrusage of its child).
    let loud = |n: usize| -> anyhow::Result<u64> {
        let step = format!("```js\nconsole.log('o'.repeat({0})); console.error('e'.repeat({0}))\n```\n", (1 << 20) - 1);
        let file = scratch.path().join(format!("Loud{n}.md"));
        std::fs::write(
            &file,
            format!(
                "# Loud{n}\nLoud steps.\n\n# Environment Requirements\n```yaml\n{{}}\n```\n\n# File System Requirements\n```yaml\nInput:\nOutput:\n```\n\n# Script\n{}\n# History\n",
                step.repeat(n)
            ),
        )?;
        let out = Command::new("python3")
            .args([
                "-c",
                "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
            ])
            .arg(runbox_bin)
            .args(["run", "--no-history"])
            .arg(&file)
            .current_dir(scratch.path())
            .env("RUNBOX_CACHE_DIR", &cache_dir)
            .env("RUNBOX_LOG", "/dev/null")
            .output()?;
        anyhow::ensure!(out.status.success(), "{n} loud steps: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    };
    let (loud_few, loud_many) = (loud(LOUD_STEPS[0])?, loud(LOUD_STEPS[1])?);

    // Instructions (valgrind's callgrind: the same count run after run,
    // whatever else the machine does): a whole one-step process, and what
    // each further JS step adds (11 steps against 1). The guest's optimised
    // code is compiled for valgrind's CPU into a cache of its own, once
    // (about a minute), by `runbox prepare js` under valgrind: a background
    // compile, run natively, would compile for another CPU, and the counted
    // runs would count baseline code.
    let valgrind_cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("valgrind-cache");
    let valgrind_ready = Command::new("valgrind")
        .args(["--tool=none", "-q"])
        .arg(runbox_bin)
        .args(["prepare", "js"])
        .env("RUNBOX_CACHE_DIR", &valgrind_cache)
        .output()
        .is_ok_and(|o| o.status.success());
    let instructions = |file: &Path| -> Option<u64> {
        let out = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(runbox_bin)
            .args(["run", "--no-history"])
            .arg(file)
            .current_dir(scratch.path())
            .env("RUNBOX_CACHE_DIR", &valgrind_cache)
            .env("RUNBOX_LOG", "/dev/null")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stderr);
        let count = text.lines().find_map(|l| l.split("Collected :").nth(1))?;
        count.trim().replace(',', "").parse().ok()
    };
    let steps_file = |n: usize| -> anyhow::Result<std::path::PathBuf> {
        let steps: String = (0..n)
            .map(|i| format!("  - {{ name: s{i}, type: js, with: {{ inline_script: 'return {i}' }} }}\n"))
            .collect();
        let file = scratch.path().join(format!("counted-{n}.yaml"));
        std::fs::write(&file, format!("name: counted\nsteps:\n{steps}"))?;
        Ok(file)
    };
    let (one, eleven) = (steps_file(1)?, steps_file(11)?);
    let counted = valgrind_ready.then(|| Some((instructions(&one)?, instructions(&eleven)?))).flatten();
    let counted_text = counted.map_or(
        "valgrind not found or failed: no instruction counts in this run.".to_string(),
        |(one, eleven)| {
            format!(
                "A one-step JS runbook, whole process: {:.1} M instructions; each further JS step adds {:.0} k\n\
             (`return i`; the guest's own share is its fuel, above).",
                one as f64 / 1e6,
                eleven.saturating_sub(one) as f64 / 10.0 / 1e3
            )
        },
    );
    // The kernel's part: the same namespaces around `true`, against `true`.
    let namespaces = time_process(NATIVE_RUNS, || {
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-current-user", "--pid", "--fork", "--kill-child", "--net", "true"]);
        c
    });
    let bare_true = time_process(NATIVE_RUNS, || Command::new("true"));

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let micros = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    let opt = |d: Option<Duration>, f: &dyn Fn(Duration) -> String| d.map_or("node not found".to_string(), f);
    let ratio = |ours: Duration, theirs: Option<Duration>| {
        theirs.map_or("–".to_string(), |t| format!("{:.1}× faster", t.as_secs_f64() / ours.as_secs_f64()))
    };
    let machine = format!("{} cores, {}", std::thread::available_parallelism().map_or(0, |n| n.get()), cpu_model());
    // A wait that outlives the deadline: `sleep 100` under a 200 ms timeout,
    // how late the step ends, against coreutils `timeout 0.2 bash -c 'sleep 100'`.
    let sleeper = Script::new(Language::Shell, "sleep 100", "bench.sh");
    let deadline = Duration::from_millis(200);
    let limits = Limits { timeout: deadline, ..Limits::default() };
    let mut late = Vec::with_capacity(DEADLINE_RUNS);
    for _ in 0..DEADLINE_RUNS {
        let t = Instant::now();
        let outcome = sandbox.run(&sleeper, &context, limits, None);
        late.push(t.elapsed().saturating_sub(deadline));
        assert_eq!(outcome.exit_code, 124, "{:?}", outcome.error);
    }
    let (late_p50, late_p99) = percentiles(&mut late);
    // `timeout` exits 124 by design; time each run whatever its status.
    let mut coreutils_late = Vec::with_capacity(DEADLINE_RUNS);
    for _ in 0..DEADLINE_RUNS {
        let t = Instant::now();
        if Command::new("timeout").args(["0.2", "bash", "-c", "sleep 100"]).status().is_err() {
            break;
        }
        coreutils_late.push(t.elapsed().saturating_sub(deadline));
    }
    let coreutils = (coreutils_late.len() == DEADLINE_RUNS).then(|| percentiles(&mut coreutils_late));

    let report = format!(
        "# Benchmarks\n\n\
         Measured by `just bench` (`cargo bench --bench overhead`) on {machine}, {date}.\n\
         Every figure in a table comes from the same run. Wall-clock figures on this shared 2-core VM vary by\n\
         ±30% between runs; fuel (wasm instructions) does not vary at all.\n\n\
         ## Per-step overhead of a trivial JavaScript step\n\n\
         A warm engine running `return 1` in a fresh sandbox instance per step ({STEP_RUNS} runs after 50 warm-up runs),\n\
         against the plain Node approach: Node's `vm.createContext` + `Script.runInContext` with `console`, `get`, `fs`\n\
         and `path` injected (`bench/node_vm.js`).\n\n\
         | | p50 | p99 | peak RSS |\n|---|---|---|---|\n\
         | runbox (QuickJS on wasmtime, Wizer snapshot) | {} | {} | {} MiB (whole bench process) |\n\
         | Node `vm` context | {} | {} | {} MiB |\n\
         | ratio (p50) | {} | | |\n\n\
         A runbox step consumes {fuel} units of fuel. Target: p50 ≤ 100 µs.\n\n\
         Instances come from wasmtime's on-demand allocator, with the snapshot's memory mapped copy-on-write.\n\
         Its pooling allocator was tried on 2026-11-24 (3000 steps each, same machine, same hour): with 1 MiB of\n\
         memory kept resident per slot, p50 115 µs (JS) and 155 µs (shell) against 95 µs and 115 µs on demand;\n\
         with nothing kept resident, 97 µs and 127 µs at p50 (p90 103 µs and 147 µs against 127 µs and 168 µs).\n\
         No p50 gain, and a pool caps concurrent instances (a server's executions and their sub-runbooks) and\n\
         reserves address space for each slot's largest memory, so runbox stays on demand.\n\n\
         ## Per-step overhead of a trivial shell step\n\n\
         `echo hi` in a fresh sandbox instance per step, warm engine ({SHELL_RUNS} runs after 20 warm-up runs),\n\
         against the plain Node approach (Node's `child_process.exec('echo hi', {{shell: 'bash'}})`, `bench/node_exec.js`)\n\
         and a plain `bash -c 'echo hi'` fork/exec from Rust.\n\n\
         | | p50 | p99 |\n|---|---|---|\n\
         | runbox (bashkit on wasmtime) | {} | {} |\n\
         | Node `child_process.exec`, bash | {} | {} |\n\
         | `bash -c` fork/exec | {} | {} |\n\
         | ratio (p50) against Node exec / bash | {} / {} | |\n\n\
         A runbox shell step consumes {shell_fuel} units of fuel. Target: p50 ≤ 150 µs, ≥ 15× faster than spawning bash.\n\n\
         A CPU-bound script, `{LOOP}`: runbox {} ({} fuel), bash {} (median of 5).\n\
         bashkit interprets each command at about 45k wasm instructions (two per iteration); bash is the faster\n\
         interpreter for long loops, runbox for the many short steps runbooks are made of.\n\n\
         ### Where a shell loop's time goes\n\n\
         Measured apart from this run, by `scripts/profile-shell-loop` (median of 5) on 2026-11-24; the two\n\
         \"without\" rows are one-off runs with `consume_fuel(false)` and `epoch_interruption(false)` in\n\
         `Compiler::new` (`host/src/sandbox/tiers.rs`), which runbox offers no option for.\n\n\
         | the loop above | time | × bash |\n|---|---|---|\n\
         | bash | 0.20 s | 1.0 |\n\
         | bashkit natively, with runbox's budgets (`scripts/bashkit-alone --unlimited`) | 0.54 s | 2.7 |\n\
         | runbox sh: bashkit in the sandbox | 1.30 s | 6.4 |\n\
         | the same without fuel metering | 0.95 s | 4.7 |\n\
         | the same without fuel metering or epoch checks | 0.76 s | 3.8 |\n\n\
         Of the 6.4×: bashkit's interpreter is 2.7× bash natively; WebAssembly adds 1.4× over native code;\n\
         fuel metering takes 27 % of the sandboxed run and the epoch check 4 %. Both stay: fuel is the\n\
         deterministic instruction budget, the epoch the wall-clock deadline. bashkit's own budgets\n\
         are lifted in the guest (a guest built without bashkit's deadline used the same fuel: it reads no\n\
         clock per command). perf's top self-time entries for bashkit natively: `memcmp` 14 %, `memmove` 12 %,\n\
         glibc `malloc`/`free` 13 % together, SipHash (variable lookups) 3 %, `ExecutionBudget::check` 3 %,\n\
         `execute_simple_command_body` 2 %, `ArithEval::eval_str` 2 %: each command copies and compares words\n\
         and allocates, inside bashkit. Reaching 2× bash needs fewer copies in bashkit's interpreter, which is\n\
         bashkit's to change (runbox depends on it through its registry and does not fork it).\n\n\
         ## Deadline lateness\n\n\
         How long after its 200 ms deadline a step that runs `sleep 100` ends ({DEADLINE_RUNS} runs), against\n\
         coreutils `timeout 0.2 bash -c 'sleep 100'` (whole process, so it includes starting bash).\n\n\
         | | p50 | p99 |\n|---|---|---|\n\
         | runbox (`Timeout`) | {} | {} |\n\
         | coreutils `timeout` | {} | {} |\n\n\
         Target: within 10 ms of the deadline.\n\n\
         ## End to end\n\n\
         Wall time of a whole process, median of {PROCESS_RUNS} runs: `runbox run --no-history bench/OneLine.md`\n\
         (a one-line `console.log(1)` runbook, compiled guest cached) against `node -e 'console.log(1)'`.\n\n\
         | | p50 | p99 |\n|---|---|---|\n\
         | `runbox run` | {} | {} |\n\
         | `node -e` | {} | {} |\n\
         | ratio (p50) | {} | |\n\n\
         Target: ≤ 10 ms with a warm cache. Preparing both guests (`runbox prepare`) took {} in this run\n\
         ({}), and loading them in-process {} from the warm cache.\n\n\
         A YAML runbook of N trivial JS steps (`return i`), whole process: {} steps {}, {} steps {} ({:.2}× the\n\
         time for {:.0}× the steps; linear is the goal).\n\n\
         ## Native tier: a confined `echo hi`\n\n\
         A native bash step ({NATIVE_RUNS} runs): runbox's helper `runbox-native` (user, mount, PID and network\n\
         namespaces, its own root, Landlock, seccomp, no-new-privs, rlimits), then bash; the same unconfined (`--allow-native=unconfined`); and\n\
         the plain `bash -c` fork/exec and Node `child_process.exec` from above.\n\n\
         | | p50 | p99 |\n|---|---|---|\n\
         | native, confined | {} | {} |\n\
         | native, unconfined | {} | {} |\n\
         | `bash -c` fork/exec | {} | {} |\n\
         | Node `child_process.exec`, bash | {} | {} |\n\n\
         Confinement adds {} at p50 over the unconfined step, and the whole native step {} over `bash -c`\n\
         (goal: ≤ 1 ms). For scale, util-linux `unshare` making the same namespaces (its start, the namespaces,\n\
         its fork), which runbox used until 2026-11-24, costs {}: around `true` it takes {} at p50, `true` alone {}.\n\n\
         Since 2026-12-04 the helper also makes a mount namespace and builds the step's own root in it (the\n\
         system's programs bound read-only, a minimal /dev, its own /proc, its mounts bound and checked), joins a\n\
         control group where it may, drops capabilities and installs a seccomp filter; before that, on 2026-11-24,\n\
         a confined step cost 2.78 ms at p50 against 2.38 ms unconfined. Where the time goes now (an instrumented\n\
         build, 100 steps, not committed): the namespaces 0.6–0.8 ms (the network namespace most of it), the root\n\
         and the Landlock rules 1.3–1.5 ms; as root on cgroup v1, joining the pids and memory groups adds 0.5 ms\n\
         to 15 ms (the kernel waits for an RCU grace period to move a process). Security first: the goal of 1 ms\n\
         is not met.\n\n\
         ## Memory of a loud run\n\n\
         Peak RSS of a whole `runbox run --no-history` whose every JS step prints 1 MiB to stdout and to stderr\n\
         (past the run's 8 MiB output budget a step keeps only a marker): {} steps {} MiB, {} steps {} MiB ({} MiB\n\
         more; the goal is within 64 MiB). Before 2026-12-04 each loud step kept about 2 MiB (450 steps reached\n\
         981 MiB).\n\n\
         ## Instructions (callgrind)\n\n\
         {counted_text}\n\n\
         ## First run on a machine\n\n\
         Whole process with an empty compiled-guest cache (median of {COLD_RUNS}): the guest as built (not\n\
         snapshotted) compiled by Winch and run (baseline code), while a `runbox prepare` process makes the\n\
         snapshot (its initialiser compiled by Winch and run once) and compiles it with Cranelift in the\n\
         background; \"optimised code cached\" is when that ended, from the run's start. `runbox prepare`\n\
         alone is the wait a first run had when it made the optimised code before its step.\n\n\
         | | empty cache | optimised code cached | `runbox prepare` alone | warm cache |\n|---|---|---|---|---|\n\
         | `runbox sh -c true` | {} | {} | {} | {warm_sh} |\n\
         | `runbox js -e 1` | {} | {} | {} | {warm_js} |\n\n\
         The guests as built (`guests/dist/`): the shell guest {sh_size}, the JavaScript guest {js_size}.\n\n\
         Before Winch compiled the initialiser (2026-11-24, same machine): 10.71 s and 1.71 s; before the\n\
         baseline code (same day): 5.97 s and 1.00 s; with snapshotted baseline code (same day): 1.34 s and 0.31 s.\n\n\
         Before issue 21 (2026-12-05, at 3cc435b, same machine) the shell guest was 9.19 MB and the JavaScript\n\
         guest 1.41 MB; `runbox sh -c true` took 1333.34 ms with an empty cache, 10400.07 ms to prepare and\n\
         7.83 ms warm, `runbox js -e 1` 285.42 ms, 1707.57 ms and 7.18 ms. Since, the shell guest carries jq\n\
         (jaq) and the time zones, getopt and expr, and the JavaScript guest timers, Buffer, URL (the url\n\
         crate), Web Crypto and Node's hashes (RustCrypto), events and the rest of the Web APIs in README.\n\
         The per-step cost then (2026-12-04, same machine): a JS step 178 µs at p50 and 69028 units of fuel, a\n\
         shell step 289 µs and 245176, 1000 trivial JS steps 324.14 ms; the JavaScript prelude's setup adds\n\
         about 7,700 units of fuel a step (+11 %).\n\n\
         Before `Intl` (2026-12-05, at 97a0b0b, same machine) the JavaScript guest was 1.80 MB; `runbox js -e 1`\n\
         took 267.66 ms with an empty cache, 1593.97 ms to prepare and 6.70 ms warm, and a JS step 215 µs at\n\
         p50 and 76753 units of fuel. Since, it carries ICU4X with CLDR's data for every locale and the IANA\n\
         time zones (jiff's), the data being most of its growth.\n\n\
         ## Reproduce\n\n\
         ```sh\njust bench        # or: cargo bench --bench overhead\n```\n\n\
         Node must be on `PATH` for its rows. The bench rewrites this file above the API section;\n\
         `just bench-api` (`bench/api-load [SECONDS] [CONNECTIONS]`, which installs wrk and Flask when\n\
         missing) rewrites the API section.\n",
        micros(runbox_p50),
        micros(runbox_p99),
        runbox_rss / 1024,
        opt(us("p50_us"), &micros),
        opt(us("p99_us"), &micros),
        node.as_ref().and_then(|n| n["max_rss_kib"].as_u64()).map_or("–".into(), |k| (k / 1024).to_string()),
        ratio(runbox_p50, us("p50_us")),
        micros(sh_p50),
        micros(sh_p99),
        opt(exec_us("p50_us"), &micros),
        opt(exec_us("p99_us"), &micros),
        opt(bash_spawn.map(|b| b.0), &micros),
        opt(bash_spawn.map(|b| b.1), &micros),
        ratio(sh_p50, exec_us("p50_us")),
        ratio(sh_p50, bash_spawn.map(|b| b.0)),
        ms(runbox_loop),
        looped.fuel_consumed,
        opt(bash_loop.map(|b| b.0), &ms),
        ms(late_p50),
        ms(late_p99),
        opt(coreutils.map(|c| c.0), &ms),
        opt(coreutils.map(|c| c.1), &ms),
        ms(e2e_runbox.0),
        ms(e2e_runbox.1),
        opt(e2e_node.map(|n| n.0), &ms),
        opt(e2e_node.map(|n| n.1), &ms),
        ratio(e2e_runbox.0, e2e_node.map(|n| n.0)),
        ms(first_start),
        if cache_was_empty {
            "snapshots and compilation: the bench's cache was empty"
        } else {
            "the bench's cache held them from an earlier run: the cold figures are under \"First run on a machine\""
        },
        ms(warm_start),
        many[0].0,
        ms(many[0].1),
        many[1].0,
        ms(many[1].1),
        many[1].1.as_secs_f64() / many[0].1.as_secs_f64(),
        many[1].0 as f64 / many[0].0 as f64,
        ms(native_confined.0),
        ms(native_confined.1),
        ms(native_unconfined.0),
        ms(native_unconfined.1),
        opt(bash_spawn.map(|b| b.0), &ms),
        opt(bash_spawn.map(|b| b.1), &ms),
        opt(exec_us("p50_us"), &ms),
        opt(exec_us("p99_us"), &ms),
        ms(native_confined.0.saturating_sub(native_unconfined.0)),
        opt(bash_spawn.map(|b| native_confined.0.saturating_sub(b.0)), &ms),
        namespaces.zip(bare_true).map_or("(unshare failed)".to_string(), |(n, t)| ms(n.0.saturating_sub(t.0))),
        opt(namespaces.map(|n| n.0), &ms),
        opt(bare_true.map(|t| t.0), &ms),
        LOUD_STEPS[0],
        loud_few / 1024,
        LOUD_STEPS[1],
        loud_many / 1024,
        loud_many.saturating_sub(loud_few) / 1024,
        ms(cold_sh.0),
        ms(cold_sh.1),
        ms(prepare_sh),
        ms(cold_js.0),
        ms(cold_js.1),
        ms(prepare_js),
        date = today(),
    );
    // What the data-size bench and bench/api-load wrote below their markers stays.
    let path = repo.join("BENCHMARKS.md");
    let kept = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.find(DATA_MARKER).or_else(|| old.find(API_LOAD_MARKER)).map(|at| old[at..].to_string()))
        .unwrap_or_default();
    let sep = if kept.is_empty() { "" } else { "\n" };
    std::fs::write(&path, format!("{report}{sep}{kept}"))?;
    println!("{report}");
    Ok(())
}

fn percentiles(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    let pick = |q: f64| times[((q * times.len() as f64) as usize).min(times.len() - 1)];
    (pick(0.5), pick(0.99))
}

fn time_process(runs: usize, command: impl Fn() -> Command) -> Option<(Duration, Duration)> {
    let mut times = Vec::with_capacity(runs);
    command().output().ok()?;
    for _ in 0..runs {
        let t = Instant::now();
        let out = command().output().ok()?;
        if !out.status.success() {
            return None;
        }
        times.push(t.elapsed());
    }
    Some(percentiles(&mut times))
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{}-{:02}-{:02}", now.year(), now.month() as u8, now.day())
}
