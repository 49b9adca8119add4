//! The exporter of a server built without the `otel` feature: there is
//! none (each type has no value, so `Spans` holds `None`).

use std::sync::Arc;

use super::{Answered, Incoming};
use crate::api::executions::Execution;
use crate::api::executions::Status;
use crate::run::records::report::RunReport;
use crate::run::seams::events::Events;

pub(super) enum Export {}
pub(super) enum Live {}
pub(super) enum Running {}
#[derive(Clone)]
pub(crate) enum Parent {}

impl Export {
    /// None: this build does not export, whatever `OTEL_*` says.
    pub(super) fn from_env() -> anyhow::Result<Option<Export>> {
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        {
            tracing::warn!(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but this runbox was built without the `otel` feature: no spans are exported"
            );
        }
        Ok(None)
    }

    pub(super) fn request(&self, _incoming: Option<&Incoming>, _method: &str, _route: &str) -> Live {
        match *self {}
    }

    pub(super) fn execution(&self, _parent: Option<&Parent>, _execution: &Execution) -> Running {
        match *self {}
    }

    pub(super) fn flush(&self) {
        match *self {}
    }
}

impl Live {
    pub(super) fn traceparent(&self) -> String {
        match *self {}
    }

    pub(super) fn parent(&self) -> Parent {
        match *self {}
    }

    pub(super) fn end(self, _answered: &Answered<'_>) {
        match self {}
    }
}

impl Running {
    pub(super) fn events(&self, _events: Arc<dyn Events>) -> Arc<dyn Events> {
        match *self {}
    }

    pub(super) fn end(self, _status: Status, _report: &RunReport) {
        match self {}
    }
}
