//! The shell guest's `files` import: the host's permission bits of a file
//! on a mount, which WASI does not carry, so a checked-out `./tool.sh` runs.
//! The path is resolved beneath the mount's held handle: a symlink a step
//! planted that leads off the mount answers nothing. In deterministic mode
//! the bits say only what a script can act on (a directory, an executable,
//! a read-only mount), never the machine's umask: `0755` or `0644`, less
//! the write bits on a read-only mount.

use crate::sandbox::bindings::sh::runbox::sandbox::files;
use crate::sandbox::mount::mode_of;
use crate::sandbox::store::StepState;

impl files::Host for StepState {
    fn mode(&mut self, path: String) -> Option<u32> {
        let (mode, is_dir) = mode_of(&self.mounts, &path)?;
        if self.virtual_time.is_none() {
            return Some(mode);
        }
        let writable = if mode & 0o200 != 0 { 0o7777 } else { !0o222 };
        Some(if is_dir || mode & 0o100 != 0 { 0o755 & writable } else { 0o644 & writable })
    }
}
