//! Consent: what a runbook declares is a request, and the user
//! grants it. Safe declarations are granted without asking — relative paths
//! inside the runbook's folder that pass through no hidden component, outputs
//! there that hold no runbook or script, declared variables. Everything else
//! is an [`Ask`]: granted by `--allow-read`/`--allow-write`/`--allow-net`/
//! `--allow-kubernetes`,
//! `--allow-all`, a yes at the terminal, or consent recorded with
//! `runbox allow` for the runbook's current sha256 (like `direnv allow`).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::mounts::{Declared, Kind};
use crate::error::Problem;
use crate::model::Runbook;
use crate::model::cluster::{ObjectGrant, ObjectKey, ObjectKind};
use crate::model::net::NetPolicy;
use crate::state;
use crate::state::Protected;
use crate::text::visible;

/// What a runbook asks for that needs the user's grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    pub kind: AskKind,
    /// The real host path, or `HOST[:PORT]`.
    pub target: String,
    /// Why it is not granted without asking.
    pub why: String,
    /// The runbook line that asks.
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskKind {
    Read,
    Write,
    Net,
    /// A step of the native tier: a real process, outside the wasm sandbox.
    Native,
    /// A key of a ConfigMap or a Secret read through the Kubernetes API
    /// with the user's credentials (`KIND/NAMESPACE/NAME/KEY`).
    Kubernetes,
}

impl Ask {
    /// The flag that grants it, e.g. `--allow-read /etc/ssl`.
    pub fn flag(&self) -> String {
        let kind = match self.kind {
            AskKind::Read => "read",
            AskKind::Write => "write",
            AskKind::Net => "net",
            AskKind::Kubernetes => "kubernetes",
            AskKind::Native => return "--allow-native".into(),
        };
        format!("--allow-{kind} {}", self.target)
    }
}

impl fmt::Display for Ask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AskKind::Read => "read",
            AskKind::Write => "write",
            AskKind::Net => "connect to",
            AskKind::Kubernetes => "read from the Kubernetes API",
            AskKind::Native => "run natively:",
        };
        // A path is the runbook's to choose: shown so it cannot rewrite the prompt.
        write!(f, "{what} {} (line {}: {})", visible(&self.target), self.line, visible(&self.why))
    }
}

/// Files an output may not hold unless the user grants it: a step could
/// rewrite a runbook or a script that someone runs next.
const GUARDED_EXTENSIONS: &[&str] =
    &["md", "markdown", "yaml", "yml", "sh", "bash", "zsh", "js", "mjs", "cjs", "ts", "py", "rb", "pl", "ps1", "psm1"];
/// Entries looked at in an output before it counts as too large to check.
const MAX_CHECKED_ENTRIES: usize = 10_000;

/// What `runbook` asks, from its declared paths resolved on this host (not
/// `protected`): for `runbox allow`, which needs no values for variables or
/// inputs.
pub fn asks_of(runbook: &Runbook, protected: &[Protected]) -> Result<Vec<Ask>, Vec<Problem>> {
    Ok(asks(runbook, &super::mounts::resolve(runbook, protected)?))
}

