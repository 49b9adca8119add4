//! YAML runbooks: typed inputs, permissions,
//! and steps with one script source each. Parsed with marked-yaml, which
//! keeps the line of every node, so every problem is reported at once with
//! its line; it refuses anchors and aliases, so a "billion laughs" file is
//! an error rather than an explosion.

use std::path::Path;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node};
use serde_json::Value;

use crate::error::{Invalid, Problem};
use crate::model::inputs::{InputSpec, InputType};
use crate::model::limits::{LimitOverrides, parse_duration, parse_fuel, parse_output, parse_size};
use crate::model::{
    Approval, ClaimRequirement, EnvRequirement, Format, HostRequirement, Language, Native, OnError, PathRequirement,
    Runbook, SYSTEM_VARIABLES, SecretRef, Source, Step, is_env_name, is_secret_name,
};

/// How deeply a runbook's YAML may nest; real ones stay under ten. The
/// parser refuses flow collections nested past 256 itself, but not block
/// ones (`- - - - x`), whose tree would then overflow the stack when freed.
pub(crate) const MAX_DEPTH: usize = 200;

pub(crate) const TOP_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "inputs",
    "permissions",
    "required_claims",
    "steps",
    "version",
    "tags",
    "deterministic",
];
pub(crate) const STEP_KEYS: &[&str] =
    &["name", "type", "with", "on_error", "approval_required", "approvers", "description", "native"];
pub(crate) const WITH_KEYS: &[&str] = &[
    "inline_script",
    "script_file",
    "script_path",
    "script_id",
    "script_from_secret",
    "script_from_configmap",
    "args",
    "env",
    "cwd",
    "timeout",
    "fuel",
    "memory",
    "output",
    "approval_required",
    "approvers",
    "runbook",
    "inputs",
];

/// Parses `text`, the content of the YAML runbook `path`.
pub fn parse(path: &Path, text: &str) -> Result<Runbook, Invalid> {
    match parse_partial(path, text)? {
        (runbook, problems) if problems.iter().all(|p| p.warning) => Ok(runbook),
        (_, problems) => {
            Err(Invalid { file: path.to_path_buf(), problems: problems.into_iter().filter(|p| !p.warning).collect() })
        }
    }
}

