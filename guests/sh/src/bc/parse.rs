//! bc's language as GNU bc reads it: tokens, then statements and function
//! definitions, one top-level item at a time so that each runs as soon as
//! it is read (an error in one line leaves the next to run).
//!
//! Precedence, lowest first: `||`, `&&`, `!`, the relations, assignment
//! (right to left), `+ -`, `* / %`, `^` (right to left), unary `-`,
//! `++ --`. So `a = 3 < 5` compares the assignment's value, as GNU's does.

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Num(String),
    Name(String),
    Str(String),
    Op(&'static str),
    Newline,
    Eof,
}

pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    pub(crate) line: usize,
}

/// A syntax error, at `line` (as GNU counts it: a newline that ends an
/// incomplete statement is counted before the error is seen).
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

const OPS: [&str; 33] = [
    "++", "--", "+=", "-=", "*=", "/=", "%=", "^=", "==", "<=", ">=", "!=", "&&", "||", "+", "-", "*", "/", "%", "^",
    "=", "<", ">", "!", "(", ")", "[", "]", "{", "}", ",", ";", ".",
];

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src: src.as_bytes(), pos: 0, line: 1 }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError { line: self.line, message: message.into() }
    }

    /// Skips to the start of the next line (error recovery).
    pub(crate) fn skip_line(&mut self) {
        while let Some(&c) = self.src.get(self.pos) {
            self.pos += 1;
            if c == b'\n' {
                self.line += 1;
                return;
            }
        }
    }

    pub(crate) fn next(&mut self) -> Result<Tok, SyntaxError> {
        loop {
            let Some(&c) = self.src.get(self.pos) else { return Ok(Tok::Eof) };
            match c {
                b' ' | b'\t' | b'\r' | 0x0c | 0x0b => self.pos += 1,
                b'\\' if self.src.get(self.pos + 1) == Some(&b'\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                b'#' => {
                    while self.src.get(self.pos).is_some_and(|&c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                b'/' if self.src.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.line;
                    self.pos += 2;
                    loop {
                        match self.src.get(self.pos) {
                            None => return Err(SyntaxError { line: start, message: "comment end not found".into() }),
                            Some(b'*') if self.src.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(&c) => {
                                if c == b'\n' {
                                    self.line += 1;
                                }
                                self.pos += 1;
                            }
                        }
                    }
                }
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    return Ok(Tok::Newline);
                }
                b'"' => {
                    let start = self.pos + 1;
                    let mut end = start;
                    while self.src.get(end).is_some_and(|&c| c != b'"') {
                        end += 1;
                    }
                    if end >= self.src.len() {
                        self.pos = end;
                        return Err(self.error("string end not found"));
                    }
                    let text = String::from_utf8_lossy(&self.src[start..end]).into_owned();
                    self.line += text.matches('\n').count();
                    self.pos = end + 1;
                    return Ok(Tok::Str(text));
                }
                b'0'..=b'9' | b'A'..=b'Z' => return Ok(Tok::Num(self.number())),
                b'.' if self.src.get(self.pos + 1).is_some_and(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) => {
                    return Ok(Tok::Num(self.number()));
                }
                b'a'..=b'z' => {
                    let start = self.pos;
                    while self
                        .src
                        .get(self.pos)
                        .is_some_and(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
                    {
                        self.pos += 1;
                    }
                    return Ok(Tok::Name(String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()));
                }
                _ => {
                    for op in OPS {
                        if self.src[self.pos..].starts_with(op.as_bytes()) {
                            self.pos += op.len();
                            return Ok(Tok::Op(op));
                        }
                    }
                    let ch = String::from_utf8_lossy(&self.src[self.pos..]).chars().next().unwrap_or('?');
                    self.pos += ch.len_utf8().max(1);
                    return Err(self.error(format!("illegal character: {ch}")));
                }
            }
        }
    }

    fn number(&mut self) -> String {
        let mut text = String::new();
        let mut dot = false;
        while let Some(&c) = self.src.get(self.pos) {
            match c {
                b'0'..=b'9' | b'A'..=b'Z' => text.push(c as char),
                b'.' if !dot => {
                    dot = true;
                    text.push('.');
                }
                b'\\' if self.src.get(self.pos + 1) == Some(&b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                _ => break,
            }
            self.pos += 1;
        }
        text
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Var {
    Scalar(String),
    Element(String, Box<Expr>),
    Scale,
    Ibase,
    Obase,
    Last,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Num(String),
    Var(Var),
    Assign(Var, Option<&'static str>, Box<Expr>),
    /// `++x` / `--x` (`post` false) or `x++` / `x--`.
    Step(Var, bool, bool),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// Operators of one level, left to right (`a + b - c`): a list, not a
    /// tree, so that `paste -sd+ | bc` of a long column neither recurses
    /// deeply nor drops deeply.
    Chain(Box<Expr>, Vec<(&'static str, Expr)>),
    Call(String, Vec<Arg>),
    Length(Box<Expr>),
    ScaleOf(Box<Expr>),
    Sqrt(Box<Expr>),
    Read,
}

#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Value(Expr),
    Array(String),
}

#[derive(Clone, Debug)]
pub(crate) enum Item {
    Value(Expr),
    Str(String),
}

#[derive(Clone, Debug)]
pub(crate) enum Stmt {
    /// An expression: printed unless it is an assignment.
    Expr(Expr),
    Str(String),
    Print(Vec<Item>),
    Block(Vec<Stmt>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    For(Option<Expr>, Option<Expr>, Option<Expr>, Box<Stmt>),
    Break,
    Continue,
    Return(Option<Expr>),
    Halt,
    Empty,
}

#[derive(Clone, Debug)]
pub(crate) struct Function {
    pub(crate) params: Vec<(String, bool)>,
    pub(crate) autos: Vec<(String, bool)>,
    pub(crate) body: Vec<Stmt>,
    pub(crate) void: bool,
}

pub(crate) enum TopLevel {
    Stmts(Vec<Stmt>),
    Define(String, Function),
    Quit,
    End,
}

pub(crate) struct Parser<'a> {
    lex: Lexer<'a>,
    tok: Tok,
    /// The line of the token in `tok`, for messages.
    tok_line: usize,
    in_function: bool,
    loops: usize,
    /// Expressions and statements open inside each other.
    depth: usize,
    /// `quit` was read: bc ends as soon as it reads it.
    pub(crate) quit: bool,
}

type R<T> = Result<T, SyntaxError>;

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            lex: Lexer::new(src),
            tok: Tok::Newline,
            tok_line: 1,
            in_function: false,
            loops: 0,
            depth: 0,
            quit: false,
        }
    }

    fn bump(&mut self) -> R<()> {
        self.tok = self.lex.next()?;
        self.tok_line = self.lex.line;
        Ok(())
    }

    fn error<T>(&self, message: &str) -> R<T> {
        Err(SyntaxError { line: self.tok_line, message: message.into() })
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.tok, Tok::Op(o) if *o == op)
    }

    fn expect(&mut self, op: &str) -> R<()> {
        if self.is_op(op) { self.bump() } else { self.error("syntax error") }
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(&self.tok, Tok::Name(n) if n == name)
    }

    fn skip_newlines(&mut self) -> R<()> {
        while self.tok == Tok::Newline {
            self.bump()?;
        }
        Ok(())
    }

    /// After an error: drop the rest of the line and start afresh.
    pub(crate) fn recover(&mut self) {
        if self.tok != Tok::Newline && self.tok != Tok::Eof {
            self.lex.skip_line();
        }
        self.tok = Tok::Newline;
        self.in_function = false;
        self.loops = 0;
        self.depth = 0;
    }

    /// The next top-level item: the statements of one line (run together,
    /// as GNU's), a definition, or the end.
    pub(crate) fn next_item(&mut self) -> R<TopLevel> {
        if self.tok == Tok::Newline {
            self.bump()?;
        }
        loop {
            match &self.tok {
                Tok::Eof => return Ok(TopLevel::End),
                Tok::Newline => self.bump()?,
                Tok::Op(";") => self.bump()?,
                _ => break,
            }
        }
        if self.is_name("define") {
            return self.define();
        }
        let mut stmts = Vec::new();
        loop {
            let stmt = self.statement()?;
            if self.quit {
                return Ok(TopLevel::Quit);
            }
            stmts.push(stmt);
            match &self.tok {
                Tok::Op(";") => {
                    self.bump()?;
                    if self.tok == Tok::Newline || self.tok == Tok::Eof {
                        break;
                    }
                    if self.is_name("define") {
                        break;
                    }
                }
                Tok::Newline | Tok::Eof => break,
                _ => return self.error("syntax error"),
            }
        }
        Ok(TopLevel::Stmts(stmts))
    }

    fn define(&mut self) -> R<TopLevel> {
        self.bump()?;
        let mut void = false;
        if self.is_name("void") {
            void = true;
            self.bump()?;
        }
        let Tok::Name(name) = self.tok.clone() else { return self.error("syntax error") };
        self.bump()?;
        self.expect("(")?;
        let params = self.name_list(")")?;
        self.expect(")")?;
        self.skip_newlines()?;
        self.expect("{")?;
        self.skip_newlines()?;
        let mut autos = Vec::new();
        if self.is_name("auto") {
            self.bump()?;
            autos = self.name_list(";")?;
            if self.is_op(";") || self.tok == Tok::Newline {
                self.bump()?;
            } else {
                return self.error("syntax error");
            }
        }
        self.in_function = true;
        let body = self.block_body();
        self.in_function = false;
        let body = body?;
        Ok(TopLevel::Define(name, Function { params, autos, body, void }))
    }

    /// `a, b[]` up to (not past) `end`.
    fn name_list(&mut self, end: &str) -> R<Vec<(String, bool)>> {
        let mut names = Vec::new();
        loop {
            let Tok::Name(name) = self.tok.clone() else {
                if names.is_empty() && (self.is_op(end) || self.tok == Tok::Newline) {
                    return Ok(names);
                }
                return self.error("syntax error");
            };
            self.bump()?;
            let array = self.is_op("[");
            if array {
                self.bump()?;
                self.expect("]")?;
            }
            names.push((name, array));
            if self.is_op(",") {
                self.bump()?;
            } else {
                return Ok(names);
            }
        }
    }

    /// Statements up to the closing `}` (consumed).
    fn block_body(&mut self) -> R<Vec<Stmt>> {
        let mut stmts = Vec::new();
        loop {
            while self.tok == Tok::Newline || self.is_op(";") {
                self.bump()?;
            }
            if self.is_op("}") {
                self.bump()?;
                return Ok(stmts);
            }
            if self.tok == Tok::Eof {
                return self.error("syntax error");
            }
            stmts.push(self.statement()?);
            if self.quit {
                return Ok(stmts);
            }
            if !(self.tok == Tok::Newline || self.is_op(";") || self.is_op("}")) {
                return self.error("syntax error");
            }
        }
    }

    fn statement(&mut self) -> R<Stmt> {
        self.nested(Self::statement_inner)
    }

    /// `f` one level deeper, or an error past what the guest's stack holds.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if self.depth >= MAX_NESTING {
            return self.error("nesting too deep (runbox's bc reads 400 levels of parentheses and blocks)");
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn statement_inner(&mut self) -> R<Stmt> {
        match self.tok.clone() {
            Tok::Newline | Tok::Eof => Ok(Stmt::Empty),
            Tok::Op(";") => Ok(Stmt::Empty),
            Tok::Str(s) => {
                self.bump()?;
                Ok(Stmt::Str(s))
            }
            Tok::Op("{") => {
                self.bump()?;
                Ok(Stmt::Block(self.block_body()?))
            }
            Tok::Name(name) => match name.as_str() {
                "quit" => {
                    self.quit = true;
                    Ok(Stmt::Empty)
                }
                "halt" => {
                    self.bump()?;
                    Ok(Stmt::Halt)
                }
                "break" | "continue" => {
                    if self.loops == 0 {
                        return self.error(&format!("{name} outside a for/while"));
                    }
                    self.bump()?;
                    Ok(if name == "break" { Stmt::Break } else { Stmt::Continue })
                }
                "return" => {
                    if !self.in_function {
                        return self.error("Return outside of a function.");
                    }
                    self.bump()?;
                    if self.tok == Tok::Newline || self.is_op(";") || self.is_op("}") || self.tok == Tok::Eof {
                        return Ok(Stmt::Return(None));
                    }
                    Ok(Stmt::Return(Some(self.expr()?)))
                }
                "print" => {
                    self.bump()?;
                    let mut items = Vec::new();
                    loop {
                        if let Tok::Str(s) = self.tok.clone() {
                            self.bump()?;
                            items.push(Item::Str(s));
                        } else {
                            items.push(Item::Value(self.expr()?));
                        }
                        if self.is_op(",") {
                            self.bump()?;
                        } else {
                            return Ok(Stmt::Print(items));
                        }
                    }
                }
                "if" => {
                    self.bump()?;
                    self.expect("(")?;
                    let cond = self.expr()?;
                    self.expect(")")?;
                    self.skip_newlines()?;
                    let then = self.statement()?;
                    // `else` may follow on a later line (GNU's grammar
                    // allows the newlines).
                    let saved = (self.lex.pos, self.lex.line, self.tok.clone(), self.tok_line);
                    self.skip_newlines()?;
                    if self.is_name("else") {
                        self.bump()?;
                        self.skip_newlines()?;
                        let otherwise = self.statement()?;
                        return Ok(Stmt::If(cond, Box::new(then), Some(Box::new(otherwise))));
                    }
                    (self.lex.pos, self.lex.line, self.tok, self.tok_line) = saved;
                    Ok(Stmt::If(cond, Box::new(then), None))
                }
                "while" => {
                    self.bump()?;
                    self.expect("(")?;
                    let cond = self.expr()?;
                    self.expect(")")?;
                    self.skip_newlines()?;
                    let body = self.loop_body()?;
                    Ok(Stmt::While(cond, Box::new(body)))
                }
                "for" => {
                    self.bump()?;
                    self.expect("(")?;
                    let init = if self.is_op(";") { None } else { Some(self.expr()?) };
                    self.expect(";")?;
                    let cond = if self.is_op(";") { None } else { Some(self.expr()?) };
                    self.expect(";")?;
                    let step = if self.is_op(")") { None } else { Some(self.expr()?) };
                    self.expect(")")?;
                    self.skip_newlines()?;
                    let body = self.loop_body()?;
                    Ok(Stmt::For(init, cond, step, Box::new(body)))
                }
                "limits" => {
                    self.bump()?;
                    Ok(Stmt::Str(LIMITS.into()))
                }
                _ => Ok(Stmt::Expr(self.expr()?)),
            },
            _ => Ok(Stmt::Expr(self.expr()?)),
        }
    }

    fn loop_body(&mut self) -> R<Stmt> {
        self.loops += 1;
        let body = self.statement();
        self.loops -= 1;
        body
    }

    pub(crate) fn expr(&mut self) -> R<Expr> {
        self.nested(Self::or)
    }

    /// Operators of one level, left to right, between operands of the
    /// level above.
    fn level(&mut self, ops: &[&'static str], next: fn(&mut Self) -> R<Expr>) -> R<Expr> {
        let first = next(self)?;
        let mut rest = Vec::new();
        loop {
            let op = match &self.tok {
                Tok::Op(op) if ops.contains(op) => *op,
                _ => return Ok(chain(first, rest)),
            };
            self.bump()?;
            rest.push((op, next(self)?));
        }
    }

    fn or(&mut self) -> R<Expr> {
        self.level(&["||"], Self::and)
    }

    fn and(&mut self) -> R<Expr> {
        self.level(&["&&"], Self::not)
    }

    fn not(&mut self) -> R<Expr> {
        if self.is_op("!") {
            self.bump()?;
            return Ok(Expr::Not(Box::new(self.nested(Self::not)?)));
        }
        self.relation()
    }

    fn relation(&mut self) -> R<Expr> {
        self.level(&["<", "<=", ">", ">=", "==", "!="], Self::assignment)
    }

    fn assignment(&mut self) -> R<Expr> {
        let left = self.additive()?;
        let op = match &self.tok {
            Tok::Op("=") => None,
            Tok::Op(op @ ("+=" | "-=" | "*=" | "/=" | "%=" | "^=")) => Some(&op[..1]),
            _ => return Ok(left),
        };
        let Expr::Var(var) = left else { return self.error("syntax error") };
        self.bump()?;
        let right = self.nested(Self::assignment)?;
        let op = op.map(|o| match o {
            "+" => "+",
            "-" => "-",
            "*" => "*",
            "/" => "/",
            "%" => "%",
            _ => "^",
        });
        Ok(Expr::Assign(var, op, Box::new(right)))
    }

    fn additive(&mut self) -> R<Expr> {
        self.level(&["+", "-"], Self::multiplicative)
    }

    fn multiplicative(&mut self) -> R<Expr> {
        self.level(&["*", "/", "%"], Self::power)
    }

    fn power(&mut self) -> R<Expr> {
        let base = self.unary()?;
        if self.is_op("^") {
            self.bump()?;
            let exponent = self.nested(Self::power)?;
            return Ok(Expr::Binary("^", Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> R<Expr> {
        if self.is_op("-") {
            self.bump()?;
            return Ok(Expr::Neg(Box::new(self.nested(Self::unary)?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> R<Expr> {
        if self.is_op("++") || self.is_op("--") {
            let up = self.is_op("++");
            self.bump()?;
            let Expr::Var(var) = self.primary()? else { return self.error("syntax error") };
            return Ok(Expr::Step(var, up, false));
        }
        let e = self.primary()?;
        if let Expr::Var(var) = &e
            && (self.is_op("++") || self.is_op("--"))
        {
            let up = self.is_op("++");
            self.bump()?;
            return Ok(Expr::Step(var.clone(), up, true));
        }
        Ok(e)
    }

    fn primary(&mut self) -> R<Expr> {
        match self.tok.clone() {
            Tok::Num(n) => {
                self.bump()?;
                Ok(Expr::Num(n))
            }
            Tok::Op("(") => {
                self.bump()?;
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op(".") => {
                self.bump()?;
                Ok(Expr::Var(Var::Last))
            }
            Tok::Name(name) => {
                self.bump()?;
                match name.as_str() {
                    "scale" if !self.is_op("(") => return Ok(Expr::Var(Var::Scale)),
                    "ibase" => return Ok(Expr::Var(Var::Ibase)),
                    "obase" => return Ok(Expr::Var(Var::Obase)),
                    "last" => return Ok(Expr::Var(Var::Last)),
                    "length" | "scale" | "sqrt" => {
                        self.expect("(")?;
                        let e = Box::new(self.expr()?);
                        self.expect(")")?;
                        return Ok(match name.as_str() {
                            "length" => Expr::Length(e),
                            "scale" => Expr::ScaleOf(e),
                            _ => Expr::Sqrt(e),
                        });
                    }
                    "read" => {
                        self.expect("(")?;
                        self.expect(")")?;
                        return Ok(Expr::Read);
                    }
                    _ if KEYWORDS.contains(&name.as_str()) => return self.error("syntax error"),
                    _ => {}
                }
                if self.is_op("[") {
                    self.bump()?;
                    let index = self.expr()?;
                    self.expect("]")?;
                    return Ok(Expr::Var(Var::Element(name, Box::new(index))));
                }
                if self.is_op("(") {
                    self.bump()?;
                    let mut args = Vec::new();
                    if !self.is_op(")") {
                        loop {
                            args.push(self.argument()?);
                            if self.is_op(",") {
                                self.bump()?;
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(")")?;
                    return Ok(Expr::Call(name, args));
                }
                Ok(Expr::Var(Var::Scalar(name)))
            }
            _ => self.error("syntax error"),
        }
    }

    /// An argument: an expression, or a whole array as `name[]`.
    fn argument(&mut self) -> R<Arg> {
        if let Tok::Name(name) = self.tok.clone() {
            let saved = (self.lex.pos, self.lex.line, self.tok.clone(), self.tok_line);
            self.bump()?;
            if self.is_op("[") {
                self.bump()?;
                if self.is_op("]") {
                    self.bump()?;
                    return Ok(Arg::Array(name));
                }
            }
            (self.lex.pos, self.lex.line, self.tok, self.tok_line) = saved;
        }
        Ok(Arg::Value(self.expr()?))
    }
}

fn chain(first: Expr, rest: Vec<(&'static str, Expr)>) -> Expr {
    if rest.is_empty() { first } else { Expr::Chain(Box::new(first), rest) }
}

/// Parentheses, blocks and right-nested operators one inside another.
const MAX_NESTING: usize = 400;

const KEYWORDS: [&str; 13] =
    ["if", "else", "while", "for", "break", "continue", "return", "define", "auto", "print", "quit", "halt", "void"];

const LIMITS: &str = "BC_BASE_MAX     = 2147483647\nBC_DIM_MAX      = 16777215\nBC_SCALE_MAX    = 2147483647\nBC_STRING_MAX   = 2147483647\nMAX Exponent    = 9223372036854775807\nNumber of vars  = 32767\n";
