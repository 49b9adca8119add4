//! `awk` as GNU awk runs POSIX programs: patterns and actions, `BEGIN` and
//! `END`, ranges, fields (`FS`, `-F`, `$n` assignment, `NF`), arrays and
//! `in`, `delete`, `for (k in a)`, user functions (arrays by reference),
//! `printf`/`sprintf`, the string and numeric builtins, `getline` (plain,
//! `var`, `< file`), `print > file`, `-v`, `-f`, and `var=value` operands,
//! a record at a time: it holds the program's own data, never the input.
//! Commands (`system()`, `print | cmd`, `cmd | getline`) are refused.

mod format;
mod interp;
mod lex;
mod parse;
mod record;
mod value;

use std::sync::Arc;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use self::interp::{Cell, Interp, Stop};
use self::parse::{ARGC, ARGV, ENVIRON, FILENAME, FNR, FS, Program};
use self::record::{Next, Records};
use self::value::Value;
use super::Stop as ReadStop;
use super::{Parsed, Source, Usage, begin, open, reason};

pub(crate) struct Awk;

const TOOL: &str = "awk";
const HELP: &str = "Usage: awk [POSIX or GNU style options] -f progfile [--] file ...\nUsage: awk [POSIX or GNU style options] [--] 'program' file ...\nPOSIX options:\t\tGNU long options: (standard)\n\t-f progfile\t\t--file=progfile\n\t-F fs\t\t\t--field-separator=fs\n\t-v var=val\t\t--assign=var=val\n\t-e 'program-text'\t--source='program-text'\n\nrunbox's awk runs no commands: system(), print | \"cmd\" and \"cmd\" | getline are refused;\nrun the step natively (--allow-native) for them.\n";

struct Options {
    program: Option<String>,
    files: Vec<String>,
    sources: Vec<String>,
    fs: Option<String>,
    assigns: Vec<String>,
    operands: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value as Val};
    let mut o = Options {
        program: None,
        files: Vec::new(),
        sources: Vec::new(),
        fs: None,
        assigns: Vec::new(),
        operands: Vec::new(),
    };
    let mut parser = super::options::parser(args);
    let usage = |e: lexopt::Error| Usage::option(TOOL, e);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('F') | Long("field-separator") => o.fs = Some(super::text(parser.value().map_err(usage)?)),
            Short('v') | Long("assign") => o.assigns.push(super::text(parser.value().map_err(usage)?)),
            Short('f') | Long("file") => o.files.push(super::text(parser.value().map_err(usage)?)),
            Short('e') | Long("source") => o.sources.push(super::text(parser.value().map_err(usage)?)),
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("awk (runbox)\n")),
            Val(v) => {
                o.operands.push(super::text(v));
                // The program and the operands after it are not options.
                o.operands.extend(parser.raw_args().map_err(usage)?.map(super::text));
            }
            other => return Err(usage(other.unexpected())),
        }
    }
    if o.files.is_empty() && o.sources.is_empty() {
        if o.operands.is_empty() {
            return Err(Usage { message: HELP.to_string(), status: 1 });
        }
        o.program = Some(o.operands.remove(0));
    }
    Ok(Parsed::Run(o))
}

/// A command line's string as an awk string literal reads it (`-v`, `-F`,
/// `var=value` operands): escapes processed.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('/') => out.push('/'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `name=value`, when `text` is an assignment operand.
fn assignment(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some((name, value))
}

#[async_trait]
impl Command for Awk {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse_args(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let mut source = o.program.clone().unwrap_or_default();
        for name in &o.files {
            let read = if name == "/dev/null" { Ok(Vec::new()) } else { std::fs::read(ctx.cwd.join(name)) };
            match read {
                Ok(bytes) => {
                    source.push_str(&String::from_utf8_lossy(&bytes));
                    source.push('\n');
                }
                Err(e) => {
                    let message = format!("awk: fatal: can't open source file `{name}' for reading: {}\n", reason(&e));
                    ctx.stderr.write_all(message.as_bytes()).await?;
                    return Ok(CommandStatus::with_code(2));
                }
            }
        }
        for text in &o.sources {
            source.push_str(text);
            source.push('\n');
        }
        let program = match lex::lex(&source).and_then(|tokens| parse::parse(&source, tokens)) {
            Ok(p) => p,
            Err(message) => {
                let message = if message.ends_with('\n') { message } else { format!("{message}\n") };
                ctx.stderr.write_all(message.as_bytes()).await?;
                // gawk: 1 for a syntax error, 2 for a fatal one.
                let status = if message.contains(": fatal: ") { 2 } else { 1 };
                return Ok(CommandStatus::with_code(status));
            }
        };
        run(&ctx, &o, &program).await
    }
}

