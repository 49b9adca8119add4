//! The arguments the subcommands share and their parsers: limits, grants,
//! determinism, the sub-runbook tree, `K=V` pairs.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use runbox::Config;
use runbox::model::cluster::{Executor, ObjectGrant};
use runbox::model::limits::{LimitOverrides, parse_duration, parse_fuel, parse_output, parse_size};
use runbox::model::net::NetPolicy;
use runbox::plan::consent::Grants;
use runbox::plan::sources::{RegistryAt, Secrets};
use runbox::run::records::history;
use runbox::run::{Deterministic, MAX_RECURSION_DEPTH};

use crate::progress::ColorChoice;

#[derive(ClapArgs)]
pub(super) struct RunArgs {
    /// The runbook's file, or its name without .md/.yaml (`runbox run Deploy`)
    pub(super) runbook: PathBuf,
    /// Look for a RUNBOOK given by bare name in DIR instead of the current folder
    #[arg(long, value_name = "DIR")]
    pub(super) dir: Option<PathBuf>,
    /// A named value the steps read with get(name) (repeatable)
    #[arg(long = "input", value_name = "K=V", value_parser = key_value)]
    pub(super) inputs: Vec<(String, String)>,
    /// A value for a declared variable, instead of this process's (repeatable)
    #[arg(long = "env", value_name = "K=V", value_parser = key_value)]
    pub(super) env: Vec<(String, String)>,
    #[command(flatten)]
    pub(super) runner: RunnerArgs,
    #[command(flatten)]
    pub(super) determinism: DeterministicArgs,
    /// Also write a JUnit XML report to FILE: one testcase per step
    #[arg(long, value_name = "FILE")]
    pub(super) junit: Option<PathBuf>,
    /// Print one machine-readable result instead of the steps' output
    #[arg(long)]
    pub(super) json: bool,
    /// Print only the steps' own output and errors: no line per step, no
    /// summary of a run that passed
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub(super) quiet: bool,
    /// Also print each step's source, limits and fuel
    #[arg(long, short = 'v')]
    pub(super) verbose: bool,
    /// Colour runbox's own lines: on a terminal unless NO_COLOR is set (auto), always, never
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(super) color: ColorChoice,
    /// Do not append to the runbook's # History
    #[arg(long)]
    pub(super) no_history: bool,
    /// Approve STEP in advance, when it is marked approval_required (repeatable)
    #[arg(long = "approve", value_name = "STEP")]
    pub(super) approve: Vec<String>,
}

#[derive(ClapArgs)]
pub(super) struct ServeArgs {
    /// The folder whose runbooks are served, by file name
    #[arg(long, default_value = "runbooks", value_name = "DIR")]
    pub(super) dir: PathBuf,
    /// Listen on HOST:PORT [default: $API_HOST:$API_PORT, else localhost:8083]
    #[arg(long, value_name = "HOST:PORT")]
    pub(super) addr: Option<String>,
    /// Check tokens with the HS256 secret in FILE (at least 32 bytes)
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["jwt_public_key", "oidc_issuer"],
        required_unless_present_any = ["jwt_public_key", "oidc_issuer"]
    )]
    pub(super) jwt_secret_file: Option<PathBuf>,
    /// Check tokens with the RS256 or ES256 public key (PEM) in FILE
    #[arg(long, value_name = "FILE", conflicts_with = "oidc_issuer")]
    pub(super) jwt_public_key: Option<PathBuf>,
    /// Check tokens with the keys of this OpenID Connect issuer (its
    /// discovery document and key set, read at start and again when a token
    /// names a new key); `iss` must be it
    #[arg(long, value_name = "URL", requires = "audience")]
    pub(super) oidc_issuer: Option<String>,
    /// The `aud` an issuer's tokens must hold: this server's client id or
    /// API identifier at the issuer
    #[arg(long, value_name = "AUD", requires = "oidc_issuer")]
    pub(super) audience: Option<String>,
    #[command(flatten)]
    pub(super) runner: RunnerArgs,
    /// Executions at once; more are answered 503 with Retry-After
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub(super) max_concurrent: usize,
    /// A connection must send each request's head within D (and is closed
    /// when kept alive longer without one)
    #[arg(long, default_value = "30s", value_name = "D", value_parser = parse_duration)]
    pub(super) header_timeout: std::time::Duration,
    /// Connections one peer address may hold at once (raise it behind a
    /// reverse proxy, whose connections all come from one address)
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub(super) max_connections_per_peer: usize,
    /// No execution's step runs past this, e.g. 5m
    #[arg(long, default_value = "5m", value_name = "D", value_parser = parse_duration)]
    pub(super) request_timeout: std::time::Duration,
    /// The record store keeps the newest N finished executions of each
    /// runbook, removing older ones (not a markdown file's `# History`:
    /// that is --history-keep) [default: all]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) retain_runs: Option<u64>,
    /// The record store removes finished executions started longer ago than
    /// D, e.g. 30d [default: none]
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub(super) retain_age: Option<std::time::Duration>,
    /// A server sharing the store that has not beaten for D is taken as
    /// dead: its running executions are marked interrupted
    #[arg(long, default_value = "30s", value_name = "D", value_parser = parse_duration)]
    pub(super) replica_lapse: std::time::Duration,
}

