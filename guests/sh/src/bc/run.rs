//! Running bc's statements: variables, arrays and functions in their own
//! name spaces, parameters and `auto`s scoped dynamically (a called
//! function sees its caller's), output gathered for the command to write.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::math;
use super::number::Num;
use super::parse::{Arg, Expr, Function, Item, Stmt, Var};

/// The largest array index, as GNU's `BC_DIM_MAX`.
const DIM_MAX: u64 = 16_777_215;
/// Statements and expressions evaluated inside each other (across calls)
/// past this end the line with an error: the guest's stack is bounded
/// (a simple recursive function goes about 600 calls deep).
const MAX_DEPTH: usize = 1800;
/// Output one statement may gather before it is written.
pub(crate) const MAX_PENDING: usize = 64 << 20;

pub(crate) enum Stop {
    /// A runtime error: the rest of the line is dropped.
    Error(String),
    Halt,
}

enum Flow {
    Normal,
    Break,
    Continue,
    Return(Num),
}

pub(crate) struct Machine {
    pub(crate) scale: u32,
    ibase: u32,
    obase: u64,
    last: Num,
    vars: HashMap<String, Num>,
    arrays: HashMap<String, HashMap<u64, Num>>,
    pub(crate) functions: HashMap<String, Function>,
    pub(crate) mathlib: bool,
    depth: usize,
    /// Where a runtime message says it happened.
    func: String,
    pub(crate) out: Vec<u8>,
    pub(crate) err: Vec<u8>,
    col: usize,
    line_length: usize,
}

impl Machine {
    pub(crate) fn new(line_length: usize) -> Self {
        Machine {
            scale: 0,
            ibase: 10,
            obase: 10,
            last: Num::int(0),
            vars: HashMap::new(),
            arrays: HashMap::new(),
            functions: HashMap::new(),
            mathlib: false,
            depth: 0,
            func: "(main)".into(),
            out: Vec::new(),
            err: Vec::new(),
            col: 0,
            line_length,
        }
    }

    fn runtime(&self, message: &str) -> Stop {
        Stop::Error(format!("Runtime error (func={}, adr=0): {message}\n", self.func))
    }

    fn warn(&mut self, message: &str) {
        self.err.extend_from_slice(format!("Runtime warning (func={}, adr=0): {message}\n", self.func).as_bytes());
    }

    #[inline(never)]
    fn emit(&mut self, text: &str) -> Result<(), Stop> {
        for c in text.chars() {
            let mut buf = [0u8; 4];
            self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            self.col = if c == '\n' { 0 } else { self.col + 1 };
        }
        self.check_pending()
    }

    fn check_pending(&self) -> Result<(), Stop> {
        if self.out.len() > MAX_PENDING {
            return Err(Stop::Error(
                "bc: one line's output passed 64 MiB before it could be written; split the loop over several lines\n"
                    .into(),
            ));
        }
        Ok(())
    }

    /// A number, broken into lines of `line_length - 1` characters ending
    /// in a backslash, as GNU's.
    #[inline(never)]
    fn emit_number(&mut self, n: &Num) -> Result<(), Stop> {
        let text = n.format(self.obase);
        for c in text.chars() {
            if self.line_length > 2 && self.col >= self.line_length - 2 {
                self.out.extend_from_slice(b"\\\n");
                self.col = 0;
            }
            let mut buf = [0u8; 4];
            self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            self.col += 1;
        }
        self.check_pending()
    }

    /// Runs the statements of one line.
    pub(crate) fn run_line(&mut self, stmts: &[Stmt]) -> Result<(), Stop> {
        self.depth = 0;
        self.func = "(main)".into();
        for stmt in stmts {
            self.stmt(stmt)?;
        }
        Ok(())
    }

    fn stmt(&mut self, stmt: &Stmt) -> Result<Flow, Stop> {
        self.enter()?;
        let flow = self.stmt_inner(stmt);
        self.depth -= 1;
        flow
    }

    /// One level deeper, or the error that ends the line.
    fn enter(&mut self) -> Result<(), Stop> {
        if self.depth >= MAX_DEPTH {
            return Err(
                self.runtime("calls and expressions nested too deeply (runbox's bc: about 600 recursive calls)")
            );
        }
        self.depth += 1;
        Ok(())
    }

