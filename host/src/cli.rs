//! Arguments and subcommands of the `runbox` binary: arguments → library
//! calls → what to print and the exit status. The terminal side of a run
//! (prompts, progress, signals) is in `terminal.rs`.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args as ClapArgs, Parser, Subcommand};
use runbox::api::{self, Keys, ServeConfig};
use runbox::error::{ErrorCode, Invalid};
use runbox::model::Format;
use runbox::model::limits::{LimitOverrides, Limits, parse_duration, parse_fuel, parse_output, parse_size};
use runbox::model::net::NetPolicy;
use runbox::plan::consent::Grants;
use runbox::plan::sources::Secrets;
use runbox::plan::{self, Host};
use runbox::run::approve::{Approver, PreApproved, Unattended};
use runbox::run::catalog::{self, catalog};
use runbox::run::junit::junit;
use runbox::run::lint;
use runbox::run::past::executions;
use runbox::run::record::{self, RecordFile};
use runbox::run::single::Single;
use runbox::run::{CHAIN_VARIABLES, Deterministic, MAX_RECURSION_DEPTH, history, past};
use runbox::text::{visible, visible_lines};
use runbox::{Cancel, Config, GuestCache, Inputs, Language, Runner, Sandbox, Script, Seams, parse};
use serde_json::Value;

use crate::progress::{ColorChoice, Progress, Style, Verbosity};
use crate::snippet;
use crate::terminal::{Prompt, cancel_on_signals};
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

/// `runbox -V`: the version, the commit and its date, as uv and deno say it.
const VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (", env!("RUNBOX_COMMIT"), " ", env!("RUNBOX_COMMIT_DATE"), ")");

/// `runbox --version`: also the sha256 of each sandboxed interpreter it embeds.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("RUNBOX_COMMIT"),
    " ",
    env!("RUNBOX_COMMIT_DATE"),
    ")\njs guest sha256 ",
    env!("RUNBOX_JS_SHA256"),
    "\nsh guest sha256 ",
    env!("RUNBOX_SH_SHA256"),
);

#[derive(Parser)]
#[command(name = "runbox", version = VERSION, long_version = LONG_VERSION, about = "Run team runbooks inside a WebAssembly sandbox")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
    /// Append each execution's JSON record to this file
    /// [default: $RUNBOX_LOG, else ~/.local/state/runbox/executions.jsonl]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// Compile the guests afresh instead of keeping them in the cache
    /// [default cache: $RUNBOX_CACHE_DIR, $XDG_CACHE_HOME/runbox, ~/.cache/runbox,
    /// else runbox-UID/cache in the temporary directory]
    #[arg(long, global = true)]
    pub(crate) no_cache: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run a runbook; the exit status is the runbook's
    Run(RunArgs),
    /// Check runbooks' structure, variables, files, script sources,
    /// templates and each step's syntax, and registry.yaml files; report
    /// every problem; non-zero if any error
    Validate {
        /// Runbook files, registry.yaml files, or folders holding them
        #[arg(required = true, value_name = "RUNBOOK | DIR")]
        runbooks: Vec<PathBuf>,
        /// CI without the runbooks' secrets: a declared variable that is not
        /// set, or a required input not given, is a warning, not an error
        #[arg(long)]
        lint: bool,
        /// Print the problems as JSON: file, line, column, code, severity, message
        #[arg(long)]
        json: bool,
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
    /// Serve the runbooks of a folder over HTTP, behind bearer JWTs
    Serve(ServeArgs),
    /// Run one JavaScript step in the sandbox, with the current directory
    /// mounted read-write as the working directory
    Js(JsArgs),
    /// Run one shell script in the sandbox, with the current directory
    /// mounted read-write as the working directory
    Sh(ShArgs),
    /// Print the completion script for SHELL (install it as README says)
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print runbox's man page (roff), e.g. into ~/.local/share/man/man1/runbox.1
    Man,
    /// Print the JSON Schema of a YAML runbook or of registry.yaml, for
    /// editors (README: Editing YAML runbooks)
    Schema {
        #[arg(value_enum, value_name = "FILE")]
        file: SchemaFile,
    },
    /// Compile the sandboxes' optimised code into the cache now (a first run
    /// otherwise starts on baseline code and compiles it in the background),
    /// e.g. while building a container image
    Prepare {
        /// The guests to compile [default: both]
        #[arg(value_name = "GUEST", value_parser = ["js", "sh"])]
        guests: Vec<String>,
        /// Started by runbox itself: at low priority, saying nothing
        #[arg(long, hide = true)]
        background: bool,
    },
}

