//! The file system a confined native step sees, built by the helper in the
//! step's own user and mount namespaces (as bubblewrap builds Flatpak's):
//! a fresh tmpfs root holding the system's programs and libraries
//! read-only, a few files of `/etc`, a minimal `/dev` (null, zero, full,
//! random, urandom: no terminal), an empty `/proc` for the step's own PID
//! namespace, the step's mounts where the sandbox puts them (`/work`,
//! `/tmp`, declared paths), an empty private `HOME` and the script,
//! read-only, under `/run/runbox`. Nothing else of the host exists for the
//! step: not the host's `/run` (D-Bus, docker.sock, an ssh-agent, a tmux
//! server), not the user's home, not another user's file.
//!
//! Every place is made by handle, walking from the new root one component
//! at a time without following a symlink, so a link a step planted in its
//! working directory leads nowhere. A held mount is bound from the path
//! where its directory is now and then checked to be that directory
//! (device and inode) before the step may see it.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{CWD, FileType, Mode, OFlags, StatVfsMountFlags, fstat, mkdirat, openat, symlinkat};
use rustix::io::Errno;
use rustix::mount::{
    MountFlags, MountPropagationFlags, MoveMountFlags, OpenTreeFlags, UnmountFlags, mount, mount_change, mount_remount,
    move_mount, open_tree, unmount,
};
use serde::{Deserialize, Serialize};

/// Where the host's root is while the new one is built; the step never
/// sees it (the helper's child detaches it before the interpreter runs).
pub const OLD_ROOT: &str = "/oldroot";
/// Where the script is, read-only.
pub const SCRIPTS: &str = "/run/runbox";

/// One of the step's mounts, in the order its held directory was handed
/// over.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bind {
    /// Where the step sees it (the sandbox's path for it).
    pub guest: String,
    pub writable: bool,
}

/// The system's programs and libraries, at the top of the root: bound
/// read-only where they are directories, copied where they are links
/// (`/bin -> usr/bin` on a merged-/usr system).
const SYSTEM: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Beneath `/opt`, what the interpreters runbox runs are installed in.
const OPT: &[&str] = &["/opt/microsoft/powershell"];
/// What of `/etc` programs read to start, resolve names and check
/// certificates: not shadow files, keys or credentials.
const ETC: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/protocols",
    "/etc/services",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/os-release",
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/etc/ca-certificates",
    "/etc/crypto-policies",
    "/etc/alternatives",
    "/etc/bash.bashrc",
    "/etc/profile",
    "/etc/profile.d",
    "/etc/inputrc",
    "/etc/terminfo",
    "/etc/zsh",
    "/etc/zshenv",
    "/etc/mime.types",
    "/etc/ca-certificates.conf",
    "/etc/perl",
    "/etc/python3",
    "/etc/gitconfig",
    "/etc/ssh/ssh_config",
    "/etc/ssh/ssh_config.d",
    "/etc/postgresql-common",
];
/// Where a grant may not be mounted for a native step.
const RESERVED: &[&str] = &["/dev", "/proc", SCRIPTS];
/// The devices a script uses, bound from the host's.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];
/// How often a held mount is bound again when its directory was moved
/// between finding its path and binding it.
const ATTEMPTS: usize = 20;

/// Where the step's own things are on the host: its private directory
/// holds `run/` (the script), `home/` and `shm/`.
pub struct Private<'a> {
    pub dir: &'a Path,
    /// `HOME` as the step sees it.
    pub home: &'a Path,
}

