//! `sed` as GNU sed: the whole command language (`s`, `y`, `p`, `d`, `n`,
//! `N`, `D`, `P`, `h`/`H`/`g`/`G`/`x`, `b`/`t`/`T` and labels, `a`/`i`/`c`,
//! `=`, `l`, `q`/`Q`, `r`/`R`/`w`/`W`, `z`, `F`, blocks), every address
//! form, and `-n -e -f -E -r -s -i[SUFFIX] -z -l`, a line at a time: it
//! holds the pattern and hold spaces, never the input. `e` (run a
//! command) is refused, and patterns cannot hold back-references.

mod engine;
mod input;
mod script;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use self::engine::{Engine, Flow, Setup};
use self::input::Input;
use self::script::Piece;
use super::options::{Usage, value};
use super::{Parsed, begin, reason};

pub(crate) struct Sed;

const TOOL: &str = "sed";
const USAGE: &str = "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n\n  -n, --quiet, --silent\n                 suppress automatic printing of pattern space\n  -e script, --expression=script\n                 add the script to the commands to be executed\n  -f script-file, --file=script-file\n                 add the contents of script-file to the commands to be executed\n  --follow-symlinks\n                 follow symlinks when processing in place\n  -i[SUFFIX], --in-place[=SUFFIX]\n                 edit files in place (makes backup if SUFFIX supplied)\n  -l N, --line-length=N\n                 specify the desired line-wrap length for the `l' command\n  --posix\n                 disable all GNU extensions.\n  -E, -r, --regexp-extended\n                 use extended regular expressions in the script\n                 (for portability use POSIX -E).\n  -s, --separate\n                 consider files as separate rather than as a single,\n                 continuous long stream.\n      --sandbox\n                 operate in sandbox mode (disable e/r/w commands).\n  -u, --unbuffered\n                 load minimal amounts of data from the input files and flush\n                 the output buffers more often\n  -z, --null-data\n                 separate lines by NUL characters\n      --help     display this help and exit\n      --version  output version information and exit\n\nIf no -e, --expression, -f, or --file option is given, then the first\nnon-option argument is taken as the sed script to interpret.  All\nremaining arguments are names of input files; if no input files are\nspecified, then the standard input is read.\n\nrunbox's sed: the `e' command and back-references in patterns are not\nsupported; run the step natively (--allow-native) for them.\n";
const HELP: &str = USAGE;

/// A usage error as GNU sed words it: the error, then the whole usage.
fn usage(error: lexopt::Error) -> Usage {
    let first = Usage::option(TOOL, error).message.lines().next().unwrap_or_default().to_string();
    Usage { message: format!("{first}\n{USAGE}"), status: 1 }
}

/// A piece of the script as the command line gives it.
enum Given {
    Expression(String),
    File(String),
}

struct Options {
    quiet: bool,
    given: Vec<Given>,
    extended: bool,
    separate: bool,
    /// `-i`, with its backup suffix (empty for none).
    in_place: Option<String>,
    null_data: bool,
    /// `--sandbox`: no `r`, `R`, `w`, `W`.
    sandbox: bool,
    wrap: usize,
    operands: Vec<String>,
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options {
        quiet: false,
        given: Vec::new(),
        extended: false,
        separate: false,
        in_place: None,
        null_data: false,
        sandbox: false,
        wrap: 70,
        operands: Vec::new(),
    };
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('n') | Long("quiet" | "silent") => o.quiet = true,
            Short('e') | Long("expression") => o.given.push(Given::Expression(value(TOOL, &mut parser)?)),
            Short('f') | Long("file") => o.given.push(Given::File(value(TOOL, &mut parser)?)),
            Short('E' | 'r') | Long("regexp-extended") => o.extended = true,
            Short('s') | Long("separate") => o.separate = true,
            Short('i') | Long("in-place") => {
                o.in_place = Some(parser.optional_value().map(super::text).unwrap_or_default());
                o.separate = true;
            }
            Short('l') | Long("line-length") => {
                let text = value(TOOL, &mut parser)?;
                o.wrap = text.parse().map_err(|_| Usage::new(TOOL, format!("invalid line length: {text}")))?;
            }
            Short('z') | Long("null-data" | "zero-terminated") => o.null_data = true,
            Short('u') | Long("unbuffered" | "posix" | "follow-symlinks") => {}
            Long("sandbox") => o.sandbox = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("sed (runbox)\n")),
            Value(v) => o.operands.push(super::text(v)),
            other => return Err(usage(other.unexpected())),
        }
    }
    if o.given.is_empty() {
        if o.operands.is_empty() {
            return Err(Usage { message: USAGE.to_string(), status: 1 });
        }
        o.given.push(Given::Expression(o.operands.remove(0)));
    }
    Ok(Parsed::Run(o))
}

