//! The JSON record of an execution, emitted as one tracing event,
//! and the subscriber layer that appends such records to a JSON-lines file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::report::RunReport;
use crate::model::ClaimRequirement;
use crate::store::{Row, Status};

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
    /// When the record was made (the run's end), for log shippers.
    timestamp: String,
    /// `info` for a run that passed, `error` for one that did not.
    level: &'static str,
    breadcrumb: &'a Breadcrumb,
    #[serde(flatten)]
    report: &'a RunReport,
}

/// The record of one execution, made `at`, as one line of JSON.
pub fn json(breadcrumb: &Breadcrumb, report: &RunReport, at: OffsetDateTime) -> Option<String> {
    let timestamp = at.format(&Rfc3339).unwrap_or_default();
    let level = if report.succeeded() { "info" } else { "error" };
    match serde_json::to_string(&Record { timestamp, level, breadcrumb, report }) {
        Ok(json) => Some(json),
        Err(e) => {
            tracing::error!("cannot serialise the execution record of {}: {e}", report.runbook);
            None
        }
    }
}

/// Emits `record` to the log's layers; returns its size in bytes.
pub fn emit(record: &str) -> usize {
    tracing::info!(target: TARGET, record);
    record.len() + 1
}

/// What the record store keeps of the execution `record` (its JSON) is of,
/// ended `at`, of a runbook with these Required Claims, with its `events`.
pub fn row(
    breadcrumb: &Breadcrumb,
    report: &RunReport,
    claims: &[ClaimRequirement],
    at: OffsetDateTime,
    record: String,
    events: Option<String>,
) -> Row {
    Row {
        id: report.execution_id.clone(),
        parent_id: report.parent_execution_id.clone(),
        runbook: crate::model::file_name(Path::new(&report.file)),
        name: report.runbook.clone(),
        status: report.status(),
        by_user: breadcrumb.by_user.clone(),
        correlation_id: report.correlation_id.clone(),
        started_at: OffsetDateTime::parse(&breadcrumb.at_time, &Rfc3339).unwrap_or(at),
        finished_at: Some(at),
        exit_code: Some(report.exit_code),
        cancelled_by: report.cancelled_by.clone(),
        claims: claims.to_vec(),
        record: Some(record),
        events,
    }
}

/// The claim imported records are guarded by, which no token holds: a
/// record in the log does not keep its runbook's Required Claims, so the
/// API lists imported executions to nobody (a runbook's history, guarded by
/// the runbook's own claims, shows them).
pub const IMPORTED: &str = "runbox:imported-from-the-log";

