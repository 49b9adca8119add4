//! The `runbox` command line.

mod cli;
mod github;
mod progress;
mod snippet;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    fixed_mmap_threshold();
    // The native tier's helper, before anything else (no logging, no state):
    // `runbox __native` confines itself and execs the interpreter.
    if std::env::args().nth(1).as_deref() == Some("__native") {
        return ExitCode::from(runbox::native::helper::run());
    }
    // A background compile, started by a first run, before anything opens a
    // file: it keeps none of the descriptors its starter inherited.
    if std::env::args().skip(1).take(2).eq(["prepare", "--background"]) {
        runbox::handle::close_inherited();
    }
    let args = cli::Args::parse();
    cli::init_logging(args.log.as_deref());
    // The commands run on a thread with the stack guests need, so that a
    // step's guest is called on it rather than on a thread of its own.
    let ran = std::thread::Builder::new()
        .name("runbox".into())
        .stack_size(runbox::sandbox::GUEST_THREAD_STACK)
        .spawn(|| {
            runbox::sandbox::roomy_thread();
            cli::run(args)
        })
        .map_err(anyhow::Error::from)
        .and_then(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
    match ran {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(if status == 0 { 0 } else { 1 })),
        // The reader went away (`runbox list | head`): stop quietly, with
        // the status a process killed by SIGPIPE has.
        Err(error)
            if error.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
        Err(error) => {
            eprintln!("runbox: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// glibc raises its threshold for serving an allocation from its own mmap
/// each time such a block is freed, up to 32 MiB; after that, each step's
/// megabyte of output came from the heap, and freed heap is seldom given
/// back: a run of many loud steps grew by about a megabyte per step
/// (`tests/all/runaway.rs`, `memory_does_not_grow_with_loud_steps`). A fixed
/// threshold keeps large blocks in mmap, returned to the kernel when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn fixed_mmap_threshold() {
    // SAFETY: called first in main, before any other thread exists; mallopt
    // only changes the allocator's tuning.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fixed_mmap_threshold() {}
