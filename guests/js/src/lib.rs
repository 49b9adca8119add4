//! runbox's JavaScript step: QuickJS (rquickjs) as a WASI Preview 2 component.
//!
//! The component exports `run` (see `wit/runbox.wit`, world `js`). The engine
//! and its globals are built once per instance: by `wizer-initialize` when the
//! host pre-initialises a snapshot, or lazily by the first `run` otherwise.
//! Everything a step can touch goes through WASI (files in the preopened
//! mounts, stdout, stderr, clocks, randomness) or the `context` import.

mod bytes;
mod dates;
mod digest;
mod fs;
mod handles;
mod intl;
mod net;
mod urls;

use std::cell::RefCell;
use std::ffi::CString;
use std::io::Write;

use rquickjs::{Context, Ctx, Function, Object, Persistent, Promise, Runtime, Value, promise::PromiseState, qjs};

wit_bindgen::generate!({ path: "../../wit", world: "js-snapshot" });

use runbox::sandbox::script::ErrorKind;
use runbox::sandbox::{context, runbooks};

/// Makes the step's source the body of an async function, so top-level
/// `await` and `return` work.
const WRAPPER: &str = "(async () => {";

/// The stack JavaScript frames may take (of the component's 1 MiB).
const JS_STACK: usize = 768 * 1024;

/// What the prelude's timers did when asked for the next.
enum Timer {
    /// None keeps the step alive.
    None,
    /// One was due and ran.
    Ran,
    /// The next is due in this long.
    Due(std::time::Duration),
}

struct Engine {
    runtime: Runtime,
    context: Context,
    hooks: Persistent<Object<'static>>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    /// Promises rejected with no handler (and no handler added since), with
    /// their reasons: a step whose own promise resolves still fails on the
    /// first of them, as Node ends on an unhandled rejection.
    static UNHANDLED: RefCell<Vec<(Persistent<Value<'static>>, Persistent<Value<'static>>)>> =
        const { RefCell::new(Vec::new()) };
}

/// QuickJS calls this when a promise is rejected with no handler
/// (`handled` false) and when one is added later (`handled` true).
fn track_rejection<'js>(ctx: Ctx<'js>, promise: Value<'js>, reason: Value<'js>, handled: bool) {
    UNHANDLED.with(|list| {
        let mut list = list.borrow_mut();
        if handled {
            list.retain(|(p, _)| p.clone().restore(&ctx).map_or(true, |p| p != promise));
        } else {
            list.push((Persistent::save(&ctx, promise), Persistent::save(&ctx, reason)));
        }
    });
}

fn with_engine<R>(f: impl FnOnce(&Engine) -> R) -> R {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let engine = slot.get_or_insert_with(|| Engine::new().expect("the JavaScript engine starts"));
        f(engine)
    })
}

impl Engine {
    fn new() -> rquickjs::Result<Engine> {
        let runtime = Runtime::new()?;
        // Past this much stack below the step's entry, QuickJS throws a
        // RangeError the script can catch; the rest of the 1 MiB stack is
        // room for the native code (regular expressions, JSON, runbox's own
        // functions) that runs below the deepest JavaScript frame.
        runtime.set_max_stack_size(JS_STACK);
        runtime.set_host_promise_rejection_tracker(Some(Box::new(track_rejection)));
        let context = Context::full(&runtime)?;
        let hooks = context.with(|ctx| -> rquickjs::Result<_> {
            let native = native_object(&ctx)?;
            let mut options = rquickjs::context::EvalOptions::default();
            options.filename = Some("runbox:prelude".into());
            let build: Function = ctx.eval_with_options(PRELUDE, options)?;
            let hooks: Object = build.call((native,))?;
            Ok(Persistent::save(&ctx, hooks))
        })?;
        Ok(Engine { runtime, context, hooks })
    }

