//! `grep` as GNU grep 3: BRE (default), `-E`, `-F` and `-P` (PCRE2), with `-i -v -c
//! -o -n -l -L -h -H -q -s -w -x -m -e -f -r -R -A -B -C`, `--include`,
//! `--exclude`, `--exclude-dir`, binary files, GNU's messages and exit
//! statuses. It searches a run of lines at a time for the next match (the
//! regex crate's literal and DFA searches) and so touches unmatched lines
//! only through the search (`-P` goes a line at a time, as GNU's); a file
//! is read a chunk at a time.

use std::collections::VecDeque;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};
use regex::bytes::{Regex, RegexBuilder};

use super::glob::matches as glob;
use super::options::value;
use super::pattern::{Syntax, translate};
use super::perl::Perl;
use super::{LineReader, Out, Parsed, Source, Stop, Usage, begin, open, reason, split_records};

pub(crate) struct Grep;

const TOOL: &str = "grep";
const HELP: &str = "Usage: grep [OPTION]... PATTERNS [FILE]...\nSearch for PATTERNS in each FILE.\nExample: grep -i 'hello world' menu.h main.c\nPATTERNS can contain multiple patterns separated by newlines.\n\nPattern selection and interpretation:\n  -E, --extended-regexp     PATTERNS are extended regular expressions\n  -F, --fixed-strings       PATTERNS are strings\n  -G, --basic-regexp        PATTERNS are basic regular expressions\n  -P, --perl-regexp         PATTERNS are Perl regular expressions\n  -e, --regexp=PATTERNS     use PATTERNS for matching\n  -f, --file=FILE           take PATTERNS from FILE\n  -i, --ignore-case         ignore case distinctions in patterns and data\n  -w, --word-regexp         match only whole words\n  -x, --line-regexp         match only whole lines\n\nMiscellaneous:\n  -s, --no-messages         suppress error messages\n  -v, --invert-match        select non-matching lines\n\nOutput control:\n  -m, --max-count=NUM       stop after NUM selected lines\n  -n, --line-number         print line number with output lines\n  -H, --with-filename       print file name with output lines\n  -h, --no-filename         suppress the file name prefix on output\n  -o, --only-matching       show only nonempty parts of lines that match\n  -q, --quiet, --silent     suppress all normal output\n  -r, --recursive           search directories recursively\n  -R, --dereference-recursive  likewise, but follow all symlinks\n      --include=GLOB        search only files that match GLOB\n      --exclude=GLOB        skip files that match GLOB\n      --exclude-dir=GLOB    skip directories that match GLOB\n  -a, --text                process a binary file as if it were text\n  -z, --null-data           a data line ends in 0 byte, not newline\n  -L, --files-without-match  print only names of FILEs with no selected lines\n  -l, --files-with-matches  print only names of FILEs with selected lines\n  -c, --count               print only a count of selected lines per FILE\n\nContext control:\n  -B, --before-context=NUM  print NUM lines of leading context\n  -A, --after-context=NUM   print NUM lines of trailing context\n  -C, --context=NUM         print NUM lines of output context\n\nExit status is 0 if any line is selected, 1 otherwise;\nif any error occurs and -q is not given, the exit status is 2.\n";

#[derive(Default)]
struct Options {
    syntax: Option<char>,
    patterns: Option<Vec<String>>,
    ignore_case: bool,
    invert: bool,
    count: bool,
    only_matching: bool,
    line_number: bool,
    with_matches: bool,
    /// `-Z`: a NUL after each file name, not `:` or a newline.
    null: bool,
    /// `-z`: lines (records) end in NUL, in the input and the output; a
    /// newline is an ordinary character, which `.` matches.
    null_data: bool,
    without_match: bool,
    filename: Option<bool>,
    quiet: bool,
    no_messages: bool,
    word: bool,
    line: bool,
    max_count: Option<u64>,
    recursive: bool,
    text: bool,
    before: usize,
    after: usize,
    /// `-A`, `-B` or `-C` was given (even 0): groups are separated by `--`.
    context: bool,
    include: Vec<String>,
    exclude: Vec<String>,
    exclude_dir: Vec<String>,
    operands: Vec<String>,
    /// Files named by `-f`, read when the patterns are built.
    pattern_files: Vec<String>,
}

