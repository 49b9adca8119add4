//! Command lines as GNU's tools read them (through `lexopt`: bundled short
//! options, `-n5`, `--lines=5`, `--`, operands among options), and their
//! usage errors worded as GNU's.

/// A usage error: the message GNU prints, and the tool's status for it.
pub(crate) struct Usage {
    pub(crate) message: String,
    pub(crate) status: i32,
}

impl Usage {
    /// `TOOL: WHAT` and the line pointing at `--help`.
    pub(crate) fn new(tool: &str, what: impl std::fmt::Display) -> Self {
        Usage { message: format!("{tool}: {what}\nTry '{tool} --help' for more information.\n"), status: 1 }
    }

    /// An option the tool does not know, or a parse error of `lexopt`.
    pub(crate) fn option(tool: &str, error: lexopt::Error) -> Self {
        let what = match error {
            lexopt::Error::UnexpectedOption(option) if option.starts_with("--") => {
                format!("unrecognized option '{option}'")
            }
            lexopt::Error::UnexpectedOption(option) => {
                format!("invalid option -- '{}'", option.trim_start_matches('-'))
            }
            lexopt::Error::MissingValue { option: Some(option) } if option.starts_with("--") => {
                format!("option '{option}' requires an argument")
            }
            lexopt::Error::MissingValue { option: Some(option) } => {
                format!("option requires an argument -- '{}'", option.trim_start_matches('-'))
            }
            lexopt::Error::UnexpectedValue { option, .. } => {
                format!("option '{option}' doesn't allow an argument")
            }
            other => other.to_string(),
        };
        Usage::new(tool, what)
    }
}

/// The parser of a GNU command line. A short option's value is the rest of
/// its word as written: `cut -d= -f1` splits at `=` (lexopt would take
/// `-d=` for `-d ''`, as `-d=,` for `-d ,`, which GNU does not).
pub(crate) fn parser(args: &[String]) -> lexopt::Parser {
    let mut parser = lexopt::Parser::from_args(args);
    parser.set_short_equals(false);
    parser
}

/// An option's value as text.
pub(crate) fn text(value: std::ffi::OsString) -> String {
    value.to_string_lossy().into_owned()
}

/// A value as GNU's messages quote it in a UTF-8 locale: `‘4’`.
pub(crate) fn curly(text: &str) -> String {
    format!("‘{text}’")
}

/// A file name as GNU's messages quote it: bare when it holds nothing a
/// shell would read specially, else in single quotes (double quotes when it
/// holds a single quote).
pub(crate) fn quote(name: &str) -> String {
    let plain = |c: char| c.is_alphanumeric() || "/._-+,:@%=^".contains(c);
    if !name.is_empty() && name.chars().all(plain) {
        name.to_string()
    } else if !name.contains('\'') {
        format!("'{name}'")
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`"))
    }
}

/// What a command line asks: a run, or a text to print (`--help`,
/// `--version`).
pub(crate) enum Parsed<T> {
    Run(T),
    Say(&'static str),
}

/// Answers `--help`, `--version` and usage errors; a run's options come
/// back to the tool, anything else its status.
pub(crate) async fn begin<T>(
    ctx: &bashkit::CommandContext<'_>,
    parsed: Result<Parsed<T>, Usage>,
) -> bashkit::Result<Result<T, bashkit::CommandStatus>> {
    match parsed {
        Ok(Parsed::Run(run)) => Ok(Ok(run)),
        Ok(Parsed::Say(text)) => {
            ctx.stdout.write_all(text.as_bytes()).await?;
            Ok(Err(bashkit::CommandStatus::success()))
        }
        Err(usage) => {
            ctx.stderr.write_all(usage.message.as_bytes()).await?;
            Ok(Err(bashkit::CommandStatus::with_code(usage.status)))
        }
    }
}

/// A count as GNU's `head`, `tail` and friends read it: digits with an
/// optional multiplier (`b` 512, `kB` 1000, `K` or `KiB` 1024, and so on up
/// to `E`). `None` for anything else; a count past 2^64 is 2^64 - 1, as
/// GNU's take a huge count as "all".
pub(crate) fn count(text: &str) -> Option<u64> {
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    if digits == 0 {
        return None;
    }
    let number: u64 = text[..digits].parse().unwrap_or(u64::MAX);
    let (power, base) = match &text[digits..] {
        "" => return Some(number),
        "b" => return Some(number.saturating_mul(512)),
        suffix => {
            let mut chars = suffix.chars();
            let power = "KMGTPE".find(chars.next()?.to_ascii_uppercase())? as u32 + 1;
            match chars.as_str() {
                "" | "iB" => (power, 1024u64),
                "B" => (power, 1000),
                _ => return None,
            }
        }
    };
    Some(number.saturating_mul(base.pow(power)))
}

/// The value of the option `lexopt` just gave.
pub(crate) fn value(tool: &str, parser: &mut lexopt::Parser) -> Result<String, Usage> {
    parser.value().map(text).map_err(|e| Usage::option(tool, e))
}
