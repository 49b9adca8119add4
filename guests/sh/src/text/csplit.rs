//! `csplit` as GNU coreutils: pieces of a file cut before line numbers
//! (`N`) and before lines a BRE matches (`/RE/[OFFSET]`, or `%RE%[OFFSET]`
//! to drop the part before), each pattern repeated `{N}` times or `{*}`;
//! `-f`, `-b`, `-n`, `-k`, `-s`/`-q`, `-z`, `--suppress-matched`; the
//! sizes it prints, its messages, and the removal of what it made when a
//! pattern fails. Negative offsets reach back, so it holds its input in
//! the step's memory (as GNU's buffers it).

use std::io::Write;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};
use regex::bytes::Regex;

use super::options::{curly, value};
use super::pattern::{Syntax, translate};
use super::{Out, Parsed, Usage, begin, open, reason};

pub(crate) struct Csplit;

const TOOL: &str = "csplit";
const HELP: &str = "Usage: csplit [OPTION]... FILE PATTERN...\nOutput pieces of FILE separated by PATTERN(s) to files 'xx00', 'xx01', ...,\nand output byte counts of each piece to standard output.\n\nRead standard input if FILE is -\n\n  -b, --suffix-format=FORMAT  use sprintf FORMAT instead of %02d\n  -f, --prefix=PREFIX        use PREFIX instead of 'xx'\n  -k, --keep-files           do not remove output files on errors\n      --suppress-matched     suppress the lines matching PATTERN\n  -n, --digits=DIGITS        use specified number of digits instead of 2\n  -s, --quiet, --silent      do not print counts of output file sizes\n  -z, --elide-empty-files    suppress empty output files\n      --help        display this help and exit\n      --version     output version information and exit\n\nEach PATTERN may be:\n  INTEGER            copy up to but not including specified line number\n  /REGEXP/[OFFSET]   copy up to but not including a matching line\n  %REGEXP%[OFFSET]   skip to, but not including a matching line\n  {INTEGER}          repeat the previous pattern specified number of times\n  {*}                repeat the previous pattern as many times as possible\n\nA line OFFSET is an integer optionally preceded by '+' or '-'\n";

enum Kind {
    Line(usize),
    Match { re: Regex, offset: i64, skip: bool },
}

struct Pattern {
    text: String,
    kind: Kind,
    /// More times to apply it: `Some(n)` for `{n}`, `None` for `{*}`.
    repeat: Option<usize>,
}

struct Options {
    prefix: String,
    /// The suffix's format: `%[flags][width]{d,i,u,o,x,X}` within text.
    suffix: String,
    keep: bool,
    quiet: bool,
    elide: bool,
    suppress: bool,
    input: String,
    patterns: Vec<Pattern>,
    /// What GNU warns of as it reads the patterns.
    warnings: Vec<String>,
}

