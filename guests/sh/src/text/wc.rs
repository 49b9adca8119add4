//! `wc` as GNU coreutils 9 in a UTF-8 locale: lines, words, characters,
//! bytes and the longest line, per operand and in total, in GNU's columns.
//! `wc -l` counts newlines a chunk at a time (memchr), and `wc -c` of a
//! regular file takes its size without reading it.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::{Out, Parsed, Source, Stop, Usage, begin, open, quote, reason};

pub(crate) struct Wc;

const TOOL: &str = "wc";
const HELP: &str = "Usage: wc [OPTION]... [FILE]...\nPrint newline, word, and byte counts for each FILE, and a total line if\nmore than one FILE is specified.  With no FILE, or when FILE is -,\nread standard input.\n\n  -c, --bytes            print the byte counts\n  -m, --chars            print the character counts\n  -l, --lines            print the newline counts\n  -L, --max-line-length  print the maximum display width\n  -w, --words            print the word counts\n      --help             display this help and exit\n      --version          output version information and exit\n";

#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    chars: u64,
    bytes: u64,
    longest: u64,
}

#[derive(Default)]
struct Wanted {
    lines: bool,
    words: bool,
    chars: bool,
    bytes: bool,
    longest: bool,
}

fn parse(args: &[String]) -> Result<Parsed<(Wanted, Vec<String>)>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut wanted = Wanted::default();
    let mut operands = Vec::new();
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('l') | Long("lines") => wanted.lines = true,
            Short('w') | Long("words") => wanted.words = true,
            Short('m') | Long("chars") => wanted.chars = true,
            Short('c') | Long("bytes") => wanted.bytes = true,
            Short('L') | Long("max-line-length") => wanted.longest = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("wc (runbox)\n")),
            Value(v) => operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if !(wanted.lines || wanted.words || wanted.chars || wanted.bytes || wanted.longest) {
        wanted = Wanted { lines: true, words: true, bytes: true, ..Wanted::default() };
    }
    Ok(Parsed::Run((wanted, operands)))
}

/// Word separators as GNU wc's in a UTF-8 locale, by the bytes that begin
/// a character: glibc's `iswspace` (ASCII's six; U+1680, U+2000–U+2006,
/// U+2008–U+200A, U+2028, U+2029, U+205F, U+3000) and the no-break spaces
/// wc adds (U+00A0, U+2007, U+202F, U+2060).
fn wide_space(bytes: &[u8]) -> bool {
    match bytes {
        [0xC2, 0xA0, ..] | [0xE1, 0x9A, 0x80, ..] | [0xE3, 0x80, 0x80, ..] => true,
        [0xE2, 0x80, b, ..] => matches!(b, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF),
        [0xE2, 0x81, b, ..] => matches!(b, 0x9F | 0xA0),
        _ => false,
    }
}

/// Counts a chunk into `counts`. `in_word` and `column` carry across
/// chunks; a character split across chunks is counted where it begins
/// (its continuation bytes count nothing), a wide space split across
/// chunks counts as a letter.
fn count(chunk: &[u8], wanted: &Wanted, counts: &mut Counts, in_word: &mut bool, column: &mut u64) {
    counts.bytes += chunk.len() as u64;
    if wanted.lines {
        counts.lines += super::bytes::count(chunk, b'\n');
    }
    if !(wanted.words || wanted.chars || wanted.longest) {
        return;
    }
    for (at, &b) in chunk.iter().enumerate() {
        if b & 0xC0 == 0x80 {
            continue;
        }
        counts.chars += 1;
        let space = match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C => true,
            0xC2 | 0xE1..=0xE3 => wide_space(&chunk[at..]),
            _ => false,
        };
        if !space && !*in_word {
            counts.words += 1;
        }
        *in_word = !space;
        match b {
            b'\n' | b'\r' | 0x0C => {
                counts.longest = counts.longest.max(*column);
                *column = 0;
            }
            b'\t' => *column = (*column / 8 + 1) * 8,
            0..=0x1F | 0x7F => {}
            _ => *column += 1,
        }
    }
    counts.longest = counts.longest.max(*column);
}

