//! The JSON record of an execution (SPEC §6), emitted as one tracing event,
//! and the subscriber layer that appends such records to a JSON-lines file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

use super::report::RunReport;

/// The tracing target of execution records.
pub const TARGET: &str = "runbox::record";

/// Who ran what, from where, in which chain.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Breadcrumb {
    pub at_time: String,
    pub by_user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ip: Option<String>,
    pub correlation_id: String,
    pub recursion_stack: Vec<String>,
}

#[derive(Serialize)]
struct Record<'a> {
    breadcrumb: &'a Breadcrumb,
    #[serde(flatten)]
    report: &'a RunReport,
}

/// Emits the record of one execution.
pub fn emit(breadcrumb: &Breadcrumb, report: &RunReport) {
    match serde_json::to_string(&Record { breadcrumb, report }) {
        Ok(json) => tracing::info!(target: TARGET, record = json.as_str()),
        Err(e) => tracing::error!("cannot serialise the execution record of {}: {e}", report.runbook),
    }
}

/// `$RUNBOX_LOG`, else `executions.jsonl` in runbox's state directory
/// ([`crate::state::state_dir`]: `~/.local/state/runbox` by default).
pub fn default_log_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RUNBOX_LOG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Some(crate::state::state_dir()?.join("executions.jsonl"))
}

/// Appends each execution record as one line of JSON to a file.
pub struct RecordFile {
    file: Mutex<File>,
}

impl RecordFile {
    pub fn open(path: &Path) -> std::io::Result<RecordFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::state::create_private_dir(dir)?;
        }
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            // Outputs and masked secrets of every run: this user's only.
            OpenOptions::new().create(true).append(true).mode(0o600).open(path)?
        };
        Ok(RecordFile { file: Mutex::new(file) })
    }

    fn append(&self, json: &str) {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let mut line = String::with_capacity(json.len() + 1);
        line.push_str(json);
        line.push('\n');
        // Other runbox processes append to the same file: one locked write
        // per record keeps lines whole.
        let written = file.lock().and_then(|()| (&*file).write_all(line.as_bytes())).and_then(|()| file.unlock());
        if let Err(e) = written {
            eprintln!("runbox: cannot write the execution record: {e}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for RecordFile {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        struct Find(Option<String>);
        impl Visit for Find {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "record" {
                    self.0 = Some(value.to_string());
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut find = Find(None);
        event.record(&mut find);
        if let Some(json) = find.0 {
            self.append(&json);
        }
    }
}
