//! Templates in JavaScript: each becomes a `get("{{…}}")` call (or a
//! concatenation of one inside a string literal), so a value is never
//! source text.

use serde_json::{Map, Value};

use super::lex::{push_escaped, set_top, utf8_len};
use super::reference::{Scope, TemplateError, found_at, line_of};

/// A JavaScript step with its templates turned into `get(…)` calls, and the
/// variables those calls read.
#[derive(Debug, PartialEq)]
pub struct JsExpansion {
    pub source: String,
    pub variables: Map<String, Value>,
}

/// Where a template stands in JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Js {
    /// Code; `braces` counts `{` opened inside a template literal's `${`.
    Code {
        braces: usize,
        in_template: bool,
    },
    /// A string literal opened by the quote `q` at `start` of the output;
    /// `spliced` once a template has been concatenated into it.
    Quoted {
        q: u8,
        start: usize,
        spliced: bool,
    },
    TemplateLiteral,
}

/// Replaces templates in JavaScript with `get("{{inputs.x}}")` (the value)
/// in code, and with concatenations of it inside strings; the value itself
/// never becomes source text.
pub fn expand_js(source: &str, scope: &Scope<'_>) -> Result<JsExpansion, TemplateError> {
    let mut variables = Map::new();
    let mut out = String::with_capacity(source.len());
    let mut stack = vec![Js::Code { braces: 0, in_template: false }];
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let top = *stack.last().unwrap_or(&Js::Code { braces: 0, in_template: false });
        let rest = &source[i..];
        if rest.starts_with("{{")
            && let Some(found) = found_at(source, i)
        {
            match found.reference {
                Ok(None) => out.push_str(&source[found.start..found.end]),
                Err(message) => return Err(TemplateError { line: line_of(source, i), message }),
                Ok(Some(reference)) => {
                    let value = scope
                        .value(&reference)
                        .map_err(|message| TemplateError { line: line_of(source, i), message })?;
                    let key = format!("{{{{{}}}}}", reference.key());
                    let call = format!("get({})", Value::String(key.clone()));
                    variables.insert(key, value);
                    match top {
                        Js::Code { .. } => out.push_str(&call),
                        Js::Quoted { q, start, .. } => {
                            // The literal becomes `("a" + String(get(…)) + "b")`:
                            // parenthesised, so `.trim()` after it applies to all of it.
                            set_top(&mut stack, Js::Quoted { q, start, spliced: true });
                            let q = q as char;
                            out.push_str(&format!("{q} + String({call}) + {q}"));
                        }
                        Js::TemplateLiteral => out.push_str(&format!("${{{call}}}")),
                    }
                }
            }
            i = found.end;
            continue;
        }
        let c = bytes[i];
        match top {
            Js::Quoted { q, start, spliced } => match c {
                b'\\' => {
                    push_escaped(source, &mut out, &mut i);
                    continue;
                }
                _ if c == q || c == b'\n' => {
                    stack.pop();
                    if spliced && c == q {
                        out.insert(start, '(');
                        out.push(q as char);
                        out.push(')');
                        i += 1;
                        continue;
                    }
                }
                _ => {}
            },
            Js::TemplateLiteral => match c {
                b'\\' => {
                    push_escaped(source, &mut out, &mut i);
                    continue;
                }
                b'`' => {
                    stack.pop();
                }
                b'$' if rest.starts_with("${") => {
                    stack.push(Js::Code { braces: 0, in_template: true });
                    out.push_str("${");
                    i += 2;
                    continue;
                }
                _ => {}
            },
            Js::Code { braces, in_template } => match c {
                b'\'' | b'"' => stack.push(Js::Quoted { q: c, start: out.len(), spliced: false }),
                b'`' => stack.push(Js::TemplateLiteral),
                b'{' => set_top(&mut stack, Js::Code { braces: braces + 1, in_template }),
                b'}' if braces > 0 => set_top(&mut stack, Js::Code { braces: braces - 1, in_template }),
                b'}' if in_template => {
                    stack.pop();
                }
                b'/' if rest.starts_with("//") => {
                    let end = rest.find('\n').map_or(source.len(), |n| i + n);
                    out.push_str(&source[i..end]);
                    i = end;
                    continue;
                }
                b'/' if rest.starts_with("/*") => {
                    let end = rest[2..].find("*/").map_or(source.len(), |n| i + 2 + n + 2);
                    out.push_str(&source[i..end]);
                    i = end;
                    continue;
                }
                b'/' if regex_may_start(&out) => {
                    let end = regex_end(source, i);
                    out.push_str(&source[i..end]);
                    i = end;
                    continue;
                }
                _ => {}
            },
        }
        let len = utf8_len(c);
        out.push_str(&source[i..i + len]);
        i += len;
    }
    Ok(JsExpansion { source: out, variables })
}

/// Whether a `/` after `before` starts a regular expression rather than a
/// division: after an operator, an opening bracket, or a keyword.
fn regex_may_start(before: &str) -> bool {
    let trimmed = before.trim_end();
    match trimmed.chars().last() {
        None => true,
        Some(c) if "(,=:[!&|?{};+-*%<>~^".contains(c) => true,
        Some(c) if c.is_alphanumeric() || c == '_' || c == '$' => {
            let word: String =
                trimmed.chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$').collect();
            let word: String = word.chars().rev().collect();
            matches!(
                word.as_str(),
                "return"
                    | "typeof"
                    | "case"
                    | "do"
                    | "else"
                    | "in"
                    | "of"
                    | "new"
                    | "delete"
                    | "void"
                    | "throw"
                    | "yield"
                    | "await"
            )
        }
        _ => false,
    }
}

/// The end of a regular expression literal starting at `start` (its flags
/// are copied as ordinary code).
fn regex_end(source: &str, start: usize) -> usize {
    let bytes = source.as_bytes();
    let mut i = start + 1;
    let mut class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return i + 1,
            b'\n' => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scope_with(inputs: Value, steps: Value) -> (Map<String, Value>, Map<String, Value>) {
        (inputs.as_object().unwrap().clone(), steps.as_object().unwrap().clone())
    }

    #[test]
    fn javascript_reads_values_through_get() {
        let (inputs, steps) = scope_with(json!({"x": "it's"}), json!({"a": {"result": {"n": 3}}}));
        let scope = Scope { inputs: &inputs, steps: &steps };
        let out = expand_js(
            "const n = {{ steps.a.result.n }};\nconst s = 'say {{ inputs.x }}!';\nconst t = `t ${1} {{ inputs.x }}`; // {{ inputs.x }}\nconst r = /'/.test('{{ inputs.x }}');",
            &scope,
        )
        .unwrap();
        assert_eq!(
            out.source,
            "const n = get(\"{{steps.a.result.n}}\");\nconst s = ('say ' + String(get(\"{{inputs.x}}\")) + '!');\nconst t = `t ${1} ${get(\"{{inputs.x}}\")}`; // {{ inputs.x }}\nconst r = /'/.test(('' + String(get(\"{{inputs.x}}\")) + ''));"
        );
        assert_eq!(out.variables["{{steps.a.result.n}}"], json!(3));
        assert_eq!(out.variables["{{inputs.x}}"], json!("it's"));
    }
}