/// The runbook as far as it parses, without the steps that do not, and
/// every problem found, sorted by line (`runbox validate` checks the rest
/// of it too). `Err` when nothing of it can be read.
pub fn parse_partial(path: &Path, text: &str) -> Result<(Runbook, Vec<Problem>), Invalid> {
    let invalid = |problems: Vec<Problem>| Invalid { file: path.to_path_buf(), problems };
    if let Some(line) = too_deep(text) {
        return Err(invalid(vec![Problem::new(
            line,
            format!("the YAML nests more than {MAX_DEPTH} levels deep; a runbook never needs that"),
        )]));
    }
    let options = LoaderOptions::default().error_on_duplicate_keys(true).prevent_coercion(true);
    let root = marked_yaml::parse_yaml_with_options(0, text, options)
        .map_err(|e| invalid(vec![load_problem(&e, &text.lines().collect::<Vec<_>>())]))?;
    let Some(top) = root.as_mapping() else {
        return Err(invalid(vec![Problem::new(1, "a YAML runbook is a mapping with `name` and `steps`")]));
    };
    let mut p = Problems(Vec::new());
    let lines: Vec<&str> = text.lines().collect();
    for (key, _) in top.iter() {
        if !TOP_KEYS.contains(&key.as_str()) {
            p.at(key, format!("unknown field `{}` (expected one of: {})", key.as_str(), TOP_KEYS.join(", ")));
        }
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let id = p.string(top, "id");
    let title = p.string(top, "name");
    if title.is_none() && !top.contains_key("name") {
        p.push(line(&root), "missing field `name`: the runbook's title");
    }
    let description = [title, p.string(top, "description")].into_iter().flatten().collect::<Vec<_>>().join("\n\n");
    let name = id.unwrap_or(stem);
    let inputs = top.get_node("inputs").map(|n| inputs(n, &mut p)).unwrap_or_default();
    let (env, reads, writes, net) = top.get_node("permissions").map(|n| permissions(n, &mut p)).unwrap_or_default();
    let claims = top.get_node("required_claims").map(|n| claims(n, &mut p)).unwrap_or_default();
    let deterministic = match top.get_node("deterministic") {
        None => false,
        Some(Node::Scalar(s)) if s.as_bool().is_some() => s.as_bool() == Some(true),
        Some(other) => {
            p.push(line(other), "`deterministic` must be true or false");
            false
        }
    };
    let steps = match top.get_node("steps") {
        Some(Node::Sequence(items)) if !items.is_empty() => {
            let mut steps = Vec::new();
            for item in items.iter() {
                if let Some(step) = step(item, &steps, &lines, &mut p) {
                    steps.push(step);
                }
            }
            steps
        }
        Some(node) => {
            p.push(line(node), "`steps` must be a non-empty list of steps");
            Vec::new()
        }
        None => {
            p.push(line(&root), "missing field `steps`: the list of steps to run");
            Vec::new()
        }
    };
    let mut problems = p.0;
    problems.sort_by_key(|p| p.line);
    let runbook = Runbook {
        path: path.to_path_buf(),
        format: Format::Yaml,
        name,
        description,
        env,
        reads,
        writes,
        net,
        claims,
        inputs,
        steps,
        deterministic,
        consent_sha256: String::new(),
    };
    Ok((runbook, problems))
}

/// The line where nesting first passes [`MAX_DEPTH`], judged by indentation
/// and flow brackets, before the parser sees the text.
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    // Flow brackets stay open across lines.
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        let mut deepest = flow;
        // Brackets inside a quoted scalar are text; a quote closes on its line.
        let mut quote: Option<char> = None;
        let mut escaped = false;
        let mut after_space = true;
        for c in line.chars() {
            match (quote, c) {
                (Some('"'), '\\') if !escaped => escaped = true,
                (Some(q), c) if c == q && !escaped => quote = None,
                (Some(_), _) => escaped = false,
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if after_space => break,
                (None, '[' | '{') => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            after_space = c == ' ' || c == '\t';
        }
        if indent / 2 + deepest > MAX_DEPTH {
            return Some(n + 1);
        }
    }
    None
}

fn load_problem(error: &marked_yaml::LoadError, lines: &[&str]) -> Problem {
    use marked_yaml::LoadError as E;
    let (marker, message) = match error {
        E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => {
            (*m, "a YAML runbook is a mapping with `name` and `steps`".to_string())
        }
        E::UnexpectedAnchor(m) => {
            (*m, "YAML anchors and aliases are not allowed in runbooks (they can expand without bound)".to_string())
        }
        E::MappingKeyMustBeScalar(m) => (*m, "mapping keys must be plain text".to_string()),
        E::UnexpectedTag(m) => (*m, "YAML tags (`!name`) are not allowed in runbooks".to_string()),
        E::ScanError(m, e) if e.info().contains("recursion limit") => {
            (*m, format!("the YAML nests more than {MAX_DEPTH} levels deep; a runbook never needs that"))
        }
        E::ScanError(m, e) => {
            // A tab is reported where the parser noticed it; shown where it is.
            let tabbed = e.info().contains("tab").then(|| {
                (m.line().saturating_sub(1)..lines.len()).find(|&n| lines[n].trim_start_matches(' ').starts_with('\t'))
            });
            let (line, column) = match tabbed.flatten() {
                Some(n) => (n + 1, lines[n].len() - lines[n].trim_start_matches(' ').len() + 1),
                None => (m.line().max(1), m.column()),
            };
            let problem = Problem::new(line, format!("invalid YAML: {}", e.info())).spanning(column, 1);
            return match scan_help(e.info(), line, column, lines) {
                Some(help) => problem.help(help),
                None => problem,
            };
        }
        E::DuplicateKey(d) => {
            let first = d.prev_key.span().start().map_or(0, |m| m.line());
            let marker = d.key.span().start().copied().unwrap_or_else(|| marked_yaml::Marker::new(0, 0, 1, 1));
            (marker, format!("duplicate key `{}` (first at line {first})", d.key.as_str()))
        }
    };
    Problem::new(marker.line().max(1), message).spanning(marker.column(), 1)
}

