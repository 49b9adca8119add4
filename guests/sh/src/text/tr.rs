//! `tr` as GNU coreutils, on bytes: translate, `-d`, `-s`, `-c`, `-t`,
//! ranges, `[:class:]`, `[=c=]`, `[c*n]` and the backslash escapes. Standard
//! input streams through a 256-entry table.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::{Out, Parsed, Source, Usage, begin};

pub(crate) struct Tr;

const TOOL: &str = "tr";
const HELP: &str = "Usage: tr [OPTION]... SET1 [SET2]\nTranslate, squeeze, and/or delete characters from standard input,\nwriting to standard output.\n\n  -c, -C, --complement    use the complement of SET1\n  -d, --delete            delete characters in SET1, do not translate\n  -s, --squeeze-repeats   replace each sequence of a repeated character\n                            that is listed in the last specified SET,\n                            with a single occurrence of that character\n  -t, --truncate-set1     first truncate SET1 to length of SET2\n      --help        display this help and exit\n      --version     output version information and exit\n";

/// A piece of a set as written.
enum Piece {
    Bytes(Vec<u8>),
    Class(String),
    /// `[c*n]`; `None` for `[c*]`, which fills SET2 to SET1's length.
    Repeat(u8, Option<usize>),
}

fn escape(bytes: &[u8], at: &mut usize) -> u8 {
    // `bytes[*at]` is the byte after a backslash.
    let b = bytes[*at];
    *at += 1;
    match b {
        b'a' => 7,
        b'b' => 8,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 11,
        b'0'..=b'7' => {
            let mut value = u32::from(b - b'0');
            for _ in 0..2 {
                match bytes.get(*at) {
                    Some(&d @ b'0'..=b'7') if value * 8 + u32::from(d - b'0') <= 255 => {
                        value = value * 8 + u32::from(d - b'0');
                        *at += 1;
                    }
                    _ => break,
                }
            }
            value as u8
        }
        other => other,
    }
}

fn pieces(set: &str) -> Result<Vec<Piece>, String> {
    let bytes = set.as_bytes();
    let mut pieces = Vec::new();
    let mut plain = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &set[at..];
        if rest.starts_with("[:")
            && let Some(end) = rest[2..].find(":]")
        {
            pieces.push(Piece::Bytes(std::mem::take(&mut plain)));
            let name = &rest[2..2 + end];
            if class(name).is_none() {
                return Err(format!("invalid character class ‘{name}’"));
            }
            pieces.push(Piece::Class(name.to_string()));
            at += end + 4;
            continue;
        }
        if rest.starts_with("[=") && rest.len() >= 5 && rest.as_bytes()[3..5] == *b"=]" {
            plain.push(bytes[at + 2]);
            at += 5;
            continue;
        }
        if rest.starts_with('[') && rest.len() >= 4 {
            let (mut c_end, c) = (at + 1, bytes[at + 1]);
            let c = if c == b'\\' && at + 2 < bytes.len() {
                c_end += 1;
                escape(bytes, &mut c_end)
            } else {
                c_end += 1;
                c
            };
            if bytes.get(c_end) == Some(&b'*')
                && let Some(close) = set[c_end..].find(']')
            {
                let count = &set[c_end + 1..c_end + close];
                let n = if count.is_empty() {
                    None
                } else {
                    let radix = if count.starts_with('0') { 8 } else { 10 };
                    let n = usize::from_str_radix(count, radix)
                        .map_err(|_| format!("invalid repeat count ‘{count}’ in [c*n] construct"))?;
                    (n > 0).then_some(n)
                };
                pieces.push(Piece::Bytes(std::mem::take(&mut plain)));
                pieces.push(Piece::Repeat(c, n));
                at = c_end + close + 1;
                continue;
            }
        }
        let b = if bytes[at] == b'\\' && at + 1 < bytes.len() {
            at += 1;
            escape(bytes, &mut at)
        } else {
            at += 1;
            bytes[at - 1]
        };
        // A range: `b-c`, the `-` neither first nor last.
        if bytes.get(at) == Some(&b'-') && at + 1 < bytes.len() {
            let mut next = at + 1;
            let hi = if bytes[next] == b'\\' && next + 1 < bytes.len() {
                next += 1;
                escape(bytes, &mut next)
            } else {
                next += 1;
                bytes[next - 1]
            };
            if hi < b {
                let shown = String::from_utf8_lossy(&bytes[at - 1..next]).into_owned();
                return Err(format!("range-endpoints of '{shown}' are in reverse collating sequence order"));
            }
            plain.extend(b..=hi);
            at = next;
            continue;
        }
        plain.push(b);
    }
    pieces.push(Piece::Bytes(plain));
    Ok(pieces)
}

