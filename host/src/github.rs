//! GitHub Actions, as a run shows itself there: the run as a table on the
//! job's summary page, workflow commands whose values cannot end the
//! command, and the runbook's path as annotations name files.

use std::io::Write;

use runbox::RunReport;
use runbox::model::Runbook;
use runbox::text::{duration, visible};

/// GitHub Actions: the run as a table on the job's summary page, appended
/// to the file `GITHUB_STEP_SUMMARY` names. Everything the runbook chose is
/// escaped so that it stays text in a table cell.
pub(crate) fn step_summary(runbook: &Runbook, report: &RunReport) {
    let Some(file) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|f| !f.is_empty()) else { return };
    let name = cell(&runbook.file_name());
    let verdict = match &report.error {
        Some(error) => format!("refused by runbox ({}, exit {})", error.code, report.exit_code),
        None if report.succeeded() => "passed".to_string(),
        None => format!("failed (exit {})", report.exit_code),
    };
    let mut text = format!("### runbox: {name} {verdict}\n\n");
    if let Some(error) = &report.error {
        text.push_str(&format!("{}\n\n", cell(&error.to_string())));
    } else {
        text.push_str("| | step | kind | line | result | duration |\n|---|---|---|---|---|---|\n");
        for step in &report.steps {
            let (mark, result) = match &step.error {
                Some(e) if step.exit_code != 0 => ("✗", format!("{} (exit {})", e, step.exit_code)),
                _ if step.exit_code != 0 => ("✗", format!("exit {}", step.exit_code)),
                _ => ("✓", "passed".to_string()),
            };
            text.push_str(&format!(
                "| {mark} | {} | {} | {name}:{} | {} | {} |\n",
                cell(&step.name),
                step.language,
                step.line,
                cell(&result),
                duration(step.duration_ms)
            ));
        }
        for step in &runbook.steps[report.steps.len().min(runbook.steps.len())..] {
            text.push_str(&format!(
                "| – | {} | {} | {name}:{} | not run | |\n",
                cell(&step.name),
                step.kind(),
                step.line
            ));
        }
        text.push('\n');
    }
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = appended {
        eprintln!("runbox: cannot append to GITHUB_STEP_SUMMARY: {e}");
    }
}

/// Text as one markdown table cell: no line breaks, pipes, HTML or
/// markdown of its own; at most 300 characters.
fn cell(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in visible(text).chars().enumerate() {
        if i == 300 {
            out.push('…');
            break;
        }
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '`' | '*' | '_' | '[' | ']' | '\\' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The runbook's path as GitHub's annotations name files: relative to the
/// checkout (`GITHUB_WORKSPACE`) when it lies in it, else as given.
pub(crate) fn annotated_path(path: &std::path::Path) -> String {
    let workspace = std::env::var_os("GITHUB_WORKSPACE").and_then(|w| std::fs::canonicalize(w).ok());
    let inside = workspace
        .zip(std::fs::canonicalize(path).ok())
        .and_then(|(workspace, real)| real.strip_prefix(&workspace).ok().map(|rel| rel.display().to_string()));
    inside.unwrap_or_else(|| path.display().to_string())
}

/// A workflow command's message: `%`, CR and LF escaped, as GitHub's
/// toolkit escapes them.
pub(crate) fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
pub(crate) fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_values_cannot_end_the_command() {
        assert_eq!(data("50%\r\n::error::x"), "50%25%0D%0A::error::x");
        assert_eq!(property("a,b:c\n"), "a%2Cb%3Ac%0A");
    }
}
