//! An awk program run: `BEGIN`, each record through the rules, `END`. It
//! never waits: the caller reads the input (asynchronously, for a pipe)
//! and hands each record in; what the program prints gathers in `out`.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

use indexmap::IndexMap;
use regex::{Regex, RegexBuilder};

use super::format::sprintf;
use super::parse::*;
use super::record::{Fs, Next, Records, Rs, split, widths};
use super::sorted::Order;
use super::value::{Value, number_text};
use crate::text::pattern::{Syntax, translate};

pub(super) type Array = IndexMap<Arc<str>, Value>;

#[derive(Clone)]
pub(super) enum Cell {
    Val(Value),
    Arr(Arc<Mutex<Array>>),
}

/// Why statements stopped running in order.
pub(super) enum Stop {
    Next,
    NextFile,
    Exit,
    Return(Value),
    Break,
    Continue,
    /// A fatal error: gawk's message (exit status 2).
    Fatal(String),
}

type Flow<T> = Result<T, Stop>;

fn fatal<T>(message: impl Into<String>) -> Flow<T> {
    Err(Stop::Fatal(message.into()))
}

/// A file `getline < FILE` reads.
struct Reader {
    file: std::fs::File,
    records: Records,
}

/// The current record and its fields.
struct Record {
    text: String,
    bounds: Vec<(usize, usize)>,
    split: bool,
    /// The fields, once one was assigned.
    owned: Option<Vec<String>>,
}

pub(super) struct Interp<'p> {
    pub(super) prog: &'p Program,
    pub(super) globals: Vec<Cell>,
    frames: Vec<Vec<Cell>>,
    record: Record,
    /// Compiled regexps: as written, and (`IGNORECASE`) without case.
    regexes: [HashMap<Arc<str>, Regex>; 2],
    /// Which of `FS`, `FPAT` and `FIELDWIDTHS` was assigned last, and the
    /// widths.
    splitting: usize,
    widths: Arc<[(usize, Option<usize>)]>,
    /// gawk's `-b` (or a C locale): characters are bytes.
    pub(super) bytes: bool,
    /// Where standard output goes instead (`-i inplace`'s new file), and
    /// the error a write to it met.
    pub(super) stdout_file: Option<BufWriter<std::fs::File>>,
    pub(super) stdout_error: Option<std::io::Error>,
    outputs: HashMap<String, BufWriter<std::fs::File>>,
    readers: HashMap<String, Reader>,
    ranges: Vec<bool>,
    /// Which parameters each function uses as an array.
    array_params: Vec<Vec<bool>>,
    seed: f64,
    rand_state: u64,
    pub(super) out: Vec<u8>,
    pub(super) err: Vec<u8>,
    pub(super) exit_code: i32,
    cwd: PathBuf,
    /// The main input, for a plain `getline` (the caller fills it).
    pub(super) main: Option<(Records, Option<std::fs::File>)>,
    /// `$0` came from no input yet (in BEGIN).
    depth: usize,
}

/// How deep function calls may nest before the step's stack would.
const MAX_DEPTH: usize = 1000;

/// Files a program may hold open at once (`print >`, `getline <`).
const MAX_OPEN: usize = 1024;

impl<'p> Interp<'p> {
    pub(super) fn new(prog: &'p Program, cwd: PathBuf) -> Self {
        let mut globals = vec![Cell::Val(Value::Uninit); prog.globals.len()];
        let set = |g: &mut Vec<Cell>, at: usize, v: Value| g[at] = Cell::Val(v);
        set(&mut globals, NR, Value::Num(0.0));
        set(&mut globals, NF, Value::Num(0.0));
        set(&mut globals, FNR, Value::Num(0.0));
        set(&mut globals, FS, Value::str(" "));
        set(&mut globals, OFS, Value::str(" "));
        set(&mut globals, ORS, Value::str("\n"));
        set(&mut globals, RS, Value::str("\n"));
        set(&mut globals, FILENAME, Value::str(""));
        set(&mut globals, SUBSEP, Value::str("\x1c"));
        set(&mut globals, CONVFMT, Value::str("%.6g"));
        set(&mut globals, OFMT, Value::str("%.6g"));
        set(&mut globals, RSTART, Value::Num(0.0));
        set(&mut globals, RLENGTH, Value::Num(-1.0));
        set(&mut globals, IGNORECASE, Value::Num(0.0));
        set(&mut globals, RT, Value::str(""));
        set(&mut globals, FPAT, Value::str("[^[:space:]]+"));
        set(&mut globals, FIELDWIDTHS, Value::str(""));
        set(&mut globals, ERRNO, Value::str(""));
        globals[ENVIRON] = Cell::Arr(Arc::default());
        globals[PROCINFO] = Cell::Arr(Arc::default());
        globals[ARGV] = Cell::Arr(Arc::default());
        let array_params = prog.functions.iter().map(|f| arrays_in(&f.body, f.params)).collect();
        Interp {
            prog,
            globals,
            frames: Vec::new(),
            record: Record { text: String::new(), bounds: Vec::new(), split: true, owned: None },
            regexes: [HashMap::new(), HashMap::new()],
            splitting: FS,
            widths: Arc::from([]),
            bytes: false,
            stdout_file: None,
            stdout_error: None,
            outputs: HashMap::new(),
            readers: HashMap::new(),
            ranges: vec![false; prog.rules.len()],
            array_params,
            seed: 0.0,
            rand_state: 0x2545_F491_4F6C_DD1D,
            out: Vec::with_capacity(64 * 1024),
            err: Vec::new(),
            exit_code: 0,
            cwd,
            main: None,
            depth: 0,
        }
    }

    pub(super) fn cwd(&self) -> &std::path::Path {
        &self.cwd
    }

    pub(super) fn array(&self, slot: usize) -> Arc<Mutex<Array>> {
        match &self.globals[slot] {
            Cell::Arr(a) => a.clone(),
            Cell::Val(_) => Arc::default(),
        }
    }

    /// A global set from outside the program (`-v`, an operand, the
    /// input); `FIELDWIDTHS` checked by `assigned`.
    pub(super) fn set_global(&mut self, slot: usize, value: Value) {
        self.globals[slot] = Cell::Val(value);
        if slot != FIELDWIDTHS {
            let _ = self.assigned(slot);
        }
    }

    /// Notes an assignment to a global that changes how records split;
    /// gawk's message for `FIELDWIDTHS` that are not widths.
    #[inline(never)]
    pub(super) fn assigned(&mut self, slot: usize) -> Flow<()> {
        if matches!(slot, FS | FPAT | FIELDWIDTHS) {
            self.splitting = slot;
        }
        if slot == FIELDWIDTHS {
            self.widths = widths(&self.special(FIELDWIDTHS)).map_err(Stop::Fatal)?.into();
        }
        Ok(())
    }

    /// gawk's `IGNORECASE`: regexps (not single-character separators) and
    /// `index()` ignore case when it is true.
    fn icase(&self) -> bool {
        matches!(&self.globals[IGNORECASE], Cell::Val(v) if v.truthy())
    }

