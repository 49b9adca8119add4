//! The native tier: a step run by a real interpreter (bash, zsh,
//! PowerShell) for the runbooks that need real tools, only when the user
//! allows it (`--allow-native`), and even then confined by the kernel:
//! runbox's helper (`runbox-native`, [`helper`]) joins the step's control
//! groups ([`cgroup`]), makes fresh user, mount and PID namespaces (and a
//! network namespace of its own when no network is granted), builds the
//! step's own root in them ([`root`]: the system's programs read-only, the
//! step's mounts where the sandbox puts them, nothing else of the host),
//! and runs the interpreter as PID 1 of its namespace, in a session of its
//! own, under rlimits, Landlock and a system-call filter ([`confine`],
//! [`seccomp`]).
//!
//! The step sees what a sandboxed step sees: `/work` as its working
//! directory with its declared paths, `/tmp`, absolute mounts at their
//! paths; the script is read-only under `/run/runbox`, `HOME` an empty
//! private directory. Only the declared variables (plus `PATH`, `HOME`,
//! `TMPDIR`, `LANG`) are set. The output caps are the sandbox's; at the
//! deadline the whole process group gets SIGTERM (on which the helper kills
//! the interpreter), then SIGKILL, and whatever escaped the group
//! (`setsid`) dies with the PID namespace. Unconfined
//! (`--allow-native=unconfined`), the working directory is the run's
//! scratch directory, where each declared relative path is a link to its
//! real directory, made by handle.
//!
//! Imports `sandbox/` for its step types (mounts, output, cancellation),
//! `model/` and the bottom files; never `run/`.

pub mod cgroup;
pub mod confine;
pub mod handoff;
pub mod helper;
pub mod root;
pub mod seccomp;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use crate::error::{ErrorCode, Failure};
use crate::model::limits::Limits;
use crate::model::{Native, WORKDIR};
use crate::sandbox::{Cancel, Capture, Captured, Live, Mount, Outcome, Stream};
use confine::{CANNOT_CONFINE, CANNOT_CONFINE_PREFIX, Spec};
use root::Bind;

/// The `PATH` a native step gets, and where interpreters are looked for
/// after the user's own `PATH`.
pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// Address space of a native step unless its limits set one: PowerShell
/// (.NET) does not start under the sandbox's 256 MiB.
pub const NATIVE_MEMORY: u64 = 4 << 30;
/// Processes (threads included) a native step may have at once.
pub const NATIVE_PROCESSES: u64 = 1024;
/// Between SIGTERM and SIGKILL at the deadline.
const GRACE: Duration = Duration::from_secs(2);

/// One native step.
pub struct NativeStep<'a> {
    pub native: Native,
    pub script: &'a str,
    pub args: &'a [String],
    /// The declared variables and the chain's: the whole environment.
    pub env: &'a [(String, String)],
    /// The step's working directory as the sandbox names it (`/work/...`).
    pub cwd: &'a str,
    pub mounts: &'a [Mount],
    /// The TCP ports granted (none: no network).
    pub tcp_ports: Vec<u16>,
    /// Run even where the kernel cannot confine it.
    pub unconfined: bool,
    /// `runbox` itself, which confines the step.
    pub helper: &'a Path,
    pub cancel: &'a Cancel,
    /// No later than this, whatever the timeout.
    pub deadline: Option<Instant>,
}

