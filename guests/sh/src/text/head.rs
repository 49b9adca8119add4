//! `head` as GNU coreutils: `-n [-]N`, `-c [-]N` with GNU's multipliers,
//! the obsolete `-N`, `-q`, `-v`, `-z` (NUL-ended lines) and `==> NAME <==`
//! headers. It stops reading once it has what it prints, so `head` of a
//! huge file or an endless pipe ends at once.

use std::collections::VecDeque;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::ends::{Cut, each_operand};
use super::options::{count, value};
use super::{Out, Parsed, Source, Stop, Usage, begin};

pub(crate) struct Head;

const TOOL: &str = "head";
const HELP: &str = "Usage: head [OPTION]... [FILE]...\nPrint the first 10 lines of each FILE to standard output.\nWith more than one FILE, precede each with a header giving the file name.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -c, --bytes=[-]NUM       print the first NUM bytes of each file;\n                             with the leading '-', print all but the last\n                             NUM bytes of each file\n  -n, --lines=[-]NUM       print the first NUM lines instead of the first 10;\n                             with the leading '-', print all but the last\n                             NUM lines of each file\n  -q, --quiet, --silent    never print headers giving file names\n  -v, --verbose            always print headers giving file names\n      --help        display this help and exit\n      --version     output version information and exit\n";

#[derive(Clone, Copy)]
enum Take {
    Lines(u64),
    AllButLines(u64),
    Bytes(u64),
    AllButBytes(u64),
}

struct Options {
    take: Take,
    /// `Some(true)` with `-v`, `Some(false)` with `-q`.
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
    let (all_but, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let what = if bytes { "bytes" } else { "lines" };
    let n = count(digits)
        .ok_or_else(|| Usage { message: format!("{TOOL}: invalid number of {what}: ‘{text}’\n"), status: 1 })?;
    Ok(match (bytes, all_but) {
        (false, false) => Take::Lines(n),
        (false, true) => Take::AllButLines(n),
        (true, false) => Take::Bytes(n),
        (true, true) => Take::AllButBytes(n),
    })
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options { take: Take::Lines(10), headers: None, end: b'\n', operands: Vec::new() };
    // The obsolete `head -5` (and `-5c`), first on the line.
    let mut args = args;
    if let Some(first) = args.first().and_then(|a| a.strip_prefix('-'))
        && first.starts_with(|c: char| c.is_ascii_digit())
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
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("head (runbox)\n")),
            Value(v) => o.operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if o.operands.is_empty() {
        o.operands.push("-".into());
    }
    Ok(Parsed::Run(o))
}

/// Copies what `take` asks of `source`.
async fn head(source: &mut Source, take: Take, end: u8, out: &mut Out) -> Result<(), Stop> {
    let mut buf = Vec::with_capacity(super::input::CHUNK);
    match take {
        Take::Lines(mut left) | Take::Bytes(mut left) => {
            let lines = matches!(take, Take::Lines(_));
            while left > 0 && source.read_into(&mut buf).await? > 0 {
                let upto = if lines {
                    match super::bytes::nth(&buf, end, left) {
                        Ok(at) => {
                            left = 0;
                            at + 1
                        }
                        Err(seen) => {
                            left -= seen;
                            buf.len()
                        }
                    }
                } else {
                    let upto = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    left -= upto as u64;
                    upto
                };
                out.put(&buf[..upto]);
                out.ready().await?;
                buf.clear();
            }
        }
        Take::AllButBytes(keep) => {
            // Holds back the last `keep` bytes, and writes the rest.
            let keep = usize::try_from(keep).unwrap_or(usize::MAX);
            while source.read_into(&mut buf).await? > 0 {
                if buf.len() > keep.saturating_add(super::input::CHUNK) {
                    let upto = buf.len() - keep;
                    out.put(&buf[..upto]);
                    buf.drain(..upto);
                    out.ready().await?;
                }
            }
            out.put(&buf[..buf.len().saturating_sub(keep)]);
        }
        Take::AllButLines(keep) => {
            // The ends of the lines held back, oldest first.
            let mut ends = VecDeque::new();
            let mut searched = 0;
            while source.read_into(&mut buf).await? > 0 {
                ends.extend(memchr::memchr_iter(end, &buf[searched..]).map(|at| searched + at + 1));
                searched = buf.len();
                let mut release = 0;
                while ends.len() as u64 > keep {
                    release = ends.pop_front().unwrap_or(release);
                }
                if release > 0 {
                    out.put(&buf[..release]);
                    buf.drain(..release);
                    ends.iter_mut().for_each(|e| *e -= release);
                    searched -= release;
                    out.ready().await?;
                }
            }
            // A last line without its newline is one of the lines held back.
            let partial = buf.last().is_some_and(|&b| b != end);
            if keep == 0 {
                out.put(&buf);
            } else if partial && ends.len() as u64 == keep {
                out.put(&buf[..ends[0]]);
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Cut for Part {
    async fn cut(&self, source: &mut Source, out: &mut Out) -> Result<(), Stop> {
        head(source, self.take, self.end, out).await
    }
}

#[async_trait]
impl Command for Head {
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
