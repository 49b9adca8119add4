//! Arguments and subcommands of the `runbox` binary.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, Parser, Subcommand};
use runbox::consent::{self, Grants};
use runbox::limits::{LimitOverrides, Limits, parse_duration, parse_fuel, parse_output, parse_size};
use runbox::mounts::{self, Mount, Workspace};
use runbox::plan::{self, Host};
use runbox::record::{self, RecordFile};
use runbox::runbook::{self, Format};
use runbox::sources::Secrets;
use runbox::{Config, Inputs, Language, NetPolicy, Runner, Sandbox, Script, StepContext, visible, visible_lines};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// `println!` that returns the error instead of panicking: `runbox list |
/// head` closes the pipe early, and that ends runbox quietly (see main.rs).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

#[derive(Parser)]
#[command(name = "runbox", version, about = "Run team runbooks inside a WebAssembly sandbox")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
    /// Append each execution's JSON record to this file
    /// [default: $RUNBOX_LOG, else ~/.local/state/runbox/executions.jsonl]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a runbook; the exit status is the runbook's
    Run(RunArgs),
    /// Check runbooks' structure, variables, files, script sources and
    /// templates; report every problem; non-zero if any
    Validate {
        #[arg(required = true, value_name = "RUNBOOK")]
        runbooks: Vec<PathBuf>,
        /// A value for a declared variable (repeatable)
        #[arg(long = "env", value_name = "K=V", value_parser = key_value)]
        env: Vec<(String, String)>,
        /// An input to check against its declared type (repeatable)
        #[arg(long = "input", value_name = "K=V", value_parser = key_value)]
        inputs: Vec<(String, String)>,
        /// Where script_from_secret reads secrets [default: $RUNBOX_SECRETS_DIR, else /run/secrets]
        #[arg(long, value_name = "DIR")]
        secrets_dir: Option<PathBuf>,
    },
    /// List the runbooks under DIR with their description and steps
    List {
        #[arg(default_value = ".", value_name = "DIR")]
        dir: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Consent to what runbooks ask beyond the safe defaults, for their
    /// current content (a changed file asks again)
    Allow {
        #[arg(required = true, value_name = "RUNBOOK")]
        runbooks: Vec<PathBuf>,
    },
    /// Forget the consent given to runbooks with `runbox allow`
    Revoke {
        #[arg(required = true, value_name = "RUNBOOK")]
        runbooks: Vec<PathBuf>,
    },
    /// Print a runbook's execution history, oldest first
    History {
        runbook: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Run one JavaScript step in the sandbox, with the current directory
    /// mounted read-write as the working directory
    Js(JsArgs),
    /// Run one shell script in the sandbox, with the current directory
    /// mounted read-write as the working directory
    Sh(ShArgs),
}

#[derive(ClapArgs)]
struct RunArgs {
    runbook: PathBuf,
    /// A named value the steps read with get(name) (repeatable)
    #[arg(long = "input", value_name = "K=V", value_parser = key_value)]
    inputs: Vec<(String, String)>,
    /// A value for a declared variable, instead of this process's (repeatable)
    #[arg(long = "env", value_name = "K=V", value_parser = key_value)]
    env: Vec<(String, String)>,
    #[command(flatten)]
    grants: GrantArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Print one machine-readable result instead of the steps' output
    #[arg(long)]
    json: bool,
    /// Do not append to the runbook's # History
    #[arg(long)]
    no_history: bool,
    /// How many History entries the runbook keeps
    #[arg(long, default_value_t = runbox::history::DEFAULT_KEEP, value_name = "N", value_parser = history_keep)]
    history_keep: usize,
    /// Approve STEP in advance, when it is marked approval_required (repeatable)
    #[arg(long = "approve", value_name = "STEP")]
    approve: Vec<String>,
    /// Where script_from_secret reads secrets [default: $RUNBOX_SECRETS_DIR, else /run/secrets]
    #[arg(long, value_name = "DIR")]
    secrets_dir: Option<PathBuf>,
}

#[derive(ClapArgs)]
struct JsArgs {
    /// The script; stdin when neither FILE nor -e is given
    #[arg(conflicts_with = "eval")]
    file: Option<PathBuf>,
    /// The script's code
    #[arg(short = 'e', long = "eval", value_name = "CODE")]
    eval: Option<String>,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[derive(ClapArgs)]
struct ShArgs {
    /// Run CODE; the first ARG is then `$0`, as with `bash -c`
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "stdin")]
    command: Option<String>,
    /// Read the script from stdin even with ARGs, as with `bash -s`
    #[arg(short = 's')]
    stdin: bool,
    /// FILE [ARG]...: the script and its positional parameters; stdin when no FILE
    #[arg(value_name = "FILE | ARG", trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// What the user grants a runbook beyond the safe defaults (SPEC §2).
#[derive(ClapArgs)]
struct GrantArgs {
    /// Let the runbook read PATH and what is beneath it, as it declares (repeatable)
    #[arg(long = "allow-read", value_name = "PATH")]
    allow_read: Vec<PathBuf>,
    /// Let the runbook read and write PATH and what is beneath it, as it declares (repeatable)
    #[arg(long = "allow-write", value_name = "PATH")]
    allow_write: Vec<PathBuf>,
    /// Let steps' curl and fetch reach HOST or HOST:PORT (repeatable)
    #[arg(long = "allow-net", value_name = "HOST[:PORT]")]
    allow_net: Vec<String>,
    /// Grant whatever the runbook declares
    #[arg(long = "allow-all")]
    allow_all: bool,
}

impl GrantArgs {
    fn grants(&self) -> anyhow::Result<Grants> {
        Ok(Grants {
            read: self.allow_read.clone(),
            write: self.allow_write.clone(),
            net: NetPolicy::new(&self.allow_net).map_err(anyhow::Error::msg)?,
            all: self.allow_all,
        })
    }
}

/// Mounts, variables and limits of a `runbox js` or `runbox sh` step.
#[derive(ClapArgs)]
struct SandboxArgs {
    /// Also mount DIR read-only at its own absolute path (repeatable)
    #[arg(long = "read", value_name = "DIR")]
    read: Vec<PathBuf>,
    /// Also mount DIR read-write at its own absolute path (repeatable)
    #[arg(long = "write", value_name = "DIR")]
    write: Vec<PathBuf>,
    /// An environment variable for the script; it sees no others (repeatable)
    #[arg(long = "env", value_name = "K=V", value_parser = key_value)]
    env: Vec<(String, String)>,
    /// Let the script's curl or fetch reach HOST or HOST:PORT (repeatable)
    #[arg(long = "allow-net", value_name = "HOST[:PORT]")]
    allow_net: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Print one machine-readable result instead of the script's output
    #[arg(long)]
    json: bool,
}

#[derive(ClapArgs)]
struct LimitArgs {
    /// Wall-clock limit per step, e.g. 30s, 500ms [default: 30s]
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    timeout: Option<std::time::Duration>,
    /// Instruction budget per step [default: 100000000000]
    #[arg(long, value_name = "N", value_parser = parse_fuel)]
    fuel: Option<u64>,
    /// Memory per step, e.g. 64MiB [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory: Option<u64>,
    /// Bytes kept of each of stdout and stderr per step [default: 1MiB]
    #[arg(long = "max-output", value_name = "SIZE", value_parser = parse_output)]
    output: Option<usize>,
}

impl LimitArgs {
    fn overrides(&self) -> LimitOverrides {
        LimitOverrides { timeout: self.timeout, fuel: self.fuel, memory: self.memory, output: self.output }
    }
}

fn history_keep(text: &str) -> Result<usize, String> {
    let max = runbox::history::MAX_KEEP;
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("`{text}` must be a number of entries from 1 to {max}"))
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{text}` must be KEY=VALUE")),
    }
}

/// Records go to the log file; runbox's own warnings to stderr.
pub(crate) fn init_logging(log: Option<&Path>) {
    let path = log.map(Path::to_path_buf).or_else(record::default_log_path);
    let records = path.and_then(|p| match RecordFile::open(&p) {
        Ok(file) => Some(file),
        Err(e) => {
            eprintln!("runbox: cannot open the execution log {}: {e}", p.display());
            None
        }
    });
    let messages = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_filter(EnvFilter::try_from_env("RUNBOX_LOG_LEVEL").unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_filter(tracing_subscriber::filter::filter_fn(|m| m.target() != record::TARGET));
    tracing_subscriber::registry().with(records).with(messages).init();
}

pub(crate) fn run(args: Args) -> anyhow::Result<i32> {
    let config = Config { log: args.log.clone().or_else(record::default_log_path), ..Config::default() };
    match args.command {
        Command::Run(run) => run_runbook(run, config),
        Command::Validate { runbooks, env, inputs, secrets_dir } => {
            let host = Host {
                env: env.into_iter().collect(),
                inputs: inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
                secrets: secrets(secrets_dir),
                validating: true,
                protected: config.protected(),
            };
            validate(&runbooks, &host)
        }
        Command::Allow { runbooks } => allow(&runbooks, &config),
        Command::Revoke { runbooks } => revoke(&runbooks, &config),
        Command::List { dir, json } => list(&dir, json),
        Command::History { runbook, json } => history(&runbook, json, args.log.as_deref()),
        Command::Js(js) => run_js(js, &config),
        Command::Sh(sh) => run_sh(sh, &config),
    }
}

fn run_runbook(args: RunArgs, config: Config) -> anyhow::Result<i32> {
    let runbook = match runbook::load(&args.runbook) {
        Ok(runbook) => runbook,
        Err(invalid) => {
            let report = runbox::record_invalid(&invalid);
            if args.json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                eprintln!("runbox: {}", visible_lines(&invalid.to_string()));
            }
            return Ok(report.exit_code);
        }
    };
    for (name, _) in args.env.iter().filter(|(name, _)| !runbook.env.iter().any(|e| &e.name == name)) {
        eprintln!(
            "runbox: warning: --env {name} is ignored: {} does not declare it ({})",
            runbook.file_name(),
            match runbook.format {
                Format::Markdown => "under # Environment Requirements",
                Format::Yaml => "under permissions.env",
            }
        );
    }
    for name in args.approve.iter().filter(|name| !runbook.steps.iter().any(|s| &s.name == *name)) {
        let steps: Vec<&str> = runbook.steps.iter().map(|s| s.name.as_str()).collect();
        eprintln!(
            "runbox: warning: --approve {name} names no step of {} (its steps: {})",
            runbook.file_name(),
            steps.join(", ")
        );
    }
    let runner = Runner::new(Config {
        overrides: args.limits.overrides(),
        history: !args.no_history,
        history_keep: args.history_keep,
        echo: !args.json,
        env: args.env.into_iter().collect(),
        grants: args.grants.grants()?,
        secrets: secrets(args.secrets_dir),
        approve: args.approve,
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        ..config
    })?;
    let inputs: Inputs = args.inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let report = runner.run(&runbook, &inputs);
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(error) = &report.error {
        eprintln!(
            "runbox: {} refused: {}: {}",
            visible(&runbook.file_name()),
            error.code,
            visible_lines(&error.message)
        );
    }
    Ok(report.exit_code)
}

fn secrets(dir: Option<PathBuf>) -> Secrets {
    dir.map_or_else(Secrets::default, |dir| Secrets { dir })
}

fn validate(paths: &[PathBuf], host: &Host) -> anyhow::Result<i32> {
    let mut failed = 0;
    for path in paths {
        let checked = runbook::load(path).and_then(|runbook| {
            let plan = plan::check(&runbook, host)
                .map_err(|problems| runbox::runbook::Invalid { file: path.clone(), problems })?;
            Ok((runbook, plan))
        });
        match checked {
            Ok((runbook, plan)) => {
                say!("ok: {}", path.display());
                let asks = consent::asks(&runbook, &plan.paths);
                if !asks.is_empty() {
                    say!("  it asks for what needs your grant:");
                    for ask in &asks {
                        say!("  - {ask}: {}", visible(&ask.flag()));
                    }
                }
            }
            Err(invalid) => {
                failed += 1;
                eprintln!("{}", visible_lines(&invalid.to_string()));
            }
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Records consent to what each runbook asks, at its current sha256.
fn allow(paths: &[PathBuf], config: &Config) -> anyhow::Result<i32> {
    for path in paths {
        let runbook = runbook::load(path).map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
        let declared = mounts::resolve(&runbook, &config.protected())
            .map_err(|problems| anyhow::anyhow!("{}", runbox::runbook::Invalid { file: path.clone(), problems }))?;
        let asks = consent::asks(&runbook, &declared);
        let file = config
            .consent
            .record(&runbook, &asks)
            .with_context(|| format!("cannot record consent for {}", path.display()))?;
        if asks.is_empty() {
            say!("allowed: {} (it asks for nothing beyond the safe defaults)", path.display());
        } else {
            say!("allowed: {} at sha256 {}:", path.display(), runbook.consent_sha256);
            for ask in &asks {
                say!("  - {ask}");
            }
        }
        tracing::debug!("consent recorded in {}", file.display());
    }
    Ok(0)
}

fn revoke(paths: &[PathBuf], config: &Config) -> anyhow::Result<i32> {
    for path in paths {
        match config.consent.revoke(path).with_context(|| format!("cannot revoke consent for {}", path.display()))? {
            true => say!("revoked: {}", path.display()),
            false => say!("{}: no consent was recorded", path.display()),
        }
    }
    Ok(0)
}

/// Runbook files under `dir`, sorted; companion folders and hidden ones
/// are searched too, `registry.yaml` is not a runbook.
fn runbook_files(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() && !path.is_symlink() && depth < 8 {
            runbook_files(&path, depth + 1, found)?;
        } else if path.is_file()
            && name != runbox::sources::REGISTRY
            && matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "yaml" | "yml"))
        {
            found.push(path);
        }
    }
    Ok(())
}

fn list(dir: &Path, json: bool) -> anyhow::Result<i32> {
    let mut files = Vec::new();
    runbook_files(dir, 0, &mut files).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut listed = Vec::new();
    for file in files {
        match runbook::load(&file) {
            Ok(rb) => listed.push(rb),
            // Markdown that is not a runbook (a README) is not worth a word;
            // a YAML file with steps that fails to parse is.
            Err(invalid) if file.extension().is_some_and(|e| e != "md") => {
                eprintln!("runbox: skipped {}: {}", file.display(), invalid.problems[0].message)
            }
            Err(_) => {}
        }
    }
    if json {
        let out: Vec<Value> = listed
            .iter()
            .map(|rb| {
                json!({
                    "name": rb.name,
                    "file": rb.path.display().to_string(),
                    "description": rb.description,
                    "steps": rb.steps.iter().map(|s| json!({"name": s.name, "language": s.language.as_str()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    for rb in &listed {
        let summary = rb.description.lines().next().unwrap_or("").trim();
        let steps: Vec<String> = rb.steps.iter().map(|s| format!("{} ({})", s.name, s.language.as_str())).collect();
        say!("{}  {}\n    {summary}\n    steps: {}", rb.name, rb.path.display(), steps.join(", "));
    }
    if listed.is_empty() {
        eprintln!("runbox: no runbooks under {}", dir.display());
    }
    Ok(0)
}

/// A markdown runbook's `# History`; a YAML runbook's records in the JSON log.
fn history(path: &Path, json: bool, log: Option<&Path>) -> anyhow::Result<i32> {
    let rb = runbook::load(path).map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
    let entries: Vec<Value> = match rb.format {
        Format::Markdown => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            runbox::history::read(&text)
                .into_iter()
                .map(|e| {
                    let mut entry = json!({"at": e.at, "exit_code": e.exit_code});
                    for (label, content) in e.blocks {
                        entry[label.to_ascii_lowercase()] = Value::String(content);
                    }
                    entry
                })
                .collect()
        }
        Format::Yaml => {
            let log =
                log.map(Path::to_path_buf).or_else(record::default_log_path).context("no execution log to read")?;
            let text = match std::fs::read_to_string(&log) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", log.display())),
            };
            let file_name = rb.file_name();
            text.lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|r| {
                    r["runbook"] == rb.name.as_str()
                        && r["file"]
                            .as_str()
                            .is_some_and(|f| Path::new(f).file_name().is_some_and(|n| n == file_name.as_str()))
                })
                .map(|r| {
                    let mut entry = json!({
                        "at": r["breadcrumb"]["at_time"],
                        "exit_code": r["exit_code"],
                        "stdout": r["stdout"],
                        "stderr": r["stderr"],
                        "correlation_id": r["correlation_id"],
                    });
                    if let Some(error) = r.get("error").filter(|e| !e.is_null()) {
                        entry["error"] = json!(format!(
                            "{}: {}",
                            error["code"].as_str().unwrap_or(""),
                            error["message"].as_str().unwrap_or("")
                        ));
                    }
                    entry
                })
                .collect()
        }
    };
    if json {
        say!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(0);
    }
    if entries.is_empty() {
        say!("{}: no executions recorded", path.display());
    }
    for entry in &entries {
        say!("{} | exit code {}", visible(entry["at"].as_str().unwrap_or("?")), entry["exit_code"]);
        for key in ["error", "stdout", "stderr"] {
            if let Some(text) = entry.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
                say!("  {key}:");
                for line in text.lines() {
                    say!("    {}", visible(line));
                }
            }
        }
    }
    Ok(0)
}

