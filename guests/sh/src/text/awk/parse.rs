//! An awk program read into rules, functions and expressions, POSIX's
//! grammar with gawk's usual extensions (`**`, `nextfile`, `func`, regular
//! expressions as values). Variables are resolved to slots here: globals by
//! name, a function's parameters by position.

use std::collections::HashMap;
use std::sync::Arc;

use super::lex::{Tok, Token};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Var {
    Global(usize),
    Local(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug)]
pub(super) enum Getline {
    Main,
    File(Box<Expr>),
    Command(Box<Expr>),
}

#[derive(Debug)]
pub(super) enum Expr {
    Num(f64),
    Str(Arc<str>),
    /// `/re/` alone: whether `$0` matches it.
    Regex(Arc<str>),
    Var(Var),
    Field(Box<Expr>),
    Index(Var, Vec<Expr>),
    Assign(Box<Expr>, Option<Op>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Compare(Cmp, Box<Expr>, Box<Expr>),
    Match(bool, Box<Expr>, Box<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    /// `++x`, `x--`: whether the new value is the result, and the step.
    Incr(bool, f64, Box<Expr>),
    In(Vec<Expr>, Var),
    Call(usize, Vec<Expr>),
    Builtin(&'static str, Vec<Expr>),
    Getline(Getline, Option<Box<Expr>>),
    /// `(a, b)`: only before `in`, or as `print`'s list.
    Grouping(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Redirect {
    File,
    Append,
    Pipe,
}

#[derive(Debug)]
pub(super) enum Stmt {
    Expr(Expr),
    Print(Vec<Expr>, Option<(Redirect, Expr)>),
    Printf(Vec<Expr>, Option<(Redirect, Expr)>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    Do(Box<Stmt>, Expr),
    For(Option<Box<Stmt>>, Option<Expr>, Option<Box<Stmt>>, Box<Stmt>),
    ForIn(Var, Var, Box<Stmt>),
    Block(Vec<Stmt>),
    Next,
    Nextfile,
    Exit(Option<Expr>),
    Return(Option<Expr>),
    Break,
    Continue,
    Delete(Var, Option<Vec<Expr>>),
}

pub(super) enum Pattern {
    All,
    Expr(Expr),
    Range(Expr, Expr),
}

pub(super) struct Rule {
    pub(super) pattern: Pattern,
    /// `None`: print the record.
    pub(super) action: Option<Vec<Stmt>>,
}

pub(super) struct Function {
    pub(super) name: String,
    pub(super) params: usize,
    pub(super) body: Vec<Stmt>,
}

pub(super) struct Program {
    pub(super) begin: Vec<Vec<Stmt>>,
    pub(super) end: Vec<Vec<Stmt>>,
    /// gawk's `BEGINFILE` and `ENDFILE`: run as each input file starts and ends.
    pub(super) beginfile: Vec<Vec<Stmt>>,
    pub(super) endfile: Vec<Vec<Stmt>>,
    pub(super) rules: Vec<Rule>,
    pub(super) functions: Vec<Function>,
    /// Global names, by slot.
    pub(super) globals: Vec<String>,
    /// Whether a plain `getline` reads the main input.
    pub(super) reads_main: bool,
}

/// The special variables, in their fixed slots.
pub(super) const SPECIALS: [&str; 22] = [
    "NR",
    "NF",
    "FNR",
    "FS",
    "OFS",
    "ORS",
    "RS",
    "FILENAME",
    "SUBSEP",
    "CONVFMT",
    "OFMT",
    "RSTART",
    "RLENGTH",
    "ENVIRON",
    "ARGC",
    "ARGV",
    "IGNORECASE",
    "RT",
    "FPAT",
    "FIELDWIDTHS",
    "PROCINFO",
    "ERRNO",
];
pub(super) const NR: usize = 0;
pub(super) const NF: usize = 1;
pub(super) const FNR: usize = 2;
pub(super) const FS: usize = 3;
pub(super) const OFS: usize = 4;
pub(super) const ORS: usize = 5;
pub(super) const RS: usize = 6;
pub(super) const FILENAME: usize = 7;
pub(super) const SUBSEP: usize = 8;
pub(super) const CONVFMT: usize = 9;
pub(super) const OFMT: usize = 10;
pub(super) const RSTART: usize = 11;
pub(super) const RLENGTH: usize = 12;
pub(super) const ENVIRON: usize = 13;
pub(super) const ARGC: usize = 14;
pub(super) const ARGV: usize = 15;
pub(super) const IGNORECASE: usize = 16;
pub(super) const RT: usize = 17;
pub(super) const FPAT: usize = 18;
pub(super) const FIELDWIDTHS: usize = 19;
pub(super) const PROCINFO: usize = 20;
pub(super) const ERRNO: usize = 21;

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    at: usize,
    globals: HashMap<String, usize>,
    names: Vec<String>,
    /// The current function's parameters.
    locals: Option<Vec<String>>,
    functions: HashMap<String, usize>,
    calls: Vec<(String, usize)>,
    reads_main: bool,
    /// Inside `print`'s list: `>` redirects; inside `for (`: `in` is the loop's.
    no_gt: bool,
    no_in: bool,
    /// How deep expressions and statements nest here (bounded, so that a
    /// hostile program cannot overflow the step's stack).
    depth: usize,
}

/// The nesting a program may have.
const MAX_NESTING: usize = 200;

/// Operators one chain may hold (`a + b + …` nests as deep as it is long).
const MAX_CHAIN: usize = 1000;

pub(super) fn parse(src: &str, tokens: Vec<Token>) -> Result<Program, String> {
    let mut p = Parser {
        src,
        toks: tokens,
        at: 0,
        globals: HashMap::new(),
        names: Vec::new(),
        locals: None,
        functions: HashMap::new(),
        calls: Vec::new(),
        reads_main: false,
        no_gt: false,
        no_in: false,
        depth: 0,
    };
    for name in SPECIALS {
        p.global(name);
    }
    // Functions may be called before they are defined.
    for i in 0..p.toks.len() {
        if p.toks[i].tok == Tok::Function
            && let Some(Tok::Func(name) | Tok::Name(name)) = p.toks.get(i + 1).map(|t| &t.tok)
        {
            let n = p.functions.len();
            p.functions.entry(name.clone()).or_insert(n);
        }
    }
    let mut program = Program {
        begin: Vec::new(),
        end: Vec::new(),
        beginfile: Vec::new(),
        endfile: Vec::new(),
        rules: Vec::new(),
        functions: Vec::new(),
        globals: Vec::new(),
        reads_main: false,
    };
    let mut functions: Vec<Option<Function>> = (0..p.functions.len()).map(|_| None).collect();
    p.newlines();
    while p.peek() != &Tok::Eof {
        match p.peek().clone() {
            Tok::Begin => {
                p.bump();
                program.begin.push(p.block()?);
            }
            Tok::End => {
                p.bump();
                program.end.push(p.block()?);
            }
            Tok::BeginFile => {
                p.bump();
                program.beginfile.push(p.block()?);
            }
            Tok::EndFile => {
                p.bump();
                program.endfile.push(p.block()?);
            }
            Tok::Function => {
                p.bump();
                let name = match p.bump() {
                    Tok::Func(n) | Tok::Name(n) => n,
                    other => return Err(p.error(&format!("syntax error at {other:?}"))),
                };
                p.expect(&Tok::LParen)?;
                let mut params = Vec::new();
                while p.peek() != &Tok::RParen {
                    match p.bump() {
                        Tok::Name(n) => params.push(n),
                        other => return Err(p.error(&format!("syntax error at {other:?}"))),
                    }
                    if p.peek() == &Tok::Comma {
                        p.bump();
                        p.newlines();
                    }
                }
                p.bump();
                p.newlines();
                let count = params.len();
                p.locals = Some(params);
                let body = p.block()?;
                p.locals = None;
                let slot = p.functions[&name];
                functions[slot] = Some(Function { name, params: count, body });
            }
            _ => {
                let pattern = if p.peek() == &Tok::LBrace {
                    Pattern::All
                } else {
                    let first = p.expr()?;
                    if p.peek() == &Tok::Comma {
                        p.bump();
                        p.newlines();
                        Pattern::Range(first, p.expr()?)
                    } else {
                        Pattern::Expr(first)
                    }
                };
                let action = if p.peek() == &Tok::LBrace { Some(p.block()?) } else { None };
                program.rules.push(Rule { pattern, action });
            }
        }
        p.terminators();
    }
    for (name, _) in &p.calls {
        if !p.functions.contains_key(name) {
            return Err(format!("awk: cmd. line:1: fatal: function `{name}' not defined\n"));
        }
    }
    program.functions = functions.into_iter().flatten().collect();
    program.globals = p.names;
    program.reads_main = p.reads_main;
    Ok(program)
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.at + ahead).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Tok {
        let tok = self.toks[self.at].tok.clone();
        if self.at < self.toks.len() - 1 {
            self.at += 1;
        }
        tok
    }

    fn error(&self, message: &str) -> String {
        format!("awk: cmd. line:{}: {message}\n", self.toks[self.at].line)
    }

    fn syntax_error(&self) -> String {
        let token = &self.toks[self.at];
        match token.tok {
            Tok::Eof | Tok::Newline => {
                let end = self.src.lines().nth(token.line - 1).map_or(0, |l| l.chars().count());
                super::lex::caret(self.src, token.line, end, "unexpected newline or end of string")
            }
            _ => super::lex::caret(self.src, token.line, token.col, "syntax error"),
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), String> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn newlines(&mut self) {
        while self.peek() == &Tok::Newline {
            self.bump();
        }
    }

    fn terminators(&mut self) {
        while matches!(self.peek(), Tok::Newline | Tok::Semi) {
            self.bump();
        }
    }

    fn global(&mut self, name: &str) -> usize {
        if let Some(&slot) = self.globals.get(name) {
            return slot;
        }
        self.names.push(name.to_string());
        self.globals.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    fn var(&mut self, name: &str) -> Var {
        if let Some(locals) = &self.locals
            && let Some(i) = locals.iter().position(|l| l == name)
        {
            return Var::Local(i);
        }
        Var::Global(self.global(name))
    }

    fn block(&mut self) -> Result<Vec<Stmt>, String> {
        self.newlines();
        self.expect(&Tok::LBrace)?;
        let mut stmts = Vec::new();
        loop {
            self.terminators();
            if self.peek() == &Tok::RBrace {
                self.bump();
                return Ok(stmts);
            }
            if self.peek() == &Tok::Eof {
                return Err(self.syntax_error());
            }
            stmts.push(self.stmt()?);
        }
    }

    /// After a simple statement: `;`, a newline, or a `}` that follows.
    fn end_simple(&mut self) -> Result<(), String> {
        match self.peek() {
            Tok::Semi | Tok::Newline => {
                self.bump();
                Ok(())
            }
            Tok::RBrace | Tok::Eof => Ok(()),
            _ => Err(self.syntax_error()),
        }
    }

    fn body(&mut self) -> Result<Box<Stmt>, String> {
        self.newlines();
        if self.peek() == &Tok::Semi {
            self.bump();
            return Ok(Box::new(Stmt::Block(Vec::new())));
        }
        Ok(Box::new(self.stmt()?))
    }

    fn simple_or_empty(&mut self, end: &Tok) -> Result<Option<Box<Stmt>>, String> {
        if self.peek() == end {
            return Ok(None);
        }
        Ok(Some(Box::new(self.simple()?)))
    }

    fn stmt(&mut self) -> Result<Stmt, String> {
        self.enter()?;
        let s = self.stmt_inner();
        self.depth -= 1;
        s
    }

    fn chain(&self, length: &mut usize) -> Result<(), String> {
        *length += 1;
        if *length > MAX_CHAIN {
            let token = &self.toks[self.at];
            return Err(super::lex::caret(self.src, token.line, token.col, "expression too long"));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            self.depth -= 1;
            let token = &self.toks[self.at];
            return Err(super::lex::caret(self.src, token.line, token.col, "program nested too deeply"));
        }
        Ok(())
    }

    fn stmt_inner(&mut self) -> Result<Stmt, String> {
        match self.peek().clone() {
            Tok::LBrace => Ok(Stmt::Block(self.block()?)),
            Tok::If => {
                self.bump();
                self.expect(&Tok::LParen)?;
                let cond = self.expr()?;
                self.expect(&Tok::RParen)?;
                let then = self.body()?;
                // `else` may follow a `;` or newlines.
                let save = self.at;
                self.terminators();
                if self.peek() == &Tok::Else {
                    self.bump();
                    let otherwise = self.body()?;
                    Ok(Stmt::If(cond, then, Some(otherwise)))
                } else {
                    self.at = save;
                    Ok(Stmt::If(cond, then, None))
                }
            }
            Tok::While => {
                self.bump();
                self.expect(&Tok::LParen)?;
                let cond = self.expr()?;
                self.expect(&Tok::RParen)?;
                if self.peek() == &Tok::Semi {
                    self.bump();
                    return Ok(Stmt::While(cond, Box::new(Stmt::Block(Vec::new()))));
                }
                Ok(Stmt::While(cond, self.body()?))
            }
            Tok::Do => {
                self.bump();
                let body = self.body()?;
                self.terminators();
                self.expect(&Tok::While)?;
                self.expect(&Tok::LParen)?;
                let cond = self.expr()?;
                self.expect(&Tok::RParen)?;
                self.end_simple()?;
                Ok(Stmt::Do(body, cond))
            }
            Tok::For => {
                self.bump();
                self.expect(&Tok::LParen)?;
                if let (Tok::Name(k), Tok::In, Tok::Name(a), Tok::RParen) =
                    (self.peek().clone(), self.peek_at(1).clone(), self.peek_at(2).clone(), self.peek_at(3).clone())
                {
                    self.at += 4;
                    let (k, a) = (self.var(&k), self.var(&a));
                    return Ok(Stmt::ForIn(k, a, self.body()?));
                }
                let init = self.simple_or_empty(&Tok::Semi)?;
                self.expect(&Tok::Semi)?;
                self.newlines();
                let cond = if self.peek() == &Tok::Semi { None } else { Some(self.expr()?) };
                self.expect(&Tok::Semi)?;
                self.newlines();
                let step = self.simple_or_empty(&Tok::RParen)?;
                self.expect(&Tok::RParen)?;
                if self.peek() == &Tok::Semi {
                    self.bump();
                    return Ok(Stmt::For(init, cond, step, Box::new(Stmt::Block(Vec::new()))));
                }
                Ok(Stmt::For(init, cond, step, self.body()?))
            }
            Tok::Semi => {
                self.bump();
                Ok(Stmt::Block(Vec::new()))
            }
            _ => {
                let s = self.simple()?;
                self.end_simple()?;
                Ok(s)
            }
        }
    }

    fn simple(&mut self) -> Result<Stmt, String> {
        Ok(match self.peek().clone() {
            Tok::Print | Tok::Printf => {
                let printf = self.bump() == Tok::Printf;
                let mut args = Vec::new();
                if !matches!(
                    self.peek(),
                    Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Gt | Tok::Append | Tok::Pipe | Tok::Eof
                ) {
                    let saved = self.no_gt;
                    self.no_gt = true;
                    args.push(self.expr()?);
                    while self.peek() == &Tok::Comma {
                        self.bump();
                        self.newlines();
                        args.push(self.expr()?);
                    }
                    self.no_gt = saved;
                }
                if let [Expr::Grouping(_)] = args.as_slice() {
                    let Some(Expr::Grouping(list)) = args.pop() else { unreachable!() };
                    args = list;
                }
                let dest = match self.peek() {
                    Tok::Gt => Some(Redirect::File),
                    Tok::Append => Some(Redirect::Append),
                    Tok::Pipe => Some(Redirect::Pipe),
                    _ => None,
                };
                let dest = match dest {
                    Some(kind) => {
                        self.bump();
                        let saved = self.no_gt;
                        self.no_gt = true;
                        let target = self.concat()?;
                        self.no_gt = saved;
                        Some((kind, target))
                    }
                    None => None,
                };
                if printf {
                    if args.is_empty() {
                        return Err(self.syntax_error());
                    }
                    Stmt::Printf(args, dest)
                } else {
                    Stmt::Print(args, dest)
                }
            }
            Tok::Next => {
                self.bump();
                Stmt::Next
            }
            Tok::Nextfile => {
                self.bump();
                Stmt::Nextfile
            }
            Tok::Break => {
                self.bump();
                Stmt::Break
            }
            Tok::Continue => {
                self.bump();
                Stmt::Continue
            }
            Tok::Exit => {
                self.bump();
                let code = if matches!(self.peek(), Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Eof) {
                    None
                } else {
                    Some(self.expr()?)
                };
                Stmt::Exit(code)
            }
            Tok::Return => {
                self.bump();
                let value = if matches!(self.peek(), Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Eof) {
                    None
                } else {
                    Some(self.expr()?)
                };
                Stmt::Return(value)
            }
            Tok::Delete => {
                self.bump();
                let name = match self.bump() {
                    Tok::Name(n) => n,
                    _ => return Err(self.syntax_error()),
                };
                let var = self.var(&name);
                if self.peek() == &Tok::LBracket {
                    self.bump();
                    let subs = self.expr_list(&Tok::RBracket)?;
                    Stmt::Delete(var, Some(subs))
                } else {
                    Stmt::Delete(var, None)
                }
            }
            _ => Stmt::Expr(self.expr()?),
        })
    }

    fn expr_list(&mut self, close: &Tok) -> Result<Vec<Expr>, String> {
        let mut list = Vec::new();
        self.newlines();
        if self.peek() == close {
            self.bump();
            return Ok(list);
        }
        let (gt, inn) = (self.no_gt, self.no_in);
        self.no_gt = false;
        self.no_in = false;
        loop {
            list.push(self.expr()?);
            self.newlines();
            match self.bump() {
                Tok::Comma => self.newlines(),
                t if &t == close => break,
                _ => return Err(self.syntax_error()),
            }
        }
        self.no_gt = gt;
        self.no_in = inn;
        Ok(list)
    }

    pub(super) fn expr(&mut self) -> Result<Expr, String> {
        self.ternary()
    }

    fn ternary(&mut self) -> Result<Expr, String> {
        let cond = self.or()?;
        if is_lvalue(&cond) {
            let op = match self.peek() {
                Tok::Assign => Some(None),
                Tok::AddAssign => Some(Some(Op::Add)),
                Tok::SubAssign => Some(Some(Op::Sub)),
                Tok::MulAssign => Some(Some(Op::Mul)),
                Tok::DivAssign => Some(Some(Op::Div)),
                Tok::ModAssign => Some(Some(Op::Mod)),
                Tok::PowAssign => Some(Some(Op::Pow)),
                _ => None,
            };
            if let Some(op) = op {
                self.bump();
                self.newlines();
                let value = self.ternary()?;
                return Ok(Expr::Assign(Box::new(cond), op, Box::new(value)));
            }
        }
        if self.peek() == &Tok::Question {
            self.bump();
            self.newlines();
            let yes = self.ternary()?;
            self.newlines();
            self.expect(&Tok::Colon)?;
            self.newlines();
            let no = self.ternary()?;
            return Ok(Expr::Cond(Box::new(cond), Box::new(yes), Box::new(no)));
        }
        Ok(cond)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        let mut length = 0;
        while self.peek() == &Tok::Or {
            self.chain(&mut length)?;
            self.bump();
            self.newlines();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.membership()?;
        let mut length = 0;
        while self.peek() == &Tok::And {
            self.chain(&mut length)?;
            self.bump();
            self.newlines();
            left = Expr::And(Box::new(left), Box::new(self.membership()?));
        }
        Ok(left)
    }

    fn membership(&mut self) -> Result<Expr, String> {
        let mut left = self.matching()?;
        let mut length = 0;
        while self.peek() == &Tok::In && !self.no_in {
            self.chain(&mut length)?;
            self.bump();
            let name = match self.bump() {
                Tok::Name(n) => n,
                _ => return Err(self.syntax_error()),
            };
            let keys = match left {
                Expr::Grouping(list) => list,
                other => vec![other],
            };
            left = Expr::In(keys, self.var(&name));
        }
        Ok(left)
    }

    fn matching(&mut self) -> Result<Expr, String> {
        let mut left = self.comparison()?;
        let mut length = 0;
        while matches!(self.peek(), Tok::Tilde | Tok::NoMatch) {
            self.chain(&mut length)?;
            let negate = self.bump() == Tok::NoMatch;
            left = Expr::Match(negate, Box::new(left), Box::new(self.comparison()?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let mut left = self.concat()?;
        let mut length = 0;
        loop {
            self.chain(&mut length)?;
            // `cmd | getline [var]`
            if self.peek() == &Tok::Pipe && self.peek_at(1) == &Tok::Getline {
                self.bump();
                self.bump();
                let target = self.getline_target()?;
                left = Expr::Getline(Getline::Command(Box::new(left)), target);
                continue;
            }
            let cmp = match self.peek() {
                Tok::Lt => Cmp::Lt,
                Tok::Le => Cmp::Le,
                Tok::Gt if !self.no_gt => Cmp::Gt,
                Tok::Ge => Cmp::Ge,
                Tok::Eq => Cmp::Eq,
                Tok::Ne => Cmp::Ne,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.concat()?;
            left = Expr::Compare(cmp, Box::new(left), Box::new(right));
        }
    }

    fn starts_operand(&self) -> bool {
        match self.peek() {
            Tok::Number(_)
            | Tok::Str(_)
            | Tok::Regex(_)
            | Tok::Name(_)
            | Tok::Func(_)
            | Tok::Builtin(_)
            | Tok::Dollar
            | Tok::Not
            | Tok::LParen
            | Tok::Incr
            | Tok::Decr
            | Tok::Minus
            | Tok::Plus => true,
            Tok::In => false,
            _ => false,
        }
    }

    fn concat(&mut self) -> Result<Expr, String> {
        let mut left = self.additive()?;
        let mut length = 0;
        while self.starts_operand() && !matches!(self.peek(), Tok::Minus | Tok::Plus | Tok::Not) {
            self.chain(&mut length)?;
            // `x getline` is not a concatenation.
            let right = self.additive()?;
            left = Expr::Concat(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut left = self.multiplicative()?;
        let mut length = 0;
        loop {
            self.chain(&mut length)?;
            let op = match self.peek() {
                Tok::Plus => Op::Add,
                Tok::Minus => Op::Sub,
                _ => return Ok(left),
            };
            self.bump();
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        let mut length = 0;
        loop {
            self.chain(&mut length)?;
            let op = match self.peek() {
                Tok::Star => Op::Mul,
                Tok::Slash => Op::Div,
                Tok::Percent => Op::Mod,
                _ => return Ok(left),
            };
            self.bump();
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Tok::Not => {
                self.bump();
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::Minus => {
                self.bump();
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Tok::Plus => {
                self.bump();
                Ok(Expr::Plus(Box::new(self.unary()?)))
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let e = self.power_inner();
        self.depth -= 1;
        e
    }

    fn power_inner(&mut self) -> Result<Expr, String> {
        let base = self.postfix()?;
        if self.peek() == &Tok::Caret {
            self.bump();
            // Right-associative, and the exponent may be negated.
            let exponent = match self.peek() {
                Tok::Minus => {
                    self.bump();
                    Expr::Neg(Box::new(self.power()?))
                }
                Tok::Plus => {
                    self.bump();
                    self.power()?
                }
                _ => self.power()?,
            };
            return Ok(Expr::Binary(Op::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let e = self.primary()?;
        if is_lvalue(&e) {
            match self.peek() {
                Tok::Incr => {
                    self.bump();
                    return Ok(Expr::Incr(false, 1.0, Box::new(e)));
                }
                Tok::Decr => {
                    self.bump();
                    return Ok(Expr::Incr(false, -1.0, Box::new(e)));
                }
                _ => {}
            }
        }
        Ok(e)
    }

    fn getline_target(&mut self) -> Result<Option<Box<Expr>>, String> {
        Ok(match self.peek() {
            Tok::Name(_) | Tok::Dollar => Some(Box::new(self.primary()?)),
            _ => None,
        })
    }

    fn primary(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let e = self.primary_inner();
        self.depth -= 1;
        e
    }

    fn primary_inner(&mut self) -> Result<Expr, String> {
        let tok = self.bump();
        Ok(match tok {
            Tok::Number(n) => Expr::Num(n),
            Tok::Str(s) => Expr::Str(s.into()),
            Tok::Regex(r) => Expr::Regex(r.into()),
            Tok::LParen => {
                let (gt, inn) = (self.no_gt, self.no_in);
                self.no_gt = false;
                self.no_in = false;
                self.newlines();
                let first = self.expr()?;
                self.newlines();
                let e = if self.peek() == &Tok::Comma {
                    let mut list = vec![first];
                    while self.peek() == &Tok::Comma {
                        self.bump();
                        self.newlines();
                        list.push(self.expr()?);
                        self.newlines();
                    }
                    Expr::Grouping(list)
                } else {
                    first
                };
                self.no_gt = gt;
                self.no_in = inn;
                self.expect(&Tok::RParen)?;
                e
            }
            Tok::Dollar => {
                let operand = match self.peek() {
                    Tok::Incr | Tok::Decr => {
                        let delta = if self.bump() == Tok::Incr { 1.0 } else { -1.0 };
                        let target = self.primary()?;
                        Expr::Incr(true, delta, Box::new(target))
                    }
                    Tok::Minus => {
                        self.bump();
                        Expr::Neg(Box::new(self.primary()?))
                    }
                    _ => self.primary()?,
                };
                Expr::Field(Box::new(operand))
            }
            Tok::Incr | Tok::Decr => {
                let delta = if tok == Tok::Incr { 1.0 } else { -1.0 };
                let target = self.primary()?;
                if !is_lvalue(&target) {
                    return Err(self.syntax_error());
                }
                Expr::Incr(true, delta, Box::new(target))
            }
            Tok::Not => Expr::Not(Box::new(self.unary()?)),
            Tok::Minus => Expr::Neg(Box::new(self.unary()?)),
            Tok::Name(name) => {
                let var = self.var(&name);
                if self.peek() == &Tok::LBracket {
                    self.bump();
                    let subs = self.expr_list(&Tok::RBracket)?;
                    Expr::Index(var, subs)
                } else {
                    Expr::Var(var)
                }
            }
            Tok::Func(name) => {
                self.expect(&Tok::LParen)?;
                let args = self.expr_list(&Tok::RParen)?;
                let Some(&slot) = self.functions.get(&name) else {
                    return Err(format!("awk: cmd. line:1: fatal: function `{name}' not defined\n"));
                };
                self.calls.push((name, slot));
                Expr::Call(slot, args)
            }
            Tok::Builtin(name) => {
                let args = if self.peek() == &Tok::LParen {
                    self.bump();
                    self.expr_list(&Tok::RParen)?
                } else if name == "length" {
                    Vec::new()
                } else {
                    return Err(self.syntax_error());
                };
                Expr::Builtin(name, args)
            }
            Tok::Getline => {
                let target = self.getline_target()?;
                if self.peek() == &Tok::Lt {
                    self.bump();
                    let file = self.primary()?;
                    Expr::Getline(Getline::File(Box::new(file)), target)
                } else {
                    self.reads_main = true;
                    Expr::Getline(Getline::Main, target)
                }
            }
            _ => {
                self.at -= 1;
                return Err(self.syntax_error());
            }
        })
    }
}

pub(super) fn is_lvalue(e: &Expr) -> bool {
    matches!(e, Expr::Var(_) | Expr::Field(_) | Expr::Index(..))
}
