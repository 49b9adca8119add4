//! A sed script read into a list of commands, as GNU sed reads it: several
//! `-e` and `-f` pieces make one script (a block may open in one and close
//! in another), `{ … }` and branches become jumps, and every error names
//! the piece and the character GNU's does.

use regex::bytes::{Regex, RegexBuilder};

use crate::text::pattern::{Syntax, translate};

/// A piece of the script and where it came from, for messages.
pub(crate) enum Piece {
    /// `-e TEXT`, or the first operand: `-e expression #N`.
    Expression(String),
    /// `-f FILE`'s text.
    File { name: String, text: String },
}

/// One address.
#[derive(Clone, Copy)]
pub(super) enum Addr {
    Line(u64),
    Last,
    /// A regular expression of `Script::regexes`; `None` is the last one
    /// used (`//`).
    Re(Option<usize>),
    /// `FIRST~STEP`.
    Step(u64, u64),
    /// `0` in `0,/re/`.
    Zero,
    /// `+N`, as a range's end.
    Plus(u64),
    /// `~N`, as a range's end.
    Multiple(u64),
}

/// Text of a replacement.
pub(super) enum Part {
    Literal(Vec<u8>),
    /// `\N`; 0 is `&`.
    Group(usize),
    Case(Case),
}

/// GNU's case conversions in a replacement.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    /// `\U`, `\L`: until `\E`.
    Upper,
    Lower,
    /// `\u`, `\l`: the next character.
    UpperOne,
    LowerOne,
    /// `\E`.
    End,
}

pub(super) struct Subst {
    pub(super) re: Option<usize>,
    pub(super) replacement: Vec<Part>,
    pub(super) global: bool,
    /// Which match is replaced (from 1); with `global`, it and every one after.
    pub(super) nth: usize,
    pub(super) print: bool,
    pub(super) write: Option<usize>,
    /// Whether the replacement names a group (else matches are found
    /// without capturing them, which is faster).
    pub(super) groups: bool,
}

pub(super) enum Cmd {
    /// `{`: where its `}` is.
    Open(usize),
    Close,
    Equals,
    Append(Vec<u8>),
    Insert(Vec<u8>),
    Change(Vec<u8>),
    /// `b`, `t`, `T`: the index jumped to (the script's end when no label).
    Branch(usize),
    BranchIf(usize),
    BranchUnless(usize),
    Label,
    Delete,
    DeleteFirst,
    FileName,
    Get,
    GetAppend,
    Hold,
    HoldAppend,
    List(Option<usize>),
    Next,
    NextAppend,
    Print,
    PrintFirst,
    Quit(i32),
    QuitSilent(i32),
    ReadFile(String),
    ReadLine(usize),
    Subst(Box<Subst>),
    Write(usize),
    WriteFirst(usize),
    Exchange,
    Translate(Vec<(char, char)>),
    Zap,
}

pub(super) struct Instr {
    pub(super) a1: Option<Addr>,
    pub(super) a2: Option<Addr>,
    pub(super) negate: bool,
    pub(super) cmd: Cmd,
}

pub(super) struct Script {
    pub(super) instrs: Vec<Instr>,
    pub(super) regexes: Vec<Regex>,
    /// Files named by `w`, `W` and `s///w`, opened (emptied) before input
    /// is read, as GNU's are.
    pub(super) outputs: Vec<String>,
    /// Files read a line at a time by `R`.
    pub(super) line_files: Vec<String>,
    /// `#n` on the script's first line: as `-n`.
    pub(super) quiet: bool,
}

/// Where each piece starts in the joined text.
struct Origin {
    start: usize,
    piece: usize,
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    origins: Vec<Origin>,
    pieces: &'a [Piece],
    syntax: Syntax,
    sandbox: bool,
    script: Script,
    /// Labels defined, and jumps waiting for theirs.
    labels: Vec<(String, usize)>,
    jumps: Vec<(usize, String)>,
    blocks: Vec<usize>,
}

/// Reads the pieces as one script.
/// Why a script cannot run: GNU's message and status.
pub(super) struct Failed {
    pub(super) message: String,
    pub(super) status: i32,
}

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Failed { message, status: 1 }
    }
}

