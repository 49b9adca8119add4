//! How runbox shows text a runbook or a guest chose: control characters
//! escaped, long text cut with a marker saying what was left out, and the
//! sha256 that identifies a script; and how it reads a file an editor
//! saved (a leading byte-order mark is not text).

use sha2::{Digest, Sha256};

/// `text` without the UTF-8 byte-order mark some editors put first.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The one line that marks text runbox cut, wherever it cut it (a
/// stream past its limit, the run's output budget, History, an error
/// message): `[runbox: cut WHAT: WHY]`.
pub fn cut_marker(what: &str, why: &str) -> String {
    format!("[runbox: cut {what}: {why}]\n")
}

/// Cuts `text` to at most `room` bytes (at a character boundary), ending it
/// with a marker line that says why; false if it fitted.
pub fn cut(text: &mut String, room: usize, why: &str) -> bool {
    if text.len() <= room {
        return false;
    }
    let mut end = room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dropped = text.len() - end;
    text.truncate(end);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&cut_marker(&format!("{dropped} bytes"), why));
    true
}

/// The start and end of `text` within about `limit` bytes, with a marker
/// between them saying how much was left out: for History, which lives in
/// the runbook file.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let boundary = |mut at: usize| {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let head = boundary(limit / 4);
    let tail = boundary(text.len() - (limit - limit / 4));
    let tail = if tail < head { head } else { tail };
    let mut out = text[..head].to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let why = "History keeps the start and the end; the JSON record keeps more";
    out.push_str(&cut_marker(&format!("{} bytes", tail - head), why));
    out.push_str(&text[tail..]);
    out
}

/// `text` with control characters shown as escapes (`\u{1b}`), tabs kept:
/// text a runbook or a step chose must not move the cursor, erase lines or
/// retitle the terminal it is shown on.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// [`visible`], line by line: newlines are kept.
pub fn visible_lines(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

/// The lowercase hex sha256 of `text`, as audits show it and registry.yaml pins it.
pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The candidate nearest to a misspelt `word` (`inline_scrpit` →
/// `inline_script`), if one is near enough to be what was meant.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(&word.to_lowercase(), &candidate.to_lowercase()), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// A duration of `ms` milliseconds as a person reads it at any scale:
/// `3.1ms`, `1.20s`, `2m03s`.
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        let seconds = (ms / 1000.0) as u64;
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_every_scale() {
        assert_eq!(duration(3.06), "3.1ms");
        assert_eq!(duration(1204.0), "1.20s");
        assert_eq!(duration(123_000.0), "2m03s");
    }

    #[test]
    fn cuts_and_excerpts_keep_whole_characters_and_say_what_is_missing() {
        let mut text = "aé".repeat(10);
        assert!(cut(&mut text, 4, "budget"));
        assert_eq!(text, "aéa\n[runbox: cut 26 bytes: budget]\n");
        let long = format!("{}{}", "h".repeat(100), "t".repeat(100));
        let short = excerpt(&long, 40);
        assert_eq!(
            short,
            format!(
                "{}\n[runbox: cut 160 bytes: History keeps the start and the end; the JSON record keeps more]\n{}",
                "h".repeat(10),
                "t".repeat(30)
            )
        );
        assert_eq!(excerpt("short", 40), "short");
    }
}
