//! `runbox run`: a runbook found by name, checked before anything runs
//! (inputs, variables, `--approve`), run with the terminal's seams, and
//! reported (`--json`, `--junit`, the summary).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use runbox::catalog;
use runbox::error::{ErrorCode, Invalid};
use runbox::model::Format;
use runbox::run::CHAIN_VARIABLES;
use runbox::run::records::junit::junit;
use runbox::run::seams::approve::{Approver, PreApproved, Unattended};
use runbox::text::{visible, visible_lines};
use runbox::{Cancel, Config, Inputs, Runner, Seams, parse};
use serde_json::Value;

use crate::progress::{Progress, Style, Verbosity};
use crate::snippet;
use crate::terminal::{Prompt, cancel_on_signals};

use super::args::RunArgs;
use super::serve::api_base_url;

/// The seams of a run on this terminal: prompts when both stdin and stderr
/// are a terminal, `progress` (the steps' output unless `--json`), and Ctrl-C.
pub(super) fn seams(progress: Arc<Progress>, approve: Vec<String>) -> anyhow::Result<Seams> {
    let cancel = Cancel::new();
    cancel_on_signals(&cancel).context("cannot listen for Ctrl-C")?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let approver: Arc<dyn Approver> = if interactive {
        Arc::new(PreApproved { steps: approve, then: Prompt { cancel: cancel.clone() } })
    } else {
        Arc::new(PreApproved { steps: approve, then: Unattended })
    };
    Ok(Seams { approver, events: progress, cancel, ..Seams::default() })
}

pub(super) fn run_runbook(args: RunArgs, config: Config) -> anyhow::Result<i32> {
    let config = Config {
        history: !args.no_history,
        env: args.env.iter().cloned().collect(),
        ..args.runner.config(config, api_base_url(None)?)?
    };
    let found = catalog::find(&args.runbook, args.dir.as_deref());
    let path = found.clone().unwrap_or_else(|_| args.runbook.clone());
    // No file to show lines of: the name did not lead to a runbook.
    let unfound = found.is_err();
    let parsed = found
        .map_err(|message| Invalid {
            file: args.runbook.clone(),
            problems: vec![runbox::error::Problem::new(0, message)],
        })
        .and_then(|path| parse::load(&path));
    let asked = parsed.as_ref().is_ok_and(|runbook| runbook.deterministic);
    let config = Config { deterministic: args.determinism.mode(asked), ..config };
    let verbosity = match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let progress = Arc::new(Progress::new(!args.json, verbosity, Style::detect(args.color)));
    let runner = Runner::with_seams(config, seams(Arc::clone(&progress), args.approve.clone())?)?;
    let runbook = match parsed {
        Ok(runbook) => runbook,
        Err(invalid) => {
            let report = runner.record_invalid(&invalid);
            if let Some(file) = &args.junit {
                write_junit(file, &[], &report)?;
            }
            if args.json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else if unfound {
                let message = invalid.problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ");
                eprintln!("runbox: error: {}", visible_lines(&message));
            } else {
                let text = parse::text(&path);
                let file = invalid.file.display().to_string();
                eprintln!("{}\n", snippet::problems(&file, &text, &invalid.problems, progress.style.color));
                let n = invalid.problems.len();
                eprintln!(
                    "runbox: {} is not a valid runbook ({n} problem{})",
                    visible(&file),
                    if n == 1 { "" } else { "s" }
                );
                progress.invalid(&invalid, &path);
            }
            return Ok(report.exit_code);
        }
    };
    for (name, _) in args.env.iter().filter(|(name, _)| CHAIN_VARIABLES.contains(&name.as_str())) {
        eprintln!("runbox: warning: --env {name} is ignored: runbox sets it for every step");
    }
    let declared = |name: &str| runbook.env.iter().any(|e| e.name == name) || CHAIN_VARIABLES.contains(&name);
    for (name, _) in args.env.iter().filter(|(name, _)| !declared(name)) {
        eprintln!(
            "runbox: warning: --env {} is ignored: {} does not declare it ({})",
            visible(name),
            visible(&runbook.file_name()),
            match runbook.format {
                Format::Markdown => "under # Environment Requirements",
                Format::Yaml => "under permissions.env",
            }
        );
    }
    // A markdown runbook's inputs reach its JavaScript steps only (get('K')):
    // one without any would silently drop them.
    let javascript = runbook.steps.iter().any(|s| s.language == runbox::Language::JavaScript && s.native.is_none());
    if runbook.format == Format::Markdown && !javascript && !args.inputs.is_empty() {
        let names: Vec<&str> = args.inputs.iter().map(|(k, _)| k.as_str()).collect();
        eprintln!(
            "runbox: error: --input {} cannot reach {}: a markdown runbook's inputs reach its JavaScript steps (get('NAME')), \
             and it has none; its shell steps read the variables under # Environment Requirements (give them with --env NAME=VALUE)",
            visible(&names.join(", --input ")),
            visible(&runbook.file_name())
        );
        return Ok(ErrorCode::ConfigInvalid.exit_status());
    }
    // A misspelt approval would leave the step it meant unapproved, and the
    // run refused after the steps before it ran: nothing runs.
    let steps: Vec<&str> = runbook.steps.iter().map(|s| s.name.as_str()).collect();
    let unknown: Vec<&String> = args.approve.iter().filter(|name| !steps.contains(&name.as_str())).collect();
    for name in &unknown {
        let nearest = runbox::text::nearest(name, steps.iter().copied())
            .map_or(String::new(), |step| format!("; did you mean `--approve {}`?", visible(step)));
        eprintln!(
            "runbox: error: --approve {} names no step of {} (its steps: {}){nearest}",
            visible(name),
            visible(&runbook.file_name()),
            visible(&steps.join(", "))
        );
    }
    if !unknown.is_empty() {
        return Ok(ErrorCode::ConfigInvalid.exit_status());
    }
    let inputs: Inputs = args.inputs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    progress.runbook(&runbook, &path);
    let report = runner.run(&runbook, &inputs);
    if let Some(file) = &args.junit {
        write_junit(file, &runbook.steps, &report)?;
    }
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(error) = &report.error {
        eprintln!("runbox: {} refused: {}", visible(&runbook.file_name()), visible_lines(&error.to_string()));
    }
    progress.summary(&runbook, &report);
    Ok(report.exit_code)
}

/// `--junit FILE`: the run as a JUnit report.
pub(super) fn write_junit(
    file: &Path,
    steps: &[runbox::model::Step],
    report: &runbox::RunReport,
) -> anyhow::Result<()> {
    let xml = junit(steps, report)?;
    std::fs::write(file, xml).with_context(|| format!("--junit {}: cannot write the report", file.display()))
}
