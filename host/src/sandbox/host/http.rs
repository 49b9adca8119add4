//! The host side of the guests' `http` import: requests only to allowed
//! hosts, redirects followed here so every hop is checked, the step's
//! remaining time as the request's timeout, and a cap on response bodies.
//! A request to the API base URL never leaves the process: the run's
//! [`Calls`] answers it (a step's sub-runbook call by `curl` to `$RUNBOOK_API_BASE_URL`).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use ureq::http::Uri;

use crate::model::net::NetPolicy;
use crate::sandbox::bindings::js::runbox::sandbox::http as wit_http;
use crate::sandbox::calls::{ApiRequest, Calls};
use crate::sandbox::cancel::Cancel;
use crate::sandbox::store::StepState;

/// What a step that reaches for the network in deterministic mode is told.
const NETWORK_OFF: &str = "PermissionDenied: network is off in deterministic mode";

/// Response bodies larger than this are refused.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 32 << 20;
const MAX_REDIRECTS: usize = 10;

pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) follow_redirects: bool,
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) url: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// `host:port` is not allowed.
    Denied(String),
    Invalid(String),
    Failed(String),
    Timeout,
    TooLarge(u64),
}

/// `host:port` of an absolute http(s) URL.
fn target(uri: &Uri) -> Result<(String, u16), SendError> {
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err(SendError::Invalid(format!("`{uri}` is not an http:// or https:// URL"))),
    };
    let host =
        uri.host().filter(|h| !h.is_empty()).ok_or_else(|| SendError::Invalid(format!("`{uri}` names no host")))?;
    Ok((host.trim_matches(['[', ']']).to_ascii_lowercase(), uri.port_u16().unwrap_or(default_port)))
}

/// The path and query of `url` below `base`, if `url` is on the API base
/// URL: the same scheme, host and port, and a path at or under its path.
fn below_base(base: &str, url: &str) -> Option<String> {
    let base: Uri = base.parse().ok()?;
    let uri: Uri = url.parse().ok()?;
    if target(&base).ok()? != target(&uri).ok()? || !base.scheme_str()?.eq_ignore_ascii_case(uri.scheme_str()?) {
        return None;
    }
    let prefix = base.path().trim_end_matches('/');
    let rest = uri.path().strip_prefix(prefix)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    Some(match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    })
}

/// Answers `request` in process if it is for the API base URL of `calls`.
fn bridged(calls: &dyn Calls, request: &Request, deadline: Instant) -> Option<Response> {
    let path = below_base(calls.api_base_url(), &request.url)?;
    let answer = calls.serve(ApiRequest {
        method: request.method.to_ascii_uppercase(),
        path,
        headers: request.headers.clone(),
        body: request.body.clone(),
        deadline,
    });
    Some(Response {
        status: answer.status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("content-length".into(), answer.body.len().to_string()),
        ],
        body: answer.body,
        url: request.url.clone(),
    })
}

/// Sends `request` if `policy` allows every host it reaches, before `deadline`.
pub(crate) fn send(policy: &NetPolicy, request: Request, deadline: Instant) -> Result<Response, SendError> {
    let mut url = request.url.clone();
    let mut method = request.method.to_ascii_uppercase();
    let mut body = request.body;
    for _ in 0..=MAX_REDIRECTS {
        let uri: Uri = url.parse().map_err(|e| SendError::Invalid(format!("`{url}` is not a URL: {e}")))?;
        let (host, port) = target(&uri)?;
        if !policy.allows(&host, port) {
            return Err(SendError::Denied(format!("{host}:{port}")));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(SendError::Timeout);
        }
        let response = once(&uri, &method, &request.headers, &body, remaining)?;
        let location =
            response.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.clone());
        match (request.follow_redirects, response.status, location) {
            (true, 301 | 302 | 303 | 307 | 308, Some(location)) => {
                if response.status == 303 || (method == "POST" && matches!(response.status, 301 | 302)) {
                    method = "GET".into();
                    body = Vec::new();
                }
                url = resolve(&uri, &location);
            }
            _ => return Ok(Response { url, ..response }),
        }
    }
    Err(SendError::Failed(format!("more than {MAX_REDIRECTS} redirects")))
}

fn once(
    uri: &Uri,
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, SendError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        // The allowlist names the hosts a step reaches; no proxy from the
        // environment comes between.
        .proxy(None)
        .build()
        .into();
    let mut builder = ureq::http::Request::builder().method(method).uri(uri.clone());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = builder.body(body.to_vec()).map_err(|e| SendError::Invalid(format!("bad request: {e}")))?;
    let response = agent.run(request).map_err(failure)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = response.into_body().with_config().limit(MAX_RESPONSE_BYTES).read_to_vec().map_err(failure)?;
    Ok(Response { status, headers, body, url: uri.to_string() })
}

fn failure(error: ureq::Error) -> SendError {
    match error {
        ureq::Error::Timeout(_) => SendError::Timeout,
        ureq::Error::BodyExceedsLimit(limit) => SendError::TooLarge(limit),
        ureq::Error::BadUri(e) => SendError::Invalid(e),
        other => SendError::Failed(other.to_string()),
    }
}

