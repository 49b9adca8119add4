//! Where a tool reads: a file operand opened through WASI (the guest's
//! paths are the step's mounts, one to one), a device, or the step's
//! standard input; a chunk at a time, and as runs of whole lines.

use std::io::{ErrorKind, Read};
use std::path::Path;

use bashkit::CommandInput;

/// Bytes asked of a file per read.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Why reading stopped: the file (reported, and the tool goes on with its
/// next operand, as GNU's do) or the shell (the step's budget, a
/// cancellation: it ends the command).
pub(crate) enum Stop {
    Read(std::io::Error),
    Shell(bashkit::Error),
}

impl From<bashkit::Error> for Stop {
    fn from(e: bashkit::Error) -> Self {
        Stop::Shell(e)
    }
}

pub(crate) enum Source {
    File(std::fs::File),
    Stdin(CommandInput),
    /// `/dev/null`.
    Empty,
    /// `/dev/zero`.
    Zero,
    /// `/dev/random`, `/dev/urandom`.
    Random,
}

impl Source {
    /// Appends what the next read gives to `buf`; 0 at the end.
    pub(crate) async fn read_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, Stop> {
        match self {
            Source::File(file) => {
                let start = buf.len();
                buf.resize(start + CHUNK, 0);
                let read = loop {
                    match file.read(&mut buf[start..]) {
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                buf.truncate(start + *read.as_ref().unwrap_or(&0));
                read.map_err(Stop::Read)
            }
            Source::Stdin(input) => match input.read_chunk().await? {
                Some(chunk) => {
                    buf.extend_from_slice(&chunk);
                    Ok(chunk.len())
                }
                None => Ok(0),
            },
            Source::Empty => Ok(0),
            Source::Zero => {
                buf.resize(buf.len() + CHUNK, 0);
                Ok(CHUNK)
            }
            Source::Random => {
                let start = buf.len();
                buf.resize(start + CHUNK, 0);
                getrandom::fill(&mut buf[start..]).map_err(|e| Stop::Read(std::io::Error::other(e.to_string())))?;
                Ok(CHUNK)
            }
        }
    }

    /// The file's length, when it is a regular file.
    pub(crate) fn file_len(&self) -> Option<u64> {
        match self {
            Source::File(file) => file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len()),
            _ => None,
        }
    }
}

/// Operands that are not files on the mounts: standard input and devices.
pub(crate) fn special(operand: &str) -> bool {
    matches!(operand, "-" | "/dev/stdin" | "/dev/fd/0" | "/dev/null" | "/dev/zero" | "/dev/random" | "/dev/urandom")
}

/// Opens an operand as GNU's tools do: `-` is standard input.
pub(crate) fn open(cwd: &Path, operand: &str, stdin: &CommandInput) -> std::io::Result<Source> {
    Ok(match operand {
        "-" | "/dev/stdin" | "/dev/fd/0" => Source::Stdin(stdin.clone()),
        "/dev/null" => Source::Empty,
        "/dev/zero" => Source::Zero,
        "/dev/random" | "/dev/urandom" => Source::Random,
        _ => {
            let path = cwd.join(operand);
            let file = std::fs::File::open(&path)?;
            if file.metadata()?.is_dir() {
                return Err(ErrorKind::IsADirectory.into());
            }
            Source::File(file)
        }
    })
}

/// An I/O error as GNU's tools word it (strerror).
pub(crate) fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "No such file or directory".into(),
        ErrorKind::PermissionDenied => "Permission denied".into(),
        ErrorKind::IsADirectory => "Is a directory".into(),
        ErrorKind::NotADirectory => "Not a directory".into(),
        ErrorKind::InvalidFilename => "File name too long".into(),
        _ => e.to_string(),
    }
}

/// A source read as runs of whole lines (or records: `-z`'s end in NUL).
pub(crate) struct LineReader {
    source: Source,
    buf: Vec<u8>,
    /// Bytes at the start of `buf` already handed out.
    start: usize,
    eof: bool,
    /// What ends a line: `\n`, or NUL under `-z`.
    end: u8,
}

impl LineReader {
    /// Records that end in `end` (NUL for `-z`).
    pub(crate) fn ending(source: Source, end: u8) -> Self {
        LineReader { source, buf: Vec::with_capacity(CHUNK * 2), start: 0, eof: false, end }
    }

    /// The next run of whole lines, each ending in `\n` but the file's last
    /// when it has none; `None` at the end.
    pub(crate) async fn lines(&mut self) -> Result<Option<&[u8]>, Stop> {
        self.buf.drain(..self.start);
        self.start = 0;
        // Bytes already searched for a newline.
        let mut searched = 0;
        loop {
            if let Some(at) = memchr::memrchr(self.end, &self.buf[searched..]) {
                self.start = searched + at + 1;
                return Ok(Some(&self.buf[..self.start]));
            }
            searched = self.buf.len();
            if self.eof || self.source.read_into(&mut self.buf).await? == 0 {
                self.eof = true;
                self.start = self.buf.len();
                return Ok((self.start > 0).then_some(&self.buf[..]));
            }
        }
    }
}

/// Each line of a run, with its `\n` when it has one.
pub(crate) fn split_lines(run: &[u8]) -> impl Iterator<Item = &[u8]> {
    split_records(run, b'\n')
}

/// Each record of a run, with its `end` byte when it has one.
pub(crate) fn split_records(run: &[u8], end: u8) -> impl Iterator<Item = &[u8]> {
    run.split_inclusive(move |&b| b == end)
}
