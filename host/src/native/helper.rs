//! The helper's entry (`runbox-native`, or `runbox __native`): take what
//! the host hands over, confine, exec the interpreter.

use super::confine::{self, CANNOT_CONFINE, CANNOT_CONFINE_PREFIX};
use super::handoff;

/// Runs as the helper, its instructions handed over on stdin; returns (an
/// exit status) only when it cannot confine the step or start its
/// interpreter.
pub fn run() -> u8 {
    use std::os::fd::AsFd;
    // Only stdin (the host's socket), stdout and stderr reach the step.
    crate::handle::close_inherited();
    let why = match handoff::receive(std::io::stdin().as_fd()) {
        Ok((spec, held)) if spec.confined => match confine::run(&spec, held) {
            Ok(status) => return status,
            Err(e) => e,
        },
        Ok((spec, _)) => confine::exec(&spec),
        Err(e) => e,
    };
    eprintln!("{CANNOT_CONFINE_PREFIX} {why}");
    CANNOT_CONFINE as u8
}
