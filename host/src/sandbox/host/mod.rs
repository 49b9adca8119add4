//! The host side of the guests' imports, one file per WIT interface:
//! `context` (variables, ids, the recursion stack), `http` (allowed hosts
//! only), `runbooks` (sub-runbook calls), `files` (the
//! host's permission bits of files on the mounts), WASI's monotonic clock, shadowed
//! so every wait ends by the step's deadline, and WASI's `stat`, shadowed so
//! deterministic mode fixes file times. The rest of WASI is wasmtime-wasi's.

pub(crate) mod clocks;
mod context;
mod files;
mod filetimes;
mod http;
mod runbooks;

use wasmtime::component::{HasSelf, Linker};

use super::bindings::js::runbox::sandbox::{context as wit_context, http as wit_http, runbooks as wit_runbooks};
use super::bindings::sh::runbox::sandbox::files as wit_files;
use super::store::StepState;

/// Adds WASI and every runbox import to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<StepState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    clocks::add_to_linker(linker)?;
    filetimes::add_to_linker(linker)?;
    wit_context::add_to_linker::<_, HasSelf<StepState>>(linker, |state| state)?;
    wit_http::add_to_linker::<_, HasSelf<StepState>>(linker, |state| state)?;
    wit_runbooks::add_to_linker::<_, HasSelf<StepState>>(linker, |state| state)?;
    wit_files::add_to_linker::<_, HasSelf<StepState>>(linker, |state| state)?;
    Ok(())
}
