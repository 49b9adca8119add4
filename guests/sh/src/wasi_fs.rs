//! bashkit's file system over `std::fs`, which WASI resolves against the
//! step's preopened mounts: the shell sees real files, and nothing else.
//! WASI has no permission bits: the host gives a file's own (runbox's
//! `files` import), so a checked-out `./tool.sh` runs, and what `chmod`
//! sets is remembered for the step, so `chmod +x tool.sh && ./tool.sh` and
//! `test -x` work as in bash.
//! WASI has no devices either: `/dev/null`, `/dev/random` and
//! `/dev/urandom` are answered here (`/dev/zero` by bashkit), a read of a
//! random device giving 8 KiB, as bashkit's own file system does.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use bashkit::{DirEntry, FileType, FsBackend, Metadata, Result, async_trait};

/// The devices this file system answers itself.
const NULL: &str = "/dev/null";
const RANDOM: [&str; 2] = ["/dev/random", "/dev/urandom"];
/// Bytes one read of a random device gives.
const RANDOM_READ: usize = 8192;

fn device(path: &Path) -> bool {
    path == Path::new(NULL) || RANDOM.iter().any(|d| path == Path::new(d))
}

fn device_metadata() -> Metadata {
    Metadata {
        file_type: FileType::File,
        size: 0,
        mode: 0o666,
        modified: SystemTime::UNIX_EPOCH,
        created: SystemTime::UNIX_EPOCH,
    }
}

fn not_permitted(path: &Path) -> bashkit::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{}: Permission denied", path.display())).into()
}

#[derive(Default)]
pub(crate) struct WasiFs {
    /// Modes `chmod` set during this step, by path.
    modes: Mutex<HashMap<PathBuf, u32>>,
}

impl WasiFs {
    fn mode_of(&self, path: &Path, meta: Metadata) -> Metadata {
        match self.modes.lock().map(|m| m.get(path).copied()) {
            Ok(Some(mode)) => Metadata { mode, ..meta },
            _ => meta,
        }
    }

    /// `path` and everything beneath it lose (or, renamed, move) their modes.
    fn forget(&self, path: &Path, moved_to: Option<&Path>) {
        let Ok(mut modes) = self.modes.lock() else { return };
        let beneath: Vec<PathBuf> = modes.keys().filter(|p| p.starts_with(path)).cloned().collect();
        for old in beneath {
            let mode = modes.remove(&old);
            if let (Some(to), Some(mode), Ok(rest)) = (moved_to, mode, old.strip_prefix(path)) {
                modes.insert(to.join(rest), mode);
            }
        }
    }
}

/// `path`'s metadata, its permission bits as the host has them.
fn metadata(path: &Path, meta: &std::fs::Metadata) -> Metadata {
    let file_type = if meta.is_symlink() {
        FileType::Symlink
    } else if meta.is_dir() {
        FileType::Directory
    } else {
        FileType::File
    };
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    Metadata {
        file_type,
        size: meta.len(),
        mode: if meta.is_symlink() {
            0o777
        } else if let Some(mode) = path.to_str().and_then(crate::runbox::sandbox::files::mode) {
            mode
        } else if meta.is_dir() {
            0o755
        } else if meta.permissions().readonly() {
            0o444
        } else {
            0o644
        },
        modified,
        created: meta.created().unwrap_or(modified),
    }
}

#[async_trait]
impl FsBackend for WasiFs {
    async fn read(&self, path: &Path) -> Result<Vec<u8>> {
        if path == Path::new(NULL) {
            return Ok(Vec::new());
        }
        if device(path) {
            let mut bytes = vec![0; RANDOM_READ];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            return Ok(bytes);
        }
        Ok(std::fs::read(path)?)
    }

    async fn write(&self, path: &Path, content: &[u8]) -> Result<()> {
        if device(path) {
            return Ok(());
        }
        Ok(std::fs::write(path, content)?)
    }

