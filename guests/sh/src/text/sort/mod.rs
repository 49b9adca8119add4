//! `sort` as GNU coreutils in a UTF-8 locale whose collation is the
//! bytes' order (C.UTF-8), as an external merge sort: lines are gathered
//! into runs of at most `RUN_BYTES`, each run sorted and written to a
//! spill file in the step's private `/tmp` (or `-T DIR`, `$TMPDIR`), and
//! the runs merged; each spill file is removed as soon as it is read to
//! its end. A step's memory holds one run, however large the input.
//! Lines end in `\n`, or in NUL under `-z`.

mod keys;
mod runs;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use self::keys::{Flags, Key, Spec};
use self::runs::{Chunk, Sink, Spills};
use super::options::value;
use super::{LineReader, Out, Parsed, Stop, Usage, begin, open, reason, split_records};

pub(crate) struct Sort;

const TOOL: &str = "sort";
const HELP: &str = "Usage: sort [OPTION]... [FILE]...\nWrite sorted concatenation of all FILE(s) to standard output.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -b, --ignore-leading-blanks  ignore leading blanks\n  -d, --dictionary-order      consider only blanks and alphanumeric characters\n  -f, --ignore-case           fold lower case to upper case characters\n  -g, --general-numeric-sort  compare according to general numerical value\n  -i, --ignore-nonprinting    consider only printable characters\n  -M, --month-sort            compare (unknown) < 'JAN' < ... < 'DEC'\n  -h, --human-numeric-sort    compare human readable numbers (e.g., 2K 1G)\n  -n, --numeric-sort          compare according to string numerical value\n  -r, --reverse               reverse the result of comparisons\n  -V, --version-sort          natural sort of (version) numbers within text\n  -c, --check                 check for sorted input; do not sort\n  -C, --check=quiet           like -c, but do not report first bad line\n  -k, --key=KEYDEF            sort via a key; KEYDEF gives location and type\n  -m, --merge                 merge already sorted files; do not sort\n  -o, --output=FILE           write result to FILE instead of standard output\n  -s, --stable                stabilize sort by disabling last-resort comparison\n  -t, --field-separator=SEP   use SEP instead of non-blank to blank transition\n  -T, --temporary-directory=DIR  use DIR for temporaries, not $TMPDIR or /tmp\n  -u, --unique                with -c, check for strict ordering;\n                                without -c, output only the first of an equal run\n      --help        display this help and exit\n      --version     output version information and exit\n";

/// Bytes of lines (and their index) gathered before a run is sorted and
/// spilled. The guest cannot see the step's memory limit: small enough for
/// the smallest sensible one, large enough that a gigabyte makes a few
/// hundred runs to merge.
const RUN_BYTES: usize = 4 << 20;

enum Check {
    No,
    Say,
    Quiet,
}

struct Options {
    spec: Spec,
    check: Check,
    output: Option<String>,
    temp: Option<String>,
    operands: Vec<String>,
}

fn bad_key(text: &str, why: &str) -> Usage {
    Usage { message: format!("{TOOL}: {why}: invalid field specification ‘{text}’\n"), status: 2 }
}

/// `F[.C][FLAGS]`: the field, the character and the flags.
fn position(text: &str, whole: &str, start: bool, flags: &mut Flags) -> Result<(usize, usize, bool), Usage> {
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let field_len = digits(text);
    let field: usize = text[..field_len].parse().map_err(|_| bad_key(whole, "invalid number at field start"))?;
    if field == 0 {
        return Err(bad_key(whole, "field number is zero"));
    }
    let mut rest = &text[field_len..];
    let mut char_pos = 0;
    if let Some(after) = rest.strip_prefix('.') {
        let len = digits(after);
        char_pos = after[..len].parse().map_err(|_| bad_key(whole, "invalid number after '.'"))?;
        if start && char_pos == 0 {
            return Err(bad_key(whole, "character offset is zero"));
        }
        rest = &after[len..];
    }
    let mut blanks = false;
    for letter in rest.chars() {
        if letter == 'b' {
            blanks = true;
        } else if !flags.set(letter) {
            return Err(bad_key(whole, "stray character in field spec"));
        }
    }
    Ok((field, char_pos, blanks))
}

