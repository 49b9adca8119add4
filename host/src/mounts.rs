//! Where a runbook's declared paths live on the host and in the sandbox.
//!
//! Inside the sandbox the working directory is [`WORKDIR`], a fresh scratch
//! directory per execution. A relative declared path appears under it, an
//! absolute one at the same absolute path, so scripts use the paths they
//! declare. Inputs are read-only, outputs read-write, and nothing else of the
//! host exists for the guest. Relative paths may not leave the runbook's
//! folder, by `..` or by symlink: a stranger's repository cannot point
//! `./data` at `~/.ssh`.

use std::path::{Component, Path, PathBuf};

use tempfile::TempDir;

use crate::runbook::{PathRequirement, Problem, Runbook};

/// The guest's working directory.
pub const WORKDIR: &str = "/work";

/// A declared path, checked against the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    /// The path on the host (canonical when it exists).
    pub host: PathBuf,
    /// The absolute path the guest sees it at.
    pub guest: String,
    pub kind: Kind,
    /// Declared relative to the runbook (so it lives under [`WORKDIR`]).
    pub relative: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    InputDir,
    InputFile,
    Output,
}

/// A directory preopened for the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
}

/// Checks every declared path of `runbook`; all problems are returned.
pub fn resolve(runbook: &Runbook) -> Result<Vec<Declared>, Vec<Problem>> {
    let folder = runbook.folder();
    let canonical_folder = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
    let mut declared = Vec::new();
    let mut problems = Vec::new();
    for (requirement, input) in runbook.reads.iter().map(|r| (r, true)).chain(runbook.writes.iter().map(|r| (r, false)))
    {
        match resolve_one(requirement, input, folder, &canonical_folder) {
            Ok(d) if declared.iter().any(|e: &Declared| e.guest == d.guest) => problems.push(Problem::new(
                requirement.line,
                format!("`{}` is declared twice (both appear at {} in the sandbox)", requirement.path, d.guest),
            )),
            Ok(d) => declared.push(d),
            Err(message) => problems.push(Problem::new(requirement.line, message)),
        }
    }
    if problems.is_empty() { Ok(declared) } else { Err(problems) }
}

fn resolve_one(req: &PathRequirement, input: bool, folder: &Path, canonical_folder: &Path) -> Result<Declared, String> {
    let what = if input { "input" } else { "output" };
    let raw = req.path.trim();
    let relative = !raw.starts_with('/');
    let lexical = normalize(raw).ok_or_else(|| {
        format!(
            "{what} path `{raw}` leaves the runbook's folder through `..`; declare an absolute path if that is intended"
        )
    })?;
    let guest = if relative {
        if lexical.is_empty() { WORKDIR.to_string() } else { format!("{WORKDIR}/{lexical}") }
    } else {
        format!("/{lexical}")
    };
    let host = if relative { folder.join(&lexical) } else { PathBuf::from(format!("/{lexical}")) };

    let existing = match host.canonicalize() {
        Ok(canonical) => Some(canonical),
        Err(_) if input => return Err(format!("input path `{raw}` does not exist ({})", host.display())),
        Err(_) => None,
    };
    if relative {
        // The nearest existing ancestor decides where a new output would land.
        let anchor = match &existing {
            Some(c) => c.clone(),
            None => host.ancestors().find_map(|a| a.canonicalize().ok()).unwrap_or_default(),
        };
        if !anchor.starts_with(canonical_folder) {
            return Err(format!(
                "{what} path `{raw}` resolves to {} outside the runbook's folder (through a symlink); \
                 declare an absolute path if that is intended",
                anchor.display()
            ));
        }
    }
    let kind = match (&existing, input) {
        (Some(c), true) if c.is_dir() => Kind::InputDir,
        (Some(_), true) => Kind::InputFile,
        (Some(c), false) if !c.is_dir() => {
            return Err(format!("output path `{raw}` exists and is not a directory ({})", c.display()));
        }
        _ => Kind::Output,
    };
    if guest == WORKDIR && kind != Kind::Output {
        return Err(format!("input path `{raw}` is the runbook's own folder; list the files or folders it needs"));
    }
    Ok(Declared { host: existing.unwrap_or(host), guest, kind, relative })
}

