//! JSON Schemas of the YAML files runbox reads — a runbook and
//! `registry.yaml` — for editors: VS Code's YAML extension reads a
//! `# yaml-language-server: $schema=…` comment and then completes and checks
//! fields as you type. Generated with schemars from the types below, which
//! describe the files as written; a test holds their fields to the parser's
//! (`runbox schema runbook|registry` prints them; `schema/` holds them).

use std::collections::BTreeMap;

use schemars::{JsonSchema, schema_for};

use crate::model::inputs::InputType;
use serde_json::Value;

/// A plain YAML value: runbox reads each as text, so `30`, `30s` and `true`
/// are all accepted where a scalar is.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Scalar {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// One value, or a list of them.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

/// A YAML runbook: typed inputs, permissions, and steps whose scripts come
/// from one of several sources.
#[derive(JsonSchema)]
#[schemars(title = "runbox YAML runbook", deny_unknown_fields)]
#[allow(dead_code)]
struct RunbookFile {
    /// The runbook's name (else its file name without the extension).
    id: Option<String>,
    /// Its title.
    name: String,
    description: Option<String>,
    /// Typed inputs, given with `--input NAME=VALUE` (over the API: in
    /// `inputs`); one without a default is required.
    inputs: Option<BTreeMap<String, InputField>>,
    /// What the steps may reach; nothing else exists for them.
    permissions: Option<PermissionsField>,
    /// JWT claims a caller of the HTTP API must hold: each claim's accepted
    /// values (a list, or `a, b`).
    required_claims: Option<BTreeMap<String, OneOrMany>>,
    /// The steps, run in order.
    #[schemars(length(min = 1))]
    steps: Vec<StepField>,
    version: Option<Scalar>,
    tags: Option<OneOrMany>,
    /// Run in deterministic mode: a fixed clock and seed, fuel in place of
    /// time, no host variable read.
    deterministic: Option<bool>,
}

/// An input: its type, or `{ type, default, description }`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum InputField {
    Type(InputType),
    Spec(InputSchema),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, rename = "InputSpec")]
#[allow(dead_code)]
struct InputSchema {
    #[serde(rename = "type")]
    kind: Option<InputType>,
    /// Without one, the input is required.
    default: Option<serde_json::Value>,
    description: Option<String>,
    required: Option<bool>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct PermissionsField {
    /// Paths mounted read-only (they must exist); relative to the runbook's
    /// folder, or absolute once granted.
    read: Option<OneOrMany>,
    /// Paths mounted read-write (created when missing).
    write: Option<OneOrMany>,
    /// Host variables passed through (they must be set).
    env: Option<OneOrMany>,
    /// Hosts `curl` and `fetch` may reach (`host:port`, `*.example.com`).
    net: Option<OneOrMany>,
}

/// A step: its type, and under `with:` its script source and settings.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct StepField {
    /// Templates name the step by it (default `step-1`, `step-2`, …).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    name: Option<String>,
    #[serde(rename = "type")]
    kind: StepType,
    /// Exactly one script source, and the step's settings.
    with: WithField,
    /// `continue` runs the next steps after this one fails.
    on_error: Option<OnErrorSchema>,
    /// Accepted here too, with a warning: README writes it under `with:`.
    approval_required: Option<bool>,
    /// Accepted here too, with a warning: README writes it under `with:`.
    approvers: Option<OneOrMany>,
    description: Option<String>,
    /// Run `bash` or `zsh` on the host instead of the sandbox (needs
    /// `--allow-native`).
    native: Option<bool>,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum StepType {
    #[serde(rename = "sh")]
    Sh,
    #[serde(rename = "bash")]
    Bash,
    #[serde(rename = "zsh")]
    Zsh,
    #[serde(rename = "shell")]
    Shell,
    #[serde(rename = "script.run")]
    ScriptRun,
    #[serde(rename = "powershell")]
    Powershell,
    #[serde(rename = "pwsh")]
    Pwsh,
    #[serde(rename = "js")]
    Js,
    #[serde(rename = "javascript")]
    Javascript,
    #[serde(rename = "script")]
    Script,
    #[serde(rename = "runbook")]
    Runbook,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "OnError")]
