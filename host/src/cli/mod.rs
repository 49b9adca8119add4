//! The `runbox` binary's command line: clap's arguments and subcommands,
//! and the dispatch from each to its file: `run.rs`, `serve.rs`,
//! `files.rs` (validate, allow, list, history), `single.rs` (js, sh,
//! prepare); the arguments they share are in `args.rs`, logging in
//! `logging.rs`. The terminal side of a run (prompts, progress, signals) is
//! in `terminal.rs` and `progress.rs`.

/// `println!` that returns the error instead of panicking: `runbox list |
/// head` closes the pipe early, and that ends runbox quietly (see main.rs).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod args;
mod files;
mod logging;
mod run;
mod scripts;
mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use clap::{Parser, Subcommand};
use runbox::model::cluster::ObjectGrant;
use runbox::plan::Host;
use runbox::plan::sources::{RegistryAt, Secrets};
use runbox::run::records::record::{self};
use runbox::{Config, GuestCache, parse, store};
use serde_json::Value;

use args::{ExecutorArgs, JsArgs, RunArgs, ServeArgs, ShArgs, key_value, secrets};
use files::{allow, history, list, revoke, validate};
pub(crate) use logging::init_logging;
use run::run_runbook;
use scripts::{prepare, run_js, run_sh};
use serve::run_server;

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
    /// Append each execution's JSON record to this file, or to stdout for `-`
    /// [default: $RUNBOX_LOG, else ~/.local/state/runbox/executions.jsonl]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// Keep every execution's record in this SQLite file, or the PostgreSQL
    /// database of a postgres:// URL (give one with a password through
    /// RUNBOX_STORE: other users can read a command line), which `history`
    /// and the server's executions are read from
    /// [default: $RUNBOX_STORE, else ~/.local/state/runbox/executions.db]
    #[arg(long, global = true, value_name = "FILE|URL")]
    pub(crate) store: Option<PathBuf>,
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
        /// Read the keys of ConfigMaps and Secrets this grants to check the
        /// scripts in them, as `run --allow-kubernetes` (repeatable)
        #[arg(long = "allow-kubernetes", value_name = "KIND/NAMESPACE/NAME/KEY", value_parser = ObjectGrant::parse)]
        allow_kubernetes: Vec<ObjectGrant>,
        /// The registry ConfigMap script_id reads, as `run --script-registry`
        #[arg(long, value_name = "NAMESPACE/NAME", value_parser = RegistryAt::parse)]
        script_registry: Option<RegistryAt>,
        /// The folder of approved scripts an absolute script_file reads, as `run --scripts-dir`
        #[arg(long, value_name = "DIR")]
        scripts_dir: Option<PathBuf>,
        /// Check image_ref steps against this executor's images, as `run --executor`
        #[command(flatten)]
        executor: ExecutorArgs,
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
        /// A YAML runbook's newest executions, at most this many (a markdown
        /// runbook's History keeps its own number)
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
    },
    /// Serve the runbooks of a folder over HTTP, behind bearer JWTs
    Serve(ServeArgs),
    /// Print a short-lived HS256 token signed with a server's secret file,
    /// for trying the API (`curl -H "Authorization: Bearer $(runbox token …)"`)
    Token {
        /// The secret file `runbox serve --jwt-secret-file` reads
        #[arg(long, value_name = "FILE")]
        jwt_secret_file: PathBuf,
        /// The caller's name: the token's `sub`, the records' by_user
        #[arg(long, value_name = "NAME")]
        sub: String,
        /// A role the token holds, for Required Claims and approvals (repeatable)
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// How long it is valid, at most 24h
        #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = runbox::model::limits::parse_duration)]
        ttl: std::time::Duration,
    },
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

/// The record store at `path`; a SQLite file this process makes first takes
/// the records of the JSON log at `log` (kept before runbox had a store; a
/// shared database is not this machine's log's).
pub(crate) fn open_store(
    path: &std::path::Path,
    log: Option<&std::path::Path>,
) -> Result<store::Store, store::StoreError> {
    let opened = store::open(path)?;
    let made_file = opened.created() && opened.path().is_some();
    let log = log.filter(|log| made_file && *log != std::path::Path::new(record::STDOUT));
    if let Some(log) = log {
        let rows = record::logged_rows(log).map_err(|e| store::StoreError {
            store: opened.name(),
            message: format!("cannot import {}: {e}", log.display()),
        })?;
        if !rows.is_empty() {
            let kept = opened.import(rows)?;
            eprintln!("runbox: the new record store {} keeps the {kept} records of {}", opened.name(), log.display());
        }
    }
    Ok(opened)
}

/// Why there is no record store, and what to do.
pub(crate) const NO_STORE: &str = "no record store: set HOME, RUNBOX_STATE_DIR or RUNBOX_STORE, or give --store";

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
    let store_path = args.store.clone().or_else(store::default_path);
    match &args.command {
        // A run without its store still runs (its record is in the log).
        Command::Run(_) => match store_path.as_deref().map(|p| open_store(p, config.log.as_deref())).transpose() {
            Ok(store) => config.store = store.map(Arc::new),
            Err(e) => eprintln!("runbox: {e}; the run is not kept in it"),
        },
        Command::Serve(_) => {
            let path = store_path.as_deref().context(NO_STORE)?;
            config.store = Some(Arc::new(open_store(path, config.log.as_deref())?));
        }
        _ => {}
    }
    match args.command {
        Command::Run(run) => run_runbook(run, config),
        Command::Validate {
            runbooks,
            lint,
            json,
            env,
            inputs,
            secrets_dir,
            allow_kubernetes,
            script_registry,
            scripts_dir,
            executor,
        } => {
            let host = Host {
                env: env.into_iter().collect(),
                inputs: inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
                secrets: Secrets {
                    cluster: allow_kubernetes,
                    registry: script_registry,
                    scripts: scripts_dir,
                    ..secrets(secrets_dir)
                },
                validating: false,
                protected: config.protected(),
                sealed_env: false,
                executor: executor.executor()?,
            };
            validate(&runbooks, &host, lint, json, config)
        }
        Command::Allow { runbooks } => allow(&runbooks, &config),
        Command::Revoke { runbooks } => revoke(&runbooks, &config),
        Command::List { dir, json } => list(&dir, json),
        Command::History { runbook, json, limit } => {
            let store = |path: &std::path::Path| open_store(path, config.log.as_deref());
            history(&runbook, json, limit, store_path.as_deref(), store)
        }
        Command::Serve(serve) => run_server(serve, config),
        Command::Token { jwt_secret_file, sub, roles, ttl } => {
            say!("{}", runbox::api::mint(&jwt_secret_file, &sub, &roles, ttl)?);
            Ok(0)
        }
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
