//! A sed script run over lines: the pattern and hold spaces, the ranges'
//! states and what is queued to follow a cycle. It never waits: when a
//! command needs the next line (`n`, `N`) it says so and the caller, which
//! reads asynchronously, hands the line in and runs it on from there.

use std::io::{BufRead, BufReader, Write};

use super::script::{Addr, Case, Cmd, Part, Script, Subst};

/// Files a script may name for `w`, `W`, `s///w` and `R` together (each
/// stays open for the whole run).
const MAX_FILES: usize = 1024;

/// Why `run` stopped.
pub(super) enum Flow {
    /// The script's end: print the pattern space (unless `-n`), then what
    /// is queued.
    End,
    /// `d`, `c`: the next cycle, nothing printed but what is queued.
    Delete,
    /// `D` with a newline in the pattern space: the next cycle on what is
    /// left, without reading.
    Restart,
    /// `n` (`append` false) or `N`: the next line is wanted.
    Read { append: bool },
    /// `q` (`print`) or `Q`, or `n`/`N` on the last line (`print`).
    Quit { code: i32, print: bool },
}

/// What follows a cycle's output.
/// Where `R` reads its lines.
enum LineFile {
    File(BufReader<std::fs::File>),
    Stdin,
    /// A file that cannot be read: `R` adds nothing, as GNU's.
    Missing,
}

enum Append {
    Text(usize),
    File(String),
    Line(Vec<u8>),
}

#[derive(Clone, Copy, PartialEq)]
enum Range {
    Idle,
    /// Active; the line it ends at when that is known from the start.
    Active(Option<u64>),
}

/// Where `w` writes.
enum Sink {
    Stdout,
    Stderr,
    File(std::io::BufWriter<std::fs::File>, bool),
}

pub(super) struct Engine {
    pub(super) script: Script,
    quiet: bool,
    sep: u8,
    wrap: usize,
    pub(super) ps: Vec<u8>,
    hs: Vec<u8>,
    /// The current line's number, whether it is the last, and whether it
    /// ended with the separator.
    pub(super) line: u64,
    pub(super) last: bool,
    pub(super) chomped: bool,
    pub(super) file_name: String,
    replaced: bool,
    pc: usize,
    ranges: Vec<Range>,
    appends: Vec<Append>,
    last_re: Option<usize>,
    sinks: Vec<Sink>,
    line_files: Vec<LineFile>,
    /// Standard input, for `r /dev/stdin` and `R /dev/stdin` (read whole
    /// before the run, when the inputs are files).
    stdin: std::io::Cursor<Vec<u8>>,
    /// The main output (standard output, or the file edited in place), and
    /// whether its last write lacked the separator.
    pub(super) out: Vec<u8>,
    out_missing: bool,
    /// Standard output while editing in place (`w /dev/stdout`).
    pub(super) side: Vec<u8>,
    side_missing: bool,
    pub(super) in_place: bool,
    /// Another input follows this one (`-s`, `-i`): `n` and `N` on the last
    /// line end the cycle, not the run.
    pub(super) more_files: bool,
    pub(super) errors: Vec<u8>,
    cwd: std::path::PathBuf,
}

/// Options that shape the run.
pub(super) struct Setup {
    pub(super) quiet: bool,
    pub(super) sep: u8,
    pub(super) wrap: usize,
    pub(super) in_place: bool,
    pub(super) stdin: Vec<u8>,
}

