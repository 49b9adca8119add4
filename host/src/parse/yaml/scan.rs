//! What the YAML parser's errors mean for the person who wrote the file:
//! the problem at its line and column, and — where the parser stopped at a
//! known mistake (indentation, a tab, an unquoted `: `, an unclosed quote) —
//! what to do about it.

use crate::error::Problem;

use super::keys::MAX_DEPTH;

pub(super) fn load_problem(error: &marked_yaml::LoadError, lines: &[&str]) -> Problem {
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
pub(super) fn scan_help(info: &str, line: usize, column: usize, lines: &[&str]) -> Option<String> {
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
