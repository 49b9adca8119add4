//! Templates in shell scripts: each value is held in a variable and the
//! template becomes a reference to it, quoted for the context it stands in
//! (a bare word, double or single quotes, `$'…'`, `${…}`, arithmetic, a
//! here-document), so no value is ever parsed as shell.

use super::lex::{push_escaped, set_top, utf8_len};
use super::reference::{Scope, TemplateError, found_at, line_of, replace};

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

/// Names a new variable holding `value`, for the step's environment.
fn hold(value: String, variables: &mut Vec<(String, String)>) -> String {
    let name = format!("RUNBOX_TEMPLATE_{}", variables.len() + 1);
    variables.push((name.clone(), value));
    name
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

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    fn scope_with(inputs: Value, steps: Value) -> (Map<String, Value>, Map<String, Value>) {
        (inputs.as_object().unwrap().clone(), steps.as_object().unwrap().clone())
    }

    fn shell(script: &str, inputs: Value) -> Result<ShellExpansion, TemplateError> {
        let (inputs, steps) = scope_with(inputs, json!({}));
        expand_shell(script, &Scope { inputs: &inputs, steps: &steps })
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
}
