//! Putting an edited file's new text in its place (`sed -i`, `awk -i
//! inplace`). GNU's tools rename a new file over the old one and give it
//! the old one's permission bits; WASI creates files with the host's
//! default bits and cannot set them, so a renamed `deploy.sh` would lose
//! its executable bit. Where the old file's bits differ from the new
//! file's, the new text is written into the old file instead, which keeps
//! them; where they agree (or the file is a symlink, which GNU replaces),
//! the new file is renamed over it.

use std::path::Path;

/// The host's permission bits of `path` (absolute in the sandbox).
fn mode(path: &Path) -> Option<u32> {
    path.to_str().and_then(crate::runbox::sandbox::files::mode)
}

/// Moves `temp`'s text to `path`; on failure `temp` is left for the caller
/// to remove, and `path` keeps its text when the failure came before it was
/// opened for writing.
pub(crate) fn put_in_place(temp: &Path, path: &Path) -> std::io::Result<()> {
    if !written_into(temp, path) {
        return std::fs::rename(temp, path);
    }
    std::fs::copy(temp, path)?;
    std::fs::remove_file(temp)
}

/// Whether `put_in_place` writes into `path` rather than renaming `temp`
/// over it (then a backup must be a copy, not the old file renamed).
pub(crate) fn written_into(temp: &Path, path: &Path) -> bool {
    let symlink = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    !symlink && matches!((mode(path), mode(temp)), (Some(old), Some(new)) if old != new)
}
