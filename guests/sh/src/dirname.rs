//! `dirname` as GNU coreutils: each name less its last component and the
//! slashes before it, one per line, or NUL-ended under `-z`. bashkit's
//! own has no `-z`.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use crate::text::{Parsed, Usage, begin, parser, text};

pub(crate) struct Dirname;

const TOOL: &str = "dirname";
const HELP: &str = "Usage: dirname [OPTION] NAME...\nOutput each NAME with its last non-slash component and trailing slashes\nremoved; if NAME contains no /'s, output '.' (meaning the current directory).\n\n  -z, --zero     end each output line with NUL, not newline\n      --help        display this help and exit\n      --version     output version information and exit\n";

struct Options {
    zero: bool,
    names: Vec<String>,
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options { zero: false, names: Vec::new() };
    let mut parser = parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('z') | Long("zero") => o.zero = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("dirname (runbox)\n")),
            Value(v) => o.names.push(text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if o.names.is_empty() {
        return Err(Usage::new(TOOL, "missing operand"));
    }
    Ok(Parsed::Run(o))
}

/// GNU's `dir_len`: up to the last component (past the leading slashes,
/// after a slash), less the slashes before it; `/` or `.` when that is
/// nothing.
fn dirname(name: &str) -> &str {
    let bytes = name.as_bytes();
    let mut base = bytes.iter().take_while(|&&b| b == b'/').count();
    let mut slash = false;
    for (at, &b) in bytes.iter().enumerate().skip(base) {
        if b == b'/' {
            slash = true;
        } else if slash {
            base = at;
            slash = false;
        }
    }
    let mut len = base;
    while len > 0 && bytes[len - 1] == b'/' {
        len -= 1;
    }
    match len {
        0 if name.starts_with('/') => "/",
        0 => ".",
        len => &name[..len],
    }
}

#[async_trait]
impl Command for Dirname {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let mut out = String::new();
        for name in &o.names {
            out.push_str(dirname(name));
            out.push(if o.zero { '\0' } else { '\n' });
        }
        ctx.stdout.write_all(out.as_bytes()).await?;
        Ok(CommandStatus::success())
    }
}
