//! The `runbox` command line (SPEC §4).

mod cli;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The native tier's helper, before anything else (no logging, no state):
    // `runbox __native` confines itself and execs the interpreter.
    if std::env::args().nth(1).as_deref() == Some("__native") {
        return ExitCode::from(runbox::native::helper::run());
    }
    // A background compile, started by a first run, before anything opens a
    // file: it keeps none of the descriptors its starter inherited.
    if std::env::args().skip(1).take(2).eq(["prepare", "--background"]) {
        runbox::handle::close_inherited();
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
