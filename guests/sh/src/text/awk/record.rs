//! Records and fields: where input splits into records (`RS`: a newline, a
//! character, blank lines, or a regular expression) and a record into
//! fields (`FS`: blanks, a character, or a regular expression), the fields
//! found only when one is asked for.

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
}

impl Records {
    pub(super) fn new() -> Self {
        Records { buf: Vec::new(), pos: 0, eof: false }
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
                        self.pos += skip + end + run;
                        return Next::Record(record);
                    }
                    at = end + 1;
                }
                if !self.eof {
                    return Next::More;
                }
                let record = text(body.strip_suffix(b"\n").unwrap_or(body));
                self.pos = self.buf.len();
                if record.is_empty() && body.is_empty() { Next::End } else { Next::Record(record) }
            }
            Rs::Regex(re) => {
                // A match that touches the end might grow with more input.
                match re.find(rest).filter(|m| !m.is_empty()) {
                    Some(m) if m.end() < rest.len() || self.eof => {
                        let record = text(&rest[..m.start()]);
                        self.pos += m.end();
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
        Next::Record(record)
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
