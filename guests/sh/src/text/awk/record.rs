//! Records and fields: where input splits into records (`RS`: a newline, a
//! character, blank lines, or a regular expression; what ended each is
//! gawk's `RT`) and a record into fields (`FS`: blanks, a character, or a
//! regular expression; gawk's `FPAT`, what a field looks like, and
//! `FIELDWIDTHS`, fixed widths), the fields found only when one is asked for.

use regex::Regex;

/// How `RS` separates records.
pub(super) enum Rs {
    Char(u8),
    /// `RS = ""`: records are separated by blank lines.
    Paragraph,
    Regex(regex::bytes::Regex),
}

/// What the next record is.
pub(super) enum Next {
    Record(String),
    /// More bytes are needed to tell.
    More,
    End,
}

/// Bytes of one input, read as they come, cut into records.
pub(super) struct Records {
    buf: Vec<u8>,
    pos: usize,
    pub(super) eof: bool,
    /// What ended the last record (gawk's `RT`), and whether it differs
    /// from the one before.
    pub(super) rt: Vec<u8>,
    pub(super) rt_changed: bool,
}

impl Records {
    pub(super) fn new() -> Self {
        Records { buf: Vec::new(), pos: 0, eof: false, rt: Vec::new(), rt_changed: false }
    }

    /// Where new bytes go (the spent ones are dropped first).
    pub(super) fn space(&mut self) -> &mut Vec<u8> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        &mut self.buf
    }

    pub(super) fn next(&mut self, rs: &Rs) -> Next {
        let rest = &self.buf[self.pos..];
        match rs {
            Rs::Char(c) => match memchr::memchr(*c, rest) {
                Some(at) => {
                    let record = text(&rest[..at]);
                    self.pos += at + 1;
                    self.ended(&[*c]);
                    Next::Record(record)
                }
                None => self.tail(),
            },
            Rs::Paragraph => {
                // Leading newlines are skipped; a record ends at two or more.
                let skip = rest.iter().take_while(|&&b| b == b'\n').count();
                if skip == rest.len() && !self.eof {
                    return Next::More;
                }
                let body = &rest[skip..];
                let mut at = 0;
                while let Some(nl) = memchr::memchr(b'\n', &body[at..]) {
                    let end = at + nl;
                    let run = body[end..].iter().take_while(|&&b| b == b'\n').count();
                    if end + run == body.len() && !self.eof {
                        return Next::More;
                    }
                    if run >= 2 {
                        let record = text(&body[..end]);
                        let terminator = body[end..end + run].to_vec();
                        self.ended(&terminator);
                        self.pos += skip + end + run;
                        return Next::Record(record);
                    }
                    at = end + 1;
                }
                if !self.eof {
                    return Next::More;
                }
                let record = text(body.strip_suffix(b"\n").unwrap_or(body));
                let terminator = if body.ends_with(b"\n") { b"\n".as_slice() } else { b"" };
                let empty = body.is_empty();
                self.ended(terminator);
                self.pos = self.buf.len();
                if record.is_empty() && empty { Next::End } else { Next::Record(record) }
            }
            Rs::Regex(re) => {
                // A match that touches the end might grow with more input.
                match re.find(rest).filter(|m| !m.is_empty()) {
                    Some(m) if m.end() < rest.len() || self.eof => {
                        let record = text(&rest[..m.start()]);
                        let terminator = rest[m.start()..m.end()].to_vec();
                        let end = m.end();
                        self.ended(&terminator);
                        self.pos += end;
                        Next::Record(record)
                    }
                    _ => self.tail(),
                }
            }
        }
    }

    /// No separator in what is left: more input, the last record, or the end.
    fn tail(&mut self) -> Next {
        if !self.eof {
            return Next::More;
        }
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            return Next::End;
        }
        let record = text(rest);
        self.pos = self.buf.len();
        self.ended(b"");
        Next::Record(record)
    }

    fn ended(&mut self, terminator: &[u8]) {
        self.rt_changed = self.rt != terminator;
        if self.rt_changed {
            self.rt.clear();
            self.rt.extend_from_slice(terminator);
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// How `FS` separates fields.
pub(super) enum Fs {
    Blanks,
    Char(char),
    /// Every character a field (`FS = ""`).
    Chars,
    Regex(Regex),
    /// gawk's `FPAT`: each field is a match.
    Pattern(Regex),
    /// gawk's `FIELDWIDTHS`: characters skipped, then taken (`None`: the rest).
    Widths(std::sync::Arc<[(usize, Option<usize>)]>),
}

/// `FIELDWIDTHS`' text (`5 3:3 1:6`, `5 *`) as `(skip, width)` pairs, or
/// gawk's message for the first field that is not one.
pub(super) fn widths(text: &str) -> Result<Vec<(usize, Option<usize>)>, String> {
    let mut out = Vec::new();
    let words: Vec<(usize, &str)> = text
        .split(|c: char| c.is_ascii_whitespace())
        .scan(0, |at, w| {
            let start = *at;
            *at += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    for (i, &(start, word)) in words.iter().enumerate() {
        let bad = || {
            format!(
                "awk: cmd. line:1: fatal: invalid FIELDWIDTHS value, for field {}, near `{}'",
                i + 1,
                &text[start..]
            )
        };
        let (skip, width) = match word.split_once(':') {
            Some((skip, width)) => (skip.parse::<usize>().map_err(|_| bad())?, width),
            None => (0, word),
        };
        let width = match width {
            "*" if i + 1 == words.len() => None,
            w => Some(w.parse::<usize>().ok().filter(|&w| w > 0 && w < 1 << 24).ok_or_else(bad)?),
        };
        out.push((skip.min(1 << 24), width));
    }
    Ok(out)
}

/// The byte ranges of a record's fields.
pub(super) fn split(record: &str, fs: &Fs, paragraph: bool, out: &mut Vec<(usize, usize)>) {
    out.clear();
    match fs {
        Fs::Blanks => {
            let b = record.as_bytes();
            let mut at = 0;
            loop {
                while at < b.len() && matches!(b[at], b' ' | b'\t' | b'\n') {
                    at += 1;
                }
                if at >= b.len() {
                    break;
                }
                let start = at;
                while at < b.len() && !matches!(b[at], b' ' | b'\t' | b'\n') {
                    at += 1;
                }
                out.push((start, at));
            }
        }
        _ if record.is_empty() => {}
        Fs::Char(c) => {
            let mut start = 0;
            for (at, ch) in record.char_indices() {
                if ch == *c || (paragraph && ch == '\n') {
                    out.push((start, at));
                    start = at + ch.len_utf8();
                }
            }
            out.push((start, record.len()));
        }
        Fs::Chars => {
            for (at, ch) in record.char_indices() {
                out.push((at, at + ch.len_utf8()));
            }
        }
        Fs::Pattern(re) => {
            // gawk's rule: a match is a field, but a null match right after
            // a field is not another one.
            let mut at = 0;
            let mut previous_end = None;
            while at <= record.len() {
                let Some(m) = re.find_at(record, at) else { break };
                if m.is_empty() {
                    if previous_end != Some(m.start()) {
                        out.push((m.start(), m.start()));
                    }
                    previous_end = None;
                    at = m.start() + record[m.start()..].chars().next().map_or(1, char::len_utf8);
                } else {
                    out.push((m.start(), m.end()));
                    previous_end = Some(m.end());
                    at = m.end();
                }
            }
        }
        Fs::Widths(widths) => {
            let mut at = 0;
            for &(skip, width) in widths.iter() {
                at = forward(record, at, skip);
                if at >= record.len() {
                    break;
                }
                let end = match width {
                    Some(w) => forward(record, at, w),
                    None => record.len(),
                };
                out.push((at, end));
                at = end;
            }
        }
        Fs::Regex(re) => {
            let mut start = 0;
            for m in re.find_iter(record) {
                if m.is_empty() {
                    continue;
                }
                out.push((start, m.start()));
                start = m.end();
            }
            out.push((start, record.len()));
        }
    }
}

/// The byte offset `count` characters after `at`, or the end.
fn forward(text: &str, at: usize, count: usize) -> usize {
    text[at.min(text.len())..].char_indices().nth(count).map_or(text.len(), |(i, _)| at + i)
}
