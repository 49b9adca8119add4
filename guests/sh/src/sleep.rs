//! `sleep` for as long as asked, as GNU coreutils: every operand a number
//! with an optional `s`, `m`, `h` or `d`, summed. bashkit's own stops at 60
//! seconds, so a runbook's `sleep 300` waiting for a deploy would go on
//! after one minute; in runbox the step's deadline is what bounds a wait.

use std::time::Duration;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

pub(crate) struct Sleep;

const TRY: &str = "Try 'sleep --help' for more information.\n";

fn interval(arg: &str) -> Option<f64> {
    let (number, unit) = match arg.char_indices().last()? {
        (at, c @ ('s' | 'm' | 'h' | 'd')) => (&arg[..at], c),
        _ => (arg, 's'),
    };
    let value: f64 = number.trim_start().parse().ok().filter(|v: &f64| *v >= 0.0)?;
    let unit = match unit {
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86400.0,
        _ => 1.0,
    };
    Some(value * unit)
}

#[async_trait]
impl Command for Sleep {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let mut seconds = 0.0;
        let mut operands = 0;
        let mut args = ctx.args.iter();
        while let Some(arg) = args.next() {
            let arg = if arg == "--" {
                match args.next() {
                    Some(arg) => arg,
                    None => break,
                }
            } else if arg.len() > 1 && arg.starts_with('-') {
                let message = format!("sleep: invalid option -- '{}'\n{TRY}", arg.trim_start_matches('-'));
                ctx.stderr.write_all(message.as_bytes()).await?;
                return Ok(CommandStatus::with_code(1));
            } else {
                arg
            };
            operands += 1;
            match interval(arg) {
                Some(s) => seconds += s,
                None => {
                    let message = format!("sleep: invalid time interval ‘{arg}’\n{TRY}");
                    ctx.stderr.write_all(message.as_bytes()).await?;
                    return Ok(CommandStatus::with_code(1));
                }
            }
        }
        if operands == 0 {
            ctx.stderr.write_all(format!("sleep: missing operand\n{TRY}").as_bytes()).await?;
            return Ok(CommandStatus::with_code(1));
        }
        // `sleep inf` waits for the deadline.
        let wait = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
        tokio::time::sleep(wait.min(Duration::from_secs(100 * 365 * 86400))).await;
        Ok(CommandStatus::success())
    }
}