/// `./a/../b/` → `b`; `/x/./y` → `x/y`; `None` if it climbs above its start.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Some(parts.join("/"))
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
    let host = mount.host.join(rest);
    let root = mount.host.canonicalize().map_err(|e| format!("cwd `{cwd}`: {e}"))?;
    match host.canonicalize() {
        Ok(real) if real.starts_with(&root) && real.is_dir() => Ok(guest),
        Ok(real) if !real.starts_with(&root) => Err(format!("cwd `{cwd}` leaves its mount through a symlink")),
        _ => Err(format!("cwd `{cwd}` ({guest}) is not a directory in the sandbox")),
    }
}

/// The host side of one execution's sandbox file system: the scratch
/// working directory and copies of input files, removed on drop.
pub struct Workspace {
    _temporary: Vec<TempDir>,
    mounts: Vec<Mount>,
}

impl Workspace {
    /// Creates the scratch directory, copies input files, creates missing
    /// outputs, and lists the preopens.
    pub fn prepare(declared: &[Declared]) -> std::io::Result<Workspace> {
        let scratch = tempfile::Builder::new().prefix("runbox-work-").tempdir()?;
        let mut staging: Option<TempDir> = None;
        let mut mounts = vec![Mount { host: scratch.path().to_path_buf(), guest: WORKDIR.into(), writable: true }];
        for d in declared {
            let under_workdir = d.guest.strip_prefix(WORKDIR).map(|r| r.trim_start_matches('/'));
            match (d.kind, under_workdir) {
                // A file is copied where the guest expects it: the original
                // stays untouchable, whatever the guest does to the copy.
                (Kind::InputFile, Some(rel)) => {
                    let target = scratch.path().join(rel);
                    std::fs::create_dir_all(target.parent().unwrap_or(scratch.path()))?;
                    std::fs::copy(&d.host, target)?;
                }
                (Kind::InputFile, None) => {
                    let stage = match &staging {
                        Some(s) => s.path().to_path_buf(),
                        None => staging
                            .insert(tempfile::Builder::new().prefix("runbox-inputs-").tempdir()?)
                            .path()
                            .to_path_buf(),
                    };
                    let (parent, name) = d.guest.rsplit_once('/').unwrap_or(("", &d.guest));
                    let parent = if parent.is_empty() { "/" } else { parent };
                    let host_dir = stage.join(parent.trim_start_matches('/'));
                    std::fs::create_dir_all(&host_dir)?;
                    std::fs::copy(&d.host, host_dir.join(name))?;
                    if !mounts.iter().any(|m| m.guest == parent) {
                        mounts.push(Mount { host: host_dir, guest: parent.into(), writable: false });
                    }
                }
                (kind, rel) => {
                    if kind == Kind::Output {
                        std::fs::create_dir_all(&d.host)?;
                    }
                    // An empty directory in the scratch so listings of the
                    // working directory show the mount.
                    if let Some(rel) = rel.filter(|r| !r.is_empty()) {
                        std::fs::create_dir_all(scratch.path().join(rel))?;
                    }
                    mounts.push(Mount { host: d.host.clone(), guest: d.guest.clone(), writable: kind == Kind::Output });
                }
            }
        }
        Ok(Workspace { _temporary: [Some(scratch), staging].into_iter().flatten().collect(), mounts })
    }

    /// A workspace whose working directory is an existing host directory,
    /// for `runbox js`: `dir` is read-write at [`WORKDIR`], plus `extra`.
    pub fn at(dir: &Path, extra: Vec<Mount>) -> std::io::Result<Workspace> {
        let mut mounts = vec![Mount { host: dir.canonicalize()?, guest: WORKDIR.into(), writable: true }];
        mounts.extend(extra);
        Ok(Workspace { _temporary: Vec::new(), mounts })
    }

    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_normalisation_refuses_to_climb_out() {
        assert_eq!(normalize("./a/../b/"), Some("b".into()));
        assert_eq!(normalize("/x/./y"), Some("x/y".into()));
        assert_eq!(normalize("../secrets"), None);
        assert_eq!(normalize("a/../../b"), None);
    }
}