fn context(text: &str) -> Result<usize, Usage> {
    text.parse::<u64>()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .map_err(|_| Usage { message: format!("{TOOL}: {text}: invalid context length argument\n"), status: 2 })
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let usage = |e| Usage { status: 2, ..Usage::option(TOOL, e) };
    let val = |parser: &mut lexopt::Parser| value(TOOL, parser).map_err(|u| Usage { status: 2, ..u });
    let mut o = Options::default();
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short(c @ ('E' | 'F' | 'G' | 'P')) => o.syntax = Some(c),
            Long("extended-regexp") => o.syntax = Some('E'),
            Long("fixed-strings") => o.syntax = Some('F'),
            Long("basic-regexp") => o.syntax = Some('G'),
            Long("perl-regexp") => o.syntax = Some('P'),
            Short('e') | Long("regexp") => {
                let pattern = val(&mut parser)?;
                o.patterns.get_or_insert_with(Vec::new).extend(pattern.split('\n').map(String::from));
            }
            Short('f') | Long("file") => {
                o.pattern_files.push(val(&mut parser)?);
                o.patterns.get_or_insert_with(Vec::new);
            }
            Short('i' | 'y') | Long("ignore-case") => o.ignore_case = true,
            Long("no-ignore-case") => o.ignore_case = false,
            Short('v') | Long("invert-match") => o.invert = true,
            Short('c') | Long("count") => o.count = true,
            Short('o') | Long("only-matching") => o.only_matching = true,
            Short('n') | Long("line-number") => o.line_number = true,
            Short('l') | Long("files-with-matches") => o.with_matches = true,
            Short('L') | Long("files-without-match") => o.without_match = true,
            Short('Z') | Long("null") => o.null = true,
            Short('z') | Long("null-data") => o.null_data = true,
            Short('H') | Long("with-filename") => o.filename = Some(true),
            Short('h') | Long("no-filename") => o.filename = Some(false),
            Short('q') | Long("quiet" | "silent") => o.quiet = true,
            Short('s') | Long("no-messages") => o.no_messages = true,
            Short('w') | Long("word-regexp") => o.word = true,
            Short('x') | Long("line-regexp") => o.line = true,
            Short('m') | Long("max-count") => {
                let text = val(&mut parser)?;
                let n = text
                    .parse::<i64>()
                    .map_err(|_| Usage { message: format!("{TOOL}: invalid max count\n"), status: 2 })?;
                o.max_count = u64::try_from(n).ok();
            }
            Short('r') | Long("recursive") => o.recursive = true,
            // Links met while recursing are not followed (see `walk`).
            Short('R') | Long("dereference-recursive") => o.recursive = true,
            Short('a') | Long("text") => o.text = true,
            Short('A') | Long("after-context") => {
                o.after = context(&val(&mut parser)?)?;
                o.context = true;
            }
            Short('B') | Long("before-context") => {
                o.before = context(&val(&mut parser)?)?;
                o.context = true;
            }
            Short('C') | Long("context") => {
                let n = context(&val(&mut parser)?)?;
                (o.before, o.after, o.context) = (n, n, true);
            }
            Long("include") => o.include.push(val(&mut parser)?),
            Long("exclude") => o.exclude.push(val(&mut parser)?),
            Long("exclude-dir") => o.exclude_dir.push(val(&mut parser)?),
            Long("color" | "colour") => {
                // Never coloured: a step's output is not a terminal.
                let _ = parser.optional_value();
            }
            Long("line-buffered") | Short('U') | Long("binary") => {}
            Long("help") => return Ok(Parsed::Say(HELP)),
            Short('V') | Long("version") => return Ok(Parsed::Say("grep (runbox)\n")),
            Value(v) => {
                let v = super::text(v);
                if o.patterns.is_none() {
                    o.patterns = Some(v.split('\n').map(String::from).collect());
                } else {
                    o.operands.push(v);
                }
            }
            other => return Err(usage(other.unexpected())),
        }
    }
    if o.patterns.is_none() {
        return Err(Usage {
            message: format!(
                "Usage: {TOOL} [OPTION]... PATTERNS [FILE]...\nTry '{TOOL} --help' for more information.\n"
            ),
            status: 2,
        });
    }
    Ok(Parsed::Run(o))
}

impl Options {
    /// The byte that ends a line: NUL under `-z`.
    fn end(&self) -> u8 {
        if self.null_data { 0 } else { b'\n' }
    }

    /// Whether lines are printed at all (not for -c, -l, -L, -q).
    fn prints_lines(&self) -> bool {
        !(self.count || self.with_matches || self.without_match || self.quiet)
    }
}

