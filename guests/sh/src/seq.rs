//! `seq` as GNU coreutils prints it, without bashkit's cap of 100 000 lines
//! (runbox's own caps are the step's output, fuel and deadline). Streams:
//! `seq 1 1000000000 | head -1` stops when `head` has its line.
//!
//! Decimal operands are counted exactly, as scaled integers (GNU uses long
//! double; `seq 1 0.1 1.3` must reach 1.3); operands in exponent form, and
//! `-f`, print through a C-style float format.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

pub(crate) struct Seq;

const TRY: &str = "Try 'seq --help' for more information.\n";
const HELP: &str = "Usage: seq [OPTION]... LAST\n  or:  seq [OPTION]... FIRST LAST\n  or:  seq [OPTION]... FIRST INCREMENT LAST\nPrint numbers from FIRST to LAST, in steps of INCREMENT.\n\n  -f, --format=FORMAT      use printf style floating-point FORMAT\n  -s, --separator=STRING   use STRING to separate numbers (default: \\n)\n  -w, --equal-width        equalize width by padding with leading zeroes\n      --help               display this help and exit\n";
/// The largest `-f` precision.
const MAX_PRECISION: usize = 65535;
/// Bytes gathered before each write: a write to a file opens it afresh.
const CHUNK: usize = 64 * 1024;

/// An operand: its value scaled by 10^`decimals`, or a float when it is in
/// exponent form (or too large to scale).
#[derive(Clone, Copy)]
struct Operand {
    scaled: Option<i128>,
    decimals: u32,
    /// In exponent form (or infinite): printed as `%g`, not with decimals.
    exponent: bool,
    value: f64,
}

fn operand(text: &str) -> Option<Operand> {
    let trimmed = text.trim_start();
    let value: f64 = trimmed.strip_prefix('+').unwrap_or(trimmed).parse().ok()?;
    if value.is_nan() {
        return None;
    }
    let body = trimmed.trim_start_matches(['+', '-']);
    if !value.is_finite() || body.contains(['e', 'E']) || !body.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Some(Operand { scaled: None, decimals: 0, exponent: true, value });
    }
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let decimals = fraction.len() as u32;
    let digits = format!("{whole}{fraction}");
    // More digits than an i128 holds: counted as a float, as GNU's long double.
    let Ok(magnitude) = (if digits.is_empty() { Ok(0i128) } else { digits.parse::<i128>() }) else {
        return Some(Operand { scaled: None, decimals, exponent: false, value });
    };
    let scaled = if trimmed.starts_with('-') { -magnitude } else { magnitude };
    Some(Operand { scaled: Some(scaled), decimals, exponent: false, value })
}

fn rescale(o: Operand, decimals: u32) -> Option<i128> {
    o.scaled?.checked_mul(10i128.checked_pow(decimals - o.decimals)?)
}

struct Options {
    format: Option<String>,
    separator: String,
    equal_width: bool,
    operands: Vec<String>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options { format: None, separator: "\n".into(), equal_width: false, operands: Vec::new() };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        // A negative number is an operand, not an option.
        let number = arg.len() > 1 && arg[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.');
        if !o.operands.is_empty() || !arg.starts_with('-') || arg == "-" || number {
            o.operands.push(arg.clone());
            continue;
        }
        let mut value = |flag: &str, inline: &str| -> Result<String, String> {
            if !inline.is_empty() {
                return Ok(inline.to_string());
            }
            args.next().cloned().ok_or_else(|| format!("seq: option requires an argument -- '{flag}'\n{TRY}"))
        };
        match arg.as_str() {
            "--" => o.operands.extend(args.by_ref().cloned()),
            "-w" | "--equal-width" => o.equal_width = true,
            "--help" => return Err(String::new()),
            a if a.starts_with("--format=") => o.format = Some(a["--format=".len()..].to_string()),
            a if a.starts_with("--separator=") => o.separator = a["--separator=".len()..].to_string(),
            "--format" => o.format = Some(value("f", "")?),
            "--separator" => o.separator = value("s", "")?,
            a if a.starts_with("-f") => o.format = Some(value("f", &a[2..])?),
            a if a.starts_with("-s") => o.separator = value("s", &a[2..])?,
            a => return Err(format!("seq: invalid option -- '{}'\n{TRY}", a.trim_start_matches('-'))),
        }
    }
    Ok(o)
}

/// The numbers, as text, one at a time.
enum Numbers {
    Exact {
        next: i128,
        step: i128,
        last: i128,
        scale: u32,
        decimals: u32,
    },
    /// `decimals`: printed with that many, else as `%g`.
    Float {
        first: f64,
        step: f64,
        last: f64,
        index: u64,
        decimals: Option<usize>,
    },
}