    async fn append(&self, path: &Path, content: &[u8]) -> Result<()> {
        if device(path) {
            return Ok(());
        }
        let mut file = std::fs::OpenOptions::new().append(true).create(true).open(path)?;
        Ok(file.write_all(content)?)
    }

    async fn mkdir(&self, path: &Path, recursive: bool) -> Result<()> {
        if recursive {
            std::fs::create_dir_all(path)?
        } else {
            std::fs::create_dir(path)?
        }
        Ok(())
    }

    async fn remove(&self, path: &Path, recursive: bool) -> Result<()> {
        if device(path) {
            return Err(not_permitted(path));
        }
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.is_dir() {
            std::fs::remove_file(path)?
        } else if recursive {
            std::fs::remove_dir_all(path)?
        } else {
            std::fs::remove_dir(path)?
        }
        self.forget(path, None);
        Ok(())
    }

    async fn stat(&self, path: &Path) -> Result<Metadata> {
        if device(path) {
            return Ok(device_metadata());
        }
        let meta = self.mode_of(path, metadata(path, &std::fs::symlink_metadata(path)?));
        // runbox's /tmp is the guest's alone, but reads as a /tmp does.
        Ok(if path == Path::new("/tmp") { Metadata { mode: 0o1777, ..meta } } else { meta })
    }

    async fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        if path == Path::new("/dev") {
            let names = [NULL, RANDOM[0], RANDOM[1]];
            let entry = |p: &str| DirEntry { name: p["/dev/".len()..].to_string(), metadata: device_metadata() };
            return Ok(names.iter().map(|p| entry(p)).collect());
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            let full = path.join(entry.file_name());
            let metadata = self.mode_of(&full, metadata(&full, &meta));
            entries.push(DirEntry { name: entry.file_name().to_string_lossy().into_owned(), metadata });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    async fn exists(&self, path: &Path) -> Result<bool> {
        if device(path) {
            return Ok(true);
        }
        Ok(std::fs::symlink_metadata(path).is_ok())
    }

    async fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        if device(from) || device(to) {
            return Err(not_permitted(if device(from) { from } else { to }));
        }
        std::fs::rename(from, to)?;
        self.forget(to, None);
        self.forget(from, Some(to));
        Ok(())
    }

    async fn copy(&self, from: &Path, to: &Path) -> Result<()> {
        // `cp /dev/null log` empties a file.
        if device(from) {
            let bytes = self.read(from).await?;
            std::fs::write(to, bytes)?;
            self.forget(to, None);
            return Ok(());
        }
        std::fs::copy(from, to)?;
        // As cp without -p: a new copy keeps the source's permission bits.
        let mode = self.modes.lock().ok().and_then(|m| m.get(from).copied());
        self.forget(to, None);
        if let (Some(mode), Ok(mut modes)) = (mode, self.modes.lock()) {
            modes.insert(to.to_path_buf(), mode);
        }
        Ok(())
    }

    async fn symlink(&self, _target: &Path, link: &Path) -> Result<()> {
        let message = format!("{}: symbolic links cannot be created in the sandbox", link.display());
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, message).into())
    }

    async fn read_link(&self, path: &Path) -> Result<PathBuf> {
        Ok(std::fs::read_link(path)?)
    }

    async fn set_modified_time(&self, path: &Path, time: SystemTime) -> Result<()> {
        // Setting times takes a descriptor that may write, as with utimensat.
        let file = if std::fs::metadata(path)?.is_dir() {
            std::fs::File::open(path)?
        } else {
            std::fs::OpenOptions::new().write(true).open(path)?
        };
        file.set_modified(time)?;
        Ok(())
    }

    async fn chmod(&self, path: &Path, mode: u32) -> Result<()> {
        // Remembered, not enforced: the mount's access decides what a step
        // may do to a file.
        std::fs::symlink_metadata(path)?;
        if let Ok(mut modes) = self.modes.lock() {
            modes.insert(path.to_path_buf(), mode & 0o7777);
        }
        Ok(())
    }
}
