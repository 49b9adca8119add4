//! A YAML runbook's steps: each step's fields, its one script source (or
//! sub-runbook), its native interpreter, approval, secret and limits.

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::keys::{STEP_KEYS, WITH_KEYS};
use super::nodes::{Problems, is_template_name, json_of, line, scalar_line, spanning};
use crate::error::Problem;
use crate::model::limits::{LimitOverrides, parse_duration, parse_fuel, parse_output, parse_size};
use crate::model::{
    Approval, Container, Language, Native, OnError, SYSTEM_VARIABLES, SecretRef, Source, Step, is_data_key,
    is_env_name, is_image_ref, is_namespace_name, is_object_name, is_secret_name,
};

pub(super) fn step(node: &Node, earlier: &[Step], lines: &[&str], p: &mut Problems) -> Option<Step> {
    let Node::Mapping(map) = node else {
        p.push(line(node), "each step must be a mapping with `name`, `type` and `with`");
        return None;
    };
    let at = line(node);
    p.unknown_keys(map, STEP_KEYS, "a step");
    let name = p.string(map, "name").unwrap_or_else(|| format!("step-{}", earlier.len() + 1));
    if !is_template_name(&name) {
        p.push(at, format!("step name `{name}` may only use letters, digits, `_` and `-` (templates refer to it)"));
    }
    if earlier.iter().any(|s| s.name == name) {
        p.push(at, format!("two steps are named `{name}`"));
    }
    let kind = p.string(map, "type");
    let language = match kind.as_deref() {
        Some("sh" | "bash" | "zsh" | "shell" | "script.run" | "powershell" | "pwsh") => Some(Language::Shell),
        Some("js" | "javascript" | "script") => Some(Language::JavaScript),
        Some("runbook") => Some(Language::Shell),
        Some(other) => {
            p.value(
                map,
                "type",
                at,
                format!(
                    "step `{name}` has unknown type `{other}` (expected sh, bash, zsh, script.run, js, script, runbook or powershell)"
                ),
            );
            None
        }
        None => {
            p.push(at, format!("step `{name}` needs a `type`: sh or js"));
            None
        }
    };
    let with = match map.get_node("with") {
        Some(Node::Mapping(with)) => Some(with),
        Some(other) => {
            p.push(line(other), format!("`with` of step `{name}` must be a mapping"));
            None
        }
        None => {
            p.push(at, format!("step `{name}` needs `with:` holding its script source"));
            None
        }
    };
    let on_error = match p.string(map, "on_error").as_deref() {
        None | Some("fail") => OnError::Fail,
        Some("continue") => OnError::Continue,
        Some(other) => {
            p.value(map, "on_error", at, format!("step `{name}`: on_error `{other}` must be fail or continue"));
            OnError::Fail
        }
    };
    // README writes approvals under `with:`, as the Kubernetes executor's format does; the step
    // level is accepted too, with a warning that says where they go.
    for (key, _) in map.iter().filter(|(k, _)| matches!(k.as_str(), "approval_required" | "approvers")) {
        let problem = Problem::warning(scalar_line(key), format!("step `{name}`: `{}` beside `type`", key.as_str()));
        p.0.push(spanning(
            key,
            problem.help("move it under the step's `with:`, where README and the samples write it"),
        ));
    }
    let approval = approval(map, &name, p).or_else(|| with.and_then(|w| approval(w, &name, p)));
    let mut step =
        Step::inline(name.clone(), language.unwrap_or(Language::Shell), String::new(), at, Default::default());
    step.on_error = on_error;
    step.approval = approval;
    step.native = native(map, kind.as_deref(), &name, p);
    let with = with?;
    p.unknown_keys(with, WITH_KEYS, &format!("`with` of step `{name}`"));
    let is_runbook = map.get_node("type").is_some_and(|t| matches!(t, Node::Scalar(s) if s.as_str() == "runbook"));
    if !is_runbook {
        for key in ["runbook", "inputs"].iter().filter(|k| with.contains_key(**k)) {
            let node = with.get_node(key).map_or(at, line);
            p.push(node, format!("step `{name}`: `{key}` belongs to steps of type runbook"));
        }
    }
    let (source, first_line) =
        if is_runbook { sub_runbook(with, &name, at, p)? } else { source(with, &name, at, lines, p)? };
    step.source = source;
    step.line = first_line;
    step.limits = limits(with, &name, p);
    step.args = p.strings(with, "args").into_iter().map(|(a, _)| a).collect();
    step.cwd = p.string(with, "cwd");
    match with.get_node("env") {
        None => {}
        Some(Node::Mapping(env)) => {
            for (key, value) in env.iter() {
                match value {
                    Node::Scalar(_) if SYSTEM_VARIABLES.contains(&key.as_str()) => {
                        p.at(key, format!("step `{name}` cannot set `{}`: runbox sets it for every step", key.as_str()))
                    }
                    Node::Scalar(v) if is_env_name(key.as_str()) => {
                        step.env.push((key.as_str().to_string(), v.as_str().to_string()))
                    }
                    Node::Scalar(_) => p.at(key, format!("`{}` is not an environment variable name", key.as_str())),
                    other => p.push(line(other), format!("env `{}` of step `{name}` must be text", key.as_str())),
                }
            }
        }
        Some(other) => p.push(line(other), format!("`env` of step `{name}` must map names to values")),
    }
    step.container = container(with, &step, kind.as_deref(), p);
    language.map(|language| Step { language, ..step })
}

