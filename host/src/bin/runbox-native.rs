//! The native tier's helper (`runbox` runs it next to itself, and falls
//! back to `runbox __native`): confines itself as the host says on stdin
//! and execs the step's interpreter.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(runbox::native::helper::run())
}
