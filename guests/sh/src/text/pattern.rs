//! POSIX regular expressions, basic (BRE) and extended (ERE) with GNU's
//! extensions, translated to the `regex` crate's syntax: GNU grep's and
//! sed's patterns, matched by a linear-time engine.

use std::fmt::Write as _;

/// Which POSIX syntax a pattern is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Basic,
    Extended,
    /// `sed -E`'s: extended, where a `{` must begin an interval (glibc's
    /// rule; GNU grep's takes a `{` that does not as a literal).
    SedExtended,
    /// gawk's: extended, with `\y` for a word boundary, a backslash that
    /// quotes inside a bracket expression (`[a\-z]`), and no back-references.
    Awk,
}

/// Why a pattern cannot be translated: the message GNU grep gives, or
/// what runbox's engine lacks.
pub(crate) type Error = String;

/// glibc's white space in a UTF-8 locale (no-break spaces are not).
const SPACE: &str = r"\t\n\x0B\x0C\r \x{1680}\x{2000}-\x{2006}\x{2008}-\x{200A}\x{2028}\x{2029}\x{205F}\x{3000}";

/// The members of a POSIX class as glibc's UTF-8 locales have them, where
/// they reach past ASCII (the `regex` crate's `[:alpha:]` and friends are
/// ASCII's); `None` for the classes left as ASCII's.
fn unicode_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "space" => SPACE,
        "blank" => r"\t \x{1680}\x{2000}-\x{2006}\x{2008}-\x{200A}\x{205F}\x{3000}",
        "alpha" => r"[[\p{Alphabetic}\p{Nd}]--[0-9]]",
        "alnum" => r"\p{Alphabetic}\p{Nd}",
        "upper" => r"\p{Uppercase}",
        "lower" => r"\p{Lowercase}",
        _ => return None,
    })
}

/// A character written literally into the `regex` syntax.
fn literal(out: &mut String, c: char) {
    if regex_syntax::is_meta_character(c) {
        out.push('\\');
    }
    out.push(c);
}

/// `{m,n}` at `chars[at..]` (after the `{`), as (translated, length with
/// the closing brace or `\}`), when it is a well-formed interval.
fn interval(chars: &[char], at: usize, basic: bool) -> Option<(String, usize)> {
    let mut end = at;
    while end < chars.len() && (chars[end].is_ascii_digit() || chars[end] == ',') {
        end += 1;
    }
    let body: String = chars[at..end].iter().collect();
    let close = if basic {
        (chars.get(end) == Some(&'\\') && chars.get(end + 1) == Some(&'}')).then_some(2)
    } else {
        (chars.get(end) == Some(&'}')).then_some(1)
    }?;
    let (lo, hi) = match body.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body.as_str(), None),
    };
    if body.is_empty() || body.matches(',').count() > 1 {
        return None;
    }
    let lo = if lo.is_empty() { "0" } else { lo };
    let text = match hi {
        None => format!("{{{lo}}}"),
        Some("") => format!("{{{lo},}}"),
        Some(hi) => format!("{{{lo},{hi}}}"),
    };
    Some((text, end - at + close))
}

/// A bracket expression at `chars[at..]` (after the `[`): its translation
/// and the index after its `]`.
fn bracket(chars: &[char], mut at: usize, quotes: bool) -> Result<(String, usize), Error> {
    let mut out = String::from("[");
    if chars.get(at) == Some(&'^') {
        out.push('^');
        at += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(at) else {
            return Err("Unmatched [, [^, [:, [., or [=".into());
        };
        if c == ']' && !first {
            out.push(']');
            return Ok((out, at + 1));
        }
        first = false;
        if quotes
            && c == '\\'
            && let Some(&quoted) = chars.get(at + 1)
        {
            literal(&mut out, quoted);
            at += 2;
            continue;
        }
        if c == '[' && matches!(chars.get(at + 1), Some(':' | '=' | '.')) {
            let kind = chars[at + 1];
            let rest: String = chars[at + 2..].iter().collect();
            let Some(end) = rest.find(&format!("{kind}]")) else {
                return Err("Unmatched [, [^, [:, [., or [=".into());
            };
            let name: String = rest[..end].to_string();
            match kind {
                ':' => {
                    const CLASSES: [&str; 12] = [
                        "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
                        "upper", "xdigit",
                    ];
                    if !CLASSES.contains(&name.as_str()) {
                        return Err("Invalid character class name".into());
                    }
                    match unicode_class(&name) {
                        Some(members) => out.push_str(members),
                        None => {
                            let _ = write!(out, "[:{name}:]");
                        }
                    }
                }
                _ => name.chars().for_each(|c| literal(&mut out, c)),
            }
            at += 2 + name.chars().count() + 2;
            continue;
        }
        // A range's `-` between two characters; elsewhere a literal.
        if c == '-' && at > 0 && chars.get(at + 1).is_some_and(|&n| n != ']') && !out.ends_with('[') {
            out.push('-');
        } else {
            literal(&mut out, c);
        }
        at += 1;
    }
}

