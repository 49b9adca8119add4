//! Where a step's script comes from: the runbook
//! itself, a file of its folder tree, an approved entry of `registry.yaml`
//! (pinned by sha256), or a secret store. Each source yields the script and
//! what the audit records of it; a secret's content is never recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::Serialize;

use crate::error::Problem;
use crate::model::cluster::{ObjectGrant, ObjectKey, ObjectKind};
use crate::model::{
    REGISTRY, Runbook, SecretRef, Source, Step, is_data_key, is_namespace_name, is_object_name, is_secret_name,
};
use crate::text::{sha256, without_bom};

/// Where `script_from_secret` looks unless configured otherwise.
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";
/// Scripts larger than this are refused, whatever their source.
const MAX_SCRIPT_BYTES: u64 = 1 << 20;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SourceReport {
    /// `inline`, `file`, `registry` or `secret`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where it is: `Runbook.md:12`, a path, a registry id, a secret's name.
    pub reference: String,
    pub sha256: String,
    /// The script itself; never for a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryReport>,
}

/// The registry entry a `script_id` step ran, as approved.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RegistryReport {
    pub id: String,
    /// The registry file, relative to the runbook's folder.
    pub file: String,
    pub description: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
}

/// A step's script, loaded and audited.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub text: String,
    /// The name errors give the script: the runbook's file, or the script's.
    pub filename: String,
    /// The line of `filename` holding the script's first line.
    pub first_line: u32,
    pub audit: SourceReport,
    /// A registry entry may demand approval before its script runs.
    pub requires_approval: bool,
}

impl Resolved {
    pub fn is_secret(&self) -> bool {
        self.audit.kind == "secret"
    }
}

/// The stores scripts come from beside the runbook's folder: a directory of
/// secret files, the host's environment, and the Kubernetes API.
#[derive(Clone, Debug)]
pub struct Secrets {
    pub dir: PathBuf,
    /// The keys of ConfigMaps and Secrets this run may read, as granted: any
    /// other is refused before a request is made.
    pub cluster: Vec<ObjectGrant>,
    /// The registry ConfigMap the operator named (`--script-registry`):
    /// `script_id` reads it, and what its entries name, instead of a
    /// `registry.yaml` on disk.
    pub registry: Option<RegistryAt>,
    /// The operator's folder of pre-mounted scripts (`--scripts-dir`): an
    /// absolute `script_file` is read from it, and from nowhere else.
    pub scripts: Option<PathBuf>,
}

/// A registry ConfigMap (its key `registry.yaml`): `NAMESPACE/NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryAt {
    pub namespace: String,
    pub name: String,
}

impl RegistryAt {
    pub fn parse(text: &str) -> Result<RegistryAt, String> {
        match text.split_once('/') {
            Some((namespace, name)) if is_namespace_name(namespace) && is_object_name(name) => {
                Ok(RegistryAt { namespace: namespace.into(), name: name.into() })
            }
            _ => Err(format!("`{text}` is not NAMESPACE/NAME of a ConfigMap (e.g. ops/script-registry)")),
        }
    }
}

impl Default for Secrets {
    /// `$RUNBOX_SECRETS_DIR`, else `/run/secrets`; no cluster object.
    fn default() -> Secrets {
        Secrets {
            dir: std::env::var_os("RUNBOX_SECRETS_DIR")
                .map_or_else(|| PathBuf::from(DEFAULT_SECRETS_DIR), PathBuf::from),
            cluster: Vec::new(),
            registry: None,
            scripts: None,
        }
    }
}

/// The key of a ConfigMap or Secret `source` reads through the Kubernetes
/// API, with its namespace (the configuration's default when it names none);
/// `None` for any other source.
pub fn object_of(source: &Source) -> Option<ObjectKey> {
    let (kind, name, key, namespace) = match source {
        Source::ConfigMap { name, key, namespace } => (ObjectKind::ConfigMap, name, key, namespace.clone()),
        Source::Secret(SecretRef::Kubernetes { secret_name, key, namespace }) => {
            (ObjectKind::Secret, secret_name, key, Some(namespace.clone()))
        }
        _ => return None,
    };
    let namespace = namespace.unwrap_or_else(default_namespace);
    Some(ObjectKey { kind, namespace, name: name.clone(), key: key.clone() })
}

