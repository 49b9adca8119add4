//! `bashkit-alone SCRIPT`: runs SCRIPT in bashkit with its own in-memory
//! file system and default settings; prints its stdout and stderr, exits
//! with its status. `$TMP` is `/tmp`, as the conformance script gives
//! runbox.

use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bashkit-alone SCRIPT");
        std::process::exit(2);
    };
    let code = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2)
    });
    let mut bash = bashkit::Bash::builder().env("TMP", "/tmp").build();
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
