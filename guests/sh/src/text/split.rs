//! `split` as GNU coreutils: pieces of `-l` lines (1000 by default), `-b`
//! bytes, `-C` bytes of whole lines, or `-n` chunks (`N`, `K/N`, `l/N`,
//! `l/K/N`, `r/N`); suffixes alphabetic (`xaa`, `xab`, …, growing past
//! `xyz` to `xzaaa` when `-a` does not fix their length), `-d`/`-x`
//! numeric or hexadecimal, `--additional-suffix`, `-e`, `--verbose`. It
//! streams: a gigabyte log is split a chunk at a time by `-l`, `-b` and
//! `-C`. `-n` needs the input's size: it holds the input in the step's
//! memory (standard input is refused but for `r/N`, as GNU's).

use std::io::Write;

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::options::{curly, quote, value};
use super::{Out, Parsed, Source, Stop, Usage, begin, open, reason};

pub(crate) struct Split;

const TOOL: &str = "split";
const HELP: &str = "Usage: split [OPTION]... [FILE [PREFIX]]\nOutput pieces of FILE to PREFIXaa, PREFIXab, ...;\ndefault size is 1000 lines, and default PREFIX is 'x'.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -a, --suffix-length=N   generate suffixes of length N (default 2)\n      --additional-suffix=SUFFIX  append an additional SUFFIX to file names\n  -b, --bytes=SIZE        put SIZE bytes per output file\n  -C, --line-bytes=SIZE   put at most SIZE bytes of records per output file\n  -d                      use numeric suffixes starting at 0, not alphabetic\n      --numeric-suffixes[=FROM]  same as -d, but allow setting the start value\n  -x                      use hex suffixes starting at 0, not alphabetic\n      --hex-suffixes[=FROM]  same as -x, but allow setting the start value\n  -e, --elide-empty-files  do not generate empty output files with '-n'\n  -l, --lines=NUMBER      put NUMBER lines/records per output file\n  -n, --number=CHUNKS     generate CHUNKS output files; see explanation below\n      --verbose           print a diagnostic just before each\n                            output file is opened\n      --help        display this help and exit\n      --version     output version information and exit\n\nCHUNKS may be:\n  N       split into N files based on size of input\n  K/N     output Kth of N to stdout\n  l/N     split into N files without splitting lines/records\n  l/K/N   output Kth of N to stdout without splitting lines/records\n  r/N     like 'l' but use round robin distribution\n";

#[derive(Clone, Copy, PartialEq)]
enum Chunks {
    Bytes { n: u64, k: Option<u64> },
    Lines { n: u64, k: Option<u64> },
    RoundRobin { n: u64, k: Option<u64> },
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Lines(u64),
    Bytes(u64),
    LineBytes(u64),
    Number(Chunks),
}

struct Options {
    mode: Mode,
    /// `Some(n)` when `-a` fixed the suffixes' length.
    length: Option<usize>,
    /// The digits of numeric (10) or hexadecimal (16) suffixes, and the first.
    numeric: Option<(u32, u64)>,
    additional: String,
    elide: bool,
    verbose: bool,
    input: String,
    prefix: String,
}

/// SIZE as GNU reads it: `K`/`M`/`G`/`T`/`P`/`E` (powers of 1024), `KB`/`MB`/…
/// (of 1000), `b` (512), `KiB` and the like.
fn size(text: &str, what: &str) -> Result<u64, Usage> {
    let bad = || Usage::new(TOOL, format!("invalid number of {what}: {}", curly(text)));
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let n: u64 = text[..digits].parse().map_err(|_| bad())?;
    let multiplier: u64 = match &text[digits..] {
        "" => 1,
        "b" => 512,
        "KB" | "kB" => 1000,
        "K" | "k" | "KiB" => 1 << 10,
        "MB" => 1000u64.pow(2),
        "M" | "MiB" => 1 << 20,
        "GB" => 1000u64.pow(3),
        "G" | "GiB" => 1 << 30,
        "TB" => 1000u64.pow(4),
        "T" | "TiB" => 1 << 40,
        "PB" => 1000u64.pow(5),
        "P" | "PiB" => 1 << 50,
        "EB" => 1000u64.pow(6),
        "E" | "EiB" => 1 << 60,
        _ => return Err(bad()),
    };
    let n = n.checked_mul(multiplier).ok_or_else(bad)?;
    if n == 0 {
        let message = format!("{TOOL}: invalid number of {what}: {}: Numerical result out of range\n", curly(text));
        return Err(Usage { message, status: 1 });
    }
    Ok(n)
}