#[derive(ClapArgs)]
struct RunArgs {
    /// The runbook's file, or its name without .md/.yaml (`runbox run Deploy`)
    runbook: PathBuf,
    /// Look for a RUNBOOK given by bare name in DIR instead of the current folder
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
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
    #[command(flatten)]
    determinism: DeterministicArgs,
    /// Also write a JUnit XML report to FILE: one testcase per step
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print one machine-readable result instead of the steps' output
    #[arg(long)]
    json: bool,
    /// Print only the steps' own output and errors: no line per step, no
    /// summary of a run that passed
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    quiet: bool,
    /// Also print each step's source, limits and fuel
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Colour runbox's own lines: on a terminal unless NO_COLOR is set (auto), always, never
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    /// Do not append to the runbook's # History
    #[arg(long)]
    no_history: bool,
    /// How many History entries the runbook keeps
    #[arg(long, default_value_t = history::DEFAULT_KEEP, value_name = "N", value_parser = history_keep)]
    history_keep: usize,
    /// Approve STEP in advance, when it is marked approval_required (repeatable)
    #[arg(long = "approve", value_name = "STEP")]
    approve: Vec<String>,
    /// Where script_from_secret reads secrets [default: $RUNBOX_SECRETS_DIR, else /run/secrets]
    #[arg(long, value_name = "DIR")]
    secrets_dir: Option<PathBuf>,
    #[command(flatten)]
    tree: TreeArgs,
}

#[derive(ClapArgs)]
struct ServeArgs {
    /// The folder whose runbooks are served, by file name
    #[arg(long, default_value = "runbooks", value_name = "DIR")]
    dir: PathBuf,
    /// Listen on HOST:PORT [default: $API_HOST:$API_PORT, else localhost:8083]
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Check tokens with the HS256 secret in FILE (at least 32 bytes)
    #[arg(long, value_name = "FILE", conflicts_with = "jwt_public_key", required_unless_present = "jwt_public_key")]
    jwt_secret_file: Option<PathBuf>,
    /// Check tokens with the RS256 or ES256 public key (PEM) in FILE
    #[arg(long, value_name = "FILE")]
    jwt_public_key: Option<PathBuf>,
    #[command(flatten)]
    grants: GrantArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Executions at once; more are answered 503 with Retry-After
    #[arg(long, default_value_t = 4, value_name = "N")]
    max_concurrent: usize,
    /// A connection must send each request's head within D (and is closed
    /// when kept alive longer without one)
    #[arg(long, default_value = "30s", value_name = "D", value_parser = parse_duration)]
    header_timeout: std::time::Duration,
    /// Connections one peer address may hold at once (raise it behind a
    /// reverse proxy, whose connections all come from one address)
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_connections_per_peer: usize,
    /// No execution's step runs past this, e.g. 5m
    #[arg(long, default_value = "5m", value_name = "D", value_parser = parse_duration)]
    request_timeout: std::time::Duration,
    /// How many History entries a runbook keeps
    #[arg(long, default_value_t = history::DEFAULT_KEEP, value_name = "N", value_parser = history_keep)]
    history_keep: usize,
    /// Where script_from_secret reads secrets [default: $RUNBOX_SECRETS_DIR, else /run/secrets]
    #[arg(long, value_name = "DIR")]
    secrets_dir: Option<PathBuf>,
    #[command(flatten)]
    tree: TreeArgs,
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

/// What the user grants a runbook beyond the safe defaults.
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
    /// Grant whatever the runbook declares, but native steps
    #[arg(long = "allow-all")]
    allow_all: bool,
    /// Let native steps (bash, zsh, powershell outside the sandbox) run,
    /// confined by the kernel; `=unconfined` also where it cannot confine them
    #[arg(long = "allow-native", value_name = "unconfined", num_args = 0..=1, require_equals = true, default_missing_value = "confined", value_parser = ["confined", "unconfined"])]
    allow_native: Option<String>,
}

