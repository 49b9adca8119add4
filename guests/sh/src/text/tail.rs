//! `tail` as GNU coreutils: `-n [+]N`, `-c [+]N`, the obsolete `-N` and
//! `+N`, `-q`, `-v`, `-z` (NUL-ended lines) and headers. Of a regular file
//! it reads backwards from the end, so the last lines of a gigabyte log
//! cost what they are; of a pipe it keeps only the last lines as they pass. `-f` (follow) is
//! refused: in a step it could only wait for the deadline.

use std::io::{Read, Seek, SeekFrom};

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::ends::{Cut, each_operand};
use super::options::{count, value};
use super::{Out, Parsed, Source, Stop, Usage, begin};

pub(crate) struct Tail;

const TOOL: &str = "tail";
const HELP: &str = "Usage: tail [OPTION]... [FILE]...\nPrint the last 10 lines of each FILE to standard output.\nWith more than one FILE, precede each with a header giving the file name.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -c, --bytes=[+]NUM       output the last NUM bytes; or use -c +NUM to\n                             output starting with byte NUM of each file\n  -n, --lines=[+]NUM       output the last NUM lines, instead of the last 10;\n                             or use -n +NUM to skip NUM-1 lines at the start\n  -q, --quiet, --silent    never output headers giving file names\n  -v, --verbose            always output headers giving file names\n      --help        display this help and exit\n      --version     output version information and exit\n\nrunbox's tail does not follow (-f, -F): a step's file does not grow while it waits.\n";

#[derive(Clone, Copy)]
enum Take {
    LastLines(u64),
    FromLine(u64),
    LastBytes(u64),
    FromByte(u64),
}

struct Options {
    take: Take,
    headers: Option<bool>,
    /// What ends a line: `\n`, or NUL (`-z`).
    end: u8,
    operands: Vec<String>,
}

/// What to copy of each operand, with what ends its lines.
#[derive(Clone, Copy)]
struct Part {
    take: Take,
    end: u8,
}

fn amount(text: &str, bytes: bool) -> Result<Take, Usage> {
    let (from, digits) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('-').unwrap_or(text)),
    };
    let what = if bytes { "bytes" } else { "lines" };
    let n = count(digits)
        .ok_or_else(|| Usage { message: format!("{TOOL}: invalid number of {what}: ‘{text}’\n"), status: 1 })?;
    Ok(match (bytes, from) {
        (false, false) => Take::LastLines(n),
        (false, true) => Take::FromLine(n),
        (true, false) => Take::LastBytes(n),
        (true, true) => Take::FromByte(n),
    })
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options { take: Take::LastLines(10), headers: None, end: b'\n', operands: Vec::new() };
    let mut args = args;
    // The obsolete `tail -5`, `tail +5` and `tail -5c`, first on the line.
    if let Some(first) = args.first().filter(|a| a.len() > 1 && (a.starts_with('-') || a.starts_with('+')))
        && first[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        o.take = match first.strip_suffix('c') {
            Some(n) => amount(n, true)?,
            None => amount(first.strip_suffix('l').unwrap_or(first), false)?,
        };
        args = &args[1..];
    }
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('n') | Long("lines") => o.take = amount(&value(TOOL, &mut parser)?, false)?,
            Short('c') | Long("bytes") => o.take = amount(&value(TOOL, &mut parser)?, true)?,
            Short('q') | Long("quiet" | "silent") => o.headers = Some(false),
            Short('v') | Long("verbose") => o.headers = Some(true),
            Short('z') | Long("zero-terminated") => o.end = b'\0',
            Short('f' | 'F') | Long("follow" | "retry" | "pid") => {
                let message = format!(
                    "{TOOL}: runbox's tail does not follow a file (-f, -F, --follow): a step's file does not grow \
                     while it waits; read it with tail, or poll in a loop with sleep\n"
                );
                return Err(Usage { message, status: 1 });
            }
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("tail (runbox)\n")),
            Value(v) => o.operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if o.operands.is_empty() {
        o.operands.push("-".into());
    }
    Ok(Parsed::Run(o))
}

/// Where the last `n` lines of `data` begin, when `data` holds them all
/// (`None` when it holds fewer). A last line without a newline is a line.
fn last_lines(data: &[u8], n: u64, eol: u8) -> Option<usize> {
    if n == 0 {
        return Some(data.len());
    }
    // The newline that ends the last line does not begin one.
    let end = if data.last() == Some(&eol) { data.len() - 1 } else { data.len() };
    let mut left = n;
    for at in memchr::memrchr_iter(eol, &data[..end]) {
        left -= 1;
        if left == 0 {
            return Some(at + 1);
        }
    }
    None
}