/// Whether a BRE's `$` followed by `rest` is an anchor: at the end of the
/// pattern, of a group or of an alternative.
fn ends(rest: &[char]) -> bool {
    rest.is_empty() || rest.starts_with(&['\\', ')']) || rest.starts_with(&['\\', '|'])
}

/// Translates one pattern (one line of grep's patterns). What GNU warns of
/// (a repetition with nothing to repeat, which it ignores) is added to
/// `warnings`.
pub(crate) fn translate(pattern: &str, syntax: Syntax, warnings: &mut Vec<String>) -> Result<String, Error> {
    let basic = syntax == Syntax::Basic;
    let awk = syntax == Syntax::Awk;
    let strict_braces = syntax == Syntax::SedExtended;
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    // Where a `*` (or, in ERE, any repetition) is a literal: at the start
    // of the pattern, of a group or of an alternative.
    let mut at_start = true;
    let mut open_groups = 0usize;
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        let starts = at_start;
        at_start = false;
        match c {
            '\\' => {
                let Some(e) = next else {
                    return Err("Trailing backslash".into());
                };
                at += 2;
                match e {
                    '(' if basic => {
                        out.push('(');
                        open_groups += 1;
                        at_start = true;
                    }
                    ')' if basic => {
                        if open_groups == 0 {
                            return Err("Unmatched ) or \\)".into());
                        }
                        open_groups -= 1;
                        out.push(')');
                    }
                    '|' if basic => {
                        out.push('|');
                        at_start = true;
                    }
                    '{' if basic => match interval(&chars, at, true) {
                        Some(_) if starts => literal(&mut out, '{'),
                        Some((text, len)) => {
                            out.push_str(&text);
                            at += len;
                        }
                        None => return Err("Unmatched \\{".into()),
                    },
                    '+' | '?' if basic => {
                        if starts {
                            literal(&mut out, e)
                        } else {
                            out.push(e)
                        }
                    }
                    '<' => out.push_str(r"\b{start}"),
                    '>' => out.push_str(r"\b{end}"),
                    's' => {
                        let _ = write!(out, "[{SPACE}]");
                    }
                    'S' => {
                        let _ = write!(out, "[^{SPACE}]");
                    }
                    'b' | 'B' | 'w' | 'W' => {
                        out.push('\\');
                        out.push(e);
                    }
                    'y' if awk => out.push_str(r"\b"),
                    '1'..='9' if awk => literal(&mut out, e),
                    '`' => out.push_str(r"\A"),
                    '\'' => out.push_str(r"\z"),
                    '1'..='9' => {
                        return Err(format!(
                            "back-references (\\{e}) are not supported by runbox's grep and sed; \
                             run the step natively (--allow-native) for them"
                        ));
                    }
                    'n' => out.push_str(r"\n"),
                    'e' => out.push_str(r"\x1B"),
                    't' => out.push_str(r"\t"),
                    other => literal(&mut out, other),
                }
                continue;
            }
            '[' => {
                let (class, end) = bracket(&chars, at + 1, awk)?;
                out.push_str(&class);
                at = end;
                continue;
            }
            '.' => out.push('.'),
            '*' | '+' | '?' if starts && !basic => {
                warnings.push(format!("{c} at start of expression"));
                at_start = true;
            }
            '*' if starts => literal(&mut out, '*'),
            '*' => out.push('*'),
            '^' if !basic || starts => {
                out.push('^');
                at_start = true;
            }
            '$' if !basic || ends(&chars[at + 1..]) => out.push('$'),
            '(' if !basic => {
                out.push('(');
                open_groups += 1;
                at_start = true;
            }
            ')' if !basic && open_groups > 0 => {
                open_groups -= 1;
                out.push(')');
            }
            '|' if !basic => {
                out.push('|');
                at_start = true;
            }
            '+' | '?' if !basic && !starts => out.push(c),
            '{' if !basic && !starts => match interval(&chars, at + 1, false) {
                Some((text, len)) => {
                    out.push_str(&text);
                    at += 1 + len;
                    continue;
                }
                None if strict_braces => {
                    let closed = chars[at..].contains(&'}');
                    return Err(if closed { "Invalid content of \\{\\}" } else { "Unmatched \\{" }.into());
                }
                None => literal(&mut out, '{'),
            },
            other => literal(&mut out, other),
        }
        at += 1;
    }
    if open_groups > 0 {
        return Err("Unmatched ( or \\(".into());
    }
    Ok(out)
}
