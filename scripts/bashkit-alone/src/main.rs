//! `bashkit-alone [--unlimited] SCRIPT`: runs SCRIPT in bashkit with its own
//! in-memory file system; prints its stdout and stderr, exits with its
//! status. `$TMP` is `/tmp`, as the conformance script gives runbox.
//!
//! By default bashkit keeps its own settings (what the conformance column
//! compares). `--unlimited` lifts its budgets as runbox's shell guest does
//! (`guests/sh/src/lib.rs`), so that a long loop runs natively as it runs in
//! the sandbox: `scripts/profile-shell-loop` times and profiles it.

use std::io::Write;
use std::time::Duration;

use bashkit::{ExecutionLimits, MemoryLimits, SessionLimits};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (unlimited, path) = match args.as_slice() {
        [flag, path] if flag == "--unlimited" => (true, path),
        [path] => (false, path),
        _ => {
            eprintln!("usage: bashkit-alone [--unlimited] SCRIPT");
            std::process::exit(2);
        }
    };
    let code = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2)
    });
    let mut builder = bashkit::Bash::builder().env("TMP", "/tmp");
    if unlimited {
        let n = usize::MAX / 2;
        builder = builder
            .limits(
                ExecutionLimits::new()
                    .max_commands(n)
                    .max_loop_iterations(n)
                    .max_total_loop_iterations(n)
                    .max_work_units(u64::MAX / 2)
                    .max_aggregate_input_bytes(u64::MAX / 2)
                    .timeout(Duration::from_secs(u64::MAX / 2))
                    .max_stdout_bytes(n)
                    .max_stderr_bytes(n),
            )
            .session_limits(SessionLimits::unlimited())
            .memory_limits(
                MemoryLimits::new()
                    .max_variable_count(n)
                    .max_total_variable_bytes(n)
                    .max_array_entries(n)
                    .max_function_count(n),
            );
    }
    let mut bash = builder.build();
    match bash.exec(&code).await {
        Ok(result) => {
            let _ = std::io::stdout().write_all(result.stdout.as_bytes());
            let _ = std::io::stderr().write_all(result.stderr.as_bytes());
            std::process::exit(result.exit_code);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