/// What to do about the YAML parser's complaint `info` at `line`:`column`
/// (1-based) of `lines`: most are indentation, a tab or a `: ` in a value.
fn scan_help(info: &str, line: usize, column: usize, lines: &[&str]) -> Option<String> {
    let text = *lines.get(line.checked_sub(1)?)?;
    let indent = text.len() - text.trim_start_matches(' ').len();
    let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
    if text[indent..].starts_with('\t') || info.contains("tab") {
        let tabbed = (line.saturating_sub(1)..lines.len())
            .find(|&n| lines[n].trim_start_matches(' ').starts_with('\t'))
            .map_or(line, |n| n + 1);
        return Some(format!("YAML indents with spaces, never tabs: line {tabbed} is indented with a tab"));
    }
    if info.contains("mapping values are not allowed") {
        // `type: sh` and below it `   with:` indented more: the parser reads
        // the second line as the rest of the first's value.
        let above = lines[..line - 1].iter().enumerate().rev().find(|(_, l)| !l.trim().is_empty());
        if let Some((n, above)) = above.filter(|(_, l)| indent_of(l) < indent && l.trim_end().contains(": ")) {
            return Some(format!(
                "line {line} is indented {indent} spaces, more than line {}'s `key: value` ({}): YAML reads it as \
                 the rest of that value; line it up with line {}",
                n + 1,
                indent_of(above),
                n + 1
            ));
        }
        return Some(
            "a value holding `: ` needs quotes (`key: \"a: b\"`), or a block (`key: |` with the text indented below it)"
                .to_string(),
        );
    }
    if info.contains("found unexpected end of stream") && info.contains("quoted scalar") {
        return Some("a quote is opened and never closed: close it, or use a block (`key: |`)".to_string());
    }
    if info.contains("cannot start any token") || info.contains("unexpected character") {
        let first = text.chars().nth(column.saturating_sub(1)).filter(|c| !c.is_whitespace()).unwrap_or('@');
        return Some(format!("a value starting with `{first}` needs quotes: `key: \"{first}…\"`"));
    }
    if info.contains("simple key expect ':'") || info.contains("could not find expected ':'") {
        return Some(format!(
            "each line of a mapping is `key: value`: is the `:` (or the space after it) missing on line {line} or the \
             line above?"
        ));
    }
    // Indentation is the question only when the parser stopped at the
    // line's first character, not at text after a complete value.
    let indentation = info.contains("expected '-' indicator") || info.contains("did not find expected key");
    if !indentation || column != indent + 1 {
        return None;
    }
    // The blocks open above the line: each earlier line indented less than
    // the one below it, going up, and whether it is a list item.
    let mut open: Vec<(usize, usize, bool)> = Vec::new();
    for (n, above) in lines[..line - 1].iter().enumerate().rev() {
        let content = above.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let at = above.len() - content.len();
        if open.last().is_none_or(|&(_, last, _)| at < last) {
            open.push((n + 1, at, content.starts_with("- ") || content == "-"));
        }
    }
    let item = text[indent..].starts_with('-');
    if let Some(&(n, _, list)) = open.iter().find(|&&(_, at, _)| at == indent) {
        if list && !item {
            return Some(format!(
                "line {line} is a `key: value` at the indentation of the list's items (line {n}): make it an item \
                 (`- `), or indent it under one"
            ));
        }
        return Some(format!(
            "line {line} lines up with the block above it but is not `key: value` or `- item` in it: is a `:` missing, \
             or does it belong to the line before (indent it more)?"
        ));
    }
    if let Some((n, at, _)) = open.iter().find(|&&(_, _, list)| list).filter(|_| item) {
        return Some(format!(
            "line {line} is indented {indent} spaces; the list's items above (line {n}) are indented {at}: \
             line it up with them"
        ));
    }
    let levels: Vec<String> = open.iter().rev().map(|(n, at, _)| format!("{at} (line {n})")).collect();
    Some(format!(
        "line {line} is indented {indent} spaces, which lines up with no block above it; indent it as one of them: {}",
        levels.join(", ")
    ))
}