    /// The length of a text in characters (bytes under `-b`).
    fn count(&self, text: &str) -> usize {
        if self.bytes { text.len() } else { text.chars().count() }
    }

    fn special(&self, slot: usize) -> Arc<str> {
        match &self.globals[slot] {
            Cell::Val(v) => v.text(&self.convfmt()),
            Cell::Arr(_) => Arc::from(""),
        }
    }

    fn convfmt(&self) -> Arc<str> {
        match &self.globals[CONVFMT] {
            Cell::Val(Value::Str(s)) => s.clone(),
            Cell::Val(v) => v.text("%.6g"),
            Cell::Arr(_) => Arc::from("%.6g"),
        }
    }

    /// `RS` as records are cut by it.
    pub(super) fn rs(&mut self) -> Result<Rs, String> {
        let rs = self.special(RS);
        Ok(match rs.as_bytes() {
            [] => Rs::Paragraph,
            [c] => Rs::Char(*c),
            _ => Rs::Regex(
                regex::bytes::RegexBuilder::new(&translate(&rs, Syntax::Awk, &mut Vec::new())?)
                    .case_insensitive(self.icase())
                    .dot_matches_new_line(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
        })
    }

    fn fs(&mut self) -> Flow<Fs> {
        match self.splitting {
            FPAT => {
                let fpat = self.special(FPAT);
                return Ok(Fs::Pattern(self.regex(&fpat)?));
            }
            FIELDWIDTHS => return Ok(Fs::Widths(self.widths.clone())),
            _ => {}
        }
        let fs = self.special(FS);
        Ok(match &*fs {
            " " => Fs::Blanks,
            "" => Fs::Chars,
            t if t.chars().count() == 1 && t != "\\" => Fs::Char(t.chars().next().unwrap_or(' ')),
            t => Fs::Regex(self.regex(t)?),
        })
    }

    #[inline(never)]
    pub(super) fn regex(&mut self, pattern: &str) -> Flow<Regex> {
        let icase = self.icase();
        let cache = &mut self.regexes[usize::from(icase)];
        if let Some(re) = cache.get(pattern) {
            return Ok(re.clone());
        }
        let translated = match translate(pattern, Syntax::Awk, &mut Vec::new()) {
            Ok(t) => t,
            Err(e) => return fatal(format!("awk: cmd. line:1: fatal: invalid regexp: {e}: /{pattern}/")),
        };
        // gawk's `.` matches a newline too.
        let built = RegexBuilder::new(&translated)
            .case_insensitive(icase)
            .dot_matches_new_line(true)
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build();
        let re = match built {
            Ok(re) => re,
            Err(e) => return fatal(format!("awk: cmd. line:1: fatal: invalid regexp: {e}: /{pattern}/")),
        };
        if cache.len() > 500 {
            cache.clear();
        }
        cache.insert(pattern.into(), re.clone());
        Ok(re)
    }

    // ----------------------------------------------------------- records ---

    /// A new `$0` (from input, or assigned).
    pub(super) fn set_record(&mut self, text: String) {
        self.record.text = text;
        self.record.split = false;
        self.record.owned = None;
    }

    fn split_record(&mut self) -> Flow<()> {
        if self.record.split {
            return Ok(());
        }
        let fs = self.fs()?;
        let paragraph = matches!(self.special(RS).as_ref(), "");
        split(&self.record.text, &fs, paragraph, &mut self.record.bounds);
        self.record.split = true;
        let nf = self.record.bounds.len();
        self.globals[NF] = Cell::Val(Value::Num(nf as f64));
        Ok(())
    }

    fn nf(&mut self) -> Flow<usize> {
        self.split_record()?;
        Ok(match &self.record.owned {
            Some(fields) => fields.len(),
            None => self.record.bounds.len(),
        })
    }

    fn field(&mut self, i: usize) -> Flow<Value> {
        if i == 0 {
            return Ok(Value::input(self.record.text.as_str()));
        }
        self.split_record()?;
        Ok(match &self.record.owned {
            Some(fields) => fields.get(i - 1).map_or(Value::Uninit, |f| Value::input(f.as_str())),
            None => {
                self.record.bounds.get(i - 1).map_or(Value::Uninit, |&(a, b)| Value::input(&self.record.text[a..b]))
            }
        })
    }

    fn owned_fields(&mut self) -> Flow<&mut Vec<String>> {
        self.split_record()?;
        if self.record.owned.is_none() {
            let text = &self.record.text;
            self.record.owned = Some(self.record.bounds.iter().map(|&(a, b)| text[a..b].to_string()).collect());
        }
        Ok(self.record.owned.as_mut().expect("just made"))
    }

    fn rebuild(&mut self) -> Flow<()> {
        let ofs = self.special(OFS);
        let fields = self.owned_fields()?;
        let text = fields.join(&*ofs);
        let nf = fields.len();
        self.record.text = text;
        self.globals[NF] = Cell::Val(Value::Num(nf as f64));
        Ok(())
    }

    fn set_field(&mut self, i: usize, value: Value) -> Flow<()> {
        if i == 0 {
            let text = value.text(&self.convfmt()).to_string();
            self.set_record(text);
            return Ok(());
        }
        if i > 10_000_000 {
            return fatal(format!("awk: cmd. line:1: fatal: field index {i} is too large"));
        }
        let text = value.text(&self.convfmt()).to_string();
        let fields = self.owned_fields()?;
        if fields.len() < i {
            fields.resize(i, String::new());
        }
        fields[i - 1] = text;
        self.rebuild()
    }

    fn set_nf(&mut self, n: f64) -> Flow<()> {
        if !(0.0..=10_000_000.0).contains(&n) {
            return fatal("awk: cmd. line:1: fatal: NF set to a negative or too large value");
        }
        let fields = self.owned_fields()?;
        fields.resize(n as usize, String::new());
        self.rebuild()
    }

    // -------------------------------------------------------------- rules ---

    pub(super) fn begin(&mut self) -> Flow<()> {
        let prog = self.prog;
        for block in &prog.begin {
            self.block(block)?;
        }
        Ok(())
    }

    pub(super) fn end(&mut self) -> Flow<()> {
        let prog = self.prog;
        for block in &prog.end {
            self.block(block)?;
        }
        Ok(())
    }

    /// gawk's `BEGINFILE` (`first`) or `ENDFILE` rules.
    pub(super) fn file_rules(&mut self, first: bool) -> Flow<()> {
        let prog = self.prog;
        for block in if first { &prog.beginfile } else { &prog.endfile } {
            self.block(block)?;
        }
        Ok(())
    }

    pub(super) fn has_main(&self) -> bool {
        let p = self.prog;
        !p.rules.is_empty() || !p.end.is_empty() || !p.beginfile.is_empty() || !p.endfile.is_empty()
    }

    /// Counts a record read from the input.
    pub(super) fn count_record(&mut self) {
        for slot in [NR, FNR] {
            let n = match &self.globals[slot] {
                Cell::Val(v) => v.num(),
                Cell::Arr(_) => 0.0,
            };
            self.globals[slot] = Cell::Val(Value::Num(n + 1.0));
        }
    }

    /// Runs the rules over the current record.
    pub(super) fn rules(&mut self) -> Flow<()> {
        let prog = self.prog;
        for (i, rule) in prog.rules.iter().enumerate() {
            let selected = match &rule.pattern {
                Pattern::All => true,
                Pattern::Expr(e) => self.condition(e)?,
                Pattern::Range(a, b) => {
                    if self.ranges[i] {
                        if self.condition(b)? {
                            self.ranges[i] = false;
                        }
                        true
                    } else if self.condition(a)? {
                        self.ranges[i] = !self.condition(b)?;
                        true
                    } else {
                        false
                    }
                }
            };
            if !selected {
                continue;
            }
            match &rule.action {
                Some(stmts) => self.block(stmts)?,
                None => {
                    let ors = self.special(ORS);
                    self.out.extend_from_slice(self.record.text.as_bytes());
                    self.out.extend_from_slice(ors.as_bytes());
                }
            }
        }
        Ok(())
    }

    /// A pattern's or condition's truth: a regular expression alone
    /// matches `$0`.
    fn condition(&mut self, e: &Expr) -> Flow<bool> {
        Ok(self.eval(e)?.truthy())
    }

    fn block(&mut self, stmts: &[Stmt]) -> Flow<()> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Flow<()> {
        match s {
            Stmt::Expr(e) => {
                self.eval(e)?;
            }
            Stmt::Print(args, dest) => {
                let mut line = String::new();
                if args.is_empty() {
                    line.push_str(&self.record.text);
                } else {
                    let ofs = self.special(OFS);
                    let ofmt = self.special(OFMT);
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            line.push_str(&ofs);
                        }
                        match self.eval(a)? {
                            Value::Num(n) => line.push_str(&number_text(n, &ofmt)),
                            v => line.push_str(&v.text(&self.convfmt())),
                        }
                    }
                }
                line.push_str(&self.special(ORS));
                self.emit(line.as_bytes(), dest)?;
            }
            Stmt::Printf(args, dest) => {
                let format = self.eval(&args[0])?.text(&self.convfmt());
                let mut values = Vec::with_capacity(args.len() - 1);
                for a in &args[1..] {
                    values.push(self.eval(a)?);
                }
                let text = sprintf(&format, &values, &self.convfmt()).map_err(Stop::Fatal)?;
                self.emit(text.as_bytes(), dest)?;
            }
            Stmt::If(cond, then, otherwise) => {
                if self.condition(cond)? {
                    self.stmt(then)?;
                } else if let Some(o) = otherwise {
                    self.stmt(o)?;
                }
            }
            Stmt::While(cond, body) => {
                while self.condition(cond)? {
                    match self.stmt(body) {
                        Err(Stop::Break) => break,
                        Err(Stop::Continue) => continue,
                        other => other?,
                    }
                }
            }
            Stmt::Do(body, cond) => loop {
                match self.stmt(body) {
                    Err(Stop::Break) => break,
                    Err(Stop::Continue) => {}
                    other => other?,
                }
                if !self.condition(cond)? {
                    break;
                }
            },
            Stmt::For(init, cond, step, body) => {
                if let Some(init) = init {
                    self.stmt(init)?;
                }
                loop {
                    if let Some(cond) = cond
                        && !self.condition(cond)?
                    {
                        break;
                    }
                    match self.stmt(body) {
                        Err(Stop::Break) => break,
                        Err(Stop::Continue) => {}
                        other => other?,
                    }
                    if let Some(step) = step {
                        self.stmt(step)?;
                    }
                }
            }
            Stmt::ForIn(key, array, body) => {
                let array = self.array_of(*array)?;
                let keys = self.keys(&array)?;
                for k in keys {
                    if !array.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(&k) {
                        continue;
                    }
                    self.assign_var(*key, Value::input(k))?;
                    match self.stmt(body) {
                        Err(Stop::Break) => break,
                        Err(Stop::Continue) => {}
                        other => other?,
                    }
                }
            }
            Stmt::Block(stmts) => self.block(stmts)?,
            Stmt::Next => return Err(Stop::Next),
            Stmt::Nextfile => return Err(Stop::NextFile),
            Stmt::Exit(code) => {
                if let Some(code) = code {
                    self.exit_code = self.eval(code)?.num() as i32 & 0xff;
                }
                return Err(Stop::Exit);
            }
            Stmt::Return(value) => {
                let v = match value {
                    Some(e) => self.eval(e)?,
                    None => Value::Uninit,
                };
                return Err(Stop::Return(v));
            }
            Stmt::Break => return Err(Stop::Break),
            Stmt::Continue => return Err(Stop::Continue),
            Stmt::Delete(var, subs) => {
                let array = self.array_of(*var)?;
                match subs {
                    None => array.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear(),
                    Some(subs) => {
                        let key = self.subscript(subs)?;
                        array.lock().unwrap_or_else(std::sync::PoisonError::into_inner).swap_remove(&key);
                    }
                }
            }
        }
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8], dest: &Option<(Redirect, Expr)>) -> Flow<()> {
        let Some((kind, target)) = dest else {
            self.out.extend_from_slice(bytes);
            return Ok(());
        };
        let name = self.eval(target)?.text(&self.convfmt()).to_string();
        match (kind, name.as_str()) {
            (Redirect::Pipe, _) => fatal(format!(
                "awk: cmd. line:1: fatal: cannot run `{name}': runbox's awk runs no commands (print | \"cmd\"); \
                 pipe the step's output instead, or run the step natively (--allow-native)"
            )),
            (_, "/dev/stdout" | "-") => {
                self.out.extend_from_slice(bytes);
                Ok(())
            }
            (_, "/dev/stderr") => {
                self.err.extend_from_slice(bytes);
                Ok(())
            }
            (kind, _) => {
                if !self.outputs.contains_key(&name) {
                    if self.outputs.len() + self.readers.len() >= MAX_OPEN {
                        return fatal(format!(
                            "awk: cmd. line:1: fatal: can't redirect to `{name}': more than {MAX_OPEN} files open (close() some)"
                        ));
                    }
                    let path = self.cwd.join(&name);
                    let opened = if *kind == Redirect::Append {
                        std::fs::OpenOptions::new().append(true).create(true).open(&path)
                    } else {
                        std::fs::File::create(&path)
                    };
                    match opened {
                        Ok(f) => {
                            self.outputs.insert(name.clone(), BufWriter::new(f));
                        }
                        Err(e) => {
                            return fatal(format!(
                                "awk: cmd. line:1: fatal: can't redirect to `{name}' ({})",
                                crate::text::reason(&e)
                            ));
                        }
                    }
                }
                if let Some(w) = self.outputs.get_mut(&name) {
                    let _ = w.write_all(bytes);
                }
                Ok(())
            }
        }
    }

    /// Flushes the files `print >` wrote.
    pub(super) fn finish(&mut self) {
        for w in self.outputs.values_mut() {
            let _ = w.flush();
        }
    }

    // -------------------------------------------------------- expressions ---

    fn cell(&mut self, var: Var) -> &mut Cell {
        match var {
            Var::Global(i) => &mut self.globals[i],
            Var::Local(i) => {
                let frame = self.frames.last_mut().expect("locals only inside a call");
                &mut frame[i]
            }
        }
    }

    fn array_of(&mut self, var: Var) -> Flow<Arc<Mutex<Array>>> {
        let cell = self.cell(var);
        match cell {
            Cell::Arr(a) => Ok(a.clone()),
            Cell::Val(Value::Uninit) => {
                let a: Arc<Mutex<Array>> = Arc::default();
                *cell = Cell::Arr(a.clone());
                Ok(a)
            }
            Cell::Val(_) => fatal("awk: cmd. line:1: fatal: attempt to use scalar as array"),
        }
    }

    fn var_value(&mut self, var: Var) -> Flow<Value> {
        if var == Var::Global(NF) {
            return Ok(Value::Num(self.nf()? as f64));
        }
        match self.cell(var) {
            Cell::Val(v) => Ok(v.clone()),
            Cell::Arr(_) => fatal("awk: cmd. line:1: fatal: attempt to use array in a scalar context"),
        }
    }

    fn assign_var(&mut self, var: Var, value: Value) -> Flow<()> {
        if var == Var::Global(NF) {
            return self.set_nf(value.num());
        }
        let slot = match var {
            Var::Global(slot) => Some(slot),
            Var::Local(_) => None,
        };
        match self.cell(var) {
            cell @ Cell::Val(_) => *cell = Cell::Val(value),
            Cell::Arr(_) => return fatal("awk: cmd. line:1: fatal: attempt to use array in a scalar context"),
        }
        match slot {
            Some(slot) => self.assigned(slot),
            None => Ok(()),
        }
    }

    fn subscript(&mut self, subs: &[Expr]) -> Flow<Arc<str>> {
        if let [one] = subs {
            let v = self.eval(one)?;
            return Ok(v.text(&self.convfmt()));
        }
        let sep = self.special(SUBSEP);
        let mut key = String::new();
        for (i, s) in subs.iter().enumerate() {
            if i > 0 {
                key.push_str(&sep);
            }
            let v = self.eval(s)?;
            key.push_str(&v.text(&self.convfmt()));
        }
        Ok(key.into())
    }

    fn field_index(&mut self, e: &Expr) -> Flow<usize> {
        let n = self.eval(e)?.num();
        if n < 0.0 {
            let fnr = self.special(FNR);
            let file = self.special(FILENAME);
            return fatal(format!(
                "awk: cmd. line:1: (FILENAME={file} FNR={fnr}) fatal: attempt to access field {}",
                n as i64
            ));
        }
        Ok(n as usize)
    }

    fn get(&mut self, target: &Expr) -> Flow<Value> {
        match target {
            Expr::Var(v) => self.var_value(*v),
            Expr::Field(i) => {
                let i = self.field_index(i)?;
                self.field(i)
            }
            Expr::Index(var, subs) => {
                let key = self.subscript(subs)?;
                let array = self.array_of(*var)?;
                let mut array = array.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                Ok(array.entry(key).or_insert(Value::Uninit).clone())
            }
            _ => fatal("awk: cmd. line:1: fatal: assignment to a value that is not a variable"),
        }
    }

    fn set(&mut self, target: &Expr, value: Value) -> Flow<()> {
        match target {
            Expr::Var(v) => self.assign_var(*v, value),
            Expr::Field(i) => {
                let i = self.field_index(i)?;
                self.set_field(i, value)
            }
            Expr::Index(var, subs) => {
                let key = self.subscript(subs)?;
                let array = self.array_of(*var)?;
                array.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, value);
                Ok(())
            }
            _ => fatal("awk: cmd. line:1: fatal: assignment to a value that is not a variable"),
        }
    }

    /// A regular expression operand: `/re/` itself, or a value's text.
    fn pattern_of(&mut self, e: &Expr) -> Flow<Regex> {
        match e {
            Expr::Regex(r) => self.regex(r),
            other => {
                let text = self.eval(other)?.text(&self.convfmt());
                self.regex(&text)
            }
        }
    }

    fn arith(op: Op, a: f64, b: f64) -> Flow<f64> {
        Ok(match op {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => {
                if b == 0.0 {
                    return fatal("awk: cmd. line:1: fatal: division by zero attempted");
                }
                a / b
            }
            Op::Mod => {
                if b == 0.0 {
                    return fatal("awk: cmd. line:1: fatal: division by zero attempted in `%'");
                }
                a % b
            }
            Op::Pow => a.powf(b),
        })
    }

    pub(super) fn eval(&mut self, e: &Expr) -> Flow<Value> {
        Ok(match e {
            Expr::Num(n) => Value::Num(*n),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Regex(r) => {
                let re = self.regex(r)?;
                Value::Num(f64::from(u8::from(re.is_match(&self.record.text))))
            }
            Expr::Var(_) | Expr::Field(_) | Expr::Index(..) => self.get(e)?,
            Expr::Assign(target, op, value) => {
                let v = self.eval(value)?;
                let v = match op {
                    None => v,
                    Some(op) => {
                        let old = self.get(target)?.num();
                        Value::Num(Self::arith(*op, old, v.num())?)
                    }
                };
                self.set(target, v.clone())?;
                v
            }
            Expr::Cond(c, a, b) => {
                if self.condition(c)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::And(a, b) => Value::Num(f64::from(u8::from(self.condition(a)? && self.condition(b)?))),
            Expr::Or(a, b) => Value::Num(f64::from(u8::from(self.condition(a)? || self.condition(b)?))),
            Expr::Not(a) => Value::Num(f64::from(u8::from(!self.condition(a)?))),
            Expr::Binary(op, a, b) => {
                let a = self.eval(a)?.num();
                let b = self.eval(b)?.num();
                Value::Num(Self::arith(*op, a, b)?)
            }
            Expr::Compare(cmp, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                let order = a.compare(&b, &self.convfmt());
                use std::cmp::Ordering::*;
                let yes = match cmp {
                    Cmp::Lt => order == Less,
                    Cmp::Le => order != Greater,
                    Cmp::Gt => order == Greater,
                    Cmp::Ge => order != Less,
                    Cmp::Eq => order == Equal,
                    Cmp::Ne => order != Equal,
                };
                Value::Num(f64::from(u8::from(yes)))
            }
            Expr::Match(negate, s, re) => {
                let text = self.eval(s)?.text(&self.convfmt());
                let re = self.pattern_of(re)?;
                Value::Num(f64::from(u8::from(re.is_match(&text) != *negate)))
            }
            Expr::Concat(a, b) => {
                let a = self.eval(a)?.text(&self.convfmt());
                let b = self.eval(b)?.text(&self.convfmt());
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(&a);
                s.push_str(&b);
                Value::str(s)
            }
            Expr::Neg(a) => Value::Num(-self.eval(a)?.num()),
            Expr::Plus(a) => Value::Num(self.eval(a)?.num()),
            Expr::Incr(pre, delta, target) => {
                let old = self.get(target)?.num();
                let new = old + delta;
                self.set(target, Value::Num(new))?;
                Value::Num(if *pre { new } else { old })
            }
            Expr::In(subs, var) => {
                let key = self.subscript(subs)?;
                let array = self.array_of(*var)?;
                let present = array.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(&key);
                Value::Num(f64::from(u8::from(present)))
            }
            Expr::Grouping(list) => {
                // `(a, b)` outside `in` and `print`: gawk reads it as a
                // concatenation with SUBSEP.
                let key = self.subscript(list)?;
                Value::str(key)
            }
            Expr::Call(slot, args) => self.call(*slot, args)?,
            Expr::Builtin(name, args) => self.builtin(name, args)?,
            Expr::Getline(kind, target) => self.getline(kind, target.as_deref())?,
        })
    }

    fn call(&mut self, slot: usize, args: &[Expr]) -> Flow<Value> {
        let prog = self.prog;
        let f = &prog.functions[slot];
        if args.len() > f.params {
            return fatal(format!(
                "awk: cmd. line:1: fatal: function `{}' called with more arguments than declared",
                f.name
            ));
        }
        if self.depth >= MAX_DEPTH {
            return fatal(format!(
                "awk: cmd. line:1: fatal: function `{}' nested deeper than {MAX_DEPTH} calls",
                f.name
            ));
        }
        let mut frame = Vec::with_capacity(f.params);
        for (i, a) in args.iter().enumerate() {
            let by_reference = match a {
                Expr::Var(v) => {
                    let wants_array = self.array_params[slot][i];
                    match self.cell(*v) {
                        Cell::Arr(arr) => Some(Cell::Arr(arr.clone())),
                        cell @ Cell::Val(Value::Uninit) if wants_array => {
                            let arr: Arc<Mutex<Array>> = Arc::default();
                            *cell = Cell::Arr(arr.clone());
                            Some(Cell::Arr(arr))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            frame.push(match by_reference {
                Some(cell) => cell,
                None => Cell::Val(self.eval(a)?),
            });
        }
        frame.resize(f.params, Cell::Val(Value::Uninit));
        self.frames.push(frame);
        self.depth += 1;
        let result = self.block(&f.body);
        self.depth -= 1;
        self.frames.pop();
        match result {
            Ok(()) => Ok(Value::Uninit),
            Err(Stop::Return(v)) => Ok(v),
            Err(other) => Err(other),
        }
    }

    #[inline(never)]
    fn getline(&mut self, kind: &Getline, target: Option<&Expr>) -> Flow<Value> {
        let record = match kind {
            Getline::Command(cmd) => {
                let cmd = self.eval(cmd)?.text(&self.convfmt());
                return fatal(format!(
                    "awk: cmd. line:1: fatal: cannot run `{cmd}': runbox's awk runs no commands (\"cmd\" | getline); \
                     run the command in the step's script and pass its output in"
                ));
            }
            Getline::File(name) => {
                let name = self.eval(name)?.text(&self.convfmt()).to_string();
                let rs = self.rs().map_err(Stop::Fatal)?;
                if !self.readers.contains_key(&name) {
                    if self.outputs.len() + self.readers.len() >= MAX_OPEN {
                        return Ok(Value::Num(-1.0));
                    }
                    match std::fs::File::open(self.cwd.join(&name)) {
                        Ok(file) => {
                            self.readers.insert(name.clone(), Reader { file, records: Records::new() });
                        }
                        Err(e) => {
                            self.set_global(ERRNO, Value::str(crate::text::reason(&e)));
                            return Ok(Value::Num(-1.0));
                        }
                    }
                }
                let reader = self.readers.get_mut(&name).expect("just opened");
                let record = next_sync(&mut reader.records, Some(&mut reader.file), &rs);
                let rt = reader.records.rt_changed.then(|| String::from_utf8_lossy(&reader.records.rt).into_owned());
                if let Some(rt) = rt {
                    self.set_global(RT, Value::str(rt));
                }
                record
            }
            Getline::Main => {
                let rs = self.rs().map_err(Stop::Fatal)?;
                let Some((records, file)) = &mut self.main else {
                    return Ok(Value::Num(0.0));
                };
                let record = next_sync(records, file.as_mut(), &rs);
                let rt = records.rt_changed.then(|| String::from_utf8_lossy(&records.rt).into_owned());
                if let Some(rt) = rt {
                    self.set_global(RT, Value::str(rt));
                }
                if record.is_some() {
                    self.count_record();
                }
                record
            }
        };
        let Some(record) = record else { return Ok(Value::Num(0.0)) };
        // `getline < file` sets $0 and NF, not NR; the main input's counts.
        match target {
            Some(t) => self.set(t, Value::input(record))?,
            None => self.set_record(record),
        }
        Ok(Value::Num(1.0))
    }

    /// An array's indices in the order `for (k in a)` walks them. Apart
    /// from `stmt`, which recursion goes through: its frame stays small.
    #[inline(never)]
    fn keys(&mut self, array: &Arc<Mutex<Array>>) -> Flow<Vec<Arc<str>>> {
        let order = self.sorted_in()?;
        let entries = array.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(match order {
            None => entries.keys().cloned().collect(),
            Some(order) => {
                let convfmt = self.convfmt();
                let mut pairs: Vec<(&Arc<str>, &Value)> = entries.iter().collect();
                pairs.sort_by(|a, b| order.compare((a.0, a.1), (b.0, b.1), &convfmt));
                pairs.into_iter().map(|(k, _)| k.clone()).collect()
            }
        })
    }

    /// The order `for (k in a)` walks in: gawk's `PROCINFO["sorted_in"]`.
    fn sorted_in(&mut self) -> Flow<Option<Order>> {
        let procinfo = self.array(PROCINFO);
        let name = match procinfo.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get("sorted_in") {
            Some(v) => v.text(&self.convfmt()),
            None => return Ok(None),
        };
        if name.is_empty() || &*name == "@unsorted" {
            return Ok(None);
        }
        match Order::named(&name) {
            Some(order) => Ok(Some(order)),
            None if self.prog.functions.iter().any(|f| *f.name == *name) => fatal(format!(
                "awk: cmd. line:1: fatal: PROCINFO[\"sorted_in\"] = \"{name}\": runbox's awk sorts by gawk's \
                 @ind_… and @val_… orders only, not by a function of the program; run the step natively \
                 (--allow-native) for it"
            )),
            None => fatal(format!("awk: cmd. line:1: fatal: sort comparison function `{name}' is not defined")),
        }
    }

    /// A separator's text as `split()` reads it (as `FS` is read).
    fn separator(&mut self, text: &str) -> Flow<Fs> {
        Ok(match text {
            " " => Fs::Blanks,
            "" => Fs::Chars,
            t if t.chars().count() == 1 && t != "\\" => Fs::Char(t.chars().next().unwrap_or(' ')),
            t => Fs::Regex(self.regex(t)?),
        })
    }

    /// An array made `1..=n` of the pieces of `s`.
    fn fill(&mut self, var: Var, s: &str, bounds: &[(usize, usize)]) -> Flow<()> {
        let pieces: Vec<(usize, (usize, usize))> = bounds.iter().enumerate().map(|(i, &b)| (i + 1, b)).collect();
        self.fill_at(var, s, &pieces)
    }

    /// An array made of pieces of `s` at the given indices.
    fn fill_at(&mut self, var: Var, s: &str, pieces: &[(usize, (usize, usize))]) -> Flow<()> {
        let array = self.array_of(var)?;
        let mut array = array.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        array.clear();
        for &(i, (a, b)) in pieces {
            array.insert(i.to_string().into(), Value::input(&s[a..b]));
        }
        Ok(())
    }

    /// A builtin function's value. Not inlined into `eval`, which
    /// recursion goes through: its frame stays small.
    #[inline(never)]
    fn builtin(&mut self, name: &str, args: &[Expr]) -> Flow<Value> {
        let arg = |i: usize| args.get(i);
        let convfmt = self.convfmt();
        Ok(match name {
            "length" => match arg(0) {
                None => Value::Num(self.count(&self.record.text) as f64),
                Some(Expr::Var(v)) if matches!(self.cell(*v), Cell::Arr(_)) => {
                    let a = self.array_of(*v)?;
                    Value::Num(a.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len() as f64)
                }
                Some(e) => {
                    let text = self.eval(e)?.text(&convfmt);
                    Value::Num(self.count(&text) as f64)
                }
            },
            "substr" => {
                // gawk's rules: positions truncated, a start before 1 is 1
                // (the length kept), a length past the end stops there.
                let s = self.eval(&args[0])?.text(&convfmt);
                let start = arg(1).map_or(Ok(Value::Num(1.0)), |e| self.eval(e))?.num();
                let count = match arg(2) {
                    Some(e) => self.eval(e)?.num(),
                    None => f64::INFINITY,
                };
                if start.is_nan() || count.is_nan() || count < 1.0 {
                    Value::str("")
                } else {
                    let from = start.trunc().max(1.0);
                    let count = count.trunc();
                    let skip = if from > 1e15 { usize::MAX } else { from as usize - 1 };
                    let take = if count > 1e15 { usize::MAX } else { count as usize };
                    if self.bytes {
                        let b = s.as_bytes();
                        let from = skip.min(b.len());
                        let to = from.saturating_add(take).min(b.len());
                        Value::str(String::from_utf8_lossy(&b[from..to]).into_owned())
                    } else {
                        Value::str(s.chars().skip(skip).take(take).collect::<String>())
                    }
                }
            }
            "index" => {
                let s = self.eval(&args[0])?.text(&convfmt);
                let t = self.eval(&args[1])?.text(&convfmt);
                let found = if self.icase() { s.to_lowercase().find(&t.to_lowercase()) } else { s.find(&*t) };
                Value::Num(found.map_or(0.0, |at| self.count(&s[..at.min(s.len())]) as f64 + 1.0))
            }
            "split" => {
                let s = self.eval(&args[0])?.text(&convfmt);
                let Some(Expr::Var(var)) = arg(1) else {
                    return fatal("awk: cmd. line:1: fatal: split: second argument is not an array");
                };
                let fs = match arg(2) {
                    None => {
                        let fs = self.special(FS);
                        self.separator(&fs)?
                    }
                    Some(Expr::Regex(r)) if r.is_empty() => Fs::Chars,
                    Some(Expr::Regex(r)) => Fs::Regex(self.regex(r)?),
                    Some(e) => {
                        let t = self.eval(e)?.text(&convfmt);
                        self.separator(&t)?
                    }
                };
                let mut bounds = Vec::new();
                split(&s, &fs, false, &mut bounds);
                self.fill(*var, &s, &bounds)?;
                if let Some(seps) = arg(3) {
                    let Expr::Var(seps) = seps else {
                        return fatal("awk: cmd. line:1: fatal: split: fourth argument is not an array");
                    };
                    // What lay between the fields; blanks' leading and
                    // trailing ones at 0 and n.
                    let mut between = Vec::new();
                    let blanks = matches!(fs, Fs::Blanks);
                    if blanks && bounds.first().is_some_and(|b| b.0 > 0) {
                        between.push((0, (0, bounds[0].0)));
                    }
                    for (i, w) in bounds.windows(2).enumerate() {
                        between.push((i + 1, (w[0].1, w[1].0)));
                    }
                    if blanks && let Some(last) = bounds.last().filter(|b| b.1 < s.len()) {
                        between.push((bounds.len(), (last.1, s.len())));
                    }
                    self.fill_at(*seps, &s, &between)?;
                }
                Value::Num(bounds.len() as f64)
            }
            "patsplit" => {
                let s = self.eval(&args[0])?.text(&convfmt);
                let Some(Expr::Var(var)) = arg(1) else {
                    return fatal("awk: cmd. line:1: fatal: patsplit: second argument is not an array");
                };
                let re = match arg(2) {
                    None => {
                        let fpat = self.special(FPAT);
                        self.regex(&fpat)?
                    }
                    Some(e) => self.pattern_of(e)?,
                };
                let mut bounds = Vec::new();
                split(&s, &Fs::Pattern(re), false, &mut bounds);
                self.fill(*var, &s, &bounds)?;
                if let Some(seps) = arg(3) {
                    let Expr::Var(seps) = seps else {
                        return fatal("awk: cmd. line:1: fatal: patsplit: fourth argument is not an array");
                    };
                    // seps[0] before the first field, seps[i] after field i.
                    let mut between = Vec::new();
                    let mut at = 0;
                    for (i, &(a, b)) in bounds.iter().enumerate() {
                        between.push((i, (at, a)));
                        at = b;
                    }
                    between.push((bounds.len(), (at, s.len())));
                    self.fill_at(*seps, &s, &between)?;
                }
                Value::Num(bounds.len() as f64)
            }
            "gensub" => {
                let re = self.pattern_of(&args[0])?;
                let repl = self.eval(&args[1])?.text(&convfmt);
                let how = arg(2).map_or(Ok(Value::Num(1.0)), |e| self.eval(e))?;
                let text = match arg(3) {
                    Some(e) => self.eval(e)?.text(&convfmt),
                    None => Arc::from(self.record.text.as_str()),
                };
                let which = match &how {
                    Value::Str(h) | Value::StrNum(h) if h.starts_with(['g', 'G']) => None,
                    v => {
                        let n = v.num();
                        if n < 1.0 {
                            let message = "awk: cmd. line:1: warning: gensub: third argument 0 treated as 1\n";
                            self.err.extend_from_slice(message.as_bytes());
                        }
                        Some(n.max(1.0) as usize)
                    }
                };
                Value::str(gensub(&re, &text, &repl, which))
            }
            "asort" | "asorti" => {
                let Some(Expr::Var(src)) = arg(0) else {
                    return fatal(format!("awk: cmd. line:1: fatal: {name}: first argument not an array"));
                };
                let source = self.array_of(*src)?;
                let mut items: Vec<Value> = {
                    let source = source.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if name == "asort" {
                        source.values().cloned().collect()
                    } else {
                        source.keys().map(|k| Value::str(k.clone())).collect()
                    }
                };
                let how = match arg(2) {
                    Some(e) => self.eval(e)?.text(&convfmt).to_string(),
                    None if name == "asort" => "@val_type_asc".to_string(),
                    None => "@ind_str_asc".to_string(),
                };
                let order = match Order::named(&how) {
                    Some(order) => order,
                    None => {
                        return fatal(format!("awk: cmd. line:1: fatal: {name}: `{how}' is not a valid sort order"));
                    }
                };
                items.sort_by(|a, b| order.compare_values(a, b, &convfmt));
                let dest = match arg(1) {
                    Some(Expr::Var(d)) => *d,
                    Some(_) => return fatal(format!("awk: cmd. line:1: fatal: {name}: second argument not an array")),
                    None => *src,
                };
                let dest = self.array_of(dest)?;
                let mut dest = dest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                dest.clear();
                let n = items.len();
                for (i, v) in items.into_iter().enumerate() {
                    dest.insert((i + 1).to_string().into(), v);
                }
                Value::Num(n as f64)
            }
            "sub" | "gsub" => {
                let re = self.pattern_of(&args[0])?;
                let repl = self.eval(&args[1])?.text(&convfmt);
                let record = Expr::Field(Box::new(Expr::Num(0.0)));
                let target = arg(2).unwrap_or(&record);
                let text = self.get(target)?.text(&convfmt);
                let (result, count) = substitute(&re, &text, &repl, name == "gsub");
                if count > 0 {
                    self.set(target, Value::str(result))?;
                }
                Value::Num(count as f64)
            }
            "match" => {
                let s = self.eval(&args[0])?.text(&convfmt);
                let re = self.pattern_of(&args[1])?;
                let found = re.captures(&s);
                let (start, length) = match found.as_ref().and_then(|c| c.get(0)) {
                    Some(m) => (self.count(&s[..m.start()]) as f64 + 1.0, self.count(m.as_str()) as f64),
                    None => (0.0, -1.0),
                };
                // gawk's third argument: the match and each group, with
                // their starts and lengths under (n, "start"), (n, "length").
                if let Some(target) = arg(2) {
                    let Expr::Var(var) = target else {
                        return fatal("awk: cmd. line:1: fatal: match: third argument is not an array");
                    };
                    let sep = self.special(SUBSEP);
                    let mut entries = Vec::new();
                    if let Some(caps) = &found {
                        for (i, group) in caps.iter().enumerate() {
                            let Some(g) = group else { continue };
                            entries.push((i.to_string(), Value::input(g.as_str())));
                            let at = self.count(&s[..g.start()]) as f64 + 1.0;
                            entries.push((format!("{i}{sep}start"), Value::Num(at)));
                            entries.push((format!("{i}{sep}length"), Value::Num(self.count(g.as_str()) as f64)));
                        }
                    }
                    let array = self.array_of(*var)?;
                    let mut array = array.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    array.clear();
                    for (k, v) in entries {
                        array.insert(k.into(), v);
                    }
                }
                self.globals[RSTART] = Cell::Val(Value::Num(start));
                self.globals[RLENGTH] = Cell::Val(Value::Num(length));
                Value::Num(start)
            }
            "sprintf" => {
                if args.is_empty() {
                    return fatal("awk: cmd. line:1: fatal: sprintf: no arguments");
                }
                let format = self.eval(&args[0])?.text(&convfmt);
                let mut values = Vec::with_capacity(args.len());
                for a in &args[1..] {
                    values.push(self.eval(a)?);
                }
                Value::str(sprintf(&format, &values, &convfmt).map_err(Stop::Fatal)?)
            }
            "sin" | "cos" | "exp" | "log" | "sqrt" | "int" => {
                let x = arg(0).map_or(Ok(Value::Num(0.0)), |e| self.eval(e))?.num();
                Value::Num(match name {
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "exp" => x.exp(),
                    "log" => x.ln(),
                    "sqrt" => x.sqrt(),
                    _ => x.trunc(),
                })
            }
            "atan2" => {
                let y = self.eval(&args[0])?.num();
                let x = self.eval(&args[1])?.num();
                Value::Num(y.atan2(x))
            }
            "rand" => {
                // xorshift64*, seeded by srand: the same numbers each run.
                self.rand_state ^= self.rand_state >> 12;
                self.rand_state ^= self.rand_state << 25;
                self.rand_state ^= self.rand_state >> 27;
                let r = self.rand_state.wrapping_mul(0x2545_F491_4F6C_DD1D);
                Value::Num((r >> 11) as f64 / (1u64 << 53) as f64)
            }
            "srand" => {
                let previous = self.seed;
                let seed = match arg(0) {
                    Some(e) => self.eval(e)?.num(),
                    None => std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs() as f64),
                };
                self.seed = seed;
                self.rand_state = (seed as i64 as u64) ^ 0x2545_F491_4F6C_DD1D;
                if self.rand_state == 0 {
                    self.rand_state = 1;
                }
                Value::Num(previous)
            }
            "tolower" => Value::str(self.eval(&args[0])?.text(&convfmt).to_lowercase()),
            "toupper" => Value::str(self.eval(&args[0])?.text(&convfmt).to_uppercase()),
            "system" => {
                let cmd = arg(0).map_or(Ok(Value::Uninit), |e| self.eval(e))?.text(&convfmt);
                return fatal(format!(
                    "awk: cmd. line:1: fatal: cannot run `{cmd}': runbox's awk runs no commands (system()); \
                     run the command in the step's script instead"
                ));
            }
            "close" => {
                let name = self.eval(&args[0])?.text(&convfmt).to_string();
                let closed_out = self.outputs.remove(&name).map(|mut w| w.flush().is_ok());
                let closed_in = self.readers.remove(&name).is_some();
                Value::Num(if closed_out.is_some() || closed_in { 0.0 } else { -1.0 })
            }
            other => return fatal(format!("awk: cmd. line:1: fatal: function `{other}' not defined")),
        })
    }
}

/// The next record of a source read synchronously (a file; or memory,
/// with no file).
fn next_sync(records: &mut Records, mut file: Option<&mut std::fs::File>, rs: &Rs) -> Option<String> {
    use std::io::Read;
    loop {
        match records.next(rs) {
            Next::Record(r) => return Some(r),
            Next::End => return None,
            Next::More => {
                let Some(f) = file.as_deref_mut() else {
                    records.eof = true;
                    continue;
                };
                let buf = records.space();
                let start = buf.len();
                buf.resize(start + 64 * 1024, 0);
                let n = f.read(&mut buf[start..]).unwrap_or(0);
                buf.truncate(start + n);
                if n == 0 {
                    records.eof = true;
                }
            }
        }
    }
}

/// `sub`/`gsub`: `&` is the match, `\&` a literal `&`, `\\` a backslash.
fn substitute(re: &Regex, text: &str, repl: &str, global: bool) -> (String, usize) {
    let mut out = String::new();
    let mut copied = 0;
    let mut count = 0;
    let mut previous_end = None;
    let mut from = 0;
    while from <= text.len() {
        let Some(m) = re.find_at(text, from) else { break };
        if m.is_empty() && previous_end == Some(m.start()) {
            from = next_boundary(text, m.start());
            continue;
        }
        out.push_str(&text[copied..m.start()]);
        let mut chars = repl.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some('&')) => {
                    chars.next();
                    out.push('&');
                }
                '\\' if matches!(chars.peek(), Some('\\')) => {
                    chars.next();
                    out.push('\\');
                }
                '&' => out.push_str(m.as_str()),
                c => out.push(c),
            }
        }
        copied = m.end();
        previous_end = Some(m.end());
        count += 1;
        if !global {
            break;
        }
        from = if m.is_empty() {
            let next = next_boundary(text, m.end());
            out.push_str(&text[copied..next.min(text.len())]);
            copied = next.min(text.len());
            next
        } else {
            m.end()
        };
    }
    out.push_str(&text[copied.min(text.len())..]);
    (out, count)
}

