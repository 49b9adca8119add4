//! runbox's own log: `RUST_LOG` on stderr, and `--log FILE` as JSON lines.

use std::path::Path;

use runbox::run::records::record::{self, RecordFile, RecordStdout};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Records go to the log file (or stdout for `--log -`); runbox's own
/// warnings to stderr.
pub(crate) fn init_logging(log: Option<&Path>) {
    let path = log.map(Path::to_path_buf).or_else(record::default_log_path);
    let records: Option<Box<dyn Layer<Registry> + Send + Sync>> = match path {
        Some(p) if p == Path::new(record::STDOUT) => Some(Box::new(RecordStdout)),
        Some(p) => match RecordFile::open(&p) {
            Ok(file) => Some(Box::new(file)),
            Err(e) => {
                eprintln!("runbox: cannot open the execution log {}: {e}", p.display());
                None
            }
        },
        None => None,
    };
    let messages = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_filter(EnvFilter::try_from_env("RUNBOX_LOG_LEVEL").unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_filter(tracing_subscriber::filter::filter_fn(|m| m.target() != record::TARGET));
    tracing_subscriber::registry().with(records).with(messages).init();
}