/// Runs `step` within `limits`; `live` sees its output as it comes.
pub fn run(step: &NativeStep<'_>, limits: Limits, live: Option<Arc<dyn Live>>) -> Outcome {
    let started = Instant::now();
    // Said on stderr too, as any failing step's error is.
    let refused = |code: ErrorCode, message: String| {
        let failure = Failure::new(code, message);
        let line = format!("{failure}\n");
        if let Some(live) = &live {
            live.write(Stream::Stderr, line.as_bytes());
        }
        let stderr = Captured { text: line, truncated: false };
        Outcome::outside(code.exit_status(), Captured::default(), stderr, started.elapsed(), Some(failure))
    };
    let program = step.native.program();
    let Some(interpreter) = find(program) else {
        return refused(
            ErrorCode::CommandNotFound,
            format!("{program} not found: {} (looked on PATH and in {PATH})", step.native.install_hint()),
        );
    };
    if !cfg!(target_os = "linux") {
        return refused(ErrorCode::PermissionDenied, "the native tier runs on Linux only".into());
    }
    let prepared = match prepare(step, &interpreter, limits) {
        Ok(prepared) => prepared,
        Err(e) => return refused(ErrorCode::InvalidCwd, e),
    };
    let (spec, _private, cgroups) = prepared;
    let confinement = describe(step, &cgroups);
    // The helper makes the namespaces itself (confined) and runs the
    // interpreter in them.
    let mut command = Command::new(step.helper);
    if spec.binds.len() > handoff::MAX_HELD {
        return refused(
            ErrorCode::PermissionDenied,
            format!("a native step can be given at most {} directories", handoff::MAX_HELD),
        );
    }
    let (socket, helper_end) = match handoff::pair() {
        Ok(pair) => pair,
        Err(e) => return refused(ErrorCode::RuntimeError, format!("cannot talk to the native step's helper: {e}")),
    };
    // On stdin, not the command line, which other users can read in /proc:
    // the spec holds the values of the step's variables.
    command
        .arg("__native")
        .env_clear()
        .env("PATH", PATH)
        .stdin(Stdio::from(helper_end))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A session of its own, and so a process group runbox ends it by and no
    // controlling terminal: nothing it starts can open the user's terminal
    // (/dev/tty) to push keystrokes into it.
    // SAFETY: between fork and exec the child only calls setsid, which is
    // async-signal-safe and changes nothing but the child.
    #[allow(unsafe_code)]
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            rustix::process::setsid().map(drop).map_err(std::io::Error::from)
        });
    }
    let spawned = command.spawn();
    // The helper's end of the socket, which the command held, is the
    // helper's alone now.
    drop(command);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            return refused(
                ErrorCode::PermissionDenied,
                format!("cannot start the native step's helper {}: {e}", step.helper.display()),
            );
        }
    };
    let held: Vec<_> = step.mounts.iter().map(Mount::held_fd).collect();
    // A helper that died at once has said why on stderr.
    let _ = handoff::send(&socket, &spec, &held);
    drop(socket);
    let group = Pid::from_child(&child);
    let (drained, drain) = std::sync::mpsc::channel::<()>();
    // The sandbox's own captures: the same cap, live echo and truncation
    // marker as a sandboxed step's.
    let read = |pipe: Option<Box<dyn Read + Send>>, stream: Stream| {
        let capture = Capture::new(limits.output, live.clone().map(|l| (l, stream)));
        let into = capture.clone();
        let drained = drained.clone();
        std::thread::spawn(move || {
            // Said when the pipe is drained, however this thread ends.
            struct Drained(std::sync::mpsc::Sender<()>);
            impl Drop for Drained {
                fn drop(&mut self) {
                    let _ = self.0.send(());
                }
            }
            let _drained = Drained(drained);
            let Some(mut pipe) = pipe else { return };
            let mut buf = [0u8; 8192];
            // Past the cap the rest is read and dropped, so the step is
            // stopped for its output rather than by a broken pipe.
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.accept(&buf[..n]);
            }
        });
        capture
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>), Stream::Stdout);
    let err = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>), Stream::Stderr);
    drop(drained);
    let timeout_at = step.deadline.map_or(started + limits.timeout, |d| d.min(started + limits.timeout));
    // The child is waited for on a thread of its own, so its end is seen at
    // once; the loop wakes every few milliseconds for the deadline, the
    // output cap and Ctrl-C, and ends the group by its id.
    let (ended, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = ended.send(child.wait());
    });
    let mut stopped: Option<ErrorCode> = None;
    let mut termed: Option<Instant> = None;
    let status = loop {
        match waited.recv_timeout(Duration::from_millis(5)) {
            Ok(status) => break status.ok(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if stopped.is_none() {
            stopped = if out.exceeded() || err.exceeded() {
                Some(ErrorCode::OutputLimit)
            } else if step.cancel.is_cancelled() {
                Some(ErrorCode::Interrupted)
            } else if now >= timeout_at {
                Some(ErrorCode::Timeout)
            } else {
                None
            };
        }
        if stopped.is_some() {
            match termed {
                None => {
                    let _ = kill_process_group(group, Signal::TERM);
                    termed = Some(now);
                }
                Some(at) if now >= at + GRACE => {
                    let _ = kill_process_group(group, Signal::KILL);
                }
                Some(_) => {}
            }
        }
    };
    // Whatever the interpreter left in its group goes with it.
    let _ = kill_process_group(group, Signal::KILL);
    // A process that left the group (`setsid`) may still hold the pipes;
    // confined, it died with the PID namespace, but unconfined it may live
    // on: what was read by then is the output.
    let until = Instant::now() + Duration::from_millis(500);
    for _ in 0..2 {
        if drain.recv_timeout(until.saturating_duration_since(Instant::now())).is_err() {
            break;
        }
    }
    // A step that ended on its own after passing the cap still passed it.
    if stopped.is_none() && (out.exceeded() || err.exceeded()) {
        stopped = Some(ErrorCode::OutputLimit);
    }
    let (stdout, mut stderr) = (out.finish("stdout"), err.finish("stderr"));
    use std::os::unix::process::ExitStatusExt;
    let raw = status.and_then(|s| s.code().or_else(|| s.signal().map(|sig| 128 + sig)));
    let signal = step.cancel.signal();
    let (exit_code, error) = match (stopped, raw) {
        (Some(ErrorCode::Timeout), _) => (124, Some(Failure::timeout(limits.timeout))),
        (Some(ErrorCode::OutputLimit), _) => {
            let stream = if out.exceeded() { "stdout" } else { "stderr" };
            (153, Some(Failure::output_limit(limits.output, stream)))
        }
        (Some(_), raw) => (signal.map_or(raw.unwrap_or(130), |s| 128 + s), Some(step.cancel.interrupted())),
        (None, Some(CANNOT_CONFINE)) if stderr.text.starts_with(CANNOT_CONFINE_PREFIX) => {
            let why = stderr.text.trim().to_string();
            (
                ErrorCode::PermissionDenied.exit_status(),
                Some(Failure::new(
                    ErrorCode::PermissionDenied,
                    format!("{why}; run it unconfined only if you trust it, with --allow-native=unconfined"),
                )),
            )
        }
        (None, Some(status)) => (status, Failure::exit_status(status)),
        (None, None) => (1, Some(Failure::new(ErrorCode::RuntimeError, "the native step's process was lost"))),
    };
    if let Some(error) = error.as_ref().filter(|e| !e.said_by_script()) {
        let line = format!("{error}\n");
        if !stderr.text.contains(&error.message) {
            stderr.text.push_str(&line);
            if let Some(live) = &live {
                live.write(Stream::Stderr, line.as_bytes());
            }
        }
    }
    // The step's control groups go once its processes have.
    drop(cgroups);
    Outcome { confinement: Some(confinement), ..Outcome::outside(exit_code, stdout, stderr, started.elapsed(), error) }
}

/// What confined the step, for the record: each mechanism, and where the
/// process and memory bounds came from.
fn describe(step: &NativeStep<'_>, group: &cgroup::Group) -> String {
    if step.unconfined {
        return "none (--allow-native=unconfined): rlimits and the deadline only".into();
    }
    let net = if step.tcp_ports.is_empty() {
        "a network namespace of its own (no network)".to_string()
    } else {
        let ports: Vec<String> = step.tcp_ports.iter().map(u16::to_string).collect();
        format!("Landlock TCP connect to ports {} only", ports.join(", "))
    };
    let processes = if group.holds.contains(&"processes") {
        format!("at most {NATIVE_PROCESSES} processes (a pids control group)")
    } else if rustix::process::geteuid().is_root() {
        // The kernel exempts root's processes from RLIMIT_NPROC.
        "no bound on processes (RLIMIT_NPROC does not hold for root, and no pids control group could be made)"
            .to_string()
    } else {
        format!("at most {NATIVE_PROCESSES} processes (RLIMIT_NPROC in its user namespace)")
    };
    let memory = if group.holds.contains(&"memory") {
        "per process (RLIMIT_AS) and in all (a memory control group)"
    } else {
        "per process (RLIMIT_AS)"
    };
    format!(
        "user, mount and PID namespaces, {net}, its own root (the system's programs read-only, its mounts, a private /tmp and HOME, a minimal /dev: no host socket, no terminal), a session of its own, Landlock file access to its mounts and the system's programs, a system-call filter, no new privileges or capabilities, {processes}, memory bounded {memory}"
    )
}

/// The helper's file name, next to `runbox`.
pub const HELPER: &str = "runbox-native";

/// The helper to run for native steps: `runbox-native` next to this
/// program if it is there, else this program itself (`runbox __native`).
pub fn default_helper() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let small = exe.with_file_name(HELPER);
    Some(if small.is_file() { small } else { exe })
}

