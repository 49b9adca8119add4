//! A runbook as plain data, whatever file format it came from: what it
//! needs (variables, paths, hosts, claims, inputs), its steps and their
//! limits. No I/O: `parse/` builds it, `plan/` checks it against the host.
//!
//! Imports nothing of the crate but its own files.

pub mod cluster;
pub mod inputs;
pub mod limits;
pub mod net;

use std::path::{Path, PathBuf};

use inputs::InputSpec;
use limits::LimitOverrides;

/// A runbook as read from its file: what it needs and what it runs.
#[derive(Clone, Debug)]
pub struct Runbook {
    /// The file it was read from.
    pub path: PathBuf,
    pub format: Format,
    pub name: String,
    pub description: String,
    /// The only host variables the steps see.
    pub env: Vec<EnvRequirement>,
    /// Paths mounted read-only; they must exist.
    pub reads: Vec<PathRequirement>,
    /// Directories mounted read-write; created when missing.
    pub writes: Vec<PathRequirement>,
    /// Hosts (`HOST` or `HOST:PORT`) the steps' `curl` and `fetch` ask to
    /// reach; the user grants them.
    pub net: Vec<HostRequirement>,
    /// JWT claims a caller must hold (one listed value of each).
    pub claims: Vec<ClaimRequirement>,
    /// Typed inputs (YAML runbooks); a markdown runbook declares none and
    /// takes any `--input` as text.
    pub inputs: Vec<InputSpec>,
    pub steps: Vec<Step>,
    /// `deterministic: true` (YAML): the whole run is in deterministic mode,
    /// as with `--deterministic`.
    pub deterministic: bool,
    /// The sha256 that consent is bound to: of everything above
    /// `# History` for markdown (runs append there), of the whole file for
    /// YAML; of the text that was parsed, not of the file as it is later.
    pub consent_sha256: String,
}

/// The file format a runbook was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `Name.md`: its executions are recorded in its `# History`.
    Markdown,
    /// `name.yaml`: typed inputs, templates, script sources.
    Yaml,
}

impl Runbook {
    /// The folder relative paths in the runbook start from.
    pub fn folder(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// The file's name, e.g. `HelloWorld.md`, for messages.
    pub fn file_name(&self) -> String {
        file_name(&self.path)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvRequirement {
    pub name: String,
    pub description: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRequirement {
    /// As written in the runbook: relative to its folder, or absolute.
    pub path: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRequirement {
    /// `HOST` or `HOST:PORT`, as written.
    pub host: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRequirement {
    pub claim: String,
    pub values: Vec<String>,
    pub line: usize,
}

/// One step, run in a fresh sandbox instance.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    pub language: Language,
    pub source: Source,
    /// The line of the runbook file that declares the step (for an inline
    /// script: that holds its first line).
    pub line: usize,
    pub limits: LimitOverrides,
    /// A shell step's positional parameters (templates allowed).
    pub args: Vec<String>,
    /// Variables set for this step only (templates allowed in values).
    pub env: Vec<(String, String)>,
    /// The working directory, relative to the sandbox's (templates allowed).
    pub cwd: Option<String>,
    pub on_error: OnError,
    /// Set when the step may run only once someone approves it.
    pub approval: Option<Approval>,
    /// The native tier: a real interpreter, outside the wasm sandbox (only
    /// with `--allow-native`).
    pub native: Option<Native>,
    /// `image_ref`: the step runs as a Kubernetes Job in a container image
    /// (only under the Kubernetes executor).
    pub container: Option<Container>,
}

/// A step run as a Kubernetes Job: `image_ref` and `secret_env_all`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// A name in the operator's image map (`postgres`, `aws`), or an image
    /// reference where the operator allows any image.
    pub image: String,
    /// Secrets (of the Job's namespace) whose every key becomes a variable
    /// of the container.
    pub secret_env: Vec<String>,
}

/// Whether `image` could be an image reference or a name of the operator's
/// map: `[registry[:port]/]path[:tag][@sha256:…]`, at most 255 characters
/// of letters, digits, `.`, `_`, `-`, `/`, `:` and `@`.
pub fn is_image_ref(image: &str) -> bool {
    !image.is_empty()
        && image.len() <= 255
        && image.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && image.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'))
}

/// An interpreter of the native tier, run as a real process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Native {
    Bash,
    Zsh,
    PowerShell,
}

impl Native {
    /// The program run: `bash`, `zsh`, `pwsh`.
    pub fn program(self) -> &'static str {
        match self {
            Native::Bash => "bash",
            Native::Zsh => "zsh",
            Native::PowerShell => "pwsh",
        }
    }

    /// The script file's extension, which PowerShell insists on.
    pub fn extension(self) -> &'static str {
        match self {
            Native::Bash => "sh",
            Native::Zsh => "zsh",
            Native::PowerShell => "ps1",
        }
    }

    /// How to get the program when it is missing.
    pub fn install_hint(self) -> &'static str {
        match self {
            Native::Bash => "install bash",
            Native::Zsh => "install zsh",
            Native::PowerShell => "install PowerShell 7+",
        }
    }