/// The patterns, compiled: the regex crate's linear-time engine for BRE,
/// ERE and strings; PCRE2 for `-P`.
enum Matcher {
    Rust(Regex),
    Perl(Perl),
}

/// One regular expression for all the patterns. `None` when there are no
/// patterns at all (`-f /dev/null`), which selects no line.
fn matcher(o: &Options, patterns: &[String], warnings: &mut Vec<String>) -> Result<Option<Matcher>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    if o.syntax == Some('P') {
        let joined = if patterns.len() == 1 { patterns[0].clone() } else { patterns.join("|") };
        return Perl::new(&joined, o.ignore_case, o.word, o.line).map(|p| Some(Matcher::Perl(p)));
    }
    let mut alternatives = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        let translated = match o.syntax.unwrap_or('G') {
            'F' => regex::escape(pattern),
            'E' => translate(pattern, Syntax::Extended, warnings)?,
            _ => translate(pattern, Syntax::Basic, warnings)?,
        };
        alternatives.push(if o.line {
            format!("^(?:{translated})$")
        } else if o.word {
            format!(r"\b{{start-half}}(?:{translated})\b{{end-half}}")
        } else {
            format!("(?:{translated})")
        });
    }
    RegexBuilder::new(&alternatives.join("|"))
        .multi_line(true)
        .line_terminator(o.end())
        .case_insensitive(o.ignore_case)
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .map(|re| Some(Matcher::Rust(re)))
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "the pattern is too large for runbox's grep".into(),
            other => other.to_string().lines().last().unwrap_or("invalid pattern").trim().to_string(),
        })
}

/// Where the next matching line of `run` at or after `from` (a line's
/// start) begins; the error of a search PCRE2 gave up on.
fn next_match(matcher: &Matcher, run: &[u8], from: usize, end: u8) -> Result<Option<usize>, String> {
    match matcher {
        Matcher::Rust(re) => Ok(next_rust_match(re, run, from, end)),
        Matcher::Perl(perl) => {
            // PCRE2 sees one line at a time, as GNU grep's `-P` does.
            let mut at = from;
            for line in split_records(&run[from..], end) {
                if perl.is_match(line.strip_suffix(&[end]).unwrap_or(line))? {
                    return Ok(Some(at));
                }
                at += line.len();
            }
            Ok(None)
        }
    }
}

fn next_rust_match(re: &Regex, run: &[u8], mut from: usize, terminator: u8) -> Option<usize> {
    while from <= run.len() {
        let found = re.find_at(run, from)?;
        let start = memchr::memrchr(terminator, &run[from..found.start()]).map_or(from, |at| from + at + 1);
        let end = memchr::memchr(terminator, &run[found.start()..]).map_or(run.len(), |at| found.start() + at);
        // A match that ran past its line's end (a class with `\n` in it)
        // counts only if the line matches on its own.
        if found.end() <= end || re.is_match(&run[start..end]) {
            return Some(start);
        }
        from = end + 1;
    }
    None
}

/// What one file gave.
#[derive(Default)]
struct Found {
    selected: u64,
    /// A binary file's lines are not printed: it is said once that it matches.
    binary: bool,
}

struct Search<'a> {
    o: &'a Options,
    re: Option<&'a Matcher>,
    name: Option<&'a str>,
    out: &'a mut Out,
    /// Why PCRE2 gave up on this file's search, which ends grep.
    failed: Option<String>,
}

