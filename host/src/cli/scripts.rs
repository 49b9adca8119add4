//! `runbox js` and `runbox sh`: one script in the sandbox, from a file,
//! `-e`/`-c` or stdin; and `runbox prepare`, which compiles the guests.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use runbox::model::limits::Limits;
use runbox::model::net::NetPolicy;
use runbox::run::seams::approve::Unattended;
use runbox::run::single::Single;
use runbox::{Config, Language, Runner, Sandbox, Script, Seams};

use crate::progress::{ColorChoice, Progress, Style, Verbosity};

use super::args::{JsArgs, SandboxArgs, ShArgs};
use super::run::seams;

/// `runbox prepare [GUEST]...`: the optimised code of each guest, compiled
/// into the cache (or found there).
pub(super) fn prepare(guests: &[String], background: bool, config: &Config) -> anyhow::Result<i32> {
    if background {
        // Second to the runs the user is waiting for.
        let _ = rustix::process::nice(10);
    }
    let dir = config.cache.dir().map(|d| d.display().to_string());
    let sandbox = Sandbox::new(&config.cache)?;
    let all = [String::from("js"), String::from("sh")];
    for guest in if guests.is_empty() { &all[..] } else { guests } {
        let (language, what) = match guest.as_str() {
            "js" => (Language::JavaScript, "JavaScript"),
            _ => (Language::Shell, "shell"),
        };
        let started = Instant::now();
        sandbox.prepare(language)?;
        if !background {
            match &dir {
                Some(dir) => eprintln!(
                    "runbox: the {what} sandbox is compiled, in {dir} ({:.1} s)",
                    started.elapsed().as_secs_f64()
                ),
                None => eprintln!("runbox: the {what} sandbox compiles (--no-cache: nothing kept)"),
            }
        }
    }
    Ok(0)
}

pub(super) fn run_js(args: JsArgs, config: Config) -> anyhow::Result<i32> {
    let (source, filename, stdin) = match (args.eval, &args.file) {
        (Some(code), _) => (code, "<eval>".to_string(), true),
        (None, Some(file)) => (read_script(file)?, file_label(file), true),
        (None, None) => (read_stdin()?, "<stdin>".to_string(), false),
    };
    run_script(Script::new(Language::JavaScript, source, filename), stdin, args.sandbox, config)
}

pub(super) fn run_sh(args: ShArgs, config: Config) -> anyhow::Result<i32> {
    let mut rest = args.rest.into_iter();
    let (mut script, stdin) = match (args.command, args.stdin) {
        (Some(code), _) => {
            let name = rest.next().unwrap_or_else(|| "sh".into());
            (Script::new(Language::Shell, code, name), true)
        }
        (None, false) if rest.len() > 0 => {
            let file = PathBuf::from(rest.next().unwrap_or_default());
            let mut script = Script::new(Language::Shell, read_script(&file)?, shell_label(&file));
            script.from_file = true;
            (script, true)
        }
        // The script came from stdin: there is none left for it to read.
        (None, _) => (Script::new(Language::Shell, read_stdin()?, "sh"), false),
    };
    script.args = rest.collect();
    // bashkit takes stdin whole before the script starts: a terminal's would
    // hold every script until Ctrl-D, so only a pipe's or a file's is given.
    let stdin = stdin && !std::io::stdin().is_terminal();
    run_script(script, stdin, args.sandbox, config)
}

pub(super) fn read_script(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(runbox::text::without_bom(&text).to_string())
}

/// A shell script's `$0` as bash gives it, the path as typed, where the
/// sandbox sees it: relative to the working directory (mounted at /work) as
/// given; an absolute path under it as that path under /work; any other
/// file by its name alone (it is not in the sandbox).
fn shell_label(file: &Path) -> String {
    if file.is_relative() {
        return file.display().to_string();
    }
    let inside = std::env::current_dir().ok().and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_path_buf));
    match inside {
        Some(rest) => Path::new(runbox::model::WORKDIR).join(rest).display().to_string(),
        None => file_label(file),
    }
}

pub(super) fn file_label(file: &Path) -> String {
    file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned())
}

pub(super) fn read_stdin() -> anyhow::Result<String> {
    let mut code = String::new();
    std::io::stdin().read_to_string(&mut code).context("cannot read the script from stdin")?;
    Ok(code)
}

/// Runs one script with the current directory as its working directory.
pub(super) fn run_script(script: Script, stdin: bool, args: SandboxArgs, config: Config) -> anyhow::Result<i32> {
    let single = Single {
        script,
        dir: std::env::current_dir()?,
        read: args.read,
        write: args.write,
        env: args.env,
        net: NetPolicy::new(&args.allow_net).map_err(anyhow::Error::msg)?,
        limits: args.limits.overrides().apply(Limits::default()),
        stdin,
    };
    // No prompts: a single script asks for nothing beyond what its flags
    // give; and no lines of runbox's own but, on a terminal, a first run's.
    let verbosity = if std::io::stderr().is_terminal() { Verbosity::Normal } else { Verbosity::Quiet };
    let progress = Arc::new(Progress::new(!args.json, verbosity, Style::detect(ColorChoice::Auto)));
    let seams = Seams { approver: Arc::new(Unattended), ..seams(progress, Vec::new())? };
    let config = Config { deterministic: args.determinism.mode(false), ..config };
    let report = Runner::with_seams(config, seams)?.run_single(single)?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(report.exit_code)
}
