//! Operands read in order, a run of whole lines at a time, as the tools
//! that work line by line (`cat -n`, `cut`) read them: an operand that
//! cannot be read is reported as `TOOL: NAME: REASON` and the next one read.

use bashkit::CommandContext;

use super::{LineReader, Out, Stop, open, quote, reason};

/// Calls `each` with every run of lines of every operand, and what it
/// writes goes to standard output. The status: 1 when an operand could not
/// be read, else 0.
pub(crate) async fn each_line_run(
    ctx: &CommandContext<'_>,
    tool: &str,
    operands: &[String],
    out: &mut Out,
    each: impl FnMut(&[u8], &mut Vec<u8>) + Send,
) -> bashkit::Result<i32> {
    each_record_run(ctx, tool, operands, out, b'\n', each).await
}

/// As `each_line_run`, with records that end in `end` (NUL for `-z`).
pub(crate) async fn each_record_run(
    ctx: &CommandContext<'_>,
    tool: &str,
    operands: &[String],
    out: &mut Out,
    end: u8,
    mut each: impl FnMut(&[u8], &mut Vec<u8>) + Send,
) -> bashkit::Result<i32> {
    let mut status = 0;
    for operand in operands {
        let read = match open(ctx.cwd, operand, &ctx.stdin) {
            Err(e) => Err(e),
            Ok(source) => {
                let mut reader = LineReader::ending(source, end);
                loop {
                    match reader.lines().await {
                        Ok(Some(run)) => each(run, out.buf()),
                        Ok(None) => break Ok(()),
                        Err(Stop::Read(e)) => break Err(e),
                        Err(Stop::Shell(e)) => return Err(e),
                    }
                    out.ready().await?;
                }
            }
        };
        if let Err(e) = read {
            out.complain(&ctx.stderr, &format!("{tool}: {}: {}\n", quote(operand), reason(&e))).await?;
            status = 1;
        }
    }
    Ok(status)
}