/// `location` relative to `base`.
fn resolve(base: &Uri, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let origin = format!("{}://{}", base.scheme_str().unwrap_or("http"), base.authority().map_or("", |a| a.as_str()));
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{origin}{dir}{location}")
    }
}

/// [`send`] on a thread of its own, so that a cancelled step stops waiting
/// for its request at once; the request itself ends by the deadline.
fn send_until_cancelled(
    policy: &NetPolicy,
    request: Request,
    deadline: Instant,
    cancel: &Cancel,
) -> Result<Response, SendError> {
    let (sent, received) = mpsc::channel();
    let policy = policy.clone();
    std::thread::Builder::new()
        .name("runbox-http".into())
        .spawn(move || {
            let _ = sent.send(send(&policy, request, deadline));
        })
        .map_err(|e| SendError::Failed(format!("cannot start the request: {e}")))?;
    loop {
        match received.recv_timeout(Duration::from_millis(5)) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Timeout) if !cancel.is_cancelled() => {}
            // The epoch check that follows names the step's end.
            Err(mpsc::RecvTimeoutError::Timeout) => return Err(SendError::Failed("the step was interrupted".into())),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(SendError::Failed("the request was lost".into())),
        }
    }
}

impl wit_http::Host for StepState {
    fn send(&mut self, request: wit_http::Request) -> Result<wit_http::Response, wit_http::Error> {
        let request = Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            follow_redirects: request.follow_redirects,
        };
        if let Some(calls) = self.calls.clone()
            && let Some(r) = bridged(calls.as_ref(), &request, self.deadline)
        {
            return Ok(wit_http::Response { status: r.status, headers: r.headers, body: r.body, url: r.url });
        }
        if self.virtual_time.is_some() {
            // The answer would differ from run to run and machine to machine.
            let reached = request.url.parse::<Uri>().ok().and_then(|uri| target(&uri).ok());
            self.denied.push(reached.map_or_else(|| request.url.clone(), |(host, port)| format!("{host}:{port}")));
            return Err(wit_http::Error::Failed(NETWORK_OFF.into()));
        }
        match send_until_cancelled(&self.net, request, self.deadline, &self.cancel) {
            Ok(r) => Ok(wit_http::Response { status: r.status, headers: r.headers, body: r.body, url: r.url }),
            Err(SendError::Denied(host)) => {
                self.denied.push(host.clone());
                Err(wit_http::Error::Denied(host))
            }
            Err(SendError::Invalid(why)) => Err(wit_http::Error::Invalid(why)),
            Err(SendError::Failed(why)) => Err(wit_http::Error::Failed(why)),
            Err(SendError::Timeout) => Err(wit_http::Error::Timeout),
            Err(SendError::TooLarge(limit)) => Err(wit_http::Error::TooLarge(limit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_host_is_refused_before_any_connection() {
        let policy = NetPolicy::new(&["localhost"]).unwrap();
        let request = |url: &str| Request {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            follow_redirects: true,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            send(&policy, request("http://10.1.2.3:9/"), deadline).err(),
            Some(SendError::Denied("10.1.2.3:9".into()))
        );
        assert!(matches!(send(&policy, request("ftp://localhost/"), deadline), Err(SendError::Invalid(_))));
    }

    #[test]
    fn only_urls_on_the_api_base_url_are_bridged() {
        let base = "http://localhost:8083";
        assert_eq!(
            below_base(base, "http://localhost:8083/api/runbooks/A.md/execute").as_deref(),
            Some("/api/runbooks/A.md/execute")
        );
        assert_eq!(below_base(base, "HTTP://LOCALHOST:8083/x?y=1").as_deref(), Some("/x?y=1"));
        assert_eq!(below_base(base, "http://localhost:8083").as_deref(), Some("/"));
        assert_eq!(below_base(base, "http://localhost:8084/api"), None);
        assert_eq!(below_base(base, "https://localhost:8083/api"), None);
        assert_eq!(below_base(base, "http://127.0.0.1:8083/api"), None);
        assert_eq!(below_base(base, "http://localhost.evil:8083/api"), None);
        let prefixed = "https://ops.example/runbox/";
        assert_eq!(below_base(prefixed, "https://ops.example/runbox/api/x").as_deref(), Some("/api/x"));
        assert_eq!(below_base(prefixed, "https://ops.example:443/runbox").as_deref(), Some("/"));
        assert_eq!(below_base(prefixed, "https://ops.example/runboxes/api"), None);
        assert_eq!(below_base(prefixed, "https://ops.example/api"), None);
    }

    #[test]
    fn redirect_locations_resolve_against_the_request() {
        let base: Uri = "http://h:1/a/b?q".parse().unwrap();
        assert_eq!(resolve(&base, "/c"), "http://h:1/c");
        assert_eq!(resolve(&base, "d"), "http://h:1/a/d");
        assert_eq!(resolve(&base, "https://other/"), "https://other/");
    }
}