fn pattern(text: &str) -> Result<Kind, Usage> {
    let fail = |what: &str| Usage { message: format!("{TOOL}: {}: {what}\n", curly(text)), status: 1 };
    if let Some(delimiter) = text.chars().next().filter(|c| *c == '/' || *c == '%') {
        let body = &text[1..];
        let Some(end) = body.rfind(delimiter) else {
            return Err(fail("closing delimiter missing"));
        };
        let offset = match &body[end + 1..] {
            "" => 0,
            rest => rest.parse::<i64>().map_err(|_| fail("invalid pattern"))?,
        };
        let translated = translate(&body[..end], Syntax::Basic, &mut Vec::new()).map_err(|e| fail(&e))?;
        let re = Regex::new(&translated).map_err(|e| fail(&e.to_string()))?;
        return Ok(Kind::Match { re, offset, skip: delimiter == '%' });
    }
    match text.parse::<usize>() {
        Ok(0) => Err(Usage { message: format!("{TOOL}: 0: line number must be greater than zero\n"), status: 1 }),
        Ok(n) => Ok(Kind::Line(n)),
        Err(_) => Err(fail("invalid pattern")),
    }
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options {
        prefix: "xx".into(),
        suffix: "%02d".into(),
        keep: false,
        quiet: false,
        elide: false,
        suppress: false,
        input: String::new(),
        patterns: Vec::new(),
        warnings: Vec::new(),
    };
    let mut operands = Vec::new();
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('f') | Long("prefix") => o.prefix = value(TOOL, &mut parser)?,
            Short('b') | Long("suffix-format") => o.suffix = value(TOOL, &mut parser)?,
            Short('n') | Long("digits") => {
                let text = value(TOOL, &mut parser)?;
                let digits: usize = text
                    .parse()
                    .ok()
                    .filter(|&n| n <= 64)
                    .ok_or_else(|| Usage::new(TOOL, format!("invalid number: {}", curly(&text))))?;
                o.suffix = format!("%0{digits}d");
            }
            Short('k') | Long("keep-files") => o.keep = true,
            Short('s' | 'q') | Long("quiet" | "silent") => o.quiet = true,
            Short('z') | Long("elide-empty-files") => o.elide = true,
            Long("suppress-matched") => o.suppress = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("csplit (runbox)\n")),
            // A negative offset's pattern (`/x/-2`) is an operand.
            Value(v) => operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    let mut operands = operands.into_iter();
    let Some(input) = operands.next() else {
        return Err(Usage::new(TOOL, "missing operand"));
    };
    o.input = input;
    for text in operands {
        if let Some(count) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            let Some(last) = o.patterns.last_mut() else {
                return Err(Usage { message: format!("{TOOL}: {}: invalid pattern\n", curly(&text)), status: 1 });
            };
            last.repeat = if count == "*" {
                None
            } else {
                Some(count.parse().map_err(|_| Usage {
                    message: format!("{TOOL}: {}: integer required between '{{' and '}}'\n", curly(&text)),
                    status: 1,
                })?)
            };
            continue;
        }
        let kind = pattern(&text)?;
        o.patterns.push(Pattern { text, kind, repeat: Some(0) });
    }
    // Line numbers go forward: GNU refuses a smaller one before it reads,
    // and warns of an equal one.
    let mut last = 0;
    let mut warnings = Vec::new();
    for p in &o.patterns {
        if let Kind::Line(n) = p.kind {
            if n < last {
                let message =
                    format!("{TOOL}: line number {} is smaller than preceding line number, {last}\n", curly(&p.text));
                return Err(Usage { message, status: 1 });
            }
            if n == last {
                warnings.push(format!(
                    "{TOOL}: warning: line number {} is the same as preceding line number\n",
                    curly(&p.text)
                ));
            }
            last = n;
        }
    }
    o.warnings = warnings;
    if o.patterns.is_empty() {
        return Err(Usage::new(TOOL, format!("missing operand after {}", curly(&o.input))));
    }
    suffix(&o.suffix, 0).map_err(|what| Usage { message: format!("{TOOL}: {what}\n"), status: 1 })?;
    Ok(Parsed::Run(o))
}

/// `-b`'s FORMAT applied to a piece's number: one conversion of `d`, `i`,
/// `u`, `o`, `x` or `X`, with `0`, `-`, `#`, `'` flags and a width, and
/// `%%`.
fn suffix(format: &str, n: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut conversions = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let (mut zero, mut left, mut alternate) = (false, false, false);
        while let Some(&flag) = chars.peek() {
            match flag {
                '0' => zero = true,
                '-' => left = true,
                '#' => alternate = true,
                '\'' | '+' | ' ' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = 0usize;
        while let Some(digit) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = width.saturating_mul(10).saturating_add(digit as usize).min(256);
            chars.next();
        }
        let text = match chars.next() {
            Some('d' | 'i' | 'u') => n.to_string(),
            Some('o') => format!("{}{n:o}", if alternate && n != 0 { "0" } else { "" }),
            Some('x') => format!("{}{n:x}", if alternate && n != 0 { "0x" } else { "" }),
            Some('X') => format!("{}{n:X}", if alternate && n != 0 { "0X" } else { "" }),
            Some(other) => return Err(format!("invalid conversion specifier in suffix: {other}")),
            None => return Err(format!("invalid conversion specifier in suffix: {}", curly(format))),
        };
        conversions += 1;
        let pad = width.saturating_sub(text.len());
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(if zero { '0' } else { ' ' }, pad));
            out.push_str(&text);
        }
    }
    match conversions {
        0 => Err(format!("missing conversion specifier in suffix {}", curly(format))),
        1 => Ok(out),
        _ => Err(format!("too many % conversion specifications in suffix {}", curly(format))),
    }
}

/// The pieces made so far, their names for removal on failure, and the
/// sizes to print.
struct Pieces<'a> {
    o: &'a Options,
    cwd: &'a std::path::Path,
    made: Vec<String>,
    number: usize,
    sizes: Vec<u8>,
}

impl Pieces<'_> {
    fn write(&mut self, lines: &[&[u8]]) -> Result<(), String> {
        let size: usize = lines.iter().map(|l| l.len()).sum();
        let name = format!("{}{}", self.o.prefix, suffix(&self.o.suffix, self.number)?);
        if self.o.elide && size == 0 {
            // GNU makes the piece and removes it: an old file of its name goes.
            let _ = std::fs::remove_file(self.cwd.join(&name));
            return Ok(());
        }
        self.number += 1;
        let mut file = std::fs::File::create(self.cwd.join(&name))
            .map_err(|e| format!("{}: {}", super::quote(&name), reason(&e)))?;
        self.made.push(name.clone());
        for line in lines {
            file.write_all(line).map_err(|e| format!("write error for {}: {}", curly(&name), reason(&e)))?;
        }
        if !self.o.quiet {
            let _ = writeln!(self.sizes, "{size}");
        }
        Ok(())
    }
}