/// Builds the new root and makes it the helper's (the host's stays at
/// [`OLD_ROOT`] until [`finish`]). Must run in fresh user and mount
/// namespaces.
pub fn build(binds: &[Bind], held: &[OwnedFd], private: &Private<'_>, program: &Path) -> Result<(), String> {
    // Nothing of what follows reaches the host's mounts.
    mount_change("/", MountPropagationFlags::PRIVATE | MountPropagationFlags::REC)
        .map_err(at("cannot make the step's mounts private"))?;
    mount("tmpfs", "/tmp", "tmpfs", MountFlags::NOSUID | MountFlags::NODEV, c"mode=0755,size=1m")
        .map_err(at("cannot make the step's root"))?;
    mkdirat(CWD, "/tmp/oldroot", Mode::from_raw_mode(0o700)).map_err(at("cannot make the step's root"))?;
    // The tmpfs leaves /tmp as it becomes the root: the host's /tmp is at
    // /oldroot/tmp again.
    rustix::process::pivot_root("/tmp", "/tmp/oldroot").map_err(at("cannot enter the step's root"))?;
    rustix::process::chdir("/").map_err(at("cannot enter the step's root"))?;
    let root = openat(CWD, "/", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(at("cannot open the step's root"))?;
    let old = |path: &Path| Path::new(OLD_ROOT).join(path.strip_prefix("/").unwrap_or(path));

    for name in SYSTEM {
        let host = Path::new("/").join(name);
        match std::fs::symlink_metadata(old(&host)) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(old(&host)).map_err(|e| format!("{}: {e}", host.display()))?;
                symlinkat(target.as_os_str(), &root, *name).map_err(at(format!("cannot link {}", host.display())))?;
            }
            Ok(meta) if meta.is_dir() => bind(&root, &old(&host), &host, FileKind::Dir, false)?,
            _ => {}
        }
    }
    for path in OPT.iter().chain(ETC) {
        let host = Path::new(path);
        match std::fs::metadata(old(host)) {
            Ok(meta) if meta.is_dir() => bind(&root, &old(host), host, FileKind::Dir, false)?,
            Ok(meta) if meta.is_file() => bind(&root, &old(host), host, FileKind::File, false)?,
            _ => {}
        }
    }

    let dev = place(&root, Path::new("/dev"), FileKind::Dir)?;
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        bind(&root, &old(&host), &host, FileKind::File, true)?;
    }
    for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1")] {
        symlinkat(target, &dev, name).map_err(at("cannot make /dev"))?;
    }
    symlinkat("/proc/self/fd/2", &dev, "stderr").map_err(at("cannot make /dev"))?;
    bind(&root, &old(&private.dir.join("shm")), Path::new("/dev/shm"), FileKind::Dir, true)?;
    place(&root, Path::new("/proc"), FileKind::Dir)?;
    bind(&root, &old(&private.dir.join("run")), Path::new(SCRIPTS), FileKind::Dir, false)?;
    bind(&root, &old(&private.dir.join("home")), private.home, FileKind::Dir, true)?;

    // Outer mounts first, so that one inside another is seen above it.
    let mut order: Vec<usize> = (0..binds.len()).collect();
    order.sort_by_key(|&i| binds[i].guest.split('/').filter(|c| !c.is_empty()).count());
    for i in order {
        // Over the step's own /dev or /proc a grant would bring the host's
        // (its terminals among them) back; over / it would hide the rest.
        let guest = Path::new(&binds[i].guest);
        if guest == Path::new("/") || RESERVED.iter().any(|r| guest.starts_with(r)) {
            return Err(format!(
                "{} cannot be mounted for a native step: the step has a {} of its own",
                binds[i].guest,
                RESERVED.iter().find(|r| guest.starts_with(r)).unwrap_or(&"/")
            ));
        }
        bind_held(&root, &binds[i], &held[i])?;
    }

    // An interpreter installed outside the system's folders (a user's own
    // build of zsh, a pwsh unpacked elsewhere) is bound where it was found.
    if rustix::fs::stat(program).is_err() {
        bind(&root, &old(program), program, FileKind::File, false)?;
    }
    Ok(())
}