    /// Compiles the step as `run` would, running none of it.
    fn check(&self, step: &JsStep) -> Result<(), ScriptError> {
        self.context.with(|ctx| {
            let wrapped = format!("{WRAPPER}{}\n}})()", step.source);
            eval_at_line(&ctx, &wrapped, &step.filename, step.first_line.max(1), true)
                .map(drop)
                .map_err(|thrown| script_error(&ctx, ErrorKind::Syntax, thrown, step))
        })
    }

    fn run(&self, step: &JsStep) -> Result<Option<String>, ScriptError> {
        UNHANDLED.with(|list| list.borrow_mut().clear());
        let promise = self.context.with(|ctx| self.start(&ctx, step))?;
        // The event loop, as Node's: run every queued job (promise
        // reactions), then the next timer when it is due, until no timer
        // that keeps the step alive is left, the step's code has thrown, or
        // a promise was rejected with no handler.
        loop {
            self.run_jobs();
            let failed = UNHANDLED.with(|list| !list.borrow().is_empty())
                || self
                    .context
                    .with(|ctx| promise.clone().restore(&ctx).is_ok_and(|p| p.state() == PromiseState::Rejected));
            if failed {
                break;
            }
            match self.context.with(|ctx| self.next_timer(&ctx, step))? {
                Timer::None => break,
                Timer::Ran => {}
                Timer::Due(wait) => std::thread::sleep(wait),
            }
        }
        self.context.with(|ctx| finish(&ctx, step, promise))
    }

    fn run_jobs(&self) {
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => continue,
                Ok(false) => break,
                // An exception inside a job rejects the promise it belongs
                // to; the step's own promise reports what matters.
                Err(_) => continue,
            }
        }
    }

    /// Runs the timer that is due, or says how long until the next one.
    fn next_timer(&self, ctx: &Ctx<'_>, step: &JsStep) -> Result<Timer, ScriptError> {
        let hooks = self.hooks.clone().restore(ctx).map_err(|e| internal(ctx, e))?;
        let timers: Function = hooks.get("timers").map_err(|e| internal(ctx, e))?;
        match timers.call::<_, f64>(()) {
            Ok(wait) if wait < 0.0 => Ok(Timer::None),
            Ok(0.0) => Ok(Timer::Ran),
            Ok(wait) => Ok(Timer::Due(std::time::Duration::from_secs_f64(wait / 1000.0))),
            // A callback that threw ends the step, as an uncaught exception
            // ends Node.
            Err(rquickjs::Error::Exception) => Err(script_error(ctx, ErrorKind::Runtime, ctx.catch(), step)),
            Err(e) => Err(internal(ctx, e)),
        }
    }

    fn start(&self, ctx: &Ctx<'_>, step: &JsStep) -> Result<Persistent<Promise<'static>>, ScriptError> {
        let hooks = self.hooks.clone().restore(ctx).map_err(|e| internal(ctx, e))?;
        let begin: Function = hooks.get("begin").map_err(|e| internal(ctx, e))?;
        begin.call::<_, ()>((step.cwd.as_str(), random_seed())).map_err(|e| internal(ctx, e))?;

        // QuickJS cannot number a line 0, so the wrapper shares the user's
        // first line and positions there are shifted back by its length.
        let wrapped = format!("{WRAPPER}{}\n}})()", step.source);
        let value = eval_at_line(ctx, &wrapped, &step.filename, step.first_line.max(1), false)
            .map_err(|thrown| script_error(ctx, ErrorKind::Syntax, thrown, step))?;
        let promise = Promise::from_value(value).map_err(|e| internal(ctx, e))?;
        Ok(Persistent::save(ctx, promise))
    }
}