/// gawk's `gensub`: every match (`which` None) or the Nth; in the
/// replacement `\\0` and `&` are the match, `\\N` its Nth group, `\\&` a
/// literal `&`, `\\\\` a backslash.
fn gensub(re: &Regex, text: &str, repl: &str, which: Option<usize>) -> String {
    let mut out = String::new();
    let mut copied = 0;
    let mut seen = 0;
    let mut previous_end = None;
    let mut from = 0;
    while from <= text.len() {
        let Some(caps) = re.captures_at(text, from) else { break };
        let m = caps.get(0).expect("group 0 is the match");
        if m.is_empty() && previous_end == Some(m.start()) {
            from = next_boundary(text, m.start());
            continue;
        }
        seen += 1;
        previous_end = Some(m.end());
        if which.is_none_or(|n| n == seen) {
            out.push_str(&text[copied..m.start()]);
            let mut chars = repl.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.peek().copied() {
                        Some('&') => {
                            chars.next();
                            out.push('&');
                        }
                        Some(d @ '0'..='9') => {
                            chars.next();
                            let group = d.to_digit(10).unwrap_or(0) as usize;
                            out.push_str(caps.get(group).map_or("", |g| g.as_str()));
                        }
                        Some('\\') => {
                            chars.next();
                            out.push('\\');
                        }
                        _ => out.push('\\'),
                    },
                    '&' => out.push_str(m.as_str()),
                    c => out.push(c),
                }
            }
            copied = m.end();
            if which.is_some() {
                break;
            }
        }
        from = if m.is_empty() { next_boundary(text, m.end()) } else { m.end() };
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