/// Where the main output goes: standard output, or the file being
/// written in place of an operand.
enum Dest {
    Stdout,
    File(std::fs::File),
}

#[async_trait]
impl Command for Sed {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let stderr = ctx.stderr.clone();
        let fail = |message: String, status: i32| {
            let stderr = stderr.clone();
            async move {
                stderr.write_all(message.as_bytes()).await?;
                Ok(CommandStatus::with_code(status))
            }
        };
        let mut pieces = Vec::new();
        for given in &o.given {
            pieces.push(match given {
                Given::Expression(text) => Piece::Expression(text.clone()),
                Given::File(name) => match std::fs::read(ctx.cwd.join(name)) {
                    Ok(bytes) => Piece::File { name: name.clone(), text: String::from_utf8_lossy(&bytes).into_owned() },
                    Err(e) => return fail(format!("sed: couldn't open file {name}: {}\n", reason(&e)), 4).await,
                },
            });
        }
        let script = match script::parse(&pieces, o.extended, o.sandbox) {
            Ok(script) => script,
            Err(failed) => return fail(failed.message, failed.status).await,
        };
        if o.in_place.is_some() && o.operands.is_empty() {
            return fail("sed: no input files\n".into(), 4).await;
        }
        let sep = if o.null_data { 0 } else { b'\n' };
        // `r /dev/stdin`, `R /dev/stdin`: standard input, when no input is it.
        let mut stdin = Vec::new();
        let names_stdin = script.line_files.iter().any(|n| n == "/dev/stdin")
            || script.instrs.iter().any(|i| matches!(&i.cmd, script::Cmd::ReadFile(n) if n == "/dev/stdin"));
        if names_stdin
            && !o.operands.is_empty()
            && !o.operands.iter().any(|n| n == "-")
            && let Ok(mut source) = super::open(ctx.cwd, "-", &ctx.stdin)
        {
            loop {
                match source.read_into(&mut stdin).await {
                    Ok(0) | Err(super::Stop::Read(_)) => break,
                    Ok(_) => {}
                    Err(super::Stop::Shell(e)) => return Err(e),
                }
            }
        }
        let setup = Setup { quiet: o.quiet, sep, wrap: o.wrap, in_place: o.in_place.is_some(), stdin };
        let mut engine = match Engine::new(script, setup, ctx.cwd) {
            Ok(engine) => engine,
            Err(message) => return fail(message, 4).await,
        };
        let operands = if o.operands.is_empty() { vec!["-".to_string()] } else { o.operands.clone() };
        let mut status = 0;
        let groups: Vec<Vec<String>> =
            if o.separate { operands.iter().map(|op| vec![op.clone()]).collect() } else { vec![operands] };
        let count = groups.len();
        for (index, group) in groups.into_iter().enumerate() {
            let mut input =
                Input::new(group.clone(), ctx.cwd.to_path_buf(), ctx.stdin.clone(), sep, o.in_place.is_some());
            engine.new_file();
            engine.more_files = index + 1 < count;
            let mut dest = Dest::Stdout;
            let mut temp = None;
            if let Some(suffix) = &o.in_place {
                // The file is read while its new text is written beside
                // it; the new one takes its name when it is whole.
                let path = ctx.cwd.join(&group[0]);
                match std::fs::metadata(&path) {
                    Ok(meta) if !meta.is_file() => {
                        drain_messages(&ctx, &mut input).await?;
                        ctx.stderr
                            .write_all(format!("sed: couldn't edit {}: not a regular file\n", group[0]).as_bytes())
                            .await?;
                        status = 4;
                        continue;
                    }
                    Ok(_) => match temp_beside(&path) {
                        Ok((file, name)) => {
                            dest = Dest::File(file);
                            temp = Some((path, name, suffix.clone(), group[0].clone()));
                        }
                        Err(e) => {
                            let message = format!("sed: couldn't open temporary file {}: {}\n", group[0], reason(&e));
                            ctx.stderr.write_all(message.as_bytes()).await?;
                            status = 4;
                            continue;
                        }
                    },
                    Err(_) => {} // reported when the input opens it
                }
            }
            let ran = stream(&ctx, &mut engine, &mut input, &mut dest).await;
            drain_messages(&ctx, &mut input).await?;
            status = status.max(input.status);
            let ran = match ran {
                Ok(ran) => ran,
                Err(Failure::Shell(e)) => {
                    if let Some((_, name, _, _)) = &temp {
                        let _ = std::fs::remove_file(name);
                    }
                    return Err(e);
                }
                Err(Failure::Script(message)) => {
                    if let Some((_, name, _, _)) = &temp {
                        let _ = std::fs::remove_file(name);
                    }
                    engine.finish();
                    return fail(message, 4).await;
                }
            };
            if let Some((path, name, suffix, shown)) = temp {
                drop(dest);
                if let Err(message) = replace(&path, &name, &suffix, &shown) {
                    ctx.stderr.write_all(message.as_bytes()).await?;
                    status = 4;
                }
            }
            if let Some(code) = ran {
                engine.finish();
                return Ok(CommandStatus::with_code(code));
            }
        }
        engine.finish();
        Ok(CommandStatus::with_code(status))
    }
}

