//! A runbook's declared paths, checked against the host and held open.
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
//! step, when `run/` turns it into the sandbox's mounts.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::error::Problem;
use crate::handle::{held_path, is_escape, normalize};
use crate::model::{PathRequirement, Runbook, WORKDIR};
use crate::state::{self, Protected};

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
    pub(crate) bound: Target,
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
pub(crate) enum Target {
    /// An existing directory or file, open since validation.
    Open(Arc<File>),
    /// An output to create: `rest` beneath the runbook's folder (held), or
    /// the absolute path `rest` when there is no base.
    Create { base: Option<Arc<File>>, rest: String },
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
    let declared = |host: PathBuf, kind: Kind, bound: Target| Declared {
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
        Ok(declared(host, kind, Target::Open(Arc::new(file))))
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
                Ok(declared(host, Kind::Output, Target::Create { base: Some(Arc::clone(root)), rest: lexical.clone() }))
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
            Err(_) => {
                Ok(declared(state::real(&path), Kind::Output, Target::Create { base: None, rest: guest.clone() }))
            }
        }
    }
}
