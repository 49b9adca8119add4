//! The `runbox` command line (SPEC §4).

mod cli;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The native tier's helper, before anything else (no logging, no state):
    // `runbox __native SPEC` confines itself and execs the interpreter.
    let mut argv = std::env::args();
    if argv.nth(1).as_deref() == Some("__native") {
        let mut spec = String::new();
        let read = std::io::Read::read_to_string(&mut std::io::stdin(), &mut spec);
        return ExitCode::from(native_helper(read.ok().map(|_| spec)));
    }
    let args = cli::Args::parse();
    cli::init_logging(args.log.as_deref());
    match cli::run(args) {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(if status == 0 { 0 } else { 1 })),
        // The reader went away (`runbox list | head`): stop quietly, with
        // the status a process killed by SIGPIPE has.
        Err(error)
            if error.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
        Err(error) => {
            eprintln!("runbox: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs as the native tier's helper, its instructions read from stdin;
/// returns only when it cannot confine the step or start its interpreter.
fn native_helper(spec: Option<String>) -> u8 {
    use runbox::native::confine::{self, CANNOT_CONFINE, CANNOT_CONFINE_PREFIX};
    let why = match spec.as_deref().map(serde_json::from_str::<confine::Spec>) {
        Some(Ok(spec)) => confine::exec(&spec),
        Some(Err(e)) => format!("the helper's instructions do not parse: {e}"),
        None => "the helper was given no instructions".to_string(),
    };
    eprintln!("{CANNOT_CONFINE_PREFIX} {why}");
    CANNOT_CONFINE as u8
}
