//! Files held open by handle: the `/proc/self/fd` path that reopens exactly
//! what is held, where it is now, cap-std's refusal of a path that leaves its
//! directory, and lexical normalisation that refuses to climb out.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};

pub fn proc_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// Where the file held by `file` is now.
pub fn held_path(file: &File) -> Option<PathBuf> {
    std::fs::read_link(proc_path(file)).ok()
}

/// Whether `e` is cap-std refusing a path that leads out of its directory.
pub fn is_escape(e: &io::Error) -> bool {
    e.raw_os_error() == Some(18) || e.to_string().contains("outside of the filesystem")
}

/// `./a/../b/` → `b`; `/x/./y` → `x/y`; `None` if it climbs above its start.
pub fn normalize(path: &str) -> Option<String> {
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
