//! `getopt` as util-linux's: the option parsing scripts do with
//! `eval set -- "$(getopt -o ab: -l all,file: -n "$0" -- "$@")"`. It
//! normalises the arguments as GNU `getopt_long` reads them (clustered and
//! attached short options, `--long=value`, unique abbreviations, non-options
//! moved after `--` unless the short options start with `+`), quoted for
//! the shell, and reports errors with util-linux's words and statuses.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

pub(crate) struct Getopt;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Takes {
    No,
    Required,
    Optional,
}

/// What the caller asked `getopt` for.
struct Spec {
    short: Vec<(char, Takes)>,
    long: Vec<(String, Takes)>,
    /// Stop at the first non-option (`+` first, or POSIXLY_CORRECT).
    in_order: bool,
    /// `-a`: long options may start with one dash.
    alternative: bool,
    /// Quote the output for the shell (not with `-u` or the old format).
    quote: bool,
}

/// The normalised arguments, the error messages and the status.
#[derive(Debug, PartialEq)]
struct Parsed {
    output: String,
    errors: Vec<String>,
}

fn takes(spec: &str) -> (String, Takes) {
    if let Some(name) = spec.strip_suffix("::") {
        (name.to_string(), Takes::Optional)
    } else if let Some(name) = spec.strip_suffix(':') {
        (name.to_string(), Takes::Required)
    } else {
        (spec.to_string(), Takes::No)
    }
}

fn short_options(optstring: &str) -> (Vec<(char, Takes)>, bool) {
    let mut chars = optstring.chars().peekable();
    let mut in_order = false;
    while let Some(&c) = chars.peek() {
        match c {
            '+' => in_order = true,
            '-' | ':' => {}
            _ => break,
        }
        chars.next();
    }
    let mut short = Vec::new();
    while let Some(c) = chars.next() {
        let mut how = Takes::No;
        if chars.peek() == Some(&':') {
            chars.next();
            how = Takes::Required;
            if chars.peek() == Some(&':') {
                chars.next();
                how = Takes::Optional;
            }
        }
        short.push((c, how));
    }
    (short, in_order)
}

fn long_options(list: &str) -> Vec<(String, Takes)> {
    list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(takes).collect()
}

fn quoted(arg: &str, quote: bool) -> String {
    if quote { format!("'{}'", arg.replace('\'', "'\\''")) } else { arg.to_string() }
}

/// The long option `name` names: itself, or the one it abbreviates.
fn find_long<'a>(spec: &'a Spec, name: &str) -> Result<&'a (String, Takes), String> {
    if let Some(exact) = spec.long.iter().find(|(n, _)| n == name) {
        return Ok(exact);
    }
    let matches: Vec<&(String, Takes)> = spec.long.iter().filter(|(n, _)| n.starts_with(name)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("unrecognized option '--{name}'")),
        many => {
            let names: Vec<String> = many.iter().map(|(n, _)| format!("'--{n}'")).collect();
            Err(format!("option '--{name}' is ambiguous; possibilities: {}", names.join(" ")))
        }
    }
}