fn chunks(text: &str) -> Result<Chunks, Usage> {
    let bad = || Usage::new(TOOL, format!("invalid number of chunks: {}", curly(text)));
    let number = |t: &str| t.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(bad);
    let parts: Vec<&str> = text.split('/').collect();
    let (k, n) = match parts.as_slice() {
        [n] | ["l", n] | ["r", n] => (None, number(n)?),
        [k, n] if *k != "l" && *k != "r" => (Some(number(k)?), number(n)?),
        ["l" | "r", k, n] => (Some(number(k)?), number(n)?),
        _ => return Err(bad()),
    };
    if k.is_some_and(|k| k > n) {
        return Err(Usage::new(TOOL, format!("invalid chunk number: {}", curly(parts[parts.len() - 2]))));
    }
    Ok(match parts[0] {
        "l" => Chunks::Lines { n, k },
        "r" => Chunks::RoundRobin { n, k },
        _ => Chunks::Bytes { n, k },
    })
}

/// `--numeric-suffixes[=FROM]`'s first number.
fn start(parser: &mut lexopt::Parser, radix: u32, what: &str) -> Result<u64, Usage> {
    match parser.optional_value() {
        Some(v) => {
            let text = super::text(v);
            u64::from_str_radix(&text, radix)
                .map_err(|_| Usage::new(TOOL, format!("invalid start value for {what} suffixes: {}", curly(&text))))
        }
        None => Ok(0),
    }
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options {
        mode: Mode::Lines(1000),
        length: None,
        numeric: None,
        additional: String::new(),
        elide: false,
        verbose: false,
        input: "-".into(),
        prefix: "x".into(),
    };
    let mut operands = Vec::new();
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('l') | Long("lines") => o.mode = Mode::Lines(size(&value(TOOL, &mut parser)?, "lines")?),
            Short('b') | Long("bytes") => o.mode = Mode::Bytes(size(&value(TOOL, &mut parser)?, "bytes")?),
            Short('C') | Long("line-bytes") => o.mode = Mode::LineBytes(size(&value(TOOL, &mut parser)?, "bytes")?),
            Short('n') | Long("number") => o.mode = Mode::Number(chunks(&value(TOOL, &mut parser)?)?),
            Short('a') | Long("suffix-length") => {
                let text = value(TOOL, &mut parser)?;
                let n = text
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0 && n <= 64)
                    .ok_or_else(|| Usage::new(TOOL, format!("invalid suffix length: {}", curly(&text))))?;
                o.length = Some(n);
            }
            Short('d') => o.numeric = Some((10, 0)),
            Short('x') => o.numeric = Some((16, 0)),
            Long("numeric-suffixes") => o.numeric = Some((10, start(&mut parser, 10, "numeric")?)),
            Long("hex-suffixes") => o.numeric = Some((16, start(&mut parser, 16, "hex")?)),
            Long("additional-suffix") => {
                let suffix = value(TOOL, &mut parser)?;
                if suffix.contains('/') {
                    return Err(Usage::new(
                        TOOL,
                        format!("invalid suffix {}, contains directory separator", curly(&suffix)),
                    ));
                }
                o.additional = suffix;
            }
            Short('e') | Long("elide-empty-files") => o.elide = true,
            Long("verbose") => o.verbose = true,
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("split (runbox)\n")),
            Value(v) => operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    if operands.len() > 2 {
        return Err(Usage::new(TOOL, format!("extra operand {}", curly(&operands[2]))));
    }
    let mut operands = operands.into_iter();
    if let Some(input) = operands.next() {
        o.input = input;
    }
    if let Some(prefix) = operands.next() {
        o.prefix = prefix;
    }
    Ok(Parsed::Run(o))
}

/// The names of the pieces, in order.
struct Names {
    prefix: String,
    additional: String,
    numeric: Option<(u32, u64)>,
    length: usize,
    /// Whether the length grows when the suffixes run out (no `-a`).
    grows: bool,
    next: u64,
}