fn next_boundary(text: &str, at: usize) -> usize {
    let mut next = at + 1;
    while next < text.len() && !text.is_char_boundary(next) {
        next += 1;
    }
    next
}

/// Which of a function's parameters its body uses as arrays.
fn arrays_in(body: &[Stmt], params: usize) -> Vec<bool> {
    let mut found = vec![false; params];
    fn mark(found: &mut [bool], var: &Var) {
        if let Var::Local(i) = var
            && let Some(f) = found.get_mut(*i)
        {
            *f = true;
        }
    }
    fn expr(found: &mut [bool], e: &Expr) {
        match e {
            Expr::Index(v, subs) => {
                mark(found, v);
                subs.iter().for_each(|s| expr(found, s));
            }
            Expr::In(subs, v) => {
                mark(found, v);
                subs.iter().for_each(|s| expr(found, s));
            }
            Expr::Builtin(name @ ("split" | "patsplit" | "match" | "asort" | "asorti"), args) => {
                let arrays: &[usize] = match *name {
                    "split" | "patsplit" => &[1, 3],
                    "match" => &[2],
                    _ => &[0, 1],
                };
                for &i in arrays {
                    if let Some(Expr::Var(v)) = args.get(i) {
                        mark(found, v);
                    }
                }
                args.iter().for_each(|a| expr(found, a));
            }
            Expr::Field(a) | Expr::Not(a) | Expr::Neg(a) | Expr::Plus(a) | Expr::Incr(_, _, a) => expr(found, a),
            Expr::Assign(a, _, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Binary(_, a, b)
            | Expr::Compare(_, a, b)
            | Expr::Match(_, a, b)
            | Expr::Concat(a, b) => {
                expr(found, a);
                expr(found, b);
            }
            Expr::Cond(a, b, c) => {
                expr(found, a);
                expr(found, b);
                expr(found, c);
            }
            Expr::Call(_, args) | Expr::Builtin(_, args) | Expr::Grouping(args) => {
                args.iter().for_each(|a| expr(found, a))
            }
            Expr::Getline(_, Some(t)) => expr(found, t),
            _ => {}
        }
    }
    fn stmt(found: &mut [bool], s: &Stmt) {
        match s {
            Stmt::Expr(e) => expr(found, e),
            Stmt::Print(args, dest) | Stmt::Printf(args, dest) => {
                args.iter().for_each(|a| expr(found, a));
                if let Some((_, d)) = dest {
                    expr(found, d);
                }
            }
            Stmt::If(c, a, b) => {
                expr(found, c);
                stmt(found, a);
                if let Some(b) = b {
                    stmt(found, b);
                }
            }
            Stmt::While(c, b) | Stmt::Do(b, c) => {
                expr(found, c);
                stmt(found, b);
            }
            Stmt::For(i, c, st, b) => {
                if let Some(i) = i {
                    stmt(found, i);
                }
                if let Some(c) = c {
                    expr(found, c);
                }
                if let Some(st) = st {
                    stmt(found, st);
                }
                stmt(found, b);
            }
            Stmt::ForIn(_, a, b) => {
                mark(found, a);
                stmt(found, b);
            }
            Stmt::Block(b) => b.iter().for_each(|s| stmt(found, s)),
            Stmt::Delete(v, _) => mark(found, v),
            Stmt::Exit(Some(e)) | Stmt::Return(Some(e)) => expr(found, e),
            _ => {}
        }
    }
    body.iter().for_each(|s| stmt(&mut found, s));
    found
}
