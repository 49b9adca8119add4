//! Where a runbook's declared paths live on the host and in the sandbox.
//!
//! Inside the sandbox the working directory is [`WORKDIR`], a fresh scratch
//! directory per execution. A relative declared path appears under it, an
//! absolute one at the same absolute path, so scripts use the paths they
//! declare. Inputs are read-only, outputs read-write, and nothing else of the
//! host exists for the guest.
//!
//! Every path is bound to what it named when the runbook was validated: it
//! is resolved once, beneath the runbook's folder without following a
//! symlink out of it (`cap-std`), and held open by handle until the last
//! step. The guest's preopens are those handles (`/proc/self/fd/N`), so a
//! step that renames, replaces or symlinks a declared path — or another
//! process that does — cannot redirect a later step's mount.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use tempfile::TempDir;

use crate::runbook::{PathRequirement, Problem, Runbook};
use crate::state::{self, Protected};

/// The guest's working directory.
pub const WORKDIR: &str = "/work";

/// A declared path, checked against the host and held open.
#[derive(Clone, Debug)]
pub struct Declared {
    /// As the runbook wrote it.
    pub written: String,
    /// The runbook line that declares it.
    pub line: usize,
    /// The real path on the host (where it will be, for an output to create).
    pub host: PathBuf,
    /// The absolute path the guest sees it at.
    pub guest: String,
    pub kind: Kind,
    /// Declared relative to the runbook (so it lives under [`WORKDIR`]).
    pub relative: bool,
    bound: Bound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    InputDir,
    InputFile,
    Output,
}

impl Kind {
    pub fn is_input(self) -> bool {
        self != Kind::Output
    }
}

/// What a declared path is bound to.
#[derive(Clone, Debug)]
enum Bound {
    /// An existing directory or file, open since validation.
    Open(Arc<File>),
    /// An output to create: `rest` beneath the runbook's folder (held), or
    /// the absolute path `rest` when there is no base.
    Create { base: Option<Arc<File>>, rest: String },
}

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

    /// A path that opens exactly the directory held, whatever has been
    /// renamed or replaced since.
    pub(crate) fn handle_path(&self) -> PathBuf {
        proc_path(&self.dir)
    }

    /// The held directory, for resolving paths beneath it.
    fn cap_dir(&self) -> io::Result<Dir> {
        Ok(Dir::from_std_file(self.dir.try_clone()?))
    }
}

fn proc_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// Where the file held by `file` is now.
fn held_path(file: &File) -> Option<PathBuf> {
    std::fs::read_link(proc_path(file)).ok()
}

/// Whether `e` is cap-std refusing a path that leads out of its directory.
fn is_escape(e: &io::Error) -> bool {
    e.raw_os_error() == Some(18) || e.to_string().contains("outside of the filesystem")
}

/// Checks every declared path of `runbook` and holds it open; all problems
/// are returned. No declared path may reach runbox's own state
/// (`protected`), and no input may lie inside an output, where a step could
/// write it.
pub fn resolve(runbook: &Runbook, protected: &[Protected]) -> Result<Vec<Declared>, Vec<Problem>> {
    let folder = runbook.folder();
    let canonical_folder = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
    let root = match Dir::open_ambient_dir(&canonical_folder, ambient_authority()) {
        Ok(dir) => Arc::new(dir.into_std_file()),
        Err(e) => {
            return Err(vec![Problem::new(0, format!("cannot open the runbook's folder {}: {e}", folder.display()))]);
        }
    };
    let mut declared: Vec<Declared> = Vec::new();
    let mut problems = Vec::new();
    for (requirement, input) in runbook.reads.iter().map(|r| (r, true)).chain(runbook.writes.iter().map(|r| (r, false)))
    {
        let resolved = resolve_one(requirement, input, &canonical_folder, &root)
            .and_then(|d| state::refuse_state(&d.host, protected).map(|()| d));
        match resolved {
            Ok(d) if declared.iter().any(|e| e.guest == d.guest) => problems.push(Problem::new(
                requirement.line,
                format!("`{}` is declared twice (both appear at {} in the sandbox)", requirement.path, d.guest),
            )),
            Ok(d) => declared.push(d),
            Err(message) => problems.push(Problem::new(requirement.line, message)),
        }
    }
    for input in declared.iter().filter(|d| d.kind.is_input()) {
        if let Some(output) = declared.iter().find(|o| o.kind == Kind::Output && input.host.starts_with(&o.host)) {
            problems.push(Problem::new(
                input.line,
                format!(
                    "input `{}` lies inside output `{}`, where a step could write it; declare the output alone, \
                     or keep inputs out of outputs",
                    input.written, output.written
                ),
            ));
        }
    }
    if problems.is_empty() { Ok(declared) } else { Err(problems) }
}