/// Collects problems with the lines of the nodes they are about.
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, line: usize, message: impl Into<String>) {
        self.0.push(Problem::new(line, message));
    }

    /// A problem about `scalar`, spanning it.
    fn at(&mut self, scalar: &MarkedScalarNode, message: impl Into<String>) {
        self.0.push(spanning(scalar, Problem::new(scalar_line(scalar), message)));
    }

    /// A problem about the value of `map[key]`, spanning it when it is
    /// text; at `fallback` when there is none.
    fn value(&mut self, map: &MarkedMappingNode, key: &str, fallback: usize, message: impl Into<String>) {
        match map.get_node(key) {
            Some(Node::Scalar(s)) => self.at(s, message),
            Some(other) => self.push(line(other), message),
            None => self.push(fallback, message),
        }
    }

    /// The text of `map[key]`, or `None` after reporting a non-text value.
    fn string(&mut self, map: &MarkedMappingNode, key: &str) -> Option<String> {
        match map.get_node(key)? {
            Node::Scalar(s) => Some(s.as_str().to_string()),
            other => {
                self.push(line(other), format!("`{key}` must be text"));
                None
            }
        }
    }

    /// A list of texts (or one text) at `map[key]`.
    fn strings(&mut self, map: &MarkedMappingNode, key: &str) -> Vec<(String, usize)> {
        match map.get_node(key) {
            None => Vec::new(),
            Some(Node::Scalar(s)) if s.as_str().is_empty() => Vec::new(),
            Some(Node::Scalar(s)) => vec![(s.as_str().to_string(), scalar_line(s))],
            Some(Node::Sequence(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Node::Scalar(s) => Some((s.as_str().to_string(), scalar_line(s))),
                    other => {
                        self.push(line(other), format!("`{key}` must list plain values"));
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.push(line(other), format!("`{key}` must be a list"));
                Vec::new()
            }
        }
    }

    fn unknown_keys(&mut self, map: &MarkedMappingNode, allowed: &[&str], what: &str) {
        for (key, _) in map.iter() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let problem = Problem::new(scalar_line(key), format!("unknown field `{}` in {what}", key.as_str()));
            let expected = format!("expected one of: {}", allowed.join(", "));
            let help = match key.as_str() {
                "image_ref" => "runbox runs steps in its sandbox, not in container images: remove it".to_string(),
                "secret_env_all" | "secret_env" => "declare host variables under permissions.env instead".to_string(),
                other => match crate::text::nearest(other, allowed.iter().copied()) {
                    Some(meant) => format!("did you mean `{meant}`? ({expected})"),
                    // A field of the other level of a step: `inline_script`
                    // beside `type`, `on_error` inside `with:`.
                    None => match misplaced(other, allowed) {
                        Some(hint) => hint,
                        None => expected,
                    },
                },
            };
            self.0.push(spanning(key, problem.help(help)));
        }
    }
}

/// Where a field of a step that is not at this level belongs.
fn misplaced(key: &str, allowed: &[&str]) -> Option<String> {
    let (other, there) = if allowed == STEP_KEYS {
        (WITH_KEYS, "under the step's `with:`")
    } else if allowed == WITH_KEYS {
        (STEP_KEYS, "beside the step's `type`, not under `with:`")
    } else {
        return None;
    };
    let meant = crate::text::nearest(key, other.iter().copied())?;
    Some(if meant == key {
        format!("`{key}` goes {there}")
    } else {
        format!("did you mean `{meant}`? It goes {there}")
    })
}

/// `problem`, spanning `scalar` (a key or a value) where it is written.
fn spanning(scalar: &MarkedScalarNode, problem: Problem) -> Problem {
    match scalar.span().start() {
        Some(start) => {
            let width = match scalar.span().end() {
                Some(end) if end.line() == start.line() => end.column().saturating_sub(start.column()),
                _ => 0,
            };
            // A plain key's end is not marked: its text is its width.
            let width = if width == 0 { scalar.as_str().chars().count() } else { width };
            problem.spanning(start.column(), width)
        }
        None => problem,
    }
}

fn scalar_line(scalar: &MarkedScalarNode) -> usize {
    scalar.span().start().map_or(1, |m| m.line())
}

fn line(node: &Node) -> usize {
    node.span().start().map_or(1, |m| m.line())
}

