//! The subcommands about runbook files that run nothing: `validate`,
//! `allow` and `revoke`, `list`, `history`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use runbox::catalog::{self, catalog};
use runbox::error::Invalid;
use runbox::model::Format;
use runbox::plan::{self, Host, consent};
use runbox::run::lint;
use runbox::run::records::past;
use runbox::run::records::past::executions;
use runbox::store::{Store, StoreError};
use runbox::text::{visible, visible_lines};
use runbox::{Config, Runner, parse};

use crate::progress::{ColorChoice, Style};
use crate::snippet;

pub(super) fn validate(paths: &[PathBuf], host: &Host, lint: bool, json: bool, config: Config) -> anyhow::Result<i32> {
    let runner = Runner::new(config)?;
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = catalog::files_to_validate(path)
                .with_context(|| format!("cannot read the folder {}", path.display()))?;
            if found.is_empty() {
                eprintln!("runbox: no runbooks under {}", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let linted: Vec<lint::Linted> = files.iter().map(|file| runner.lint(file, host, lint)).collect();
    let failed = linted.iter().filter(|l| l.errors() > 0).count();
    if json {
        let problems: Vec<&lint::Diagnostic> = linted.iter().flat_map(|l| &l.diagnostics).collect();
        let report = serde_json::json!({ "valid": failed == 0, "files": linted, "problems": problems });
        say!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(if failed == 0 { 0 } else { 1 });
    }
    let color = Style::detect(ColorChoice::Auto).color;
    let shown = |d: &lint::Diagnostic| {
        let shown = snippet::ShownProblem {
            file: &d.file,
            line: d.line,
            column: d.column.map(|c| c as usize),
            width: d.width,
            warning: d.severity == lint::Severity::Warning,
            message: &d.message,
            help: d.help.as_deref(),
            source: d.source.as_deref(),
        };
        snippet::render(&shown, color)
    };
    for file in &linted {
        let errors = file.errors();
        let warnings = file.diagnostics.len() - errors;
        if errors == 0 {
            let warned = match warnings {
                0 => String::new(),
                1 => " (1 warning)".to_string(),
                n => format!(" ({n} warnings)"),
            };
            say!("ok: {}{warned}", visible(&file.file));
            for d in &file.diagnostics {
                say!("{}\n", shown(d));
            }
            if !file.asks.is_empty() {
                say!("  it asks for what needs your grant:");
                for ask in &file.asks {
                    say!("  - {}: {}", ask.what, visible(&ask.flag));
                }
            }
        } else {
            let what = if file.kind == "registry" { "registry" } else { "runbook" };
            for d in &file.diagnostics {
                eprintln!("{}\n", shown(d));
            }
            let n = file.diagnostics.len();
            eprintln!("{} is not a valid {what} ({n} problem{})", visible(&file.file), if n == 1 { "" } else { "s" });
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Records consent to what each runbook asks, at its current sha256.
pub(super) fn allow(paths: &[PathBuf], config: &Config) -> anyhow::Result<i32> {
    for path in paths {
        let runbook = parse::load(path).map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
        let mut host =
            plan::Host { protected: config.protected(), secrets: config.secrets.clone(), ..Default::default() };
        // Recording consent to read them is reading them, to bind what they hold.
        host.secrets.cluster = consent::object_grants(&plan::asks_before_reading(&runbook, &host));
        let (asks, bound) = plan::consent_asks(&runbook, &host)
            .map_err(|problems| anyhow::anyhow!("{}", Invalid { file: path.clone(), problems }))?;
        let file = config
            .consent
            .record(&runbook, &asks, &bound.files)
            .with_context(|| format!("cannot record consent for {}", path.display()))?;
        if asks.is_empty() {
            say!("allowed: {} (it asks for nothing beyond the safe defaults)", path.display());
        } else {
            say!("allowed: {} at sha256 {}:", path.display(), runbook.consent_sha256);
            for ask in &asks {
                say!("  - {ask}");
            }
            if bound.files.len() > 1 {
                let files: Vec<&str> = bound.files.keys().map(String::as_str).collect();
                say!("  for these files as they are now: {}", files.join(", "));
            }
        }
        tracing::debug!("consent recorded in {}", file.display());
    }
    Ok(0)
}

pub(super) fn revoke(paths: &[PathBuf], config: &Config) -> anyhow::Result<i32> {
    for path in paths {
        match config.consent.revoke(path).with_context(|| format!("cannot revoke consent for {}", path.display()))? {
            true => say!("revoked: {}", path.display()),
            false => say!("{}: no consent was recorded", path.display()),
        }
    }
    Ok(0)
}

/// One runbook in `runbox list --json`.
#[derive(serde::Serialize)]
pub(super) struct FoundRunbook<'a> {
    /// Its name: a YAML runbook's `id`, else the file name without extension.
    name: &'a str,
    /// The path `runbox run` takes, from the listed folder.
    file: String,
    description: &'a str,
    steps: Vec<FoundStep<'a>>,
    /// Why the file is not a valid runbook (its first problem).
    #[serde(skip_serializing_if = "Option::is_none")]
    broken: Option<String>,
}

#[derive(serde::Serialize)]
pub(super) struct FoundStep<'a> {
    name: &'a str,
    language: &'static str,
}

pub(super) fn list(dir: &Path, json: bool) -> anyhow::Result<i32> {
    let found = catalog(dir, catalog::MAX_DEPTH).with_context(|| format!("cannot list {}", dir.display()))?;
    let relative = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let mut listed: Vec<FoundRunbook<'_>> = found
        .runbooks
        .iter()
        .map(|rb| FoundRunbook {
            name: &rb.name,
            file: relative(&rb.path),
            description: &rb.description,
            steps: rb.steps.iter().map(|s| FoundStep { name: &s.name, language: s.kind() }).collect(),
            broken: None,
        })
        .collect();
    listed.extend(found.skipped.iter().map(|invalid| FoundRunbook {
        name: "",
        file: relative(&invalid.file),
        description: "",
        steps: Vec::new(),
        broken: Some(invalid.problems.first().map_or_else(String::new, |p| p.located(&relative(&invalid.file)))),
    }));
    listed.sort_by(|a, b| a.file.cmp(&b.file));
    if json {
        say!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(0);
    }
    let width = terminal_width().unwrap_or(100).clamp(40, 160);
    for rb in &listed {
        if let Some(why) = &rb.broken {
            say!("{}  (broken)\n    {}\n    runbox validate {} shows every problem", rb.file, visible(why), rb.file);
            continue;
        }
        let stem = Path::new(&rb.file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let id = if rb.name != stem { format!("  (id {})", visible(rb.name)) } else { String::new() };
        say!("{}{id}", visible(&rb.file));
        for line in wrap(&visible_lines(rb.description), width - 4) {
            say!("{}", format!("    {line}").trim_end());
        }
        let steps: Vec<String> = rb.steps.iter().map(|s| format!("{} ({})", s.name, s.language)).collect();
        say!("    steps: {}", visible(&steps.join(", ")));
    }
    if listed.is_empty() {
        eprintln!("runbox: no runbooks under {}", dir.display());
    }
    Ok(0)
}

/// The columns of the terminal stdout is, if it is one.
pub(super) fn terminal_width() -> Option<usize> {
    let out = std::io::stdout();
    if !out.is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(&out).ok().map(|size| usize::from(size.ws_col)).filter(|w| *w > 0)
}

/// `text` in lines of at most `width` characters, broken at spaces; its own
/// line breaks, blank lines and indented lines kept.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.trim().lines() {
        // An indented line is code (a command to copy): kept as written.
        if paragraph.starts_with([' ', '\t']) {
            lines.push(paragraph.trim_end().to_string());
            continue;
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A markdown runbook's `# History`; a YAML runbook's newest `limit`
/// records in the record store at `store` (opened by `open`, only for YAML).
pub(super) fn history(
    path: &Path,
    json: bool,
    limit: u32,
    store: Option<&Path>,
    open: impl FnOnce(&Path) -> Result<Store, StoreError>,
) -> anyhow::Result<i32> {
    let runbook = parse::load(path).map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
    let store = match runbook.format {
        Format::Markdown => None,
        Format::Yaml => Some(open(store.context(super::NO_STORE)?)?),
    };
    let entries: Vec<past::Execution> = executions(&runbook, store.as_ref(), limit as usize)
        .with_context(|| format!("cannot read the history of {}", path.display()))?;
    if json {
        say!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(0);
    }
    if entries.is_empty() {
        say!("{}: no executions recorded", path.display());
    }
    for entry in &entries {
        let code = entry.exit_code.map_or_else(|| "?".to_string(), |c| c.to_string());
        say!("{} | exit code {code}", visible(&entry.at));
        for (key, text) in [("error", &entry.error), ("stdout", &entry.stdout), ("stderr", &entry.stderr)] {
            if let Some(text) = text.as_deref().filter(|t| !t.is_empty()) {
                say!("  {key}:");
                for line in text.lines() {
                    say!("    {}", visible(line));
                }
            }
        }
    }
    Ok(0)
}