async fn run(ctx: &CommandContext<'_>, o: &Options, program: &Program) -> bashkit::Result<CommandStatus> {
    let mut awk = Interp::new(program, ctx.cwd.to_path_buf());
    {
        let environ = awk.array(ENVIRON);
        let mut environ = environ.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (k, v) in ctx.env {
            environ.insert(Arc::from(k.as_str()), Value::input(v.as_str()));
        }
        let argv = awk.array(ARGV);
        let mut argv = argv.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        argv.insert(Arc::from("0"), Value::str("awk"));
        for (i, operand) in o.operands.iter().enumerate() {
            argv.insert(Arc::from((i + 1).to_string()), Value::input(operand.as_str()));
        }
    }
    awk.set_global(ARGC, Value::Num((o.operands.len() + 1) as f64));
    if let Some(fs) = &o.fs {
        let fs = if fs == "t" { "\t".to_string() } else { unescape(fs) };
        awk.set_global(FS, Value::str(fs));
    }
    for a in &o.assigns {
        let Some((name, value)) = assignment(a) else {
            let message = format!("awk: fatal: `{a}' is not a legal variable name\n");
            ctx.stderr.write_all(message.as_bytes()).await?;
            return Ok(CommandStatus::with_code(2));
        };
        assign(&mut awk, name, value);
    }
    let mut status = None;
    let mut exited = false;
    let preopened = match preopen(ctx, &mut awk).await? {
        Ok(p) => p,
        Err(Stop::Fatal(m)) => {
            status = Some(fail(&mut awk, m));
            None
        }
        Err(_) => None,
    };
    match awk.begin() {
        Ok(()) => {}
        Err(Stop::Exit) => exited = true,
        Err(Stop::Fatal(m)) => status = Some(fail(&mut awk, m)),
        Err(_) => {}
    }
    flush(ctx, &mut awk).await?;
    if status.is_none() && !exited && awk.has_main() {
        match main_input(ctx, &mut awk, preopened).await? {
            Ok(()) => {}
            Err(Stop::Exit) => {}
            Err(Stop::Fatal(m)) => status = Some(fail(&mut awk, m)),
            Err(_) => {}
        }
    }
    if status.is_none() {
        match awk.end() {
            Ok(()) | Err(Stop::Exit) => {}
            Err(Stop::Fatal(m)) => status = Some(fail(&mut awk, m)),
            Err(_) => {}
        }
    }
    awk.finish();
    flush(ctx, &mut awk).await?;
    Ok(CommandStatus::with_code(status.unwrap_or(awk.exit_code)))
}

fn fail(awk: &mut Interp<'_>, message: String) -> i32 {
    awk.err.extend_from_slice(message.as_bytes());
    if !message.ends_with('\n') {
        awk.err.push(b'\n');
    }
    2
}

/// A `var=value` operand or `-v`: the value as input text.
fn assign(awk: &mut Interp<'_>, name: &str, value: &str) {
    let slot = awk.prog.globals.iter().position(|g| g == name);
    if let Some(slot) = slot
        && matches!(awk.globals[slot], Cell::Val(_))
    {
        awk.set_global(slot, Value::input(unescape(value)));
    }
}

async fn flush(ctx: &CommandContext<'_>, awk: &mut Interp<'_>) -> bashkit::Result<()> {
    if !awk.out.is_empty() {
        ctx.stdout.write_all(&awk.out).await?;
        awk.out.clear();
    }
    if !awk.err.is_empty() {
        ctx.stderr.write_all(&awk.err).await?;
        awk.err.clear();
    }
    Ok(())
}

/// Reads the operands in ARGV order (as BEGIN left them), or standard
/// input when none is a file, and runs the rules over each record.
async fn main_input(
    ctx: &CommandContext<'_>,
    awk: &mut Interp<'_>,
    preopened: Option<usize>,
) -> bashkit::Result<Result<(), Stop>> {
    let mut read_any = false;
    for (i, operand) in operands(awk) {
        if let Some((name, value)) = assignment(&operand) {
            assign(awk, name, value);
            continue;
        }
        read_any = true;
        let read = if preopened == Some(i) {
            drain_source(ctx, awk, None).await?
        } else {
            read_source(ctx, awk, &operand).await?
        };
        if let Err(stop) = read {
            return Ok(Err(stop));
        }
    }
    if !read_any {
        return if preopened == Some(0) {
            drain_source(ctx, awk, None).await
        } else {
            read_source(ctx, awk, "-").await
        };
    }
    Ok(Ok(()))
}

/// The non-empty operands of ARGV, by index, as the program left them.
fn operands(awk: &Interp<'_>) -> Vec<(usize, String)> {
    let argc = match &awk.globals[ARGC] {
        Cell::Val(v) => v.num().clamp(0.0, 1e9) as usize,
        Cell::Arr(_) => 0,
    };
    let argv = awk.array(ARGV);
    let argv = argv.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    (1..argc.max(1))
        .filter_map(|i| {
            let text = argv.get(i.to_string().as_str())?.text("%.6g").to_string();
            (!text.is_empty()).then_some((i, text))
        })
        .collect()
}