impl Engine {
    /// Opens the script's output files, as GNU does before reading: the
    /// error names the first that cannot be opened.
    pub(super) fn new(script: Script, setup: Setup, cwd: &std::path::Path) -> Result<Self, String> {
        if script.outputs.len() + script.line_files.len() > MAX_FILES {
            let name = script.outputs.iter().chain(&script.line_files).nth(MAX_FILES).map_or("", String::as_str);
            return Err(format!(
                "sed: couldn't open file {name}: Too many open files (a script may name {MAX_FILES})\n"
            ));
        }
        let mut sinks = Vec::new();
        for name in &script.outputs {
            sinks.push(match name.as_str() {
                "/dev/stdout" => Sink::Stdout,
                "/dev/stderr" => Sink::Stderr,
                _ => match std::fs::File::create(cwd.join(name)) {
                    Ok(file) => Sink::File(std::io::BufWriter::new(file), false),
                    Err(e) => {
                        return Err(format!("sed: couldn't open file {name}: {}\n", crate::text::reason(&e)));
                    }
                },
            });
        }
        let line_files = script
            .line_files
            .iter()
            .map(|name| match name.as_str() {
                "/dev/stdin" => LineFile::Stdin,
                _ => {
                    std::fs::File::open(cwd.join(name)).map_or(LineFile::Missing, |f| LineFile::File(BufReader::new(f)))
                }
            })
            .collect();
        let ranges = vec![Range::Idle; script.instrs.len()];
        Ok(Engine {
            quiet: setup.quiet || script.quiet,
            script,
            sep: setup.sep,
            wrap: setup.wrap,
            ps: Vec::new(),
            hs: Vec::new(),
            line: 0,
            last: false,
            chomped: true,
            file_name: String::new(),
            replaced: false,
            pc: 0,
            ranges,
            appends: Vec::new(),
            last_re: None,
            sinks,
            line_files,
            stdin: std::io::Cursor::new(setup.stdin),
            out: Vec::with_capacity(64 * 1024),
            out_missing: false,
            side: Vec::new(),
            side_missing: false,
            in_place: setup.in_place,
            more_files: false,
            errors: Vec::new(),
            cwd: cwd.to_path_buf(),
        })
    }

    /// A new input (each file of `-s` and `-i`): lines count from 1 again
    /// and no range is open.
    pub(super) fn new_file(&mut self) {
        self.line = 0;
        self.ranges.iter_mut().for_each(|r| *r = Range::Idle);
    }

    /// Starts a cycle on the line just read into `ps`.
    pub(super) fn begin(&mut self) {
        self.line += 1;
        self.replaced = false;
        self.pc = 0;
        if self.line == 1 {
            // GNU's `0r FILE`: the file before the first line.
            let first: Vec<String> = self
                .script
                .instrs
                .iter()
                .filter_map(|i| match (&i.a1, &i.cmd) {
                    (Some(Addr::Zero), Cmd::ReadFile(name)) => Some(name.clone()),
                    _ => None,
                })
                .collect();
            for name in first {
                self.appends.push(Append::File(name));
                self.dump_appends();
            }
        }
    }

    /// The line `n`/`N` asked for, now in `ps`.
    pub(super) fn took(&mut self) {
        self.line += 1;
        self.replaced = false;
    }

    /// Restarts the script after `D`.
    pub(super) fn restart(&mut self) {
        self.pc = 0;
    }

    /// The end of a cycle: the pattern space (when `print` and not `-n`),
    /// then what `a`, `r` and `R` queued.
    pub(super) fn end_cycle(&mut self, print: bool) {
        if print && !self.quiet {
            self.emit_pattern();
        }
        self.dump_appends();
    }

    /// Flushes the files `w` wrote.
    pub(super) fn finish(&mut self) {
        for sink in &mut self.sinks {
            if let Sink::File(file, _) = sink {
                let _ = file.flush();
            }
        }
    }

    fn emit(&mut self, bytes: &[u8], newline: bool) {
        let sep = self.sep;
        let (buf, missing) = (&mut self.out, &mut self.out_missing);
        if *missing {
            buf.push(sep);
        }
        buf.extend_from_slice(bytes);
        if newline {
            buf.push(sep);
        }
        *missing = !newline;
    }

    fn emit_pattern(&mut self) {
        let ps = std::mem::take(&mut self.ps);
        self.emit(&ps, self.chomped || !self.last);
        self.ps = ps;
    }

