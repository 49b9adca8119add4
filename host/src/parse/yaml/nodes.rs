//! The parser's tools over marked-yaml's nodes: the [`Problems`] found so
//! far (spanned where a node has a span), names that are nearly right or
//! in the wrong place, lines, and a node as JSON.

use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use serde_json::Value;

use crate::error::Problem;

use super::keys::{STEP_KEYS, WITH_KEYS};

/// Collects problems with the lines of the nodes they are about.
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn push(&mut self, line: usize, message: impl Into<String>) {
        self.0.push(Problem::new(line, message));
    }

    /// A problem about `scalar`, spanning it.
    pub(super) fn at(&mut self, scalar: &MarkedScalarNode, message: impl Into<String>) {
        self.0.push(spanning(scalar, Problem::new(scalar_line(scalar), message)));
    }

    /// A problem about the value of `map[key]`, spanning it when it is
    /// text; at `fallback` when there is none.
    pub(super) fn value(&mut self, map: &MarkedMappingNode, key: &str, fallback: usize, message: impl Into<String>) {
        match map.get_node(key) {
            Some(Node::Scalar(s)) => self.at(s, message),
            Some(other) => self.push(line(other), message),
            None => self.push(fallback, message),
        }
    }

    /// The text of `map[key]`, or `None` after reporting a non-text value.
    pub(super) fn string(&mut self, map: &MarkedMappingNode, key: &str) -> Option<String> {
        match map.get_node(key)? {
            Node::Scalar(s) => Some(s.as_str().to_string()),
            other => {
                self.push(line(other), format!("`{key}` must be text"));
                None
            }
        }
    }

    /// A list of texts (or one text) at `map[key]`.
    pub(super) fn strings(&mut self, map: &MarkedMappingNode, key: &str) -> Vec<(String, usize)> {
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

    pub(super) fn unknown_keys(&mut self, map: &MarkedMappingNode, allowed: &[&str], what: &str) {
        for (key, _) in map.iter() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let problem = Problem::new(scalar_line(key), format!("unknown field `{}` in {what}", key.as_str()));
            let expected = format!("expected one of: {}", allowed.join(", "));
            let help = match key.as_str() {
                "secret_env" => {
                    "secret_env_all lists Secrets whose keys an image step's Job gets; declare host variables under permissions.env".to_string()
                }
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
pub(super) fn misplaced(key: &str, allowed: &[&str]) -> Option<String> {
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
pub(super) fn spanning(scalar: &MarkedScalarNode, problem: Problem) -> Problem {
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

pub(super) fn scalar_line(scalar: &MarkedScalarNode) -> usize {
    scalar.span().start().map_or(1, |m| m.line())
}

pub(super) fn line(node: &Node) -> usize {
    node.span().start().map_or(1, |m| m.line())
}

/// A scalar as a JSON value: unquoted `5000`, `true`, `null` typed as YAML
/// would; quoted text always a string.
pub(super) fn json_of(node: &Node) -> Value {
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

/// Step names appear in templates (`steps.NAME.stdout`), so they are words.
pub(super) fn is_template_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