    fn stmt_inner(&mut self, stmt: &Stmt) -> Result<Flow, Stop> {
        match stmt {
            Stmt::Empty => {}
            Stmt::Expr(e) => {
                let value = self.eval(e)?;
                let shown = !matches!(e, Expr::Assign(..))
                    && !matches!(e, Expr::Call(name, _) if self.functions.get(name).is_some_and(|f| f.void));
                if shown {
                    self.emit_number(&value)?;
                    self.emit("\n")?;
                    self.last = value;
                }
            }
            Stmt::Str(s) => self.emit(s)?,
            Stmt::Print(items) => {
                for item in items {
                    match item {
                        Item::Str(s) => {
                            let text = escapes(s);
                            self.emit(&text)?;
                        }
                        Item::Value(e) => {
                            let value = self.eval(e)?;
                            self.emit_number(&value)?;
                            self.last = value;
                        }
                    }
                }
            }
            Stmt::Block(stmts) => {
                for s in stmts {
                    match self.stmt(s)? {
                        Flow::Normal => {}
                        other => return Ok(other),
                    }
                }
            }
            Stmt::If(cond, then, otherwise) => {
                if !self.eval(cond)?.is_zero() {
                    return self.stmt(then);
                } else if let Some(otherwise) = otherwise {
                    return self.stmt(otherwise);
                }
            }
            Stmt::While(cond, body) => {
                while !self.eval(cond)?.is_zero() {
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            Stmt::For(init, cond, step, body) => {
                if let Some(init) = init {
                    self.eval(init)?;
                }
                loop {
                    if let Some(cond) = cond
                        && self.eval(cond)?.is_zero()
                    {
                        break;
                    }
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                    if let Some(step) = step {
                        self.eval(step)?;
                    }
                }
            }
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Return(e) => {
                let value = match e {
                    Some(e) => self.eval(e)?,
                    None => Num::int(0),
                };
                return Ok(Flow::Return(value));
            }
            Stmt::Halt => return Err(Stop::Halt),
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn get(&mut self, var: &Var) -> Result<Num, Stop> {
        Ok(match var {
            Var::Scalar(name) => self.vars.get(name).cloned().unwrap_or_default(),
            Var::Element(name, index) => {
                let index = self.index(name, index)?;
                self.arrays.get(name).and_then(|a| a.get(&index)).cloned().unwrap_or_default()
            }
            Var::Scale => Num::int(i64::from(self.scale)),
            Var::Ibase => Num::int(i64::from(self.ibase)),
            Var::Obase => Num { v: BigInt::from(self.obase), scale: 0 },
            Var::Last => self.last.clone(),
        })
    }

    #[inline(never)]
    fn index(&mut self, name: &str, index: &Expr) -> Result<u64, Stop> {
        let value = self.eval(index)?;
        match value.trunc().to_u64() {
            Some(i) if i <= DIM_MAX && !value.is_negative() => Ok(i),
            _ => Err(self.runtime(&format!("Array {name} subscript out of bounds."))),
        }
    }

    #[inline(never)]
    fn set(&mut self, var: &Var, value: Num) -> Result<Num, Stop> {
        match var {
            Var::Scalar(name) => {
                self.vars.insert(name.clone(), value.clone());
            }
            Var::Element(name, index) => {
                let index = self.index(name, index)?;
                self.arrays.entry(name.clone()).or_default().insert(index, value.clone());
            }
            Var::Scale => {
                let n = value.trunc();
                if n.sign() == num_bigint::Sign::Minus {
                    self.warn("negative scale, set to 0");
                    self.scale = 0;
                } else {
                    match n.to_u32() {
                        Some(s) if s <= 1_000_000 => self.scale = s,
                        _ => return Err(self.runtime("scale too large (runbox's bc keeps at most 1000000 digits)")),
                    }
                }
            }
            Var::Ibase => self.ibase = self.base(&value, "ibase", 36) as u32,
            Var::Obase => self.obase = self.base(&value, "obase", 2_147_483_647),
            Var::Last => self.last = value.clone(),
        }
        Ok(value)
    }

    /// A new `ibase` or `obase`, brought within 2..=`max` with GNU's warning.
    fn base(&mut self, value: &Num, name: &str, max: u64) -> u64 {
        let n = value.trunc().to_i64().unwrap_or(i64::MAX);
        if n < 2 {
            self.warn(&format!("{name} too small, set to 2"));
            2
        } else if n as u64 > max {
            self.warn(&format!("{name} too large, set to {max}"));
            max
        } else {
            n as u64
        }
    }

    #[inline(never)]
    fn binary(&mut self, op: &str, a: &Num, b: &Num) -> Result<Num, Stop> {
        let scale = self.scale;
        Ok(match op {
            "+" => a.add(b),
            "-" => a.sub(b),
            "*" => a.mul(b, scale),
            "/" => a.div(b, scale).ok_or_else(|| self.runtime("Divide by zero"))?,
            "%" => a.rem(b, scale).ok_or_else(|| self.runtime("Modulo by zero"))?,
            "^" => {
                if b.scale > 0 && !b.rescale(0).sub(b).is_zero() {
                    self.warn("non-zero scale in exponent");
                }
                a.pow(&b.trunc(), scale).map_err(|m| self.runtime(m))?
            }
            _ => {
                let ordering = a.cmp(b);
                let truth = match op {
                    "<" => ordering.is_lt(),
                    "<=" => ordering.is_le(),
                    ">" => ordering.is_gt(),
                    ">=" => ordering.is_ge(),
                    "==" => ordering.is_eq(),
                    _ => ordering.is_ne(),
                };
                Num::int(i64::from(truth))
            }
        })
    }

    #[inline(never)]
    fn assign(&mut self, var: &Var, op: Option<&str>, value: &Expr) -> Result<Num, Stop> {
        let value = self.eval(value)?;
        let value = match op {
            None => value,
            Some(op) => {
                let current = self.get(var)?;
                self.binary(op, &current, &value)?
            }
        };
        self.set(var, value)
    }

    #[inline(never)]
    fn step(&mut self, var: &Var, up: bool, post: bool) -> Result<Num, Stop> {
        let current = self.get(var)?;
        let next = if up { current.add(&Num::int(1)) } else { current.sub(&Num::int(1)) };
        self.set(var, next.clone())?;
        Ok(if post { current } else { next })
    }

    /// Left to right; `&&` and `||` skip what cannot change the answer.
    #[inline(never)]
    fn chain(&mut self, first: &Expr, rest: &[(&'static str, Expr)]) -> Result<Num, Stop> {
        let mut acc = self.eval(first)?;
        for (op, e) in rest {
            acc = match *op {
                "&&" => Num::int(i64::from(!acc.is_zero() && !self.eval(e)?.is_zero())),
                "||" => Num::int(i64::from(!acc.is_zero() || !self.eval(e)?.is_zero())),
                _ => {
                    let b = self.eval(e)?;
                    self.binary(op, &acc, &b)?
                }
            };
        }
        Ok(acc)
    }

    #[inline(never)]
    fn operands(&mut self, op: &str, a: &Expr, b: &Expr) -> Result<Num, Stop> {
        let a = self.eval(a)?;
        let b = self.eval(b)?;
        self.binary(op, &a, &b)
    }

    fn eval(&mut self, e: &Expr) -> Result<Num, Stop> {
        self.enter()?;
        let value = self.eval_inner(e);
        self.depth -= 1;
        value
    }

    fn eval_inner(&mut self, e: &Expr) -> Result<Num, Stop> {
        match e {
            Expr::Num(text) => Ok(Num::parse(text, self.ibase)),
            Expr::Var(var) => self.get(var),
            Expr::Assign(var, op, value) => self.assign(var, *op, value),
            Expr::Step(var, up, post) => self.step(var, *up, *post),
            Expr::Neg(inner) => Ok(self.eval(inner)?.neg()),
            Expr::Not(inner) => Ok(Num::int(i64::from(self.eval(inner)?.is_zero()))),
            Expr::Chain(first, rest) => self.chain(first, rest),
            Expr::Binary(op, a, b) => self.operands(op, a, b),
            Expr::Length(inner) => Ok(Num::int(self.eval(inner)?.length() as i64)),
            Expr::ScaleOf(inner) => Ok(Num::int(i64::from(self.eval(inner)?.scale))),
            Expr::Sqrt(inner) => {
                let value = self.eval(inner)?;
                value.sqrt(self.scale).ok_or_else(|| self.runtime("Square root of a negative number"))
            }
            Expr::Read => Err(self.runtime("read() is not in runbox's bc: pass the value in the program's text")),
            Expr::Call(name, args) => self.call(name, args),
        }
    }

    #[inline(never)]
    fn call(&mut self, name: &str, args: &[Arg]) -> Result<Num, Stop> {
        let Some(function) = self.functions.get(name).cloned() else {
            if self.mathlib
                && let Some(result) = self.library(name, args)?
            {
                return Ok(result);
            }
            return Err(self.runtime(&format!("Function {name} not defined.")));
        };
        if args.len() != function.params.len() {
            return Err(self.runtime(&format!("Parameter number mismatch in {name}")));
        }
        // Arguments are evaluated in the caller's scope, then bound.
        let mut values: Vec<Result<Num, HashMap<u64, Num>>> = Vec::with_capacity(args.len());
        for ((_, array), arg) in function.params.iter().zip(args) {
            match (array, arg) {
                (false, Arg::Value(e)) => values.push(Ok(self.eval(e)?)),
                (true, Arg::Array(a)) => values.push(Err(self.arrays.get(a).cloned().unwrap_or_default())),
                _ => return Err(self.runtime(&format!("Parameter type mismatch in {name}"))),
            }
        }
        let mut saved_vars = Vec::new();
        let mut saved_arrays = Vec::new();
        for ((param, array), value) in function.params.iter().zip(values) {
            if *array {
                saved_arrays.push((param.clone(), self.arrays.remove(param)));
                self.arrays.insert(param.clone(), value.unwrap_err());
            } else {
                saved_vars.push((param.clone(), self.vars.remove(param)));
                self.vars.insert(param.clone(), value.unwrap_or_default());
            }
        }
        for (auto, array) in &function.autos {
            if *array {
                saved_arrays.push((auto.clone(), self.arrays.remove(auto)));
            } else {
                saved_vars.push((auto.clone(), self.vars.remove(auto)));
            }
        }
        let caller = std::mem::replace(&mut self.func, name.to_string());
        let mut result = Ok(Num::int(0));
        for stmt in &function.body {
            match self.stmt(stmt) {
                Ok(Flow::Return(v)) => {
                    result = Ok(v);
                    break;
                }
                Ok(_) => {}
                Err(stop) => {
                    result = Err(stop);
                    break;
                }
            }
        }
        self.func = caller;
        for (name, old) in saved_vars.into_iter().rev() {
            match old {
                Some(v) => self.vars.insert(name, v),
                None => self.vars.remove(&name),
            };
        }
        for (name, old) in saved_arrays.into_iter().rev() {
            match old {
                Some(a) => self.arrays.insert(name, a),
                None => self.arrays.remove(&name),
            };
        }
        result
    }

    /// `-l`'s functions, where the program defines none of that name.
    #[inline(never)]
    fn library(&mut self, name: &str, args: &[Arg]) -> Result<Option<Num>, Stop> {
        let arity = if name == "j" { 2 } else { 1 };
        if !matches!(name, "s" | "c" | "a" | "l" | "e" | "j") {
            return Ok(None);
        }
        if args.len() != arity {
            return Err(self.runtime(&format!("Parameter number mismatch in {name}")));
        }
        let mut values = Vec::new();
        for arg in args {
            match arg {
                Arg::Value(e) => values.push(self.eval(e)?),
                Arg::Array(_) => return Err(self.runtime(&format!("Parameter type mismatch in {name}"))),
            }
        }
        let scale = self.scale;
        Ok(Some(match name {
            "s" => math::sin(&values[0], scale),
            "c" => math::cos(&values[0], scale),
            "a" => math::atan(&values[0], scale),
            "l" => math::ln(&values[0], scale),
            "e" => math::exp(&values[0], scale).map_err(|m| self.runtime(m))?,
            _ => math::bessel(&values[0].trunc(), &values[1], scale).map_err(|m| self.runtime(m))?,
        }))
    }
}

/// `print`'s escapes: `\a \b \f \n \q \r \t \\`.
fn escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('n') => out.push('\n'),
            Some('q') => out.push('"'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            // GNU's drops an escape it does not know, backslash and all.
            Some(_) | None => {}
        }
    }
    out
}
