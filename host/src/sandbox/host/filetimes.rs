//! File times in deterministic mode: `wasi:filesystem`'s `stat` and
//! `stat-at`, served by wasmtime-wasi and then, in deterministic mode, given
//! the run's starting instant (`--clock`) for every time they report. A
//! file's real times depend on when the checkout or the step wrote it; a
//! guest reads them through `stat` (`ls -l`, `test -nt`, `fs.statSync`) and
//! would print something different on every run. A directory's size is
//! the file system's (4096 on ext4, 40 and more on tmpfs), so it is given as
//! 4096 there too. Outside deterministic mode the host's times and sizes
//! pass through untouched.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::FsResult;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    Datetime, Descriptor, DescriptorStat, DescriptorType, ErrorCode, Host, HostDescriptor, PathFlags,
};

use crate::sandbox::store::StepState;

/// The interface shadowed; guests importing any 0.2.x version link to it.
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// Replaces `stat` and `stat-at` in `linker` (after wasmtime-wasi has added
/// its own).
pub(crate) fn add_to_linker(linker: &mut Linker<StepState>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap(
        "[method]descriptor.stat",
        |mut cx: StoreContextMut<'_, StepState>, (fd,): (Resource<Descriptor>,)| {
            let stat = HostDescriptor::stat(&mut cx.data_mut().filesystem(), fd);
            answer(cx.data_mut(), stat)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.stat-at",
        |mut cx: StoreContextMut<'_, StepState>, (fd, flags, path): (Resource<Descriptor>, PathFlags, String)| {
            let stat = HostDescriptor::stat_at(&mut cx.data_mut().filesystem(), fd, flags, path);
            answer(cx.data_mut(), stat)
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// What deterministic mode says a directory's size is, whatever the file
/// system (ext4's block).
const DIRECTORY_SIZE: u64 = 4096;

/// `stat` as the guest sees it: an error as wasmtime-wasi reports it, times
/// and directory sizes fixed in deterministic mode.
fn answer(
    state: &mut StepState,
    stat: FsResult<DescriptorStat>,
) -> wasmtime::Result<(Result<DescriptorStat, ErrorCode>,)> {
    let mut stat = match stat {
        Ok(stat) => stat,
        Err(e) => return Ok((Err(Host::convert_error_code(&mut state.filesystem(), e)?),)),
    };
    if let Some(time) = &state.virtual_time {
        let start = time.start();
        let at = Some(Datetime { seconds: start.as_secs(), nanoseconds: start.subsec_nanos() });
        stat.data_access_timestamp = at;
        stat.data_modification_timestamp = at;
        stat.status_change_timestamp = at;
        if stat.type_ == DescriptorType::Directory {
            stat.size = DIRECTORY_SIZE;
        }
    }
    Ok((Ok(stat),))
}
