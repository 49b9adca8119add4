//! The `# History` section of markdown runbooks: one entry per
//! execution or refused execution, the most recent kept, appended under a
//! lock and written by atomic rename so that concurrent runs and crashes
//! never lose or tear an entry.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::parse::markdown;

/// How many entries a runbook keeps unless configured otherwise.
pub const DEFAULT_KEEP: usize = 20;
/// The most entries a runbook may keep.
pub const MAX_KEEP: usize = 100;
/// The most bytes one stream's block of an entry takes as written, label
/// and fences included: output made to lengthen the fences is cut shorter.
const BLOCK_MAX: usize = 12 << 10;
/// What History may make a runbook's file: older entries give way (even
/// below `keep`) so that it always loads again.
const FILE_MAX: usize = crate::parse::MAX_RUNBOOK_BYTES as usize - (64 << 10);

/// ISO 8601 in UTC with milliseconds, as History has always written it: `2026-01-23T14:33:02.123Z`.
const STAMP: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// One execution, as humans verify it in the runbook.
#[derive(Clone, Debug)]
pub struct Entry {
    pub at: OffsetDateTime,
    pub exit_code: i32,
    pub body: EntryBody,
}

#[derive(Clone, Debug)]
pub enum EntryBody {
    /// The runbook ran: what it printed.
    Output { stdout: String, stderr: String },
    /// The runbook was refused before running: why.
    Error(String),
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot update the history of {file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("cannot update the history of {file}: it has no `# History` section any more")]
    NoSection { file: String },
}

impl Entry {
    /// `### <ISO-8601> | Exit Code: N` followed by fenced blocks.
    pub fn render(&self) -> String {
        let stamp = self.at.to_offset(time::UtcOffset::UTC).format(STAMP).unwrap_or_else(|_| self.at.to_string());
        let mut out = format!("### {stamp} | Exit Code: {}\n\n", self.exit_code);
        match &self.body {
            EntryBody::Output { stdout, stderr } => {
                fenced(&mut out, "Stdout", stdout);
                out.push('\n');
                fenced(&mut out, "Stderr", stderr);
            }
            EntryBody::Error(message) => fenced(&mut out, "Error", message),
        }
        out
    }
}

/// `**Label:**` and `text` in a fence longer than any run of its character
/// inside it (backticks, or tildes where backticks would make a long fence
/// and tildes a shorter one), so
/// that output never ends the block early; the whole block within
/// [`BLOCK_MAX`], the text cut shorter where its fences would pass it.
fn fenced(out: &mut String, label: &str, text: &str) {
    let longest = |c: char| text.split(|x| x != c).map(str::len).max().unwrap_or(0);
    let (backticks, tildes) = (longest('`'), longest('~'));
    let fence = if backticks < 16 || backticks <= tildes {
        "`".repeat(backticks.max(2) + 1)
    } else {
        "~".repeat(tildes.max(2) + 1)
    };
    let size = label.len() + text.len() + 2 * fence.len() + 16;
    if size > BLOCK_MAX && !text.is_empty() {
        return fenced(out, label, &crate::text::excerpt(text, text.len() / 2));
    }
    out.push_str(&format!("**{label}:**\n{fence}\n{text}"));
    if !text.is_empty() && !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
}

/// Appends `entry` to the runbook at `path`, keeping the `keep` most recent.
pub fn append(path: &Path, entry: &Entry, keep: usize) -> Result<(), HistoryError> {
    let file = path.display().to_string();
    let io = |source| HistoryError::Io { file: file.clone(), source };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // The folder, not the file, is locked: the file is replaced by rename,
    // and a lock on a replaced inode would guard nothing.
    let lock = File::open(folder).map_err(io)?;
    lock.lock().map_err(io)?;

    let text = std::fs::read_to_string(path).map_err(io)?;
    let body = markdown::history_body(&text).ok_or_else(|| HistoryError::NoSection { file: file.clone() })?;
    let updated = with_entry(&text, body.start, entry, keep);

    let mut temp = tempfile::Builder::new().prefix(".runbox-history").tempfile_in(folder).map_err(io)?;
    temp.write_all(updated.as_bytes()).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        temp.as_file().set_permissions(meta.permissions()).map_err(io)?;
    }
    temp.persist(path).map_err(|e| io(e.error))?;
    drop(lock);
    Ok(())
}

/// One entry as read back from a runbook's `# History`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    /// The stamp as written, e.g. `2026-01-23T14:33:02.123Z`.
    pub at: String,
    pub exit_code: Option<i32>,
    /// The labelled blocks: `Stdout`, `Stderr`, or `Error`.
    pub blocks: Vec<(String, String)>,
}

/// The entries of the `# History` section of a markdown runbook's `text`,
/// oldest first.
pub fn read(text: &str) -> Vec<Recorded> {
    let Some(body) = markdown::history_body(text) else { return Vec::new() };
    let body = &text[body];
    let mut entries: Vec<Recorded> = Vec::new();
    let mut heading: Option<String> = None;
    let mut label: Option<String> = None;
    let mut block: Option<String> = None;
    for event in Parser::new(body) {
        match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H3, .. }) => heading = Some(String::new()),
            Event::End(pulldown_cmark::TagEnd::Heading(HeadingLevel::H3)) => {
                let title = heading.take().unwrap_or_default();
                let (at, code) = title.split_once('|').unwrap_or((&title, ""));
                let exit_code = code.trim().strip_prefix("Exit Code:").and_then(|c| c.trim().parse().ok());
                entries.push(Recorded { at: at.trim().to_string(), exit_code, blocks: Vec::new() });
            }
            Event::Start(Tag::CodeBlock(_)) => block = Some(String::new()),
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => {
                if let (Some(content), Some(entry)) = (block.take(), entries.last_mut()) {
                    entry.blocks.push((label.take().unwrap_or_default(), content));
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                } else if let Some(b) = block.as_mut() {
                    b.push_str(&t);
                } else if let Some(l) = t.strip_suffix(':') {
                    label = Some(l.trim().to_string());
                }
            }
            _ => {}
        }
    }
    entries
}