impl GrantArgs {
    fn grants(&self) -> anyhow::Result<Grants> {
        Ok(Grants {
            read: self.allow_read.clone(),
            write: self.allow_write.clone(),
            net: NetPolicy::new(&self.allow_net).map_err(anyhow::Error::msg)?,
            all: self.allow_all,
            native: self.allow_native.is_some(),
            unconfined: self.allow_native.as_deref() == Some("unconfined"),
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
    #[command(flatten)]
    determinism: DeterministicArgs,
    /// Print one machine-readable result instead of the script's output
    #[arg(long)]
    json: bool,
}

/// Deterministic mode, for CI.
#[derive(ClapArgs)]
struct DeterministicArgs {
    /// The same output and fuel on every run and machine: a virtual clock,
    /// seeded randomness, no network, no host variables, no History
    #[arg(long)]
    deterministic: bool,
    /// Seed of every random source (implies --deterministic) [default: 0]
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Where the virtual clock starts (implies --deterministic)
    /// [default: 2026-01-01T00:00:00Z]
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    clock: Option<time::OffsetDateTime>,
}

impl DeterministicArgs {
    /// The mode asked for here, or by the runbook (`asked`).
    fn mode(&self, asked: bool) -> Option<Deterministic> {
        let on = self.deterministic || self.seed.is_some() || self.clock.is_some() || asked;
        let default = Deterministic::default();
        on.then(|| Deterministic {
            seed: self.seed.unwrap_or(default.seed),
            clock: self.clock.unwrap_or(default.clock),
        })
    }
}

fn parse_instant(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant such as 2026-01-01T00:00:00Z: {e}"))
        .and_then(|t| (t.year() >= 1970).then_some(t).ok_or_else(|| format!("`{text}`: give an instant after 1970")))
}

/// What a run and the sub-runbooks it calls may spend together.
#[derive(ClapArgs)]
struct TreeArgs {
    /// How deep runbooks may nest through sub-runbook calls
    #[arg(long, env = "MAX_RECURSION_DEPTH", default_value_t = MAX_RECURSION_DEPTH, value_name = "N")]
    max_recursion_depth: usize,
    /// Sub-runbook executions one run, and all it calls, may make
    #[arg(long, default_value_t = runbox::run::tree::MAX_SUB_RUNBOOKS, value_name = "N")]
    max_sub_runbooks: usize,
    /// Bytes of records one run's sub-runbooks may log, e.g. 64MiB
    #[arg(long, default_value = "64MiB", value_name = "SIZE", value_parser = parse_size)]
    max_tree_log: u64,
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
    let max = history::MAX_KEEP;
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

/// `runbox prepare [GUEST]...`: the optimised code of each guest, compiled
/// into the cache (or found there).
fn prepare(guests: &[String], background: bool, config: &Config) -> anyhow::Result<i32> {
    if background {
        // Second to the runs the user is waiting for.
        let _ = rustix::process::nice(10);
    }
    let dir = config.cache.dir().map(|d| d.display().to_string());
    let sandbox = Sandbox::new(&config.cache)?;
    let all = [String::from("js"), String::from("sh")];
    for guest in if guests.is_empty() { &all[..] } else { guests } {
        let (language, what) = match guest.as_str() {
            "js" => (Language::JavaScript, "JavaScript"),
            _ => (Language::Shell, "shell"),
        };
        let started = Instant::now();
        sandbox.prepare(language)?;
        if !background {
            match &dir {
                Some(dir) => eprintln!(
                    "runbox: the {what} sandbox is compiled, in {dir} ({:.1} s)",
                    started.elapsed().as_secs_f64()
                ),
                None => eprintln!("runbox: the {what} sandbox compiles (--no-cache: nothing kept)"),
            }
        }
    }
    Ok(0)
}

pub(crate) fn run(args: Args) -> anyhow::Result<i32> {
    let mut config = Config { log: args.log.clone().or_else(record::default_log_path), ..Config::default() };
    if args.no_cache {
        config.cache = GuestCache::disabled();
    } else if let Ok(program) = std::env::current_exe() {
        // A short-lived runbox leaves the optimised compile to a process of
        // its own; the server's long life lets a thread of its own do it.
        if !matches!(args.command, Command::Serve(_)) {
            config.cache = config.cache.finished_by(program);
        }
    }
    match args.command {
        Command::Run(run) => run_runbook(run, config),
        Command::Validate { runbooks, lint, json, env, inputs, secrets_dir } => {
            let host = Host {
                env: env.into_iter().collect(),
                inputs: inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
                secrets: secrets(secrets_dir),
                validating: false,
                protected: config.protected(),
                sealed_env: false,
            };
            validate(&runbooks, &host, lint, json, config)
        }
        Command::Allow { runbooks } => allow(&runbooks, &config),
        Command::Revoke { runbooks } => revoke(&runbooks, &config),
        Command::List { dir, json } => list(&dir, json),
        Command::History { runbook, json } => history(&runbook, json, config.log.as_deref()),
        Command::Serve(serve) => run_server(serve, config),
        Command::Js(js) => run_js(js, config),
        Command::Sh(sh) => run_sh(sh, config),
        Command::Prepare { guests, background } => prepare(&guests, background, &config),
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut <Args as clap::CommandFactory>::command(), "runbox", &mut out);
            std::io::Write::flush(&mut out)?;
            Ok(0)
        }
        Command::Schema { file } => {
            let schema = match file {
                SchemaFile::Runbook => parse::schema::runbook(),
                SchemaFile::Registry => parse::schema::registry(),
            };
            say!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(0)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Args as clap::CommandFactory>::command()).render(&mut page)?;
            std::io::Write::write_all(&mut std::io::stdout().lock(), &page)?;
            Ok(0)
        }
    }
}

/// The files `runbox schema` describes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum SchemaFile {
    /// A YAML runbook (`NAME.yaml`)
    Runbook,
    /// `registry.yaml`
    Registry,
}