/// The namespace of the Kubernetes configuration's context (the pod's own
/// in a cluster), read once; `default` where there is none.
pub(crate) fn default_namespace() -> String {
    static NAMESPACE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAMESPACE.get_or_init(configured_namespace).clone()
}

#[cfg(feature = "kubernetes")]
fn configured_namespace() -> String {
    crate::kubernetes::default_namespace().unwrap_or_else(|_| "default".into())
}

#[cfg(not(feature = "kubernetes"))]
fn configured_namespace() -> String {
    "default".into()
}

/// Loads the script of `step`. The error names what is wrong; it never
/// holds a secret's content.
pub fn resolve(runbook: &Runbook, step: &Step, secrets: &Secrets) -> Result<Resolved, String> {
    match &step.source {
        Source::Inline(text) => Ok(Resolved {
            text: text.clone(),
            filename: runbook.file_name(),
            first_line: step.line as u32,
            audit: audit("inline", format!("{}:{}", runbook.file_name(), step.line), text, true),
            requires_approval: false,
        }),
        Source::File(path) => {
            let read = if Path::new(path).is_absolute() {
                read_premounted(path, secrets.scripts.as_deref())
            } else {
                read_inside(runbook.folder(), path, "script_file")
            };
            let text = without_bom(&read?).to_string();
            Ok(Resolved {
                filename: path.trim_start_matches("./").to_string(),
                first_line: 1,
                audit: audit("file", path.clone(), &text, true),
                text,
                requires_approval: false,
            })
        }
        Source::Registry(id) => registry(runbook, id, secrets),
        Source::Runbook { name, .. } => {
            let plain = !name.starts_with('.') && Path::new(name).file_name().is_some_and(|n| n == name.as_str());
            if !plain {
                return Err(format!("`{name}` is not the file name of a runbook beside this one"));
            }
            // Audited by hash: the child's own record holds its scripts.
            let text = read_inside(runbook.folder(), name, "runbook")?;
            Ok(Resolved {
                text: String::new(),
                filename: name.clone(),
                first_line: 1,
                audit: SourceReport {
                    kind: "runbook",
                    reference: name.clone(),
                    sha256: sha256(&text),
                    content: None,
                    registry: None,
                },
                requires_approval: false,
            })
        }
        Source::ConfigMap { name, key, .. } => {
            let object = object_of(&step.source).ok_or("not a ConfigMap")?;
            let text = from_cluster(&object, secrets)?;
            Ok(Resolved {
                filename: format!("configmap:{name}/{key}"),
                first_line: 1,
                audit: audit("configmap", format!("{}/{name}/{key}", object.namespace), &text, true),
                text,
                requires_approval: false,
            })
        }
        Source::Secret(secret) => {
            let (reference, text) = read_secret(secret, secrets)?;
            Ok(Resolved {
                filename: format!("secret:{reference}"),
                first_line: 1,
                audit: audit("secret", reference, &text, false),
                text,
                requires_approval: false,
            })
        }
    }
}

/// What the audit shows of a secret script's hash: a plain sha256 of a short
/// secret would let anyone who reads the log guess it.
pub const WITHHELD_HASH: &str = "withheld (the script is a secret)";

fn audit(kind: &'static str, reference: String, text: &str, with_content: bool) -> SourceReport {
    SourceReport {
        kind,
        reference,
        sha256: if with_content { sha256(text) } else { WITHHELD_HASH.to_string() },
        content: with_content.then(|| text.to_string()),
        registry: None,
    }
}

