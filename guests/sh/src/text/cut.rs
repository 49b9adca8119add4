//! `cut` as GNU coreutils: `-f LIST` with `-d`, `-s`, `-b`/`-c LIST`,
//! `--complement`, `--output-delimiter` and `-z` (NUL-ended records), a
//! line at a time. Like GNU's (9.x), `-c` counts bytes.

use bashkit::{Command, CommandContext, CommandStatus, async_trait};

use super::each::each_record_run;
use super::options::value;
use super::{Out, Parsed, Usage, begin, split_records};

pub(crate) struct Cut;

const TOOL: &str = "cut";
const HELP: &str = "Usage: cut OPTION... [FILE]...\nPrint selected parts of lines from each FILE to standard output.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -b, --bytes=LIST        select only these bytes\n  -c, --characters=LIST   select only these characters\n  -d, --delimiter=DELIM   use DELIM instead of TAB for field delimiter\n  -f, --fields=LIST       select only these fields;  also print any line\n                            that contains no delimiter character, unless\n                            the -s option is specified\n  -n                      (ignored)\n      --complement        complement the set of selected bytes, characters\n                            or fields\n  -s, --only-delimited    do not print lines not containing delimiters\n      --output-delimiter=STRING  use STRING as the output delimiter\n                            the default is to use the input delimiter\n      --help        display this help and exit\n      --version     output version information and exit\n";

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Bytes,
    Fields,
}

struct Options {
    unit: Unit,
    /// Ranges from 1, inclusive, sorted, overlaps merged.
    ranges: Vec<(u64, u64)>,
    delimiter: u8,
    output_delimiter: Option<Vec<u8>>,
    only_delimited: bool,
    complement: bool,
    /// What ends a line: `\n`, or NUL (`-z`).
    end: u8,
    operands: Vec<String>,
}

fn list(text: &str, unit: Unit) -> Result<Vec<(u64, u64)>, Usage> {
    let from_one = match unit {
        Unit::Fields => "fields are numbered from 1",
        Unit::Bytes => "byte/character positions are numbered from 1",
    };
    let number = |part: &str| -> Result<u64, Usage> {
        match part.parse::<u64>() {
            Ok(0) => Err(Usage::new(TOOL, from_one)),
            Ok(n) => Ok(n),
            Err(_) if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) => Ok(u64::MAX),
            Err(_) => Err(Usage::new(
                TOOL,
                match unit {
                    Unit::Fields => format!("invalid field value ‘{part}’"),
                    Unit::Bytes => format!("invalid byte/character position ‘{part}’"),
                },
            )),
        }
    };
    let mut ranges = Vec::new();
    for item in text.split([',', ' ', '\t']) {
        let range = match item.split_once('-') {
            None if item.is_empty() => return Err(Usage::new(TOOL, from_one)),
            None => (number(item)?, number(item)?),
            Some(("", "")) => return Err(Usage::new(TOOL, "invalid range with no endpoint: -")),
            Some(("", hi)) => (1, number(hi)?),
            Some((lo, "")) => (number(lo)?, u64::MAX),
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(Usage::new(TOOL, "invalid decreasing range"));
                }
                (lo, hi)
            }
        };
        ranges.push(range);
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    Ok(merged)
}