fn finish(ctx: &Ctx<'_>, step: &JsStep, promise: Persistent<Promise<'static>>) -> Result<Option<String>, ScriptError> {
    let promise = promise.restore(ctx).map_err(|e| internal(ctx, e))?;
    match promise.state() {
        PromiseState::Resolved => {
            // A promise nobody handled failed the step, as in Node, though
            // the step's own code ended well.
            let unhandled = UNHANDLED.with(|list| list.borrow_mut().drain(..).next());
            if let Some((_, reason)) = unhandled {
                let reason = reason.restore(ctx).map_err(|e| internal(ctx, e))?;
                return Err(script_error(ctx, ErrorKind::Runtime, reason, step));
            }
            let value: Value = promise.result().expect("settled").map_err(|e| internal(ctx, e))?;
            match ctx.json_stringify(value) {
                Ok(json) => Ok(json.map(|s| s.to_string()).transpose().map_err(|e| internal(ctx, e))?),
                Err(rquickjs::Error::Exception) => Err(script_error(ctx, ErrorKind::Runtime, ctx.catch(), step)),
                Err(e) => Err(internal(ctx, e)),
            }
        }
        PromiseState::Rejected => {
            let reason = match promise.result::<Value>() {
                Some(Err(rquickjs::Error::Exception)) => ctx.catch(),
                Some(Ok(v)) => v,
                Some(Err(e)) => return Err(internal(ctx, e)),
                None => unreachable!("a rejected promise has a result"),
            };
            Err(script_error(ctx, ErrorKind::Runtime, reason, step))
        }
        PromiseState::Pending => Err(ScriptError {
            kind: ErrorKind::Unsettled,
            message: "the step's promise never settled: it awaits something that nothing will \
                      resolve (no timers or I/O are left to run)"
                .into(),
            line: None,
            column: None,
            stack: None,
        }),
    }
}

/// Evaluates `source` as global code whose first line is numbered `line`
/// (only compiles it, when `compile_only`), returning the thrown value on
/// failure.
#[allow(unsafe_code)]
fn eval_at_line<'js>(
    ctx: &Ctx<'js>,
    source: &str,
    filename: &str,
    line: u32,
    compile_only: bool,
) -> Result<Value<'js>, Value<'js>> {
    let source = CString::new(source).map_err(|_| nul_error(ctx))?;
    let filename = CString::new(filename).map_err(|_| nul_error(ctx))?;
    let mut options = qjs::JSEvalOptions {
        version: 1,
        eval_flags: (qjs::JS_EVAL_TYPE_GLOBAL | if compile_only { qjs::JS_EVAL_FLAG_COMPILE_ONLY } else { 0 }) as i32,
        filename: filename.as_ptr(),
        line_num: line as i32,
    };
    // SAFETY: `source` is NUL-terminated as JS_Eval2 requires and outlives the
    // call; the returned value is owned and handed to rquickjs exactly once.
    let value = unsafe {
        let raw = qjs::JS_Eval2(ctx.as_raw().as_ptr(), source.as_ptr(), source.as_bytes().len() as _, &mut options);
        Value::from_raw(ctx.clone(), raw)
    };
    if value.is_exception() { Err(ctx.catch()) } else { Ok(value) }
}

fn nul_error<'js>(ctx: &Ctx<'js>) -> Value<'js> {
    let _ = rquickjs::Exception::throw_syntax(ctx, "the script contains a NUL character");
    ctx.catch()
}

/// Describes a thrown value, locating it in the user's source.
fn script_error<'js>(ctx: &Ctx<'js>, kind: ErrorKind, thrown: Value<'js>, step: &JsStep) -> ScriptError {
    let filename = step.filename.as_str();
    let Some(object) = thrown.as_object().filter(|_| thrown.is_error()) else {
        let text = ctx
            .json_stringify(thrown.clone())
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| format!("{thrown:?}"));
        return ScriptError { kind, message: format!("Uncaught {text}"), line: None, column: None, stack: None };
    };
    let text = |name: &str| object.get::<_, Option<String>>(name).ok().flatten();
    let name = text("name").unwrap_or_else(|| "Error".into());
    let message = text("message").unwrap_or_default();
    // The report says `Name: message` itself: the stack's own first lines
    // (as in Node, they say it too) are left out of it.
    let stack = text("stack").map(|s| frames(&s)).filter(|s| !s.trim().is_empty()).map(|s| unshift_stack(&s, step));
    let (mut line, mut column) = stack.as_deref().and_then(|s| first_position(s, filename)).unzip();
    if line.is_none() {
        line = object.get::<_, Option<u32>>("lineNumber").ok().flatten();
        column = object.get::<_, Option<u32>>("columnNumber").ok().flatten();
        if let (Some(l), Some(c)) = (line, column.as_mut()) {
            *c = unshift(l, *c, step);
        }
    }
    ScriptError {
        kind,
        message: if message.is_empty() { name } else { format!("{name}: {message}") },
        line: line.filter(|&l| l > 0),
        column,
        stack,
    }
}