/// How a runner is configured, for `run` and `serve` alike: what is
/// granted, the limits, History, secrets and the sub-runbook tree.
#[derive(ClapArgs)]
pub(super) struct RunnerArgs {
    #[command(flatten)]
    pub(super) grants: GrantArgs,
    #[command(flatten)]
    pub(super) limits: LimitArgs,
    /// How many History entries a runbook keeps
    #[arg(long, default_value_t = history::DEFAULT_KEEP, value_name = "N", value_parser = history_keep)]
    pub(super) history_keep: usize,
    /// Where script_from_secret reads secrets [default: $RUNBOX_SECRETS_DIR, else /run/secrets]
    #[arg(long, value_name = "DIR")]
    pub(super) secrets_dir: Option<PathBuf>,
    /// Read script_id entries from key registry.yaml of this ConfigMap, and
    /// their scripts from the ConfigMaps and Secrets of its namespace it
    /// names, instead of a registry.yaml on disk
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = RegistryAt::parse)]
    pub(super) script_registry: Option<RegistryAt>,
    /// Let an absolute script_file (script_path) name a script in DIR, a
    /// folder of approved scripts (e.g. a ConfigMap mounted at /scripts)
    #[arg(long, value_name = "DIR")]
    pub(super) scripts_dir: Option<PathBuf>,
    #[command(flatten)]
    pub(super) executor: ExecutorArgs,
    #[command(flatten)]
    pub(super) tree: TreeArgs,
}

/// The Kubernetes executor: where `image_ref` steps run, in which images.
#[derive(ClapArgs)]
pub(super) struct ExecutorArgs {
    /// Run image_ref steps as Kubernetes Jobs, in the namespace of the
    /// kubeconfig's context (in a cluster, the pod's own)
    #[arg(long, value_name = "kubernetes", value_parser = ["kubernetes"])]
    pub(super) executor: Option<String>,
    /// The image an image_ref NAME runs in, e.g.
    /// postgres=docker.io/library/postgres:16@sha256:… (repeatable)
    #[arg(long = "image", value_name = "NAME=IMAGE", value_parser = Executor::parse_image)]
    pub(super) images: Vec<(String, String)>,
    /// Run an image_ref that no --image names as the image reference it is
    #[arg(long)]
    pub(super) allow_any_image: bool,
}

impl ExecutorArgs {
    pub(super) fn executor(&self) -> anyhow::Result<Option<Executor>> {
        if self.executor.is_none() {
            if !self.images.is_empty() || self.allow_any_image {
                anyhow::bail!(
                    "--image and --allow-any-image configure the Kubernetes executor: add --executor kubernetes"
                );
            }
            return Ok(None);
        }
        if !cfg!(feature = "kubernetes") {
            anyhow::bail!("this build of runbox has no Kubernetes executor: build it with `--features kubernetes`");
        }
        Ok(Some(Executor::new(self.images.clone(), self.allow_any_image)))
    }
}

