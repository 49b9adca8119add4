//! Running the `runbox` binary the way a user does, in throwaway folders.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tempfile::TempDir;

/// The repository's root, where `runbooks/` lives.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The sample runbooks of runbooks/, by file name, sorted.
pub fn sample_names() -> Vec<String> {
    let mut samples: Vec<String> = std::fs::read_dir(repo().join("runbooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".md") || n.ends_with(".yaml")) && n != "registry.yaml")
        .collect();
    samples.sort();
    samples
}

/// Compiled guests are cached once for the whole test run, optimised
/// (`runbox prepare`) before any test runs a step, so that every test runs
/// on the code a warm machine runs; `first_run.rs` tests the first run.
pub fn cache_dir() -> PathBuf {
    static PREPARED: std::sync::Once = std::sync::Once::new();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runbox-cache");
    PREPARED.call_once(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_runbox"))
            .arg("prepare")
            .env("RUNBOX_CACHE_DIR", &dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "runbox prepare: {}", String::from_utf8_lossy(&out.stderr));
    });
    dir
}

/// A scratch folder for one test, with helpers to fill it, and runbox's
/// state (log, consent) beside it: no sandbox may mount runbox's state, and
/// the scratch folder is what `runbox js`/`sh` mount.
pub struct Scratch {
    pub dir: TempDir,
    pub state: TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch { dir: tempfile::tempdir().unwrap(), state: tempfile::tempdir().unwrap() }
    }

    /// The JSON log of executions.
    pub fn log_path(&self) -> PathBuf {
        self.state.path().join("executions.jsonl")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_else(|e| panic!("cannot read the log: {e}"))
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    /// Copies a sample runbook and its folder of files here.
    pub fn sample(&self, name: &str) -> PathBuf {
        let src = repo().join("runbooks");
        std::fs::copy(src.join(format!("{name}.md")), self.join(&format!("{name}.md"))).unwrap();
        if src.join(name).is_dir() {
            copy_dir(&src.join(name), &self.join(name));
        }
        without_history_entries(&self.join(&format!("{name}.md")));
        self.join(&format!("{name}.md"))
    }

    /// Copies every sample of runbooks/ (runbooks, their folders, scripts
    /// and registry) here, as a user's checkout would have them.
    pub fn samples(&self) {
        copy_dir(&repo().join("runbooks"), self.path());
        let _ = std::fs::remove_dir_all(self.join("out"));
        for name in sample_names().iter().filter(|n| n.ends_with(".md")) {
            without_history_entries(&self.join(name));
        }
    }

    /// `runbox ARGS` with this folder as the working directory.
    pub fn runbox(&self) -> Runbox {
        self.runbox_at(Path::new(env!("CARGO_BIN_EXE_runbox")))
    }

    /// The same, with the `runbox` binary at `program`.
    pub fn runbox_at(&self, program: &Path) -> Runbox {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.path())
            .env("RUNBOX_CACHE_DIR", cache_dir())
            .env("RUNBOX_LOG", self.log_path())
            .env("RUNBOX_STATE_DIR", self.state.path())
            .env_remove("RUNBOX_LOG_LEVEL")
            // How runbox's own lines look depends on these; a test that
            // cares sets them (the suite may itself run under GitHub Actions).
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_WORKSPACE")
            .env_remove("NO_COLOR")
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_CTYPE")
            .stdin(Stdio::null());
        Runbox { cmd }
    }
}

