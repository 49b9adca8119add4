//! The native step's system-call filter: a denylist of what a script and
//! the tools runbooks run (kubectl, psql, aws, PowerShell) never need and
//! an escape would: a new user namespace (which would shed every limit
//! set here), mounts, keyrings, BPF, userfaultfd, io_uring, perf events,
//! ptrace and reading other processes' memory, kernel modules, and the
//! terminal ioctls that push keystrokes into a terminal (TIOCSTI) or read
//! the console (TIOCLINUX), refused even where the kernel still allows
//! them. Each is refused with `EPERM`; `clone3`, whose flags a filter
//! cannot read, answers `ENOSYS`, so that the C library falls back to
//! `clone`, whose flags it can (as Flatpak does).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

/// Refused outright.
const DENIED: &[i64] = &[
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_perf_event_open,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_open_by_handle_at,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_acct,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_syslog,
    libc::SYS_quotactl,
];

/// What the step may not do, as the filters to install in its first
/// process (after no-new-privileges, before the interpreter runs).
pub fn filters() -> Result<Vec<BpfProgram>, String> {
    let fail = |e: seccompiler::BackendError| format!("cannot build the system-call filter: {e}");
    let arch = std::env::consts::ARCH.try_into().map_err(|e| format!("no system-call filter for this machine: {e}"))?;
    let cond = |arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(arg, len, op, value).and_then(|c| SeccompRule::new(vec![c]))
    };
    let new_user = u64::try_from(libc::CLONE_NEWUSER).unwrap_or(0x1000_0000);
    let with_new_user =
        || cond(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(new_user), new_user).map(|rule| vec![rule]);
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED.iter().map(|&call| (call, Vec::new())).collect();
    // `Ioctl` is an unsigned long with glibc, an int with musl.
    #[allow(clippy::unnecessary_cast)]
    rules.insert(
        libc::SYS_ioctl,
        vec![
            cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, libc::TIOCSTI as u64).map_err(fail)?,
            cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, libc::TIOCLINUX as u64).map_err(fail)?,
        ],
    );
    rules.insert(libc::SYS_clone, with_new_user().map_err(fail)?);
    rules.insert(libc::SYS_unshare, with_new_user().map_err(fail)?);
    let denied = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch)
        .map_err(fail)?;
    let clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(fail)?;
    [denied, clone3]
        .into_iter()
        .map(|filter| BpfProgram::try_from(filter).map_err(|e| format!("cannot build the system-call filter: {e}")))
        .collect()
}

/// Installs `filters` on the calling thread (which has no new privileges).
pub fn apply(filters: &[BpfProgram]) -> std::io::Result<()> {
    for filter in filters {
        seccompiler::apply_filter(filter).map_err(std::io::Error::other)?;
    }
    Ok(())
}
