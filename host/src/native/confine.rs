//! The native tier's helper side: `runbox-native` (its [`Spec`] and the
//! step's mounts handed over on stdin, never on the command line other
//! users can read: see [`super::handoff`]) joins the step's control groups
//! ([`super::cgroup`]), makes fresh user, mount, PID (and, without a
//! network grant, network) namespaces, builds the step's own root in them
//! ([`super::root`]) and runs the step's interpreter as PID 1 of its
//! namespace, in the session runbox started it in (no controlling terminal), with
//! rlimits (address space, processes counted in its user namespace),
//! no new privileges, no capabilities, Landlock rules (read and run the
//! system's programs, the step's mounts with their modes, only the granted
//! TCP ports) and a system-call filter ([`super::seccomp`]). When it ends,
//! every process it left behind ends with it.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Resource, Rlimit, Signal, setrlimit};
use serde::{Deserialize, Serialize};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::root::{self, Bind, Private};
use super::seccomp;

/// What the helper is told.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    /// The interpreter, an absolute path.
    pub program: PathBuf,
    /// The script, as the interpreter is given it.
    pub script: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment of the interpreter.
    pub env: Vec<(String, String)>,
    /// The step's mounts, handed over as held directories in this order.
    pub binds: Vec<Bind>,
    /// The step's private directory on the host (`run/`, `home/`, `shm/`).
    pub private: PathBuf,
    /// `HOME` as the step sees it.
    pub home: PathBuf,
    /// TCP ports the step may connect to; none means no network at all (the
    /// namespace has none either).
    pub tcp_ports: Vec<u16>,
    /// Address space of each process, bytes.
    pub memory: u64,
    /// Processes (and threads) the step may have at once.
    pub processes: u64,
    /// The `cgroup.procs` files of the step's control groups.
    pub cgroups: Vec<PathBuf>,
    /// Confined: namespaces, its own root, Landlock and the filter must all
    /// be in force, or the helper refuses to run it.
    pub confined: bool,
}

/// Readable beneath: the whole of the step's root, which holds only what
/// it was given (the system's programs, a few files of `/etc`, its mounts).
const SYSTEM_READ: &[&str] = &["/"];
/// Writable: devices a script writes to, its own /proc and shared memory.
const SYSTEM_WRITE: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/shm", "/proc"];

/// Exit status of a helper that could not confine the step.
pub const CANNOT_CONFINE: i32 = 125;
/// What it says first on stderr.
pub const CANNOT_CONFINE_PREFIX: &str = "runbox: cannot confine the native step:";

/// Unconfined: sets the rlimits and no-new-privileges and execs the
/// interpreter; returns only why it could not.
pub fn exec(spec: &Spec) -> String {
    // Not the process count: outside a user namespace of its own it counts
    // all the user's processes.
    if let Err(e) = limit_memory(spec) {
        return format!("cannot set the resource limits: {e}");
    }
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        return format!("cannot set no-new-privileges: {e}");
    }
    let error = interpreter(spec).exec();
    format!("cannot run {}: {error}", spec.program.display())
}