/// The seams of a run on this terminal: prompts when both stdin and stderr
/// are a terminal, `progress` (the steps' output unless `--json`), and Ctrl-C.
fn seams(progress: Arc<Progress>, approve: Vec<String>) -> anyhow::Result<Seams> {
    let cancel = Cancel::new();
    cancel_on_signals(&cancel).context("cannot listen for Ctrl-C")?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let approver: Arc<dyn Approver> = if interactive {
        Arc::new(PreApproved { steps: approve, then: Prompt { cancel: cancel.clone() } })
    } else {
        Arc::new(PreApproved { steps: approve, then: Unattended })
    };
    Ok(Seams { approver, events: progress, cancel, ..Seams::default() })
}

fn run_runbook(args: RunArgs, config: Config) -> anyhow::Result<i32> {
    let config = Config {
        overrides: args.limits.overrides(),
        history: !args.no_history,
        history_keep: args.history_keep,
        env: args.env.iter().cloned().collect(),
        grants: args.grants.grants()?,
        secrets: secrets(args.secrets_dir),
        max_recursion_depth: args.tree.max_recursion_depth,
        max_sub_runbooks: args.tree.max_sub_runbooks,
        max_tree_log: args.tree.max_tree_log,
        api_base_url: api_base_url(None)?,
        ..config
    };
    let found = catalog::find(&args.runbook, args.dir.as_deref());
    let path = found.clone().unwrap_or_else(|_| args.runbook.clone());
    // No file to show lines of: the name did not lead to a runbook.
    let unfound = found.is_err();
    let parsed = found
        .map_err(|message| Invalid {
            file: args.runbook.clone(),
            problems: vec![runbox::error::Problem::new(0, message)],
        })
        .and_then(|path| parse::load(&path));
    let asked = parsed.as_ref().is_ok_and(|runbook| runbook.deterministic);
    let config = Config { deterministic: args.determinism.mode(asked), ..config };
    let verbosity = match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let progress = Arc::new(Progress::new(!args.json, verbosity, Style::detect(args.color)));
    let runner = Runner::with_seams(config, seams(Arc::clone(&progress), args.approve.clone())?)?;
    let runbook = match parsed {
        Ok(runbook) => runbook,
        Err(invalid) => {
            let report = runner.record_invalid(&invalid);
            if let Some(file) = &args.junit {
                write_junit(file, &[], &report)?;
            }
            if args.json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else if unfound {
                let message = invalid.problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ");
                eprintln!("runbox: error: {}", visible_lines(&message));
            } else {
                let text = parse::text(&path);
                let file = invalid.file.display().to_string();
                eprintln!("{}\n", snippet::problems(&file, &text, &invalid.problems, progress.style.color));
                let n = invalid.problems.len();
                eprintln!(
                    "runbox: {} is not a valid runbook ({n} problem{})",
                    visible(&file),
                    if n == 1 { "" } else { "s" }
                );
                progress.invalid(&invalid, &path);
            }
            return Ok(report.exit_code);
        }
    };
    for (name, _) in args.env.iter().filter(|(name, _)| CHAIN_VARIABLES.contains(&name.as_str())) {
        eprintln!("runbox: warning: --env {name} is ignored: runbox sets it for every step");
    }
    let declared = |name: &str| runbook.env.iter().any(|e| e.name == name) || CHAIN_VARIABLES.contains(&name);
    for (name, _) in args.env.iter().filter(|(name, _)| !declared(name)) {
        eprintln!(
            "runbox: warning: --env {} is ignored: {} does not declare it ({})",
            visible(name),
            visible(&runbook.file_name()),
            match runbook.format {
                Format::Markdown => "under # Environment Requirements",
                Format::Yaml => "under permissions.env",
            }
        );
    }
    // A markdown runbook's inputs reach its JavaScript steps only (get('K')):
    // one without any would silently drop them.
    let javascript = runbook.steps.iter().any(|s| s.language == runbox::Language::JavaScript && s.native.is_none());
    if runbook.format == Format::Markdown && !javascript && !args.inputs.is_empty() {
        let names: Vec<&str> = args.inputs.iter().map(|(k, _)| k.as_str()).collect();
        eprintln!(
            "runbox: error: --input {} cannot reach {}: a markdown runbook's inputs reach its JavaScript steps (get('NAME')), \
             and it has none; its shell steps read the variables under # Environment Requirements (give them with --env NAME=VALUE)",
            visible(&names.join(", --input ")),
            visible(&runbook.file_name())
        );
        return Ok(ErrorCode::ConfigInvalid.exit_status());
    }
    // A misspelt approval would leave the step it meant unapproved, and the
    // run refused after the steps before it ran: nothing runs.
    let steps: Vec<&str> = runbook.steps.iter().map(|s| s.name.as_str()).collect();
    let unknown: Vec<&String> = args.approve.iter().filter(|name| !steps.contains(&name.as_str())).collect();
    for name in &unknown {
        let nearest = runbox::text::nearest(name, steps.iter().copied())
            .map_or(String::new(), |step| format!("; did you mean `--approve {}`?", visible(step)));
        eprintln!(
            "runbox: error: --approve {} names no step of {} (its steps: {}){nearest}",
            visible(name),
            visible(&runbook.file_name()),
            visible(&steps.join(", "))
        );
    }
    if !unknown.is_empty() {
        return Ok(ErrorCode::ConfigInvalid.exit_status());
    }
    let inputs: Inputs = args.inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    progress.runbook(&runbook, &path);
    let report = runner.run(&runbook, &inputs);
    if let Some(file) = &args.junit {
        write_junit(file, &runbook.steps, &report)?;
    }
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(error) = &report.error {
        eprintln!("runbox: {} refused: {}", visible(&runbook.file_name()), visible_lines(&error.to_string()));
    }
    progress.summary(&runbook, &report);
    Ok(report.exit_code)
}