impl RunnerArgs {
    /// `base` (the state's locations) configured by these arguments, with
    /// steps calling the API at `api_base_url`: the one place `run` and
    /// `serve` build their [`Config`].
    pub(super) fn config(self, base: Config, api_base_url: String) -> anyhow::Result<Config> {
        Ok(Config {
            overrides: self.limits.overrides(),
            history_keep: self.history_keep,
            grants: self.grants.grants()?,
            secrets: Secrets { registry: self.script_registry, scripts: self.scripts_dir, ..secrets(self.secrets_dir) },
            executor: self.executor.executor()?,
            max_recursion_depth: self.tree.max_recursion_depth,
            max_sub_runbooks: self.tree.max_sub_runbooks,
            max_tree_log: self.tree.max_tree_log,
            api_base_url,
            ..base
        })
    }
}

#[derive(ClapArgs)]
pub(super) struct JsArgs {
    /// The script; stdin when neither FILE nor -e is given
    #[arg(conflicts_with = "eval")]
    pub(super) file: Option<PathBuf>,
    /// The script's code
    #[arg(short = 'e', long = "eval", value_name = "CODE")]
    pub(super) eval: Option<String>,
    #[command(flatten)]
    pub(super) sandbox: SandboxArgs,
}

#[derive(ClapArgs)]
pub(super) struct ShArgs {
    /// Run CODE; the first ARG is then `$0`, as with `bash -c`
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "stdin")]
    pub(super) command: Option<String>,
    /// Read the script from stdin even with ARGs, as with `bash -s`
    #[arg(short = 's')]
    pub(super) stdin: bool,
    /// FILE [ARG]...: the script and its positional parameters; stdin when no FILE
    #[arg(value_name = "FILE | ARG", trailing_var_arg = true, allow_hyphen_values = true)]
    pub(super) rest: Vec<String>,
    #[command(flatten)]
    pub(super) sandbox: SandboxArgs,
}

/// What the user grants a runbook beyond the safe defaults.
#[derive(ClapArgs)]
pub(super) struct GrantArgs {
    /// Let the runbook read PATH and what is beneath it, as it declares (repeatable)
    #[arg(long = "allow-read", value_name = "PATH")]
    pub(super) allow_read: Vec<PathBuf>,
    /// Let the runbook read and write PATH and what is beneath it, as it declares (repeatable)
    #[arg(long = "allow-write", value_name = "PATH")]
    pub(super) allow_write: Vec<PathBuf>,
    /// Let steps' curl and fetch reach HOST or HOST:PORT (repeatable)
    #[arg(long = "allow-net", value_name = "HOST[:PORT]")]
    pub(super) allow_net: Vec<String>,
    /// Let the runbook's steps take their script from key KEY of a ConfigMap
    /// or Secret, read with your Kubernetes credentials; `*` for any NAMESPACE,
    /// NAME or KEY (repeatable)
    #[arg(long = "allow-kubernetes", value_name = "KIND/NAMESPACE/NAME/KEY", value_parser = ObjectGrant::parse)]
    pub(super) allow_kubernetes: Vec<ObjectGrant>,
    /// Grant whatever the runbook declares, but native steps
    #[arg(long = "allow-all")]
    pub(super) allow_all: bool,
    /// Let native steps (bash, zsh, powershell outside the sandbox) run,
    /// confined by the kernel; `=unconfined` also where it cannot confine them
    #[arg(long = "allow-native", value_name = "unconfined", num_args = 0..=1, require_equals = true, default_missing_value = "confined", value_parser = ["confined", "unconfined"])]
    pub(super) allow_native: Option<String>,
}

impl GrantArgs {
    pub(super) fn grants(&self) -> anyhow::Result<Grants> {
        Ok(Grants {
            read: self.allow_read.clone(),
            write: self.allow_write.clone(),
            net: NetPolicy::new(&self.allow_net).map_err(anyhow::Error::msg)?,
            kubernetes: self.allow_kubernetes.clone(),
            all: self.allow_all,
            native: self.allow_native.is_some(),
            unconfined: self.allow_native.as_deref() == Some("unconfined"),
        })
    }
}

