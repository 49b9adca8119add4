//! Arguments and subcommands of the `runbox` binary.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, Parser, Subcommand};
use runbox::limits::{LimitOverrides, Limits, parse_duration, parse_fuel, parse_size};
use runbox::mounts::{Mount, Workspace};
use runbox::record::{self, RecordFile};
use runbox::{Config, GuestCache, Inputs, Language, NetPolicy, Runner, Sandbox, Script, StepContext, markdown, plan};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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
    /// Check runbooks' structure, variables and files; non-zero if any problem
    Validate {
        #[arg(required = true, value_name = "RUNBOOK")]
        runbooks: Vec<PathBuf>,
        /// A value for a declared variable (repeatable)
        #[arg(long = "env", value_name = "K=V", value_parser = key_value)]
        env: Vec<(String, String)>,
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
    /// Let steps' curl and fetch reach HOST or HOST:PORT (repeatable)
    #[arg(long = "allow-net", value_name = "HOST[:PORT]")]
    allow_net: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Print one machine-readable result instead of the steps' output
    #[arg(long)]
    json: bool,
    /// Do not append to the runbook's # History
    #[arg(long)]
    no_history: bool,
    /// How many History entries the runbook keeps
    #[arg(long, default_value_t = runbox::history::DEFAULT_KEEP, value_name = "N")]
    history_keep: usize,
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
    #[arg(long = "max-output", value_name = "SIZE", value_parser = parse_size)]
    output: Option<u64>,
}

impl LimitArgs {
    fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            timeout: self.timeout,
            fuel: self.fuel,
            memory: self.memory,
            output: self.output.map(|o| o as usize),
        }
    }
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
    match args.command {
        Command::Run(run) => run_runbook(run),
        Command::Validate { runbooks, env } => Ok(validate(&runbooks, &env.into_iter().collect())),
        Command::Js(js) => run_js(js),
        Command::Sh(sh) => run_sh(sh),
    }
}

fn run_runbook(args: RunArgs) -> anyhow::Result<i32> {
    let runbook = match markdown::load(&args.runbook) {
        Ok(runbook) => runbook,
        Err(invalid) => {
            let report = runbox::record_invalid(&invalid);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                eprintln!("runbox: {invalid}");
            }
            return Ok(report.exit_code);
        }
    };
    for (name, _) in args.env.iter().filter(|(name, _)| !runbook.env.iter().any(|e| &e.name == name)) {
        eprintln!(
            "runbox: warning: --env {name} is ignored: {} does not declare it under # Environment Requirements",
            runbook.file_name()
        );
    }
    let runner = Runner::new(Config {
        overrides: args.limits.overrides(),
        history: !args.no_history,
        history_keep: args.history_keep,
        echo: !args.json,
        env: args.env.into_iter().collect(),
        net: NetPolicy::new(&args.allow_net).map_err(anyhow::Error::msg)?,
        ..Config::default()
    })?;
    let inputs: Inputs = args.inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let report = runner.run(&runbook, &inputs);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(error) = &report.error {
        eprintln!("runbox: {} refused: {}: {}", runbook.file_name(), error.code, error.message);
    }
    Ok(report.exit_code)
}

fn validate(paths: &[PathBuf], env: &HashMap<String, String>) -> i32 {
    let mut failed = 0;
    for path in paths {
        let checked = markdown::load(path).and_then(|runbook| {
            plan::check(&runbook, env).map_err(|problems| runbox::runbook::Invalid { file: path.clone(), problems })
        });
        match checked {
            Ok(_) => println!("ok: {}", path.display()),
            Err(invalid) => {
                failed += 1;
                eprintln!("{invalid}");
            }
        }
    }
    if failed == 0 { 0 } else { 1 }
}

fn run_js(args: JsArgs) -> anyhow::Result<i32> {
    let (source, filename) = match (args.eval, &args.file) {
        (Some(code), _) => (code, "<eval>".to_string()),
        (None, Some(file)) => (read_script(file)?, file_label(file)),
        (None, None) => (read_stdin()?, "<stdin>".to_string()),
    };
    run_script(Script::new(Language::JavaScript, source, filename), args.sandbox)
}

fn run_sh(args: ShArgs) -> anyhow::Result<i32> {
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
    run_script(script, args.sandbox)
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
fn run_script(script: Script, args: SandboxArgs) -> anyhow::Result<i32> {
    let mut extra = Vec::new();
    for (dirs, writable) in [(&args.read, false), (&args.write, true)] {
        for dir in dirs {
            let host = dir.canonicalize().with_context(|| format!("cannot mount {}", dir.display()))?;
            if !host.is_dir() {
                bail!("cannot mount {}: not a directory", dir.display());
            }
            let guest = host.to_string_lossy().into_owned();
            extra.push(Mount { host, guest, writable });
        }
    }
    let workspace = Workspace::at(&std::env::current_dir()?, extra)?;
    let sandbox = Sandbox::new(&GuestCache::default_location())?;
    let limits = args.limits.overrides().apply(Limits::default());
    let variables: serde_json::Map<String, Value> =
        args.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let context = StepContext {
        variables,
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
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(outcome.exit_code)
}