/// Everything `runbook` declares that needs a grant, in the order declared.
pub fn asks(runbook: &Runbook, declared: &[Declared]) -> Vec<Ask> {
    let folder = state::real(runbook.folder());
    let file = state::real(&runbook.path);
    let mut asks = Vec::new();
    for d in declared {
        let kind = if d.kind.is_input() { AskKind::Read } else { AskKind::Write };
        let ask = |why: String| Ask { kind, target: d.host.display().to_string(), why, line: d.line };
        if !d.relative {
            asks.push(ask("an absolute path, outside the runbook's folder".into()));
            continue;
        }
        let inside = d.host.strip_prefix(&folder).unwrap_or(&d.host);
        if let Some(hidden) = inside.components().map(|c| c.as_os_str().to_string_lossy()).find(|c| c.starts_with('.'))
        {
            asks.push(ask(format!("it passes through the hidden `{hidden}`")));
            continue;
        }
        if d.kind == Kind::Output
            && let Some(why) = guarded_inside(&d.host, &file)
        {
            asks.push(ask(why));
        }
    }
    for step in runbook.steps.iter().filter(|s| s.native.is_some()) {
        let program = step.native.map_or("", |n| n.program());
        let why = format!("step `{}` runs {program} as a real process, confined by the kernel", step.name);
        asks.push(Ask { kind: AskKind::Native, target: program.into(), why, line: step.line });
    }
    // A build without a Kubernetes client reads nothing there to ask about
    // (the plan says it cannot).
    for step in runbook.steps.iter().filter(|_| cfg!(feature = "kubernetes")) {
        let Some(object) = super::sources::object_of(&step.source) else { continue };
        let why = format!("step `{}` runs it as its script, read with your Kubernetes credentials", step.name);
        asks.push(Ask { kind: AskKind::Kubernetes, target: object.to_string(), why, line: step.line });
    }
    // A Secret whose keys an image step's Job gets: the script can print
    // them, and runbox never sees them to mask them.
    for step in runbook.steps.iter().filter(|_| cfg!(feature = "kubernetes")) {
        for secret in step.container.iter().flat_map(|c| &c.secret_env) {
            let object = ObjectKey {
                kind: ObjectKind::Secret,
                namespace: super::sources::default_namespace(),
                name: secret.clone(),
                key: "*".into(),
            };
            let why = format!("step `{}` gives its Job every key of it as a variable (secret_env_all)", step.name);
            asks.push(Ask { kind: AskKind::Kubernetes, target: object.to_string(), why, line: step.line });
        }
    }
    for requirement in &runbook.net {
        let Ok(policy) = NetPolicy::new(std::slice::from_ref(&requirement.host)) else { continue };
        for host in policy.hosts() {
            asks.push(Ask { kind: AskKind::Net, target: host, why: "network access".into(), line: requirement.line });
        }
    }
    asks
}

/// Why a writable `output` could harm what runs next, if it could.
fn guarded_inside(output: &Path, runbook: &Path) -> Option<String> {
    if runbook.starts_with(output) {
        return Some("it holds the runbook itself, which a step could rewrite".into());
    }
    let mut pending = vec![output.to_path_buf()];
    let mut seen = 0;
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_CHECKED_ENTRIES {
                return Some(format!(
                    "it holds more than {MAX_CHECKED_ENTRIES} entries, too many to check for runbooks"
                ));
            }
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let shown = path.strip_prefix(output).unwrap_or(&path).display().to_string();
            // `.git/hooks`, `.envrc`, `.ssh`: what other tools run or trust.
            if name.starts_with('.') {
                return Some(format!("it holds `{shown}`, hidden, which other tools may run or trust"));
            }
            let Ok(t) = entry.file_type() else { continue };
            if t.is_dir() {
                pending.push(path);
                continue;
            }
            let script = name == crate::model::REGISTRY
                || path.extension().is_some_and(|e| GUARDED_EXTENSIONS.contains(&&*e.to_string_lossy()));
            if script {
                return Some(format!("it holds `{shown}`, a runbook or script a step could rewrite"));
            }
            let Ok(meta) = entry.metadata() else { continue };
            if t.is_file() && meta.mode() & 0o111 != 0 {
                return Some(format!("it holds `{shown}`, an executable a step could rewrite"));
            }
            // A hard link is the same file as another name, elsewhere.
            if t.is_file() && meta.nlink() > 1 {
                return Some(format!(
                    "it holds `{shown}`, which has other hard links: a step could rewrite the file they name"
                ));
            }
        }
    }
    None
}

/// The grant of exactly each cluster object among `asks`.
pub fn object_grants<'a>(asks: impl IntoIterator<Item = &'a Ask>) -> Vec<ObjectGrant> {
    let objects =
        asks.into_iter().filter(|a| a.kind == AskKind::Kubernetes).filter_map(|a| ObjectKey::parse(&a.target));
    objects.map(|o| ObjectGrant::exactly(&o)).collect()
}

