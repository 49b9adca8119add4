//! The reference grammar of `{{ … }}` templates and the [`Scope`] that
//! gives references their values.

use serde_json::{Map, Value};

/// A template reference: `inputs.x` or `steps.a.result.field`, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `inputs` or `steps`.
    pub root: String,
    /// The segments after the root: the input's name, or the step's name
    /// followed by `stdout`, `stderr`, `exit_code` or `result` and fields.
    pub path: Vec<String>,
    /// As written between the braces, trimmed.
    pub written: String,
}

impl Reference {
    /// `inputs.x`, the key this reference has among a step's variables.
    pub fn key(&self) -> String {
        std::iter::once(self.root.as_str()).chain(self.path.iter().map(String::as_str)).collect::<Vec<_>>().join(".")
    }
}

/// Why a template cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// 0-based line of the text the template is on.
    pub line: usize,
    pub message: String,
}

/// One `{{ … }}` occurrence in a text.
pub(super) struct Found {
    pub(super) start: usize,
    pub(super) end: usize,
    /// `Ok(None)`: not ours, left as written.
    pub(super) reference: Result<Option<Reference>, String>,
}

/// Finds the template at `at` (which starts with `{{`), if it closes.
pub(super) fn found_at(text: &str, at: usize) -> Option<Found> {
    let rest = &text[at + 2..];
    let close = rest.find("}}")?;
    let inner = &rest[..close];
    if inner.contains('\n') {
        return None;
    }
    Some(Found { start: at, end: at + 2 + close + 2, reference: parse_reference(inner) })
}

/// `inputs.x` → ours; `.Inputs.x` → ours; `.Names`, `range .Items` → not ours.
fn parse_reference(inner: &str) -> Result<Option<Reference>, String> {
    let written = inner.trim();
    let segment_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let (root, rest) = if let Some(rest) = written.strip_prefix(".Inputs.") {
        ("inputs", rest)
    } else if let Some(rest) = written.strip_prefix(".Steps.") {
        ("steps", rest)
    } else if written.starts_with('.') || written.starts_with('$') || !written.split('.').all(segment_ok) {
        // Another template language's syntax: not ours to expand.
        return Ok(None);
    } else {
        match written.split_once('.') {
            Some((root @ ("inputs" | "steps"), rest)) => (root, rest),
            _ => {
                return Err(format!(
                    "unknown template variable `{written}`: templates read `inputs.NAME` or `steps.NAME.stdout|stderr|exit_code|result`"
                ));
            }
        }
    };
    let path: Vec<String> = rest.split('.').map(str::to_string).collect();
    if !path.iter().all(|s| segment_ok(s)) {
        return Err(format!("malformed template `{written}`"));
    }
    if root == "steps" {
        match path.get(1).map(String::as_str) {
            Some("stdout" | "stderr" | "exit_code") if path.len() == 2 => {}
            Some("result") => {}
            _ => {
                return Err(format!(
                    "template `{written}` must read a step's `stdout`, `stderr`, `exit_code` or `result` (e.g. steps.NAME.stdout)"
                ));
            }
        }
    }
    if root == "inputs" && path.len() != 1 {
        return Err(format!("template `{written}` must name one input (inputs.NAME)"));
    }
    Ok(Some(Reference { root: root.to_string(), path, written: written.to_string() }))
}

/// Every reference in `text` with its 0-based line, and the problems of
/// the malformed ones.
pub fn references(text: &str) -> (Vec<(Reference, usize)>, Vec<TemplateError>) {
    let (mut refs, mut errors) = (Vec::new(), Vec::new());
    let mut at = 0;
    while let Some(offset) = text[at..].find("{{") {
        let start = at + offset;
        match found_at(text, start) {
            Some(found) => {
                match found.reference {
                    Ok(Some(r)) => refs.push((r, line_of(text, start))),
                    Ok(None) => {}
                    Err(message) => errors.push(TemplateError { line: line_of(text, start), message }),
                }
                at = found.end;
            }
            None => at = start + 2,
        }
    }
    (refs, errors)
}

pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count()
}

