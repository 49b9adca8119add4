//! A native step's processes bounded as a whole, where this user may make
//! a control group: the step's own group under runbox's, with a process
//! limit and a memory limit over its whole tree (on cgroup v1 the `pids`
//! and `memory` controllers, as root has them; on cgroup v2 a group whose
//! parent delegates both). The helper joins it before it makes the step's
//! namespaces, so everything the step starts is in it. Where none can be
//! made, the rlimits the helper sets inside the step's user namespace are
//! the bounds (see [`super::confine`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One step's control groups, removed when dropped.
#[derive(Debug, Default)]
pub struct Group {
    dirs: Vec<PathBuf>,
    /// Which limits hold over the whole tree, for the record.
    pub holds: Vec<&'static str>,
}

impl Group {
    /// Makes the step's groups with at most `processes` tasks and `memory`
    /// bytes; an empty group where this user can make none.
    pub fn make(processes: u64, memory: u64) -> Group {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("runbox-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut group = Group::default();
        let Ok(own) = std::fs::read_to_string("/proc/self/cgroup") else { return group };
        for line in own.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let path = path.trim_start_matches('/');
            match controllers {
                "pids" => group.try_make(&Path::new("/sys/fs/cgroup/pids").join(path).join(&name), |dir| {
                    std::fs::write(dir.join("pids.max"), processes.to_string()).map(|()| "processes")
                }),
                "memory" => group.try_make(&Path::new("/sys/fs/cgroup/memory").join(path).join(&name), |dir| {
                    std::fs::write(dir.join("memory.limit_in_bytes"), memory.to_string()).map(|()| "memory")
                }),
                "" => {
                    for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                        let parent = Path::new(root).join(path);
                        let delegated = std::fs::read_to_string(parent.join("cgroup.subtree_control"))
                            .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"));
                        if delegated {
                            group.try_make(&parent.join(&name), |dir| {
                                std::fs::write(dir.join("pids.max"), processes.to_string())?;
                                // Memory only where it is delegated too.
                                let _ = std::fs::write(dir.join("memory.max"), memory.to_string());
                                let _ = std::fs::write(dir.join("memory.swap.max"), "0");
                                Ok("processes")
                            });
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        if group.dirs.iter().any(|d| d.join("memory.max").exists()) {
            group.holds.push("memory");
        }
        group
    }

    fn try_make(&mut self, dir: &Path, limit: impl FnOnce(&Path) -> std::io::Result<&'static str>) {
        if std::fs::create_dir(dir).is_err() {
            return;
        }
        match limit(dir) {
            Ok(what) => {
                self.dirs.push(dir.to_path_buf());
                if !self.holds.contains(&what) {
                    self.holds.push(what);
                }
            }
            Err(_) => {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }

    /// The `cgroup.procs` files the helper writes itself into.
    pub fn procs(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }
}

impl Drop for Group {
    /// Removed once the step's processes are gone (the kernel empties a
    /// group a moment after its last process dies).
    fn drop(&mut self) {
        let until = Instant::now() + Duration::from_secs(2);
        for dir in self.dirs.drain(..) {
            while std::fs::remove_dir(&dir).is_err() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}