/// Reads `path`, relative to `folder`, refusing anything that resolves
/// outside `folder` (by `..`, an absolute path, or a symlink).
fn read_inside(folder: &Path, path: &str, what: &str) -> Result<String, String> {
    let root = folder.canonicalize().map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    if Path::new(path).is_absolute() {
        return Err(format!("{what} `{path}` is absolute; it must be a path inside the runbook's folder"));
    }
    let target = root.join(path);
    let canonical = target.canonicalize().map_err(|e| format!("{what} `{path}` cannot be read: {e}"))?;
    if !canonical.starts_with(&root) {
        return Err(format!("{what} `{path}` leads outside the runbook's folder (by `..` or a symlink)"));
    }
    read_capped(&canonical).map_err(|e| format!("{what} `{path}` cannot be read: {e}"))
}

/// An absolute `script_file` (`script_path`): a file of the scripts folder
/// the operator gives (`--scripts-dir`, e.g. a ConfigMap of approved scripts
/// mounted at `/scripts`), and nowhere else on the host. A path outside it
/// is refused before the file system is asked, so that the answer does not
/// say what exists there.
fn read_premounted(path: &str, dir: Option<&Path>) -> Result<String, String> {
    let Some(dir) = dir else {
        return Err(format!(
            "script_file `{path}` is absolute: runbox reads a script outside the runbook's folder only from the scripts folder its operator gives (--scripts-dir DIR), and none was given"
        ));
    };
    let outside = || format!("script_file `{path}` is not in the scripts folder {} (--scripts-dir)", dir.display());
    let wanted = Path::new(path);
    if !wanted.starts_with(dir) || wanted.components().any(|c| c == std::path::Component::ParentDir) {
        return Err(outside());
    }
    let root = dir.canonicalize().map_err(|e| format!("the scripts folder {} cannot be read: {e}", dir.display()))?;
    let canonical = wanted.canonicalize().map_err(|e| format!("script_file `{path}` cannot be read: {e}"))?;
    // A symlink in the folder that leads out of it (a mounted ConfigMap's
    // `..data` links stay inside).
    if !canonical.starts_with(&root) {
        return Err(outside());
    }
    read_capped(&canonical).map_err(|e| format!("script_file `{path}` cannot be read: {e}"))
}

fn read_capped(path: &Path) -> std::io::Result<String> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_SCRIPT_BYTES {
        return Err(std::io::Error::other(format!("it is {size} bytes; scripts are limited to {MAX_SCRIPT_BYTES}")));
    }
    std::fs::read_to_string(path)
}

/// `(reference, content)` of a secret. The reference is what the audit
/// shows: the secret's name, never its content.
fn read_secret(secret: &SecretRef, secrets: &Secrets) -> Result<(String, String), String> {
    match secret {
        SecretRef::Kubernetes { secret_name, key, namespace } => {
            let object = ObjectKey {
                kind: ObjectKind::Secret,
                namespace: namespace.clone(),
                name: secret_name.clone(),
                key: key.clone(),
            };
            let text = from_cluster(&object, secrets)?;
            Ok((format!("kubernetes:{namespace}/{secret_name}/{key}"), text))
        }
        SecretRef::Env(var) => match std::env::var(var) {
            Ok(text) if !text.is_empty() => Ok((format!("env:{var}"), text)),
            _ => Err(format!("script_from_secret: the environment variable `{var}` is not set")),
        },
        SecretRef::File { secret_name, key } => {
            let reference = match key {
                Some(key) => format!("{secret_name}/{key}"),
                None => secret_name.clone(),
            };
            let names = std::iter::once(secret_name.as_str()).chain(key.as_deref());
            if let Some(bad) = names.clone().find(|n| !is_secret_name(n)) {
                return Err(format!(
                    "script_from_secret: `{bad}` is not a secret name (one path component, not starting with `.`)"
                ));
            }
            let cannot = |e: &dyn std::fmt::Display| {
                format!("script_from_secret: cannot read secret `{reference}` in {}: {e}", secrets.dir.display())
            };
            let root = secrets.dir.canonicalize().map_err(|e| cannot(&e))?;
            let path = names.fold(root.clone(), |path, name| path.join(name)).canonicalize().map_err(|e| cannot(&e))?;
            // Links inside the store (Kubernetes' `..data`) are fine; out of it, not.
            if !path.starts_with(&root) {
                return Err(cannot(&"it resolves outside the secrets directory"));
            }
            read_capped(&path).map(|text| (reference.clone(), text)).map_err(|e| cannot(&e))
        }
    }
}

