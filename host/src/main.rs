//! The `runbox` command line (SPEC §4).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    cli::init_logging(args.log.as_deref());
    match cli::run(args) {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(if status == 0 { 0 } else { 1 })),
        Err(error) => {
            eprintln!("runbox: {error:#}");
            ExitCode::from(2)
        }
    }
}