impl Search<'_> {
    fn prefix(&mut self, number: u64, separator: u8) {
        use std::io::Write;
        let buf = self.out.buf();
        if let Some(name) = self.name {
            buf.extend_from_slice(name.as_bytes());
            buf.push(if self.o.null { 0 } else { separator });
        }
        if self.o.line_number {
            let _ = write!(buf, "{number}");
            buf.push(separator);
        }
    }

    fn print_line(&mut self, line: &[u8], number: u64, separator: u8) {
        self.prefix(number, separator);
        let end = self.o.end();
        let buf = self.out.buf();
        buf.extend_from_slice(line);
        if line.last() != Some(&end) {
            buf.push(end);
        }
    }

    fn print_matches(&mut self, line: &[u8], number: u64) -> Result<(), String> {
        let Some(re) = self.re else { return Ok(()) };
        let end = self.o.end();
        let body = line.strip_suffix(&[end]).unwrap_or(line);
        let found: Vec<(usize, usize)> = match re {
            Matcher::Rust(re) => re.find_iter(body).filter(|m| !m.is_empty()).map(|m| (m.start(), m.end())).collect(),
            Matcher::Perl(perl) => perl.matches(body)?,
        };
        for (start, stop) in found {
            self.prefix(number, b':');
            let buf = self.out.buf();
            buf.extend_from_slice(&body[start..stop]);
            buf.push(end);
        }
        Ok(())
    }

    /// The next match of `run` from `from`, or none after PCRE2 gave up
    /// (kept in `failed`).
    fn next(&mut self, run: &[u8], from: usize) -> Option<usize> {
        match next_match(self.re?, run, from, self.o.end()) {
            Ok(next) => next,
            Err(e) => {
                self.failed.get_or_insert(e);
                None
            }
        }
    }

    async fn file(&mut self, source: Source) -> Result<Found, Stop> {
        let o = self.o;
        let mut found = Found::default();
        let mut reader = LineReader::ending(source, o.end());
        let mut number = 0u64;
        // Context: the lines before a match not yet printed, and how many
        // after one are still to print; the last line printed, for `--`.
        let mut before: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
        let mut after_left = 0usize;
        let mut last_printed: Option<u64> = None;
        let context = o.context;
        let mut first_run = true;
        'runs: while let Some(run) = reader.lines().await? {
            // Under `-z` a NUL ends a line; it does not make the file binary.
            if first_run && !o.text && !o.null_data && memchr::memchr(0, run).is_some() {
                found.binary = true;
            }
            first_run = false;
            let mut next = self.next(run, 0);
            let mut offset = 0;
            for line in split_records(run, o.end()) {
                number += 1;
                let here = offset;
                offset += line.len();
                let matched = next == Some(here);
                if matched {
                    next = self.next(run, offset);
                }
                if self.failed.is_some() {
                    break 'runs;
                }
                if matched == o.invert {
                    if context && after_left > 0 && self.o.prints_lines() && !found.binary {
                        after_left -= 1;
                        self.print_line(line, number, b'-');
                        last_printed = Some(number);
                    } else if o.before > 0 {
                        if before.len() == o.before {
                            before.pop_front();
                        }
                        before.push_back((number, line.to_vec()));
                    }
                    continue;
                }
                found.selected += 1;
                if !self.o.prints_lines() {
                    if o.quiet || o.with_matches || o.without_match {
                        break 'runs;
                    }
                } else if found.binary {
                    break 'runs;
                } else {
                    if context {
                        let first = before.front().map_or(number, |(n, _)| *n);
                        if last_printed.is_some_and(|last| last + 1 < first) {
                            self.out.put(b"--\n");
                        }
                        for (n, text) in std::mem::take(&mut before) {
                            self.print_line(&text, n, b'-');
                        }
                        after_left = o.after;
                        last_printed = Some(number);
                    }
                    if o.only_matching {
                        if !o.invert
                            && let Err(e) = self.print_matches(line, number)
                        {
                            self.failed = Some(e);
                            break 'runs;
                        }
                    } else {
                        self.print_line(line, number, b':');
                    }
                }
                if o.max_count.is_some_and(|max| found.selected >= max) {
                    break 'runs;
                }
            }
            self.out.ready().await?;
        }
        Ok(found)
    }
}

/// The files `-r` finds under a directory, in the order the directory
/// lists them, with `--include`, `--exclude` and `--exclude-dir` applied.
/// Symbolic links met on the way are not followed, with `-R` too: WASI
/// shows no inode to tell a link back up the tree (`ln -s . loop`) from
/// a new directory, and following one would make the walk endless.
fn walk(dir: &std::path::Path, shown: &str, o: &Options, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = if shown.is_empty() {
            name.clone()
        } else if shown.ends_with('/') {
            format!("{shown}{name}")
        } else {
            format!("{shown}/{name}")
        };
        match entry.file_type() {
            Ok(t) if t.is_dir() && !o.exclude_dir.iter().any(|g| glob(g, &name)) => {
                walk(&entry.path(), &shown, o, files);
            }
            Ok(t) if t.is_file() && wanted(o, &name) => files.push(shown),
            // Neither links nor what is neither a file nor a directory.
            _ => {}
        }
    }
}

fn wanted(o: &Options, name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    (o.include.is_empty() || o.include.iter().any(|g| glob(g, base))) && !o.exclude.iter().any(|g| glob(g, base))
}

