//! `cat` as GNU coreutils: operands in order, `-` for standard input, and
//! `-n -b -s -E -T -v -A -e -t`. Without options it copies chunks as they
//! come; with them it works a line at a time, numbering and squeezing
//! across operands as one stream, as GNU's does.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::each::each_line_run;
use super::{Out, Parsed, Stop, Usage, begin, open, quote, reason, split_lines};

pub(crate) struct Cat;

const TOOL: &str = "cat";
const HELP: &str = "Usage: cat [OPTION]... [FILE]...\nConcatenate FILE(s) to standard output.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -A, --show-all           equivalent to -vET\n  -b, --number-nonblank    number nonempty output lines, overrides -n\n  -e                       equivalent to -vE\n  -E, --show-ends          display $ at end of each line\n  -n, --number             number all output lines\n  -s, --squeeze-blank      suppress repeated empty output lines\n  -t                       equivalent to -vT\n  -T, --show-tabs          display TAB characters as ^I\n  -u                       (ignored)\n  -v, --show-nonprinting   use ^ and M- notation, except for LFD and TAB\n      --help        display this help and exit\n      --version     output version information and exit\n";

#[derive(Default)]
struct Options {
    number: bool,
    nonblank: bool,
    squeeze: bool,
    ends: bool,
    tabs: bool,
    nonprinting: bool,
}

impl Options {
    fn plain(&self) -> bool {
        !(self.number || self.nonblank || self.squeeze || self.ends || self.tabs || self.nonprinting)
    }
}

fn parse(args: &[String]) -> Result<Parsed<(Options, Vec<String>)>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options::default();
    let mut operands = Vec::new();
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('A') | Long("show-all") => (o.nonprinting, o.ends, o.tabs) = (true, true, true),
            Short('b') | Long("number-nonblank") => o.nonblank = true,
            Short('e') => (o.nonprinting, o.ends) = (true, true),
            Short('E') | Long("show-ends") => o.ends = true,
            Short('n') | Long("number") => o.number = true,
            Short('s') | Long("squeeze-blank") => o.squeeze = true,
            Short('t') => (o.nonprinting, o.tabs) = (true, true),
            Short('T') | Long("show-tabs") => o.tabs = true,
            Short('u') => {}
            Short('v') | Long("show-nonprinting") => o.nonprinting = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("cat (runbox)\n")),
            Value(v) => operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if operands.is_empty() {
        operands.push("-".into());
    }
    Ok(Parsed::Run((o, operands)))
}

/// Where the line-at-a-time form is between operands.
#[derive(Default)]
struct Stream {
    /// The next byte begins a line.
    mid_line: bool,
    /// The last line written was empty (for `-s`).
    last_blank: bool,
    number: u64,
}

fn show(line: &[u8], o: &Options, out: &mut Vec<u8>) {
    let (body, newline) = match line.split_last() {
        Some((b'\n', body)) => (body, true),
        _ => (line, false),
    };
    if !(o.tabs || o.nonprinting) {
        out.extend_from_slice(body);
    } else {
        for &b in body {
            match b {
                b'\t' if !o.tabs => out.push(b),
                b'\t' => out.extend_from_slice(b"^I"),
                _ if !o.nonprinting => out.push(b),
                0x20..=0x7E => out.push(b),
                0x7F => out.extend_from_slice(b"^?"),
                0..=0x1F => out.extend_from_slice(&[b'^', b + 64]),
                0x80..=0x9F => out.extend_from_slice(&[b'M', b'-', b'^', b - 128 + 64]),
                0xA0..=0xFE => out.extend_from_slice(&[b'M', b'-', b - 128]),
                0xFF => out.extend_from_slice(b"M-^?"),
            }
        }
    }
    if newline {
        if o.ends {
            out.push(b'$');
        }
        out.push(b'\n');
    }
}

fn lines(run: &[u8], o: &Options, stream: &mut Stream, out: &mut Vec<u8>) {
    use std::io::Write;
    for line in split_lines(run) {
        let blank = !stream.mid_line && line == b"\n";
        if blank && o.squeeze && stream.last_blank {
            continue;
        }
        if !stream.mid_line && ((o.number && !o.nonblank) || (o.nonblank && !blank)) {
            stream.number += 1;
            let _ = write!(out, "{:>6}\t", stream.number);
        }
        if !stream.mid_line {
            stream.last_blank = blank;
        }
        show(line, o, out);
        stream.mid_line = line.last() != Some(&b'\n');
    }
}

#[async_trait]
impl Command for Cat {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let (options, operands) = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let mut out = Out::new(ctx.stdout.clone());
        let status = if options.plain() {
            let mut status = 0;
            for operand in &operands {
                let copied = match open(ctx.cwd, operand, &ctx.stdin) {
                    Err(e) => Err(e),
                    Ok(mut source) => loop {
                        match source.read_into(out.buf()).await {
                            Ok(0) => break Ok(()),
                            Ok(_) => out.ready().await?,
                            Err(Stop::Read(e)) => break Err(e),
                            Err(Stop::Shell(e)) => return Err(e),
                        }
                    },
                };
                if let Err(e) = copied {
                    out.complain(&ctx.stderr, &format!("{TOOL}: {}: {}\n", quote(operand), reason(&e))).await?;
                    status = 1;
                }
            }
            status
        } else {
            let mut stream = Stream::default();
            each_line_run(&ctx, TOOL, &operands, &mut out, |run, buf| lines(run, &options, &mut stream, buf)).await?
        };
        out.flush().await?;
        Ok(CommandStatus::with_code(status))
    }
}
