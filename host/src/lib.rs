//! runbox runs team runbooks — markdown or YAML files of shell and
//! JavaScript steps — inside a WebAssembly sandbox: a step sees only the
//! directories, variables and hosts its runbook declares, and is stopped by a
//! fuel budget, a wall-clock deadline, a memory cap and output caps.
//!
//! The flow is one way: file → [`Runbook`] ([`markdown`], [`yaml`]) →
//! validated [`plan::Plan`] (inputs typed, scripts loaded from their
//! [`sources`]) → steps in fresh sandbox instances ([`Sandbox`]), templates
//! expanded as data ([`template`]) → [`RunReport`] → history, JSON record,
//! output.
//!
//! ```no_run
//! let runner = runbox::Runner::new(runbox::Config::default())?;
//! let runbook = runbox::runbook::load("runbooks/HelloWorld.md".as_ref())?;
//! let report = runner.run(&runbook, &Default::default());
//! std::process::exit(report.exit_code);
//! # Ok::<(), anyhow::Error>(())
//! ```

mod clocks;
pub mod consent;
mod engine;
pub mod error;
mod guest;
pub mod history;
mod http;
pub mod inputs;
pub mod limits;
pub mod markdown;
pub mod mask;
pub mod mounts;
mod output;
pub mod plan;
pub mod record;
pub mod report;
pub mod runbook;
mod runner;
pub mod sources;
pub mod state;
pub mod template;
pub mod yaml;

pub use engine::{Outcome, Sandbox, Script, StepContext, StepError};
pub use error::ErrorCode;
pub use guest::GuestCache;
pub use http::{MAX_RESPONSE_BYTES, NetPolicy};
pub use output::{Captured, Echo, excerpt, visible, visible_lines};
pub use report::{RunReport, StepReport};
pub use runbook::{Language, Runbook};
pub use runner::{Config, DEFAULT_OUTPUT_BUDGET, HISTORY_STREAM_BYTES, Inputs, Runner, record_invalid};