pub(crate) fn parse(pieces: &[Piece], extended: bool, sandbox: bool) -> Result<Script, Failed> {
    let mut text = String::new();
    let mut origins = Vec::new();
    for (piece, p) in pieces.iter().enumerate() {
        if piece > 0 {
            text.push('\n');
        }
        origins.push(Origin { start: text.chars().count(), piece });
        match p {
            Piece::Expression(t) => text.push_str(t),
            Piece::File { text: t, .. } => text.push_str(t.strip_suffix('\n').unwrap_or(t)),
        }
    }
    let quiet = text.starts_with("#n\n") || text == "#n";
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        origins,
        pieces,
        syntax: if extended { Syntax::SedExtended } else { Syntax::Basic },
        sandbox,
        script: Script { instrs: Vec::new(), regexes: Vec::new(), outputs: Vec::new(), line_files: Vec::new(), quiet },
        labels: Vec::new(),
        jumps: Vec::new(),
        blocks: Vec::new(),
    };
    parser.commands()?;
    if !parser.blocks.is_empty() {
        // GNU points before the script for an unclosed block.
        return Err(parser.error_at(0, "unmatched `{'").into());
    }
    for (at, label) in std::mem::take(&mut parser.jumps) {
        let Some(&(_, target)) = parser.labels.iter().find(|(name, _)| *name == label) else {
            return Err(Failed { message: format!("sed: can't find label for jump to `{label}'\n"), status: 4 });
        };
        match &mut parser.script.instrs[at].cmd {
            Cmd::Branch(t) | Cmd::BranchIf(t) | Cmd::BranchUnless(t) => *t = target,
            _ => unreachable!("only branches wait for labels"),
        }
    }
    Ok(parser.script)
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.at += 1;
        }
        c
    }

    /// GNU's message: the piece, and the count of characters read in it.
    fn error_at(&self, at: usize, message: &str) -> String {
        let origin = self.origins.iter().rev().find(|o| o.start < at || o.start == 0).unwrap_or(&self.origins[0]);
        match &self.pieces[origin.piece] {
            Piece::Expression(_) => {
                let number =
                    1 + self.pieces[..origin.piece].iter().filter(|p| matches!(p, Piece::Expression(_))).count();
                format!("sed: -e expression #{number}, char {}: {message}\n", at.saturating_sub(origin.start))
            }
            Piece::File { name, .. } => {
                let line =
                    1 + self.chars[origin.start..at.min(self.chars.len())].iter().filter(|&&c| c == '\n').count()
                        - usize::from(at > 0 && self.chars.get(at - 1) == Some(&'\n'));
                format!("sed: file {name} line {line}: {message}\n")
            }
        }
    }

    fn error(&self, message: &str) -> String {
        self.error_at(self.at, message)
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.at += 1;
        }
    }

    fn number(&mut self) -> u64 {
        let mut n: u64 = 0;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            n = n.saturating_mul(10).saturating_add(u64::from(d));
            self.at += 1;
        }
        n
    }

    fn commands(&mut self) -> Result<(), String> {
        loop {
            while matches!(self.peek(), Some(' ' | '\t' | '\n' | ';')) {
                self.at += 1;
            }
            let Some(c) = self.peek() else { return Ok(()) };
            if c == '#' {
                while !matches!(self.next(), None | Some('\n')) {}
                continue;
            }
            self.command()?;
        }
    }

    fn address(&mut self) -> Result<Option<Addr>, String> {
        Ok(match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let first = self.number();
                if self.peek() == Some('~') {
                    self.at += 1;
                    Some(Addr::Step(first, self.number()))
                } else if first == 0 {
                    Some(Addr::Zero)
                } else {
                    Some(Addr::Line(first))
                }
            }
            Some('$') => {
                self.at += 1;
                Some(Addr::Last)
            }
            Some('/') => {
                self.at += 1;
                Some(self.address_regex('/')?)
            }
            Some('\\') => {
                self.at += 1;
                match self.next() {
                    Some(delim) if delim != '\n' && delim != '\\' => Some(self.address_regex(delim)?),
                    _ => return Err(self.error("unexpected `,'")),
                }
            }
            _ => None,
        })
    }

    fn address_regex(&mut self, delim: char) -> Result<Addr, String> {
        let Some(pattern) = self.delimited(delim, true)? else {
            return Err(self.error("unterminated address regex"));
        };
        let (mut icase, mut multi) = (false, false);
        loop {
            match self.peek() {
                Some('I') => icase = true,
                Some('M') => multi = true,
                _ => break,
            }
            self.at += 1;
        }
        Ok(Addr::Re(self.regex(&pattern, icase, multi)?))
    }

    /// The text up to an unescaped `delim` (consumed). In a regular
    /// expression, `\DELIM` is the delimiter itself and a bracket
    /// expression may hold it; `\n` is a newline in both. `None` when the
    /// script ends first.
    fn delimited(&mut self, delim: char, regex: bool) -> Result<Option<String>, String> {
        let mut text = String::new();
        loop {
            let Some(c) = self.next() else { return Ok(None) };
            match c {
                c if c == delim => return Ok(Some(text)),
                '\n' if regex => return Ok(None),
                '\\' => {
                    let Some(e) = self.next() else { return Ok(None) };
                    if e == delim {
                        if regex && delim != '&' && regex_syntax::is_meta_character(delim) {
                            text.push_str(&format!("[{delim}]"));
                        } else {
                            if !regex && delim == '&' {
                                text.push('\\');
                            }
                            text.push(delim);
                        }
                    } else if e == '\n' && regex {
                        text.push_str("\\n");
                    } else {
                        text.push('\\');
                        text.push(e);
                    }
                }
                '[' if regex => {
                    text.push('[');
                    // A bracket expression runs to its `]`: the first `]`
                    // (after an optional `^`) is a member.
                    let mut first = true;
                    loop {
                        let Some(mut b) = self.next() else { return Ok(None) };
                        if b == '\n' {
                            return Ok(None);
                        }
                        // GNU's sed reads these escapes in a bracket
                        // expression too (POSIX's would be a backslash).
                        if b == '\\' {
                            let escaped = match self.peek() {
                                Some('n') => Some('\n'),
                                Some('t') => Some('\t'),
                                Some('r') => Some('\r'),
                                Some('f') => Some('\x0c'),
                                Some('v') => Some('\x0b'),
                                Some('a') => Some('\x07'),
                                _ => None,
                            };
                            if let Some(e) = escaped {
                                self.at += 1;
                                b = e;
                            }
                        }
                        text.push(b);
                        if b == '^' && first && text.ends_with("[^") {
                            continue;
                        }
                        if b == '[' && matches!(self.peek(), Some(':' | '.' | '=')) {
                            let kind = self.next().unwrap_or(':');
                            text.push(kind);
                            while let Some(x) = self.next() {
                                text.push(x);
                                if x == kind && self.peek() == Some(']') {
                                    text.push(']');
                                    self.at += 1;
                                    break;
                                }
                            }
                        } else if b == ']' && !first {
                            break;
                        }
                        first = false;
                    }
                }
                c => text.push(c),
            }
        }
    }

    /// Compiles a pattern; the empty one is "the last regular expression used".
    fn regex(&mut self, pattern: &str, icase: bool, multi: bool) -> Result<Option<usize>, String> {
        if pattern.is_empty() {
            if self.script.regexes.is_empty() {
                return Err(self.error_at(0, "no previous regular expression"));
            }
            return Ok(None);
        }
        let mut warnings = Vec::new();
        let pattern = escapes(pattern);
        let translated = translate(&pattern, self.syntax, &mut warnings).map_err(|e| self.error(&e))?;
        let re = RegexBuilder::new(&translated)
            .case_insensitive(icase)
            .multi_line(multi)
            // GNU's `M` (REG_NEWLINE): `.` stops at a newline too.
            .dot_matches_new_line(!multi)
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => self.error("the pattern is too large for runbox's sed"),
                other => self.error(other.to_string().lines().last().unwrap_or("invalid pattern").trim()),
            })?;
        self.script.regexes.push(re);
        Ok(Some(self.script.regexes.len() - 1))
    }

    /// After a command: blanks, then the command's end.
    fn end_of_command(&mut self) -> Result<(), String> {
        self.skip_blanks();
        match self.peek() {
            None | Some('\n' | ';') => {
                self.at += usize::from(self.peek().is_some());
                Ok(())
            }
            Some('}' | '#') => Ok(()),
            Some(_) => {
                self.at += 1;
                Err(self.error("extra characters after command"))
            }
        }
    }

    /// A label or file name: the rest of the line (labels also end at `;`).
    fn rest(&mut self, semicolon: bool) -> String {
        self.skip_blanks();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' || (semicolon && c == ';') {
                break;
            }
            text.push(c);
            self.at += 1;
        }
        if semicolon {
            text.truncate(text.trim_end().len());
        }
        if self.peek().is_some() {
            self.at += 1;
        }
        text
    }

    /// The text of `a`, `i` and `c`, GNU's one-line form and POSIX's.
    fn text(&mut self) -> Result<Vec<u8>, String> {
        self.skip_blanks();
        match self.peek() {
            None => return Err(self.error("expected \\ after `a', `c' or `i'")),
            Some('\\') => {
                self.at += 1;
                if self.peek() == Some('\n') {
                    self.at += 1;
                }
            }
            _ => {}
        }
        let mut text = String::new();
        while let Some(c) = self.next() {
            match c {
                '\n' => break,
                '\\' => match self.next() {
                    Some('t') => text.push('\t'),
                    Some('n') => text.push('\n'),
                    Some('r') => text.push('\r'),
                    Some('a') => text.push('\x07'),
                    Some('f') => text.push('\x0c'),
                    Some('v') => text.push('\x0b'),
                    // `\x27` is a `'`, `\d065` an `A`.
                    Some(e) => {
                        let rest: Vec<char> =
                            std::iter::once(e).chain(self.chars[self.at..].iter().copied()).take(4).collect();
                        match produced(&rest) {
                            Some((c, used)) => {
                                text.push(c);
                                self.at += used - 1;
                            }
                            None => text.push(e),
                        }
                    }
                    None => break,
                },
                c => text.push(c),
            }
        }
        text.push('\n');
        Ok(text.into_bytes())
    }

    fn output_file(&mut self, name: String) -> usize {
        match self.script.outputs.iter().position(|n| *n == name) {
            Some(at) => at,
            None => {
                self.script.outputs.push(name);
                self.script.outputs.len() - 1
            }
        }
    }

    fn file_name(&mut self) -> Result<String, String> {
        if self.sandbox {
            return Err(self.error("e/r/w commands disabled in sandbox mode"));
        }
        let here = self.at;
        let name = self.rest(false);
        if name.is_empty() {
            return Err(self.error_at(here, "missing filename in r/R/w/W commands"));
        }
        Ok(name)
    }

    fn command(&mut self) -> Result<(), String> {
        let a1 = self.address()?;
        let mut a2 = None;
        if a1.is_some() && self.peek() == Some(',') {
            self.at += 1;
            self.skip_blanks();
            a2 = match self.peek() {
                Some('+') => {
                    self.at += 1;
                    Some(Addr::Plus(self.number()))
                }
                Some('~') => {
                    self.at += 1;
                    Some(Addr::Multiple(self.number()))
                }
                _ => match self.address()? {
                    Some(Addr::Zero) => Some(Addr::Line(0)),
                    Some(Addr::Step(first, _)) => Some(Addr::Line(first)),
                    Some(a) => Some(a),
                    None => return Err(self.error("unexpected `,'")),
                },
            };
        }
        self.skip_blanks();
        let mut negate = false;
        while self.peek() == Some('!') {
            self.at += 1;
            if negate {
                return Err(self.error("multiple `!'s"));
            }
            negate = true;
            self.skip_blanks();
        }
        let Some(c) = self.next() else {
            return Err(self.error("missing command"));
        };
        if let Some(Addr::Zero) = a1
            && !matches!(a2, Some(Addr::Re(_)))
            && !(c == 'r' && a2.is_none())
        {
            return Err(self.error("invalid usage of line address 0"));
        }
        let addressed = a1.is_some();
        let one_address = |p: &Self| {
            if a2.is_some() { Err(p.error("command only uses one address")) } else { Ok(()) }
        };
        let here = self.script.instrs.len();
        let cmd = match c {
            '{' => {
                self.blocks.push(here);
                Cmd::Open(0)
            }
            '}' => {
                if addressed || negate {
                    return Err(self.error("unexpected `,'"));
                }
                let Some(open) = self.blocks.pop() else {
                    return Err(self.error("unexpected `}'"));
                };
                self.script.instrs[open].cmd = Cmd::Open(here + 1);
                self.end_of_command()?;
                Cmd::Close
            }
            '=' => Cmd::Equals,
            'a' => Cmd::Append(self.text()?),
            // GNU's `i` takes a range too (`2,4i text`).
            'i' => Cmd::Insert(self.text()?),
            'c' => Cmd::Change(self.text()?),
            ':' => {
                if addressed {
                    return Err(self.error(": doesn't want any addresses"));
                }
                // GNU's label ends at a blank too: `:a s/x/y/; ta`.
                self.skip_blanks();
                let mut label = String::new();
                while let Some(c) = self.peek().filter(|c| !matches!(c, '\n' | ';' | ' ' | '\t')) {
                    label.push(c);
                    self.at += 1;
                }
                if matches!(self.peek(), Some('\n' | ';')) {
                    self.at += 1;
                }
                if label.is_empty() {
                    return Err(self.error("\":\" lacks a label"));
                }
                self.labels.push((label, here));
                Cmd::Label
            }
            'b' | 't' | 'T' => {
                // The label ends at `;`, a newline or (GNU's) the `}` that
                // closes the block: `1{s/^/x/; b}`.
                self.skip_blanks();
                let mut label = String::new();
                while let Some(c) = self.peek().filter(|c| !matches!(c, '\n' | ';' | '}')) {
                    label.push(c);
                    self.at += 1;
                }
                label.truncate(label.trim_end().len());
                if matches!(self.peek(), Some('\n' | ';')) {
                    self.at += 1;
                }
                if !label.is_empty() {
                    self.jumps.push((here, label));
                }
                // Without a label: the end of the script (set when the
                // script is whole; `usize::MAX` is past any index).
                match c {
                    'b' => Cmd::Branch(usize::MAX),
                    't' => Cmd::BranchIf(usize::MAX),
                    _ => Cmd::BranchUnless(usize::MAX),
                }
            }
            'd' => Cmd::Delete,
            'D' => Cmd::DeleteFirst,
            'F' => Cmd::FileName,
            'g' => Cmd::Get,
            'G' => Cmd::GetAppend,
            'h' => Cmd::Hold,
            'H' => Cmd::HoldAppend,
            'l' => {
                self.skip_blanks();
                let width = self.peek().is_some_and(|c| c.is_ascii_digit()).then(|| self.number() as usize);
                Cmd::List(width)
            }
            'n' => Cmd::Next,
            'N' => Cmd::NextAppend,
            'p' => Cmd::Print,
            'P' => Cmd::PrintFirst,
            'q' | 'Q' => {
                one_address(self)?;
                self.skip_blanks();
                // An exit status is a byte: GNU's `q 300` exits 44.
                let code = (self.number() % 256) as i32;
                if c == 'q' { Cmd::Quit(code) } else { Cmd::QuitSilent(code) }
            }
            'r' => Cmd::ReadFile(self.file_name()?),
            'R' => {
                let name = self.file_name()?;
                self.script.line_files.push(name);
                Cmd::ReadLine(self.script.line_files.len() - 1)
            }
            'w' => {
                let name = self.file_name()?;
                Cmd::Write(self.output_file(name))
            }
            'W' => {
                let name = self.file_name()?;
                Cmd::WriteFirst(self.output_file(name))
            }
            'x' => Cmd::Exchange,
            'z' => Cmd::Zap,
            's' => Cmd::Subst(Box::new(self.substitute()?)),
            'y' => Cmd::Translate(self.translate()?),
            'v' => {
                self.rest(true);
                Cmd::Label
            }
            'e' => {
                return Err(self.error(
                    "the `e' command runs a shell command, which runbox's sed does not do; \
                     run the command in the step's script instead",
                ));
            }
            '#' => return Err(self.error("comments don't accept any addresses")),
            other => return Err(self.error(&format!("unknown command: `{other}'"))),
        };
        let takes_rest = matches!(
            cmd,
            Cmd::Append(_)
                | Cmd::Insert(_)
                | Cmd::Change(_)
                | Cmd::Label
                | Cmd::Branch(_)
                | Cmd::BranchIf(_)
                | Cmd::BranchUnless(_)
                | Cmd::ReadFile(_)
                | Cmd::ReadLine(_)
                | Cmd::Write(_)
                | Cmd::WriteFirst(_)
                | Cmd::Open(_)
                | Cmd::Close
        ) || matches!(&cmd, Cmd::Subst(s) if s.write.is_some());
        if !takes_rest {
            self.end_of_command()?;
        }
        self.script.instrs.push(Instr { a1, a2, negate, cmd });
        Ok(())
    }

    fn substitute(&mut self) -> Result<Subst, String> {
        let delim = match self.next() {
            Some(d) if d != '\n' && d != '\\' => d,
            _ => return Err(self.error("unterminated `s' command")),
        };
        let Some(pattern) = self.delimited(delim, true)? else {
            return Err(self.error("unterminated `s' command"));
        };
        let Some(replacement) = self.delimited(delim, false)? else {
            return Err(self.error("unterminated `s' command"));
        };
        let mut s = Subst {
            re: None,
            replacement: Vec::new(),
            global: false,
            nth: 1,
            print: false,
            write: None,
            groups: false,
        };
        let (mut icase, mut multi, mut numbered) = (false, false, false);
        loop {
            match self.peek() {
                Some('g') => {
                    self.at += 1;
                    if s.global {
                        return Err(self.error("multiple `g' options to `s' command"));
                    }
                    s.global = true;
                }
                Some('p') => {
                    self.at += 1;
                    if s.print {
                        return Err(self.error("multiple `p' options to `s' command"));
                    }
                    s.print = true;
                }
                Some('i' | 'I') => {
                    self.at += 1;
                    icase = true;
                }
                Some('m' | 'M') => {
                    self.at += 1;
                    multi = true;
                }
                Some('e') => {
                    self.at += 1;
                    return Err(
                        self.error("the `e' option to `s' runs a shell command, which runbox's sed does not do")
                    );
                }
                Some(c) if c.is_ascii_digit() => {
                    if numbered {
                        self.at += 1;
                        return Err(self.error("multiple number options to `s' command"));
                    }
                    let n = self.number();
                    if n == 0 {
                        return Err(self.error("number option to `s' command may not be zero"));
                    }
                    s.nth = usize::try_from(n).unwrap_or(usize::MAX);
                    numbered = true;
                }
                Some('w') => {
                    self.at += 1;
                    let name = self.file_name()?;
                    s.write = Some(self.output_file(name));
                    break;
                }
                None | Some('\n' | ';' | '}' | '#' | ' ' | '\t') => break,
                Some(_) => {
                    self.at += 1;
                    return Err(self.error("unknown option to `s'"));
                }
            }
        }
        s.re = self.regex(&pattern, icase, multi)?;
        let groups = match s.re {
            Some(re) => self.script.regexes[re].captures_len() - 1,
            None => 9,
        };
        s.replacement = self.replacement(&replacement, groups)?;
        s.groups = s.replacement.iter().any(|p| matches!(p, Part::Group(n) if *n > 0));
        Ok(s)
    }

    fn replacement(&self, text: &str, groups: usize) -> Result<Vec<Part>, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars();
        let flush = |literal: &mut String, parts: &mut Vec<Part>| {
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(literal).into_bytes()));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '&' => {
                    flush(&mut literal, &mut parts);
                    parts.push(Part::Group(0));
                }
                '\\' => match chars.next() {
                    Some(d @ '0'..='9') => {
                        let n = d as usize - '0' as usize;
                        if n > groups {
                            return Err(self.error(&format!("invalid reference \\{n} on `s' command's RHS")));
                        }
                        flush(&mut literal, &mut parts);
                        parts.push(Part::Group(n));
                    }
                    Some(case @ ('U' | 'L' | 'u' | 'l' | 'E')) => {
                        flush(&mut literal, &mut parts);
                        parts.push(Part::Case(match case {
                            'U' => Case::Upper,
                            'L' => Case::Lower,
                            'u' => Case::UpperOne,
                            'l' => Case::LowerOne,
                            _ => Case::End,
                        }));
                    }
                    Some('n') => literal.push('\n'),
                    Some('t') => literal.push('\t'),
                    Some('r') => literal.push('\r'),
                    Some('a') => literal.push('\x07'),
                    Some('f') => literal.push('\x0c'),
                    Some('v') => literal.push('\x0b'),
                    Some(other) => {
                        // `\x26` is a literal `&`, `\d065` an `A`.
                        let rest: Vec<char> = std::iter::once(other).chain(chars.clone()).take(4).collect();
                        match produced(&rest) {
                            Some((c, used)) => {
                                literal.push(c);
                                for _ in 1..used {
                                    chars.next();
                                }
                            }
                            None => literal.push(other),
                        }
                    }
                    None => literal.push('\\'),
                },
                c => literal.push(c),
            }
        }
        flush(&mut literal, &mut parts);
        Ok(parts)
    }

    fn translate(&mut self) -> Result<Vec<(char, char)>, String> {
        let delim = match self.next() {
            Some(d) if d != '\n' && d != '\\' => d,
            _ => return Err(self.error("unterminated `y' command")),
        };
        let mut side = || -> Option<Vec<char>> {
            let mut chars = Vec::new();
            loop {
                match self.next()? {
                    c if c == delim => return Some(chars),
                    '\\' => match self.next()? {
                        'n' => chars.push('\n'),
                        't' => chars.push('\t'),
                        '\\' => chars.push('\\'),
                        e if e == delim => chars.push(e),
                        e => {
                            chars.push('\\');
                            chars.push(e);
                        }
                    },
                    c => chars.push(c),
                }
            }
        };
        let (Some(from), Some(to)) = (side(), side()) else {
            return Err(self.error("unterminated `y' command"));
        };
        if from.len() != to.len() {
            return Err(self.error("strings for `y' command are different lengths"));
        }
        Ok(from.into_iter().zip(to).collect())
    }
}