/// The offset in a regular file where its last `n` lines begin, read
/// backwards a block at a time.
fn last_lines_of_file(file: &mut std::fs::File, len: u64, n: u64, eol: u8) -> std::io::Result<u64> {
    const BLOCK: u64 = 64 * 1024;
    if n == 0 || len == 0 {
        return Ok(len);
    }
    let mut block = vec![0u8; BLOCK as usize];
    let mut at = len;
    let mut left = n;
    // Whether the byte after this block is the file's last newline.
    let mut last = true;
    while at > 0 {
        let start = at.saturating_sub(BLOCK);
        let size = (at - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block[..size])?;
        let mut data = &block[..size];
        if last {
            last = false;
            if data.last() == Some(&eol) {
                data = &data[..size - 1];
            }
        }
        for found in memchr::memrchr_iter(eol, data) {
            left -= 1;
            if left == 0 {
                return Ok(start + found as u64 + 1);
            }
        }
        at = start;
    }
    Ok(0)
}

async fn tail(source: &mut Source, take: Take, eol: u8, out: &mut Out) -> Result<(), Stop> {
    // A regular file: straight to where the output begins.
    let len = source.file_len();
    let seeked = len.is_some();
    if let (Source::File(file), Some(len)) = (&mut *source, len) {
        let start = match take {
            Take::LastLines(n) => last_lines_of_file(file, len, n, eol).map_err(Stop::Read)?,
            Take::LastBytes(n) => len.saturating_sub(n),
            Take::FromByte(n) => n.saturating_sub(1).min(len),
            Take::FromLine(_) => 0,
        };
        file.seek(SeekFrom::Start(start)).map_err(Stop::Read)?;
    }
    let mut buf = Vec::with_capacity(super::input::CHUNK);
    match take {
        Take::FromLine(n) | Take::FromByte(n) => {
            // Skipped: the first n - 1 lines or bytes (already, for a file's bytes).
            let mut skip = n.saturating_sub(1);
            if matches!(take, Take::FromByte(_)) && seeked {
                skip = 0;
            }
            let lines = matches!(take, Take::FromLine(_));
            while source.read_into(&mut buf).await? > 0 {
                let from = if skip == 0 {
                    0
                } else if lines {
                    match super::bytes::nth(&buf, eol, skip) {
                        Ok(at) => {
                            skip = 0;
                            at + 1
                        }
                        Err(seen) => {
                            skip -= seen;
                            buf.len()
                        }
                    }
                } else {
                    let from = buf.len().min(usize::try_from(skip).unwrap_or(usize::MAX));
                    skip -= from as u64;
                    from
                };
                out.put(&buf[from..]);
                out.ready().await?;
                buf.clear();
            }
        }
        Take::LastLines(n) if !seeked => {
            // A pipe: keep what could still be among the last n lines,
            // trimming when the kept text has doubled.
            let mut trimmed_at = super::input::CHUNK;
            while source.read_into(&mut buf).await? > 0 {
                if buf.len() >= 2 * trimmed_at {
                    if let Some(start) = last_lines(&buf, n, eol) {
                        buf.drain(..start);
                    }
                    trimmed_at = buf.len().max(super::input::CHUNK);
                }
            }
            let start = last_lines(&buf, n, eol).unwrap_or(0);
            out.put(&buf[start..]);
        }
        Take::LastBytes(n) if !seeked => {
            let keep = usize::try_from(n).unwrap_or(usize::MAX);
            while source.read_into(&mut buf).await? > 0 {
                if buf.len() > keep.saturating_add(super::input::CHUNK) {
                    buf.drain(..buf.len() - keep);
                }
            }
            out.put(&buf[buf.len().saturating_sub(keep)..]);
        }
        Take::LastLines(_) | Take::LastBytes(_) => {
            // A file, already at the start of what is printed.
            while source.read_into(&mut buf).await? > 0 {
                out.put(&buf);
                out.ready().await?;
                buf.clear();
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Cut for Part {
    async fn cut(&self, source: &mut Source, out: &mut Out) -> Result<(), Stop> {
        tail(source, self.take, self.end, out).await
    }
}

#[async_trait]
impl Command for Tail {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        match begin(&ctx, parse(ctx.args)).await? {
            Ok(o) => {
                let part = Part { take: o.take, end: o.end };
                each_operand(&ctx, TOOL, &o.operands, o.headers, &part).await
            }
            Err(status) => Ok(status),
        }
    }
}