fn class(name: &str) -> Option<fn(u8) -> bool> {
    Some(match name {
        "alnum" => |b: u8| b.is_ascii_alphanumeric(),
        "alpha" => |b: u8| b.is_ascii_alphabetic(),
        "blank" => |b: u8| b == b' ' || b == b'\t',
        "cntrl" => |b: u8| b.is_ascii_control(),
        "digit" => |b: u8| b.is_ascii_digit(),
        "graph" => |b: u8| b.is_ascii_graphic(),
        "lower" => |b: u8| b.is_ascii_lowercase(),
        "print" => |b: u8| b.is_ascii_graphic() || b == b' ',
        "punct" => |b: u8| b.is_ascii_punctuation(),
        "space" => |b: u8| b.is_ascii_whitespace() || b == 11,
        "upper" => |b: u8| b.is_ascii_uppercase(),
        "xdigit" => |b: u8| b.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// A set's bytes in order; `fill` is the length `[c*]` fills to. Also
/// where each case class begins, to check SET2's against SET1's.
fn expand(pieces: &[Piece], fill: usize) -> (Vec<u8>, Vec<(usize, bool)>) {
    let fixed: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(b) => b.len(),
            Piece::Class(name) => (0..=255u8).filter(|&b| class(name).is_some_and(|f| f(b))).count(),
            Piece::Repeat(_, n) => n.unwrap_or(0).min(fill.max(256)),
        })
        .sum();
    let mut out = Vec::new();
    let mut cases = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Bytes(b) => out.extend_from_slice(b),
            Piece::Class(name) => {
                if name == "upper" || name == "lower" {
                    cases.push((out.len(), name == "upper"));
                }
                let f = class(name).unwrap_or(|_| false);
                out.extend((0..=255u8).filter(|&b| f(b)));
            }
            // Past the other set's length a repeat changes nothing: a
            // count of billions is not made.
            Piece::Repeat(c, Some(n)) => out.extend(std::iter::repeat_n(*c, (*n).min(fill.max(256)))),
            Piece::Repeat(c, None) => out.extend(std::iter::repeat_n(*c, fill.saturating_sub(fixed))),
        }
    }
    (out, cases)
}

struct Options {
    complement: bool,
    delete: bool,
    squeeze: bool,
    truncate: bool,
    sets: Vec<String>,
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options { complement: false, delete: false, squeeze: false, truncate: false, sets: Vec::new() };
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('c' | 'C') | Long("complement") => o.complement = true,
            Short('d') | Long("delete") => o.delete = true,
            Short('s') | Long("squeeze-repeats") => o.squeeze = true,
            Short('t') | Long("truncate-set1") => o.truncate = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("tr (runbox)\n")),
            Value(v) => o.sets.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    let min = if o.delete == o.squeeze { 2 } else { 1 };
    let max = if o.delete && !o.squeeze { 1 } else { 2 };
    if o.sets.is_empty() {
        return Err(Usage::new(TOOL, "missing operand"));
    }
    if o.sets.len() < min {
        let why = if o.delete {
            "Two strings must be given when both deleting and squeezing repeats."
        } else {
            "Two strings must be given when translating."
        };
        return Err(Usage::new(TOOL, format!("missing operand after ‘{}’\n{why}", o.sets[0])));
    }
    if let Some(extra) = o.sets.get(max) {
        let why = if max == 1 { "\nOnly one string may be given when deleting without squeezing repeats." } else { "" };
        return Err(Usage::new(TOOL, format!("extra operand ‘{extra}’{why}")));
    }
    Ok(Parsed::Run(o))
}

