//! Reading a runbook file into a [`Runbook`]: dispatch by extension, a size
//! cap, and the markdown and YAML readers. Every problem a file has is
//! reported with its line ([`Invalid`]).
//!
//! Imports only `model/`, `error` and `text`: parsing runs nothing and reads
//! nothing but the one file.

pub mod markdown;
pub mod yaml;

use std::path::Path;

use crate::error::{Invalid, Problem};
use crate::model::{MAX_STEPS, REGISTRY, Runbook};
use crate::text::sha256;

/// Runbook files larger than this are refused before they are parsed.
pub const MAX_RUNBOOK_BYTES: u64 = 4 << 20;

/// Reads the runbook at `path`: markdown for `.md`, YAML for `.yaml`/`.yml`.
pub fn load(path: &Path) -> Result<Runbook, Invalid> {
    let invalid = |message: String| Invalid { file: path.to_path_buf(), problems: vec![Problem::new(0, message)] };
    let size = std::fs::metadata(path).map_err(|e| invalid(format!("cannot read the file: {e}")))?.len();
    if size > MAX_RUNBOOK_BYTES {
        return Err(invalid(format!(
            "the file is {:.1} MiB; runbooks are limited to {} MiB",
            size as f64 / (1 << 20) as f64,
            MAX_RUNBOOK_BYTES >> 20
        )));
    }
    if path.file_name().is_some_and(|n| n == REGISTRY) {
        return Err(invalid("this is the script registry that `script_id` steps read, not a runbook".to_string()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("cannot read the file: {e}")))?;
    let (mut runbook, consented) = match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => (yaml::parse(path, &text)?, text.as_str()),
        Some("md" | "markdown") => {
            let above_history = markdown::history_heading(&text).map_or(text.as_str(), |at| &text[..at]);
            (markdown::parse(path, &text)?, above_history)
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
    Ok(runbook)
}
