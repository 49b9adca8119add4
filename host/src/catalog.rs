//! Finding runbooks: every runbook file under a folder, parsed, for
//! `runbox list` and the server's index; one by the name `run`, the API and a
//! sub-runbook call give (opened beneath its folder, never out of it).
//!
//! Below `run/` and `api/`, which both admit runbooks through it; it reads
//! files and parses them, and runs nothing.

use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::error::{ErrorCode, Failure, Invalid};
use crate::handle::is_escape;
use crate::model::{REGISTRY, Runbook};
use crate::parse;

/// How deep below the folder `runbox list` looks for runbooks.
pub const MAX_DEPTH: usize = 8;

/// The runbooks under a folder, sorted by path.
#[derive(Debug, Default)]
pub struct Catalog {
    pub runbooks: Vec<Runbook>,
    /// Runbook files that are not valid: YAML files, and markdown files
    /// meant as runbooks ([`meant_as_runbook`]). Other markdown (a README)
    /// is left out silently.
    pub skipped: Vec<Invalid>,
}

/// Every runbook under `dir`: `.md`, `.yaml` and `.yml` files, in companion
/// folders too; hidden entries, symlinked folders and `registry.yaml` are
/// not looked at.
/// `depth` folders down: 0 for the folder alone (as the API names runbooks).
pub fn catalog(dir: &Path, depth: usize) -> std::io::Result<Catalog> {
    let mut files = Vec::new();
    runbook_files(dir, depth, &mut files)?;
    let mut catalog = Catalog::default();
    for file in files {
        match parse::load(&file) {
            Ok(runbook) => catalog.runbooks.push(runbook),
            Err(invalid) if file.extension().is_some_and(|e| e != "md") || meant_as_runbook(&file) => {
                catalog.skipped.push(invalid)
            }
            Err(_) => {}
        }
    }
    Ok(catalog)
}

/// Whether a markdown file is meant as a runbook: its first heading is
/// `# NAME` for its file name `NAME.md`, or it has a `# Script` section. A
/// README or a doc in the folder is neither.
pub fn meant_as_runbook(path: &Path) -> bool {
    use std::io::Read;
    // A runbook is at most 4 MiB; a larger file is read no further.
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(4 << 20).read_to_string(&mut text));
    if read.is_err() {
        return false;
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().find(|l| l.starts_with("# "));
    first.is_some_and(|l| l[2..].trim() == stem) || text.lines().any(|l| l.trim_end() == "# Script")
}

/// The files `runbox validate DIR` checks: the runbook files under `dir`
/// (markdown only when [`meant_as_runbook`]) and every `registry.yaml`,
/// found as [`catalog`] finds runbooks.
pub fn files_to_validate(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    walk(dir, MAX_DEPTH, true, &mut found)?;
    found.retain(|f| f.extension().is_none_or(|e| e != "md") || meant_as_runbook(f));
    Ok(found)
}

fn runbook_files(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    walk(dir, depth, false, found)
}

/// The `.md`, `.yaml` and `.yml` files under `dir`, `depth` folders down, in
/// path order; hidden entries and symlinked folders are not looked at, nor
/// `registry.yaml` unless `registries`.
fn walk(dir: &Path, depth: usize, registries: bool, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() && !path.is_symlink() && depth > 0 {
            walk(&path, depth - 1, registries, found)?;
        } else if path.is_file()
            && (registries || name != REGISTRY)
            && matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "yaml" | "yml"))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// The runbook file `given` names on the command line, as `just` and `mask`
