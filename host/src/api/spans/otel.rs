//! The exporter of a server built with the `otel` feature: OpenTelemetry's
//! SDK with its batch processor (a thread of its own, so no request waits
//! on the collector), OTLP/HTTP in protobuf, sent by ureq. The standard
//! `OTEL_*` variables configure it (endpoint, headers, timeout, sampler,
//! batch delay, service name, resource attributes) as they do any SDK's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status as SpanStatus, TraceContextExt, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, Span};

use super::{Answered, Incoming};
use crate::api::executions::{Execution, Status};
use crate::error::Failure;
use crate::model::Step;
use crate::run::records::report::{RunReport, StepReport};
use crate::run::seams::events::Events;
use crate::sandbox::Stream;

/// The longest name or attribute value runbox gives a span from a runbook
/// (a step's name, a file name); longer ones are cut.
const MAX_TEXT: usize = 256;

/// The most of a collector's answer read.
const ANSWER_LIMIT: u64 = 1 << 20;

pub(super) struct Export {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// A request's span, while it is answered.
pub(super) struct Live {
    span: Span,
}

/// What an execution's span is parented to: its request's span.
#[derive(Clone)]
pub(crate) struct Parent(SpanContext);

/// An execution's span, while it runs.
pub(super) struct Running {
    span: Mutex<Span>,
    context: Context,
    tracer: SdkTracer,
}

impl Export {
    pub(super) fn from_env() -> anyhow::Result<Option<Export>> {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        if disabled || !(set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
            return Ok(None);
        }
        let exporter = SpanExporter::builder()
            .with_http()
            .with_http_client(Ureq::new())
            .with_protocol(Protocol::HttpBinary)
            .build()
            .context("cannot export spans (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)")?;
        let mut resource = Resource::builder();
        if !set("OTEL_SERVICE_NAME") {
            resource = resource.with_service_name("runbox");
        }
        let resource = resource.with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION"))).build();
        let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
        let tracer = provider.tracer("runbox");
        Ok(Some(Export { provider, tracer }))
    }

    pub(super) fn request(&self, incoming: Option<&Incoming>, method: &str, route: &str) -> Live {
        let parent =
            incoming.and_then(remote).map_or_else(Context::new, |c| Context::new().with_remote_span_context(c));
        let span = self
            .tracer
            .span_builder(format!("{method} {route}"))
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", method.to_string()),
                KeyValue::new("http.route", route.to_string()),
            ])
            .start_with_context(&self.tracer, &parent);
        Live { span }
    }

    pub(super) fn execution(&self, parent: Option<&Parent>, execution: &Execution) -> Running {
        let parent = parent.map_or_else(Context::new, |p| Context::new().with_remote_span_context(p.0.clone()));
        let started: SystemTime = execution.started_at.into();
        let span = self
            .tracer
            .span_builder(cut(&format!("execute {}", execution.runbook)))
            .with_kind(SpanKind::Internal)
            .with_start_time(started)
            .with_attributes([
                KeyValue::new("runbox.execution_id", execution.id.clone()),
                KeyValue::new("runbox.runbook", cut(&execution.runbook)),
                KeyValue::new("runbox.correlation_id", cut(&execution.correlation_id)),
                KeyValue::new("enduser.id", cut(&execution.by_user)),
            ])
            .start_with_context(&self.tracer, &parent);
        let context = Context::new().with_remote_span_context(span.span_context().clone());
        Running { span: Mutex::new(span), context, tracer: self.tracer.clone() }
    }

    pub(super) fn flush(&self) {
        if let Err(e) = self.provider.shutdown_with_timeout(Duration::from_secs(5)) {
            tracing::warn!("cannot send the last spans: {e}");
        }
    }
}

/// The caller's span, as a parent.
fn remote(incoming: &Incoming) -> Option<SpanContext> {
    let flags = u8::from_str_radix(&incoming.flags, 16).ok()?;
    Some(SpanContext::new(
        TraceId::from_hex(&incoming.trace_id).ok()?,
        SpanId::from_hex(&incoming.span_id).ok()?,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    ))
}

impl Live {
    pub(super) fn traceparent(&self) -> String {
        let context = self.span.span_context();
        format!("00-{}-{}-{:02x}", context.trace_id(), context.span_id(), context.trace_flags().to_u8())
    }

    pub(super) fn parent(&self) -> Parent {
        Parent(self.span.span_context().clone())
    }

    pub(super) fn end(mut self, answered: &Answered<'_>) {
        let span = &mut self.span;
        span.set_attribute(KeyValue::new("http.response.status_code", i64::from(answered.status)));
        span.set_attribute(KeyValue::new("runbox.correlation_id", cut(answered.correlation_id)));
        if let Some(caller) = answered.caller {
            span.set_attribute(KeyValue::new("enduser.id", cut(caller)));
        }
        if let Some(id) = answered.execution_id {
            span.set_attribute(KeyValue::new("runbox.execution_id", cut(id)));
        }
        // A server span's error is the server's (5xx), not the caller's.
        if answered.status >= 500 {
            span.set_status(SpanStatus::error(answered.status.to_string()));
        }
        span.end();
    }
}

