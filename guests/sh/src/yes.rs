//! `yes` as GNU coreutils: its line until the reader goes away. bashkit's
//! own stops after 10 000 lines with status 0, so `yes | head -n 20000`
//! printed half of what bash prints and nothing said so; in runbox the
//! step's output cap, fuel and deadline are what bound it.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

pub(crate) struct Yes;

const HELP: &str = "Usage: yes [STRING]...\n  or:  yes OPTION\nRepeatedly output a line with all specified STRING(s), or 'y'.\n\n      --help        display this help and exit\n      --version     output version information and exit\n";
/// Bytes gathered before each write.
const CHUNK: usize = 64 * 1024;

#[async_trait]
impl Command for Yes {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let mut args: &[String] = ctx.args;
        match args.first().map(String::as_str) {
            Some("--help") => {
                ctx.stdout.write_all(HELP.as_bytes()).await?;
                return Ok(CommandStatus::success());
            }
            Some("--version") => {
                ctx.stdout.write_all(b"yes (runbox)\n").await?;
                return Ok(CommandStatus::success());
            }
            Some("--") => args = &args[1..],
            Some(option) if option.starts_with("--") && option.len() > 2 => {
                let message = format!("yes: unrecognized option '{option}'\nTry 'yes --help' for more information.\n");
                ctx.stderr.write_all(message.as_bytes()).await?;
                return Ok(CommandStatus::with_code(1));
            }
            _ => {}
        }
        let mut line = if args.is_empty() { "y".to_string() } else { args.join(" ") };
        line.push('\n');
        let chunk = line.repeat((CHUNK / line.len()).max(1));
        loop {
            // A reader that went away (`| head -1`) ends it, as SIGPIPE would.
            match ctx.stdout.write_all(chunk.as_bytes()).await {
                Ok(()) => {}
                Err(bashkit::Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(CommandStatus::with_code(141));
                }
                Err(e) => return Err(e),
            }
        }
    }
}