impl Names {
    fn new(o: &Options, pieces: Option<u64>) -> Result<Names, Usage> {
        let radix = u64::from(o.numeric.map_or(26, |(radix, _)| radix));
        let first = o.numeric.map_or(0, |(_, from)| from);
        // With `-n`, the length holds the last piece's number.
        let mut length = o.length.unwrap_or(2);
        if let Some(pieces) = pieces {
            let mut needed = 1;
            let mut capacity = radix;
            while capacity < first + pieces {
                capacity = capacity.saturating_mul(radix);
                needed += 1;
            }
            match o.length {
                Some(fixed) if fixed < needed => {
                    return Err(Usage {
                        message: format!("{TOOL}: the suffix length needs to be at least {needed}\n"),
                        status: 1,
                    });
                }
                Some(_) => {}
                None => length = length.max(needed),
            }
        }
        Ok(Names {
            prefix: o.prefix.clone(),
            additional: o.additional.clone(),
            numeric: o.numeric,
            length,
            grows: o.length.is_none() && pieces.is_none(),
            next: first,
        })
    }

    /// The next name, or none when the suffixes are exhausted.
    fn next(&mut self) -> Option<String> {
        let radix = u64::from(self.numeric.map_or(26, |(radix, _)| radix));
        let alphabet: &[u8] = if self.numeric.is_some() { b"0123456789abcdef" } else { b"abcdefghijklmnopqrstuvwxyz" };
        let capacity = radix.checked_pow(self.length as u32).unwrap_or(u64::MAX);
        let mut n = self.next;
        if self.grows {
            // GNU's widening: `xyz` is followed by `xzaaa`, `xzyzz` by
            // `xzzaaaa` (and `x89` by `x9000`). Level j has j leading
            // last letters and length + j digits, the first not the last.
            let mut level = 0;
            loop {
                let digits = (self.length + level) as u32;
                let span = (radix - 1).saturating_mul(radix.saturating_pow(digits - 1));
                if n < span {
                    break;
                }
                n -= span;
                level += 1;
            }
            self.next += 1;
            let head: String = std::iter::repeat_n(alphabet[radix as usize - 1] as char, level).collect();
            let mut digits = vec![alphabet[0]; self.length + level];
            for slot in digits.iter_mut().rev() {
                *slot = alphabet[(n % radix) as usize];
                n /= radix;
            }
            return Some(format!("{}{head}{}{}", self.prefix, String::from_utf8_lossy(&digits), self.additional));
        }
        if n >= capacity {
            return None;
        }
        self.next += 1;
        let mut digits = vec![alphabet[0]; self.length];
        for slot in digits.iter_mut().rev() {
            *slot = alphabet[(n % radix) as usize];
            n /= radix;
        }
        Some(format!("{}{}{}", self.prefix, String::from_utf8_lossy(&digits), self.additional))
    }
}

/// Why a split stopped: a piece could not be made (its message), or the
/// input could not be read.
enum Fail {
    Message(String),
    Stop(Stop),
}

impl From<Stop> for Fail {
    fn from(e: Stop) -> Self {
        Fail::Stop(e)
    }
}

/// The pieces being written.
struct Pieces<'a> {
    ctx: &'a CommandContext<'a>,
    names: Names,
    verbose: bool,
    current: Option<std::io::BufWriter<std::fs::File>>,
    said: Vec<u8>,
}

impl Pieces<'_> {
    fn open(&mut self) -> Result<(), Fail> {
        self.close()?;
        let name =
            self.names.next().ok_or_else(|| Fail::Message(format!("{TOOL}: output file suffixes exhausted\n")))?;
        if self.verbose {
            self.said.extend_from_slice(format!("creating file '{name}'\n").as_bytes());
        }
        let file = std::fs::File::create(self.ctx.cwd.join(&name))
            .map_err(|e| Fail::Message(format!("{TOOL}: {}: {}\n", quote(&name), reason(&e))))?;
        self.current = Some(std::io::BufWriter::with_capacity(64 * 1024, file));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        if self.current.is_none() {
            self.open()?;
        }
        let file = self.current.as_mut().expect("opened above");
        file.write_all(bytes).map_err(|e| Fail::Message(format!("{TOOL}: write error: {}\n", reason(&e))))
    }

    fn close(&mut self) -> Result<(), Fail> {
        if let Some(mut file) = self.current.take() {
            file.flush().map_err(|e| Fail::Message(format!("{TOOL}: write error: {}\n", reason(&e))))?;
        }
        Ok(())
    }
}

