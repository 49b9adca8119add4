//! How `sort` compares two lines: its keys (`-k`, `-t`), their orderings
//! (`-n -g -h -V -M -f -d -i -b -r`) and GNU's last-resort comparison of
//! the whole lines.

use std::cmp::Ordering;

/// How one key (or the whole line) is ordered.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Order {
    #[default]
    Bytes,
    Numeric,
    General,
    Human,
    Version,
    Month,
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Flags {
    pub(crate) order: Order,
    pub(crate) reverse: bool,
    pub(crate) fold: bool,
    pub(crate) dictionary: bool,
    pub(crate) printable: bool,
    pub(crate) blanks: bool,
}

impl Flags {
    /// Whether any ordering letter was given (a key's own letters replace
    /// the global ones only then).
    pub(crate) fn any(&self) -> bool {
        self.order != Order::Bytes || self.reverse || self.fold || self.dictionary || self.printable || self.blanks
    }

    /// Adds the flag a letter names; false for a letter that is not one.
    pub(crate) fn set(&mut self, letter: char) -> bool {
        match letter {
            'n' => self.order = Order::Numeric,
            'g' => self.order = Order::General,
            'h' => self.order = Order::Human,
            'V' => self.order = Order::Version,
            'M' => self.order = Order::Month,
            'r' => self.reverse = true,
            'f' => self.fold = true,
            'd' => self.dictionary = true,
            'i' => self.printable = true,
            'b' => self.blanks = true,
            _ => return false,
        }
        true
    }
}

/// `-k F[.C][FLAGS][,F[.C][FLAGS]]`, fields and characters from 1; an end
/// character of 0 is the end of the field.
#[derive(Clone, Copy)]
pub(crate) struct Key {
    pub(crate) start_field: usize,
    pub(crate) start_char: usize,
    pub(crate) start_blanks: bool,
    pub(crate) end_field: Option<usize>,
    pub(crate) end_char: usize,
    pub(crate) end_blanks: bool,
    pub(crate) flags: Flags,
}

/// What decides the order of lines.
pub(crate) struct Spec {
    pub(crate) keys: Vec<Key>,
    pub(crate) global: Flags,
    pub(crate) separator: Option<u8>,
    /// `-s`: no last-resort comparison.
    pub(crate) stable: bool,
    /// `-u`: lines whose keys compare equal are one.
    pub(crate) unique: bool,
    /// What ends a line: `\n`, or NUL (`-z`).
    pub(crate) end: u8,
}

fn blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Where field `n` (from 1) of `line` begins and ends: with `-t`, between
/// separators; without, each field begins with the blanks before it.
fn field_bounds(line: &[u8], n: usize, separator: Option<u8>) -> (usize, usize) {
    let mut start = 0;
    for _ in 1..n {
        start = match separator {
            // Fields are short: a plain scan costs less than memchr's setup.
            Some(sep) => match line[start..].iter().position(|&b| b == sep) {
                Some(at) => start + at + 1,
                None => return (line.len(), line.len()),
            },
            None => past_field(line, start),
        };
    }
    let end = match separator {
        Some(sep) => line[start..].iter().position(|&b| b == sep).map_or(line.len(), |at| start + at),
        None => past_field(line, start),
    };
    (start, end)
}

/// Where a blank-separated field that begins at `at` (with the blanks
/// before it) ends.
fn past_field(line: &[u8], at: usize) -> usize {
    let text = skip_blanks(line, at, line.len());
    text + line[text..].iter().take_while(|&&b| !blank(b)).count()
}

fn skip_blanks(line: &[u8], mut at: usize, end: usize) -> usize {
    while at < end && blank(line[at]) {
        at += 1;
    }
    at
}

