//! The directories a guest sees: each preopened from a handle held since it
//! was resolved, so renaming or replacing its path cannot redirect it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::handle::{held_path, is_escape, normalize, proc_path};
use crate::model::WORKDIR;

/// A directory preopened for the guest, held open by handle.
#[derive(Clone, Debug)]
pub struct Mount {
    /// Where it was on the host when it was opened (for messages).
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
    dir: Arc<File>,
}

impl Mount {
    /// Opens the directory `host` (following symlinks: the caller named it)
    /// to be seen at `guest`.
    pub fn open(host: &Path, guest: impl Into<String>, writable: bool) -> io::Result<Mount> {
        let dir = Dir::open_ambient_dir(host, ambient_authority())?.into_std_file();
        Ok(Mount {
            host: held_path(&dir).unwrap_or_else(|| host.to_path_buf()),
            guest: guest.into(),
            writable,
            dir: Arc::new(dir),
        })
    }

    /// A directory already held open (since validation) to be seen at `guest`.
    pub(crate) fn held(host: PathBuf, guest: String, writable: bool, dir: Arc<File>) -> Mount {
        Mount { host, guest, writable, dir }
    }

    /// A path that opens exactly the directory held, whatever has been
    /// renamed or replaced since.
    /// Where the held directory is now (after any rename), for a process
    /// that cannot be handed the handle itself (the native tier).
    pub fn current_path(&self) -> PathBuf {
        held_path(&self.dir).unwrap_or_else(|| self.host.clone())
    }

    /// The held directory itself, to hand to another process (the native
    /// tier's helper confines a step to it).
    pub(crate) fn held_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&*self.dir)
    }

    /// Makes `rel` beneath this directory a symlink to `target`, replacing
    /// a link or an empty folder there, through the held handle: a link a
    /// step planted on the way is followed only within this directory, and
    /// one that leads out of it is refused (the native tier's unconfined
    /// steps see their mounts through such links in the scratch directory).
    pub(crate) fn link_beneath(&self, rel: &str, target: &Path) -> io::Result<()> {
        let dir = self.cap_dir()?;
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let parent = if parent.is_empty() {
            dir
        } else {
            dir.create_dir_all(parent)?;
            dir.open_dir(parent)?
        };
        match parent.symlink_metadata(name) {
            Ok(meta) if meta.file_type().is_symlink() || meta.is_file() => parent.remove_file(name)?,
            Ok(meta) if meta.is_dir() => parent.remove_dir(name)?,
            _ => {}
        }
        rustix::fs::symlinkat(target, &parent, name).map_err(io::Error::from)
    }

    pub(crate) fn handle_path(&self) -> PathBuf {
        proc_path(&self.dir)
    }

    /// The held directory, for resolving paths beneath it.
    fn cap_dir(&self) -> io::Result<Dir> {
        Ok(Dir::from_std_file(self.dir.try_clone()?))
    }
}

/// The permission bits of what is at `guest` (an absolute sandbox path), and
/// whether it is a directory, on the innermost of `mounts` holding it, following symlinks only while they
/// stay on that mount, without write bits on a read-only mount; none when
/// there is nothing, or it leaves the mount.
pub(crate) fn mode_of(mounts: &[Mount], guest: &str) -> Option<(u32, bool)> {
    use cap_std::fs::PermissionsExt;
    let lexical = normalize(guest.strip_prefix('/')?)?;
    let guest = format!("/{lexical}");
    let mount = mounts
        .iter()
        .filter(|m| guest == m.guest || guest.starts_with(&format!("{}/", m.guest.trim_end_matches('/'))))
        .max_by_key(|m| m.guest.len())?;
    let rest = guest[mount.guest.len()..].trim_start_matches('/');
    let meta = mount.cap_dir().ok()?.metadata(if rest.is_empty() { "." } else { rest }).ok()?;
    // A read-only mount's files say so, as `test -w` asks.
    let write = if mount.writable { 0o7777 } else { !0o222 };
    Some((meta.permissions().mode() & 0o7777 & write, meta.is_dir()))
}

/// The absolute sandbox path of a step's `cwd` (relative to [`WORKDIR`], or
/// absolute), if it is a directory inside one of `mounts`.
pub fn guest_dir(mounts: &[Mount], cwd: &str) -> Result<String, String> {
    let absolute = cwd.starts_with('/');
    let lexical =
        normalize(cwd.trim()).ok_or_else(|| format!("cwd `{cwd}` climbs out of the sandbox's working directory"))?;
    let guest = match (absolute, lexical.is_empty()) {
        (true, _) => format!("/{lexical}"),
        (false, true) => WORKDIR.to_string(),
        (false, false) => format!("{WORKDIR}/{lexical}"),
    };
    let mount = mounts
        .iter()
        .filter(|m| guest == m.guest || guest.starts_with(&format!("{}/", m.guest.trim_end_matches('/'))))
        .max_by_key(|m| m.guest.len())
        .ok_or_else(|| format!("cwd `{cwd}` ({guest}) is not inside any directory the runbook declares"))?;
    let rest = guest[mount.guest.len()..].trim_start_matches('/');
    let dir = mount.cap_dir().map_err(|e| format!("cwd `{cwd}`: {e}"))?;
    match dir.open_dir(if rest.is_empty() { "." } else { rest }) {
        Ok(_) => Ok(guest),
        Err(e) if is_escape(&e) => Err(format!("cwd `{cwd}` leaves its mount through a symlink")),
        Err(_) => Err(format!("cwd `{cwd}` ({guest}) is not a directory in the sandbox")),
    }
}