fn resolve_one(
    req: &PathRequirement,
    input: bool,
    canonical_folder: &Path,
    root: &Arc<File>,
) -> Result<Declared, String> {
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
    if relative && input && lexical.is_empty() {
        return Err(format!("input path `{raw}` is the runbook's own folder; list the files or folders it needs"));
    }
    let outside = |_: &io::Error| {
        format!(
            "{what} path `{raw}` resolves outside the runbook's folder (through a symlink); \
             declare an absolute path if that is intended"
        )
    };
    // A FIFO would hang validation on open, a device would be copied forever.
    let not_regular = || format!("input path `{raw}` is neither a regular file nor a directory");
    let declared = |host: PathBuf, kind: Kind, bound: Bound| Declared {
        written: raw.to_string(),
        line: req.line,
        host,
        guest: guest.clone(),
        kind,
        relative,
        bound,
    };
    let opened = |file: File, kind: Kind, fallback: PathBuf| {
        let host = held_path(&file).unwrap_or(fallback);
        Ok(declared(host, kind, Bound::Open(Arc::new(file))))
    };
    if relative {
        let base = Dir::from_std_file(root.try_clone().map_err(|e| e.to_string())?);
        let target = if lexical.is_empty() { "." } else { lexical.as_str() };
        let fallback = canonical_folder.join(&lexical);
        match base.metadata(target) {
            Ok(meta) if meta.is_dir() => {
                let dir = base.open_dir(target).map_err(|e| if is_escape(&e) { outside(&e) } else { e.to_string() })?;
                opened(dir.into_std_file(), if input { Kind::InputDir } else { Kind::Output }, fallback)
            }
            Ok(meta) if input && !meta.is_file() => Err(not_regular()),
            Ok(_) if input => {
                let file = base.open(target).map_err(|e| if is_escape(&e) { outside(&e) } else { e.to_string() })?;
                opened(file.into_std(), Kind::InputFile, fallback)
            }
            Ok(_) => Err(format!("output path `{raw}` exists and is not a directory ({})", fallback.display())),
            Err(e) if is_escape(&e) => Err(outside(&e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && input => {
                Err(format!("input path `{raw}` does not exist ({})", fallback.display()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Created at the run, beneath the folder held now; where it
                // will land is decided by its nearest existing ancestor.
                let mut ancestor = Path::new(target);
                let host = loop {
                    ancestor = ancestor.parent().unwrap_or(Path::new(""));
                    let at = if ancestor.as_os_str().is_empty() { Path::new(".") } else { ancestor };
                    match base.open_dir(at) {
                        Ok(dir) => {
                            let real = held_path(&dir.into_std_file()).unwrap_or_else(|| canonical_folder.join(at));
                            break real.join(Path::new(target).strip_prefix(ancestor).unwrap_or(Path::new(target)));
                        }
                        Err(e) if is_escape(&e) => return Err(outside(&e)),
                        Err(_) if ancestor.as_os_str().is_empty() => break fallback,
                        Err(_) => continue,
                    }
                };
                Ok(declared(host, Kind::Output, Bound::Create { base: Some(Arc::clone(root)), rest: lexical.clone() }))
            }
            Err(e) => Err(format!("{what} path `{raw}` cannot be opened: {e}")),
        }
    } else {
        let path = PathBuf::from(&guest);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                let dir = Dir::open_ambient_dir(&path, ambient_authority())
                    .map_err(|e| format!("{what} path `{raw}`: {e}"))?;
                opened(dir.into_std_file(), if input { Kind::InputDir } else { Kind::Output }, path)
            }
            Ok(meta) if input && !meta.is_file() => Err(not_regular()),
            Ok(_) if input => {
                let file = File::open(&path).map_err(|e| format!("input path `{raw}`: {e}"))?;
                opened(file, Kind::InputFile, path)
            }
            Ok(_) => Err(format!("output path `{raw}` exists and is not a directory")),
            Err(_) if input => Err(format!("input path `{raw}` does not exist")),
            Err(_) => Ok(declared(state::real(&path), Kind::Output, Bound::Create { base: None, rest: guest.clone() })),
        }
    }
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
    let dir = mount.cap_dir().map_err(|e| format!("cwd `{cwd}`: {e}"))?;
    match dir.open_dir(if rest.is_empty() { "." } else { rest }) {
        Ok(_) => Ok(guest),
        Err(e) if is_escape(&e) => Err(format!("cwd `{cwd}` leaves its mount through a symlink")),
        Err(_) => Err(format!("cwd `{cwd}` ({guest}) is not a directory in the sandbox")),
    }
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
                        Bound::Open(file) => Arc::clone(file),
                        Bound::Create { base: Some(base), rest } => {
                            let base = Dir::from_std_file(base.try_clone()?);
                            base.create_dir_all(rest)?;
                            Arc::new(base.open_dir(rest)?.into_std_file())
                        }
                        Bound::Create { base: None, rest } => {
                            std::fs::create_dir_all(rest)?;
                            Arc::new(Dir::open_ambient_dir(rest, ambient_authority())?.into_std_file())
                        }
                    };
                    mounts.push(Mount {
                        host: d.host.clone(),
                        guest: d.guest.clone(),
                        writable: kind == Kind::Output,
                        dir,
                    });
                }
            }
        }
        Ok(Workspace { _temporary: [Some(scratch), staging].into_iter().flatten().collect(), mounts })
    }

    /// A workspace whose working directory is an existing host directory,
    /// for `runbox js` and `runbox sh`: `dir` is read-write at [`WORKDIR`],
    /// plus `extra`.
    pub fn at(dir: &Path, extra: Vec<Mount>) -> io::Result<Workspace> {
        let mut mounts = vec![Mount::open(dir, WORKDIR, true)?];
        mounts.extend(extra);
        Ok(Workspace { _temporary: Vec::new(), mounts })
    }

    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }
}

/// Copies the input file held by `d` to `target`, from the file opened at
/// validation (not whatever its path names now).
fn copy_held(d: &Declared, target: &Path) -> io::Result<()> {
    let Bound::Open(file) = &d.bound else { return Err(io::Error::other("an input file was not opened")) };
    // A fresh open of the same file: its own offset, from the start.
    let mut source = File::open(proc_path(file))?;
    let mut out = File::create(target)?;
    io::copy(&mut source, &mut out)?;
    Ok(())
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