/// find recipes: a file as it is; a name without an extension as `NAME.md`,
/// `NAME.yaml` or `NAME.yml` beside it (in `dir` for a bare name, when
/// given). A folder, an ambiguous name or a missing one is an error that
/// says what there is instead, with the nearest name.
pub fn find(given: &Path, dir: Option<&Path>) -> Result<PathBuf, String> {
    let bare = given.components().count() == 1;
    let given = match dir {
        Some(dir) if bare => dir.join(given),
        _ => given.to_path_buf(),
    };
    if given.is_file() {
        return Ok(given);
    }
    let folder = given.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let names = |folder: &Path| -> Vec<String> {
        let mut files = Vec::new();
        let _ = runbook_files(folder, 0, &mut files);
        files.iter().filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned())).collect()
    };
    let text = given.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if given.extension().is_none() {
        let found: Vec<PathBuf> =
            ["md", "yaml", "yml"].iter().map(|ext| given.with_extension(ext)).filter(|p| p.is_file()).collect();
        match found.as_slice() {
            [one] => return Ok(one.clone()),
            [] => {}
            many => {
                let names: Vec<String> = many.iter().map(|p| p.display().to_string()).collect();
                return Err(format!("`{text}` could be any of {}: give the file name", names.join(", ")));
            }
        }
    }
    // A runbook's companion folder has its name (`HelloWorld/` beside
    // `HelloWorld.md`): the runbook wins over the folder.
    if given.is_dir() {
        let inside = names(&given);
        let list = if inside.is_empty() { "it holds none".to_string() } else { inside.join(", ") };
        return Err(format!(
            "{} is a folder: run one of its runbooks by file name ({list}), or list them with runbox list {}",
            given.display(),
            given.display()
        ));
    }
    let known = names(folder);
    let stem = |n: &str| n.rsplit_once('.').map_or(n.to_string(), |(s, _)| s.to_string());
    let stems: Vec<String> = known.iter().map(|name| stem(name)).collect();
    let nearest = crate::text::nearest(&stem(&text), stems.iter().map(String::as_str))
        .and_then(|meant| known.iter().find(|name| stem(name) == meant))
        .map_or(String::new(), |name| format!("; did you mean `{}`?", folder.join(name).display()));
    Err(format!("no runbook {} (looked for it as a file, then as .md, .yaml and .yml){nearest}", given.display()))
}

/// The runbook file in `folder` nearest to the misspelt `name`.
pub fn nearest_named(folder: &Path, name: &str) -> Option<String> {
    let mut files = Vec::new();
    let _ = runbook_files(folder, 0, &mut files);
    let names: Vec<String> =
        files.iter().filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    crate::text::nearest(name, names.iter().map(String::as_str)).map(str::to_string)
}

/// The runbook named `name` in `folder`: a plain file name (no path, not
/// hidden), a regular file opened beneath the folder (a symlink out of it is
/// refused before it is read, so a host file cannot surface in a parse
/// error). `Ok(Err)` is a file that is not a valid runbook.
pub fn open_named(folder: &Path, name: &str) -> Result<Result<Runbook, Invalid>, Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::ConfigInvalid, message);
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && Path::new(name).file_name().is_some_and(|n| n == name)
        && !name.contains(['\\', '\0']);
    if !plain {
        return Err(invalid(format!("`{name}` is not the file name of a runbook")));
    }
    // Only runbook files: whatever else lies beside them (notes, keys, the
    // registry) is never parsed, so no error can quote it.
    let runbook_file = [".md", ".yaml", ".yml"].iter().any(|ext| name.ends_with(ext)) && name != REGISTRY;
    if !runbook_file {
        return Err(invalid(format!("`{name}` is not a runbook's file name (.md, .yaml, .yml)")));
    }
    let opened = Dir::open_ambient_dir(folder, ambient_authority()).and_then(|dir| match dir.metadata(name) {
        Ok(meta) if !meta.is_file() => Err(std::io::Error::other("not a regular file")),
        _ => dir.open(name).map(|f| f.into_std()),
    });
    match opened {
        Ok(file) => Ok(parse::load_file(&folder.join(name), file)),
        Err(e) if is_escape(&e) => Err(invalid(format!("`{name}` resolves outside the runbooks' folder"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Failure::new(ErrorCode::NotFound, format!("no runbook is named `{name}`")))
        }
        Err(e) => Err(invalid(format!("`{name}`: cannot read the runbook: {e}"))),
    }
}
