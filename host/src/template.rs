//! `{{ … }}` templates in YAML runbooks (SPEC §1.2): `{{ inputs.x }}`,
//! `{{ .Inputs.x }}` (seed 000's spelling), `{{ steps.a.stdout }}`,
//! `{{ steps.a.exit_code }}`, `{{ steps.a.result.field }}`.
//!
//! Values are inserted as data, never as code. In shell scripts a template
//! becomes a reference to a variable that holds the value, quoted for where
//! it stands (`"${RUNBOX_TEMPLATE_1}"` in a bare word, `${…}` inside double
//! quotes), so the value is never parsed as shell: `x; rm -rf /out` stays one
//! word. In JavaScript it becomes a `get(…)` call. In `args`, `env` and `cwd`
//! the value's text is used as it is. Text that is not one of these paths,
//! such as a Go template `{{.Names}}` in a `--format` flag, is left alone.

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
struct Found {
    start: usize,
    end: usize,
    /// `Ok(None)`: not ours, left as written.
    reference: Result<Option<Reference>, String>,
}

/// Finds the template at `at` (which starts with `{{`), if it closes.
fn found_at(text: &str, at: usize) -> Option<Found> {
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

fn line_of(text: &str, offset: usize) -> usize {
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
    fn text(&self, reference: &Reference, line: usize) -> Result<String, TemplateError> {
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
fn replace(
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

/// A shell script with its templates expanded, and the variables that hold
/// their values (to add to the step's environment).
#[derive(Debug, PartialEq, Eq)]
pub struct ShellExpansion {
    pub script: String,
    pub variables: Vec<(String, String)>,
}

/// Where a template stands in shell code: it decides how the variable
/// reference is quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sh {
    /// A bare word, or inside `$( … )` / backticks.
    Bare {
        parens: usize,
        backtick: bool,
    },
    DoubleQuoted,
    SingleQuoted,
    /// `$'…'` (ANSI-C quoting): like single quotes, but `\'` does not end it.
    AnsiC,
    /// `${ … }`.
    Parameter,
    /// `$(( … ))` or `(( … ))`.
    Arithmetic {
        parens: usize,
    },
}

/// Expands templates in a shell script without letting a value become code.
pub fn expand_shell(script: &str, scope: &Scope<'_>) -> Result<ShellExpansion, TemplateError> {
    let mut variables: Vec<(String, String)> = Vec::new();
    let mut out = String::with_capacity(script.len());
    let mut stack = vec![Sh::Bare { parens: 0, backtick: false }];
    // Here-documents whose bodies start at the next newline: (delimiter, quoted, strip tabs).
    let mut pending: Vec<(String, bool, bool)> = Vec::new();
    let bytes = script.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let top = *stack.last().unwrap_or(&Sh::Bare { parens: 0, backtick: false });
        let rest = &script[i..];
        if rest.starts_with("{{")
            && let Some(found) = found_at(script, i)
        {
            let text = &script[found.start..found.end];
            match found.reference {
                Ok(None) => out.push_str(text),
                Err(message) => return Err(TemplateError { line: line_of(script, i), message }),
                Ok(Some(reference)) => {
                    let value = scope.text(&reference, line_of(script, i))?;
                    if let Sh::Arithmetic { .. } = top
                        && !is_integer(&value)
                    {
                        return Err(TemplateError {
                            line: line_of(script, i),
                            message: format!(
                                "`{{{{ {} }}}}` stands in shell arithmetic, but its value is not an integer",
                                reference.written
                            ),
                        });
                    }
                    let name = hold(value, &mut variables);
                    match top {
                        Sh::Bare { .. } => out.push_str(&format!("\"${{{name}}}\"")),
                        Sh::SingleQuoted => out.push_str(&format!("'\"${{{name}}}\"'")),
                        Sh::AnsiC => out.push_str(&format!("'\"${{{name}}}\"$'")),
                        Sh::DoubleQuoted | Sh::Parameter | Sh::Arithmetic { .. } => {
                            out.push_str(&format!("${{{name}}}"))
                        }
                    }
                }
            }
            i = found.end;
            continue;
        }
        let c = bytes[i];
        // Outside single quotes a backslash escapes the next character, and
        // `$(`, `$((` and `${` open their contexts.
        if top == Sh::AnsiC {
            match c {
                b'\\' => {
                    push_escaped(script, &mut out, &mut i);
                    continue;
                }
                b'\'' => {
                    stack.pop();
                }
                _ => {}
            }
            let len = utf8_len(c);
            out.push_str(&script[i..i + len]);
            i += len;
            continue;
        }
        if top != Sh::SingleQuoted {
            if c == b'\\' {
                push_escaped(script, &mut out, &mut i);
                continue;
            }
            if c == b'$'
                && let Some(skip) = open_dollar(rest, &mut stack)
            {
                out.push_str(&rest[..skip]);
                i += skip;
                continue;
            }
        }
        match top {
            Sh::SingleQuoted => {
                if c == b'\'' {
                    stack.pop();
                }
            }
            // Handled above: nothing opens inside `$'…'`.
            Sh::AnsiC => {}
            Sh::DoubleQuoted => match c {
                b'"' => {
                    stack.pop();
                }
                b'`' => stack.push(Sh::Bare { parens: 0, backtick: true }),
                _ => {}
            },
            Sh::Parameter => match c {
                b'}' => {
                    stack.pop();
                }
                b'\'' => stack.push(Sh::SingleQuoted),
                b'"' => stack.push(Sh::DoubleQuoted),
                _ => {}
            },
            Sh::Arithmetic { parens } => match c {
                b'(' => set_top(&mut stack, Sh::Arithmetic { parens: parens + 1 }),
                b')' if parens > 0 => set_top(&mut stack, Sh::Arithmetic { parens: parens - 1 }),
                b')' if rest.starts_with("))") => {
                    stack.pop();
                    out.push_str("))");
                    i += 2;
                    continue;
                }
                _ => {}
            },
            Sh::Bare { parens, backtick } => match c {
                b'\'' => stack.push(Sh::SingleQuoted),
                b'"' => stack.push(Sh::DoubleQuoted),
                b'`' if backtick => {
                    stack.pop();
                }
                b'`' => stack.push(Sh::Bare { parens: 0, backtick: true }),
                b'#' if word_start(bytes, i) => {
                    // A comment: copied as written, templates and all.
                    let end = rest.find('\n').map_or(script.len(), |n| i + n);
                    out.push_str(&script[i..end]);
                    i = end;
                    continue;
                }
                b'(' if rest.starts_with("((") => {
                    stack.push(Sh::Arithmetic { parens: 0 });
                    out.push_str("((");
                    i += 2;
                    continue;
                }
                b'(' => set_top(&mut stack, Sh::Bare { parens: parens + 1, backtick }),
                b')' if parens > 0 => set_top(&mut stack, Sh::Bare { parens: parens - 1, backtick }),
                b')' if stack.len() > 1 && !backtick => {
                    stack.pop();
                }
                // A here-string: its word is an ordinary word, not a
                // here-document's delimiter.
                b'<' if rest.starts_with("<<<") => {
                    out.push_str("<<<");
                    i += 3;
                    continue;
                }
                b'<' if rest.starts_with("<<") => {
                    let (consumed, heredoc) = heredoc_operator(rest);
                    out.push_str(&rest[..consumed]);
                    i += consumed;
                    if let Some(h) = heredoc {
                        pending.push(h);
                    }
                    continue;
                }
                b'\n' if !pending.is_empty() => {
                    out.push('\n');
                    i += 1;
                    for (delimiter, quoted, strip_tabs) in std::mem::take(&mut pending) {
                        i = heredoc_body(script, i, &delimiter, quoted, strip_tabs, scope, &mut out, &mut variables)?;
                    }
                    continue;
                }
                _ => {}
            },
        }
        let len = utf8_len(c);
        out.push_str(&script[i..i + len]);
        i += len;
    }
    Ok(ShellExpansion { script: out, variables })
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Names a new variable holding `value`, for the step's environment.
fn hold(value: String, variables: &mut Vec<(String, String)>) -> String {
    let name = format!("RUNBOX_TEMPLATE_{}", variables.len() + 1);
    variables.push((name.clone(), value));
    name
}

/// Replaces the innermost context of a lexer's stack.
fn set_top<T>(stack: &mut [T], context: T) {
    if let Some(top) = stack.last_mut() {
        *top = context;
    }
}

/// Copies a backslash and the character it escapes.
fn push_escaped(script: &str, out: &mut String, i: &mut usize) {
    let next = script[*i + 1..].chars().next().map_or(0, char::len_utf8);
    out.push_str(&script[*i..*i + 1 + next]);
    *i += 1 + next;
}

/// At a `$`: enters `$((`, `$(`, `$'` or `${`, returning how much to copy.
fn open_dollar(rest: &str, stack: &mut Vec<Sh>) -> Option<usize> {
    if rest.starts_with("$((") {
        stack.push(Sh::Arithmetic { parens: 0 });
        Some(3)
    } else if rest.starts_with("$(") {
        stack.push(Sh::Bare { parens: 0, backtick: false });
        Some(2)
    } else if rest.starts_with("$'") {
        stack.push(Sh::AnsiC);
        Some(2)
    } else if rest.starts_with("${") && !rest.starts_with("${{") {
        stack.push(Sh::Parameter);
        Some(2)
    } else {
        None
    }
}

/// Whether `#` at `i` starts a comment: at the start of a word.
fn word_start(bytes: &[u8], i: usize) -> bool {
    i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')')
}

/// `<<EOF`, `<<-EOF`, `<< 'EOF'`, `<<"EOF"`, `<<\EOF`: how many bytes the
/// operator and its word take, and the here-document it opens.
fn heredoc_operator(rest: &str) -> (usize, Option<(String, bool, bool)>) {
    let mut i = 2;
    let bytes = rest.as_bytes();
    let strip_tabs = bytes.get(i) == Some(&b'-');
    if strip_tabs {
        i += 1;
    }
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let start = i;
    while let Some(&b) = bytes.get(i) {
        if matches!(b, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')') {
            break;
        }
        i += 1;
    }
    let word = &rest[start..i];
    if word.is_empty() {
        return (i, None);
    }
    let quoted = word.contains(['\'', '"', '\\']);
    let delimiter: String = word.chars().filter(|c| !matches!(c, '\'' | '"' | '\\')).collect();
    (i, Some((delimiter, quoted, strip_tabs)))
}

/// Copies a here-document's body from `i` through its delimiter line,
/// expanding templates; returns where the body ends.
#[allow(clippy::too_many_arguments)]
fn heredoc_body(
    script: &str,
    mut i: usize,
    delimiter: &str,
    quoted: bool,
    strip_tabs: bool,
    scope: &Scope<'_>,
    out: &mut String,
    variables: &mut Vec<(String, String)>,
) -> Result<usize, TemplateError> {
    let is_end = |line: &str| {
        let line = if strip_tabs { line.trim_start_matches('\t') } else { line };
        line == delimiter
    };
    while i < script.len() {
        let end = script[i..].find('\n').map_or(script.len(), |n| i + n + 1);
        let line = &script[i..end];
        if is_end(line.trim_end_matches('\n')) {
            out.push_str(line);
            return Ok(end);
        }
        let expanded = replace(line, |_, reference, _| {
            let at = line_of(script, i);
            let value = scope.text(reference, at)?;
            if quoted {
                // Nothing is expanded in a quoted here-document: the value goes
                // in as text, and must not end the document early.
                if value.lines().any(is_end) {
                    return Err(TemplateError {
                        line: at,
                        message: format!(
                            "the value of `{{{{ {} }}}}` has a line `{delimiter}`, which would end the here-document",
                            reference.written
                        ),
                    });
                }
                Ok(value)
            } else {
                Ok(format!("${{{}}}", hold(value, variables)))
            }
        })?;
        out.push_str(&expanded);
        i = end;
    }
    Ok(i)
}

fn is_integer(text: &str) -> bool {
    let digits = text.trim().strip_prefix('-').unwrap_or(text.trim());
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

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

    fn shell(script: &str, inputs: Value) -> Result<ShellExpansion, TemplateError> {
        let (inputs, steps) = scope_with(inputs, json!({}));
        expand_shell(script, &Scope { inputs: &inputs, steps: &steps })
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
    fn shell_values_are_quoted_for_where_they_stand() {
        let out = shell(
            "echo {{ inputs.x }} \"in {{ inputs.x }}\" 'raw {{inputs.x}}' $(( {{ inputs.n }} + 1 )) # {{ inputs.x }}",
            json!({"x": "a b; rm -rf /", "n": 4}),
        )
        .unwrap();
        assert_eq!(
            out.script,
            "echo \"${RUNBOX_TEMPLATE_1}\" \"in ${RUNBOX_TEMPLATE_2}\" 'raw '\"${RUNBOX_TEMPLATE_3}\"'' $(( ${RUNBOX_TEMPLATE_4} + 1 )) # {{ inputs.x }}"
        );
        assert_eq!(out.variables[0], ("RUNBOX_TEMPLATE_1".into(), "a b; rm -rf /".into()));
        assert_eq!(out.variables[3].1, "4");
    }

    #[test]
    fn arithmetic_refuses_values_that_are_not_integers() {
        let err = shell("echo $(( {{ inputs.n }} * 2 ))", json!({"n": "a[$(id)]"})).unwrap_err();
        assert!(err.message.contains("not an integer"), "{err:?}");
    }

    #[test]
    fn here_documents_expand_or_guard_their_delimiter() {
        let out = shell("cat <<EOF\nv={{ inputs.x }}\nEOF\necho {{ inputs.x }}", json!({"x": "$(id)"})).unwrap();
        assert_eq!(out.script, "cat <<EOF\nv=${RUNBOX_TEMPLATE_1}\nEOF\necho \"${RUNBOX_TEMPLATE_2}\"");
        let out = shell("cat <<'EOF'\nv={{ inputs.x }}\nEOF\n", json!({"x": "$(id)"})).unwrap();
        assert_eq!(out.script, "cat <<'EOF'\nv=$(id)\nEOF\n");
        let err = shell("cat <<'EOF'\n{{ inputs.x }}\nEOF\n", json!({"x": "a\nEOF\nrm -rf /"})).unwrap_err();
        assert!(err.message.contains("end the here-document"), "{err:?}");
    }

    #[test]
    fn a_here_string_is_not_a_here_document() {
        let script = "shout=$(tr a-z A-Z <<< \"hello\")\ncat > out/letter.txt <<'LETTER'\nDear {{ inputs.customer }},\nLETTER\necho {{ inputs.customer }}\n";
        let out = shell(script, json!({"customer": "Bob\nLETTER\necho pwned"}));
        assert!(out.unwrap_err().message.contains("would end the here-document"));
        let out = shell("x=$(cat <<< {{ inputs.v }})\ncat <<<'{{ inputs.v }}'\n", json!({"v": "a b"})).unwrap();
        assert_eq!(out.script, "x=$(cat <<< \"${RUNBOX_TEMPLATE_1}\")\ncat <<<''\"${RUNBOX_TEMPLATE_2}\"''\n");
    }

    #[test]
    fn ansi_c_quotes_keep_their_escaped_quotes() {
        // Read as single quotes, `\'` ended the string and `<<\'EOF\'` became
        // a quoted here-document that took the next line's value raw.
        let out = shell("echo $'it\\'s <<\\'EOF\\''\necho {{ inputs.v }} $'{{ inputs.v }}'\n", json!({"v": "$(id)"}))
            .unwrap();
        assert_eq!(
            out.script,
            "echo $'it\\'s <<\\'EOF\\''\necho \"${RUNBOX_TEMPLATE_1}\" $''\"${RUNBOX_TEMPLATE_2}\"$''\n"
        );
    }

    #[test]
    fn nested_substitutions_and_parameters_keep_their_context() {
        let out = shell("x=\"$(echo {{ inputs.x }})\"; y=${z:-{{ inputs.x }}}", json!({"x": "v"})).unwrap();
        assert_eq!(out.script, "x=\"$(echo \"${RUNBOX_TEMPLATE_1}\")\"; y=${z:-${RUNBOX_TEMPLATE_2}}");
    }

    #[test]
    fn go_templates_and_unknown_values_are_told_apart() {
        let out = shell("docker ps --format '{{.Names}}'", json!({})).unwrap();
        assert_eq!(out.script, "docker ps --format '{{.Names}}'");
        let err = shell("echo\necho {{ inputs.missing }}", json!({})).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("no input is named `missing`"), "{err:?}");
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

    #[test]
    fn plain_text_takes_values_as_they_are() {
        let (inputs, steps) = scope_with(json!({"t": 5000}), json!({"a": {"stdout": "x\n", "exit_code": 0}}));
        let scope = Scope { inputs: &inputs, steps: &steps };
        assert_eq!(expand_plain("{{ .Inputs.t }}/{{ steps.a.exit_code }}", &scope).unwrap(), "5000/0");
    }
}