    /// The interpreter a code-block tag or step type names natively.
    pub fn from_tag(tag: &str) -> Option<Native> {
        match tag {
            "bash" | "sh" | "shell" => Some(Native::Bash),
            "zsh" => Some(Native::Zsh),
            "powershell" | "pwsh" => Some(Native::PowerShell),
            _ => None,
        }
    }
}

impl Step {
    /// What the step runs, as reports name it: `sh`, `js`, `runbook`,
    /// `image` (a Kubernetes Job), or a native interpreter (`bash`, `zsh`,
    /// `pwsh`).
    pub fn kind(&self) -> &'static str {
        match (&self.source, self.native) {
            (Source::Runbook { .. }, _) => "runbook",
            (_, Some(native)) => native.program(),
            _ if self.container.is_some() => "image",
            _ => self.language.as_str(),
        }
    }

    /// A markdown code block: inline source, nothing else set.
    pub fn inline(name: String, language: Language, source: String, line: usize, limits: LimitOverrides) -> Step {
        Step {
            name,
            language,
            source: Source::Inline(source),
            line,
            limits,
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            on_error: OnError::Fail,
            approval: None,
            native: None,
            container: None,
        }
    }
}

/// Where a step's script comes from: exactly one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `inline_script`, or a markdown code block.
    Inline(String),
    /// `script_file`: a path inside the runbook's folder tree.
    File(String),
    /// `script_id`: an entry of the nearest `registry.yaml`.
    Registry(String),
    /// `script_from_secret`: never logged.
    Secret(SecretRef),
    /// `script_from_configmap`: a key of a ConfigMap, read through the
    /// Kubernetes API; `namespace` defaults to the configuration's.
    ConfigMap { name: String, key: String, namespace: Option<String> },
    /// `type: runbook`: a sub-runbook beside this one (`with.runbook`), with
    /// its inputs as text (templates allowed); `env` is the step's own.
    Runbook { name: String, inputs: Vec<(String, String)> },
}

/// A script kept in a secret store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    /// `{secret_name, key}`: the file `KEY` in the secret's directory of the
    /// secrets directory (`$RUNBOX_SECRETS_DIR`, default `/run/secrets`), or
    /// the file `NAME` itself when no key is given.
    File { secret_name: String, key: Option<String> },
    /// `{env: VAR}`: the content of a host environment variable.
    Env(String),
    /// `{secret_name, key, namespace}`: a key of a Secret, read through the
    /// Kubernetes API.
    Kubernetes { secret_name: String, key: String, namespace: String },
}

/// What a failed step does to the runbook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Stop; the runbook exits with the step's status.
    Fail,
    /// Go on with the next step; the runbook's status is not affected.
    Continue,
}

/// `approval_required: true` with who may approve.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Approval {
    pub approvers: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// `sh`, `bash` or `zsh`: the sandboxed shell.
    Shell,
    /// `js` or `javascript`: QuickJS.
    JavaScript,
}

impl Language {
    pub fn from_tag(tag: &str) -> Option<Language> {
        match tag {
            "sh" | "bash" | "zsh" | "shell" => Some(Language::Shell),
            "js" | "javascript" => Some(Language::JavaScript),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Shell => "sh",
            Language::JavaScript => "js",
        }
    }
}

/// Steps a runbook may hold: what a run keeps per step stays bounded.
pub const MAX_STEPS: usize = 10_000;

/// The guest's working directory: a runbook's relative paths appear under it.
pub const WORKDIR: &str = "/work";

/// The registry file of approved scripts, looked for beside a runbook, then
/// in its parents; never itself a runbook.
pub const REGISTRY: &str = "registry.yaml";

/// A secret or key name: one path component, so it cannot leave the
/// secrets directory.
pub fn is_secret_name(part: &str) -> bool {
    !part.is_empty() && !part.starts_with('.') && !part.contains(['/', '\\', '\0'])
}

/// Whether `name` is a Kubernetes object's name (a DNS subdomain: at most
/// 253 lowercase letters, digits, `-` and `.`, starting and ending with a
/// letter or digit). Nothing else reaches the API's paths.
pub fn is_object_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= 253
        && edge(name.chars().next())
        && edge(name.chars().last())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !name.contains("..")
}

/// Whether `name` is a namespace's name (a DNS label: at most 63 lowercase
/// letters, digits and `-`, starting and ending with a letter or digit).
pub fn is_namespace_name(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && is_object_name(name)
}

/// Whether `key` is a key of a ConfigMap's or a Secret's data (at most 253
/// letters, digits, `-`, `_` and `.`, not `.` or `..`).
pub fn is_data_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The file name of `path`: how a runbook is named in a recursion stack, in
/// API paths and in sub-runbook calls.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The variables runbox sets for every step of a runbook: its
/// execution chain and the bridge to the API. Neither a runbook nor the
/// user's `--env` can set them.
pub const SYSTEM_VARIABLES: [&str; 4] =
    ["RUNBOOK_CORRELATION_ID", "RUNBOOK_RECURSION_STACK", "RUNBOOK_API_BASE_URL", "RUNBOOK_API_TOKEN"];

/// A POSIX environment variable name.
pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