#[async_trait]
impl Command for Grep {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let mut patterns = o.patterns.clone().unwrap_or_default();
        for file in &o.pattern_files {
            let mut text = Vec::new();
            let read = match open(ctx.cwd, file, &ctx.stdin) {
                Ok(mut source) => loop {
                    match source.read_into(&mut text).await {
                        Ok(0) => break Ok(()),
                        Ok(_) => {}
                        Err(Stop::Read(e)) => break Err(e),
                        Err(Stop::Shell(e)) => return Err(e),
                    }
                },
                Err(e) => Err(e),
            };
            if let Err(e) = read {
                ctx.stderr.write_all(format!("{TOOL}: {file}: {}\n", reason(&e)).as_bytes()).await?;
                return Ok(CommandStatus::with_code(2));
            }
            let text = String::from_utf8_lossy(&text);
            if !text.is_empty() {
                patterns.extend(text.strip_suffix('\n').unwrap_or(&text).split('\n').map(String::from));
            }
        }
        let mut warnings = Vec::new();
        let re = match matcher(&o, &patterns, &mut warnings) {
            Ok(re) => re,
            Err(message) => {
                ctx.stderr.write_all(format!("{TOOL}: {message}\n").as_bytes()).await?;
                return Ok(CommandStatus::with_code(2));
            }
        };
        for warning in warnings {
            ctx.stderr.write_all(format!("{TOOL}: warning: {warning}\n").as_bytes()).await?;
        }
        // The files: operands, `-` for standard input, directories walked with -r.
        let operands = if o.operands.is_empty() {
            vec![if o.recursive { ".".to_string() } else { "-".to_string() }]
        } else {
            o.operands.clone()
        };
        let show_names = o.filename.unwrap_or(o.operands.len() > 1 || o.recursive);
        let mut out = Out::new(ctx.stdout.clone());
        let (mut selected_any, mut error) = (false, false);
        let mut files: Vec<String> = Vec::new();
        for operand in &operands {
            let path = ctx.cwd.join(operand);
            if o.recursive && operand != "-" && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                // `grep -r x` with no operand names files without "./".
                let shown = if o.operands.is_empty() { "" } else { operand.as_str() };
                walk(&path, shown, &o, &mut files);
            } else if operand == "-" || wanted(&o, operand) {
                files.push(operand.clone());
            }
        }
        for name in &files {
            let source = match open(ctx.cwd, name, &ctx.stdin) {
                Ok(source) => source,
                Err(e) => {
                    error = true;
                    if !o.no_messages {
                        out.complain(&ctx.stderr, &format!("{TOOL}: {name}: {}\n", reason(&e))).await?;
                    }
                    continue;
                }
            };
            let shown = if name == "-" { "(standard input)" } else { name.as_str() };
            let mut search =
                Search { o: &o, re: re.as_ref(), name: show_names.then_some(shown), out: &mut out, failed: None };
            let found = match search.file(source).await {
                Ok(_) if search.failed.is_some() => {
                    let failed = search.failed.take().unwrap_or_default();
                    out.complain(&ctx.stderr, &format!("{TOOL}: {shown}: {failed}\n")).await?;
                    return Ok(CommandStatus::with_code(2));
                }
                Ok(found) => found,
                Err(Stop::Shell(e)) => return Err(e),
                Err(Stop::Read(e)) => {
                    error = true;
                    if !o.no_messages {
                        out.complain(&ctx.stderr, &format!("{TOOL}: {name}: {}\n", reason(&e))).await?;
                    }
                    continue;
                }
            };
            selected_any |= found.selected > 0;
            if o.quiet {
                if selected_any {
                    break;
                }
                continue;
            }
            if o.count {
                use std::io::Write;
                if show_names {
                    let _ = write!(out.buf(), "{shown}{}", if o.null { '\0' } else { ':' });
                }
                let _ = writeln!(out.buf(), "{}", found.selected);
            }
            if (o.with_matches && found.selected > 0) || (o.without_match && found.selected == 0) {
                out.put(shown.as_bytes());
                out.put(if o.null { b"\0" } else { b"\n" });
            }
            if found.binary && found.selected > 0 && o.prints_lines() {
                out.complain(&ctx.stderr, &format!("{TOOL}: {shown}: binary file matches\n")).await?;
            }
            out.ready().await?;
        }
        out.flush().await?;
        let status = if error && !(o.quiet && selected_any) {
            2
        } else if selected_any {
            0
        } else {
            1
        };
        Ok(CommandStatus::with_code(status))
    }
}