/// The script in `object`, read through the Kubernetes API if the run may
/// read it: the request is made with the user's credentials, so an object
/// not granted is refused before it is made.
fn from_cluster(object: &ObjectKey, secrets: &Secrets) -> Result<String, String> {
    let field = match object.kind {
        ObjectKind::ConfigMap => "script_from_configmap",
        ObjectKind::Secret => "script_from_secret",
    };
    // A build that cannot read the API says so, whatever is granted.
    if cfg!(feature = "kubernetes") && !secrets.cluster.iter().any(|grant| grant.covers(object)) {
        let (namespace, name) = (&object.namespace, &object.name);
        return Err(format!(
            "{field}: runbox reads {} `{name}` in namespace `{namespace}` with your Kubernetes credentials only when you grant it: --allow-kubernetes {object}",
            object.kind.as_str()
        ));
    }
    read_object(object).map_err(|e| format!("{field}: {e}"))
}

/// The content of `object`'s key, no larger than a script may be.
#[cfg(feature = "kubernetes")]
fn read_object(object: &ObjectKey) -> Result<String, String> {
    use crate::kubernetes::Kind;
    let kind = match object.kind {
        ObjectKind::ConfigMap => Kind::ConfigMap,
        ObjectKind::Secret => Kind::Secret,
    };
    let text = crate::kubernetes::read(kind, &object.name, &object.key, &object.namespace)?;
    if text.len() as u64 > MAX_SCRIPT_BYTES {
        let size = text.len();
        let (key, name) = (&object.key, &object.name);
        return Err(format!("key `{key}` of `{name}` is {size} bytes; scripts are limited to {MAX_SCRIPT_BYTES}"));
    }
    Ok(text)
}

/// Refused: this build has no Kubernetes client.
#[cfg(not(feature = "kubernetes"))]
fn read_object(_: &ObjectKey) -> Result<String, String> {
    Err("it reads the Kubernetes API, which this build of runbox does not include (build it with `--features kubernetes`)".into())
}

/// `registry.yaml`: approved scripts by id.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    scripts: BTreeMap<String, Registered>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registered {
    file: Option<String>,
    secret: Option<String>,
    /// In a registry in the cluster: a ConfigMap of its namespace.
    configmap: Option<String>,
    key: Option<String>,
    #[serde(default)]
    description: String,
    approved_by: Option<String>,
    approved_at: Option<String>,
    sha256: Option<String>,
    #[serde(default)]
    requires_approval: bool,
}

/// Every problem of the registry at `file` (`runbox validate`): it parses,
/// each entry names exactly one of `file` or `secret`, and each file entry
/// is inside the registry's folder and matches its sha256 pin. A secret
/// entry's script is checked only when the secrets directory holds it.
pub fn check_registry(file: &Path, secrets: &Secrets) -> Vec<Problem> {
    let text = match read_capped(file) {
        Ok(text) => text,
        Err(e) => return vec![Problem::new(0, format!("cannot read it: {e}"))],
    };
    let registry: Registry = match yaml_serde::from_str(without_bom(&text)) {
        Ok(registry) => registry,
        Err(e) => {
            let problem = Problem::new(e.location().map_or(0, |l| l.line()), e.to_string());
            return vec![match e.location() {
                Some(at) => problem.spanning(at.column(), 1),
                None => problem,
            }];
        }
    };
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // An entry's line: where its id opens a mapping.
    let line_of = |id: &str| {
        text.lines()
            .position(|l| l.trim_start().strip_prefix(id).is_some_and(|rest| rest.trim_start().starts_with(':')))
            .map_or(0, |i| i + 1)
    };
    let mut problems = Vec::new();
    for (id, entry) in &registry.scripts {
        let line = line_of(id);
        if entry.configmap.is_some() {
            problems.push(Problem::new(
                line,
                format!(
                    "entry `{id}` names a ConfigMap, which only a registry in the cluster (--script-registry) reads"
                ),
            ));
            continue;
        }
        let text = match (&entry.file, &entry.secret) {
            (Some(path), None) => match read_inside(folder, path, "registry file") {
                Ok(text) => text,
                Err(message) => {
                    problems.push(Problem::new(line, format!("entry `{id}`: {message}")));
                    continue;
                }
            },
            (None, Some(name)) => {
                let secret = SecretRef::File { secret_name: name.clone(), key: entry.key.clone() };
                match read_secret(&secret, secrets) {
                    Ok((_, text)) => text,
                    Err(_) => continue,
                }
            }
            _ => {
                problems.push(Problem::new(line, format!("entry `{id}` needs exactly one of `file` or `secret`")));
                continue;
            }
        };
        let actual = sha256(&text);
        match entry.sha256.as_deref().map(|p| p.trim().trim_start_matches("sha256:").to_ascii_lowercase()) {
            None => problems.push(Problem::new(
                line,
                format!("entry `{id}` has no `sha256` pin; an approved script is pinned by its hash (it is {actual})"),
            )),
            Some(pin) if pin != actual => problems.push(Problem::new(
                line,
                format!("entry `{id}`: its script's sha256 is {actual}, but the pin is {pin}; the script changed since it was approved"),
            )),
            Some(_) => {}
        }
    }
    problems
}