fn run_js(args: JsArgs, config: &Config) -> anyhow::Result<i32> {
    let (source, filename) = match (args.eval, &args.file) {
        (Some(code), _) => (code, "<eval>".to_string()),
        (None, Some(file)) => (read_script(file)?, file_label(file)),
        (None, None) => (read_stdin()?, "<stdin>".to_string()),
    };
    run_script(Script::new(Language::JavaScript, source, filename), args.sandbox, config)
}

fn run_sh(args: ShArgs, config: &Config) -> anyhow::Result<i32> {
    let mut rest = args.rest.into_iter();
    let mut script = match (args.command, args.stdin) {
        (Some(code), _) => {
            let name = rest.next().unwrap_or_else(|| "sh".into());
            Script::new(Language::Shell, code, name)
        }
        (None, false) if rest.len() > 0 => {
            let file = PathBuf::from(rest.next().unwrap_or_default());
            Script::new(Language::Shell, read_script(&file)?, file_label(&file))
        }
        (None, _) => Script::new(Language::Shell, read_stdin()?, "sh"),
    };
    script.args = rest.collect();
    run_script(script, args.sandbox, config)
}

fn read_script(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

fn file_label(file: &Path) -> String {
    file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn read_stdin() -> anyhow::Result<String> {
    let mut code = String::new();
    std::io::stdin().read_to_string(&mut code).context("cannot read the script from stdin")?;
    Ok(code)
}

/// Runs one script with the current directory as its working directory.
fn run_script(script: Script, args: SandboxArgs, config: &Config) -> anyhow::Result<i32> {
    let protected = config.protected();
    let cwd = std::env::current_dir()?;
    runbox::state::refuse_state(&runbox::state::real(&cwd), &protected).map_err(|why| {
        anyhow::anyhow!("cannot mount the current directory as the script's working directory: {why}; run it from a project directory")
    })?;
    let mut extra = Vec::new();
    for (dirs, writable) in [(&args.read, false), (&args.write, true)] {
        for dir in dirs {
            let host = dir.canonicalize().with_context(|| format!("cannot mount {}", dir.display()))?;
            if !host.is_dir() {
                bail!("cannot mount {}: not a directory", dir.display());
            }
            runbox::state::refuse_state(&host, &protected)
                .map_err(|why| anyhow::anyhow!("cannot mount {}: {why}", dir.display()))?;
            let guest = host.to_string_lossy().into_owned();
            extra.push(Mount::open(&host, guest, writable).with_context(|| format!("cannot mount {}", dir.display()))?);
        }
    }
    let workspace = Workspace::at(&cwd, extra)?;
    let sandbox = Sandbox::new(&config.cache)?;
    let limits = args.limits.overrides().apply(Limits::default());
    let variables: serde_json::Map<String, Value> =
        args.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let context = StepContext {
        variables,
        steps: Default::default(),
        env: args.env,
        mounts: workspace.mounts().to_vec(),
        correlation_id: uuid::Uuid::new_v4().to_string(),
        recursion_stack: vec![script.filename.clone()],
        net: NetPolicy::new(&args.allow_net).map_err(anyhow::Error::msg)?,
    };
    let outcome = sandbox.run(&script, &context, limits, !args.json);
    if args.json {
        let error = outcome.error.as_ref().map(
            |e| json!({"code": e.code, "message": e.message, "line": e.line, "column": e.column, "stack": e.stack}),
        );
        let report = json!({
            "exit_code": outcome.exit_code,
            "stdout": outcome.stdout.text,
            "stderr": outcome.stderr.text,
            "duration_ms": outcome.duration.as_secs_f64() * 1000.0,
            "fuel_consumed": outcome.fuel_consumed,
            "result": outcome.result,
            "error": error,
        });
        say!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(outcome.exit_code)
}