#[allow(dead_code)]
enum OnErrorSchema {
    Fail,
    Continue,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct WithField {
    /// The script itself.
    inline_script: Option<String>,
    /// A file inside the runbook's folder tree.
    script_file: Option<String>,
    /// The same as `script_file`.
    script_path: Option<String>,
    /// An entry of the nearest `registry.yaml`, pinned by its sha256.
    script_id: Option<String>,
    /// A file of the secrets directory, or a host variable's content.
    script_from_secret: Option<SecretField>,
    /// A ConfigMap's key, read through the Kubernetes API.
    script_from_configmap: Option<ConfigMapField>,
    /// The script's arguments (`$1`…; templates allowed).
    args: Option<OneOrMany>,
    /// Variables set for this step (templates allowed).
    env: Option<BTreeMap<String, Scalar>>,
    /// The step's working folder, inside the runbook's.
    cwd: Option<String>,
    /// `30s`, `500ms`, `2m`, `1h30m`.
    timeout: Option<Scalar>,
    /// Instructions the step may run.
    fuel: Option<Scalar>,
    /// `256MiB`.
    memory: Option<Scalar>,
    /// Bytes of stdout and stderr kept: `1MiB`.
    output: Option<Scalar>,
    /// Run only when approved: asked on a terminal, else `--approve STEP`.
    approval_required: Option<bool>,
    /// Who may approve over the API (a role or group of the caller's token).
    approvers: Option<OneOrMany>,
    /// `type: runbook`: the file name of a runbook beside this one.
    runbook: Option<String>,
    /// `type: runbook`: the child's inputs (templates allowed).
    inputs: Option<BTreeMap<String, Scalar>>,
    /// Run the script as a Kubernetes Job in this image (a name of the
    /// operator's map, e.g. `postgres`); only under `--executor kubernetes`.
    image_ref: Option<String>,
    /// An image step: Secrets whose every key becomes a variable of its Job.
    secret_env_all: Option<OneOrMany>,
}

/// `{ secret_name, key }`, `{ env: VAR }`, or the secret's name.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SecretField {
    Name(String),
    File(SecretFile),
    Env(SecretEnv),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct SecretFile {
    secret_name: String,
    key: Option<String>,
    /// The Secret's namespace: the script is read through the Kubernetes
    /// API (then `key` is required).
    namespace: Option<String>,
}

/// `{ configmap_name, key, namespace }`: a key of a ConfigMap.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ConfigMapField {
    configmap_name: String,
    key: String,
    /// Else the kubeconfig context's, or the pod's own.
    namespace: Option<String>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct SecretEnv {
    env: String,
}

/// `registry.yaml`: scripts reviewed and approved for the runbooks in its
/// folder and below, each pinned by its sha256.
#[derive(JsonSchema)]
#[schemars(title = "runbox script registry", deny_unknown_fields)]
#[allow(dead_code)]
struct RegistryFile {
    scripts: BTreeMap<String, RegistryEntry>,
}

/// One approved script: exactly one of `file`, `secret` or (in a registry
/// ConfigMap) `configmap`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct RegistryEntry {
    /// The script, inside the registry's folder (not in a registry ConfigMap).
    file: Option<String>,
    /// A secret of the secrets directory holding the script; in a registry
    /// ConfigMap, a Secret of its namespace.
    secret: Option<String>,
    /// In a registry ConfigMap (`--script-registry`): a ConfigMap of its
    /// namespace holding the script.
    configmap: Option<String>,
    /// The secret's or ConfigMap's key holding the script.
    key: Option<String>,
    description: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<String>,
    /// The lowercase hex sha256 of the script as approved.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    sha256: Option<String>,
    /// The step that runs it needs approval.
    requires_approval: Option<bool>,
}

/// The JSON Schema of a YAML runbook.
pub fn runbook() -> Value {
    not_null(schema_for!(RunbookFile).to_value())
}

/// The JSON Schema of `registry.yaml`.
pub fn registry() -> Value {
    not_null(schema_for!(RegistryFile).to_value())
}

/// `schema` where a field that may be left out may not be `null`: the
/// parser takes `key: null` as the text `null`, not as no value.
fn not_null(mut schema: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(types)) = map.get_mut("type") {
                    types.retain(|t| t != "null");
                    if let [only] = types.as_slice() {
                        let only = only.clone();
                        map.insert("type".into(), only);
                    }
                }
                if let Some(Value::Array(any)) = map.get_mut("anyOf") {
                    any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
                    if let [only] = any.as_slice() {
                        let only = only.clone();
                        map.remove("anyOf");
                        if let Value::Object(only) = only {
                            map.extend(only);
                        }
                    }
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::yaml::{STEP_KEYS, TOP_KEYS, WITH_KEYS};

    fn fields(schema: &Value, pointer: &str) -> Vec<String> {
        let mut keys: Vec<String> = schema
            .pointer(pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no {pointer} in the schema"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    /// The schema names exactly the fields the parser accepts.
    #[test]
    fn the_schema_has_the_parsers_fields() {
        let schema = super::runbook();
        assert_eq!(fields(&schema, "/properties"), sorted(TOP_KEYS));
        assert_eq!(fields(&schema, "/$defs/StepField/properties"), sorted(STEP_KEYS));
        assert_eq!(fields(&schema, "/$defs/WithField/properties"), sorted(WITH_KEYS));
    }
}