/// In the step's first process (its PID 1), before the interpreter runs:
/// `/proc` of its own PID namespace (mounted while the host's is still
/// visible, as the kernel requires of a user namespace), the host's root
/// detached, the new root made read-only. Returns whether `/proc` could
/// be mounted (some container runtimes mask parts of theirs, and the
/// kernel then refuses a new one).
pub fn finish() -> std::io::Result<bool> {
    let proc =
        mount("proc", "/proc", "proc", MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC, None).is_ok();
    unmount(OLD_ROOT, UnmountFlags::DETACH)?;
    rustix::fs::rmdir(OLD_ROOT)?;
    mount_remount("/", MountFlags::BIND | MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV, c"")?;
    Ok(proc)
}

/// A system call's error, said with what was being done.
fn at(what: impl std::fmt::Display) -> impl FnOnce(Errno) -> String {
    move |e| format!("{what}: {e}")
}

#[derive(Clone, Copy, PartialEq)]
enum FileKind {
    Dir,
    File,
}

/// Binds `source` (a path beneath [`OLD_ROOT`]) at `target` in the new
/// root, read-only unless `writable`.
fn bind(root: &OwnedFd, source: &Path, target: &Path, kind: FileKind, writable: bool) -> Result<(), String> {
    let place_at = place(root, target, kind)?;
    attach(&place_at, source, target, writable)
}

fn attach(place_at: &OwnedFd, source: &Path, target: &Path, writable: bool) -> Result<(), String> {
    let fail = |e: Errno| format!("cannot show {} at {}: {e}", source.display(), target.display());
    let tree = open_tree(
        CWD,
        source,
        OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_RECURSIVE,
    )
    .map_err(fail)?;
    move_mount(
        &tree,
        c"",
        place_at,
        c"",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .map_err(fail)?;
    if !writable {
        read_only(target).map_err(fail)?;
    }
    Ok(())
}

/// Remounts the bind at `target` (reached by a walk that followed no link,
/// in a namespace where only the helper acts) read-only, keeping the flags
/// the kernel locks on a mount that came from the host.
fn read_only(target: &Path) -> rustix::io::Result<()> {
    let flags = rustix::fs::statvfs(target)?.f_flag;
    let mut keep = MountFlags::BIND | MountFlags::RDONLY;
    for (has, flag) in [
        (StatVfsMountFlags::NOSUID, MountFlags::NOSUID),
        (StatVfsMountFlags::NODEV, MountFlags::NODEV),
        (StatVfsMountFlags::NOEXEC, MountFlags::NOEXEC),
        (StatVfsMountFlags::NOATIME, MountFlags::NOATIME),
        (StatVfsMountFlags::NODIRATIME, MountFlags::NODIRATIME),
        (StatVfsMountFlags::RELATIME, MountFlags::RELATIME),
    ] {
        if flags.contains(has) {
            keep |= flag;
        }
    }
    if !flags.intersects(StatVfsMountFlags::NOATIME | StatVfsMountFlags::RELATIME) {
        keep |= MountFlags::STRICTATIME;
    }
    mount_remount(target, keep, c"")
}

/// A held mount at its guest path: bound from where its directory is now
/// on the host, and kept only if what was bound is that directory.
fn bind_held(root: &OwnedFd, bind: &Bind, held: &OwnedFd) -> Result<(), String> {
    let target = Path::new(&bind.guest);
    let want = fstat(held).map_err(|e| format!("{}: {e}", bind.guest))?;
    let place_at = place(root, target, FileKind::Dir)?;
    for _ in 0..ATTEMPTS {
        // Where the directory is now, as the host's /proc says.
        let fd_link = format!("{OLD_ROOT}/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(held));
        let now = std::fs::read_link(&fd_link).map_err(|e| format!("cannot find {}: {e}", bind.guest))?;
        let source = Path::new(OLD_ROOT).join(now.strip_prefix("/").unwrap_or(&now));
        if attach(&place_at, &source, target, bind.writable).is_err() {
            continue;
        }
        let seen = place(root, target, FileKind::Dir).and_then(|fd| fstat(&fd).map_err(|e| e.to_string()));
        if seen.is_ok_and(|seen| (seen.st_dev, seen.st_ino) == (want.st_dev, want.st_ino)) {
            return Ok(());
        }
        // Another directory was at that path by then: not this one.
        unmount(target, UnmountFlags::DETACH).map_err(|e| format!("cannot undo {}: {e}", bind.guest))?;
    }
    Err(format!("the directory mounted at {} kept moving while the step started", bind.guest))
}

/// Opens `target` (absolute) in the new root, making the folders it lacks,
/// one component at a time and following no symlink: a link where a folder
/// should be is an error, never a way elsewhere.
fn place(root: &OwnedFd, target: &Path, kind: FileKind) -> Result<OwnedFd, String> {
    let names: Vec<&OsStr> = target
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(Ok(name)),
            Component::RootDir | Component::CurDir => None,
            _ => Some(Err(())),
        })
        .collect::<Result<_, _>>()
        .map_err(|()| format!("{} is not a plain absolute path", target.display()))?;
    let refuse = |e: Errno| match e {
        Errno::NOTDIR | Errno::LOOP => {
            format!("{} is not a directory in the step's root (a link or a file is in its place)", target.display())
        }
        e => format!("cannot make {} in the step's root: {e}", target.display()),
    };
    let mut dir = root.try_clone().map_err(|e| e.to_string())?;
    let path_flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        if last && kind == FileKind::File {
            let opened = match openat(&dir, *name, path_flags, Mode::empty()) {
                Err(Errno::NOENT) => {
                    drop(
                        openat(
                            &dir,
                            *name,
                            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC,
                            Mode::RUSR,
                        )
                        .map_err(refuse)?,
                    );
                    openat(&dir, *name, path_flags, Mode::empty()).map_err(refuse)?
                }
                other => other.map_err(refuse)?,
            };
            if FileType::from_raw_mode(fstat(&opened).map_err(refuse)?.st_mode) != FileType::RegularFile {
                return Err(refuse(Errno::LOOP));
            }
            return Ok(opened);
        }
        dir = match openat(&dir, *name, path_flags | OFlags::DIRECTORY, Mode::empty()) {
            Err(Errno::NOENT) => {
                mkdirat(&dir, *name, Mode::from_raw_mode(0o755)).map_err(refuse)?;
                openat(&dir, *name, path_flags | OFlags::DIRECTORY, Mode::empty()).map_err(refuse)?
            }
            other => other.map_err(refuse)?,
        };
    }
    Ok(dir)
}