/// What the user granted for one run.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// `--allow-read`: these paths and everything beneath them, read-only.
    pub read: Vec<PathBuf>,
    /// `--allow-write`: these paths and everything beneath them (reading too).
    pub write: Vec<PathBuf>,
    /// `--allow-net`.
    pub net: NetPolicy,
    /// `--allow-kubernetes`: keys of ConfigMaps and Secrets runbox may read.
    pub kubernetes: Vec<ObjectGrant>,
    /// `--allow-all`: whatever the runbook asks, but the native tier.
    pub all: bool,
    /// `--allow-native`: steps of the native tier may run (never implied by
    /// `--allow-all`).
    pub native: bool,
    /// `--allow-native=unconfined`: even where the kernel cannot confine them.
    pub unconfined: bool,
}

impl Grants {
    pub fn grants(&self, ask: &Ask) -> bool {
        let beneath = |paths: &[PathBuf]| paths.iter().any(|p| Path::new(&ask.target).starts_with(state::real(p)));
        if ask.kind == AskKind::Native {
            return self.native;
        }
        self.all
            || match ask.kind {
                AskKind::Read => beneath(&self.read) || beneath(&self.write),
                AskKind::Write => beneath(&self.write),
                AskKind::Net => NetPolicy::new(&[&ask.target]).is_ok_and(|wanted| self.net.covers(&wanted)),
                AskKind::Kubernetes => ObjectKey::parse(&ask.target)
                    .is_some_and(|wanted| self.kubernetes.iter().any(|g| g.covers(&wanted))),
                AskKind::Native => false,
            }
    }
}

/// Consent recorded by `runbox allow`: one file per runbook in runbox's
/// state directory, naming the runbook's sha256 and what was granted.
#[derive(Clone, Debug)]
pub struct ConsentStore {
    dir: Option<PathBuf>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Consent {
    runbook: String,
    sha256: String,
    /// Every file the consent binds, with its sha256 then (a record from
    /// before files were bound has none, and so covers nothing).
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// The flags consented to, e.g. `--allow-net example.com:443`.
    granted: Vec<String>,
    at: String,
}

impl ConsentStore {
    /// `consent/` in runbox's state directory ([`state::state_dir`]).
    pub fn default_location() -> ConsentStore {
        ConsentStore { dir: state::state_dir().map(|d| d.join("consent")) }
    }

