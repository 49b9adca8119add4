//! The native tier's helper side: `runbox-native` (its [`Spec`] and the
//! step's mounts handed over on stdin, never on the command line other
//! users can read: see [`super::handoff`]) makes fresh user, PID (and,
//! without a network grant, network) namespaces, confines itself and runs
//! the step's interpreter, which inherits all of it: rlimits, no new
//! privileges, and Landlock rules that allow reading and running the
//! system's programs and libraries, the step's mounts with their modes, and
//! only the granted TCP ports. The interpreter is PID 1 of its namespace:
//! when it ends, every process it left behind ends with it.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Resource, Rlimit, Signal, setrlimit};
use serde::{Deserialize, Serialize};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// What the helper is told.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    /// The interpreter, an absolute path.
    pub program: PathBuf,
    pub script: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment of the interpreter.
    pub env: Vec<(String, String)>,
    /// Readable (and executable) beneath: the interpreter.
    pub read: Vec<PathBuf>,
    /// Readable and writable beneath: the step's private directory.
    pub write: Vec<PathBuf>,
    /// The step's mounts, handed over as held directories in this order:
    /// whether each is writable.
    pub held: Vec<bool>,
    /// TCP ports the step may connect to; none means no network at all (the
    /// namespace has none either).
    pub tcp_ports: Vec<u16>,
    /// Address space, bytes.
    pub memory: u64,
    /// Landlock must be fully in force, or the helper refuses to run.
    pub confined: bool,
}

/// The system's programs, libraries and the configuration they read: the
/// rest of `/etc` (shadow, keys, credentials) stays out of reach.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/opt/microsoft/powershell",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/alternatives",
    "/etc/bash.bashrc",
    "/etc/profile",
    "/etc/inputrc",
    "/etc/terminfo",
    "/etc/zsh",
    "/etc/mime.types",
    "/dev/urandom",
    "/dev/random",
];
/// Devices a script writes to.
const SYSTEM_WRITE: &[&str] = &["/dev/null", "/dev/zero", "/dev/tty", "/dev/full"];

/// Exit status of a helper that could not confine the step.
pub const CANNOT_CONFINE: i32 = 125;
/// What it says first on stderr.
pub const CANNOT_CONFINE_PREFIX: &str = "runbox: cannot confine the native step:";

/// Unconfined: sets the rlimits and no-new-privileges and execs the
/// interpreter; returns only why it could not.
pub fn exec(spec: &Spec) -> String {
    if let Err(e) = limit(spec.memory) {
        return format!("cannot set the resource limits: {e}");
    }
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        return format!("cannot set no-new-privileges: {e}");
    }
    let error = interpreter(spec).exec();
    format!("cannot run {}: {error}", spec.program.display())
}

