//! What `head` and `tail` share: each operand opened in turn under its
//! `==> NAME <==` header, and GNU's wording when one cannot be read.

use bashkit::{CommandContext, CommandStatus, async_trait};

use super::{Out, Source, Stop, open, reason};

/// The part of a file a tool copies (its first lines, its last bytes…).
#[async_trait]
pub(crate) trait Cut: Sync {
    async fn cut(&self, source: &mut Source, out: &mut Out) -> Result<(), Stop>;
}

/// Copies `cut` of each operand, with headers when there are several
/// (`-v`, `-q` decide otherwise).
pub(crate) async fn each_operand(
    ctx: &CommandContext<'_>,
    tool: &str,
    operands: &[String],
    headers: Option<bool>,
    cut: &impl Cut,
) -> bashkit::Result<CommandStatus> {
    let headers = headers.unwrap_or(operands.len() > 1);
    let mut out = Out::new(ctx.stdout.clone());
    let mut status = 0;
    let mut first = true;
    for operand in operands {
        let read = match open(ctx.cwd, operand, &ctx.stdin) {
            Ok(mut source) => {
                header(&mut out, headers, &mut first, operand);
                match cut.cut(&mut source, &mut out).await {
                    Ok(()) => Ok(()),
                    Err(Stop::Read(e)) => Err(format!("error reading '{operand}': {}", reason(&e))),
                    Err(Stop::Shell(e)) => return Err(e),
                }
            }
            // A directory opens, and fails when it is read.
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                header(&mut out, headers, &mut first, operand);
                Err(format!("error reading '{operand}': {}", reason(&e)))
            }
            Err(e) => Err(format!("cannot open '{operand}' for reading: {}", reason(&e))),
        };
        if let Err(message) = read {
            out.complain(&ctx.stderr, &format!("{tool}: {message}\n")).await?;
            status = 1;
        }
    }
    out.flush().await?;
    Ok(CommandStatus::with_code(status))
}

/// `==> NAME <==`, after a blank line unless it is the first.
fn header(out: &mut Out, headers: bool, first: &mut bool, operand: &str) {
    if headers {
        let name = if operand == "-" { "standard input" } else { operand };
        let blank = if *first { "" } else { "\n" };
        out.put(format!("{blank}==> {name} <==\n").as_bytes());
        *first = false;
    }
}