/// A scalar as a JSON value: unquoted `5000`, `true`, `null` typed as YAML
/// would; quoted text always a string.
fn json_of(node: &Node) -> Value {
    match node {
        Node::Scalar(s) => {
            let text = s.as_str();
            if !s.may_coerce() {
                return Value::String(text.to_string());
            }
            if let Some(b) = s.as_bool() {
                Value::Bool(b)
            } else if matches!(text, "null" | "~" | "") {
                Value::Null
            } else if let Ok(n) = text.parse::<i64>() {
                Value::Number(n.into())
            } else if let Some(n) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Value::Number(n)
            } else {
                Value::String(text.to_string())
            }
        }
        Node::Sequence(items) => Value::Array(items.iter().map(json_of).collect()),
        Node::Mapping(map) => Value::Object(map.iter().map(|(k, v)| (k.as_str().to_string(), json_of(v))).collect()),
    }
}

/// `inputs: { NAME: { type, default, description } }`, or `NAME: type`.
fn inputs(node: &Node, p: &mut Problems) -> Vec<InputSpec> {
    let Node::Mapping(map) = node else {
        p.push(line(node), "`inputs` must map each input's name to its type and default");
        return Vec::new();
    };
    let mut specs = Vec::new();
    for (key, value) in map.iter() {
        let name = key.as_str().to_string();
        let at = scalar_line(key);
        if !is_template_name(&name) {
            p.at(key, format!("input name `{name}` may only use letters, digits, `_` and `-`"));
            continue;
        }
        let (type_node, default, description) = match value {
            Node::Scalar(s) => (Some(s.as_str().to_string()), None, String::new()),
            Node::Mapping(m) => {
                p.unknown_keys(m, &["type", "default", "description", "required"], &format!("input `{name}`"));
                (p.string(m, "type"), m.get_node("default"), p.string(m, "description").unwrap_or_default())
            }
            Node::Sequence(_) => {
                p.push(line(value), format!("input `{name}` must give its type, e.g. `{{ type: int, default: 5 }}`"));
                continue;
            }
        };
        let kind = match type_node.as_deref().map(InputType::parse) {
            Some(Some(kind)) => kind,
            Some(None) => {
                p.push(
                    at,
                    format!(
                        "input `{name}` has unknown type `{}` (expected string, int, bool, number, list or map)",
                        type_node.unwrap_or_default()
                    ),
                );
                continue;
            }
            None => InputType::String,
        };
        let default = match default.map(|d| (d, kind.coerce(&json_of(d)))) {
            None => None,
            Some((_, Ok(v))) => Some(v),
            Some((d, Err(e))) => {
                p.push(line(d), format!("default of input `{name}`: {e}"));
                continue;
            }
        };
        specs.push(InputSpec { name, kind, default, description, line: at });
    }
    specs
}

type Permissions = (Vec<EnvRequirement>, Vec<PathRequirement>, Vec<PathRequirement>, Vec<HostRequirement>);

/// `permissions: { read: [..], write: [..], env: [..], net: [..] }`.
fn permissions(node: &Node, p: &mut Problems) -> Permissions {
    let Node::Mapping(map) = node else {
        p.push(line(node), "`permissions` must be a mapping of read, write, env and net lists");
        return Default::default();
    };
    p.unknown_keys(map, &["read", "write", "env", "net"], "permissions");
    let paths = |p: &mut Problems, key| {
        p.strings(map, key).into_iter().map(|(path, line)| PathRequirement { path, line }).collect::<Vec<_>>()
    };
    let reads = paths(p, "read");
    let writes = paths(p, "write");
    let mut env = Vec::new();
    for (name, at) in p.strings(map, "env") {
        if is_env_name(&name) {
            env.push(EnvRequirement { name, description: String::new(), line: at });
        } else {
            p.push(at, format!("`{name}` in permissions.env is not an environment variable name"));
        }
    }
    let mut net = Vec::new();
    for (host, at) in p.strings(map, "net") {
        match crate::model::net::NetPolicy::new(std::slice::from_ref(&host)) {
            Ok(_) => net.push(HostRequirement { host, line: at }),
            Err(e) => p.push(at, format!("permissions.net: {e}")),
        }
    }
    (env, reads, writes, net)
}