/// The values templates read: typed inputs and earlier steps' results.
pub struct Scope<'a> {
    pub inputs: &'a Map<String, Value>,
    /// `NAME → {exit_code, stdout, stderr, result}`.
    pub steps: &'a Map<String, Value>,
}

impl Scope<'_> {
    /// The text of the value `reference` reads (see [`text_of`]), or why it
    /// has none, at `line` of the text being expanded.
    pub(super) fn text(&self, reference: &Reference, line: usize) -> Result<String, TemplateError> {
        self.value(reference).map(|v| text_of(&v)).map_err(|message| TemplateError { line, message })
    }

    /// The value `reference` reads, or why it has none.
    pub fn value(&self, reference: &Reference) -> Result<Value, String> {
        let (map, what) = match reference.root.as_str() {
            "inputs" => (self.inputs, "input"),
            _ => (self.steps, "step"),
        };
        let name = &reference.path[0];
        let mut value = map.get(name).ok_or_else(|| match what {
            "input" => format!("`{}`: no input is named `{name}`", reference.written),
            _ => format!("`{}`: no earlier step is named `{name}`", reference.written),
        })?;
        for (i, segment) in reference.path.iter().enumerate().skip(1) {
            let next = match value {
                Value::Object(fields) => fields.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|n| items.get(n)),
                _ => None,
            };
            value = next.ok_or_else(|| {
                format!("`{}`: `{}` has no `{segment}`", reference.written, reference.path[..i].join("."))
            })?;
        }
        Ok(value.clone())
    }
}

/// A value as text: strings as they are, `null` as nothing, others as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `text` with every template replaced by its value's text: for `args`,
/// `env` values and `cwd`, which are data.
pub fn expand_plain(text: &str, scope: &Scope<'_>) -> Result<String, TemplateError> {
    replace(text, |_, reference, start| scope.text(reference, line_of(text, start)))
}

/// Calls `each` for every one of our templates in `text`, splicing what it
/// returns; other text is copied.
pub(super) fn replace(
    text: &str,
    mut each: impl FnMut(&str, &Reference, usize) -> Result<String, TemplateError>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(offset) = text[at..].find("{{") {
        let start = at + offset;
        let Some(found) = found_at(text, start) else {
            out.push_str(&text[at..start + 2]);
            at = start + 2;
            continue;
        };
        out.push_str(&text[at..start]);
        match found.reference {
            Ok(Some(reference)) => out.push_str(&each(text, &reference, start)?),
            Ok(None) => out.push_str(&text[found.start..found.end]),
            Err(message) => return Err(TemplateError { line: line_of(text, start), message }),
        }
        at = found.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scope_with(inputs: Value, steps: Value) -> (Map<String, Value>, Map<String, Value>) {
        (inputs.as_object().unwrap().clone(), steps.as_object().unwrap().clone())
    }

    #[test]
    fn references_are_ours_only_when_they_read_inputs_or_steps() {
        assert_eq!(parse_reference(" inputs.x ").unwrap().unwrap().key(), "inputs.x");
        assert_eq!(parse_reference(".Inputs.threshold_ms").unwrap().unwrap().key(), "inputs.threshold_ms");
        assert_eq!(parse_reference("steps.a.result.f").unwrap().unwrap().path, vec!["a", "result", "f"]);
        assert_eq!(parse_reference(".Names"), Ok(None));
        assert_eq!(parse_reference("range .Items"), Ok(None));
        assert!(parse_reference("input.x").unwrap_err().contains("unknown template variable `input.x`"));
        assert!(parse_reference("steps.a.out").unwrap_err().contains("stdout"));
    }

    #[test]
    fn plain_text_takes_values_as_they_are() {
        let (inputs, steps) = scope_with(json!({"t": 5000}), json!({"a": {"stdout": "x\n", "exit_code": 0}}));
        let scope = Scope { inputs: &inputs, steps: &steps };
        assert_eq!(expand_plain("{{ .Inputs.t }}/{{ steps.a.exit_code }}", &scope).unwrap(), "5000/0");
    }
}
