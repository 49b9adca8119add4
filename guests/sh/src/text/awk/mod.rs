//! `awk` as GNU awk runs POSIX programs: patterns and actions, `BEGIN` and
//! `END`, ranges, fields (`FS`, `-F`, `$n` assignment, `NF`), arrays and
//! `in`, `delete`, `for (k in a)`, user functions (arrays by reference),
//! `printf`/`sprintf`, the string and numeric builtins, `getline` (plain,
//! `var`, `< file`), `print > file`, `-v`, `-f`, and `var=value` operands,
//! a record at a time: it holds the program's own data, never the input.
//! And gawk's extensions scripts use: `BEGINFILE`/`ENDFILE`, `nextfile`,
//! `RT` and regexp `RS`, `FPAT`, `FIELDWIDTHS`, `IGNORECASE`, `gensub`,
//! `patsplit`, `match(s, r, arr)`, `split`'s separators, `asort`/`asorti`,
//! `PROCINFO["sorted_in"]`, `@/re/`, `\y`, `%N$` in formats, `-b`, and
//! `-i inplace`. Commands (`system()`, `print | cmd`, `cmd | getline`) are
//! refused.

mod format;
mod interp;
mod lex;
mod parse;
mod record;
mod sorted;
mod value;

use std::sync::Arc;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use self::interp::{Cell, Interp, Stop};
use self::parse::{ARGC, ARGV, ENVIRON, FILENAME, FNR, FS, Program, RT};
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
    /// `-b`: characters are bytes.
    bytes: bool,
    /// `-i inplace`: each file's output replaces it.
    inplace: bool,
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
        bytes: false,
        inplace: false,
    };
    let mut parser = super::options::parser(args);
    let usage = |e: lexopt::Error| Usage::option(TOOL, e);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('F') | Long("field-separator") => o.fs = Some(super::text(parser.value().map_err(usage)?)),
            Short('v') | Long("assign") => o.assigns.push(super::text(parser.value().map_err(usage)?)),
            Short('f') | Long("file") => o.files.push(super::text(parser.value().map_err(usage)?)),
            Short('e') | Long("source") => o.sources.push(super::text(parser.value().map_err(usage)?)),
            Short('b') | Long("characters-as-bytes") => o.bytes = true,
            // The sandbox has no locale but C.UTF-8: its decimal point is `.`.
            Short('N') | Long("use-lc-numeric") => {}
            Short('i') | Long("include") => {
                let library = super::text(parser.value().map_err(usage)?);
                if library != "inplace" && library != "inplace.awk" {
                    return Err(Usage {
                        message: format!(
                            "awk: fatal: can't open source file `{library}' for reading: runbox's awk includes \
                             only gawk's `inplace'; put the library's text in the program (-f FILE -f …)\n"
                        ),
                        status: 2,
                    });
                }
                o.inplace = true;
            }
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
/// `var=value` operands): escapes processed, the backslash of one awk does
/// not know dropped, with gawk's warning.
fn unescape(text: &str, warnings: &mut Vec<u8>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut warned = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        at += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        match lex::escape(&chars, &mut at) {
            Some(e) => out.push(e),
            None if at < chars.len() => {
                let e = chars[at];
                let warning = format!("awk: warning: escape sequence `\\{e}' treated as plain `{e}'\n");
                // Once for each character, as gawk warns.
                if !warned.contains(&e) {
                    warned.push(e);
                    warnings.extend_from_slice(warning.as_bytes());
                }
                out.push(e);
                at += 1;
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
        let mut warnings = Vec::new();
        let lexed = lex::lex(&source, &mut warnings);
        for w in &warnings {
            ctx.stderr.write_all(format!("{w}\n").as_bytes()).await?;
        }
        let program = match lexed.and_then(|tokens| parse::parse(&source, tokens)) {
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
    // In the C locale gawk's characters are bytes, as under `-b`.
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|k| ctx.env.get(*k).filter(|v| !v.is_empty()));
    awk.bytes = o.bytes || locale.is_some_and(|l| l == "C" || l == "POSIX");
    let mut inplace = o.inplace.then_some(Inplace { suffix: None, file: None });
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
        let fs = if fs == "t" { "\t".to_string() } else { unescape(fs, &mut awk.err) };
        awk.set_global(FS, Value::str(fs));
    }
    for a in &o.assigns {
        if let Some(inplace) = &mut inplace
            && let Some(suffix) = a.strip_prefix("inplace::suffix=").or_else(|| a.strip_prefix("INPLACE_SUFFIX="))
        {
            inplace.suffix = Some(unescape(suffix, &mut awk.err)).filter(|s| !s.is_empty());
            continue;
        }
        let Some((name, value)) = assignment(a) else {
            let message = format!("awk: fatal: `{a}' is not a legal variable name\n");
            ctx.stderr.write_all(message.as_bytes()).await?;
            return Ok(CommandStatus::with_code(2));
        };
        if let Err(Stop::Fatal(m)) = assign(&mut awk, name, value) {
            // Before the program runs, gawk's message names no line.
            fail(&mut awk, m.replacen("awk: cmd. line:1: fatal:", "awk: fatal:", 1));
            flush(ctx, &mut awk).await?;
            return Ok(CommandStatus::with_code(2));
        }
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
        match main_input(ctx, &mut awk, preopened, &mut inplace).await? {
            Ok(()) => {}
            Err(Stop::Exit) => {
                // gawk replaces the file being edited with what was written.
                if let Some(i) = &mut inplace
                    && let Err(m) = i.commit(&mut awk)
                {
                    status = Some(fail(&mut awk, m));
                }
            }
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
    if let Some(i) = &mut inplace {
        // A fatal error leaves the file as it was.
        i.abandon(&mut awk);
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
fn assign(awk: &mut Interp<'_>, name: &str, value: &str) -> Result<(), Stop> {
    let slot = awk.prog.globals.iter().position(|g| g == name);
    if let Some(slot) = slot
        && matches!(awk.globals[slot], Cell::Val(_))
    {
        let value = unescape(value, &mut awk.err);
        awk.set_global(slot, Value::input(value));
        awk.assigned(slot)?;
    }
    Ok(())
}

async fn flush(ctx: &CommandContext<'_>, awk: &mut Interp<'_>) -> bashkit::Result<()> {
    if !awk.out.is_empty() {
        match &mut awk.stdout_file {
            // A failed write is reported when the file is replaced.
            Some(file) => {
                use std::io::Write as _;
                if let Err(e) = file.write_all(&awk.out) {
                    awk.stdout_error = Some(e);
                }
            }
            None => ctx.stdout.write_all(&awk.out).await?,
        }
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
    inplace: &mut Option<Inplace>,
) -> bashkit::Result<Result<(), Stop>> {
    let mut read_any = false;
    for (i, operand) in operands(awk) {
        if let Some((name, value)) = assignment(&operand) {
            if let Err(stop) = assign(awk, name, value) {
                return Ok(Err(stop));
            }
            continue;
        }
        read_any = true;
        let read = if preopened == Some(i) {
            drain_source(ctx, awk, None).await?
        } else {
            read_source(ctx, awk, &operand, inplace).await?
        };
        if let Err(stop) = read {
            return Ok(Err(stop));
        }
    }
    if !read_any {
        return if preopened == Some(0) {
            drain_source(ctx, awk, None).await
        } else {
            read_source(ctx, awk, "-", &mut None).await
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
    awk.set_global(FILENAME, Value::str(operand));
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

/// One input: `BEGINFILE`, its records, `ENDFILE` (and, under `-i
/// inplace`, its new text written in its place).
async fn read_source(
    ctx: &CommandContext<'_>,
    awk: &mut Interp<'_>,
    operand: &str,
    inplace: &mut Option<Inplace>,
) -> bashkit::Result<Result<(), Stop>> {
    let stdin = match open_source(ctx, awk, operand).await? {
        Ok(Some(stdin)) => stdin,
        Ok(None) => return Ok(Ok(())),
        Err(stop) => return Ok(Err(stop)),
    };
    let editing = stdin.is_none() && operand != "-";
    if editing && let Some(i) = inplace {
        flush(ctx, awk).await?;
        if let Err(m) = i.begin(awk, operand) {
            awk.main = None;
            return Ok(Err(Stop::Fatal(m)));
        }
    }
    let read = match awk.file_rules(true) {
        Ok(()) => drain_source(ctx, awk, stdin).await?,
        // `nextfile` in BEGINFILE skips the file.
        Err(Stop::NextFile) => {
            awk.main = None;
            Ok(())
        }
        Err(stop) => {
            awk.main = None;
            Err(stop)
        }
    };
    let read = read.and_then(|()| match awk.file_rules(false) {
        Err(Stop::Next | Stop::NextFile) => Ok(()),
        other => other,
    });
    if read.is_ok()
        && editing
        && let Some(i) = inplace
        && let Err(m) = i.commit(awk)
    {
        return Ok(Err(Stop::Fatal(m)));
    }
    Ok(read)
}

/// gawk's `-i inplace`: a file's output goes to a new file beside it,
/// which replaces it when the file is done (the old one kept under
/// `inplace::suffix`, when one is given).
struct Inplace {
    suffix: Option<String>,
    /// The file being edited (its path, and its name as the program gave
    /// it) and the new file's path.
    file: Option<(std::path::PathBuf, String, std::path::PathBuf)>,
}

impl Inplace {
    fn begin(&mut self, awk: &mut Interp<'_>, operand: &str) -> Result<(), String> {
        let path = awk.cwd().join(operand);
        let dir = path.parent().map_or_else(|| awk.cwd().to_path_buf(), std::path::Path::to_path_buf);
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        // A name no other file has: created, never opened through a link.
        for n in 0..1000 {
            let temp = dir.join(format!(".{name}.awk-inplace-{n}"));
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(f) => {
                    awk.stdout_file = Some(std::io::BufWriter::new(f));
                    self.file = Some((path, operand.to_string(), temp));
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!("awk: fatal: inplace::begin: mkstemp(`{operand}') failed ({})", reason(&e)));
                }
            }
        }
        Err(format!("awk: fatal: inplace::begin: mkstemp(`{operand}') failed (too many left-over files)"))
    }

    /// The new text in the file's place.
    fn commit(&mut self, awk: &mut Interp<'_>) -> Result<(), String> {
        let Some((path, shown, temp)) = self.file.take() else { return Ok(()) };
        use std::io::Write as _;
        let file = awk.stdout_file.take();
        let written = match awk.stdout_error.take() {
            Some(e) => Err(e),
            None => file.map_or(Ok(()), |mut w| w.write_all(&awk.out).and_then(|()| w.flush())),
        };
        awk.out.clear();
        let result = written
            .map_err(|e| format!("awk: fatal: inplace::end: writing `{shown}' failed ({})", reason(&e)))
            .and_then(|()| match &self.suffix {
                Some(suffix) => {
                    let mut backup = path.clone().into_os_string();
                    backup.push(suffix);
                    std::fs::copy(&path, &backup).map(drop).map_err(|e| {
                        format!("awk: fatal: inplace::end: link(`{shown}', backup) failed ({})", reason(&e))
                    })
                }
                None => Ok(()),
            })
            .and_then(|()| {
                crate::text::inplace::put_in_place(&temp, &path).map_err(|e| {
                    let temp = temp.file_name().unwrap_or_default().to_string_lossy();
                    format!("awk: fatal: inplace::end: rename(`{temp}', `{shown}') failed ({})", reason(&e))
                })
            });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    /// A run that failed leaves the file as it was.
    fn abandon(&mut self, awk: &mut Interp<'_>) {
        if let Some((_, _, temp)) = self.file.take() {
            awk.stdout_file = None;
            awk.out.clear();
            let _ = std::fs::remove_file(temp);
        }
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
        let (record, rt) = match records.next(&rs) {
            Next::Record(r) => (r, records.rt_changed.then(|| String::from_utf8_lossy(&records.rt).into_owned())),
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
        if let Some(rt) = rt {
            awk.set_global(RT, Value::str(rt));
        }
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
