//! Reading a runbook file into a [`Runbook`]: dispatch by extension, a size
//! cap, and the markdown and YAML readers. Every problem a file has is
//! reported with its line ([`Invalid`]).
//!
//! Imports only `model/`, `error` and `text`: parsing runs nothing and reads
//! nothing but the one file.

pub mod markdown;
pub mod schema;
pub mod yaml;

use std::path::Path;

use crate::error::{Invalid, Problem};
use crate::model::{MAX_STEPS, REGISTRY, Runbook};
use crate::text::sha256;

/// Runbook files larger than this are refused before they are parsed.
pub const MAX_RUNBOOK_BYTES: u64 = 4 << 20;

/// The text of the runbook (or registry) at `path`, to show the lines its
/// problems are on: empty when it cannot be read or is too large to be one
/// (that is its problem).
pub fn text(path: &Path) -> String {
    let small = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_RUNBOOK_BYTES);
    if small { std::fs::read_to_string(path).unwrap_or_default() } else { String::new() }
}

/// Reads the runbook at `path`: markdown for `.md`, YAML for `.yaml`/`.yml`.
pub fn load(path: &Path) -> Result<Runbook, Invalid> {
    let file = std::fs::File::open(path).map_err(|e| Invalid {
        file: path.to_path_buf(),
        problems: vec![Problem::new(0, format!("cannot read the file: {e}"))],
    })?;
    load_file(path, file)
}

/// Reads the runbook open as `file`, named `path` (its extension decides
/// the format): for a caller that opened it beneath a folder it holds.
pub fn load_file(path: &Path, file: std::fs::File) -> Result<Runbook, Invalid> {
    Invalid::unless_warnings(path, load_partial_file(path, file)?)
}

/// The runbook at `path` as far as it parses (the steps that parse), and
/// every problem of its structure: what `runbox validate` checks further.
/// `Err` when nothing of it can be read.
pub fn load_partial(path: &Path) -> Result<(Runbook, Vec<Problem>), Invalid> {
    let file = std::fs::File::open(path).map_err(|e| Invalid {
        file: path.to_path_buf(),
        problems: vec![Problem::new(0, format!("cannot read the file: {e}"))],
    })?;
    load_partial_file(path, file)
}

fn load_partial_file(path: &Path, file: std::fs::File) -> Result<(Runbook, Vec<Problem>), Invalid> {
    use std::io::Read;
    let invalid = |message: String| Invalid { file: path.to_path_buf(), problems: vec![Problem::new(0, message)] };
    let meta = file.metadata().map_err(|e| invalid(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(invalid("a runbook is a regular file".to_string()));
    }
    if meta.len() > MAX_RUNBOOK_BYTES {
        return Err(invalid(format!(
            "the file is {:.1} MiB; runbooks are limited to {} MiB",
            meta.len() as f64 / f64::from(1 << 20),
            MAX_RUNBOOK_BYTES >> 20
        )));
    }
    if path.file_name().is_some_and(|n| n == REGISTRY) {
        return Err(invalid("this is the script registry that `script_id` steps read, not a runbook".to_string()));
    }
    let mut read = String::new();
    file.take(MAX_RUNBOOK_BYTES + 1)
        .read_to_string(&mut read)
        .map_err(|e| invalid(format!("cannot read the file: {e}")))?;
    let text = crate::text::without_bom(&read);
    let ((mut runbook, problems), consented) = match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => (yaml::parse_partial(path, text)?, text),
        Some("md" | "markdown") => {
            let above_history = markdown::history_heading(text).map_or(text, |at| &text[..at]);
            (markdown::parse_partial(path, text)?, above_history)
        }
        _ => return Err(invalid("a runbook is a `.md` (markdown) or `.yaml`/`.yml` file".to_string())),
    };
    runbook.consent_sha256 = sha256(consented);
    if let Some(step) = runbook.steps.get(MAX_STEPS) {
        return Err(Invalid {
            file: path.to_path_buf(),
            problems: vec![Problem::new(
                step.line,
                format!("the runbook has {} steps; a runbook holds at most {MAX_STEPS}", runbook.steps.len()),
            )],
        });
    }
    Ok((runbook, problems))
}
