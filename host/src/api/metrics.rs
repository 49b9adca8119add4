//! What `GET /metrics` tells Prometheus: executions by runbook and status,
//! their and their steps' durations, executions in flight, fuel, HTTP
//! requests by route and status, and authentication failures by reason.
//! Labels come only from what the server names itself (a runbook's file
//! name, a route's template, a status): a caller cannot make new series.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::executions::Status;
use crate::run::records::report::RunReport;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Ended {
    runbook: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Runbook {
    runbook: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepType {
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

type Durations<L> = Family<L, Histogram, fn() -> Histogram>;

/// From 5 ms to about 45 minutes.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 3.0, 14))
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    executions: Family<Ended, Counter>,
    execution_seconds: Durations<Runbook>,
    step_seconds: Durations<StepType>,
    in_flight: Gauge,
    fuel: Family<Runbook, Counter>,
    requests: Family<Answered, Counter>,
    auth_failures: Family<Reason, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("runbox");
        let executions = Family::<Ended, Counter>::default();
        registry.register("executions", "Executions that ended, by runbook and status", executions.clone());
        let execution_seconds: Durations<Runbook> = Family::new_with_constructor(seconds);
        registry.register("execution_duration_seconds", "How long executions took", execution_seconds.clone());
        let step_seconds: Durations<StepType> = Family::new_with_constructor(seconds);
        registry.register(
            "step_duration_seconds",
            "How long steps took, by type (sh, js, runbook)",
            step_seconds.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("executions_in_flight", "Executions running now", in_flight.clone());
        let fuel = Family::<Runbook, Counter>::default();
        registry.register("fuel_consumed", "Fuel the sandboxed steps used, by runbook", fuel.clone());
        let requests = Family::<Answered, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
        let auth_failures = Family::<Reason, Counter>::default();
        registry.register("auth_failures", "Requests refused 401, by reason", auth_failures.clone());
        Metrics { registry, executions, execution_seconds, step_seconds, in_flight, fuel, requests, auth_failures }
    }
}

impl Metrics {
    pub(crate) fn started(&self) {
        self.in_flight.inc();
    }

    /// An execution of `runbook` (its file name) ended as `report` says.
    pub(crate) fn ended(&self, runbook: &str, status: Status, report: &RunReport) {
        self.in_flight.dec();
        let ended = Ended { runbook: runbook.to_string(), status: status.name().to_string() };
        self.executions.get_or_create(&ended).inc();
        let named = Runbook { runbook: runbook.to_string() };
        self.execution_seconds.get_or_create(&named).observe(report.duration_ms as f64 / 1000.0);
        let fuel: u64 = report.steps.iter().map(|s| s.fuel_consumed).sum();
        self.fuel.get_or_create(&named).inc_by(fuel);
        for step in &report.steps {
            let kind = StepType { r#type: step.language.to_string() };
            self.step_seconds.get_or_create(&kind).observe(step.duration_ms / 1000.0);
        }
    }

    /// A request to `route` (its template, or `unmatched`) was answered `status`.
    pub(crate) fn answered(&self, method: &str, route: &str, status: u16) {
        let answered = Answered { method: method.to_string(), route: route.to_string(), status: status.to_string() };
        self.requests.get_or_create(&answered).inc();
    }

    /// A request was refused 401 for `reason` (missing, expired, invalid).
    pub(crate) fn auth_failed(&self, reason: &'static str) {
        self.auth_failures.get_or_create(&Reason { reason: reason.to_string() }).inc();
    }

    /// The text format Prometheus scrapes.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        text
    }
}
