//! Finding runbooks: every runbook file under a folder, parsed, for
//! `runbox list` and the server's index.

use std::path::{Path, PathBuf};

use crate::error::Invalid;
use crate::model::{REGISTRY, Runbook};
use crate::parse;

/// How deep below the folder runbooks are looked for.
const MAX_DEPTH: usize = 8;

/// The runbooks under a folder, sorted by path.
#[derive(Debug, Default)]
pub struct Catalog {
    pub runbooks: Vec<Runbook>,
    /// YAML files that look like runbooks but do not parse. Markdown that is
    /// not a runbook (a README) is left out silently.
    pub skipped: Vec<Invalid>,
}

/// Every runbook under `dir`: `.md`, `.yaml` and `.yml` files, in companion
/// folders too; hidden entries, symlinked folders and `registry.yaml` are
/// not looked at.
pub fn catalog(dir: &Path) -> std::io::Result<Catalog> {
    let mut files = Vec::new();
    runbook_files(dir, 0, &mut files)?;
    let mut catalog = Catalog::default();
    for file in files {
        match parse::load(&file) {
            Ok(runbook) => catalog.runbooks.push(runbook),
            Err(invalid) if file.extension().is_some_and(|e| e != "md") => catalog.skipped.push(invalid),
            Err(_) => {}
        }
    }
    Ok(catalog)
}

fn runbook_files(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() && !path.is_symlink() && depth < MAX_DEPTH {
            runbook_files(&path, depth + 1, found)?;
        } else if path.is_file()
            && name != REGISTRY
            && matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "yaml" | "yml"))
        {
            found.push(path);
        }
    }
    Ok(())
}
