//! runbox runs team runbooks — markdown or YAML files of shell and
//! JavaScript steps — inside a WebAssembly sandbox: a step sees only the
//! directories, variables and hosts its runbook declares, and is stopped by a
//! fuel budget, a wall-clock deadline, a memory cap and output caps.
//!
//! The flow is one way, and so are the imports (a folder imports only the
//! folders below it):
//!
//! ```text
//! api/       runbox serve: the HTTP API, bearer tokens, Required Claims
//! run/       Runner: consent, steps, reports, history, the JSON record
//!  ├─ plan/     Runbook + host → validated Plan (inputs, sources, mounts, consent)
//!  ├─ sandbox/  wasmtime: engine, guest cache, WIT imports, output capture
//!  └─ store/    the record store: every execution's record, queried (SQLite)
//! catalog    runbooks found in a folder, by name (run, list, the API, sub-runbooks)
//! template/  {{ … }} values as data in shell and JavaScript
//! parse/     a file → Runbook (markdown, YAML)
//! model/     Runbook as plain data
//! error, text, handle, state   the bottom: codes, shown text, held files, runbox's own files
//! ```
//!
//! ```no_run
//! let runner = runbox::Runner::new(runbox::Config::default())?;
//! let runbook = runbox::parse::load("runbooks/HelloWorld.md".as_ref())?;
//! let report = runner.run(&runbook, &Default::default());
//! std::process::exit(report.exit_code);
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod api;
pub mod catalog;
pub mod error;
pub mod handle;
#[cfg(feature = "kubernetes")]
pub mod jobs;
#[cfg(feature = "kubernetes")]
pub mod kubernetes;
pub mod model;
pub mod native;
pub mod parse;
pub mod plan;
pub mod run;
pub mod sandbox;
pub mod state;
pub mod store;
pub mod template;
pub mod text;

pub use error::{ErrorCode, Failure};
pub use model::{Language, Runbook};
pub use run::records::report::{RunReport, StepReport};
pub use run::{Config, DEFAULT_OUTPUT_BUDGET, HISTORY_STREAM_BYTES, Inputs, Runner, Seams};
pub use sandbox::{Cancel, Captured, GuestCache, Live, Outcome, Sandbox, Script, StepContext, Stream};
