//! awk's tokens. Where a `/` begins a regular expression and where it
//! divides depends on the token before it, and a newline ends a statement
//! except after the tokens that let one continue.

/// The character an escape stands for, `chars[*at]` being the one after
/// the backslash (`at` moves past the escape): C's letters, `\"`, `\/`,
/// `\\`, up to three octal digits, `\x` and up to two hex digits (gawk's).
/// `None` for an escape awk does not know (nothing is consumed).
pub(super) fn escape(chars: &[char], at: &mut usize) -> Option<char> {
    let e = *chars.get(*at)?;
    let simple = match e {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        '\\' => Some('\\'),
        '"' => Some('"'),
        '/' => Some('/'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'v' => Some('\x0b'),
        _ => None,
    };
    if simple.is_some() {
        *at += 1;
        return simple;
    }
    let (radix, most) = match e {
        '0'..='7' => (8, 3),
        'x' if chars.get(*at + 1).is_some_and(char::is_ascii_hexdigit) => {
            *at += 1;
            (16, 2)
        }
        _ => return None,
    };
    let mut n = 0;
    for _ in 0..most {
        match chars.get(*at).and_then(|c| c.to_digit(radix)) {
            Some(d) => {
                n = n * radix + d;
                *at += 1;
            }
            None => break,
        }
    }
    Some(char::from_u32(n).unwrap_or('\u{fffd}'))
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Number(f64),
    Str(String),
    Regex(String),
    /// A name with `(` right after it: a call.
    Func(String),
    Name(String),
    Builtin(&'static str),
    Begin,
    End,
    BeginFile,
    EndFile,
    Function,
    If,
    Else,
    While,
    For,
    Do,
    Break,
    Continue,
    Next,
    Nextfile,
    Exit,
    Return,
    Delete,
    In,
    Getline,
    Print,
    Printf,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Semi,
    Newline,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Not,
    Gt,
    Lt,
    Pipe,
    Question,
    Colon,
    Tilde,
    NoMatch,
    Dollar,
    Assign,
    AddAssign,
    SubAssign,
    MulAssign,
    DivAssign,
    ModAssign,
    PowAssign,
    Eq,
    Le,
    Ge,
    Ne,
    Incr,
    Decr,
    And,
    Or,
    Append,
    Eof,
}

pub(super) const BUILTINS: [&str; 25] = [
    "length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "sin", "cos", "atan2", "exp", "log",
    "sqrt", "int", "rand", "srand", "tolower", "toupper", "system", "close", "gensub", "patsplit", "asort", "asorti",
];

/// A token, the line it is on (from 1) and its column (from 0).
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
    pub(super) col: usize,
}

/// gawk's two-line message: the source line, and a caret under the column.
pub(super) fn caret(src: &str, line: usize, col: usize, message: &str) -> String {
    let text = src.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let col = col.min(text.chars().count());
    format!("awk: cmd. line:{line}: {text}\nawk: cmd. line:{line}: {}^ {message}\n", " ".repeat(col))
}

/// Whether a `/` after `prev` divides (after an operand) rather than
/// starting a regular expression.
fn divides(prev: Option<&Tok>) -> bool {
    matches!(
        prev,
        Some(
            Tok::Number(_)
                | Tok::Str(_)
                | Tok::Name(_)
                | Tok::Builtin(_)
                | Tok::RParen
                | Tok::RBracket
                | Tok::Dollar
                | Tok::Incr
                | Tok::Decr
        )
    )
}

/// The program's tokens; what gawk warns of (an escape it does not know)
/// is added to `warnings`.
pub(super) fn lex(src: &str, warnings: &mut Vec<String>) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut at = 0;
    let mut line = 1;
    let mut line_start = 0;
    // After `@`: the next `/` starts a typed regexp constant.
    let mut typed = false;
    while at < chars.len() {
        let c = chars[at];
        let (tok_line, tok_col) = (line, at - line_start);
        let fail = |message: &str| caret(src, tok_line, tok_col, message);
        let next = chars.get(at + 1).copied();
        let prev = out.last().map(|t| &t.tok);
        let tok = match c {
            ' ' | '\t' | '\r' => {
                at += 1;
                continue;
            }
            '\\' if next == Some('\n') => {
                at += 2;
                line += 1;
                line_start = at;
                continue;
            }
            '\\' if next == Some('\r') && chars.get(at + 2) == Some(&'\n') => {
                at += 3;
                line += 1;
                line_start = at;
                continue;
            }
            // gawk's typed regexp constant, `@/re/`: its text, used as a
            // dynamic regexp wherever it goes.
            '@' if next == Some('/') => {
                typed = true;
                at += 1;
                continue;
            }
            '#' => {
                while at < chars.len() && chars[at] != '\n' {
                    at += 1;
                }
                continue;
            }
            '\n' => {
                at += 1;
                line += 1;
                line_start = at;
                Tok::Newline
            }
            '"' => {
                at += 1;
                let mut s = String::new();
                loop {
                    let Some(&c) = chars.get(at) else {
                        return Err(fail("unterminated string"));
                    };
                    at += 1;
                    match c {
                        '"' => break,
                        '\n' => return Err(fail("unterminated string")),
                        '\\' => {
                            let Some(&e) = chars.get(at) else { continue };
                            if e == '\n' {
                                at += 1;
                                line += 1;
                                line_start = at;
                                continue;
                            }
                            // gawk drops the backslash of an escape it does
                            // not know (`"\<"` is `<`, and it warns).
                            match escape(&chars, &mut at) {
                                Some(c) => s.push(c),
                                None => {
                                    // Once for each character, as gawk warns.
                                    let warning = format!(
                                        "awk: cmd. line:{line}: warning: escape sequence `\\{e}' treated as plain `{e}'"
                                    );
                                    if !warnings.iter().any(|w| w.ends_with(&format!("plain `{e}'"))) {
                                        warnings.push(warning);
                                    }
                                    s.push(e);
                                    at += 1;
                                }
                            }
                        }
                        c => s.push(c),
                    }
                }
                Tok::Str(s)
            }
            '/' if typed || !divides(prev) => {
                at += 1;
                let mut re = String::new();
                let mut in_bracket = false;
                loop {
                    let Some(&c) = chars.get(at) else {
                        return Err(fail("unterminated regexp"));
                    };
                    at += 1;
                    match c {
                        '\n' => return Err(fail("unterminated regexp")),
                        '/' if !in_bracket => break,
                        '[' if !in_bracket => {
                            in_bracket = true;
                            re.push(c);
                            if chars.get(at) == Some(&'^') {
                                re.push('^');
                                at += 1;
                            }
                            if chars.get(at) == Some(&']') {
                                re.push(']');
                                at += 1;
                            }
                        }
                        ']' if in_bracket => {
                            in_bracket = false;
                            re.push(c);
                        }
                        // gawk reads the escapes of characters first (`\x5e` is
                        // `^`, and an anchor); the rest are the regex's own.
                        '\\' => match chars.get(at) {
                            Some('/') => {
                                re.push('/');
                                at += 1;
                            }
                            Some(&e) if e != '\\' && e != '"' => match escape(&chars, &mut at) {
                                Some(c) => re.push(c),
                                None => {
                                    re.push('\\');
                                    re.push(e);
                                    at += 1;
                                }
                            },
                            Some(&e) => {
                                re.push('\\');
                                re.push(e);
                                at += 1;
                            }
                            None => re.push('\\'),
                        },
                        c => re.push(c),
                    }
                }
                if std::mem::take(&mut typed) { Tok::Str(re) } else { Tok::Regex(re) }
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = at;
                if c == '0' && matches!(next, Some('x' | 'X')) && chars.get(at + 2).is_some_and(char::is_ascii_hexdigit)
                {
                    at += 2;
                    while chars.get(at).is_some_and(char::is_ascii_hexdigit) {
                        at += 1;
                    }
                    let text: String = chars[start + 2..at].iter().collect();
                    Tok::Number(u64::from_str_radix(&text, 16).map_or(f64::INFINITY, |n| n as f64))
                } else {
                    while chars.get(at).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                        at += 1;
                    }
                    if matches!(chars.get(at), Some('e' | 'E')) {
                        let mut probe = at + 1;
                        if matches!(chars.get(probe), Some('+' | '-')) {
                            probe += 1;
                        }
                        if chars.get(probe).is_some_and(char::is_ascii_digit) {
                            at = probe;
                            while chars.get(at).is_some_and(char::is_ascii_digit) {
                                at += 1;
                            }
                        }
                    }
                    let text: String = chars[start..at].iter().collect();
                    Tok::Number(super::value::leading_number(&text))
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = at;
                while chars.get(at).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
                    at += 1;
                }
                let word: String = chars[start..at].iter().collect();
                match word.as_str() {
                    "BEGIN" => Tok::Begin,
                    "END" => Tok::End,
                    "BEGINFILE" => Tok::BeginFile,
                    "ENDFILE" => Tok::EndFile,
                    "function" | "func" => Tok::Function,
                    "if" => Tok::If,
                    "else" => Tok::Else,
                    "while" => Tok::While,
                    "for" => Tok::For,
                    "do" => Tok::Do,
                    "break" => Tok::Break,
                    "continue" => Tok::Continue,
                    "next" => Tok::Next,
                    "nextfile" => Tok::Nextfile,
                    "exit" => Tok::Exit,
                    "return" => Tok::Return,
                    "delete" => Tok::Delete,
                    "in" => Tok::In,
                    "getline" => Tok::Getline,
                    "print" => Tok::Print,
                    "printf" => Tok::Printf,
                    w => match BUILTINS.iter().find(|b| **b == w) {
                        Some(b) => Tok::Builtin(b),
                        None if chars.get(at) == Some(&'(') => Tok::Func(word),
                        None => Tok::Name(word),
                    },
                }
            }
            _ => {
                let two: String = [c, next.unwrap_or('\0')].iter().collect();
                let (tok, len) = match two.as_str() {
                    "+=" => (Tok::AddAssign, 2),
                    "-=" => (Tok::SubAssign, 2),
                    "*=" => (Tok::MulAssign, 2),
                    "/=" => (Tok::DivAssign, 2),
                    "%=" => (Tok::ModAssign, 2),
                    "^=" => (Tok::PowAssign, 2),
                    "==" => (Tok::Eq, 2),
                    "<=" => (Tok::Le, 2),
                    ">=" => (Tok::Ge, 2),
                    "!=" => (Tok::Ne, 2),
                    "++" => (Tok::Incr, 2),
                    "--" => (Tok::Decr, 2),
                    "&&" => (Tok::And, 2),
                    "||" => (Tok::Or, 2),
                    ">>" => (Tok::Append, 2),
                    "!~" => (Tok::NoMatch, 2),
                    "**" if chars.get(at + 2) == Some(&'=') => (Tok::PowAssign, 3),
                    "**" => (Tok::Caret, 2),
                    _ => (
                        match c {
                            '{' => Tok::LBrace,
                            '}' => Tok::RBrace,
                            '(' => Tok::LParen,
                            ')' => Tok::RParen,
                            '[' => Tok::LBracket,
                            ']' => Tok::RBracket,
                            ';' => Tok::Semi,
                            ',' => Tok::Comma,
                            '+' => Tok::Plus,
                            '-' => Tok::Minus,
                            '*' => Tok::Star,
                            '/' => Tok::Slash,
                            '%' => Tok::Percent,
                            '^' => Tok::Caret,
                            '!' => Tok::Not,
                            '>' => Tok::Gt,
                            '<' => Tok::Lt,
                            '|' => Tok::Pipe,
                            '?' => Tok::Question,
                            ':' => Tok::Colon,
                            '~' => Tok::Tilde,
                            '$' => Tok::Dollar,
                            '=' => Tok::Assign,
                            other => {
                                return Err(fail(&format!("invalid char '{other}' in expression")));
                            }
                        },
                        1,
                    ),
                };
                at += len;
                tok
            }
        };
        out.push(Token { tok, line: tok_line, col: tok_col });
    }
    let col = at - line_start;
    out.push(Token { tok: Tok::Eof, line, col });
    Ok(out)
}