    fn dump_appends(&mut self) {
        for append in std::mem::take(&mut self.appends) {
            match append {
                Append::Text(at) => {
                    if let Cmd::Append(text) = &self.script.instrs[at].cmd {
                        let text = text.clone();
                        self.emit(&text[..text.len() - 1], true);
                    }
                }
                // `R`'s line as the file has it: GNU's adds no newline
                // the file's last line lacks.
                Append::Line(line) => {
                    if self.out_missing {
                        self.out.push(self.sep);
                    }
                    self.out.extend_from_slice(&line);
                    self.out_missing = false;
                }
                Append::File(name) => {
                    // A file that cannot be read adds nothing, as in GNU's.
                    if let Ok(bytes) = std::fs::read(self.cwd.join(&name)) {
                        if self.out_missing {
                            self.out.push(self.sep);
                        }
                        self.out.extend_from_slice(&bytes);
                        self.out_missing = false;
                    }
                }
            }
        }
    }

    fn write_to(&mut self, sink: usize, bytes: &[u8]) {
        let sep = self.sep;
        let newline = self.chomped || !self.last;
        match &mut self.sinks[sink] {
            Sink::Stdout if !self.in_place => self.emit(bytes, newline),
            Sink::Stdout => {
                if self.side_missing {
                    self.side.push(sep);
                }
                self.side.extend_from_slice(bytes);
                if newline {
                    self.side.push(sep);
                }
                self.side_missing = !newline;
            }
            Sink::Stderr => {
                self.errors.extend_from_slice(bytes);
                self.errors.push(sep);
            }
            Sink::File(file, missing) => {
                if *missing {
                    let _ = file.write_all(&[sep]);
                }
                let _ = file.write_all(bytes);
                if newline {
                    let _ = file.write_all(&[sep]);
                }
                *missing = !newline;
            }
        }
    }

    fn regex(&mut self, re: Option<usize>) -> Result<usize, String> {
        match re.or(self.last_re) {
            Some(re) => {
                self.last_re = Some(re);
                Ok(re)
            }
            None => Err("sed: no previous regular expression\n".into()),
        }
    }

    fn matches_one(&mut self, addr: Addr) -> Result<bool, String> {
        Ok(match addr {
            Addr::Line(n) => self.line == n,
            Addr::Last => self.last,
            Addr::Re(re) => {
                let re = self.regex(re)?;
                self.script.regexes[re].is_match(&self.ps)
            }
            Addr::Step(first, 0) => self.line == first,
            Addr::Step(first, step) => self.line >= first && (self.line - first).is_multiple_of(step),
            Addr::Zero | Addr::Plus(_) | Addr::Multiple(_) => false,
        })
    }

    /// Whether instruction `at` applies to the current line.
    fn selected(&mut self, at: usize) -> Result<bool, String> {
        let instr = &self.script.instrs[at];
        let (a1, a2, negate) = (instr.a1, instr.a2, instr.negate);
        let hit = match (a1, a2) {
            (None, _) => true,
            (Some(a1), None) => self.matches_one(a1)?,
            (Some(a1), Some(a2)) => self.in_range(at, a1, a2)?,
        };
        Ok(hit != negate)
    }

    fn in_range(&mut self, at: usize, a1: Addr, a2: Addr) -> Result<bool, String> {
        if let Range::Active(end) = self.ranges[at] {
            let closes = match (end, a2) {
                (Some(end), _) if self.line > end => {
                    // Lines skipped past the range's end (by a branch):
                    // it is over, and the start is tried anew.
                    self.ranges[at] = Range::Idle;
                    return self.start_range(at, a1, a2);
                }
                (Some(end), _) => self.line == end,
                (None, Addr::Re(re)) => {
                    let re = self.regex(re)?;
                    self.script.regexes[re].is_match(&self.ps)
                }
                (None, Addr::Last) => self.last,
                (None, Addr::Multiple(n)) => n == 0 || self.line.is_multiple_of(n),
                (None, _) => true,
            };
            if closes {
                self.ranges[at] = Range::Idle;
            }
            return Ok(true);
        }
        if matches!(a1, Addr::Zero) && self.line == 1 {
            // `0,/re/`: the range is open before the first line.
            self.ranges[at] = Range::Active(None);
            return self.in_range(at, Addr::Line(u64::MAX), a2);
        }
        self.start_range(at, a1, a2)
    }