/// `--junit FILE`: the run as a JUnit report.
fn write_junit(file: &Path, steps: &[runbox::model::Step], report: &runbox::RunReport) -> anyhow::Result<()> {
    let xml = junit(steps, report)?;
    std::fs::write(file, xml).with_context(|| format!("--junit {}: cannot write the report", file.display()))
}

/// Seed 001's API address: `API_HOST:API_PORT` (localhost:8083).
fn api_address() -> String {
    let host = std::env::var("API_HOST").unwrap_or_else(|_| "localhost".into());
    let port = std::env::var("API_PORT").unwrap_or_else(|_| "8083".into());
    format!("{host}:{port}")
}

/// Seed 001's `RUNBOOK_API_BASE_URL`: `API_PROTOCOL://` and `address`, or
/// `API_HOST:API_PORT`.
fn api_base_url(address: Option<&str>) -> anyhow::Result<String> {
    let protocol = std::env::var("API_PROTOCOL").unwrap_or_else(|_| "http".into());
    if protocol != "http" && protocol != "https" {
        anyhow::bail!("API_PROTOCOL={protocol}: give http or https");
    }
    let address = address.map_or_else(api_address, str::to_string);
    let url = format!("{protocol}://{address}");
    url.parse::<axum::http::Uri>().map_err(|e| anyhow::anyhow!("the API base URL {url} is not a URL: {e}"))?;
    Ok(url)
}

