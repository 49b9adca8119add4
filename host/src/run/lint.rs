//! `runbox validate` as the lint a CI job runs: every problem of a runbook
//! file at once — its structure, variables, inputs, paths, script sources
//! and templates (`plan/`), and each step's syntax, parsed by the guests'
//! own parsers in the sandbox without running any of it — and of a
//! `registry.yaml`, each as a [`Diagnostic`] with its file, line, column,
//! code and severity.

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ErrorCode, Problem};
use crate::model::{Format, Language, REGISTRY, Runbook, Source};
use crate::plan::sources::{self, Resolved};
use crate::plan::{self, Host};
use crate::sandbox::Script;
use crate::template::{self, Scope};

use super::Runner;

/// How much a diagnostic matters: errors fail `validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, where it is.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub file: String,
    /// 0: the file as a whole.
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Characters the problem spans from `column` (0: to the line's end).
    #[serde(skip)]
    pub width: usize,
    pub code: ErrorCode,
    pub severity: Severity,
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The text of `line`, for a terminal to show; never a secret's.
    #[serde(skip)]
    pub source: Option<String>,
}

/// What `validate` found in one file.
#[derive(Clone, Debug, Serialize)]
pub struct Linted {
    pub file: String,
    /// `runbook` or `registry`.
    pub kind: &'static str,
    pub diagnostics: Vec<Diagnostic>,
    /// What the runbook asks beyond the safe defaults.
    pub asks: Vec<Asked>,
}

/// One thing a runbook asks, and the flag that grants it.
#[derive(Clone, Debug, Serialize)]
pub struct Asked {
    pub what: String,
    pub flag: String,
}

impl Linted {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }
}

impl Runner {
    /// Every problem of the runbook or registry at `path`. With `lenient`
    /// (`--lint`), a value the host does not give — a declared variable, a
    /// required input — is a warning: CI checks a runbook without its
    /// secrets.
    pub fn lint(&self, path: &Path, host: &Host, lenient: bool) -> Linted {
        let shown = path.display().to_string();
        // The file's own lines, to show under its problems.
        let text = crate::parse::text(path);
        let diagnostic = |p: &Problem, code: ErrorCode| {
            let source = line_of(&text, p.line);
            let (column, width) = source.as_deref().map_or((p.column, p.width), |line| p.span_in(line));
            Diagnostic {
                file: shown.clone(),
                line: p.line,
                column: column.map(|c| c as u32),
                width,
                code,
                severity: if (lenient && p.missing) || p.warning { Severity::Warning } else { Severity::Error },
                message: p.message.clone(),
                help: p.help.clone(),
                source,
            }
        };
        if path.file_name().is_some_and(|n| n == REGISTRY) {
            let problems = sources::check_registry(path, &host.secrets);
            return Linted {
                file: shown.clone(),
                kind: "registry",
                diagnostics: problems.iter().map(|p| diagnostic(p, ErrorCode::ConfigInvalid)).collect(),
                asks: Vec::new(),
            };
        }
        let mut linted = Linted { file: shown.clone(), kind: "runbook", diagnostics: Vec::new(), asks: Vec::new() };
        // What does not parse is reported, and the rest is checked too:
        // every problem of the file at once, not one stage at a time.
        let (runbook, parsed) = match crate::parse::load_partial(path) {
            Ok(partial) => partial,
            Err(invalid) => {
                linted.diagnostics = invalid.problems.iter().map(|p| diagnostic(p, ErrorCode::ConfigInvalid)).collect();
                return linted;
            }
        };
        linted.diagnostics.extend(parsed.iter().map(|p| diagnostic(p, ErrorCode::ConfigInvalid)));
        let runbook = if host.executor.is_some() { plan::under_executor(&runbook).into_owned() } else { runbook };
        let checked = plan::check(&runbook, host);
        match &checked {
            Ok(plan) if parsed.is_empty() => {
                linted.asks = plan.asks.iter().map(|a| Asked { what: a.to_string(), flag: a.flag() }).collect()
            }
            Ok(_) => {}
            Err(problems) => {
                // A step that did not parse is missing from the runbook: a
                // template naming it is not a problem of its own.
                let about_missing_steps = |p: &&Problem| {
                    !parsed.is_empty()
                        && (p.message.contains("no step is named") || p.message.contains("does not run before"))
                };
                linted.diagnostics.extend(
                    problems
                        .iter()
                        .filter(|p| !about_missing_steps(p))
                        .map(|p| diagnostic(p, ErrorCode::ConfigInvalid)),
                );
            }
        }
        // The scripts the plan loaded, not a second read of each source.
        let loaded = checked.as_ref().ok().map(|plan| &plan.scripts);
        for (i, step) in runbook.steps.iter().enumerate() {
            // A sub-runbook is validated as a file of its own; a native
            // step (bash, zsh, PowerShell) is parsed by its interpreter only
            // when it runs: the sandbox's shell parses another language; so
            // is an image step's, by the image's (its `#!` may name any).
            if matches!(step.source, Source::Runbook { .. }) || step.native.is_some() || step.container.is_some() {
                continue;
            }
            // A source that does not load was reported above.
            let script = match loaded.and_then(|scripts| scripts.get(i)) {
                Some(script) => script.clone(),
                None => match sources::resolve(&runbook, step, &host.secrets) {
                    Ok(script) => script,
                    Err(_) => continue,
                },
            };
            let Some(source) = expanded(&runbook, step.language, &script) else { continue };
            let mut checked = Script::new(step.language, source, script.filename.clone());
            checked.first_line = script.first_line;
            checked.secret = script.is_secret();
            if let Err(failure) = self.sandbox.check(&checked) {
                let inline = matches!(step.source, Source::Inline(_));
                let file = if inline { shown.clone() } else { script.filename.clone() };
                let line = failure.line.map_or(step.line, |l| l as usize);
                // A script file's line is the file's own; a secret's is
                // never shown.
                let source = match () {
                    _ if script.is_secret() => None,
                    _ if inline => line_of(&text, line),
                    _ => line_of(&script.text, line),
                };
                // The guest counts columns in the script; an inline YAML
                // script's lines are indented, or quoted, in the file.
                let column = match (&source, failure.column) {
                    (Some(in_file), Some(column)) if inline && runbook.format == Format::Yaml => {
                        let own = (line as u32)
                            .checked_sub(script.first_line)
                            .and_then(|n| script.text.lines().nth(n as usize));
                        own.filter(|own| !own.trim().is_empty())
                            .and_then(|own| in_file.find(own))
                            .map(|at| column + in_file[..at].chars().count() as u32)
                    }
                    (_, column) => column,
                };
                linted.diagnostics.push(Diagnostic {
                    file,
                    line,
                    column,
                    width: 1,
                    help: None,
                    source,
                    code: failure.code,
                    severity: Severity::Error,
                    // bashkit's own message says `syntax error` already.
                    message: format!(
                        "step `{}`: {}",
                        step.name,
                        failure
                            .message
                            .strip_prefix("syntax error: ")
                            .filter(|m| m.starts_with("syntax error"))
                            .unwrap_or(&failure.message)
                    ),
                });
            }
        }
        linted.diagnostics.sort_by_key(|d| (d.file != shown, d.line));
        linted
    }
}