/// The frames of a stack (`    at …` lines, with what follows them), without
/// the `Name: message` lines before them.
fn frames(stack: &str) -> String {
    match stack.find("    at ") {
        Some(at) if at == 0 || stack[..at].ends_with('\n') => stack[at..].to_string(),
        _ => String::new(),
    }
}

/// A column of the wrapped source as a column of the user's source.
fn unshift(line: u32, column: u32, step: &JsStep) -> u32 {
    if line == step.first_line.max(1) && column > WRAPPER.len() as u32 { column - WRAPPER.len() as u32 } else { column }
}

/// The stack with every `filename:line:col` in the user's coordinates.
fn unshift_stack(stack: &str, step: &JsStep) -> String {
    let needle = format!("{}:", step.filename);
    let mut out = String::with_capacity(stack.len());
    let mut rest = stack;
    while let Some(at) = rest.find(&needle) {
        let (before, after) = rest.split_at(at + needle.len());
        out.push_str(before);
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let line_len = digits(after);
        let position = after[..line_len].parse::<u32>().ok().and_then(|line| {
            let tail = after[line_len..].strip_prefix(':')?;
            let col_len = digits(tail);
            let column = tail[..col_len].parse::<u32>().ok()?;
            Some((line, column, line_len + 1 + col_len))
        });
        match position {
            Some((line, column, len)) => {
                out.push_str(&format!("{line}:{}", unshift(line, column, step)));
                rest = &after[len..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    // The last frame is runbox's call of the wrapper, not the user's code.
    let wrapper_frame = format!("    at <eval> ({}:", step.filename);
    out.lines().filter(|l| !l.starts_with(&wrapper_frame)).map(|l| format!("{l}\n")).collect()
}

/// The first `filename:line:col` of a stack trace.
fn first_position(stack: &str, filename: &str) -> Option<(u32, u32)> {
    let needle = format!("{filename}:");
    stack.lines().find_map(|frame| {
        let at = frame.find(&needle)? + needle.len();
        let mut numbers = frame[at..].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
        Some((numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?))
    })
}

fn internal(ctx: &Ctx<'_>, error: rquickjs::Error) -> ScriptError {
    let detail = match error {
        rquickjs::Error::Exception => format!("{:?}", ctx.catch()),
        other => other.to_string(),
    };
    ScriptError {
        kind: ErrorKind::Runtime,
        message: format!("InternalError: runbox's JavaScript engine failed: {detail}"),
        line: None,
        column: None,
        stack: None,
    }
}

/// Four words from the host's randomness (WASI random) for `Math.random`.
fn random_seed() -> Vec<u32> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the host provides randomness");
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// The functions the prelude builds `console`, `get` and `fs` from.
fn native_object<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let native = Object::new(ctx.clone())?;
    native.set(
        "write",
        Function::new(ctx.clone(), |fd: u32, text: String| {
            let result = if fd == 2 {
                let mut err = std::io::stderr().lock();
                err.write_all(text.as_bytes()).and_then(|()| err.flush())
            } else {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            };
            // The host stops the step itself when an output limit is hit;
            // any other failure has nowhere better to be reported.
            drop(result);
        })?,
    )?;
    native.set("get", Function::new(ctx.clone(), |name: String| context::get(&name))?)?;
    native.set("promiseState", Function::new(ctx.clone(), promise_state)?)?;
    native.set("callRunbook", Function::new(ctx.clone(), call_runbook)?)?;
    fs::register(ctx, &native)?;
    handles::register(ctx, &native)?;
    net::register(ctx, &native)?;
    bytes::register(ctx, &native)?;
    digest::register(ctx, &native)?;
    urls::register(ctx, &native)?;
    intl::register(ctx, &native)?;
    dates::register(ctx, &native)?;
    Ok(native)
}

/// A promise's state for `util.inspect`: `[]` while pending, `[true, value]`
/// fulfilled, `[false, reason]` rejected (reading it marks no rejection
/// handled).
fn promise_state<'js>(ctx: Ctx<'js>, promise: Promise<'js>) -> rquickjs::Result<Vec<Value<'js>>> {
    Ok(match promise.state() {
        PromiseState::Pending => Vec::new(),
        PromiseState::Resolved => {
            let value = promise.result::<Value>().transpose()?;
            vec![Value::new_bool(ctx.clone(), true), value.unwrap_or_else(|| Value::new_undefined(ctx))]
        }
        PromiseState::Rejected => {
            let reason = match promise.result::<Value>() {
                Some(Err(rquickjs::Error::Exception)) => ctx.catch(),
                Some(Ok(v)) => v,
                _ => Value::new_undefined(ctx.clone()),
            };
            vec![Value::new_bool(ctx, false), reason]
        }
    })
}

/// One sub-runbook call through the host's `runbooks` import: its result,
/// or `{ refused: true, code, message, exit_status }`.
fn call_runbook<'js>(
    ctx: Ctx<'js>,
    name: String,
    env: Vec<Vec<String>>,
    inputs: String,
) -> rquickjs::Result<Object<'js>> {
    let env =
        env.into_iter().filter_map(|pair| Some((pair.first()?.clone(), pair.get(1)?.clone()))).collect::<Vec<_>>();
    let out = Object::new(ctx)?;
    match runbooks::call(&name, &env, &inputs) {
        Ok(called) => {
            out.set("exit_code", called.exit_code)?;
            out.set("stdout", called.stdout)?;
            out.set("stderr", called.stderr)?;
            if let Some(result) = called.result {
                out.set("result", result)?;
            }
        }
        Err(refused) => {
            out.set("refused", true)?;
            out.set("code", refused.code)?;
            out.set("message", refused.message)?;
            out.set("exit_status", refused.exit_status)?;
        }
    }
    Ok(out)
}

struct JsGuest;

impl Guest for JsGuest {
    fn run(step: JsStep) -> Result<Option<String>, ScriptError> {
        with_engine(|engine| engine.run(&step))
    }

    fn check(step: JsStep) -> Result<(), ScriptError> {
        with_engine(|engine| engine.check(&step))
    }

    fn wizer_initialize() {
        with_engine(|_| ());
    }
}

export!(JsGuest);

/// The globals of a JavaScript step: one function over `native` that
/// returns the hooks Rust calls at each run, written one Node module (or
/// Web API) to a file under `prelude/` and joined in this order. Each file
/// is a piece of that one function's body, not a module of its own: they
/// share its scope (`format` is console's, `path` is fs's).
const PRELUDE: &str = concat!(
    include_str!("prelude/open.js"),
    include_str!("prelude/path.js"),
    include_str!("prelude/inspect.js"),
    include_str!("prelude/format.js"),
    include_str!("prelude/console.js"),
    include_str!("prelude/runbook.js"),
    include_str!("prelude/fs.js"),
    include_str!("prelude/fetch.js"),
    include_str!("prelude/random.js"),
    include_str!("prelude/timers.js"),
    include_str!("prelude/encoding.js"),
    include_str!("prelude/events.js"),
    include_str!("prelude/url.js"),
    include_str!("prelude/crypto.js"),
    include_str!("prelude/clone.js"),
    include_str!("prelude/util.js"),
    include_str!("prelude/intl.js"),
    include_str!("prelude/globals.js"),
);