/// Mounts, variables and limits of a `runbox js` or `runbox sh` step.
#[derive(ClapArgs)]
pub(super) struct SandboxArgs {
    /// Also mount DIR read-only at its own absolute path (repeatable)
    #[arg(long = "read", value_name = "DIR")]
    pub(super) read: Vec<PathBuf>,
    /// Also mount DIR read-write at its own absolute path (repeatable)
    #[arg(long = "write", value_name = "DIR")]
    pub(super) write: Vec<PathBuf>,
    /// An environment variable for the script; it sees no others (repeatable)
    #[arg(long = "env", value_name = "K=V", value_parser = key_value)]
    pub(super) env: Vec<(String, String)>,
    /// Let the script's curl or fetch reach HOST or HOST:PORT (repeatable)
    #[arg(long = "allow-net", value_name = "HOST[:PORT]")]
    pub(super) allow_net: Vec<String>,
    #[command(flatten)]
    pub(super) limits: LimitArgs,
    #[command(flatten)]
    pub(super) determinism: DeterministicArgs,
    /// Print one machine-readable result instead of the script's output
    #[arg(long)]
    pub(super) json: bool,
}

/// Deterministic mode, for CI.
#[derive(ClapArgs)]
pub(super) struct DeterministicArgs {
    /// The same output and fuel on every run and machine: a virtual clock,
    /// seeded randomness, no network, no host variables, no History
    #[arg(long)]
    pub(super) deterministic: bool,
    /// Seed of every random source (implies --deterministic) [default: 0]
    #[arg(long, value_name = "N")]
    pub(super) seed: Option<u64>,
    /// Where the virtual clock starts (implies --deterministic)
    /// [default: 2026-01-01T00:00:00Z]
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub(super) clock: Option<time::OffsetDateTime>,
}

impl DeterministicArgs {
    /// The mode asked for here, or by the runbook (`asked`).
    pub(super) fn mode(&self, asked: bool) -> Option<Deterministic> {
        let on = self.deterministic || self.seed.is_some() || self.clock.is_some() || asked;
        let default = Deterministic::default();
        on.then(|| Deterministic {
            seed: self.seed.unwrap_or(default.seed),
            clock: self.clock.unwrap_or(default.clock),
        })
    }
}

pub(super) fn parse_instant(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant such as 2026-01-01T00:00:00Z: {e}"))
        .and_then(|t| (t.year() >= 1970).then_some(t).ok_or_else(|| format!("`{text}`: give an instant after 1970")))
}

/// What a run and the sub-runbooks it calls may spend together.
#[derive(ClapArgs)]
pub(super) struct TreeArgs {
    /// How deep runbooks may nest through sub-runbook calls
    #[arg(long, env = "MAX_RECURSION_DEPTH", default_value_t = MAX_RECURSION_DEPTH, value_name = "N")]
    pub(super) max_recursion_depth: usize,
    /// Sub-runbook executions one run, and all it calls, may make
    #[arg(long, default_value_t = runbox::run::sub_runbooks::tree::MAX_SUB_RUNBOOKS, value_name = "N")]
    pub(super) max_sub_runbooks: usize,
    /// Bytes of records one run's sub-runbooks may log, e.g. 64MiB
    #[arg(long, default_value = "64MiB", value_name = "SIZE", value_parser = parse_size)]
    pub(super) max_tree_log: u64,
}

#[derive(ClapArgs)]
pub(super) struct LimitArgs {
    /// Wall-clock limit per step, e.g. 30s, 500ms [default: 30s]
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub(super) timeout: Option<std::time::Duration>,
    /// Instruction budget per step [default: 100000000000]
    #[arg(long, value_name = "N", value_parser = parse_fuel)]
    pub(super) fuel: Option<u64>,
    /// Memory per step, e.g. 64MiB [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(super) memory: Option<u64>,
    /// Bytes kept of each of stdout and stderr per step [default: 1MiB]
    #[arg(long = "max-output", value_name = "SIZE", value_parser = parse_output)]
    pub(super) output: Option<usize>,
}

impl LimitArgs {
    pub(super) fn overrides(&self) -> LimitOverrides {
        LimitOverrides { timeout: self.timeout, fuel: self.fuel, memory: self.memory, output: self.output }
    }
}

/// Where `script_from_secret` reads: `--secrets-dir`, else the default.
pub(super) fn secrets(dir: Option<PathBuf>) -> Secrets {
    dir.map_or_else(Secrets::default, |dir| Secrets { dir, ..Secrets::default() })
}

pub(super) fn history_keep(text: &str) -> Result<usize, String> {
    let max = history::MAX_KEEP;
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("`{text}` must be a number of entries from 1 to {max}"))
}

pub(super) fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{text}` must be KEY=VALUE")),
    }
}