fn parse(spec: &Spec, args: &[String]) -> Parsed {
    let q = |s: &str| quoted(s, spec.quote);
    let mut out = String::new();
    let mut errors = Vec::new();
    let mut operands: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if arg == "--" {
            operands.extend(args[i..].iter().map(String::as_str));
            break;
        }
        let long_body = arg.strip_prefix("--").or_else(|| {
            // `-a`: `-name` is a long option when one matches it.
            let body = arg.strip_prefix('-').filter(|b| spec.alternative && !b.is_empty())?;
            let name = body.split('=').next().unwrap_or(body);
            find_long(spec, name).ok().map(|_| body)
        });
        if let Some(body) = long_body.filter(|_| arg.len() > 1) {
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            match find_long(spec, name) {
                Err(e) => errors.push(e),
                Ok((full, how)) => match (how, value) {
                    (Takes::No, Some(_)) => errors.push(format!("option '--{full}' doesn't allow an argument")),
                    (Takes::No, None) => out.push_str(&format!(" --{full}")),
                    (Takes::Optional, v) => out.push_str(&format!(" --{full} {}", q(v.unwrap_or("")))),
                    (Takes::Required, Some(v)) => out.push_str(&format!(" --{full} {}", q(v))),
                    (Takes::Required, None) => match args.get(i) {
                        Some(v) => {
                            out.push_str(&format!(" --{full} {}", q(v)));
                            i += 1;
                        }
                        None => errors.push(format!("option '--{full}' requires an argument")),
                    },
                },
            }
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let cluster: Vec<char> = arg[1..].chars().collect();
            let mut k = 0;
            while k < cluster.len() {
                let c = cluster[k];
                k += 1;
                match spec.short.iter().find(|(s, _)| *s == c).map(|(_, how)| *how) {
                    None => errors.push(format!("invalid option -- '{c}'")),
                    Some(Takes::No) => out.push_str(&format!(" -{c}")),
                    Some(how) => {
                        let attached: String = cluster[k..].iter().collect();
                        k = cluster.len();
                        if !attached.is_empty() {
                            out.push_str(&format!(" -{c} {}", q(&attached)));
                        } else if how == Takes::Optional {
                            out.push_str(&format!(" -{c} {}", q("")));
                        } else if let Some(v) = args.get(i) {
                            out.push_str(&format!(" -{c} {}", q(v)));
                            i += 1;
                        } else {
                            errors.push(format!("option requires an argument -- '{c}'"));
                        }
                    }
                }
            }
            continue;
        }
        operands.push(arg);
        if spec.in_order {
            operands.extend(args[i..].iter().map(String::as_str));
            break;
        }
    }
    out.push_str(" --");
    for operand in operands {
        out.push(' ');
        out.push_str(&q(operand));
    }
    Parsed { output: out, errors }
}

const TRY: &str = "Try 'getopt --help' for more information.\n";

#[async_trait]
impl Command for Getopt {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let args = ctx.args;
        let mut short: Option<String> = None;
        let mut long = Vec::new();
        let mut name = "getopt".to_string();
        let (mut quiet, mut quiet_output, mut alternative, mut unquoted) = (false, false, false, false);
        let mut i = 0;
        // The first part: getopt's own options, up to `--` or the first
        // word that is not one of them.
        let old_format = args.first().is_some_and(|a| !a.starts_with('-'));
        if !old_format {
            while i < args.len() {
                let arg = &args[i];
                i += 1;
                let (flag, inline) = match arg.split_once('=') {
                    Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                    _ => (arg.as_str(), None),
                };
                let value = |i: &mut usize| -> Option<String> {
                    if let Some(v) = &inline {
                        return Some(v.clone());
                    }
                    if flag.len() > 2 && !flag.starts_with("--") {
                        return Some(flag[2..].to_string());
                    }
                    let v = args.get(*i).cloned();
                    *i += 1;
                    v
                };
                let short_flag = if flag.starts_with("--") { flag } else { &flag[..flag.len().min(2)] };
                match short_flag {
                    "--" => break,
                    "-o" | "--options" => short = value(&mut i),
                    "-l" | "--longoptions" | "--long" => {
                        long.extend(value(&mut i).map(|v| long_options(&v)).unwrap_or_default())
                    }
                    "-n" | "--name" => name = value(&mut i).unwrap_or_default(),
                    "-q" | "--quiet" => quiet = true,
                    "-Q" | "--quiet-output" => quiet_output = true,
                    "-a" | "--alternative" => alternative = true,
                    "-u" | "--unquoted" => unquoted = true,
                    "-s" | "--shell" => drop(value(&mut i)),
                    "-T" | "--test" => return Ok(CommandStatus::with_code(4)),
                    "-h" | "--help" => {
                        ctx.stdout.write_all(HELP.as_bytes()).await?;
                        return Ok(CommandStatus::success());
                    }
                    "-V" | "--version" => {
                        ctx.stdout.write_all(b"getopt from util-linux 2.38.1 (runbox)\n").await?;
                        return Ok(CommandStatus::success());
                    }
                    _ if !arg.starts_with('-') => {
                        i -= 1;
                        break;
                    }
                    _ => {
                        let message = if arg.starts_with("--") {
                            format!("getopt: unrecognized option '{arg}'\n{TRY}")
                        } else {
                            format!("getopt: invalid option -- '{}'\n{TRY}", &arg[1..2])
                        };
                        ctx.stderr.write_all(message.as_bytes()).await?;
                        return Ok(CommandStatus::with_code(2));
                    }
                }
            }
        }
        let optstring = match short {
            Some(s) => s,
            None => match args.get(i) {
                Some(s) => {
                    i += 1;
                    s.clone()
                }
                None => {
                    ctx.stderr.write_all(format!("getopt: missing optstring argument\n{TRY}").as_bytes()).await?;
                    return Ok(CommandStatus::with_code(2));
                }
            },
        };
        let (short, plus) = short_options(&optstring);
        let spec = Spec {
            short,
            long,
            in_order: plus || ctx.env.contains_key("POSIXLY_CORRECT"),
            alternative,
            quote: !unquoted && !old_format,
        };
        let parsed = parse(&spec, &args[i.min(args.len())..]);
        if !quiet {
            for error in &parsed.errors {
                ctx.stderr.write_all(format!("{name}: {error}\n").as_bytes()).await?;
            }
        }
        if !quiet_output {
            ctx.stdout.write_all(format!("{}\n", parsed.output).as_bytes()).await?;
        }
        Ok(CommandStatus::with_code(if parsed.errors.is_empty() { 0 } else { 1 }))
    }
}