impl Numbers {
    fn next(&mut self) -> Option<Value> {
        match self {
            Numbers::Exact { next, step, last, scale, decimals } => {
                let done = if *step > 0 { *next > *last } else { *next < *last };
                if done {
                    return None;
                }
                let value = Value::Exact(*next / 10i128.pow(*scale - *decimals), *decimals);
                *next = next.checked_add(*step)?;
                Some(value)
            }
            Numbers::Float { first, step, last, index, decimals } => {
                let value = *first + *step * *index as f64;
                if (*step > 0.0 && value > *last) || (*step < 0.0 && value < *last) {
                    return None;
                }
                *index += 1;
                Some(Value::Float(value, *decimals))
            }
        }
    }
}

enum Value {
    /// Scaled by 10^decimals.
    Exact(i128, u32),
    Float(f64, Option<usize>),
}

impl Value {
    fn as_f64(&self) -> f64 {
        match *self {
            Value::Exact(v, d) => v as f64 / 10f64.powi(d as i32),
            Value::Float(v, _) => v,
        }
    }

    fn text(&self) -> String {
        match *self {
            Value::Exact(v, 0) => v.to_string(),
            Value::Exact(v, d) => {
                let unit = 10i128.pow(d);
                let sign = if v < 0 { "-" } else { "" };
                format!("{sign}{}.{:0width$}", (v / unit).abs(), (v % unit).abs(), width = d as usize)
            }
            Value::Float(v, None) => format_float(v, 'g', None, ""),
            Value::Float(v, Some(d)) => format_float(v, 'f', Some(d.min(MAX_PRECISION)), ""),
        }
    }
}

/// `%[flags][width][.precision]conv` for one float, as C's printf.
fn format_float(v: f64, conv: char, precision: Option<usize>, flags: &str) -> String {
    let p = precision.unwrap_or(6);
    let mut body = match conv.to_ascii_lowercase() {
        'f' => format!("{:.p$}", v.abs()),
        'e' => exponent(v.abs(), p),
        _ => {
            let p = p.max(1);
            let x = if v == 0.0 { 0 } else { v.abs().log10().floor() as i32 };
            let mut text = if x < -4 || x >= p as i32 {
                exponent(v.abs(), p - 1)
            } else {
                format!("{:.*}", (p as i32 - 1 - x).max(0) as usize, v.abs())
            };
            if !flags.contains('#') {
                text = strip_zeros(&text);
            }
            text
        }
    };
    if v.is_infinite() {
        body = "inf".into();
    } else if v.is_nan() {
        body = "nan".into();
    }
    if conv.is_ascii_uppercase() {
        body = body.to_ascii_uppercase();
    }
    let sign = if v.is_sign_negative() && !v.is_nan() {
        "-"
    } else if flags.contains('+') {
        "+"
    } else if flags.contains(' ') {
        " "
    } else {
        ""
    };
    format!("{sign}{body}")
}

fn exponent(v: f64, p: usize) -> String {
    let text = format!("{v:.p$e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

fn strip_zeros(text: &str) -> String {
    let (mantissa, exp) = match text.find('e') {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    };
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    format!("{mantissa}{exp}")
}

/// A `-f` format: text, one float directive, text.
struct Format {
    before: String,
    flags: String,
    width: usize,
    precision: Option<usize>,
    conv: char,
    after: String,
}

fn parse_format(format: &str) -> Result<Format, String> {
    let mut before = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            before.push(c);
        } else if chars.peek() == Some(&'%') {
            chars.next();
            before.push('%');
        } else {
            let mut flags = String::new();
            while let Some(&f) = chars.peek().filter(|f| "-+ #0'".contains(**f)) {
                flags.push(f);
                chars.next();
            }
            let mut width = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                width.push(d);
                chars.next();
            }
            let mut precision = None;
            if chars.peek() == Some(&'.') {
                chars.next();
                let mut p = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    p.push(d);
                    chars.next();
                }
                // Rust formats at most 65535 digits; more is no number a
                // script can use.
                let p: usize = p.parse().unwrap_or(usize::MAX);
                if p > MAX_PRECISION {
                    return Err(format!("seq: format '{format}': precision above {MAX_PRECISION}\n"));
                }
                precision = Some(p);
            }
            let conv = chars.next().filter(|c| "aAeEfFgG".contains(*c)).ok_or_else(|| {
                format!("seq: format '{format}' has unknown %{} directive\n", format.rsplit('%').next().unwrap_or(""))
            })?;
            let mut after = String::new();
            while let Some(c) = chars.next() {
                if c == '%' && chars.peek() == Some(&'%') {
                    chars.next();
                } else if c == '%' {
                    return Err(format!("seq: format '{format}' has too many % directives\n"));
                }
                after.push(c);
            }
            return Ok(Format { before, flags, width: width.parse().unwrap_or(0), precision, conv, after });
        }
    }
    Err(format!("seq: format '{format}' has no % directive\n"))
}

