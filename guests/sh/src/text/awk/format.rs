//! `printf` and `sprintf`: C's conversions (`%c %d %i %o %x %X %u %e %E %f
//! %F %g %G %s %%`) with flags, width and precision (`*` from the
//! arguments), as gawk formats them.

use super::value::Value;

struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// The text, or gawk's fatal message when the arguments run out.
pub(super) fn sprintf(format: &str, args: &[Value], convfmt: &str) -> Result<String, String> {
    let mut out = String::new();
    let count = args.len();
    let all = args;
    // Whether positional and sequential conversions were seen.
    let mut mixed = (false, false);
    let mut args = args.iter();
    let mut used = 0usize;
    let total = format.chars().count();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Where the conversion starts, for the message when arguments run out.
        let at = total - chars.clone().count() - 1;
        let mut spec =
            Spec { left: false, plus: false, space: false, alt: false, zero: false, width: 0, precision: None };
        let mut raw = String::from("%");
        // `%N$…`: the Nth argument (gawk's positional specifiers).
        let digits: String = chars.clone().take_while(char::is_ascii_digit).collect();
        let mut positional = None;
        if !digits.is_empty() && chars.clone().nth(digits.len()) == Some('$') {
            let n: usize = digits.parse().unwrap_or(usize::MAX);
            if n == 0 {
                return Err("awk: cmd. line:1: fatal: arg count with `$' must be > 0\n".into());
            }
            if n > count {
                return Err(format!(
                    "awk: cmd. line:1: fatal: arg count {n} greater than total number of supplied arguments\n"
                ));
            }
            positional = Some(n - 1);
            for _ in 0..=digits.len() {
                chars.next();
            }
        }
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            raw.push(f);
            chars.next();
        }
        // A width or precision: digits, `*` (the next argument) or, in a
        // positional conversion, `*N$` (the Nth; a bare `*` is gawk's
        // all-or-none error there).
        let in_order = positional.is_none();
        let mut number = |chars: &mut std::iter::Peekable<std::str::Chars>,
                          raw: &mut String|
         -> Result<Option<i64>, String> {
            if chars.peek() == Some(&'*') {
                chars.next();
                raw.push('*');
                let here = total - chars.clone().count();
                let digits: String = chars.clone().take_while(char::is_ascii_digit).collect();
                if !digits.is_empty() && chars.clone().nth(digits.len()) == Some('$') {
                    for _ in 0..=digits.len() {
                        chars.next();
                    }
                    let n: usize = digits.parse().unwrap_or(usize::MAX);
                    if n == 0 {
                        return Err("awk: cmd. line:1: fatal: arg count with `$' must be > 0\n".into());
                    }
                    let Some(value) = all.get(n - 1) else {
                        return Err(format!(
                            "awk: cmd. line:1: fatal: not enough arguments to satisfy format string\n\t`{format}'\n\t{}^ ran out for this one\n",
                            " ".repeat(here + 1)
                        ));
                    };
                    return Ok(Some(value.num() as i64));
                }
                if !in_order {
                    // gawk says `fatal:` twice here.
                    return Err("awk: cmd. line:1: fatal: fatal: must use `count$' on all formats or none\n".into());
                }
                return Ok(Some(args.next().map_or(0.0, Value::num) as i64));
            }
            let mut n: Option<i64> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                raw.push(chars.next().unwrap_or('0'));
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(i64::from(d)));
            }
            Ok(n)
        };
        if let Some(w) = number(&mut chars, &mut raw)? {
            if w < 0 {
                spec.left = true;
            }
            spec.width = w.unsigned_abs().min(1 << 20) as usize;
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            raw.push('.');
            let p = number(&mut chars, &mut raw)?.unwrap_or(0);
            spec.precision = (p >= 0).then(|| (p as usize).min(1 << 20));
        }
        // Length modifiers mean nothing in awk.
        while matches!(chars.peek(), Some('h' | 'l' | 'L' | 'q' | 'j' | 'z' | 't')) {
            chars.next();
        }
        let Some(conv) = chars.next() else {
            out.push_str(&raw);
            break;
        };
        if !matches!(conv, '%') && "cdiouxXeEfFgGs".contains(conv) && positional.is_none() {
            used += 1;
            if used > count {
                return Err(format!(
                    "awk: cmd. line:1: fatal: not enough arguments to satisfy format string\n\t`{format}'\n\t{}^ ran out for this one\n",
                    " ".repeat(at + 1)
                ));
            }
        }
        if conv != '%' && "cdiouxXeEfFgGs".contains(conv) {
            match positional {
                Some(_) => mixed.0 = true,
                None => mixed.1 = true,
            }
            if mixed.0 && mixed.1 {
                return Err("awk: cmd. line:1: fatal: must use `count$' on all formats or none\n".into());
            }
        }
        let value = match positional {
            Some(p) if conv != '%' => all.get(p),
            _ if conv != '%' => args.next(),
            _ => None,
        };
        match conv {
            '%' => out.push('%'),
            'c' => {
                // A number (an unset value, input that looks like one) is a
                // character code; a string gives its first character.
                let code = match value {
                    Some(Value::Num(n)) => Ok(*n),
                    Some(Value::Uninit) => Ok(0.0),
                    Some(v @ Value::StrNum(t)) => super::value::looks_numeric(t).ok_or(v),
                    Some(v) => Err(v),
                    None => Ok(0.0),
                };
                let text = match code {
                    Ok(n) => char::from_u32(n as u32).map(String::from).unwrap_or_default(),
                    Err(v) => v.text(convfmt).chars().next().map(String::from).unwrap_or_default(),
                };
                pad(&mut out, &text, &spec);
            }
            's' => {
                let text = value.map(|v| v.text(convfmt)).unwrap_or_default();
                let text: String = match spec.precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text.to_string(),
                };
                pad(&mut out, &text, &spec);
            }
            'd' | 'i' | 'o' | 'x' | 'X' | 'u' => {
                let n = value.map_or(0.0, Value::num);
                if !n.is_finite() || n.abs() >= 9.2e18 {
                    let body = float_text(n, 'f', Some(0), &spec);
                    pad(&mut out, &body, &spec);
                    continue;
                }
                let i = n.trunc() as i64;
                let (negative, digits) = match conv {
                    'd' | 'i' => (i < 0, i.unsigned_abs().to_string()),
                    'o' => (false, format!("{:o}", i as u64)),
                    'x' => (false, format!("{:x}", i as u64)),
                    'X' => (false, format!("{:X}", i as u64)),
                    _ => (false, (i as u64).to_string()),
                };
                let mut digits = match spec.precision {
                    Some(0) if i == 0 => String::new(),
                    Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
                    _ => digits,
                };
                if spec.alt && i != 0 {
                    match conv {
                        'o' if !digits.starts_with('0') => digits.insert(0, '0'),
                        'x' => digits.insert_str(0, "0x"),
                        'X' => digits.insert_str(0, "0X"),
                        _ => {}
                    }
                }
                let sign = if negative {
                    "-"
                } else if spec.plus && matches!(conv, 'd' | 'i') {
                    "+"
                } else if spec.space && matches!(conv, 'd' | 'i') {
                    " "
                } else {
                    ""
                };
                let zero = spec.zero && spec.precision.is_none();
                pad_number(&mut out, sign, &digits, &spec, zero);
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let n = value.map_or(0.0, Value::num);
                let body = float_text(n.abs(), conv, spec.precision, &spec);
                let sign = if n.is_sign_negative() {
                    "-"
                } else if spec.plus {
                    "+"
                } else if spec.space {
                    " "
                } else {
                    ""
                };
                let zero = spec.zero && n.is_finite();
                pad_number(&mut out, sign, &body, &spec, zero);
            }
            other => {
                // An unknown conversion is printed as it stands.
                out.push_str(&raw);
                out.push(other);
            }
        }
    }
    Ok(out)
}