/// The private directory's parts, made by the host before the helper runs.
pub fn private_parts() -> [&'static str; 4] {
    // `run/home`: where the fallback HOME is mounted, in the read-only `run`.
    ["run", "run/home", "home", "shm"]
}

/// `HOME` for the step: the user's own home path (so `~/.kube` or `~/.aws`,
/// once granted, are where tools look), as an empty private directory;
/// `/run/runbox/home` where that path would fall among the step's system
/// folders or mounts (a place no grant can cover: `/home/runbox` would lie
/// in a read-only grant of `/home`).
pub fn home_for(user_home: Option<&Path>, binds: &[Bind]) -> PathBuf {
    let fallback = Path::new(SCRIPTS).join("home");
    let Some(home) = user_home.filter(|h| h.is_absolute() && h.components().count() > 1) else {
        return fallback;
    };
    let reserved = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "run", "opt"];
    let first = home.components().nth(1).map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    // Inside a mount it would be a folder of that mount; a mount at or
    // beneath it is shown there, above the empty home.
    let under_mount = binds.iter().any(|b| home.starts_with(&b.guest) && home != Path::new(&b.guest));
    if reserved.contains(&first.as_str()) || under_mount || home.components().any(|c| c == Component::ParentDir) {
        fallback
    } else {
        home.to_path_buf()
    }
}