/// Confined: moves into new user, PID and (without a network grant)
/// network namespaces, confines itself (rlimits, no new privileges,
/// Landlock to the `held` directories and the granted ports), then runs
/// the interpreter as PID 1 of its namespace and waits for it: when it
/// ends, every process it left ends with it. A SIGTERM (the host ending
/// the step) or the host's own death kills it, whichever process group
/// it moved to. Returns the interpreter's exit status, or why it could
/// not run.
pub fn run(spec: &Spec, held: Vec<OwnedFd>) -> Result<u8, String> {
    use rustix::process::{PidfdFlags, getgid, getuid, pidfd_open, pidfd_send_signal};
    use rustix::thread::UnshareFlags;
    let (uid, gid) = (getuid().as_raw(), getgid().as_raw());
    let mut flags = UnshareFlags::NEWUSER | UnshareFlags::NEWPID;
    if spec.tcp_ports.is_empty() {
        flags |= UnshareFlags::NEWNET;
    }
    // `unshare` is deprecated for `unshare_unsafe`, whose caveat is
    // CLONE_FILES (descriptor tables that threads share); these flags do
    // not touch descriptors, and this process has one thread.
    #[allow(deprecated)]
    rustix::thread::unshare(flags).map_err(|e| {
        let why = match e {
            rustix::io::Errno::NOSPC => "this system allows no more user namespaces (sysctl user.max_user_namespaces)",
            rustix::io::Errno::PERM | rustix::io::Errno::ACCESS => {
                "this user may not make user namespaces (a sysctl such as kernel.unprivileged_userns_clone, or a security policy)"
            }
            _ => "the kernel refused",
        };
        format!("cannot make the step's user, PID and network namespaces: {why} ({e})")
    })?;
    let map = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("cannot map the user into its namespace ({file}): {e}"))
    };
    map("/proc/self/setgroups", "deny".into())?;
    map("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    map("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    // A signal wakes the wait below (a process that left its parent's PID
    // namespace cannot start threads): the handler writes to this socket.
    let (wake, waker) = UnixStream::pair().map_err(|e| format!("cannot watch for signals: {e}"))?;
    for signal in [SIGTERM, SIGINT, SIGHUP] {
        let waker = waker.try_clone().map_err(|e| format!("cannot watch for signals: {e}"))?;
        signal_hook::low_level::pipe::register(signal, waker).map_err(|e| format!("cannot watch for signals: {e}"))?;
    }
    rustix::process::set_parent_process_death_signal(Some(Signal::TERM))
        .map_err(|e| format!("cannot tie the step to runbox: {e}"))?;
    limit(spec.memory).map_err(|e| format!("cannot set the resource limits: {e}"))?;
    rustix::thread::set_no_new_privs(true).map_err(|e| format!("cannot set no-new-privileges: {e}"))?;
    landlock(spec, held)?;
    let mut child = interpreter(spec)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", spec.program.display()))?;
    // Until the interpreter ends, a signal (the host ending the step, or
    // the host's death) kills it, and with it, PID 1, its whole namespace.
    let pidfd = match pidfd_open(rustix::process::Pid::from_child(&child), PidfdFlags::empty()) {
        Ok(pidfd) => pidfd,
        Err(e) => {
            // Without it the step could not be ended: it does not run.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("cannot watch the interpreter (pidfd_open): {e}"));
        }
    };
    loop {
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN), PollFd::new(&wake, PollFlags::IN)];
        match poll(&mut fds, None) {
            Ok(_) if !fds[0].revents().is_empty() => break,
            Ok(_) if !fds[1].revents().is_empty() => {
                let _ = pidfd_send_signal(&pidfd, Signal::KILL);
                let _ = rustix::io::read(&wake, &mut [0u8; 64]);
            }
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => break,
        }
    }
    let status = child.wait().map_err(|e| format!("cannot wait for {}: {e}", spec.program.display()))?;
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1);
    Ok(u8::try_from(code).unwrap_or(1))
}

fn interpreter(spec: &Spec) -> Command {
    let mut command = Command::new(&spec.program);
    command
        .arg(&spec.script)
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    command
}

fn limit(memory: u64) -> rustix::io::Result<()> {
    setrlimit(Resource::As, Rlimit { current: Some(memory), maximum: Some(memory) })?;
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })
}

fn landlock(spec: &Spec, held: Vec<OwnedFd>) -> Result<(), String> {
    let abi = ABI::V5;
    let fail = |e: &dyn std::fmt::Display| format!("Landlock: {e}");
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(|e| fail(&e))?;
    if !spec.tcp_ports.is_empty() {
        // Ports are filtered only from Landlock ABI 4 (Linux 6.7): without
        // it a network grant would open every port, so it is required.
        ruleset = ruleset
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessNet::from_all(ABI::V4))
            .map_err(|e| format!("this kernel's Landlock cannot filter TCP ports: {e}"))?
            .set_compatibility(CompatLevel::BestEffort);
    }
    // From ABI 6: no signals to, nor abstract UNIX sockets of, processes
    // outside the step (a desktop's or an agent's sockets, with a network
    // grant and so no network namespace of its own).
    ruleset = ruleset.scope(Scope::from_all(ABI::V6)).map_err(|e| fail(&e))?;
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let mut created = ruleset
        .create()
        .map_err(|e| fail(&e))?
        .add_rules(path_beneath_rules(SYSTEM_READ, read))
        .map_err(|e| fail(&e))?
        .add_rules(path_beneath_rules(SYSTEM_WRITE, all))
        .map_err(|e| fail(&e))?
        .add_rules(path_beneath_rules(&spec.read, read))
        .map_err(|e| fail(&e))?
        .add_rules(path_beneath_rules(&spec.write, all))
        .map_err(|e| fail(&e))?
        .add_rules(held.into_iter().zip(&spec.held).map(|(dir, &writable)| {
            Ok::<_, landlock::RulesetError>(PathBeneath::new(dir, if writable { all } else { read }))
        }))
        .map_err(|e| fail(&e))?;
    for port in &spec.tcp_ports {
        created = created.add_rule(NetPort::new(*port, AccessNet::ConnectTcp)).map_err(|e| fail(&e))?;
    }
    let status = created.restrict_self().map_err(|e| fail(&e))?;
    // An older kernel enforces the file rights it knows (reading and
    // writing from ABI 1); none at all is no confinement.
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("this kernel has no Landlock".into());
    }
    Ok(())
}