/// Where a registry was read from.
enum Origin {
    /// `registry.yaml` in this folder: its entries name files of the folder
    /// and secrets of the secrets directory.
    Folder(PathBuf),
    /// Key `registry.yaml` of a ConfigMap in this namespace: its entries name
    /// ConfigMaps and Secrets there.
    Cluster(String),
}

/// A registry, where it is and how messages and the audit name it.
struct Loaded {
    registry: Registry,
    origin: Origin,
    /// In messages: the file, or `ConfigMap NS/NAME`.
    shown: String,
    /// In the audit: the file from the runbook, or `configmap:NS/NAME/registry.yaml`.
    reported: String,
}

/// The registry `script_id` reads: the ConfigMap the operator named
/// (`--script-registry`), else the nearest `registry.yaml` from the
/// runbook's folder up.
fn load_registry(runbook: &Runbook, id: &str, secrets: &Secrets) -> Result<Loaded, String> {
    let parse = |text: &str, shown: &str| {
        yaml_serde::from_str::<Registry>(without_bom(text)).map_err(|e| {
            let at = e.location().map_or(String::new(), |l| format!(":{}", l.line()));
            format!("{shown}{at}: {e}")
        })
    };
    if let Some(at) = &secrets.registry {
        let object = ObjectKey {
            kind: ObjectKind::ConfigMap,
            namespace: at.namespace.clone(),
            name: at.name.clone(),
            key: REGISTRY.into(),
        };
        let shown = format!("ConfigMap {}/{}", at.namespace, at.name);
        let text = read_object(&object).map_err(|e| format!("script_id `{id}`: the script registry: {e}"))?;
        return Ok(Loaded {
            registry: parse(&text, &shown)?,
            origin: Origin::Cluster(at.namespace.clone()),
            reported: format!("configmap:{}/{}/{REGISTRY}", at.namespace, at.name),
            shown,
        });
    }
    let folder = runbook.folder().canonicalize().map_err(|e| format!("cannot read the runbook's folder: {e}"))?;
    let Some((up, file)) = folder.ancestors().map(|d| d.join(REGISTRY)).enumerate().find(|(_, f)| f.is_file()) else {
        return Err(format!("script_id `{id}`: no {REGISTRY} in {} or any folder above it", folder.display()));
    };
    let shown = file.display().to_string();
    let text = read_capped(&file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    Ok(Loaded {
        registry: parse(&text, &shown)?,
        origin: Origin::Folder(file.parent().unwrap_or(Path::new("/")).to_path_buf()),
        // Where it is from the runbook, not on this host: the same on every
        // machine (and no host layout in an API answer).
        reported: format!("{}{REGISTRY}", "../".repeat(up)),
        shown,
    })
}

/// The registry entry `id`, its script, and a check of its sha256 pin.
fn registry(runbook: &Runbook, id: &str, secrets: &Secrets) -> Result<Resolved, String> {
    let Loaded { registry, origin, shown, reported } = load_registry(runbook, id, secrets)?;
    let Some(entry) = registry.scripts.get(id) else {
        let known: Vec<&str> = registry.scripts.keys().map(String::as_str).collect();
        return Err(format!("script_id `{id}` is not in {shown} (it lists: {})", known.join(", ")));
    };
    let key = || entry.key.clone().ok_or_else(|| format!("{shown}: entry `{id}` names no `key`"));
    let cluster = |kind: ObjectKind, namespace: &str, name: &str| -> Result<String, String> {
        let key = key()?;
        // Only the API's names reach its paths (not `../secrets/NAME`).
        if !is_object_name(name) || !is_data_key(&key) {
            return Err(format!("{shown}: entry `{id}`: `{name}` or `{key}` is not an object's name and key"));
        }
        let object = ObjectKey { kind, namespace: namespace.into(), name: name.into(), key };
        // The operator named the registry: what its entries name is theirs to read.
        read_object(&object).map_err(|e| format!("script_id `{id}`: {e}"))
    };
    let (kind, reference, filename, text) = match (&entry.file, &entry.secret, &entry.configmap, &origin) {
        (Some(path), None, None, Origin::Folder(dir)) => {
            ("registry", format!("{id} ({path})"), path.clone(), read_inside(dir, path, "registry file")?)
        }
        (None, Some(name), None, Origin::Folder(_)) => {
            let secret = SecretRef::File { secret_name: name.clone(), key: entry.key.clone() };
            let (reference, text) = read_secret(&secret, secrets)?;
            ("secret", format!("{id} (secret {reference})"), format!("secret:{id}"), text)
        }
        (None, Some(name), None, Origin::Cluster(namespace)) => {
            let text = cluster(ObjectKind::Secret, namespace, name)?;
            let reference = format!("{id} (secret kubernetes:{namespace}/{name}/{})", key()?);
            ("secret", reference, format!("secret:{id}"), text)
        }
        (None, None, Some(name), Origin::Cluster(namespace)) => {
            let text = cluster(ObjectKind::ConfigMap, namespace, name)?;
            let key = key()?;
            ("registry", format!("{id} (configmap {namespace}/{name}/{key})"), format!("configmap:{name}/{key}"), text)
        }
        (Some(_), None, None, Origin::Cluster(_)) => {
            return Err(format!(
                "{shown}: entry `{id}` names a file, but a registry in the cluster has no folder: name a `configmap` or `secret` and its `key`"
            ));
        }
        (None, None, Some(_), Origin::Folder(_)) => {
            return Err(format!(
                "{shown}: entry `{id}` names a ConfigMap, which only a registry in the cluster (--script-registry) reads"
            ));
        }
        _ => return Err(format!("{shown}: entry `{id}` needs exactly one of `file`, `secret` or `configmap`")),
    };
    // The pin is the file's, bytes as `sha256sum` reads them; the script
    // runs without a byte-order mark.
    let actual = sha256(&text);
    let text = without_bom(&text).to_string();
    match entry.sha256.as_deref().map(|p| p.trim().trim_start_matches("sha256:").to_ascii_lowercase()) {
        None => {
            return Err(format!(
                "{shown}: entry `{id}` has no `sha256` pin; an approved script is pinned by its hash (it is {actual})"
            ));
        }
        Some(pin) if pin != actual => {
            return Err(format!(
                "script_id `{id}` is refused: its script's sha256 is {actual}, but {shown} pins {pin}; the script changed since it was approved"
            ));
        }
        Some(_) => {}
    }
    let mut audit = audit(kind, reference, &text, kind != "secret");
    // Pinned in registry.yaml, so no secret: the hash the approval is bound to.
    audit.sha256 = actual;
    audit.registry = Some(RegistryReport {
        id: id.to_string(),
        file: reported,
        description: entry.description.clone(),
        approved_by: entry.approved_by.clone(),
        approved_at: entry.approved_at.clone(),
    });
    Ok(Resolved { filename, first_line: 1, audit, text, requires_approval: entry.requires_approval })
}