fn parse(args: &[String]) -> Result<Parsed<Options>, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let mut lists: Vec<(Unit, String)> = Vec::new();
    let mut delimiter = None;
    let mut o = Options {
        unit: Unit::Fields,
        ranges: Vec::new(),
        delimiter: b'\t',
        output_delimiter: None,
        only_delimited: false,
        complement: false,
        end: b'\n',
        operands: Vec::new(),
    };
    let mut parser = super::options::parser(args);
    while let Some(arg) = parser.next().map_err(|e| Usage::option(TOOL, e))? {
        match arg {
            Short('b' | 'c') | Long("bytes" | "characters") => lists.push((Unit::Bytes, value(TOOL, &mut parser)?)),
            Short('f') | Long("fields") => lists.push((Unit::Fields, value(TOOL, &mut parser)?)),
            Short('d') | Long("delimiter") => delimiter = Some(value(TOOL, &mut parser)?),
            Short('s') | Long("only-delimited") => o.only_delimited = true,
            Short('n') => {}
            Short('z') | Long("zero-terminated") => o.end = b'\0',
            Long("complement") => o.complement = true,
            Long("output-delimiter") => o.output_delimiter = Some(value(TOOL, &mut parser)?.into_bytes()),
            Long("help") => return Ok(Parsed::Say(HELP)),
            Long("version") => return Ok(Parsed::Say("cut (runbox)\n")),
            Value(v) => o.operands.push(super::text(v)),
            other => return Err(Usage::option(TOOL, other.unexpected())),
        }
    }
    let (unit, text) = match lists.as_slice() {
        [] => return Err(Usage::new(TOOL, "you must specify a list of bytes, characters, or fields")),
        [one] => one,
        _ => return Err(Usage::new(TOOL, "only one list may be specified")),
    };
    o.unit = *unit;
    o.ranges = list(text, o.unit)?;
    if let Some(delimiter) = delimiter {
        if o.unit == Unit::Bytes {
            return Err(Usage::new(TOOL, "an input delimiter may be specified only\nwhen operating on fields"));
        }
        o.delimiter = match delimiter.as_bytes() {
            [] => 0,
            [one] => *one,
            _ => return Err(Usage::new(TOOL, "the delimiter must be a single character")),
        };
    }
    if o.only_delimited && o.unit == Unit::Bytes {
        return Err(Usage::new(TOOL, "suppressing non-delimited lines makes sense\n\tonly when operating on fields"));
    }
    if o.operands.is_empty() {
        o.operands.push("-".into());
    }
    Ok(Parsed::Run(o))
}

impl Options {
    fn selected(&self, n: u64) -> bool {
        // Ranges are few: a line's pieces are checked against each.
        self.ranges.iter().any(|&(lo, hi)| lo <= n && n <= hi) != self.complement
    }

    /// Whether piece `n` begins a new range (where GNU writes the output
    /// delimiter between bytes).
    fn starts_range(&self, n: u64) -> bool {
        if self.complement { !self.selected(n - 1) || n == 1 } else { self.ranges.iter().any(|&(lo, _)| lo == n) }
    }

    fn line(&self, line: &[u8], out: &mut Vec<u8>) {
        let body = line.strip_suffix(&[self.end]).unwrap_or(line);
        match self.unit {
            Unit::Fields => {
                if memchr::memchr(self.delimiter, body).is_none() {
                    if !self.only_delimited {
                        out.extend_from_slice(body);
                        out.push(self.end);
                    }
                    return;
                }
                let mut first = true;
                for (n, field) in body.split(|&b| b == self.delimiter).enumerate() {
                    let n = n as u64 + 1;
                    if !self.complement && self.ranges.last().is_some_and(|&(_, hi)| n > hi) {
                        break;
                    }
                    if self.selected(n) {
                        if !first {
                            match &self.output_delimiter {
                                Some(d) => out.extend_from_slice(d),
                                None => out.push(self.delimiter),
                            }
                        }
                        out.extend_from_slice(field);
                        first = false;
                    }
                }
            }
            Unit::Bytes => {
                let mut first = true;
                for (at, &b) in body.iter().enumerate() {
                    let n = at as u64 + 1;
                    if self.selected(n) {
                        if let (Some(d), false) = (&self.output_delimiter, first)
                            && self.starts_range(n)
                        {
                            out.extend_from_slice(d);
                        }
                        out.push(b);
                        first = false;
                    }
                }
            }
        }
        out.push(self.end);
    }
}

#[async_trait]
impl Command for Cut {
    async fn execute(&self, ctx: CommandContext<'_>) -> bashkit::Result<CommandStatus> {
        let o = match begin(&ctx, parse(ctx.args)).await? {
            Ok(run) => run,
            Err(status) => return Ok(status),
        };
        let mut out = Out::new(ctx.stdout.clone());
        let status = each_record_run(&ctx, TOOL, &o.operands, &mut out, o.end, |run, buf| {
            split_records(run, o.end).for_each(|line| o.line(line, buf))
        })
        .await?;
        out.flush().await?;
        Ok(CommandStatus::with_code(status))
    }
}