/// Pieces of `-l` lines, `-b` bytes or `-C` bytes of whole lines.
async fn by_size(source: &mut Source, mode: Mode, pieces: &mut Pieces<'_>) -> Result<(), Fail> {
    let mut buf = Vec::with_capacity(super::input::CHUNK);
    // What the open piece holds so far (lines or bytes).
    let mut held: u64 = 0;
    // `-C`: the start of a line that did not fit, carried to the next piece.
    let mut line: Vec<u8> = Vec::new();
    while source.read_into(&mut buf).await? > 0 {
        let mut rest = &buf[..];
        match mode {
            Mode::Lines(limit) => {
                while !rest.is_empty() {
                    if held == limit || pieces.current.is_none() {
                        pieces.open()?;
                        held = 0;
                    }
                    let want = limit - held;
                    let (end, got) = match super::bytes::nth(rest, b'\n', want) {
                        Ok(at) => (at + 1, want),
                        Err(seen) => (rest.len(), seen),
                    };
                    pieces.write(&rest[..end])?;
                    held += got;
                    rest = &rest[end..];
                }
            }
            Mode::Bytes(limit) => {
                while !rest.is_empty() {
                    if held == limit || pieces.current.is_none() {
                        pieces.open()?;
                        held = 0;
                    }
                    let end = rest.len().min(usize::try_from(limit - held).unwrap_or(usize::MAX));
                    pieces.write(&rest[..end])?;
                    held += end as u64;
                    rest = &rest[end..];
                }
            }
            Mode::LineBytes(limit) => {
                for piece in rest.split_inclusive(|&b| b == b'\n') {
                    line.extend_from_slice(piece);
                    if piece.last() != Some(&b'\n') {
                        continue;
                    }
                    put_line(&mut line, limit, &mut held, pieces)?;
                }
            }
            Mode::Number(_) => unreachable!("-n is split by size_known"),
        }
        buf.clear();
    }
    if let Mode::LineBytes(limit) = mode
        && !line.is_empty()
    {
        put_line(&mut line, limit, &mut held, pieces)?;
    }
    Ok(())
}

/// `-C`: a whole line goes where it fits; a line longer than a piece is
/// cut into pieces of its own.
fn put_line(line: &mut Vec<u8>, limit: u64, held: &mut u64, pieces: &mut Pieces<'_>) -> Result<(), Fail> {
    let mut rest = &line[..];
    while !rest.is_empty() {
        let room = limit - *held;
        if pieces.current.is_none() || (rest.len() as u64 > room && *held > 0) {
            pieces.open()?;
            *held = 0;
            continue;
        }
        let end = rest.len().min(usize::try_from(limit - *held).unwrap_or(usize::MAX));
        pieces.write(&rest[..end])?;
        *held += end as u64;
        rest = &rest[end..];
        if *held == limit && !rest.is_empty() {
            pieces.open()?;
            *held = 0;
        }
    }
    line.clear();
    Ok(())
}

fn n_of(chunks: Chunks) -> u64 {
    match chunks {
        Chunks::Bytes { n, .. } | Chunks::Lines { n, .. } | Chunks::RoundRobin { n, .. } => n,
    }
}

