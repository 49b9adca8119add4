//! The host side of one execution's sandbox file system: a private scratch
//! directory as the guest's working directory, another as its `/tmp` (so
//! `mktemp` works as scripts expect), copies of input files, and the
//! declared directories, all as [`Mount`]s.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use tempfile::TempDir;

use crate::handle::proc_path;
use crate::model::WORKDIR;
use crate::plan::mounts::{Declared, Kind, Target};
use crate::sandbox::Mount;

/// Where the guest finds its temporary directory.
pub const TMP: &str = "/tmp";

/// A fresh `/tmp` for the guest, unless a declared mount is there already.
fn fresh_tmp(mounts: &mut Vec<Mount>, temporary: &mut Vec<TempDir>) -> io::Result<()> {
    if mounts.iter().any(|m| Path::new(TMP).starts_with(&m.guest)) {
        return Ok(());
    }
    let tmp = private_tempdir("runbox-tmp-")?;
    mounts.push(Mount::open(tmp.path(), TMP, true)?);
    temporary.push(tmp);
    Ok(())
}

/// A fresh directory only this user can enter.
fn private_tempdir(prefix: &str) -> io::Result<TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new().prefix(prefix).permissions(std::fs::Permissions::from_mode(0o700)).tempdir()
}

/// The host side of one execution's sandbox file system: the scratch
/// working directory and copies of input files, removed on drop.
pub struct Workspace {
    _temporary: Vec<TempDir>,
    mounts: Vec<Mount>,
}

impl Workspace {
    /// Creates the scratch directory (private to this user), copies input
    /// files, creates missing outputs, and lists the preopens.
    pub fn prepare(declared: &[Declared]) -> io::Result<Workspace> {
        let scratch = private_tempdir("runbox-work-")?;
        let mut staging: Option<TempDir> = None;
        let mut mounts = vec![Mount::open(scratch.path(), WORKDIR, true)?];
        for d in declared {
            let under_workdir = d.guest.strip_prefix(WORKDIR).map(|r| r.trim_start_matches('/'));
            match (d.kind, under_workdir) {
                // A file is copied where the guest expects it: the original
                // stays untouchable, whatever the guest does to the copy.
                (Kind::InputFile, Some(rel)) => {
                    let target = scratch.path().join(rel);
                    std::fs::create_dir_all(target.parent().unwrap_or(scratch.path()))?;
                    copy_held(d, &target)?;
                }
                (Kind::InputFile, None) => {
                    let stage = match &staging {
                        Some(s) => s.path().to_path_buf(),
                        None => staging.insert(private_tempdir("runbox-inputs-")?).path().to_path_buf(),
                    };
                    let (parent, name) = d.guest.rsplit_once('/').unwrap_or(("", &d.guest));
                    let parent = if parent.is_empty() { "/" } else { parent };
                    let host_dir = stage.join(parent.trim_start_matches('/'));
                    std::fs::create_dir_all(&host_dir)?;
                    copy_held(d, &host_dir.join(name))?;
                    if !mounts.iter().any(|m| m.guest == parent) {
                        mounts.push(Mount::open(&host_dir, parent, false)?);
                    }
                }
                (kind, rel) => {
                    // An empty directory in the scratch so listings of the
                    // working directory show the mount.
                    if let Some(rel) = rel.filter(|r| !r.is_empty()) {
                        std::fs::create_dir_all(scratch.path().join(rel))?;
                    }
                    let dir = match &d.bound {
                        Target::Open(file) => Arc::clone(file),
                        Target::Create { base: Some(base), rest } => {
                            let base = Dir::from_std_file(base.try_clone()?);
                            base.create_dir_all(rest)?;
                            Arc::new(base.open_dir(rest)?.into_std_file())
                        }
                        Target::Create { base: None, rest } => {
                            std::fs::create_dir_all(rest)?;
                            Arc::new(Dir::open_ambient_dir(rest, ambient_authority())?.into_std_file())
                        }
                    };
                    mounts.push(Mount::held(d.host.clone(), d.guest.clone(), kind == Kind::Output, dir));
                }
            }
        }
        let mut temporary: Vec<TempDir> = [Some(scratch), staging].into_iter().flatten().collect();
        fresh_tmp(&mut mounts, &mut temporary)?;
        Ok(Workspace { _temporary: temporary, mounts })
    }

    /// A workspace whose working directory is an existing host directory,
    /// for `runbox js` and `runbox sh`: `dir` is read-write at [`WORKDIR`],
    /// plus `extra`, and a fresh `/tmp`.
    pub fn at(dir: &Path, extra: Vec<Mount>) -> io::Result<Workspace> {
        let mut mounts = vec![Mount::open(dir, WORKDIR, true)?];
        mounts.extend(extra);
        let mut temporary = Vec::new();
        fresh_tmp(&mut mounts, &mut temporary)?;
        Ok(Workspace { _temporary: temporary, mounts })
    }

    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }
}

/// Copies the input file held by `d` to `target`, from the file opened at
/// validation (not whatever its path names now).
fn copy_held(d: &Declared, target: &Path) -> io::Result<()> {
    let Target::Open(file) = &d.bound else { return Err(io::Error::other("an input file was not opened")) };
    // A fresh open of the same file: its own offset, from the start.
    let mut source = File::open(proc_path(file))?;
    let mut out = File::create(target)?;
    io::copy(&mut source, &mut out)?;
    Ok(())
}