async fn count_source(source: &mut Source, wanted: &Wanted) -> Result<Counts, Stop> {
    let mut counts = Counts::default();
    if let (Some(len), false) = (source.file_len(), wanted.lines || wanted.words || wanted.chars || wanted.longest) {
        counts.bytes = len;
        return Ok(counts);
    }
    let (mut in_word, mut column) = (false, 0);
    let mut buf = Vec::with_capacity(super::input::CHUNK);
    while source.read_into(&mut buf).await? > 0 {
        count(&buf, wanted, &mut counts, &mut in_word, &mut column);
        buf.clear();
    }
    Ok(counts)
}

fn line(out: &mut Vec<u8>, counts: &Counts, wanted: &Wanted, width: usize, name: Option<&str>) {
    use std::io::Write;
    let columns = [
        (wanted.lines, counts.lines),
        (wanted.words, counts.words),
        (wanted.chars, counts.chars),
        (wanted.bytes, counts.bytes),
        (wanted.longest, counts.longest),
    ];
    let mut first = true;
    for (_, n) in columns.iter().filter(|(w, _)| *w) {
        let _ = write!(out, "{}{n:>width$}", if first { "" } else { " " });
        first = false;
    }
    match name {
        Some(name) => {
            let _ = writeln!(out, " {name}");
        }
        None => out.push(b'\n'),
    }
}

#[async_trait]
impl Command for Wc {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let (wanted, operands) = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let names: Vec<Option<&str>> =
            if operands.is_empty() { vec![None] } else { operands.iter().map(|o| Some(o.as_str())).collect() };
        // GNU's column width: the digits of the regular files' total size,
        // at least 7 when one input is not a regular file, and no padding
        // for one count of one input.
        let shown = [wanted.lines, wanted.words, wanted.chars, wanted.bytes, wanted.longest];
        let width = if names.len() == 1 && shown.iter().filter(|w| **w).count() == 1 {
            1
        } else {
            let (mut total, mut minimum) = (0u64, 1);
            for name in &names {
                match name.map(|n| (n, std::fs::metadata(ctx.cwd.join(n)))) {
                    Some((n, Ok(meta))) if meta.is_file() && !super::input::special(n) => total += meta.len(),
                    Some((_, Err(_))) => {}
                    _ => minimum = 7,
                }
            }
            (total.max(1).ilog10() as usize + 1).max(minimum)
        };
        let mut out = Out::new(ctx.stdout.clone());
        let mut status = 0;
        let mut total = Counts::default();
        for name in &names {
            let shown_name = name.map(quote_name);
            let counts = match open(ctx.cwd, name.unwrap_or("-"), &ctx.stdin) {
                Ok(mut source) => match count_source(&mut source, &wanted).await {
                    Ok(counts) => Some(counts),
                    Err(Stop::Shell(e)) => return Err(e),
                    Err(Stop::Read(e)) => {
                        let message = format!("{TOOL}: {}: {}\n", quote(name.unwrap_or("-")), reason(&e));
                        out.complain(&ctx.stderr, &message).await?;
                        status = 1;
                        None
                    }
                },
                Err(e) => {
                    let message = format!("{TOOL}: {}: {}\n", quote(name.unwrap_or("-")), reason(&e));
                    out.complain(&ctx.stderr, &message).await?;
                    status = 1;
                    // A directory still gets its line of zeros.
                    (e.kind() == std::io::ErrorKind::IsADirectory).then(Counts::default)
                }
            };
            if let Some(counts) = counts {
                line(out.buf(), &counts, &wanted, width, shown_name.as_deref());
                total.lines += counts.lines;
                total.words += counts.words;
                total.chars += counts.chars;
                total.bytes += counts.bytes;
                total.longest = total.longest.max(counts.longest);
            }
        }
        if names.len() > 1 {
            line(out.buf(), &total, &wanted, width, Some("total"));
        }
        out.flush().await?;
        Ok(CommandStatus::with_code(status))
    }
}

/// A name in wc's lines: GNU quotes one that holds a newline or other
/// specials as its messages do.
fn quote_name(name: &str) -> String {
    if name.contains(['\n', '\t', ' ', '\'', '"']) { quote(name) } else { name.to_string() }
}
