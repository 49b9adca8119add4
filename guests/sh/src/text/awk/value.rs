//! awk's values: numbers, strings, and the strings that came from input
//! and look like numbers ("strnums"), which compare as numbers; and the
//! conversions between them, as gawk makes them.

use std::sync::Arc;

#[derive(Clone, Debug)]
pub(super) enum Value {
    Uninit,
    Num(f64),
    Str(Arc<str>),
    /// Input text (a field, `getline`'s, `split`'s, `-v`'s): a number when
    /// it looks like one.
    StrNum(Arc<str>),
}

impl Value {
    pub(super) fn str(s: impl Into<Arc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub(super) fn input(s: impl Into<Arc<str>>) -> Value {
        Value::StrNum(s.into())
    }

    pub(super) fn num(&self) -> f64 {
        match self {
            Value::Uninit => 0.0,
            Value::Num(n) => *n,
            Value::Str(s) | Value::StrNum(s) => leading_number(s),
        }
    }

    pub(super) fn truthy(&self) -> bool {
        match self {
            Value::Uninit => false,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::StrNum(s) => match looks_numeric(s) {
                Some(n) => n != 0.0,
                None => !s.is_empty(),
            },
        }
    }

    /// The value as a string, numbers through `convfmt` (integers as
    /// integers).
    pub(super) fn text(&self, convfmt: &str) -> Arc<str> {
        match self {
            Value::Uninit => Arc::from(""),
            Value::Num(n) => number_text(*n, convfmt).into(),
            Value::Str(s) | Value::StrNum(s) => s.clone(),
        }
    }

    /// Whether comparisons take this as a number.
    fn numeric(&self) -> Option<f64> {
        match self {
            Value::Uninit => Some(0.0),
            Value::Num(n) => Some(*n),
            Value::Str(_) => None,
            Value::StrNum(s) => looks_numeric(s),
        }
    }

    /// -1, 0 or 1, numerically when both are numbers, else as strings.
    pub(super) fn compare(&self, other: &Value, convfmt: &str) -> std::cmp::Ordering {
        match (self.numeric(), other.numeric()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
            _ => self.text(convfmt).as_bytes().cmp(other.text(convfmt).as_bytes()),
        }
    }
}

/// A number's text: an integral value as an integer, else `fmt` (CONVFMT
/// or OFMT).
pub(super) fn number_text(n: f64, fmt: &str) -> String {
    if n == n.trunc() && n.abs() < 1e16 {
        if n == 0.0 {
            return "0".into();
        }
        return format!("{}", n as i64);
    }
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "+nan" }.into();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "+inf" }.into();
    }
    if n == n.trunc() {
        // Integral but too large for %d: gawk prints it in full.
        return format!("{n:.0}");
    }
    super::format::sprintf(fmt, &[Value::Num(n)], "%.6g").unwrap_or_else(|_| format!("{n}"))
}

/// The number at the start of `s` (after blanks), as `strtod` reads it
/// (decimal only); 0 when there is none.
pub(super) fn leading_number(s: &str) -> f64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = t.as_bytes();
    let mut end = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if b.get(end) == Some(&b'.') {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    if end == digits_start || (end == digits_start + 1 && b.get(digits_start) == Some(&b'.')) {
        // gawk reads "+inf", "-nan" and friends as such.
        let lower = t.get(..4).map(str::to_ascii_lowercase);
        return match lower.as_deref() {
            Some("+inf") => f64::INFINITY,
            Some("-inf") => f64::NEG_INFINITY,
            Some("+nan") => f64::NAN,
            Some("-nan") => -f64::NAN,
            _ => 0.0,
        };
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut probe = end + 1;
        if matches!(b.get(probe), Some(b'+' | b'-')) {
            probe += 1;
        }
        if b.get(probe).is_some_and(u8::is_ascii_digit) {
            end = probe;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

/// The number a string is, when all of it (blanks around aside) is one.
pub(super) fn looks_numeric(s: &str) -> Option<f64> {
    let t = s.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    let mut at = usize::from(matches!(b[0], b'+' | b'-'));
    let start = at;
    while b.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    let mut digits = at - start;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let frac = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        digits += at - frac;
    }
    if digits == 0 {
        let lower = t.to_ascii_lowercase();
        return match lower.as_str() {
            "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            "+nan" => Some(f64::NAN),
            "-nan" => Some(-f64::NAN),
            _ => None,
        };
    }
    if matches!(b.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(b.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exp = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == exp {
            return None;
        }
    }
    if at != b.len() {
        return None;
    }
    t.parse().ok()
}
