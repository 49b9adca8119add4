//! `grep -P`'s patterns: PCRE2, the library GNU grep links for them, so
//! look-around, back-references, possessive quantifiers, atomic groups,
//! `\K`, conditionals, recursion and `\Q…\E` mean what they mean there.
//! PCRE2 runs interpreted (WebAssembly has no JIT); its match limit and
//! the step's fuel bound a pattern that backtracks without end.
//!
//! As GNU grep 3.8 in a UTF-8 locale: UTF mode without Unicode properties
//! for `\w` and `\d` (`\p{…}` names them), one line at a time, without its
//! newline, so `^`, `$`, `\A` and `\z` anchor at the line's ends.

use pcre2::bytes::{Regex, RegexBuilder};

/// A compiled `-P` pattern: in UTF mode, and as bytes for a line that is
/// not UTF-8 (GNU grep's PCRE2 matches such a line around its bad bytes).
pub(crate) struct Perl {
    re: Regex,
    bytes: Regex,
}

/// PCRE2's codes for a subject that is not UTF-8 (`PCRE2_ERROR_UTF8_ERR1`
/// to `ERR21`).
const NOT_UTF8: std::ops::RangeInclusive<i32> = -23..=-3;

impl Perl {
    /// `pattern` with grep's `-i`, `-w` and `-x`; the error as GNU words it
    /// (PCRE2's message, without the crate's prefix).
    pub(crate) fn new(pattern: &str, caseless: bool, word: bool, line: bool) -> Result<Perl, String> {
        let wrapped = if line {
            format!("^(?:{pattern})$")
        } else if word {
            format!(r"(?<!\w)(?:{pattern})(?!\w)")
        } else {
            pattern.to_string()
        };
        let build = |utf: bool| {
            RegexBuilder::new()
                .caseless(caseless)
                .utf(utf)
                .jit_if_available(false)
                .build(&wrapped)
                .map_err(|e| e.to_string().rsplit(": ").next().unwrap_or("invalid pattern").to_string())
        };
        let re = build(true)?;
        // A pattern only UTF mode reads (`\x{3b1}`) matches no byte line.
        let bytes = build(false).unwrap_or_else(|_| re.clone());
        Ok(Perl { re, bytes })
    }

    /// Whether `line` (without its newline) matches.
    pub(crate) fn is_match(&self, line: &[u8]) -> Result<bool, String> {
        match self.re.is_match(line) {
            Ok(found) => Ok(found),
            Err(e) if NOT_UTF8.contains(&e.code()) => self.bytes.is_match(line).map_err(|e| failure(&e)),
            Err(e) => Err(failure(&e)),
        }
    }

    /// The non-empty matches in `line`, as `(start, end)`, for `-o`. A
    /// `\K` moves a match's start past text it matched.
    pub(crate) fn matches(&self, line: &[u8]) -> Result<Vec<(usize, usize)>, String> {
        let re = if std::str::from_utf8(line).is_ok() { &self.re } else { &self.bytes };
        let mut found = Vec::new();
        for m in re.find_iter(line) {
            let m = m.map_err(|e| failure(&e))?;
            if m.start() < m.end() {
                found.push((m.start(), m.end()));
            }
        }
        Ok(found)
    }
}

/// A search PCRE2 gave up on, as GNU grep reports it.
fn failure(e: &pcre2::Error) -> String {
    match e.code() {
        // PCRE2_ERROR_MATCHLIMIT, DEPTHLIMIT, HEAPLIMIT
        -47 | -53 | -63 => "exceeded PCRE's backtracking limit".to_string(),
        _ => e.to_string().rsplit(": ").next().unwrap_or("PCRE2 failed").to_string(),
    }
}