impl Format {
    fn apply(&self, v: f64) -> String {
        let text = format_float(v, self.conv, self.precision, &self.flags);
        let pad = self.width.saturating_sub(text.chars().count());
        let padded = if pad == 0 {
            text
        } else if self.flags.contains('-') {
            format!("{text}{}", " ".repeat(pad))
        } else if self.flags.contains('0') && v.is_finite() {
            let digits = text.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
            format!("{}{}{}", &text[..digits], "0".repeat(pad), &text[digits..])
        } else {
            format!("{}{text}", " ".repeat(pad))
        };
        format!("{}{padded}{}", self.before, self.after)
    }
}

/// Pads `text` with zeros after its sign to `width`.
fn zero_pad(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.len());
    match text.strip_prefix('-') {
        Some(rest) => format!("-{}{rest}", "0".repeat(pad)),
        None => format!("{}{text}", "0".repeat(pad)),
    }
}

#[async_trait]
impl Command for Seq {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let stderr = ctx.stderr.clone();
        let fail = |message: String| {
            let stderr = stderr.clone();
            async move {
                let _ = stderr.write_all(message.as_bytes()).await;
                Ok(CommandStatus::with_code(1))
            }
        };
        let o = match options(ctx.args) {
            Ok(o) => o,
            Err(message) if message.is_empty() => {
                ctx.stdout.write_all(HELP.as_bytes()).await?;
                return Ok(CommandStatus::success());
            }
            Err(message) => return fail(message).await,
        };
        let parsed: Vec<Operand> = match o.operands.iter().map(|a| operand(a).ok_or(a)).collect() {
            Ok(parsed) => parsed,
            Err(bad) => return fail(format!("seq: invalid floating point argument: ‘{bad}’\n{TRY}")).await,
        };
        let one = Operand { scaled: Some(1), decimals: 0, exponent: false, value: 1.0 };
        let (first, step, last) = match parsed.as_slice() {
            [] => return fail(format!("seq: missing operand\n{TRY}")).await,
            [last] => (one, one, *last),
            [first, last] => (*first, one, *last),
            [first, step, last] => (*first, *step, *last),
            [_, _, _, _, ..] => {
                return fail(format!("seq: extra operand ‘{}’\n{TRY}", o.operands[3])).await;
            }
        };
        if step.value == 0.0 {
            let text = &o.operands[o.operands.len() - 2];
            return fail(format!("seq: invalid Zero increment value: ‘{text}’\n{TRY}")).await;
        }
        let format = match o.format.as_deref().map(parse_format).transpose() {
            Ok(format) => format,
            Err(message) => return fail(message).await,
        };
        let decimals = first.decimals.max(step.decimals);
        let scale = decimals.max(last.decimals);
        let exact = (|| {
            Some(Numbers::Exact {
                next: rescale(first, scale)?,
                step: rescale(step, scale)?,
                last: rescale(last, scale)?,
                scale,
                decimals,
            })
        })();
        let exact_form = exact.is_some();
        let mut numbers = exact.unwrap_or(Numbers::Float {
            first: first.value,
            step: step.value,
            last: last.value,
            index: 0,
            decimals: (!first.exponent && !step.exponent).then_some(decimals as usize),
        });
        let width = if o.equal_width && format.is_none() && exact_form {
            let end = |o: Operand| Value::Exact(rescale(o, decimals).unwrap_or(0), decimals).text().len();
            end(first).max(end(last))
        } else {
            0
        };
        let mut out = String::new();
        let mut started = false;
        while let Some(value) = numbers.next() {
            if started {
                out.push_str(&o.separator);
            }
            started = true;
            match &format {
                Some(format) => out.push_str(&format.apply(value.as_f64())),
                None => out.push_str(&zero_pad(&value.text(), width)),
            }
            if out.len() >= CHUNK {
                // A reader that went away (`| head -1`) ends the sequence.
                if ctx.stdout.write_all(out.as_bytes()).await.is_err() {
                    return Ok(CommandStatus::with_code(141));
                }
                out.clear();
            }
        }
        if started {
            out.push('\n');
        }
        if ctx.stdout.write_all(out.as_bytes()).await.is_err() {
            return Ok(CommandStatus::with_code(141));
        }
        Ok(CommandStatus::success())
    }
}