/// The part of `line` a key covers.
fn key_text<'a>(line: &'a [u8], key: &Key, separator: Option<u8>) -> &'a [u8] {
    let (field_start, field_end) = field_bounds(line, key.start_field, separator);
    let mut start = field_start;
    if key.start_blanks {
        start = skip_blanks(line, start, field_end);
    }
    start = (start + key.start_char.saturating_sub(1)).min(field_end.max(start)).min(line.len());
    let end = match key.end_field {
        None => line.len(),
        Some(n) => {
            let (end_start, end_end) = field_bounds(line, n, separator);
            if key.end_char == 0 {
                end_end
            } else {
                let from = if key.end_blanks { skip_blanks(line, end_start, end_end) } else { end_start };
                (from + key.end_char).min(end_end)
            }
        }
    };
    if end <= start { &line[start..start] } else { &line[start..end] }
}

/// A number as `-n` reads it: blanks, a sign, digits, a decimal point.
fn numeric_parts(text: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut at = 0;
    while at < text.len() && blank(text[at]) {
        at += 1;
    }
    let negative = text.get(at) == Some(&b'-');
    if negative {
        at += 1;
    }
    let int_start = at;
    while at < text.len() && text[at].is_ascii_digit() {
        at += 1;
    }
    let mut int = &text[int_start..at];
    while int.len() > 1 && int[0] == b'0' {
        int = &int[1..];
    }
    let mut frac: &[u8] = &[];
    if text.get(at) == Some(&b'.') {
        let frac_start = at + 1;
        at += 1;
        while at < text.len() && text[at].is_ascii_digit() {
            at += 1;
        }
        frac = &text[frac_start..at];
        while frac.last() == Some(&b'0') {
            frac = &frac[..frac.len() - 1];
        }
    }
    if int == b"0" {
        int = &[];
    }
    // "-0" is zero.
    let zero = int.is_empty() && frac.is_empty();
    (negative && !zero, int, frac)
}

