//! Files held open by handle: the `/proc/self/fd` path that reopens exactly
//! what is held, where it is now, cap-std's refusal of a path that leaves its
//! directory, lexical normalisation that refuses to climb out, and closing
//! the descriptors a process inherited.

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

/// Closes every descriptor past stderr, which only a process that opened
/// nothing yet may do. A first run's background compile (`runbox prepare
/// --background`) gets its starter's descriptors beyond stdio, such as a
/// pipe a caller passed as fd 3 to capture stderr, and would hold that pipe
/// open, and its reader waiting, until the compile ends; the native tier's
/// helper gets what runbox inherited without close-on-exec (a CI agent's, a
/// wrapper's `exec 7<file`), which would reach the step.
#[allow(unsafe_code)]
pub fn close_inherited() {
    let open: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).filter(|&fd| fd > 2).collect(),
        // No /proc: the usual range, closing what is not open fails harmlessly.
        Err(_) => (3..1024).collect(),
    };
    for fd in open {
        // SAFETY: callers call this before anything in the process opens a
        // file, so every descriptor past stderr came from the starter and
        // nothing here owns it; the one read_dir used was closed when its
        // iterator was dropped, and closing it again only fails (EBADF).
        unsafe { rustix::io::close(fd) };
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