/// A program with a plain `getline` may read in `BEGIN`: its first input
/// is opened before. Which ARGV index it is (0 for standard input).
async fn preopen(ctx: &CommandContext<'_>, awk: &mut Interp<'_>) -> bashkit::Result<Result<Option<usize>, Stop>> {
    if !awk.prog.reads_main {
        return Ok(Ok(None));
    }
    let first = operands(awk).into_iter().find(|(_, o)| assignment(o).is_none());
    let (index, operand) = first.unwrap_or((0, "-".to_string()));
    match open_source(ctx, awk, &operand).await? {
        Ok(_) => Ok(Ok(Some(index))),
        Err(stop) => Ok(Err(stop)),
    }
}

/// Opens an operand as the main input (`awk.main`). What comes back is
/// standard input to read as it comes; `None` when the operand is a file,
/// or standard input read whole (a program with a plain `getline` reads on
/// from inside, which cannot wait for a pipe). `Err` for a file that cannot
/// be opened (gawk's fatal error); a directory is skipped with a warning.
async fn open_source(
    ctx: &CommandContext<'_>,
    awk: &mut Interp<'_>,
    operand: &str,
) -> bashkit::Result<Result<Option<Option<Source>>, Stop>> {
    let source = match open(ctx.cwd, operand, &ctx.stdin) {
        Ok(source) => source,
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
            let message = format!("awk: warning: command line argument `{operand}' is a directory: skipped\n");
            awk.err.extend_from_slice(message.as_bytes());
            return Ok(Ok(None));
        }
        Err(e) => {
            let message = format!("awk: fatal: cannot open file `{operand}' for reading: {}\n", reason(&e));
            return Ok(Err(Stop::Fatal(message)));
        }
    };
    awk.set_global(FILENAME, Value::str(if operand == "-" { "" } else { operand }));
    awk.set_global(FNR, Value::Num(0.0));
    let (file, mut stdin) = match source {
        Source::File(f) => (Some(f), None),
        other => (None, Some(other)),
    };
    let mut records = Records::new();
    if awk.prog.reads_main
        && let Some(s) = &mut stdin
    {
        loop {
            match s.read_into(records.space()).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(ReadStop::Read(_)) => break,
                Err(ReadStop::Shell(e)) => return Err(e),
            }
        }
        records.eof = true;
        stdin = None;
    }
    awk.main = Some((records, file));
    Ok(Ok(Some(stdin)))
}

async fn read_source(
    ctx: &CommandContext<'_>,
    awk: &mut Interp<'_>,
    operand: &str,
) -> bashkit::Result<Result<(), Stop>> {
    match open_source(ctx, awk, operand).await? {
        Ok(Some(stdin)) => drain_source(ctx, awk, stdin).await,
        Ok(None) => Ok(Ok(())),
        Err(stop) => Ok(Err(stop)),
    }
}

/// Runs the rules over every record of the open main input.
async fn drain_source(
    ctx: &CommandContext<'_>,
    awk: &mut Interp<'_>,
    mut stdin: Option<Source>,
) -> bashkit::Result<Result<(), Stop>> {
    loop {
        let rs = match awk.rs() {
            Ok(rs) => rs,
            Err(e) => return Ok(Err(Stop::Fatal(format!("awk: fatal: invalid RS: {e}\n")))),
        };
        let Some((records, file)) = &mut awk.main else { break };
        let record = match records.next(&rs) {
            Next::Record(r) => r,
            Next::End => break,
            Next::More => {
                if let Some(f) = file {
                    use std::io::Read;
                    let buf = records.space();
                    let start = buf.len();
                    buf.resize(start + super::input::CHUNK, 0);
                    let n = f.read(&mut buf[start..]).unwrap_or(0);
                    buf.truncate(start + n);
                    if n == 0 {
                        records.eof = true;
                    }
                } else if let Some(s) = &mut stdin {
                    match s.read_into(records.space()).await {
                        Ok(0) => records.eof = true,
                        Ok(_) => {}
                        Err(ReadStop::Read(_)) => records.eof = true,
                        Err(ReadStop::Shell(e)) => return Err(e),
                    }
                } else {
                    records.eof = true;
                }
                continue;
            }
        };
        awk.set_record(record);
        awk.count_record();
        match awk.rules() {
            Ok(()) | Err(Stop::Next) => {}
            Err(Stop::NextFile) => break,
            Err(other) => {
                awk.main = None;
                return Ok(Err(other));
            }
        }
        if awk.out.len() >= 64 * 1024 || !awk.err.is_empty() {
            flush(ctx, awk).await?;
        }
    }
    awk.main = None;
    Ok(Ok(()))
}