/// `image_ref` (and `secret_env_all`, which only a Job's container has): a
/// shell script run as a Kubernetes Job in that image.
fn container(with: &MarkedMappingNode, step: &Step, kind: Option<&str>, p: &mut Problems) -> Option<Container> {
    let name = &step.name;
    let secret_env = p.strings(with, "secret_env_all");
    let Some(image_node) = with.get_node("image_ref") else {
        if let Some(node) = with.get_node("secret_env_all") {
            p.push(
                line(node),
                format!(
                    "step `{name}`: secret_env_all gives a Secret's keys to a Job's container, and the step names no image_ref; for a host variable, declare it under permissions.env"
                ),
            );
        }
        return None;
    };
    let image = match image_node {
        Node::Scalar(s) if is_image_ref(s.as_str()) => s.as_str().to_string(),
        other => {
            p.push(
                line(other),
                format!(
                    "step `{name}`: image_ref must name an image of the server's map (e.g. postgres) or an image reference (letters, digits, `.`, `_`, `-`, `/`, `:`, `@`; at most 255)"
                ),
            );
            return None;
        }
    };
    let why = if step.native.is_some() {
        Some("a native step runs on this machine, not in an image: remove image_ref or native".to_string())
    } else if !matches!(kind, Some("sh" | "bash" | "shell" | "script.run")) {
        Some(format!(
            "image_ref runs a shell script in the image: the step's type must be script.run, sh or bash, not {}",
            kind.unwrap_or("(none)")
        ))
    } else {
        None
    };
    if let Some(why) = why {
        p.push(line(image_node), format!("step `{name}`: {why}"));
        return None;
    }
    let mut secrets = Vec::new();
    for (secret, at) in secret_env {
        if !is_object_name(&secret) {
            p.push(at, format!("step `{name}`: secret_env_all: `{secret}` is not a Secret's name (lowercase letters, digits, `-` and `.`, at most 253)"));
        } else if !secrets.contains(&secret) {
            secrets.push(secret);
        }
    }
    Some(Container { image, secret_env: secrets })
}

/// `native: true` with `type: bash` or `zsh`; `type: powershell`, which is
/// native only.
pub(super) fn native(map: &MarkedMappingNode, kind: Option<&str>, name: &str, p: &mut Problems) -> Option<Native> {
    let powershell = matches!(kind, Some("powershell" | "pwsh"));
    let asked = match map.get_node("native") {
        None => powershell,
        Some(Node::Scalar(s)) if s.as_bool().is_some() => {
            if powershell && s.as_bool() == Some(false) {
                p.at(s, format!("step `{name}`: PowerShell runs only natively"));
            }
            s.as_bool() == Some(true) || powershell
        }
        Some(other) => {
            p.push(line(other), format!("step `{name}`: native must be true or false"));
            false
        }
    };
    if !asked {
        return None;
    }
    match kind.and_then(Native::from_tag).filter(|_| kind != Some("sh") && kind != Some("shell")) {
        Some(native) => Some(native),
        None => {
            let at = map.get_node("native").map_or(0, line);
            p.push(at, format!("step `{name}`: native: true needs type bash, zsh or powershell"));
            None
        }
    }
}