fn key(text: &str) -> Result<Key, Usage> {
    let mut flags = Flags::default();
    let (start, end) = match text.split_once(',') {
        Some((start, end)) => (start, Some(end)),
        None => (text, None),
    };
    let (start_field, start_char, start_blanks) = position(start, text, true, &mut flags)?;
    let (end_field, end_char, end_blanks) = match end {
        Some(end) => {
            let (field, char_pos, blanks) = position(end, text, false, &mut flags)?;
            (Some(field), char_pos, blanks)
        }
        None => (None, 0, false),
    };
    // `b` on either end applies to the key's ordering too, as GNU's.
    flags.blanks |= start_blanks && end.is_none();
    Ok(Key { start_field, start_char: start_char.max(1), start_blanks, end_field, end_char, end_blanks, flags })
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let usage = |e| Usage { status: 2, ..Usage::option(TOOL, e) };
    let val = |parser: &mut lexopt::Parser| value(TOOL, parser).map_err(|u| Usage { status: 2, ..u });
    let mut o = Options {
        spec: Spec {
            keys: Vec::new(),
            global: Flags::default(),
            separator: None,
            stable: false,
            unique: false,
            end: b'\n',
        },
        check: Check::No,
        output: None,
        temp: None,
        operands: Vec::new(),
    };
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short(c @ ('n' | 'g' | 'h' | 'V' | 'M' | 'r' | 'f' | 'd' | 'i' | 'b')) => {
                o.spec.global.set(c);
            }
            Long(
                name @ ("numeric-sort"
                | "general-numeric-sort"
                | "human-numeric-sort"
                | "version-sort"
                | "month-sort"
                | "reverse"
                | "ignore-case"
                | "dictionary-order"
                | "ignore-nonprinting"
                | "ignore-leading-blanks"),
            ) => {
                let letter = match name {
                    "numeric-sort" => 'n',
                    "general-numeric-sort" => 'g',
                    "human-numeric-sort" => 'h',
                    "version-sort" => 'V',
                    "month-sort" => 'M',
                    "reverse" => 'r',
                    "ignore-case" => 'f',
                    "dictionary-order" => 'd',
                    "ignore-nonprinting" => 'i',
                    _ => 'b',
                };
                o.spec.global.set(letter);
            }
            Short('k') | Long("key") => o.spec.keys.push(key(&val(&mut parser)?)?),
            Short('t') | Long("field-separator") => {
                let sep = val(&mut parser)?;
                o.spec.separator = Some(match sep.as_bytes() {
                    [one] => *one,
                    b"\\0" => 0,
                    [] => return Err(Usage { status: 2, ..Usage::new(TOOL, "empty tab") }),
                    _ => {
                        let message = format!("{TOOL}: multi-character tab ‘{sep}’\n");
                        return Err(Usage { message, status: 2 });
                    }
                });
            }
            Short('u') | Long("unique") => o.spec.unique = true,
            Short('z') | Long("zero-terminated") => o.spec.end = b'\0',
            Short('s') | Long("stable") => o.spec.stable = true,
            Short('c') => o.check = Check::Say,
            Short('C') => o.check = Check::Quiet,
            Long("check") => {
                o.check = match parser.optional_value().map(super::text).as_deref() {
                    Some("quiet" | "silent") => Check::Quiet,
                    _ => Check::Say,
                }
            }
            Short('o') | Long("output") => o.output = Some(val(&mut parser)?),
            Short('T') | Long("temporary-directory") => o.temp = Some(val(&mut parser)?),
            // Merging sorted inputs is sorting them; sizes and threads are runbox's.
            Short('m') | Long("merge") => {}
            Short('S') | Long("buffer-size" | "parallel" | "batch-size") => drop(val(&mut parser)?),
            Short('R') | Long("random-sort" | "random-source") => {
                let message = format!("{TOOL}: runbox's sort does not shuffle (-R); use shuf\n");
                return Err(Usage { message, status: 2 });
            }
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("sort (runbox)\n")),
            Value(v) => o.operands.push(super::text(v)),
            other => return Err(usage(other.unexpected())),
        }
    }
    if o.operands.is_empty() {
        o.operands.push("-".into());
    }
    Ok(Parsed::Run(o))
}