    fn start_range(&mut self, at: usize, a1: Addr, a2: Addr) -> Result<bool, String> {
        if !self.matches_one(a1)? {
            return Ok(false);
        }
        let line = self.line;
        self.ranges[at] = match a2 {
            Addr::Line(n) if n <= line => Range::Idle,
            Addr::Line(n) => Range::Active(Some(n)),
            Addr::Plus(0) => Range::Idle,
            Addr::Plus(n) => Range::Active(Some(line.saturating_add(n))),
            // `addr,~N` ends at the next multiple of N after its start.
            Addr::Multiple(0) => Range::Idle,
            Addr::Last if self.last => Range::Idle,
            _ => Range::Active(None),
        };
        Ok(true)
    }

    /// Runs the script from where it stopped.
    pub(super) fn run(&mut self) -> Result<Flow, String> {
        let end = self.script.instrs.len();
        while self.pc < end {
            let at = self.pc;
            self.pc += 1;
            if !self.selected(at)? {
                if let Cmd::Open(after) = self.script.instrs[at].cmd {
                    self.pc = after;
                }
                continue;
            }
            match &self.script.instrs[at].cmd {
                Cmd::Open(_) | Cmd::Close | Cmd::Label => {}
                Cmd::Equals => {
                    let text = self.line.to_string();
                    if self.out_missing {
                        self.out.push(self.sep);
                    }
                    self.out.extend_from_slice(text.as_bytes());
                    self.out.push(b'\n');
                    self.out_missing = false;
                }
                Cmd::Append(_) => self.appends.push(Append::Text(at)),
                Cmd::Insert(text) => {
                    let text = text.clone();
                    self.emit(&text[..text.len() - 1], true);
                }
                Cmd::Change(text) => {
                    let instr = &self.script.instrs[at];
                    let open = instr.a2.is_some() && !instr.negate && self.ranges[at] != Range::Idle;
                    if !open {
                        let text = text.clone();
                        self.emit(&text[..text.len() - 1], true);
                    }
                    return Ok(Flow::Delete);
                }
                &Cmd::Branch(to) => self.pc = to,
                &Cmd::BranchIf(to) => {
                    if self.replaced {
                        self.replaced = false;
                        self.pc = to;
                    }
                }
                &Cmd::BranchUnless(to) => {
                    if self.replaced {
                        self.replaced = false;
                    } else {
                        self.pc = to;
                    }
                }
                Cmd::Delete => return Ok(Flow::Delete),
                Cmd::DeleteFirst => match memchr::memchr(b'\n', &self.ps) {
                    None => return Ok(Flow::Delete),
                    Some(at) => {
                        self.ps.drain(..=at);
                        return Ok(Flow::Restart);
                    }
                },
                Cmd::FileName => {
                    let name = self.file_name.clone();
                    self.emit(name.as_bytes(), true);
                }
                Cmd::Get => self.ps.clone_from(&self.hs),
                Cmd::GetAppend => {
                    self.ps.push(b'\n');
                    self.ps.extend_from_slice(&self.hs);
                }
                Cmd::Hold => self.hs.clone_from(&self.ps),
                Cmd::HoldAppend => {
                    self.hs.push(b'\n');
                    self.hs.extend_from_slice(&self.ps);
                }
                &Cmd::List(width) => {
                    let text = list(&self.ps, width.unwrap_or(self.wrap));
                    self.emit(&text, true);
                }
                Cmd::Next | Cmd::NextAppend => {
                    let append = matches!(self.script.instrs[at].cmd, Cmd::NextAppend);
                    if self.last && self.more_files {
                        return Ok(Flow::End);
                    }
                    if self.last {
                        return Ok(Flow::Quit { code: 0, print: true });
                    }
                    if !append && !self.quiet {
                        self.emit_pattern();
                    }
                    self.dump_appends();
                    return Ok(Flow::Read { append });
                }
                Cmd::Print => self.emit_pattern(),
                Cmd::PrintFirst => match memchr::memchr(b'\n', &self.ps) {
                    Some(nl) => {
                        let first = self.ps[..nl].to_vec();
                        self.emit(&first, true);
                    }
                    None => self.emit_pattern(),
                },
                &Cmd::Quit(code) => return Ok(Flow::Quit { code, print: true }),
                &Cmd::QuitSilent(code) => return Ok(Flow::Quit { code, print: false }),
                // What is left of standard input, as it is.
                Cmd::ReadFile(name) if name == "/dev/stdin" => {
                    let mut rest = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut self.stdin, &mut rest);
                    if !rest.is_empty() {
                        self.appends.push(Append::Line(rest));
                    }
                }
                Cmd::ReadFile(name) => self.appends.push(Append::File(name.clone())),
                &Cmd::ReadLine(file) => {
                    let mut line = Vec::new();
                    let read = match &mut self.line_files[file] {
                        LineFile::File(reader) => reader.read_until(b'\n', &mut line).unwrap_or(0),
                        LineFile::Stdin => self.stdin.read_until(b'\n', &mut line).unwrap_or(0),
                        LineFile::Missing => 0,
                    };
                    if read > 0 {
                        self.appends.push(Append::Line(line));
                    }
                }
                Cmd::Subst(_) => {
                    let Cmd::Subst(s) = std::mem::replace(&mut self.script.instrs[at].cmd, Cmd::Label) else {
                        unreachable!()
                    };
                    let done = self.substitute(&s);
                    self.script.instrs[at].cmd = Cmd::Subst(s);
                    done?;
                }
                &Cmd::Write(sink) => {
                    let ps = std::mem::take(&mut self.ps);
                    self.write_to(sink, &ps);
                    self.ps = ps;
                }
                &Cmd::WriteFirst(sink) => {
                    let first = match memchr::memchr(b'\n', &self.ps) {
                        Some(nl) => self.ps[..nl].to_vec(),
                        None => self.ps.clone(),
                    };
                    self.write_to(sink, &first);
                }
                Cmd::Exchange => std::mem::swap(&mut self.ps, &mut self.hs),
                Cmd::Translate(map) => {
                    let text = String::from_utf8_lossy(&self.ps);
                    let mapped: String = text
                        .chars()
                        .map(|c| map.iter().find(|(from, _)| *from == c).map_or(c, |&(_, to)| to))
                        .collect();
                    self.ps = mapped.into_bytes();
                }
                Cmd::Zap => self.ps.clear(),
            }
        }
        Ok(Flow::End)
    }

    fn substitute(&mut self, s: &Subst) -> Result<(), String> {
        let re = self.regex(s.re)?;
        let re = &self.script.regexes[re];
        let ps = &self.ps;
        let mut result = Vec::new();
        let mut copied = 0;
        let mut count = 0;
        let mut previous_end = None;
        let mut case = CaseState::default();
        let mut replaced = false;
        let mut locations = re.capture_locations();
        let mut from = 0;
        while from <= ps.len() {
            let found = if s.groups { re.captures_read_at(&mut locations, ps, from) } else { re.find_at(ps, from) };
            let Some(m) = found else { break };
            let (start, end) = (m.start(), m.end());
            // An empty match right after a match is not one, as in GNU's.
            // After an empty match GNU's goes on a byte further, not a
            // character, and so does this.
            if start == end && previous_end == Some(start) {
                from = start + 1;
                continue;
            }
            previous_end = Some(end);
            count += 1;
            if count >= s.nth {
                result.extend_from_slice(&ps[copied..start]);
                for part in &s.replacement {
                    match part {
                        Part::Literal(text) => case.put(&mut result, text),
                        Part::Group(0) => case.put(&mut result, &ps[start..end]),
                        &Part::Group(n) => {
                            if let Some((a, b)) = locations.get(n) {
                                case.put(&mut result, &ps[a..b]);
                            }
                        }
                        &Part::Case(c) => case.set(c),
                    }
                }
                case = CaseState::default();
                copied = end;
                replaced = true;
                if !s.global {
                    break;
                }
            }
            from = if start == end { end + 1 } else { end };
        }
        if !replaced {
            return Ok(());
        }
        result.extend_from_slice(&ps[copied..]);
        self.ps = result;
        self.replaced = true;
        if s.print {
            self.emit_pattern();
        }
        if let Some(sink) = s.write {
            let ps = std::mem::take(&mut self.ps);
            self.write_to(sink, &ps);
            self.ps = ps;
        }
        Ok(())
    }
}