pub(super) fn approval(map: &MarkedMappingNode, name: &str, p: &mut Problems) -> Option<Approval> {
    let required = match map.get_node("approval_required")? {
        Node::Scalar(s) => match s.as_bool() {
            Some(b) => b,
            None => {
                p.at(s, format!("step `{name}`: approval_required must be true or false"));
                false
            }
        },
        other => {
            p.push(line(other), format!("step `{name}`: approval_required must be true or false"));
            false
        }
    };
    required.then(|| Approval { approvers: p.strings(map, "approvers").into_iter().map(|(a, _)| a).collect() })
}

/// The sub-runbook of a `type: runbook` step: `with.runbook`, a file name,
/// and `with.inputs`, values as text.
pub(super) fn sub_runbook(
    with: &MarkedMappingNode,
    name: &str,
    at: usize,
    p: &mut Problems,
) -> Option<(Source, usize)> {
    for key in [
        "inline_script",
        "script_file",
        "script_path",
        "script_id",
        "script_from_secret",
        "args",
        "cwd",
        "image_ref",
        "secret_env_all",
    ] {
        if let Some(node) = with.get_node(key) {
            p.push(line(node), format!("step `{name}` runs a runbook: `{key}` has no meaning for it"));
        }
    }
    let mut inputs = Vec::new();
    match with.get_node("inputs") {
        None => {}
        Some(Node::Mapping(map)) => {
            for (key, value) in map.iter() {
                let text = match value {
                    Node::Scalar(v) => v.as_str().to_string(),
                    other => json_of(other).to_string(),
                };
                inputs.push((key.as_str().to_string(), text));
            }
        }
        Some(other) => p.push(line(other), format!("`inputs` of step `{name}` must map names to values")),
    }
    match with.get_node("runbook") {
        Some(Node::Scalar(s)) if !s.as_str().trim().is_empty() => {
            Some((Source::Runbook { name: s.as_str().trim().to_string(), inputs }, scalar_line(s)))
        }
        Some(other) => {
            p.push(line(other), format!("`runbook` of step `{name}` must be a runbook's file name"));
            None
        }
        None => {
            p.push(at, format!("step `{name}` of type runbook needs `with.runbook`: the file name of a runbook"));
            None
        }
    }
}

/// The step's one script source, and the line its script starts at.
pub(super) fn source(
    with: &MarkedMappingNode,
    name: &str,
    at: usize,
    lines: &[&str],
    p: &mut Problems,
) -> Option<(Source, usize)> {
    const SOURCES: [&str; 6] =
        ["inline_script", "script_file", "script_path", "script_id", "script_from_secret", "script_from_configmap"];
    let given: Vec<&str> = SOURCES.iter().copied().filter(|k| with.contains_key(*k)).collect();
    match given.as_slice() {
        [] => {
            p.push(at, format!("step `{name}` has no script source: give one of {}", SOURCES[..5].join(", ")));
            return None;
        }
        [_] => {}
        many => {
            p.push(
                at,
                format!("step `{name}` has {} script sources ({}); give exactly one", many.len(), many.join(", ")),
            );
            return None;
        }
    }
    let key = given[0];
    let node = with.get_node(key)?;
    let text = |p: &mut Problems| match node {
        Node::Scalar(s) if !s.as_str().trim().is_empty() => Some(s.as_str().to_string()),
        _ => {
            p.push(line(node), format!("`{key}` of step `{name}` must be non-empty text"));
            None
        }
    };
    match key {
        "inline_script" => {
            let script = text(p)?;
            // A block scalar (`|` or `>`) starts on the line after its indicator.
            let first = line(node);
            let block = lines.get(first - 1).is_some_and(|l| {
                let after = l.split_once("inline_script:").map_or(*l, |(_, r)| r).trim_start();
                after.starts_with('|') || after.starts_with('>')
            });
            Some((Source::Inline(script), if block { first + 1 } else { first }))
        }
        "script_file" | "script_path" => Some((Source::File(text(p)?), line(node))),
        "script_id" => Some((Source::Registry(text(p)?), line(node))),
        "script_from_configmap" => configmap(node, name, p).map(|s| (s, line(node))),
        _ => secret(node, name, p).map(|s| (Source::Secret(s), line(node))),
    }
}