    pub fn at(dir: impl Into<PathBuf>) -> ConsentStore {
        ConsentStore { dir: Some(dir.into()) }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn file(&self, runbook: &Path) -> io::Result<PathBuf> {
        let dir = self.dir.as_ref().ok_or_else(|| {
            io::Error::other("there is no state directory to keep consent in (set RUNBOX_STATE_DIR or HOME)")
        })?;
        let key = crate::text::sha256(&state::real(runbook).to_string_lossy());
        Ok(dir.join(format!("{}.json", &key[..32])))
    }

    /// Records that `asks` of `runbook`, and of the files it binds as they
    /// are now, are granted.
    pub fn record(&self, runbook: &Runbook, asks: &[Ask], files: &BTreeMap<String, String>) -> io::Result<PathBuf> {
        let file = self.file(&runbook.path)?;
        let dir = file.parent().unwrap_or(Path::new("."));
        state::create_private_dir(dir)?;
        let consent = Consent {
            runbook: state::real(&runbook.path).display().to_string(),
            sha256: runbook.consent_sha256.clone(),
            files: files.clone(),
            granted: asks.iter().map(Ask::flag).collect(),
            at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut temp, &consent)?;
        temp.persist(&file).map_err(|e| e.error)?;
        Ok(file)
    }

    /// Forgets consent for the runbook at `path`; false if there was none.
    pub fn revoke(&self, path: &Path) -> io::Result<bool> {
        match std::fs::remove_file(self.file(path)?) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether consent recorded for this version of `runbook`'s own file
    /// grants each of `asks`, whatever the other files it binds hold now:
    /// what lets runbox read, with the user's credentials, the cluster objects
    /// whose content [`granted`](Self::granted) then checks.
    pub fn names(&self, runbook: &Runbook, asks: &[Ask]) -> bool {
        let Some(consent) = self.read(runbook) else { return false };
        consent.sha256 == runbook.consent_sha256 && asks.iter().all(|a| consent.granted.contains(&a.flag()))
    }

    /// The consent recorded for `runbook`, unless others could have written it.
    fn read(&self, runbook: &Runbook) -> Option<Consent> {
        let file = self.file(&runbook.path).ok()?;
        if state::check_private(&file).is_err() || file.parent().is_some_and(|d| state::check_private(d).is_err()) {
            return None;
        }
        serde_json::from_str(&std::fs::read_to_string(&file).ok()?).ok()
    }

    /// Whether consent was recorded for `runbook` and every file it binds
    /// as they are now, covering every one of `asks`. A store others could
    /// write is not trusted.
    pub fn granted(&self, runbook: &Runbook, asks: &[Ask], files: &BTreeMap<String, String>) -> Consented {
        let Some(consent) = self.read(runbook) else { return Consented::No };
        let changed = if consent.files.is_empty() { vec![runbook.file_name()] } else { changed(files, &consent.files) };
        if !changed.is_empty() || consent.sha256 != runbook.consent_sha256 {
            return Consented::Changed(if changed.is_empty() { vec![runbook.file_name()] } else { changed });
        }
        if asks.iter().all(|a| consent.granted.contains(&a.flag())) { Consented::Yes } else { Consented::No }
    }
}

/// The names whose hash differs between `now` and `then`, or that are in
/// only one of them.
fn changed(now: &BTreeMap<String, String>, then: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> =
        now.iter().filter(|(name, hash)| then.get(*name) != Some(*hash)).map(|(name, _)| name.clone()).collect();
    names.extend(then.keys().filter(|name| !now.contains_key(*name)).cloned());
    names.sort();
    names.dedup();
    names
}

/// What recorded consent says of a runbook as it is now.
#[derive(Clone, Debug, PartialEq)]
pub enum Consented {
    Yes,
    /// Nothing recorded, or not all that is asked.
    No,
    /// Recorded for another version: these files changed since.
    Changed(Vec<String>),
}

/// How a run's asks were decided, for the record.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Decision {
    /// The flags that grant what was asked (empty: nothing needed a grant).
    pub asked: Vec<String>,
    pub granted: bool,
    /// `nothing asked`, `flags`, `--allow-all`, `runbox allow`, `terminal`,
    /// `terminal (always)`, `declined at the terminal` or `not granted`.
    pub how: &'static str,
}

/// Why recorded consent no longer holds, when files changed since.
pub fn changed_message(changed: &[String]) -> String {
    let names: Vec<String> = changed.iter().map(|n| format!("`{}`", visible(n))).collect();
    format!("consent was recorded for another version: {} changed since", names.join(", "))
}

/// The message of a refused run: what was asked and the flags that grant it.
pub fn refusal(runbook: &Runbook, asks: &[Ask], grants: &Grants, changed: &[String]) -> String {
    let missing: Vec<&Ask> = asks.iter().filter(|a| !grants.grants(a)).collect();
    let mut message = String::new();
    if !changed.is_empty() {
        message.push_str(&changed_message(changed));
        message.push('\n');
    }
    message.push_str(&format!("{} asks for what needs your grant:\n", visible(&runbook.file_name())));
    for ask in &missing {
        message.push_str(&format!("  - {ask}\n"));
    }
    let flags: Vec<String> = missing.iter().map(|a| visible(&a.flag())).collect();
    message.push_str(&format!(
        "grant it with {}{}, or record consent for this version of the file with `runbox allow {}`",
        flags.join(" "),
        if missing.iter().any(|a| a.kind == AskKind::Native) { "" } else { " (or --allow-all)" },
        visible(&runbook.path.display().to_string())
    ));
    message
}