/// Cuts `lines` by the patterns; the message of the pattern that failed.
fn cut(lines: &[&[u8]], pieces: &mut Pieces<'_>) -> Result<(), String> {
    let o = pieces.o;
    let n = lines.len();
    // The first line not yet written (or dropped), and where the next
    // search starts: past a matched line, so it does not match again.
    let mut cur = 0usize;
    let mut search = 0usize;
    for p in &o.patterns {
        let mut round = 0usize;
        loop {
            let on = |what: &str| {
                if round == 0 {
                    format!("{}: {what}", curly(&p.text))
                } else {
                    format!("{}: {what} on repetition {round}", curly(&p.text))
                }
            };
            match &p.kind {
                Kind::Line(every) => {
                    let target = every.saturating_mul(round + 1);
                    if target > n {
                        pieces.write(&lines[cur..])?;
                        return Err(on("line number out of range"));
                    }
                    let end = (target - 1).max(cur);
                    pieces.write(&lines[cur..end])?;
                    cur = end;
                    if o.suppress && cur < n {
                        cur += 1;
                    }
                    search = cur;
                }
                Kind::Match { re, offset, skip } => {
                    let found = (search..n).find(|&i| re.is_match(lines[i].strip_suffix(b"\n").unwrap_or(lines[i])));
                    let Some(at) = found else {
                        if p.repeat.is_none() && round > 0 {
                            break;
                        }
                        if !*skip {
                            pieces.write(&lines[cur..])?;
                        }
                        return Err(on("match not found"));
                    };
                    let split = at as i64 + offset;
                    if split < cur as i64 {
                        if !*skip {
                            pieces.write(&[])?;
                        }
                        return Err(on("line number out of range"));
                    }
                    if split > n as i64 {
                        if !*skip {
                            pieces.write(&lines[cur..])?;
                        }
                        return Err(on("line number out of range"));
                    }
                    let split = split as usize;
                    if !*skip {
                        pieces.write(&lines[cur..split])?;
                    }
                    cur = split;
                    if o.suppress && *offset == 0 && cur < n {
                        cur += 1;
                    }
                    // Past the matched line: a negative offset must not find it again.
                    search = (at + 1).max(split + 1).max(cur);
                }
            }
            round += 1;
            match p.repeat {
                Some(times) if round > times => break,
                _ => {}
            }
            if p.repeat.is_none() && cur >= n {
                break;
            }
        }
    }
    pieces.write(&lines[cur..])
}

#[async_trait]
impl Command for Csplit {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(o) => o,
            Err(status) => return Ok(status),
        };
        let mut source = match open(ctx.cwd, &o.input, &ctx.stdin) {
            Ok(source) => source,
            Err(e) => {
                let message = format!("{TOOL}: cannot open '{}' for reading: {}\n", o.input, reason(&e));
                ctx.stderr.write_all(message.as_bytes()).await?;
                return Ok(CommandStatus::with_code(1));
            }
        };
        let mut data = Vec::new();
        loop {
            match source.read_into(&mut data).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(super::Stop::Shell(e)) => return Err(e),
                Err(super::Stop::Read(e)) => {
                    let message = format!("{TOOL}: read error: {}\n", reason(&e));
                    ctx.stderr.write_all(message.as_bytes()).await?;
                    return Ok(CommandStatus::with_code(1));
                }
            }
        }
        let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
        let mut pieces = Pieces { o: &o, cwd: ctx.cwd, made: Vec::new(), number: 0, sizes: Vec::new() };
        let result = cut(&lines, &mut pieces);
        let mut out = Out::new(ctx.stdout.clone());
        out.put(&std::mem::take(&mut pieces.sizes));
        out.flush().await?;
        for warning in &o.warnings {
            ctx.stderr.write_all(warning.as_bytes()).await?;
        }
        match result {
            Ok(()) => Ok(CommandStatus::with_code(0)),
            Err(message) => {
                if !o.keep {
                    for name in &pieces.made {
                        let _ = std::fs::remove_file(ctx.cwd.join(name));
                    }
                }
                ctx.stderr.write_all(format!("{TOOL}: {message}\n").as_bytes()).await?;
                Ok(CommandStatus::with_code(1))
            }
        }
    }
}