/// `script_from_configmap: { configmap_name, key, namespace? }`.
fn configmap(node: &Node, name: &str, p: &mut Problems) -> Option<Source> {
    let Node::Mapping(m) = node else {
        p.push(line(node), format!("step `{name}`: script_from_configmap needs `configmap_name` and `key`"));
        return None;
    };
    p.unknown_keys(m, &["configmap_name", "key", "namespace"], &format!("script_from_configmap of `{name}`"));
    let (map, key, namespace) = (p.string(m, "configmap_name"), p.string(m, "key"), p.string(m, "namespace"));
    let (Some(map), Some(key)) = (map, key) else {
        p.push(line(node), format!("step `{name}`: script_from_configmap needs `configmap_name` and `key`"));
        return None;
    };
    kubernetes_names(node, name, "script_from_configmap", &map, &key, namespace.as_deref(), p)
        .then_some(Source::ConfigMap { name: map, key, namespace })
}

/// Whether the names of a Kubernetes source are names the API has: nothing
/// else may reach its paths (a `../secrets/…` in a ConfigMap's name would
/// read a Secret and log it as a ConfigMap's script).
fn kubernetes_names(
    node: &Node,
    step: &str,
    field: &str,
    object: &str,
    key: &str,
    namespace: Option<&str>,
    p: &mut Problems,
) -> bool {
    let problem = if !is_object_name(object) {
        format!("`{object}` is not an object's name (lowercase letters, digits, `-` and `.`, at most 253)")
    } else if !is_data_key(key) {
        format!("`{key}` is not a key (letters, digits, `-`, `_` and `.`, at most 253)")
    } else if let Some(namespace) = namespace.filter(|n| !is_namespace_name(n)) {
        format!("`{namespace}` is not a namespace's name (lowercase letters, digits and `-`, at most 63)")
    } else {
        return true;
    };
    p.push(line(node), format!("step `{step}`: {field}: {problem}"));
    false
}

/// `script_from_secret: { secret_name, key }`, `{ env: VAR }`, or `NAME`;
/// with a `namespace`, `{ secret_name, key, namespace }` of the Kubernetes
/// API.
pub(super) fn secret(node: &Node, name: &str, p: &mut Problems) -> Option<SecretRef> {
    match node {
        Node::Scalar(s) if !s.as_str().trim().is_empty() => {
            Some(SecretRef::File { secret_name: s.as_str().to_string(), key: None })
        }
        Node::Mapping(m) => {
            p.unknown_keys(m, &["secret_name", "key", "env", "namespace"], &format!("script_from_secret of `{name}`"));
            if m.contains_key("namespace") {
                let fields = (p.string(m, "secret_name"), p.string(m, "key"), p.string(m, "namespace"));
                let (Some(secret_name), Some(key), Some(namespace)) = fields else {
                    p.push(
                        line(node),
                        format!("step `{name}`: script_from_secret with a `namespace` needs `secret_name` and `key`"),
                    );
                    return None;
                };
                return kubernetes_names(node, name, "script_from_secret", &secret_name, &key, Some(&namespace), p)
                    .then_some(SecretRef::Kubernetes { secret_name, key, namespace });
            }
            match (p.string(m, "secret_name"), p.string(m, "key"), p.string(m, "env")) {
                (None, None, Some(var)) if is_env_name(&var) => Some(SecretRef::Env(var)),
                (Some(secret_name), key, None)
                    if is_secret_name(&secret_name) && key.as_deref().is_none_or(is_secret_name) =>
                {
                    Some(SecretRef::File { secret_name, key })
                }
                _ => {
                    p.push(
                        line(node),
                        format!(
                            "step `{name}`: script_from_secret needs `secret_name` (and optionally `key`), or `env`; names may not contain `/` or start with `.`"
                        ),
                    );
                    None
                }
            }
        }
        _ => {
            p.push(line(node), format!("step `{name}`: script_from_secret must name a secret"));
            None
        }
    }
}

pub(super) fn limits(with: &MarkedMappingNode, name: &str, p: &mut Problems) -> LimitOverrides {
    let mut limits = LimitOverrides::default();
    for key in ["timeout", "fuel", "memory", "output"] {
        let Some(value) = p.string(with, key) else { continue };
        let parsed = match key {
            "timeout" => parse_duration(&value).map(|d| limits.timeout = Some(d)),
            "fuel" => parse_fuel(&value).map(|f| limits.fuel = Some(f)),
            "memory" => parse_size(&value).map(|m| limits.memory = Some(m)),
            _ => parse_output(&value).map(|o| limits.output = Some(o)),
        };
        if let Err(message) = parsed {
            p.value(with, key, 1, format!("step `{name}`: {message}"));
        }
    }
    limits
}