const HELP: &str = "
Usage:
 getopt <optstring> <parameters>
 getopt [options] [--] <optstring> <parameters>
 getopt [options] -o|--options <optstring> [options] [--] <parameters>

Parse command options.

Options:
 -a, --alternative             allow long options starting with single -
 -l, --longoptions <longopts>  the long options to be recognized
 -n, --name <progname>         the name under which errors are reported
 -o, --options <optstring>     the short options to be recognized
 -q, --quiet                   disable error reporting by getopt(3)
 -Q, --quiet-output            no normal output
 -s, --shell <shell>           set quoting conventions to those of <shell>
 -T, --test                    test for getopt(1) version
 -u, --unquoted                do not quote the output

 -h, --help                    display this help
 -V, --version                 display version
";

#[cfg(test)]
mod tests {
    use super::*;

    fn run(optstring: &str, long: &str, args: &[&str]) -> Parsed {
        let (short, in_order) = short_options(optstring);
        let spec = Spec { short, long: long_options(long), in_order, alternative: false, quote: true };
        parse(&spec, &args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_are_normalised_as_util_linux_does() {
        let parsed = run(
            "ab:c::",
            "long,arg:,opt::",
            &["-a", "-bval", "-c", "--long", "--arg=v1", "--opt", "--opt=o2", "file1", "it's", "--", "-x"],
        );
        assert_eq!(
            parsed.output,
            " -a -b 'val' -c '' --long --arg 'v1' --opt '' --opt 'o2' -- 'file1' 'it'\\''s' '-x'"
        );
        assert!(parsed.errors.is_empty());
    }

    #[test]
    fn errors_are_util_linux_words() {
        assert_eq!(run("ab:", "", &["-b"]).errors, ["option requires an argument -- 'b'"]);
        assert_eq!(
            run("a", "all,alpha", &["--al"]).errors,
            ["option '--al' is ambiguous; possibilities: '--all' '--alpha'"]
        );
        assert_eq!(run("+a", "", &["x", "-a"]).output, " -- 'x' '-a'");
    }
}