/// The index after the character at `at` (one byte past the end at the end).
fn next_char(bytes: &[u8], at: usize) -> usize {
    if at >= bytes.len() {
        return at + 1;
    }
    let width = match bytes[at] {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        b if b >= 0xC0 => 2,
        _ => 1,
    };
    (at + width).min(bytes.len())
}

/// `\U`, `\L`, `\u`, `\l` and `\E` as they apply to what follows.
#[derive(Default)]
struct CaseState {
    mode: Option<Case>,
    one: Option<Case>,
}

impl CaseState {
    fn set(&mut self, case: Case) {
        match case {
            Case::Upper | Case::Lower => {
                self.mode = Some(case);
                self.one = None;
            }
            Case::UpperOne | Case::LowerOne => self.one = Some(case),
            Case::End => {
                self.mode = None;
                self.one = None;
            }
        }
    }

    fn put(&mut self, out: &mut Vec<u8>, text: &[u8]) {
        if self.mode.is_none() && self.one.is_none() {
            out.extend_from_slice(text);
            return;
        }
        let convert = |out: &mut Vec<u8>, part: &[u8], case: Option<Case>| match (case, std::str::from_utf8(part)) {
            (Some(Case::Upper | Case::UpperOne), Ok(s)) => out.extend_from_slice(s.to_uppercase().as_bytes()),
            (Some(Case::Lower | Case::LowerOne), Ok(s)) => out.extend_from_slice(s.to_lowercase().as_bytes()),
            (Some(Case::Upper | Case::UpperOne), Err(_)) => out.extend(part.iter().map(u8::to_ascii_uppercase)),
            (Some(Case::Lower | Case::LowerOne), Err(_)) => out.extend(part.iter().map(u8::to_ascii_lowercase)),
            _ => out.extend_from_slice(part),
        };
        let mut rest = text;
        if let Some(one) = self.one
            && !text.is_empty()
        {
            let first = next_char(text, 0);
            convert(out, &text[..first], Some(one));
            rest = &text[first..];
            self.one = None;
        }
        convert(out, rest, self.mode);
    }
}

/// `l`: the pattern space with what cannot be seen escaped, wrapped at
/// `width` columns with `\`, and `$` at its end.
fn list(ps: &[u8], width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut column = 0;
    for &b in ps {
        let piece = match b {
            b'\\' => "\\\\".to_string(),
            0x07 => "\\a".into(),
            0x08 => "\\b".into(),
            0x0c => "\\f".into(),
            b'\n' => "\\n".into(),
            b'\r' => "\\r".into(),
            b'\t' => "\\t".into(),
            0x0b => "\\v".into(),
            0x20..=0x7e => (b as char).to_string(),
            other => format!("\\{other:03o}"),
        };
        if width > 0 && column + piece.len() > width - 1 {
            out.extend_from_slice(b"\\\n");
            column = 0;
        }
        out.extend_from_slice(piece.as_bytes());
        column += piece.len();
    }
    out.push(b'$');
    out
}