impl Running {
    pub(super) fn events(&self, events: Arc<dyn Events>) -> Arc<dyn Events> {
        Arc::new(Traced { events, parent: self.context.clone(), tracer: self.tracer.clone() })
    }

    pub(super) fn end(self, status: Status, report: &RunReport) {
        let mut span = self.span.into_inner().unwrap_or_else(|p| p.into_inner());
        span.set_attribute(KeyValue::new("runbox.status", status.name()));
        span.set_attribute(KeyValue::new("runbox.exit_code", i64::from(report.exit_code)));
        if let Some(error) = &report.error {
            span.set_attribute(KeyValue::new("runbox.error_code", error.code.as_str()));
        }
        if !matches!(status, Status::Succeeded) {
            span.set_status(SpanStatus::error(status.name()));
        }
        span.end();
    }
}

/// An execution's events seam that also makes a span of each step.
struct Traced {
    events: Arc<dyn Events>,
    parent: Context,
    tracer: SdkTracer,
}

impl Traced {
    fn step_span(
        &self,
        step: &Step,
        started: SystemTime,
        ended: SystemTime,
        attributes: Vec<KeyValue>,
        error: Option<&str>,
    ) {
        let mut span = self
            .tracer
            .span_builder(cut(&format!("step {}", step.name)))
            .with_kind(SpanKind::Internal)
            .with_start_time(started)
            .with_attributes(
                [
                    KeyValue::new("runbox.step", cut(&step.name)),
                    KeyValue::new("runbox.step.type", step.kind()),
                    KeyValue::new("runbox.step.line", i64::try_from(step.line).unwrap_or(i64::MAX)),
                ]
                .into_iter()
                .chain(attributes),
            )
            .start_with_context(&self.tracer, &self.parent);
        if let Some(error) = error {
            span.set_status(SpanStatus::error(error.to_string()));
        }
        span.end_with_timestamp(ended);
    }
}

impl Events for Traced {
    fn step_started(&self, step: &Step) {
        self.events.step_started(step);
    }

    fn output(&self, stream: Stream, bytes: &[u8]) {
        self.events.output(stream, bytes);
    }

    /// The step's span ends now and began its duration ago.
    fn step_finished(&self, step: &Step, report: &StepReport) {
        self.events.step_finished(step, report);
        let ended = SystemTime::now();
        let took = Duration::try_from_secs_f64(report.duration_ms / 1000.0).unwrap_or_default();
        let started = ended.checked_sub(took).unwrap_or(UNIX_EPOCH);
        let mut attributes = vec![
            KeyValue::new("runbox.step.exit_code", i64::from(report.exit_code)),
            KeyValue::new("runbox.step.fuel_consumed", i64::try_from(report.fuel_consumed).unwrap_or(i64::MAX)),
        ];
        let code = report.error.as_ref().map(|e| e.code.as_str());
        if let Some(code) = code {
            attributes.push(KeyValue::new("runbox.error_code", code));
        }
        let failed = (report.exit_code != 0).then(|| code.unwrap_or("exit status"));
        self.step_span(step, started, ended, attributes, failed);
    }

    fn step_refused(&self, step: &Step, failure: &Failure) {
        self.events.step_refused(step, failure);
        let now = SystemTime::now();
        let attributes = vec![KeyValue::new("runbox.error_code", failure.code.as_str())];
        self.step_span(step, now, now, attributes, Some(failure.code.as_str()));
    }

    fn notice(&self, text: &str) {
        self.events.notice(text);
    }

    fn preparing(&self, language: crate::model::Language) {
        self.events.preparing(language);
    }

    fn kept(&self) -> Option<String> {
        self.events.kept()
    }
}

/// `text`, cut to [`MAX_TEXT`] bytes on a character boundary.
fn cut(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// OTLP over ureq, blocking: the batch processor's thread waits on it.
#[derive(Debug)]
struct Ureq {
    agent: ureq::Agent,
    /// When a failed export was last said (seconds since the epoch), so a
    /// collector that is down is said once a minute, not once a batch.
    last_said: AtomicU64,
}

impl Ureq {
    fn new() -> Ureq {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Ureq { agent, last_said: AtomicU64::new(0) }
    }

    fn say(&self, what: &str) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let last = self.last_said.load(Ordering::Relaxed);
        if now >= last + 60 && self.last_said.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!("cannot export spans: {what}");
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for Ureq {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = request.map(|body| body.to_vec());
        let mut response = self.agent.run(request).inspect_err(|e| self.say(&e.to_string()))?;
        let body = response.body_mut().with_config().limit(ANSWER_LIMIT).read_to_vec()?;
        if !response.status().is_success() {
            self.say(&format!("the collector answered {}", response.status()));
        }
        let (parts, _) = response.into_parts();
        Ok(Response::from_parts(parts, Bytes::from(body)))
    }
}
