//! The text tools runbooks pipe big data through, as runbox's own
//! commands: each reads its file operands itself through WASI, a chunk at
//! a time, and its standard input as the pipe delivers it, so a gigabyte
//! log passes in bounded memory. bashkit's own builtins of the same names
//! read whole files through its `FileSystem` and hold every stage's output.
//! Options, output and exit statuses are GNU coreutils', grep's and sed's.

pub(crate) mod awk;
mod bytes;
pub(crate) mod cat;
pub(crate) mod csplit;
pub(crate) mod cut;
mod each;
mod ends;
mod glob;
pub(crate) mod grep;
pub(crate) mod head;
pub(crate) mod inplace;
pub(crate) mod input;
mod options;
mod output;
pub(crate) mod pattern;
mod perl;
pub(crate) mod sed;
pub(crate) mod sort;
pub(crate) mod split;
pub(crate) mod tail;
pub(crate) mod tr;
pub(crate) mod uniq;
pub(crate) mod wc;

pub(crate) use input::{LineReader, Source, Stop, open, reason, split_lines, split_records};
pub(crate) use options::{Parsed, Usage, begin, parser, quote, text};
pub(crate) use output::Out;