/// Line `line` (1-based) of `text`.
fn line_of(text: &str, line: usize) -> Option<String> {
    let text = crate::text::without_bom(text);
    line.checked_sub(1).and_then(|n| text.lines().nth(n)).map(str::to_string)
}

/// The script as a run would hand it to the guest: a YAML runbook's
/// templates become references to values (here placeholders: only the
/// syntax matters). `None` when a template cannot be expanded, which the
/// template check reports.
fn expanded(runbook: &Runbook, language: Language, script: &Resolved) -> Option<String> {
    if runbook.format != Format::Yaml || !script.text.contains("{{") {
        return Some(script.text.clone());
    }
    let (mut inputs, mut steps) = (Map::new(), Map::new());
    for (reference, _) in template::references(&script.text).0 {
        let root = if reference.root == "inputs" { &mut inputs } else { &mut steps };
        place(root, &reference.path);
    }
    let scope = Scope { inputs: &inputs, steps: &steps };
    match language {
        Language::Shell => template::expand_shell(&script.text, &scope).ok().map(|e| e.script),
        Language::JavaScript => template::expand_js(&script.text, &scope).ok().map(|e| e.source),
    }
}

/// A placeholder at `path` under `map`: 0 at the leaf (a number fits every
/// context, arithmetic included), objects on the way.
fn place(map: &mut Map<String, Value>, path: &[String]) {
    let Some((first, rest)) = path.split_first() else { return };
    if rest.is_empty() {
        map.entry(first.clone()).or_insert(Value::from(0));
        return;
    }
    let next = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
    if !next.is_object() {
        *next = Value::Object(Map::new());
    }
    if let Value::Object(inner) = next {
        place(inner, rest);
    }
}