fn numeric(a: &[u8], b: &[u8]) -> Ordering {
    let (an, ai, af) = numeric_parts(a);
    let (bn, bi, bf) = numeric_parts(b);
    let magnitude = ai.len().cmp(&bi.len()).then_with(|| ai.cmp(bi)).then_with(|| af.cmp(bf));
    match (an, bn) {
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

fn general(a: &[u8], b: &[u8]) -> Ordering {
    fn value(text: &[u8]) -> Option<f64> {
        let text = std::str::from_utf8(text).ok()?.trim_start();
        // The longest prefix that parses, as strtod reads.
        let end = text
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .take_while(|&i| i <= text.len())
            .filter(|&i| text[..i].parse::<f64>().is_ok())
            .last()?;
        text[..end].parse().ok()
    }
    match (value(a), value(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) if x.is_nan() || y.is_nan() => x.is_nan().cmp(&y.is_nan()).reverse(),
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

fn human(a: &[u8], b: &[u8]) -> Ordering {
    fn suffix(text: &[u8]) -> usize {
        let mut at = 0;
        while at < text.len() && blank(text[at]) {
            at += 1;
        }
        if text.get(at) == Some(&b'-') {
            at += 1;
        }
        while at < text.len() && (text[at].is_ascii_digit() || text[at] == b'.') {
            at += 1;
        }
        text.get(at).and_then(|&c| b"KMGTPEZYRQ".iter().position(|&s| s == c.to_ascii_uppercase())).map_or(0, |p| p + 1)
    }
    let (an, _, _) = numeric_parts(a);
    let (bn, _, _) = numeric_parts(b);
    let by_suffix = suffix(a).cmp(&suffix(b));
    let by_suffix = match (an, bn) {
        (true, true) => by_suffix.reverse(),
        _ => by_suffix,
    };
    if an != bn { numeric(a, b) } else { by_suffix.then_with(|| numeric(a, b)) }
}

fn month(a: &[u8], b: &[u8]) -> Ordering {
    fn value(text: &[u8]) -> usize {
        const MONTHS: [&[u8]; 12] =
            [b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC"];
        let text = &text[skip_blanks(text, 0, text.len())..];
        text.get(..3).and_then(|m| MONTHS.iter().position(|name| m.eq_ignore_ascii_case(name))).map_or(0, |p| p + 1)
    }
    value(a).cmp(&value(b))
}

/// Version order: runs of digits compare as numbers, the rest as bytes
/// with letters before other characters (GNU's filevercmp, without its
/// file-suffix rules).
fn version(a: &[u8], b: &[u8]) -> Ordering {
    fn rank(c: Option<&u8>) -> i32 {
        match c {
            None => 0,
            Some(b'~') => -1,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => i32::from(*c),
            Some(c) => i32::from(*c) + 256,
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit parts.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ra, rb) = (rank(a.get(i)), rank(b.get(j)));
            if ra != rb {
                return ra.cmp(&rb);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let (si, sj) = (i, j);
        while a.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let order = (i - si).cmp(&(j - sj)).then_with(|| a[si..i].cmp(&b[sj..j]));
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// Bytes compared with `-f`, `-d` and `-i` applied.
fn filtered(a: &[u8], b: &[u8], flags: &Flags) -> Ordering {
    let keep = |c: &&u8| {
        (!flags.dictionary || c.is_ascii_alphanumeric() || blank(**c) || **c >= 0x80)
            && (!flags.printable || !c.is_ascii_control())
    };
    let map = |c: &u8| if flags.fold { c.to_ascii_uppercase() } else { *c };
    a.iter().filter(keep).map(map).cmp(b.iter().filter(keep).map(map))
}

fn compare_text(a: &[u8], b: &[u8], flags: &Flags) -> Ordering {
    let (a, b) =
        if flags.blanks { (&a[skip_blanks(a, 0, a.len())..], &b[skip_blanks(b, 0, b.len())..]) } else { (a, b) };
    let order = match flags.order {
        Order::Numeric => numeric(a, b),
        Order::General => general(a, b),
        Order::Human => human(a, b),
        Order::Month => month(a, b),
        Order::Version => version(a, b),
        Order::Bytes if flags.fold || flags.dictionary || flags.printable => filtered(a, b, flags),
        Order::Bytes => a.cmp(b),
    };
    if flags.reverse { order.reverse() } else { order }
}

impl Spec {
    /// Orders two lines (without their newlines) by the keys alone.
    pub(crate) fn keys_order(&self, a: &[u8], b: &[u8]) -> Ordering {
        if self.keys.is_empty() {
            return compare_text(a, b, &self.global);
        }
        let sep = self.separator;
        self.compare_keys(self.keys.iter().map(|k| (key_text(a, k, sep), key_text(b, k, sep))))
    }

    /// Where each key of `line` is (start and end), for a line compared
    /// many times while a run is sorted.
    pub(crate) fn locate(&self, line: &[u8], into: &mut Vec<(u32, u32)>) {
        let base = line.as_ptr() as usize;
        for key in &self.keys {
            let text = key_text(line, key, self.separator);
            let start = text.as_ptr() as usize - base;
            into.push((start as u32, (start + text.len()) as u32));
        }
    }

    /// `order`, with the keys where `locate` found them.
    pub(crate) fn order_located(&self, a: &[u8], ak: &[(u32, u32)], b: &[u8], bk: &[(u32, u32)]) -> Ordering {
        let located =
            ak.iter().zip(bk).map(|(&(s, e), &(t, f))| (&a[s as usize..e as usize], &b[t as usize..f as usize]));
        let by_keys = if self.keys.is_empty() { compare_text(a, b, &self.global) } else { self.compare_keys(located) };
        self.last_resort(by_keys, a, b)
    }

    fn compare_keys<'a>(&self, texts: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Ordering {
        for (key, (a, b)) in self.keys.iter().zip(texts) {
            let flags = if key.flags.any() { key.flags } else { self.global };
            let order = compare_text(a, b, &flags);
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }

    /// Orders two lines as `sort` outputs them: by the keys, then (unless
    /// `-s` or `-u`) by their bytes, reversed with `-r`.
    pub(crate) fn order(&self, a: &[u8], b: &[u8]) -> Ordering {
        self.last_resort(self.keys_order(a, b), a, b)
    }

    fn last_resort(&self, by_keys: Ordering, a: &[u8], b: &[u8]) -> Ordering {
        if by_keys != Ordering::Equal || self.stable || self.unique {
            return by_keys;
        }
        let last = a.cmp(b);
        if self.global.reverse { last.reverse() } else { last }
    }
}