/// The records of a JSON log (`log`, after its rotated predecessor) as the
/// store's rows, for a store made after them; lines that are not records
/// are left out.
pub fn logged_rows(log: &Path) -> std::io::Result<Vec<Row>> {
    use std::io::BufRead;
    let mut rows = Vec::new();
    for path in [rotated(log), log.to_path_buf()] {
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in std::io::BufReader::new(file).lines() {
            if let Some(row) = serde_json::from_str(&line?).ok().and_then(|record| logged_row(&record)) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// The row of one logged record (what [`json`] wrote, or an older runbox).
fn logged_row(record: &serde_json::Value) -> Option<Row> {
    let instant = |v: &serde_json::Value| v.as_str().and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let started_at = instant(&record["breadcrumb"]["at_time"])?;
    let exit_code = i32::try_from(record["exit_code"].as_i64()?).ok()?;
    // Records from before execution ids: one that sorts by its start.
    let id = text(&record["execution_id"]).filter(|id| !id.is_empty()).unwrap_or_else(|| {
        let millis = u64::try_from(started_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(millis, &rand::random()).into_uuid().to_string()
    });
    let code = |v: &serde_json::Value| v["error"]["code"].as_str() == Some("Interrupted");
    let steps = record["steps"].as_array().map_or(&[][..], Vec::as_slice);
    let cancelled_by = text(&record["cancelled_by"]);
    // As RunReport::status says of a report.
    let status = if code(record) || steps.iter().any(code) {
        if cancelled_by.is_some() { Status::Cancelled } else { Status::Interrupted }
    } else if record["error"].is_object() {
        Status::Refused
    } else if exit_code == 0 {
        Status::Succeeded
    } else {
        Status::Failed
    };
    let file = text(&record["file"]).unwrap_or_default();
    Some(Row {
        id,
        parent_id: text(&record["parent_execution_id"]),
        runbook: crate::model::file_name(Path::new(&file)),
        name: text(&record["runbook"]).unwrap_or_default(),
        status,
        by_user: text(&record["breadcrumb"]["by_user"]).unwrap_or_default(),
        correlation_id: text(&record["correlation_id"]).unwrap_or_default(),
        started_at,
        finished_at: Some(instant(&record["timestamp"]).unwrap_or(started_at)),
        exit_code: Some(exit_code),
        cancelled_by,
        claims: vec![ClaimRequirement { claim: IMPORTED.into(), values: Vec::new(), line: 0 }],
        record: Some(record.to_string()),
        events: None,
    })
}

/// `$RUNBOX_LOG`, else `executions.jsonl` in runbox's state directory
/// ([`crate::state::state_dir`]: `~/.local/state/runbox` by default).
pub fn default_log_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RUNBOX_LOG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Some(crate::state::state_dir()?.join("executions.jsonl"))
}

/// `--log -`: the records go to stdout, one line each (a container's log).
pub const STDOUT: &str = "-";

/// Where the log is rotated unless `RUNBOX_LOG_MAX_BYTES` says otherwise.
pub const LOG_MAX_BYTES: u64 = 128 << 20;

/// The previous log, which a rotation leaves beside it (`executions.jsonl.1`).
pub fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// Appends each execution record as one line of JSON to a file, rotated by
/// size: past [`LOG_MAX_BYTES`] the file becomes `NAME.1` (replacing the one
/// before) and a new one starts, so the log never takes more than twice that.
pub struct RecordFile {
    path: PathBuf,
    max: u64,
    file: Mutex<File>,
}

impl RecordFile {
    pub fn open(path: &Path) -> std::io::Result<RecordFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::state::create_private_dir(dir)?;
        }
        let max = std::env::var("RUNBOX_LOG_MAX_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(LOG_MAX_BYTES);
        Ok(RecordFile { path: path.to_path_buf(), max, file: Mutex::new(open_log(path)?) })
    }

    fn append(&self, json: &str) {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let mut line = String::with_capacity(json.len() + 1);
        line.push_str(json);
        line.push('\n');
        if let Err(e) = self.write_locked(&mut file, line.as_bytes()) {
            eprintln!("runbox: cannot write the execution record: {e}");
        }
    }

    /// Other runbox processes append to the same file: one locked write per
    /// record keeps lines whole. Under the lock, a file another process
    /// rotated away is left for the new one, and a full one is rotated.
    fn write_locked(&self, file: &mut File, line: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        for _ in 0..8 {
            file.lock()?;
            let held = file.metadata()?;
            match std::fs::metadata(&self.path) {
                Ok(now) if (now.dev(), now.ino()) == (held.dev(), held.ino()) => break,
                _ => {
                    file.unlock()?;
                    *file = open_log(&self.path)?;
                }
            }
        }
        if file.metadata()?.len() > 0 && file.metadata()?.len() + line.len() as u64 > self.max {
            std::fs::rename(&self.path, rotated(&self.path))?;
            let fresh = open_log(&self.path)?;
            fresh.lock()?;
            file.unlock()?;
            *file = fresh;
        }
        let written = (&*file).write_all(line);
        file.unlock()?;
        written
    }
}

/// Opens the log to append, checking what was opened: not a symlink, a
/// regular file of this user's that others cannot write (outputs and masked
/// secrets of every run: created `0600`).
fn open_log(path: &Path) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let opened = rustix::fs::open(path, flags, Mode::from_raw_mode(0o600)).map_err(|e| match e {
        rustix::io::Errno::LOOP => std::io::Error::other("it is a symlink, which runbox does not follow for its log"),
        e => std::io::Error::from(e),
    })?;
    crate::state::owned_and_private(&opened, path).map_err(std::io::Error::other)?;
    if !rustix::fs::fstat(&opened).is_ok_and(|s| rustix::fs::FileType::from_raw_mode(s.st_mode).is_file()) {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    Ok(File::from(opened))
}

impl<S: tracing::Subscriber> Layer<S> for RecordFile {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if let Some(json) = record_of(event) {
            self.append(&json);
        }
    }
}

/// Writes each execution record as one line of JSON to stdout (`--log -`:
/// a container's log), one locked write per line.
pub struct RecordStdout;

impl<S: tracing::Subscriber> Layer<S> for RecordStdout {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if let Some(json) = record_of(event) {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(format!("{json}\n").as_bytes()).and_then(|()| out.flush()) {
                eprintln!("runbox: cannot write the execution record to stdout: {e}");
            }
        }
    }
}

/// The record an event of [`TARGET`] carries.
fn record_of(event: &tracing::Event<'_>) -> Option<String> {
    if event.metadata().target() != TARGET {
        return None;
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
    find.0
}