/// `required_claims: { roles: [admin, sre] }` (or `roles: admin, sre`).
fn claims(node: &Node, p: &mut Problems) -> Vec<ClaimRequirement> {
    let Node::Mapping(map) = node else {
        p.push(line(node), "`required_claims` must map each claim to its accepted values");
        return Vec::new();
    };
    let mut claims = Vec::new();
    for (key, _) in map.iter() {
        let values: Vec<String> = p
            .strings(map, key.as_str())
            .into_iter()
            .flat_map(|(v, _)| v.split(',').map(|s| s.trim().to_string()).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            p.at(key, format!("claim `{}` lists no accepted values", key.as_str()));
        } else {
            claims.push(ClaimRequirement { claim: key.as_str().to_string(), values, line: scalar_line(key) });
        }
    }
    claims
}

/// Step names appear in templates (`steps.NAME.stdout`), so they are words.
fn is_template_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn step(node: &Node, earlier: &[Step], lines: &[&str], p: &mut Problems) -> Option<Step> {
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
    language.map(|language| Step { language, ..step })
}

/// `native: true` with `type: bash` or `zsh`; `type: powershell`, which is
/// native only.
fn native(map: &MarkedMappingNode, kind: Option<&str>, name: &str, p: &mut Problems) -> Option<Native> {
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

fn approval(map: &MarkedMappingNode, name: &str, p: &mut Problems) -> Option<Approval> {
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
fn sub_runbook(with: &MarkedMappingNode, name: &str, at: usize, p: &mut Problems) -> Option<(Source, usize)> {
    for key in ["inline_script", "script_file", "script_path", "script_id", "script_from_secret", "args", "cwd"] {
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
fn source(
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
        "script_from_configmap" => {
            p.push(
                line(node),
                format!(
                    "step `{name}`: script_from_configmap reads the Kubernetes API, which this build of runbox does not include"
                ),
            );
            None
        }
        _ => secret(node, name, p).map(|s| (Source::Secret(s), line(node))),
    }
}

/// `script_from_secret: { secret_name, key }`, `{ env: VAR }`, or `NAME`.
fn secret(node: &Node, name: &str, p: &mut Problems) -> Option<SecretRef> {
    match node {
        Node::Scalar(s) if !s.as_str().trim().is_empty() => {
            Some(SecretRef::File { secret_name: s.as_str().to_string(), key: None })
        }
        Node::Mapping(m) => {
            p.unknown_keys(m, &["secret_name", "key", "env", "namespace"], &format!("script_from_secret of `{name}`"));
            if m.contains_key("namespace") {
                p.push(
                    line(node),
                    format!(
                        "step `{name}`: a secret with a `namespace` is read from the Kubernetes API, which this build of runbox does not include"
                    ),
                );
                return None;
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

fn limits(with: &MarkedMappingNode, name: &str, p: &mut Problems) -> LimitOverrides {
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

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_brackets_and_closed_flows_do_not_count_as_depth() {
        let steps: String = (0..400).map(|i| format!("  - {{ name: s{i}, run: \"return '{{' + {i}\" }}\n")).collect();
        assert_eq!(super::too_deep(&format!("steps:\n{steps}")), None);
        let open: String = "[".repeat(201);
        assert_eq!(super::too_deep(&format!("a: 1\nb: {open}")), Some(2));
        assert_eq!(super::too_deep("a: \"[[[[\" # [[[["), None);
    }

    use serde_json::json;

    use super::*;

    const GOOD: &str = r#"id: ops.check-db-lag
name: Check Database Replication Lag
inputs:
  threshold_ms: { type: int, default: 5000 }
  host: string
permissions:
  read: [./data]
  write: [./out]
  env: [DB_HOST]
  net: ["localhost:8083"]
steps:
  - name: check-lag
    type: script.run
    with:
      inline_script: |
        echo "threshold $1"
      args: ["{{ inputs.threshold_ms }}"]
      env: { MODE: fast }
      cwd: ./data
      timeout: 30s
      fuel: 2000000000
      memory: 64MiB
    on_error: continue
  - name: report
    type: script
    with:
      script_id: report
      approval_required: true
      approvers: [sre-leads]
"#;

    #[test]
    fn the_spec_example_parses_into_its_parts() {
        let rb = parse(Path::new("ops/check.yaml"), GOOD).unwrap();
        assert_eq!((rb.name.as_str(), rb.format), ("ops.check-db-lag", Format::Yaml));
        assert!(rb.description.starts_with("Check Database Replication Lag"));
        assert_eq!(rb.inputs[0].default, Some(json!(5000)));
        assert_eq!(rb.inputs[1].kind, InputType::String);
        assert_eq!((rb.reads[0].path.as_str(), rb.writes[0].path.as_str()), ("./data", "./out"));
        assert_eq!((rb.env[0].name.as_str(), rb.net[0].host.as_str()), ("DB_HOST", "localhost:8083"));
        let check = &rb.steps[0];
        assert_eq!(check.language, Language::Shell);
        assert_eq!(check.source, Source::Inline("echo \"threshold $1\"\n".into()));
        assert_eq!(check.line, 16, "the script's first line");
        assert_eq!(check.args, vec!["{{ inputs.threshold_ms }}"]);
        assert_eq!(check.env, vec![("MODE".to_string(), "fast".to_string())]);
        assert_eq!(check.limits.fuel, Some(2_000_000_000));
        assert_eq!(check.on_error, OnError::Continue);
        let report = &rb.steps[1];
        assert_eq!(report.source, Source::Registry("report".into()));
        assert_eq!(report.approval, Some(Approval { approvers: vec!["sre-leads".into()] }));
    }

    fn problems(text: &str) -> Vec<(usize, String)> {
        parse(Path::new("x.yaml"), text).unwrap_err().problems.into_iter().map(|p| (p.line, p.message)).collect()
    }

    #[test]
    fn unknown_types_and_fields_are_reported_with_their_lines() {
        let text = "name: x\nsteps:\n  - name: a\n    type: python\n    with: { inline_script: print(1) }\n  - name: b\n    type: sh\n    colour: red\n    with:\n      inline_script: echo\n      image_ref: postgres\n";
        let found = problems(&text.replace("steps:", "permissions:\n  net: [\"exa mple.com\"]\nsteps:"));
        assert!(found.iter().any(|(l, m)| *l == 3 && m.contains("permissions.net")), "{found:?}");
        let found = problems(text);
        assert!(found.iter().any(|(l, m)| *l == 4 && m.contains("unknown type `python`")), "{found:?}");
        assert!(found.iter().any(|(l, m)| *l == 8 && m.contains("unknown field `colour`")), "{found:?}");
        assert!(found.iter().any(|(l, m)| *l == 11 && m.contains("image_ref")), "{found:?}");
    }

    #[test]
    fn exactly_one_source_is_required() {
        let none = problems("name: x\nsteps:\n  - name: a\n    type: sh\n    with: { args: [1] }\n");
        assert!(none[0].1.contains("no script source"), "{none:?}");
        let two =
            problems("name: x\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: x, script_id: y }\n");
        assert!(two[0].1.contains("2 script sources"), "{two:?}");
    }

    #[test]
    fn typed_defaults_are_checked() {
        let found = problems(
            "name: x\ninputs:\n  n: { type: int, default: soon }\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: x }\n",
        );
        assert_eq!(found[0].0, 3);
        assert!(found[0].1.contains("expected an int, got `soon`"), "{found:?}");
    }

    #[test]
    fn bombs_and_deep_nesting_are_refused() {
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
        let found = problems(laughs);
        assert!(found[0].1.contains("anchors and aliases are not allowed"), "{found:?}");
        let deep = format!("name: x\nsteps: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let found = problems(&deep);
        assert!(found[0].1.contains("nests more than"), "{found:?}");
        let indented: String = (0..300).map(|d| format!("{}k{d}:\n", "  ".repeat(d))).collect();
        assert!(problems(&indented)[0].1.contains("nests more than"));
        let dashes = format!("name: x\nsteps:\n  {}x\n", "- ".repeat(100_000));
        assert!(problems(&dashes)[0].1.contains("nests more than"));
        let multiline = format!("name: x\nsteps:\n{}", " [\n".repeat(10_000));
        assert!(problems(&multiline)[0].1.contains("nests more than"), "{:?}", problems(&multiline));
    }
}
