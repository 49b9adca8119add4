//! sed's input: operands read in turn as one stream of lines (or one
//! operand at a time, for `-s` and `-i`), a line at a time, each line
//! knowing whether it is the last, which `$` needs: the next line is
//! looked for before the current one is handed out.

use std::collections::VecDeque;
use std::path::PathBuf;

use bashkit::CommandInput;

use crate::text::{Source, Stop, open, reason};

/// A line handed out.
pub(super) struct Line {
    /// It ended with the separator (the file's last line may not).
    pub(super) chomped: bool,
    pub(super) last: bool,
}

struct Current {
    name: String,
    source: Source,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

pub(super) struct Input {
    operands: VecDeque<String>,
    cwd: PathBuf,
    stdin: CommandInput,
    sep: u8,
    /// `-i`: `-` is a file's name, not standard input, and a directory
    /// cannot be edited.
    dash_is_file: bool,
    current: Option<Current>,
    /// The name of the file the last line handed out came from.
    pub(super) name: String,
    /// Messages about operands that could not be read, to be printed.
    pub(super) messages: Vec<String>,
    /// 2 when an operand could not be opened, 4 when one could not be
    /// read (GNU's statuses).
    pub(super) status: i32,
}

impl Input {
    pub(super) fn new(operands: Vec<String>, cwd: PathBuf, stdin: CommandInput, sep: u8, dash_is_file: bool) -> Self {
        Input {
            operands: operands.into(),
            cwd,
            stdin,
            sep,
            dash_is_file,
            current: None,
            name: String::new(),
            messages: Vec::new(),
            status: 0,
        }
    }

    /// Opens the next operand that can be read; false when none is left.
    fn open_next(&mut self) -> bool {
        while let Some(operand) = self.operands.pop_front() {
            let opened = if operand == "-" && self.dash_is_file {
                std::fs::File::open(self.cwd.join("-")).map(Source::File)
            } else {
                open(&self.cwd, &operand, &self.stdin)
            };
            match opened {
                Ok(source) => {
                    let name = if operand == "-" && !self.dash_is_file { "-".to_string() } else { operand };
                    self.current = Some(Current { name, source, buf: Vec::new(), pos: 0, eof: false });
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::IsADirectory && self.dash_is_file => {
                    self.messages.push(format!("sed: couldn't edit {operand}: not a regular file\n"));
                    self.status = 4;
                }
                Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                    self.messages.push(format!("sed: read error on {operand}: {}\n", reason(&e)));
                    self.status = 4;
                }
                Err(e) => {
                    self.messages.push(format!("sed: can't read {operand}: {}\n", reason(&e)));
                    self.status = self.status.max(2);
                }
            }
        }
        false
    }

    /// Reads more of the current operand; a read error ends it.
    async fn fill(&mut self) -> Result<(), bashkit::Error> {
        let Some(cur) = &mut self.current else { return Ok(()) };
        if cur.pos > 0 {
            cur.buf.drain(..cur.pos);
            cur.pos = 0;
        }
        match cur.source.read_into(&mut cur.buf).await {
            Ok(0) => cur.eof = true,
            Ok(_) => {}
            Err(Stop::Read(e)) => {
                self.messages.push(format!("sed: read error on {}: {}\n", cur.name, reason(&e)));
                self.status = 4;
                cur.eof = true;
            }
            Err(Stop::Shell(e)) => return Err(e),
        }
        Ok(())
    }

    /// The next line into `dst` (after a newline, when `append`); `None`
    /// at the end of the input.
    pub(super) async fn next(&mut self, dst: &mut Vec<u8>, append: bool) -> Result<Option<Line>, bashkit::Error> {
        let chomped = loop {
            let Some(cur) = &mut self.current else {
                if !self.open_next() {
                    return Ok(None);
                }
                continue;
            };
            let rest = &cur.buf[cur.pos..];
            let (line, chomped) = match memchr::memchr(self.sep, rest) {
                Some(at) => (&rest[..at], true),
                None if !cur.eof => {
                    self.fill().await?;
                    continue;
                }
                None if !rest.is_empty() => (rest, false),
                None => {
                    self.current = None;
                    continue;
                }
            };
            if append {
                dst.push(b'\n');
            } else {
                dst.clear();
            }
            dst.extend_from_slice(line);
            cur.pos += line.len() + usize::from(chomped);
            if self.name != cur.name {
                self.name.clone_from(&cur.name);
            }
            break chomped;
        };
        let last = self.at_end().await?;
        Ok(Some(Line { chomped, last }))
    }

    /// Whether no line is left, in this operand or the ones after it.
    async fn at_end(&mut self) -> Result<bool, bashkit::Error> {
        loop {
            match &self.current {
                Some(cur) if cur.pos < cur.buf.len() => return Ok(false),
                Some(cur) if !cur.eof => self.fill().await?,
                Some(_) => self.current = None,
                None => {
                    if !self.open_next() {
                        return Ok(true);
                    }
                }
            }
        }
    }
}