/// GNU sed's escapes that produce a character, at `rest` (after the
/// backslash): `\cX`, `\dNNN`, `\oNNN`, `\xHH`, `\a`, `\f`, `\v`, `\r`, with
/// how many characters of `rest` they take.
fn produced(rest: &[char]) -> Option<(char, usize)> {
    let number = |radix: u32, most: usize| {
        let digits = rest[1..].iter().take(most).take_while(|c| c.is_digit(radix)).count();
        let text: String = rest[1..=digits].iter().collect();
        let n = u32::from_str_radix(&text, radix).ok().filter(|&n| n < 256)?;
        Some((char::from_u32(n)?, 1 + digits))
    };
    match rest.first()? {
        'a' => Some(('\x07', 1)),
        'f' => Some(('\x0c', 1)),
        'v' => Some(('\x0b', 1)),
        'r' => Some(('\r', 1)),
        'c' => {
            let x = rest.get(1)?.to_ascii_uppercase();
            x.is_ascii().then(|| (char::from(x as u8 ^ 0x40), 2))
        }
        'd' => number(10, 3),
        'o' => number(8, 3),
        'x' => number(16, 2),
        _ => None,
    }
}

/// A pattern with GNU sed's character escapes made the characters (as
/// GNU's does before compiling it: `\x5e` is `^`, an anchor); a produced
/// backslash stays a literal one. The regex's own escapes are left.
fn escapes(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut at = 0;
    while at < chars.len() {
        if chars[at] != '\\' || at + 1 == chars.len() {
            out.push(chars[at]);
            at += 1;
            continue;
        }
        match produced(&chars[at + 1..]) {
            Some(('\\', used)) => {
                out.push_str("\\\\");
                at += 1 + used;
            }
            Some((c, used)) => {
                out.push(c);
                at += 1 + used;
            }
            None => {
                out.push('\\');
                out.push(chars[at + 1]);
                at += 2;
            }
        }
    }
    out
}