fn pad(out: &mut String, text: &str, spec: &Spec) {
    let len = text.chars().count();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(text);
    }
}

fn pad_number(out: &mut String, sign: &str, digits: &str, spec: &Spec, zero: bool) {
    let len = sign.len() + digits.chars().count();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.push_str(sign);
        out.push_str(digits);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if zero {
        out.push_str(sign);
        // After a `0x` the zeros go after the prefix.
        let (prefix, rest) =
            if digits.starts_with("0x") || digits.starts_with("0X") { digits.split_at(2) } else { ("", digits) };
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(sign);
        out.push_str(digits);
    }
}

/// A non-negative number (its sign is the caller's) in `%e`, `%f` or `%g`.
fn float_text(n: f64, conv: char, precision: Option<usize>, spec: &Spec) -> String {
    let upper = conv.is_ascii_uppercase();
    if n.is_nan() {
        return if upper { "NAN" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if upper { "INF" } else { "inf" }.into();
    }
    let precision = precision.unwrap_or(6);
    let text = match conv.to_ascii_lowercase() {
        'e' => exponent_form(n, precision),
        'f' => {
            let mut t = format!("{n:.precision$}");
            if spec.alt && precision == 0 {
                t.push('.');
            }
            t
        }
        _ => {
            let p = precision.max(1);
            if n == 0.0 {
                if spec.alt { format!("{:.*}", p - 1, 0.0) } else { "0".into() }
            } else {
                let e = exponent_form(n, p - 1);
                let x: i32 = e.rsplit_once('e').and_then(|(_, x)| x.parse().ok()).unwrap_or(0);
                let t = if x < -4 || x >= p as i32 { e } else { format!("{n:.*}", (p as i32 - 1 - x).max(0) as usize) };
                if spec.alt { t } else { trim_zeros(&t) }
            }
        }
    };
    if upper { text.to_uppercase() } else { text }
}

/// `d.ddde+XX`, C's form.
fn exponent_form(n: f64, precision: usize) -> String {
    let t = format!("{n:.precision$e}");
    let (mantissa, exp) = t.split_once('e').unwrap_or((&t, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
}

/// `%g` without `#`: no trailing zeros in the fraction, nor a bare point.
fn trim_zeros(t: &str) -> String {
    let (body, exp) = match t.find('e') {
        Some(at) => t.split_at(at),
        None => (t, ""),
    };
    let body = if body.contains('.') { body.trim_end_matches('0').trim_end_matches('.') } else { body };
    format!("{body}{exp}")
}