/// Why a run ended early.
enum Failure {
    Shell(bashkit::Error),
    /// A message of the script's (no previous regular expression, a write
    /// that failed).
    Script(String),
}

impl From<bashkit::Error> for Failure {
    fn from(e: bashkit::Error) -> Self {
        Failure::Shell(e)
    }
}

/// Runs the script over every line of `input`; `Some(code)` when `q` or
/// `Q` ended it.
async fn stream(
    ctx: &CommandContext<'_>,
    engine: &mut Engine,
    input: &mut Input,
    dest: &mut Dest,
) -> Result<Option<i32>, Failure> {
    let mut quit = None;
    'lines: while let Some(line) = input.next(&mut engine.ps, false).await? {
        if !input.messages.is_empty() {
            write_out(ctx, engine, dest).await?;
            drain_messages(ctx, input).await?;
        }
        engine.last = line.last;
        engine.chomped = line.chomped;
        engine.file_name.clone_from(&input.name);
        engine.begin();
        loop {
            match engine.run().map_err(Failure::Script)? {
                Flow::End => {
                    engine.end_cycle(true);
                    break;
                }
                Flow::Delete => {
                    engine.end_cycle(false);
                    break;
                }
                Flow::Restart => {
                    engine.end_cycle(false);
                    engine.restart();
                }
                Flow::Read { append } => match input.next(&mut engine.ps, append).await? {
                    Some(line) => {
                        if !input.messages.is_empty() {
                            write_out(ctx, engine, dest).await?;
                            drain_messages(ctx, input).await?;
                        }
                        engine.last = line.last;
                        engine.chomped = line.chomped;
                        engine.took();
                    }
                    None => {
                        engine.end_cycle(true);
                        break;
                    }
                },
                Flow::Quit { code, print } => {
                    if print {
                        engine.end_cycle(true);
                    }
                    quit = Some(code);
                    break 'lines;
                }
            }
        }
        if engine.out.len() >= 64 * 1024 || !engine.side.is_empty() || !engine.errors.is_empty() {
            write_out(ctx, engine, dest).await?;
        }
    }
    write_out(ctx, engine, dest).await?;
    Ok(quit)
}

async fn write_out(ctx: &CommandContext<'_>, engine: &mut Engine, dest: &mut Dest) -> Result<(), Failure> {
    if !engine.out.is_empty() {
        match dest {
            Dest::Stdout => ctx.stdout.write_all(&engine.out).await?,
            Dest::File(file) => file
                .write_all(&engine.out)
                .map_err(|e| Failure::Script(format!("sed: couldn't write: {}\n", reason(&e))))?,
        }
        engine.out.clear();
    }
    if !engine.side.is_empty() {
        ctx.stdout.write_all(&engine.side).await?;
        engine.side.clear();
    }
    if !engine.errors.is_empty() {
        ctx.stderr.write_all(&engine.errors).await?;
        engine.errors.clear();
    }
    Ok(())
}

async fn drain_messages(ctx: &CommandContext<'_>, input: &mut Input) -> bashkit::Result<()> {
    for message in std::mem::take(&mut input.messages) {
        ctx.stderr.write_all(message.as_bytes()).await?;
    }
    Ok(())
}

/// A new file in `path`'s directory, for the edited text.
fn temp_beside(path: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    for n in 0u32.. {
        let name = dir.join(format!(".runbox-sed-{n}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&name) {
            Ok(file) => return Ok((file, name)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// Puts the edited text in place of `path`, keeping the old one under
/// the backup name when a suffix was given (`*` in it stands for the
/// file's name, as in GNU's).
fn replace(path: &Path, temp: &Path, suffix: &str, shown: &str) -> Result<(), String> {
    if !suffix.is_empty() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let backup = if suffix.contains('*') { suffix.replace('*', &name) } else { format!("{name}{suffix}") };
        let backup = path.with_file_name(backup);
        // A copy where the file itself keeps its permission bits.
        let kept = if crate::text::inplace::written_into(temp, path) {
            std::fs::copy(path, &backup).map(drop)
        } else {
            std::fs::rename(path, &backup)
        };
        if let Err(e) = kept {
            let _ = std::fs::remove_file(temp);
            return Err(format!("sed: cannot rename {shown}: {}\n", reason(&e)));
        }
    }
    crate::text::inplace::put_in_place(temp, path).map_err(|e| {
        let _ = std::fs::remove_file(temp);
        format!("sed: cannot rename {shown}: {}\n", reason(&e))
    })
}
