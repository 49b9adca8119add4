//! YAML runbooks: typed inputs, permissions,
//! and steps with one script source each. Parsed with marked-yaml, which
//! keeps the line of every node, so every problem is reported at once with
//! its line; it refuses anchors and aliases, so a "billion laughs" file is
//! an error rather than an explosion.
//!
//! This file reads the top of the file (its keys, inputs, permissions and
//! Required Claims); [`step_fields`] reads the steps, [`scan`] words the parser's
//! own errors, [`nodes`] holds what they share and [`keys`] the keys a
//! runbook may use.

mod keys;
mod nodes;
mod scan;
mod step_fields;

use std::path::Path;

use marked_yaml::{LoaderOptions, Node};

use crate::error::{Invalid, Problem};
use crate::model::inputs::{InputSpec, InputType};
use crate::model::{ClaimRequirement, EnvRequirement, Format, HostRequirement, PathRequirement, Runbook, is_env_name};
pub(crate) use keys::{MAX_DEPTH, TOP_KEYS};
#[cfg(test)]
pub(crate) use keys::{STEP_KEYS, WITH_KEYS};
use nodes::{Problems, is_template_name, json_of, line, scalar_line};
use scan::load_problem;
use step_fields::step;

/// Parses `text`, the content of the YAML runbook `path`.
pub fn parse(path: &Path, text: &str) -> Result<Runbook, Invalid> {
    Invalid::unless_warnings(path, parse_partial(path, text)?)
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
    use crate::model::Container;
    use crate::model::{Approval, Language, OnError, Source};

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
        let text = "name: x\nsteps:\n  - name: a\n    type: python\n    with: { inline_script: print(1) }\n  - name: b\n    type: sh\n    colour: red\n    with:\n      inline_script: echo\n      secret_env_all: [aws]\n";
        let found = problems(&text.replace("steps:", "permissions:\n  net: [\"exa mple.com\"]\nsteps:"));
        assert!(found.iter().any(|(l, m)| *l == 3 && m.contains("permissions.net")), "{found:?}");
        let found = problems(text);
        assert!(found.iter().any(|(l, m)| *l == 4 && m.contains("unknown type `python`")), "{found:?}");
        assert!(found.iter().any(|(l, m)| *l == 8 && m.contains("unknown field `colour`")), "{found:?}");
        assert!(found.iter().any(|(l, m)| *l == 11 && m.contains("names no image_ref")), "{found:?}");
    }

    #[test]
    fn an_image_step_is_a_shell_script_with_its_secrets() {
        let text = "name: x\nsteps:\n  - name: a\n    type: script.run\n    with:\n      inline_script: echo\n      image_ref: postgres\n      secret_env_all: [aws-credentials, aws-credentials, db]\n";
        let runbook = parse(Path::new("x.yaml"), text).unwrap();
        let container = Container { image: "postgres".into(), secret_env: vec!["aws-credentials".into(), "db".into()] };
        assert_eq!(runbook.steps[0].container, Some(container));
        assert_eq!(runbook.steps[0].kind(), "image");
        let wrong = [
            ("type: js", "image_ref: postgres", "the step's type must be script.run, sh or bash, not js"),
            ("type: bash\n    native: true", "image_ref: postgres", "a native step runs on this machine"),
            ("type: sh", "image_ref: \"postgres; rm\"", "image_ref must name an image"),
            ("type: sh", "image_ref: postgres\n      secret_env_all: [\"../x\"]", "`../x` is not a Secret's name"),
        ];
        for (kind, image, message) in wrong {
            let text = format!(
                "name: x\nsteps:\n  - name: a\n    {kind}\n    with:\n      inline_script: echo\n      {image}\n"
            );
            let found = problems(&text);
            assert!(found.iter().any(|(_, m)| m.contains(message)), "{kind} {image}: {found:?}");
        }
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