/// Confined: joins the step's control groups, moves into new user, mount,
/// PID and (without a network grant) network namespaces, builds the step's
/// root, sets its limits, then runs the interpreter as PID 1 of its
/// namespace (which finishes the root, and confines itself with Landlock
/// and the filter, before it execs) and waits for it: when it ends, every
/// process it left ends with it. A SIGTERM (the host ending the step) or
/// the host's own death kills it, whichever process group it moved to.
/// Returns the interpreter's exit status, or why it could not run.
pub fn run(spec: &Spec, held: Vec<OwnedFd>) -> Result<u8, String> {
    use rustix::process::{PidfdFlags, getgid, getuid, pidfd_open, pidfd_send_signal};
    use rustix::thread::UnshareFlags;
    for procs in &spec.cgroups {
        std::fs::write(procs, "0")
            .map_err(|e| format!("cannot join the step's control group {}: {e}", procs.display()))?;
    }
    let (uid, gid) = (getuid().as_raw(), getgid().as_raw());
    let mut flags = UnshareFlags::NEWUSER | UnshareFlags::NEWNS | UnshareFlags::NEWPID;
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
        format!("cannot make the step's user, mount, PID and network namespaces: {why} ({e})")
    })?;
    let map = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("cannot map the user into its namespace ({file}): {e}"))
    };
    map("/proc/self/setgroups", "deny".into())?;
    map("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    map("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    root::build(&spec.binds, &held, &Private { dir: &spec.private, home: &spec.home }, &spec.program)?;
    // A signal wakes the wait below (a process that left its parent's PID
    // namespace cannot start threads): the handler writes to this socket.
    let (wake, waker) = UnixStream::pair().map_err(|e| format!("cannot watch for signals: {e}"))?;
    for signal in [SIGTERM, SIGINT, SIGHUP] {
        let waker = waker.try_clone().map_err(|e| format!("cannot watch for signals: {e}"))?;
        signal_hook::low_level::pipe::register(signal, waker).map_err(|e| format!("cannot watch for signals: {e}"))?;
    }
    rustix::process::set_parent_process_death_signal(Some(Signal::TERM))
        .map_err(|e| format!("cannot tie the step to runbox: {e}"))?;
    limit(spec).map_err(|e| format!("cannot set the resource limits: {e}"))?;
    rustix::thread::set_no_new_privs(true).map_err(|e| format!("cannot set no-new-privileges: {e}"))?;
    let mut ruleset = Some(landlock(spec, held)?);
    let filters = seccomp::filters()?;
    let mut command = interpreter(spec);
    command.stdin(Stdio::null());
    // SAFETY: this process has one thread (it cannot start others in its
    // new PID namespace), so the child may allocate; what it does are
    // system calls on its own state before exec.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || first_process(ruleset.take(), &filters));
    }
    let mut child = command.spawn().map_err(|e| format!("cannot run {}: {e}", spec.program.display()))?;
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

/// The step's PID 1, between fork and exec (in the helper's session, which
/// has no controlling terminal): its root finished, then Landlock, no
/// capabilities (also for a user who is root on the host) and the filter,
/// last, since it refuses the mounts done before it.
fn first_process(ruleset: Option<RulesetCreated>, filters: &[seccompiler::BpfProgram]) -> std::io::Result<()> {
    use rustix::thread::{CapabilitySet, CapabilitySets, remove_capability_from_bounding_set, set_capabilities};
    root::finish()?;
    let status = ruleset
        .ok_or_else(|| std::io::Error::other("Landlock: no rules"))?
        .restrict_self()
        .map_err(std::io::Error::other)?;
    // An older kernel enforces the file rights it knows (reading and
    // writing from ABI 1); none at all is no confinement.
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(std::io::Error::other("this kernel has no Landlock"));
    }
    for capability in CapabilitySet::all().iter() {
        let _ = remove_capability_from_bounding_set(capability);
    }
    let none = CapabilitySet::empty();
    set_capabilities(None, CapabilitySets { effective: none, permitted: none, inheritable: none })?;
    seccomp::apply(filters)
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

/// Each process's address space, no core files, and the number of
/// processes: counted per user namespace (Linux 5.14 and later), so a fork
/// bomb ends at this limit whoever else the user runs. (The kernel exempts
/// a user who is root on the host; a control group bounds it there.)
fn limit(spec: &Spec) -> rustix::io::Result<()> {
    limit_memory(spec)?;
    setrlimit(Resource::Nproc, Rlimit { current: Some(spec.processes), maximum: Some(spec.processes) })
}

fn limit_memory(spec: &Spec) -> rustix::io::Result<()> {
    setrlimit(Resource::As, Rlimit { current: Some(spec.memory), maximum: Some(spec.memory) })?;
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })
}

/// The rules, made now (their paths are the step's root's) and enforced by
/// the step's first process.
fn landlock(spec: &Spec, held: Vec<OwnedFd>) -> Result<RulesetCreated, String> {
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
        .add_rules(path_beneath_rules([&spec.home], all))
        .map_err(|e| fail(&e))?
        .add_rules(held.into_iter().zip(&spec.binds).map(|(dir, bind)| {
            Ok::<_, landlock::RulesetError>(PathBeneath::new(dir, if bind.writable { all } else { read }))
        }))
        .map_err(|e| fail(&e))?;
    for port in &spec.tcp_ports {
        created = created.add_rule(NetPort::new(*port, AccessNet::ConnectTcp)).map_err(|e| fail(&e))?;
    }
    Ok(created)
}