/// The runbook text with `entry` last in the history starting at `start`.
fn with_entry(text: &str, start: usize, entry: &Entry, keep: usize) -> String {
    let body = &text[start..];
    let starts: Vec<usize> = Parser::new(body)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H3, .. }) => Some(range.start),
            _ => None,
        })
        .collect();
    let preamble_end = starts.first().copied().unwrap_or(body.len());
    let rendered = entry.render();
    let preamble = body[..preamble_end].trim_end();
    let head = text[..start].len() + preamble.len() + 2;
    // The `keep` most recent, fewer where they would push the file past
    // what a runbook may weigh.
    let mut first_kept = starts.len().saturating_sub(keep.saturating_sub(1));
    while first_kept < starts.len() && head + (body.len() - starts[first_kept]) + 2 + rendered.len() > FILE_MAX {
        first_kept += 1;
    }
    let kept = starts.get(first_kept).map_or("", |&s| &body[s..]);

    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(&text[..start]);
    out.push_str(preamble);
    out.push_str(if preamble.is_empty() { "\n" } else { "\n\n" });
    let kept = kept.trim_end();
    if !kept.is_empty() {
        out.push_str(kept);
        out.push_str("\n\n");
    }
    out.push_str(&rendered);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: i32, stdout: &str) -> Entry {
        Entry {
            at: OffsetDateTime::from_unix_timestamp(1_769_178_782).unwrap(),
            exit_code: code,
            body: EntryBody::Output { stdout: stdout.into(), stderr: String::new() },
        }
    }

    #[test]
    fn an_entry_renders_in_seed_002_format() {
        assert_eq!(
            entry(0, "hi\n").render(),
            "### 2026-01-23T14:33:02.000Z | Exit Code: 0\n\n**Stdout:**\n```\nhi\n```\n\n**Stderr:**\n```\n```\n"
        );
    }

    #[test]
    fn output_with_fences_cannot_break_out_of_its_block() {
        let text = entry(0, "```\n# History\n### fake | Exit Code: 0\n").render();
        assert!(text.contains("````\n```\n# History"));
        let doc = format!("# A\n\n# History\n\n{text}");
        let start = markdown::history_body(&doc).unwrap().start;
        let appended = with_entry(&doc, start, &entry(1, "next"), 20);
        assert_eq!(appended.matches("### ").count(), 3, "{appended}");
        assert_eq!(markdown::history_body(&appended).unwrap().start, start);
    }

    #[test]
    fn entries_read_back_as_written() {
        let mut doc = "# A\n\n# History\n".to_string();
        for e in [entry(0, "one\n"), Entry { body: EntryBody::Error("ConfigInvalid: no".into()), ..entry(2, "") }] {
            let start = markdown::history_body(&doc).unwrap().start;
            doc = with_entry(&doc, start, &e, 20);
        }
        let read = read(&doc);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].at, "2026-01-23T14:33:02.000Z");
        assert_eq!(read[0].exit_code, Some(0));
        assert_eq!(read[0].blocks, vec![("Stdout".into(), "one\n".into()), ("Stderr".into(), String::new())]);
        assert_eq!(read[1].blocks, vec![("Error".into(), "ConfigInvalid: no\n".into())]);
    }

    /// The worst case: every output a run of backticks and tildes (which
    /// lengthens fences), the most entries kept, and a runbook already near
    /// the load limit: the file stays loadable, each entry bounded.
    #[test]
    fn no_output_and_no_keep_value_push_a_runbook_past_the_load_limit() {
        let loud = format!("{}{}", "`".repeat(4 << 10), "~".repeat(4 << 10));
        let worst = Entry { body: EntryBody::Output { stdout: loud.clone(), stderr: loud }, ..entry(0, "") };
        assert!(worst.render().len() <= 2 * BLOCK_MAX + 64, "{}", worst.render().len());
        for padding in [0, 3 << 20, FILE_MAX - 100] {
            let mut doc = format!("# A\n\n{}\n\n# History\n", "x".repeat(padding));
            for _ in 0..(MAX_KEEP + 30) {
                let start = markdown::history_body(&doc).unwrap().start;
                doc = with_entry(&doc, start, &worst, MAX_KEEP);
                assert!(doc.len() as u64 <= crate::parse::MAX_RUNBOOK_BYTES, "{padding}: {}", doc.len());
            }
            let read = read(&doc);
            assert!(!read.is_empty() && read.len() <= MAX_KEEP, "{padding}: {}", read.len());
            // Each block reads back whole: the fences held.
            assert!(read.iter().all(|e| e.blocks.len() == 2), "{padding}");
        }
    }

    #[test]
    fn only_the_most_recent_entries_are_kept() {
        let mut doc = "# A\n\n# History\nRecent runs.\n".to_string();
        for i in 0..5 {
            let start = markdown::history_body(&doc).unwrap().start;
            doc = with_entry(&doc, start, &entry(i, &format!("run {i}")), 3);
        }
        assert!(doc.starts_with("# A\n\n# History\nRecent runs.\n\n### "), "{doc}");
        let codes: Vec<_> =
            doc.lines().filter(|l| l.starts_with("### ")).map(|l| l.rsplit(' ').next().unwrap()).collect();
        assert_eq!(codes, ["2", "3", "4"]);
    }
}