/// `-c`: the first line out of order, as `FILE:N: disorder: LINE`.
async fn check(ctx: &CommandContext<'_>, o: &Options, quiet: bool) -> bashkit::Result<i32> {
    let name = &o.operands[0];
    let source = match open(ctx.cwd, name, &ctx.stdin) {
        Ok(source) => source,
        Err(e) => {
            ctx.stderr.write_all(format!("{TOOL}: cannot read: {name}: {}\n", reason(&e)).as_bytes()).await?;
            return Ok(2);
        }
    };
    let mut reader = LineReader::ending(source, o.spec.end);
    let mut previous: Option<Vec<u8>> = None;
    let mut number = 0u64;
    loop {
        let run = match reader.lines().await {
            Ok(Some(run)) => run,
            Ok(None) => return Ok(0),
            Err(Stop::Shell(e)) => return Err(e),
            Err(Stop::Read(e)) => {
                ctx.stderr.write_all(format!("{TOOL}: cannot read: {name}: {}\n", reason(&e)).as_bytes()).await?;
                return Ok(2);
            }
        };
        for line in split_records(run, o.spec.end) {
            number += 1;
            let line = line.strip_suffix(&[o.spec.end]).unwrap_or(line);
            if let Some(previous) = &previous {
                let order = o.spec.order(previous, line);
                if order.is_gt() || (o.spec.unique && order.is_eq()) {
                    if !quiet {
                        let shown = if name == "-" { "-" } else { name.as_str() };
                        // Ended as the line was (NUL under `-z`), as GNU's.
                        let line = String::from_utf8_lossy(line);
                        let message = format!("{TOOL}: {shown}:{number}: disorder: {line}{}", char::from(o.spec.end));
                        ctx.stderr.write_all(message.as_bytes()).await?;
                    }
                    return Ok(1);
                }
            }
            previous = Some(line.to_vec());
        }
    }
}

#[async_trait]
impl Command for Sort {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        match o.check {
            Check::Say => return Ok(CommandStatus::with_code(check(&ctx, &o, false).await?)),
            Check::Quiet => return Ok(CommandStatus::with_code(check(&ctx, &o, true).await?)),
            Check::No => {}
        }
        let temp = o.temp.clone().or_else(|| ctx.env.get("TMPDIR").cloned()).unwrap_or_else(|| "/tmp".into());
        let mut spills = Spills::new(ctx.cwd.join(&temp), temp);
        let mut chunk = Chunk::with_capacity(RUN_BYTES);
        // Every input is read before any output: `sort -o f f` is safe.
        for name in &o.operands {
            let source = match open(ctx.cwd, name, &ctx.stdin) {
                Ok(source) => source,
                Err(e) => {
                    ctx.stderr.write_all(format!("{TOOL}: cannot read: {name}: {}\n", reason(&e)).as_bytes()).await?;
                    return Ok(CommandStatus::with_code(2));
                }
            };
            let mut reader = LineReader::ending(source, o.spec.end);
            loop {
                let run = match reader.lines().await {
                    Ok(Some(run)) => run,
                    Ok(None) => break,
                    Err(Stop::Shell(e)) => return Err(e),
                    Err(Stop::Read(e)) => {
                        let message = format!("{TOOL}: cannot read: {name}: {}\n", reason(&e));
                        ctx.stderr.write_all(message.as_bytes()).await?;
                        return Ok(CommandStatus::with_code(2));
                    }
                };
                for line in split_records(run, o.spec.end) {
                    chunk.push(line.strip_suffix(&[o.spec.end]).unwrap_or(line));
                }
                if chunk.size() >= RUN_BYTES
                    && let Err(message) = spills.spill(&mut chunk, &o.spec)
                {
                    ctx.stderr.write_all(format!("{TOOL}: {message}\n").as_bytes()).await?;
                    return Ok(CommandStatus::with_code(2));
                }
            }
        }
        let mut sink = match &o.output {
            None => Sink::Out(Out::new(ctx.stdout.clone())),
            Some(name) => match std::fs::File::create(ctx.cwd.join(name)) {
                Ok(file) => Sink::File(std::io::BufWriter::with_capacity(64 * 1024, file)),
                Err(e) => {
                    let message = format!("{TOOL}: open failed: {name}: {}\n", reason(&e));
                    ctx.stderr.write_all(message.as_bytes()).await?;
                    return Ok(CommandStatus::with_code(2));
                }
            },
        };
        let written = if spills.is_empty() {
            chunk.sort(&o.spec);
            sink.lines(chunk.lines(), &o.spec).await
        } else {
            match spills.spill(&mut chunk, &o.spec) {
                Ok(()) => spills.merge(&o.spec, &mut sink).await,
                Err(message) => {
                    ctx.stderr.write_all(format!("{TOOL}: {message}\n").as_bytes()).await?;
                    return Ok(CommandStatus::with_code(2));
                }
            }
        };
        match written.and(sink.finish().await) {
            Ok(()) => Ok(CommandStatus::success()),
            Err(runs::Failed::Shell(e)) => Err(e),
            Err(runs::Failed::Io(message)) => {
                ctx.stderr.write_all(format!("{TOOL}: {message}\n").as_bytes()).await?;
                Ok(CommandStatus::with_code(2))
            }
        }
    }
}