/// `-n`: the whole input's pieces, from its size.
async fn by_number(
    data: &[u8],
    chunks: Chunks,
    elide: bool,
    pieces: &mut Pieces<'_>,
    out: &mut Out,
) -> Result<(), Fail> {
    let total = data.len() as u64;
    // GNU's chunks: `total / n` bytes each, the last one taking the rest.
    let bound = |i: u64| if i >= n_of(chunks) { total } else { i * (total / n_of(chunks)) } as usize;
    match chunks {
        Chunks::Bytes { n, k } => {
            for i in 0..n {
                let (start, end) = (bound(i), bound(i + 1));
                match k {
                    Some(k) if k == i + 1 => out.put(&data[start..end]),
                    Some(_) => {}
                    None if elide && start == end => {}
                    None => {
                        pieces.open()?;
                        pieces.write(&data[start..end])?;
                    }
                }
            }
        }
        Chunks::Lines { n, k } => {
            // A chunk ends with the line holding its last byte, as GNU's `l/N`.
            let mut at = 0usize;
            for i in 0..n {
                let end = bound(i + 1);
                let stop = if end <= at {
                    at
                } else {
                    memchr::memchr(b'\n', &data[end - 1..]).map_or(data.len(), |nl| end + nl)
                };
                match k {
                    Some(k) if k == i + 1 => out.put(&data[at..stop]),
                    Some(_) => {}
                    None if elide && at == stop => {}
                    None => {
                        pieces.open()?;
                        pieces.write(&data[at..stop])?;
                    }
                }
                at = stop;
            }
        }
        Chunks::RoundRobin { n, k: Some(k) } => {
            // `r/K/N`: every Nth line from the Kth, to standard output.
            for line in data
                .split_inclusive(|&b| b == b'\n')
                .skip(usize::try_from(k - 1).unwrap_or(usize::MAX))
                .step_by(usize::try_from(n).unwrap_or(usize::MAX))
            {
                out.put(line);
            }
        }
        Chunks::RoundRobin { n, k: None } => {
            // Every piece stays open: their buffers share 16 MiB, so
            // `r/100000` costs memory as GNU's does, not 64 KiB a piece.
            let capacity = usize::try_from((16u64 << 20) / n).unwrap_or(0).min(64 * 1024);
            let mut files = Vec::new();
            for _ in 0..n {
                pieces.open()?;
                let file = pieces
                    .current
                    .take()
                    .expect("opened above")
                    .into_inner()
                    .map_err(|e| Fail::Message(format!("{TOOL}: write error: {}\n", reason(e.error()))))?;
                files.push(std::io::BufWriter::with_capacity(capacity, file));
            }
            for (i, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
                files[i % n as usize]
                    .write_all(line)
                    .map_err(|e| Fail::Message(format!("{TOOL}: write error: {}\n", reason(&e))))?;
            }
            for mut file in files {
                file.flush().map_err(|e| Fail::Message(format!("{TOOL}: write error: {}\n", reason(&e))))?;
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Command for Split {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(o) => o,
            Err(status) => return Ok(status),
        };
        if matches!(o.mode, Mode::Number(Chunks::Bytes { .. } | Chunks::Lines { .. })) && o.input == "-" {
            ctx.stderr.write_all(format!("{TOOL}: -: cannot determine file size\n").as_bytes()).await?;
            return Ok(CommandStatus::with_code(1));
        }
        let mut source = match open(ctx.cwd, &o.input, &ctx.stdin) {
            Ok(source) => source,
            Err(e) => {
                let message = format!("{TOOL}: cannot open '{}' for reading: {}\n", o.input, reason(&e));
                ctx.stderr.write_all(message.as_bytes()).await?;
                return Ok(CommandStatus::with_code(1));
            }
        };
        let count = match o.mode {
            Mode::Number(
                Chunks::Bytes { n, k: None } | Chunks::Lines { n, k: None } | Chunks::RoundRobin { n, k: None },
            ) => Some(n),
            _ => None,
        };
        let names = match Names::new(&o, count) {
            Ok(names) => names,
            Err(usage) => {
                ctx.stderr.write_all(usage.message.as_bytes()).await?;
                return Ok(CommandStatus::with_code(usage.status));
            }
        };
        let mut pieces = Pieces { ctx: &ctx, names, verbose: o.verbose, current: None, said: Vec::new() };
        let mut out = Out::new(ctx.stdout.clone());
        let result = match o.mode {
            Mode::Number(chunks) => {
                let mut data = Vec::new();
                let mut read = Ok(());
                loop {
                    match source.read_into(&mut data).await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => {
                            read = Err(Fail::Stop(e));
                            break;
                        }
                    }
                }
                match read {
                    Ok(()) => by_number(&data, chunks, o.elide, &mut pieces, &mut out).await,
                    Err(e) => Err(e),
                }
            }
            mode => by_size(&mut source, mode, &mut pieces).await,
        };
        let closed = pieces.close();
        out.put(&std::mem::take(&mut pieces.said));
        out.flush().await?;
        match result.and(closed) {
            Ok(()) => Ok(CommandStatus::with_code(0)),
            Err(Fail::Message(message)) => {
                ctx.stderr.write_all(message.as_bytes()).await?;
                Ok(CommandStatus::with_code(1))
            }
            Err(Fail::Stop(Stop::Read(e))) => {
                let message = format!("{TOOL}: read error: {}\n", reason(&e));
                ctx.stderr.write_all(message.as_bytes()).await?;
                Ok(CommandStatus::with_code(1))
            }
            Err(Fail::Stop(Stop::Shell(e))) => Err(e),
        }
    }
}
