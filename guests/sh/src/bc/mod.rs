//! `bc` as GNU bc 1.07 answers scripts: decimal numbers of any length with
//! POSIX's scale rules, `ibase`/`obase`, variables, arrays, functions with
//! `auto`s, `if`/`while`/`for`, `print`, `-l`'s library, lines broken at
//! `BC_LINE_LENGTH`. bashkit's own `bc` computes in 64-bit floats and drops
//! the scale of sums and products (`1.5 + 2` gave 3, `3.25 * 2` gave 6).
//!
//! The program's files are read, then standard input; each line runs as
//! soon as it is read, and an error drops the rest of its line, as GNU's.

mod math;
mod number;
mod parse;
mod run;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use crate::text::input::{Stop as ReadStop, open, reason};
use parse::{Parser, TopLevel};
use run::{Machine, Stop};

pub(crate) struct Bc;

const HELP: &str = "usage: bc [options] [file ...]\n  -h  --help         print this usage and exit\n  -i  --interactive  force interactive mode\n  -l  --mathlib      use the predefined math routines\n  -q  --quiet        don't print initial banner\n  -s  --standard     non-standard bc constructs are errors\n  -w  --warn         warn about non-standard bc constructs\n  -v  --version      print version information and exit\n";
/// The most program text read from one file or standard input.
const MAX_PROGRAM: usize = 64 << 20;

enum Next {
    Go,
    End,
}

struct Options {
    mathlib: bool,
    files: Vec<String>,
}

fn options(args: &[String]) -> Result<Options, (String, i32)> {
    let mut o = Options { mathlib: false, files: Vec::new() };
    let mut rest = false;
    for arg in args {
        if rest || arg == "-" || !arg.starts_with('-') {
            o.files.push(arg.clone());
            continue;
        }
        match arg.as_str() {
            "--" => rest = true,
            "--help" => return Err((HELP.into(), 0)),
            "--version" => return Err(("bc 1.07.1 (runbox)\n".into(), 0)),
            "--mathlib" => o.mathlib = true,
            "--quiet" | "--standard" | "--warn" | "--interactive" => {}
            long if long.starts_with("--") => {
                return Err((format!("bc: unrecognized option '{long}'\n{HELP}"), 1));
            }
            short => {
                for c in short[1..].chars() {
                    match c {
                        'l' => o.mathlib = true,
                        'q' | 's' | 'w' | 'i' => {}
                        'h' => return Err((HELP.into(), 0)),
                        'v' => return Err(("bc 1.07.1 (runbox)\n".into(), 0)),
                        other => return Err((format!("bc: invalid option -- '{other}'\n{HELP}"), 1)),
                    }
                }
            }
        }
    }
    Ok(o)
}

async fn read_all(ctx: &CommandContext<'_>, operand: &str) -> Result<String, String> {
    let mut source = open(ctx.cwd, operand, &ctx.stdin).map_err(|_| format!("File {operand} is unavailable.\n"))?;
    let mut text = Vec::new();
    loop {
        match source.read_into(&mut text).await {
            Ok(0) => break,
            Ok(_) if text.len() > MAX_PROGRAM => {
                return Err(format!("bc: {operand}: the program passes 64 MiB; runbox's bc reads a program whole\n"));
            }
            Ok(_) => {}
            Err(ReadStop::Read(e)) => return Err(format!("bc: {operand}: {}\n", reason(&e))),
            Err(ReadStop::Shell(e)) => return Err(format!("bc: {e}\n")),
        }
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Runs one file's (or standard input's) program; `End` after `quit` or
/// `halt`.
async fn run_program(ctx: &CommandContext<'_>, bc: &mut Machine, name: &str, text: &str) -> bashkit::Result<Next> {
    let mut parser = Parser::new(text);
    loop {
        let item = parser.next_item();
        let mut next = Next::Go;
        let mut done = false;
        match item {
            Ok(TopLevel::End) => done = true,
            Ok(TopLevel::Quit) => next = Next::End,
            Ok(TopLevel::Define(fname, function)) => {
                bc.functions.insert(fname, function);
                if parser.quit {
                    next = Next::End;
                }
            }
            Ok(TopLevel::Stmts(stmts)) => match bc.run_line(&stmts) {
                Ok(()) => {}
                Err(Stop::Error(message)) => bc.err.extend_from_slice(message.as_bytes()),
                Err(Stop::Halt) => next = Next::End,
            },
            Err(e) => {
                bc.err.extend_from_slice(format!("{name} {}: {}\n", e.line, e.message).as_bytes());
                parser.recover();
            }
        }
        if !bc.out.is_empty() {
            ctx.stdout.write_all(&std::mem::take(&mut bc.out)).await?;
        }
        if !bc.err.is_empty() {
            ctx.stderr.write_all(&std::mem::take(&mut bc.err)).await?;
        }
        if matches!(next, Next::End) {
            return Ok(Next::End);
        }
        if done {
            return Ok(Next::Go);
        }
    }
}

#[async_trait]
impl Command for Bc {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match options(ctx.args) {
            Ok(o) => o,
            Err((text, 0)) => {
                ctx.stdout.write_all(text.as_bytes()).await?;
                return Ok(CommandStatus::success());
            }
            Err((text, code)) => {
                ctx.stderr.write_all(text.as_bytes()).await?;
                return Ok(CommandStatus::with_code(code));
            }
        };
        let line_length = match ctx.env.get("BC_LINE_LENGTH").and_then(|v| v.trim().parse::<usize>().ok()) {
            Some(0) => 0,
            Some(n) if n >= 3 => n,
            _ => 70,
        };
        let mut bc = Machine::new(line_length);
        if o.mathlib {
            bc.mathlib = true;
            bc.scale = 20;
        }
        let mut sources: Vec<String> = o.files.clone();
        sources.push("-".into());
        for operand in &sources {
            let text = match read_all(&ctx, operand).await {
                Ok(text) => text,
                Err(message) => {
                    ctx.stderr.write_all(message.as_bytes()).await?;
                    return Ok(CommandStatus::with_code(1));
                }
            };
            let name = if operand == "-" { "(standard_in)" } else { operand.as_str() };
            if let Next::End = run_program(&ctx, &mut bc, name, &text).await? {
                break;
            }
        }
        Ok(CommandStatus::success())
    }
}