/// `runbox serve`: seed 001's API_HOST and API_PORT unless --addr says.
fn run_server(args: ServeArgs, config: Config) -> anyhow::Result<i32> {
    let requested = args.addr.unwrap_or_else(api_address);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&requested)
        .with_context(|| format!("--addr {requested}: not a HOST:PORT to listen on"))?
        .next()
        .with_context(|| format!("--addr {requested}: names no address"))?;
    // Bound before the runner is made, so that the base URL steps see names
    // the port listened on, also when the kernel picked it (`HOST:0`).
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {requested}"))?;
    let bound = listener.local_addr()?;
    let host = requested.rsplit_once(':').map_or(requested.as_str(), |(host, _)| host);
    let api_base_url = api_base_url(Some(&format!("{host}:{}", bound.port())))?;
    let keys = match (&args.jwt_secret_file, &args.jwt_public_key) {
        (Some(file), _) => Keys::secret_file(file)?,
        (None, Some(file)) => Keys::public_key_file(file)?,
        (None, None) => anyhow::bail!("give --jwt-secret-file or --jwt-public-key"),
    };
    let dir = args.dir.canonicalize().with_context(|| format!("cannot serve {}", args.dir.display()))?;
    let config = Config {
        overrides: args.limits.overrides(),
        history_keep: args.history_keep,
        grants: args.grants.grants()?,
        secrets: secrets(args.secrets_dir),
        max_recursion_depth: args.tree.max_recursion_depth,
        max_sub_runbooks: args.tree.max_sub_runbooks,
        max_tree_log: args.tree.max_tree_log,
        api_base_url,
        ..config
    };
    let serve = ServeConfig {
        dir,
        keys,
        max_concurrent: args.max_concurrent,
        request_timeout: args.request_timeout,
        max_body: runbox::run::execute::MAX_BODY_BYTES,
        header_timeout: args.header_timeout,
        max_connections_per_peer: args.max_connections_per_peer.max(1),
    };
    let runner = Runner::new(config)?;
    runner.prepare_in_background();
    api::serve(serve, listener, runner, Cancel::new(), |bound| eprintln!("runbox: serving on http://{bound}"))?;
    Ok(0)
}

fn secrets(dir: Option<PathBuf>) -> Secrets {
    dir.map_or_else(Secrets::default, |dir| Secrets { dir })
}