/// `program` on the user's `PATH`, else in [`PATH`], as an absolute path.
fn find(program: &str) -> Option<PathBuf> {
    let user = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&user)
        .chain(std::env::split_paths(PATH))
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The helper's instructions, the step's private directory (removed when
/// dropped) and its control groups.
fn prepare(
    step: &NativeStep<'_>,
    interpreter: &Path,
    limits: Limits,
) -> Result<(Spec, tempfile::TempDir, cgroup::Group), String> {
    use std::os::unix::fs::PermissionsExt;
    let private = tempfile::Builder::new()
        .prefix("runbox-native-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| format!("cannot make the native step's directory: {e}"))?;
    for part in root::private_parts() {
        std::fs::create_dir(private.path().join(part))
            .map_err(|e| format!("cannot make the native step's directory: {e}"))?;
    }
    let name = format!("step.{}", step.native.extension());
    std::fs::write(private.path().join("run").join(&name), step.script)
        .map_err(|e| format!("cannot write the script: {e}"))?;
    // The cwd must be a directory beneath a mount, reached without leaving
    // it (checked through the held directories, not by path).
    let guest_cwd = crate::sandbox::guest_dir(step.mounts, step.cwd)?;
    let binds: Vec<Bind> = step.mounts.iter().map(|m| Bind { guest: m.guest.clone(), writable: m.writable }).collect();
    let (script, home, tmp, cwd) = if step.unconfined {
        let home = private.path().join("home");
        (private.path().join("run").join(&name), home.clone(), home, unconfined_cwd(step, &guest_cwd)?)
    } else {
        let home = root::home_for(std::env::var_os("HOME").as_deref().map(Path::new), &binds);
        (Path::new(root::SCRIPTS).join(&name), home, PathBuf::from("/tmp"), PathBuf::from(&guest_cwd))
    };
    let mut env: Vec<(String, String)> =
        step.env.iter().filter(|(k, _)| !matches!(k.as_str(), "PATH" | "HOME" | "TMPDIR")).cloned().collect();
    env.extend([
        ("PATH".to_string(), PATH.to_string()),
        ("HOME".to_string(), home.to_string_lossy().into_owned()),
        ("TMPDIR".to_string(), tmp.to_string_lossy().into_owned()),
        ("LANG".to_string(), "C.UTF-8".to_string()),
    ]);
    let memory = if limits.memory == Limits::default().memory { NATIVE_MEMORY } else { limits.memory };
    let group = if step.unconfined { cgroup::Group::default() } else { cgroup::Group::make(NATIVE_PROCESSES, memory) };
    let spec = Spec {
        program: interpreter.to_path_buf(),
        script,
        args: step.args.to_vec(),
        cwd,
        env,
        binds,
        private: private.path().to_path_buf(),
        home,
        tcp_ports: step.tcp_ports.clone(),
        memory,
        processes: NATIVE_PROCESSES,
        cgroups: group.procs(),
        confined: !step.unconfined,
    };
    Ok((spec, private, group))
}

/// Unconfined, the step sees the host: its working directory is the run's
/// scratch directory, where each declared relative path is made a link to
/// its real directory, by handle (a link a step planted there is replaced,
/// never followed out of the scratch directory).
fn unconfined_cwd(step: &NativeStep<'_>, guest_cwd: &str) -> Result<PathBuf, String> {
    let scratch = step.mounts.iter().find(|m| m.guest == WORKDIR);
    for mount in step.mounts {
        if let (Some(scratch), Some(rel)) = (scratch, mount.guest.strip_prefix(&format!("{WORKDIR}/"))) {
            scratch
                .link_beneath(rel, &mount.current_path())
                .map_err(|e| format!("cannot link {} at ./{rel}: {e}", mount.current_path().display()))?;
        }
    }
    Ok(match (scratch, guest_cwd.strip_prefix(WORKDIR)) {
        (Some(scratch), Some(rel)) => scratch.current_path().join(rel.trim_start_matches('/')),
        _ => PathBuf::from(guest_cwd),
    })
}
