//! runbox's own state on the host — the compiled-guest cache, the JSON log
//! and the consent store — and the rule that no sandbox may reach any of it:
//! a step that could write the cache would plant native code for the next
//! runbox process, one that could write the consent store would grant
//! itself, one that could write the log would forge the audit.

use std::path::{Path, PathBuf};

/// `$RUNBOX_STATE_DIR`, else `$XDG_STATE_HOME/runbox`, else
/// `~/.local/state/runbox`: where the log and the consent store live.
/// With none of them set (systemd units, `env -i`, some CI containers),
/// `runbox-UID/state` under the system's temporary directory.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("RUNBOX_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".local/state")));
    match state {
        Some(state) => Some(state.join("runbox")),
        None => private_fallback("state"),
    }
}

/// `runbox-UID/what` under the system's temporary directory, for a user
/// with no home: its parent created `0700`, and refused (None, said on
/// stderr) if someone else made it or others can write it, since runbox
/// would otherwise keep its state where another user can tamper with it.
/// Checked once per process.
pub fn private_fallback(what: &str) -> Option<PathBuf> {
    // Checked, and a refusal said, once per process: the cache, the log and
    // the consent store all ask.
    static BASE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("runbox-{}", rustix::process::geteuid().as_raw()));
        if let Err(e) = create_private_dir(&base) {
            eprintln!("runbox: cannot create {}: {e}", base.display());
            return None;
        }
        match check_opened_private(&base) {
            Ok(()) => Some(base),
            Err(why) => {
                eprintln!(
                    "runbox: not using {}: {why} (set HOME, or RUNBOX_STATE_DIR and RUNBOX_CACHE_DIR)",
                    base.display()
                );
                None
            }
        }
    });
    base.as_ref().map(|base| base.join(what))
}

/// One piece of runbox's state, by what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protected {
    /// Where it is, as real a path as can be made of it.
    pub path: PathBuf,
    /// `the compiled-guest cache`, `the execution log`, …
    pub what: &'static str,
}

impl Protected {
    pub fn new(path: &Path, what: &'static str) -> Protected {
        Protected { path: real(path), what }
    }
}

/// `path` with symlinks resolved as far as it exists, the rest appended.
pub fn real(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    for ancestor in absolute.ancestors() {
        if let Ok(canonical) = ancestor.canonicalize() {
            let rest = absolute.strip_prefix(ancestor).unwrap_or(Path::new(""));
            return if rest.as_os_str().is_empty() { canonical } else { canonical.join(rest) };
        }
    }
    absolute
}

/// Refuses a mount of `host` (a real path) that is, contains or lies inside
/// any of `protected`, saying why and what to do instead.
pub fn refuse_state(host: &Path, protected: &[Protected]) -> Result<(), String> {
    for p in protected {
        let relation = if host == p.path {
            "is"
        } else if p.path.starts_with(host) {
            "contains"
        } else if host.starts_with(&p.path) {
            "lies inside"
        } else {
            continue;
        };
        return Err(format!(
            "{} {relation} runbox's {} ({}), which no sandbox may reach (a step could plant code or forge \
             records there); mount a narrower directory, or keep runbox's state elsewhere with \
             RUNBOX_CACHE_DIR, RUNBOX_STATE_DIR, --log or --store",
            host.display(),
            p.what,
            p.path.display()
        ));
    }
    Ok(())
}

/// Whether a directory (or file) is safe to trust with runbox's state: owned
/// by this user and writable by no one else, nor replaceable through a
/// parent that others can write (a sticky parent such as `/tmp` is fine).
pub fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    // Followed: a symlinked cache is fine as long as no one else can write
    // where it leads, nor replace the link (its parents are checked below).
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!("{} belongs to user {}, not to this user ({me})", path.display(), meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by others (mode {:o}); run `chmod go-w {}`",
            path.display(),
            meta.mode() & 0o7777,
            path.display()
        ));
    }
    // The link's parents and the parents of where it leads.
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let parents = path.ancestors().skip(1).chain(canonical.ancestors().skip(1));
    for parent in parents.filter(|p| !p.as_os_str().is_empty()) {
        let Ok(meta) = std::fs::metadata(parent) else { continue };
        let sticky = meta.mode() & 0o1000 != 0;
        if meta.mode() & 0o022 != 0 && !sticky {
            return Err(format!(
                "{} lies in {}, which others can write (mode {:o}), so they could replace it",
                path.display(),
                parent.display(),
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

/// Whether the directory at `path` itself, not one a symlink there leads to,
/// is this user's alone: opened without following a link, its owner and
/// mode read from what was opened. For a place in a shared directory such as
/// `/tmp`, where another user could have planted a link to a directory of
/// ours and swap it after any check by path; a real directory of ours in a
/// sticky directory no one else can rename or remove.
pub fn check_opened_private(path: &Path) -> Result<(), String> {
    use rustix::fs::{Mode, OFlags};
    let opened = rustix::fs::open(path, OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| match e {
            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
                format!("{} is not a directory of its own (a symlink or a file is there)", path.display())
            }
            e => format!("{}: {e}", path.display()),
        })?;
    owned_and_private(&opened, path)
}

/// Whether what `file` has open belongs to this user and others cannot
/// write it.
pub fn owned_and_private(file: &impl std::os::fd::AsFd, path: &Path) -> Result<(), String> {
    let me = rustix::process::geteuid().as_raw();
    let stat = rustix::fs::fstat(file).map_err(|e| format!("{}: {e}", path.display()))?;
    if stat.st_uid != me {
        return Err(format!("{} belongs to user {}, not to this user ({me})", path.display(), stat.st_uid));
    }
    if stat.st_mode & 0o022 != 0 {
        return Err(format!(
            "{} is writable by others (mode {:o}); run `chmod go-w {}`",
            path.display(),
            stat.st_mode & 0o7777,
            path.display()
        ));
    }
    Ok(())
}

/// Creates `dir` (and missing parents) readable and writable by this user only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_refused_whether_mounted_around_inside_or_at() {
        let protected = [Protected { path: "/home/me/.cache/runbox".into(), what: "compiled-guest cache" }];
        for host in ["/home/me", "/home/me/.cache/runbox", "/home/me/.cache/runbox/x", "/"] {
            let err = refuse_state(Path::new(host), &protected).unwrap_err();
            assert!(err.contains("compiled-guest cache"), "{err}");
        }
        assert!(refuse_state(Path::new("/home/me/project"), &protected).is_ok());
        assert!(refuse_state(Path::new("/home/me/.cache/runbox-other"), &protected).is_ok());
    }
}