fn validate(paths: &[PathBuf], host: &Host, lint: bool, json: bool, config: Config) -> anyhow::Result<i32> {
    let runner = Runner::new(config)?;
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = catalog::files_to_validate(path)
                .with_context(|| format!("cannot read the folder {}", path.display()))?;
            if found.is_empty() {
                eprintln!("runbox: no runbooks under {}", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let linted: Vec<lint::Linted> = files.iter().map(|file| runner.lint(file, host, lint)).collect();
    let failed = linted.iter().filter(|l| l.errors() > 0).count();
    if json {
        let problems: Vec<&lint::Diagnostic> = linted.iter().flat_map(|l| &l.diagnostics).collect();
        let report = serde_json::json!({ "valid": failed == 0, "files": linted, "problems": problems });
        say!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(if failed == 0 { 0 } else { 1 });
    }
    let color = Style::detect(ColorChoice::Auto).color;
    let shown = |d: &lint::Diagnostic| {
        let shown = snippet::Shown {
            file: &d.file,
            line: d.line,
            column: d.column.map(|c| c as usize),
            width: d.width,
            warning: d.severity == lint::Severity::Warning,
            message: &d.message,
            help: d.help.as_deref(),
            source: d.source.as_deref(),
        };
        snippet::render(&shown, color)
    };
    for file in &linted {
        let errors = file.errors();
        let warnings = file.diagnostics.len() - errors;
        if errors == 0 {
            let warned = match warnings {
                0 => String::new(),
                1 => " (1 warning)".to_string(),
                n => format!(" ({n} warnings)"),
            };
            say!("ok: {}{warned}", visible(&file.file));
            for d in &file.diagnostics {
                say!("{}\n", shown(d));
            }
            if !file.asks.is_empty() {
                say!("  it asks for what needs your grant:");
                for ask in &file.asks {
                    say!("  - {}: {}", ask.what, visible(&ask.flag));
                }
            }
        } else {
            let what = if file.kind == "registry" { "registry" } else { "runbook" };
            for d in &file.diagnostics {
                eprintln!("{}\n", shown(d));
            }
            let n = file.diagnostics.len();
            eprintln!("{} is not a valid {what} ({n} problem{})", visible(&file.file), if n == 1 { "" } else { "s" });
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Records consent to what each runbook asks, at its current sha256.
fn allow(paths: &[PathBuf], config: &Config) -> anyhow::Result<i32> {
    for path in paths {
        let runbook = parse::load(path).map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
        let host = plan::Host { protected: config.protected(), secrets: config.secrets.clone(), ..Default::default() };
        let (asks, bound) = plan::consent_asks(&runbook, &host)
            .map_err(|problems| anyhow::anyhow!("{}", Invalid { file: path.clone(), problems }))?;
        let file = config
            .consent
            .record(&runbook, &asks, &bound.files)
            .with_context(|| format!("cannot record consent for {}", path.display()))?;
        if asks.is_empty() {
            say!("allowed: {} (it asks for nothing beyond the safe defaults)", path.display());
        } else {
            say!("allowed: {} at sha256 {}:", path.display(), runbook.consent_sha256);
            for ask in &asks {
                say!("  - {ask}");
            }
            if bound.files.len() > 1 {
                let files: Vec<&str> = bound.files.keys().map(String::as_str).collect();
                say!("  for these files as they are now: {}", files.join(", "));
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

/// One runbook in `runbox list --json`.
#[derive(serde::Serialize)]
struct Listed<'a> {
    /// Its name: a YAML runbook's `id`, else the file name without extension.
    name: &'a str,
    /// The path `runbox run` takes, from the listed folder.
    file: String,
    description: &'a str,
    steps: Vec<ListedStep<'a>>,
    /// Why the file is not a valid runbook (its first problem).
    #[serde(skip_serializing_if = "Option::is_none")]
    broken: Option<String>,
}

#[derive(serde::Serialize)]
struct ListedStep<'a> {
    name: &'a str,
    language: &'static str,
}

fn list(dir: &Path, json: bool) -> anyhow::Result<i32> {
    let found = catalog(dir, catalog::MAX_DEPTH).with_context(|| format!("cannot list {}", dir.display()))?;
    let relative = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let mut listed: Vec<Listed<'_>> = found
        .runbooks
        .iter()
        .map(|rb| Listed {
            name: &rb.name,
            file: relative(&rb.path),
            description: &rb.description,
            steps: rb.steps.iter().map(|s| ListedStep { name: &s.name, language: s.kind() }).collect(),
            broken: None,
        })
        .collect();
    listed.extend(found.skipped.iter().map(|invalid| Listed {
        name: "",
        file: relative(&invalid.file),
        description: "",
        steps: Vec::new(),
        broken: Some(invalid.problems.first().map_or_else(String::new, |p| p.located(&relative(&invalid.file)))),
    }));
    listed.sort_by(|a, b| a.file.cmp(&b.file));
    if json {
        say!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(0);
    }
    let width = terminal_width().unwrap_or(100).clamp(40, 160);
    for rb in &listed {
        if let Some(why) = &rb.broken {
            say!("{}  (broken)\n    {}\n    runbox validate {} shows every problem", rb.file, visible(why), rb.file);
            continue;
        }
        let stem = Path::new(&rb.file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let id = if rb.name != stem { format!("  (id {})", visible(rb.name)) } else { String::new() };
        say!("{}{id}", visible(&rb.file));
        for line in wrap(&visible_lines(rb.description), width - 4) {
            say!("{}", format!("    {line}").trim_end());
        }
        let steps: Vec<String> = rb.steps.iter().map(|s| format!("{} ({})", s.name, s.language)).collect();
        say!("    steps: {}", visible(&steps.join(", ")));
    }
    if listed.is_empty() {
        eprintln!("runbox: no runbooks under {}", dir.display());
    }
    Ok(0)
}

/// The columns of the terminal stdout is, if it is one.
fn terminal_width() -> Option<usize> {
    let out = std::io::stdout();
    if !out.is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(&out).ok().map(|size| usize::from(size.ws_col)).filter(|w| *w > 0)
}

/// `text` in lines of at most `width` characters, broken at spaces; its own
/// line breaks, blank lines and indented lines kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.trim().lines() {
        // An indented line is code (a command to copy): kept as written.
        if paragraph.starts_with([' ', '\t']) {
            lines.push(paragraph.trim_end().to_string());
            continue;
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A markdown runbook's `# History`; a YAML runbook's records in the JSON log.
fn history(path: &Path, json: bool, log: Option<&Path>) -> anyhow::Result<i32> {
    let runbook = parse::load(path).map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
    let entries: Vec<past::Execution> =
        executions(&runbook, log).with_context(|| format!("cannot read the history of {}", path.display()))?;
    if json {
        say!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(0);
    }
    if entries.is_empty() {
        say!("{}: no executions recorded", path.display());
    }
    for entry in &entries {
        let code = entry.exit_code.map_or_else(|| "?".to_string(), |c| c.to_string());
        say!("{} | exit code {code}", visible(&entry.at));
        for (key, text) in [("error", &entry.error), ("stdout", &entry.stdout), ("stderr", &entry.stderr)] {
            if let Some(text) = text.as_deref().filter(|t| !t.is_empty()) {
                say!("  {key}:");
                for line in text.lines() {
                    say!("    {}", visible(line));
                }
            }
        }
    }
    Ok(0)
}

fn run_js(args: JsArgs, config: Config) -> anyhow::Result<i32> {
    let (source, filename, stdin) = match (args.eval, &args.file) {
        (Some(code), _) => (code, "<eval>".to_string(), true),
        (None, Some(file)) => (read_script(file)?, file_label(file), true),
        (None, None) => (read_stdin()?, "<stdin>".to_string(), false),
    };
    run_script(Script::new(Language::JavaScript, source, filename), stdin, args.sandbox, config)
}

fn run_sh(args: ShArgs, config: Config) -> anyhow::Result<i32> {
    let mut rest = args.rest.into_iter();
    let (mut script, stdin) = match (args.command, args.stdin) {
        (Some(code), _) => {
            let name = rest.next().unwrap_or_else(|| "sh".into());
            (Script::new(Language::Shell, code, name), true)
        }
        (None, false) if rest.len() > 0 => {
            let file = PathBuf::from(rest.next().unwrap_or_default());
            (Script::new(Language::Shell, read_script(&file)?, file_label(&file)), true)
        }
        // The script came from stdin: there is none left for it to read.
        (None, _) => (Script::new(Language::Shell, read_stdin()?, "sh"), false),
    };
    script.args = rest.collect();
    // bashkit takes stdin whole before the script starts: a terminal's would
    // hold every script until Ctrl-D, so only a pipe's or a file's is given.
    let stdin = stdin && !std::io::stdin().is_terminal();
    run_script(script, stdin, args.sandbox, config)
}

fn read_script(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(runbox::text::without_bom(&text).to_string())
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
fn run_script(script: Script, stdin: bool, args: SandboxArgs, config: Config) -> anyhow::Result<i32> {
    let single = Single {
        script,
        dir: std::env::current_dir()?,
        read: args.read,
        write: args.write,
        env: args.env,
        net: NetPolicy::new(&args.allow_net).map_err(anyhow::Error::msg)?,
        limits: args.limits.overrides().apply(Limits::default()),
        stdin,
    };
    // No prompts: a single script asks for nothing beyond what its flags
    // give; and no lines of runbox's own but, on a terminal, a first run's.
    let verbosity = if std::io::stderr().is_terminal() { Verbosity::Normal } else { Verbosity::Quiet };
    let progress = Arc::new(Progress::new(!args.json, verbosity, Style::detect(ColorChoice::Auto)));
    let seams = Seams { approver: Arc::new(Unattended), ..seams(progress, Vec::new())? };
    let config = Config { deterministic: args.determinism.mode(false), ..config };
    let report = Runner::with_seams(config, seams)?.run_single(single)?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(report.exit_code)
}