/// A sample as committed: the entries a run on this checkout appended to
/// its `# History` (README's quick start runs HelloWorld.md before the
/// tests) are left out, so no test depends on the tracked file being
/// pristine.
fn without_history_entries(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let Some(at) = text.find("\n# History\n") else { return };
    let body = at + "\n# History\n".len();
    let first_entry = text[body..].find("\n### ").map_or(text.len(), |i| body + i);
    let kept = if text[body..].starts_with("### ") { body } else { first_entry };
    let mut pristine = text[..kept].trim_end().to_string();
    pristine.push('\n');
    if pristine != text {
        std::fs::write(path, pristine).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub struct Runbox {
    pub cmd: Command,
}

impl Runbox {
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Runbox {
        self.cmd.args(args);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Runbox {
        self.cmd.current_dir(dir);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Runbox {
        self.cmd.env_remove(key);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Runbox {
        self.cmd.env(key, value);
        self
    }

    /// Runs under a pseudo-terminal (util-linux `script`), typing `typed`
    /// once runbox has had a moment to ask.
    pub fn on_terminal(self, typed: &str) -> Run {
        let quote = |a: &std::ffi::OsStr| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''"));
        let line: Vec<String> = std::iter::once(self.cmd.get_program()).chain(self.cmd.get_args()).map(quote).collect();
        let mut script = Command::new("script");
        script.args(["-qec", &line.join(" "), "/dev/null"]);
        if let Some(dir) = self.cmd.get_current_dir() {
            script.current_dir(dir);
        }
        for (key, value) in self.cmd.get_envs() {
            match value {
                Some(v) => script.env(key, v),
                None => script.env_remove(key),
            };
        }
        let mut child = script
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs (Debian's bsdutils)");
        let mut stdin = child.stdin.take().unwrap();
        let typed = typed.to_string();
        std::thread::spawn(move || {
            use std::io::Write;
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let _ = stdin.write_all(typed.as_bytes());
            // Held open: an end of input could reach runbox before its question.
            std::thread::sleep(std::time::Duration::from_secs(60));
        });
        Run::from(child.wait_with_output().unwrap())
    }

    pub fn run(mut self) -> Run {
        Run::from(self.cmd.output().expect("runbox starts"))
    }

    /// Runs with `input` on stdin (written, then closed).
    pub fn run_with_stdin(self, input: &str) -> Run {
        Run::from(self.spawn_with_stdin(input).wait_with_output_after_stdin())
    }

    pub fn spawn(mut self) -> Child {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runbox starts")
    }

    /// `runbox js --json -e CODE EXTRA...`, parsed.
    pub fn js(self, code: &str, extra: &[&str]) -> (Run, serde_json::Value) {
        let run = self.args(["js", "--json", "-e", code]).args(extra).run();
        let json = run.json();
        (run, json)
    }
}

/// What a finished `runbox` printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().expect("runbox exits, not killed by a signal"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn success(&self) -> &Run {
        assert_eq!(self.code, 0, "runbox failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "wrong exit status:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Run {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Run {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}", self.stdout);
        self
    }
}

/// The error code of a `--json` result (`runbox js` or one step of `run`).
pub fn error_code(json: &serde_json::Value) -> &str {
    json["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {json:#}"))
}

/// A YAML runbook, built: its title, top-level fields as written, and steps
/// whose scripts are block scalars (indented here, once).
///
/// `Yaml::new("T").field("inputs:\n  x: string").sh("only", "echo {{ inputs.x }}").text()`
#[derive(Clone, Debug)]
pub struct Yaml {
    head: String,
    steps: String,
}

impl Yaml {
    pub fn new(title: &str) -> Yaml {
        Yaml { head: format!("name: {title}\n"), steps: String::new() }
    }

    /// A top-level field (or several), as YAML text.
    pub fn field(mut self, yaml: &str) -> Yaml {
        self.head.push_str(yaml.trim_end_matches('\n'));
        self.head.push('\n');
        self
    }

    /// A shell step.
    pub fn sh(self, name: &str, script: &str) -> Yaml {
        self.step(name, "sh", "", script)
    }

    /// A step of type `kind`, with `fields` (YAML lines at the step's level,
    /// such as `native: true` or `on_error: continue`) and `script` inline.
    pub fn step(mut self, name: &str, kind: &str, fields: &str, script: &str) -> Yaml {
        let fields: String = fields.lines().map(|l| format!("    {l}\n")).collect();
        let script: String = script.lines().map(|l| format!("        {l}\n")).collect();
        self.steps.push_str(&format!(
            "  - name: {name}\n    type: {kind}\n{fields}    with:\n      inline_script: |\n{script}"
        ));
        self
    }

    pub fn text(&self) -> String {
        format!("{}steps:\n{}", self.head, self.steps)
    }
}

/// A minimal valid markdown runbook around `script` (a js block).
pub fn runbook(name: &str, env: &str, inputs: &[&str], outputs: &[&str], script: &str) -> String {
    let list = |items: &[&str]| items.iter().map(|i| format!("- {i}\n")).collect::<String>();
    let env = if env.is_empty() { "{}".to_string() } else { env.to_string() };
    format!(
        "# {name}\nA test runbook.\n\n# Environment Requirements\n```yaml\n{env}\n```\n\n# File System Requirements\n```yaml\nInput:\n{}Output:\n{}```\n\n# Script\n{script}\n\n# History\n",
        list(inputs),
        list(outputs)
    )
}

/// The history entries (`### ...` lines) of a markdown runbook.
pub fn history_headings(text: &str) -> Vec<String> {
    let history = &text[text.find("\n# History").expect("a History section")..];
    history.lines().filter(|l| l.starts_with("### ")).map(str::to_string).collect()
}

/// A child whose stdin is written and closed before waiting.
pub trait StdinChild {
    fn wait_with_output_after_stdin(self) -> Output;
}

impl StdinChild for (Child, String) {
    fn wait_with_output_after_stdin(self) -> Output {
        let (mut child, input) = self;
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

impl Runbox {
    pub fn spawn_with_stdin(mut self, input: &str) -> (Child, String) {
        let child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runbox starts");
        (child, input.to_string())
    }
}

/// Sends `signal` (`INT` or `TERM`) to `child`.
pub fn signal(child: &Child, signal: &str) {
    use rustix::process::{Pid, Signal, kill_process};
    let signal = match signal {
        "INT" => Signal::INT,
        "TERM" => Signal::TERM,
        other => panic!("no signal {other} in the tests"),
    };
    let pid = Pid::from_raw(child.id() as i32).expect("a child's pid");
    kill_process(pid, signal).expect("the signal is sent");
}

/// `run`'s stdout, stderr and status, with `s`'s paths named.
pub fn shown(s: &Scratch, run: &Run) -> String {
    let text = format!("status: {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr);
    text.replace(&s.state.path().display().to_string(), "[STATE]").replace(&s.path().display().to_string(), "[DIR]")
}

/// Compares `$text` whole with `tests/all/snapshots/$name.snap`, with what
/// differs from run to run (durations, fuel, ids, times) filtered out.
/// After a deliberate change: `INSTA_UPDATE=always cargo test --release`,
/// then review the `.snap` diff.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![
                (r#""duration_ms": [0-9.e+-]+"#, r#""duration_ms": "[ms]""#),
                (r#""fuel_consumed": [0-9]+"#, r#""fuel_consumed": "[fuel]""#),
                (r#""memory_peak": [0-9]+"#, r#""memory_peak": "[memory]""#),
                (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]"),
                (r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z", "[time]"),
                (r"in [0-9.]+ ?ms", "in [ms]"),
                (r"in [0-9.]+s\b", "in [ms]"),
                (r"\| [0-9.]+m?s \|", "| [ms] |"),
                (r"\b[0-9a-f]{32}\b", "[token]"),
                // Temporary directories other than the scratch folder.
                (r#"/[^\s'`"]*?/\.tmp[A-Za-z0-9]{6}"#, "[TMP]"),
                // Said only by the first run to find the cache cold.
                (r"(?m)^runbox: preparing the [A-Za-z]+ sandbox \(on a first run only\)…\n", ""),
                // Records' sizes vary with their durations and times.
                (r"have logged [0-9]+ bytes", "have logged [N] bytes"),
                // A runbook's sha256 changes with the temporary paths it names.
                (r"(allowed: \S+ at sha256 )[0-9a-f]{64}", "${1}[sha256]"),
            ],
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

/// Runs each script in bash (the host's GNU tools) and in `runbox sh`, in
/// the scratch directory; every difference in status, stdout or stderr is
/// listed in the failure.
pub fn same_as_gnu(s: &Scratch, scripts: &[&str]) {
    same_as_reference(s, "", scripts);
}

pub fn same_as_reference(s: &Scratch, prelude: &str, scripts: &[&str]) {
    let mut differences = String::new();
    for script in scripts {
        let gnu = Command::new("bash")
            .args(["-c", &format!("{prelude}{script}")])
            .current_dir(s.path())
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        let gnu = (
            gnu.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&gnu.stdout).into_owned(),
            String::from_utf8_lossy(&gnu.stderr).into_owned(),
        );
        let run = s.runbox().args(["sh", "-c", script]).run();
        let runbox = (run.code, run.stdout, run.stderr);
        if gnu != runbox {
            let _ = writeln!(differences, "`{script}`:\n  GNU:    {gnu:?}\n  runbox: {runbox:?}");
        }
    }
    assert!(differences.is_empty(), "runbox differs from GNU:\n{differences}");
}

/// Writes `script` as `name` in `s` and runs `runbox js name`, which must
/// succeed: its stdout, to compare with what Node printed.
pub fn js_file_stdout(s: &Scratch, name: &str, script: &str) -> String {
    s.write(name, script);
    let run = s.runbox().args(["js", name]).run();
    run.success();
    run.stdout
}

/// What a test's HTTP server answers a request: status, content type, body.
#[cfg(any(feature = "otel", feature = "kubernetes"))]
pub type Answer = (u16, &'static str, Vec<u8>);

/// An HTTP/1.1 server on 127.0.0.1 for a test's fake of another service
/// (kept-alive connections, `Content-Length` bodies), answering each request
/// with `answer(method, target, body)`. Returns its base URL. Only the
/// features' tests use it.
/// One HTTP/1.1 request from `reader`: its method, target and body (by
/// its Content-Length); `None` once the connection ends.
#[cfg(any(feature = "otel", feature = "kubernetes"))]
pub fn read_request(reader: &mut impl std::io::BufRead) -> Option<(String, String, Vec<u8>)> {
    let mut head = String::new();
    if reader.read_line(&mut head).map_or(true, |n| n == 0) {
        return None;
    }
    let mut parts = head.split(' ');
    let (method, target) = (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, target, body))
}

/// `bytes` in standard base64, as the API server writes a Secret's data.
#[cfg(feature = "kubernetes")]
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[cfg(any(feature = "otel", feature = "kubernetes"))]
pub fn http_server(answer: impl Fn(&str, &str, &[u8]) -> Answer + Send + Sync + 'static) -> String {
    use std::io::{BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let answer = std::sync::Arc::clone(&answer);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                // One request after another on a kept-alive connection.
                while let Some((method, target, body)) = read_request(&mut reader) {
                    let (status, kind, reply) = answer(&method, &target, &body);
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
                        reply.len()
                    );
                    writer.write_all(&[head.as_bytes(), &reply].concat()).unwrap();
                }
            });
        }
    });
    url
}
