//! bashkit's file system over `std::fs`, which WASI resolves against the
//! step's preopened mounts: the shell sees real files, and nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bashkit::{DirEntry, FileType, FsBackend, Metadata, Result, async_trait};

pub(crate) struct WasiFs;

fn metadata(meta: &std::fs::Metadata) -> Metadata {
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
        mode: if meta.is_dir() {
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
        Ok(std::fs::read(path)?)
    }

    async fn write(&self, path: &Path, content: &[u8]) -> Result<()> {
        Ok(std::fs::write(path, content)?)
    }

    async fn append(&self, path: &Path, content: &[u8]) -> Result<()> {
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
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.is_dir() {
            std::fs::remove_file(path)?
        } else if recursive {
            std::fs::remove_dir_all(path)?
        } else {
            std::fs::remove_dir(path)?
        }
        Ok(())
    }

    async fn stat(&self, path: &Path) -> Result<Metadata> {
        Ok(metadata(&std::fs::symlink_metadata(path)?))
    }

    async fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            entries
                .push(DirEntry { name: entry.file_name().to_string_lossy().into_owned(), metadata: metadata(&meta) });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    async fn exists(&self, path: &Path) -> Result<bool> {
        Ok(std::fs::symlink_metadata(path).is_ok())
    }

    async fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        Ok(std::fs::rename(from, to)?)
    }

    async fn copy(&self, from: &Path, to: &Path) -> Result<()> {
        std::fs::copy(from, to)?;
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

    async fn chmod(&self, path: &Path, _mode: u32) -> Result<()> {
        // WASI has no permission bits; the mount's access decides.
        std::fs::symlink_metadata(path)?;
        Ok(())
    }
}