/// What a byte becomes, and which bytes are deleted or squeezed.
struct Table {
    map: [u8; 256],
    delete: [bool; 256],
    squeeze: [bool; 256],
}

fn member(set: &[u8], complement: bool) -> [bool; 256] {
    let mut inside = [complement; 256];
    for &b in set {
        inside[b as usize] = !complement;
    }
    inside
}

fn table(o: &Options) -> Result<Table, String> {
    let mut t = Table { map: std::array::from_fn(|b| b as u8), delete: [false; 256], squeeze: [false; 256] };
    let set1 = pieces(&o.sets[0])?;
    let (set1, cases1) = expand(&set1, 0);
    if o.delete {
        t.delete = member(&set1, o.complement);
        if let Some(set2) = o.sets.get(1) {
            t.squeeze = member(&expand(&pieces(set2)?, 0).0, false);
        }
        return Ok(t);
    }
    let Some(set2) = o.sets.get(1) else {
        t.squeeze = member(&set1, o.complement);
        return Ok(t);
    };
    // Translating: SET1 in order (its complement in byte order).
    let set1: Vec<u8> = if o.complement { (0..=255u8).filter(|b| !set1.contains(b)).collect() } else { set1 };
    let pieces2 = pieces(set2)?;
    if pieces2.iter().any(|p| matches!(p, Piece::Class(n) if n != "upper" && n != "lower")) {
        return Err(
            "when translating, the only character classes that may appear in\nstring2 are 'upper' and 'lower'".into()
        );
    }
    let (mut set2, cases2) = expand(&pieces2, set1.len());
    for (at, _) in &cases2 {
        if !cases1.iter().any(|(at1, _)| at1 == at) {
            return Err("misaligned [:upper:] and/or [:lower:] construct".into());
        }
    }
    let mut set1 = set1;
    if o.truncate {
        set1.truncate(set2.len());
    } else if set2.is_empty() && !set1.is_empty() {
        return Err("when not truncating set1, string2 must be non-empty".into());
    } else if let Some(&last) = set2.last() {
        set2.resize(set1.len().max(set2.len()), last);
    }
    for (&from, &to) in set1.iter().zip(&set2) {
        t.map[from as usize] = to;
    }
    if o.squeeze {
        t.squeeze = member(&set2, false);
    }
    Ok(t)
}

#[async_trait]
impl Command for Tr {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let t = match table(&o) {
            Ok(t) => t,
            Err(message) => {
                ctx.stderr.write_all(format!("{TOOL}: {message}\n").as_bytes()).await?;
                return Ok(CommandStatus::with_code(1));
            }
        };
        let mut source = Source::Stdin(ctx.stdin.clone());
        let mut out = Out::new(ctx.stdout.clone());
        let mut buf = Vec::with_capacity(super::input::CHUNK);
        let mut last: Option<u8> = None;
        loop {
            match source.read_into(&mut buf).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(super::Stop::Shell(e)) => return Err(e),
                Err(super::Stop::Read(e)) => return Err(e.into()),
            }
            let written = out.buf();
            for &b in &buf {
                if t.delete[b as usize] {
                    continue;
                }
                let b = t.map[b as usize];
                if t.squeeze[b as usize] && last == Some(b) {
                    continue;
                }
                last = Some(b);
                written.push(b);
            }
            buf.clear();
            out.ready().await?;
        }
        out.flush().await?;
        Ok(CommandStatus::success())
    }
}
