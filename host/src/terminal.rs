//! The CLI's side of the runner's seams at the terminal: consent and
//! approval prompts, and Ctrl-C/SIGTERM as cancellation (how a run looks
//! while it happens is `progress.rs`). Everything a runbook chose is shown
//! with control characters escaped.

use std::sync::mpsc;
use std::time::Duration;

use runbox::Cancel;
use runbox::model::Runbook;
use runbox::plan::consent::Ask;
use runbox::run::seams::approve::{Approved, Approver, ConsentAnswer, StepApproval};
use runbox::text::{visible, visible_lines};

/// Asks the person at the terminal; Ctrl-C while it waits declines.
pub(crate) struct Prompt {
    pub(crate) cancel: Cancel,
}

impl Prompt {
    /// A line from stdin, or `None` if it closed or the run was cancelled.
    fn answer(&self) -> Option<String> {
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().read_line(&mut line);
            let _ = send.send(read.ok().filter(|n| *n > 0).map(|_| line));
        });
        loop {
            match receive.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => return line,
                Err(mpsc::RecvTimeoutError::Timeout) if !self.cancel.is_cancelled() => continue,
                Err(_) => {
                    eprintln!();
                    return None;
                }
            }
        }
    }
}

impl Approver for Prompt {
    fn consent(&self, runbook: &Runbook, asks: &[Ask]) -> ConsentAnswer {
        eprintln!("runbox: {} asks for:", visible(&runbook.file_name()));
        for ask in asks {
            eprintln!("  - {ask}");
        }
        eprint!("runbox: allow? [y]es this once, [a]lways for this version of the file, [N]o: ");
        let declined = ConsentAnswer { granted: false, always: false, how: "declined at the terminal" };
        match self.answer().map(|a| a.trim().to_ascii_lowercase()).as_deref() {
            Some("y" | "yes") => ConsentAnswer { granted: true, always: false, how: "terminal" },
            Some("a" | "always") => ConsentAnswer { granted: true, always: true, how: "terminal (always)" },
            _ => declined,
        }
    }

    fn approve(&self, request: &StepApproval<'_>) -> Approved {
        let approvers = if request.approvers.is_empty() {
            String::new()
        } else {
            format!(" (approvers: {})", visible(&request.approvers.join(", ")))
        };
        // Everything shown here is the runbook's to choose; none of it may
        // rewrite what the person deciding sees.
        let name = visible(&request.step.name);
        eprintln!("runbox: step `{name}` needs approval{approvers}");
        eprintln!(
            "runbox: source: {} {}  sha256: {}",
            request.source.kind,
            visible(&request.source.reference),
            request.source.sha256
        );
        eprintln!("----------------------------------------");
        eprint!("{}", visible_lines(request.script));
        if !request.script.ends_with('\n') {
            eprintln!();
        }
        eprintln!("----------------------------------------");
        if !request.values.is_empty() {
            eprintln!("runbox: it runs with these values:");
            for (template, value) in request.values {
                // A step's whole stdout would drown the question.
                let shown: String = value.chars().take(SHOWN_VALUE_CHARS).collect();
                let more = value.len() - shown.len();
                let more = if more > 0 { format!(" … ({more} more bytes)") } else { String::new() };
                eprintln!("  {} = {}{more}", visible(template), visible(&shown));
            }
        }
        eprint!("runbox: run step `{name}`? [y/N] ");
        let approved = matches!(self.answer().as_deref().map(str::trim), Some("y" | "Y" | "yes" | "YES" | "Yes"));
        Approved { approved, how: "terminal" }
    }
}

/// How much of a template's value the approval prompt shows.
const SHOWN_VALUE_CHARS: usize = 2000;

/// Ctrl-C or SIGTERM trips `cancel`: the running step stops, the run is
/// recorded as interrupted, and runbox exits 130 or 143. A second signal
/// exits at once.
pub(crate) fn cancel_on_signals(cancel: &Cancel) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let cancel = cancel.clone();
    std::thread::Builder::new().name("runbox-signals".into()).spawn(move || {
        for signal in signals.forever() {
            if cancel.is_cancelled() {
                std::process::exit(128 + signal);
            }
            cancel.cancel(signal);
        }
    })?;
    Ok(())
}
