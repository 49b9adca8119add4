//! `uniq` as GNU coreutils: adjacent equal lines, with `-c -d -D -u -i`,
//! `-f N`, `-s N`, `-w N`, `-z` (NUL-ended records), and `uniq [INPUT
//! [OUTPUT]]`. It holds one group
//! at a time (one line, or a group's lines for `-D`).

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::options::{count, value};
use super::{LineReader, Out, Parsed, Stop, Usage, begin, open, quote, reason, split_records};

pub(crate) struct Uniq;

const TOOL: &str = "uniq";
const HELP: &str = "Usage: uniq [OPTION]... [INPUT [OUTPUT]]\nFilter adjacent matching lines from INPUT (or standard input),\nwriting to OUTPUT (or standard output).\n\nWith no options, matching lines are merged to the first occurrence.\n\n  -c, --count           prefix lines by the number of occurrences\n  -d, --repeated        only print duplicate lines, one for each group\n  -D                    print all duplicate lines\n  -f, --skip-fields=N   avoid comparing the first N fields\n  -i, --ignore-case     ignore differences in case when comparing\n  -s, --skip-chars=N    avoid comparing the first N characters\n  -u, --unique          only print unique lines\n  -w, --check-chars=N   compare no more than N characters in lines\n      --help        display this help and exit\n      --version     output version information and exit\n";

#[derive(Default)]
struct Options {
    count: bool,
    repeated: bool,
    all_repeated: bool,
    unique: bool,
    ignore_case: bool,
    skip_fields: usize,
    skip_chars: usize,
    check_chars: Option<usize>,
    /// `-z`: records end in NUL.
    zero: bool,
    operands: Vec<String>,
}

fn number(text: &str, what: &str) -> Result<usize, Usage> {
    count(text)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .ok_or_else(|| Usage { message: format!("{TOOL}: {text}: invalid number of {what}\n"), status: 1 })
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options::default();
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('c') | Long("count") => o.count = true,
            Short('d') | Long("repeated") => o.repeated = true,
            Short('D') | Long("all-repeated") => o.all_repeated = true,
            Short('u') | Long("unique") => o.unique = true,
            Short('i') | Long("ignore-case") => o.ignore_case = true,
            Short('z') | Long("zero-terminated") => o.zero = true,
            Short('f') | Long("skip-fields") => o.skip_fields = number(&value(TOOL, &mut parser)?, "fields to skip")?,
            Short('s') | Long("skip-chars") => o.skip_chars = number(&value(TOOL, &mut parser)?, "bytes to skip")?,
            Short('w') | Long("check-chars") => {
                o.check_chars = Some(number(&value(TOOL, &mut parser)?, "bytes to compare")?);
            }
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("uniq (runbox)\n")),
            Value(v) => o.operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if let Some(extra) = o.operands.get(2) {
        return Err(Usage::new(TOOL, format!("extra operand ‘{extra}’")));
    }
    if o.all_repeated && o.count {
        return Err(Usage::new(TOOL, "printing all duplicated lines and repeat counts is meaningless"));
    }
    Ok(Parsed::Run(o))
}

impl Options {
    /// What ends a line.
    fn end(&self) -> u8 {
        if self.zero { b'\0' } else { b'\n' }
    }

    /// The part of a line compared.
    fn key<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        let mut line = line.strip_suffix(&[self.end()]).unwrap_or(line);
        for _ in 0..self.skip_fields {
            let blanks = line.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
            let word = line[blanks..].iter().take_while(|b| !matches!(b, b' ' | b'\t')).count();
            line = &line[blanks + word..];
        }
        line = &line[self.skip_chars.min(line.len())..];
        match self.check_chars {
            Some(n) => &line[..n.min(line.len())],
            None => line,
        }
    }

    fn same(&self, a: &[u8], b: &[u8]) -> bool {
        let (a, b) = (self.key(a), self.key(b));
        if self.ignore_case { a.eq_ignore_ascii_case(b) } else { a == b }
    }
}

/// The group being read: its first line (its lines, for `-D`) and size.
struct Group {
    lines: Vec<u8>,
    first_end: usize,
    size: u64,
}

impl Group {
    fn write(&self, o: &Options, out: &mut Vec<u8>) {
        if self.size == 0 {
            return;
        }
        let repeated = self.size > 1;
        let first = &self.lines[..self.first_end];
        if o.all_repeated {
            if repeated && (!o.unique || o.repeated) {
                out.extend_from_slice(&self.lines);
            }
            return;
        }
        let wanted = match (o.repeated, o.unique) {
            (true, true) => false,
            (true, false) => repeated,
            (false, true) => !repeated,
            (false, false) => true,
        };
        if wanted {
            if o.count {
                use std::io::Write;
                let _ = write!(out, "{:>7} ", self.size);
            }
            out.extend_from_slice(first);
            if first.last() != Some(&o.end()) {
                out.push(o.end());
            }
        }
    }

    fn start(&mut self, line: &[u8], o: &Options) {
        self.lines.clear();
        self.lines.extend_from_slice(line);
        if line.last() != Some(&o.end()) {
            self.lines.push(o.end());
        }
        self.first_end = self.lines.len();
        self.size = 1;
    }

    fn add(&mut self, line: &[u8], o: &Options) {
        self.size += 1;
        if o.all_repeated {
            self.lines.extend_from_slice(line);
            if line.last() != Some(&o.end()) {
                self.lines.push(o.end());
            }
        }
    }
}

#[async_trait]
impl Command for Uniq {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let input = o.operands.first().map_or("-", String::as_str);
        let source = match open(ctx.cwd, input, &ctx.stdin) {
            Ok(source) => source,
            Err(e) => {
                ctx.stderr.write_all(format!("{TOOL}: {}: {}\n", quote(input), reason(&e)).as_bytes()).await?;
                return Ok(CommandStatus::with_code(1));
            }
        };
        // `uniq IN OUT` writes OUT itself, as GNU's does.
        let mut file = match o.operands.get(1).filter(|name| *name != "-") {
            Some(name) => match std::fs::File::create(ctx.cwd.join(name)) {
                Ok(file) => Some(file),
                Err(e) => {
                    ctx.stderr.write_all(format!("{TOOL}: {}: {}\n", quote(name), reason(&e)).as_bytes()).await?;
                    return Ok(CommandStatus::with_code(1));
                }
            },
            None => None,
        };
        let mut out = Out::new(ctx.stdout.clone());
        let mut group = Group { lines: Vec::new(), first_end: 0, size: 0 };
        let mut reader = LineReader::ending(source, o.end());
        let status = loop {
            let run = match reader.lines().await {
                Ok(Some(run)) => run,
                Ok(None) => break 0,
                Err(Stop::Shell(e)) => return Err(e),
                Err(Stop::Read(e)) => {
                    out.complain(&ctx.stderr, &format!("{TOOL}: {}: {}\n", quote(input), reason(&e))).await?;
                    break 1;
                }
            };
            for line in split_records(run, o.end()) {
                if group.size > 0 && o.same(&group.lines[..group.first_end], line) {
                    group.add(line, &o);
                } else {
                    group.write(&o, out.buf());
                    group.start(line, &o);
                }
            }
            if let Some(file) = &mut file {
                use std::io::Write;
                file.write_all(out.buf())?;
                out.buf().clear();
            }
            out.ready().await?;
        };
        group.write(&o, out.buf());
        if let Some(file) = &mut file {
            use std::io::Write;
            file.write_all(out.buf())?;
            out.buf().clear();
        }
        out.flush().await?;
        Ok(CommandStatus::with_code(status))
    }
}
