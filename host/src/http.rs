//! The host side of the guests' `http` import: requests only to allowed
//! hosts, redirects followed here so every hop is checked, the step's
//! remaining time as the request's timeout, and a cap on response bodies.

use std::time::{Duration, Instant};

use ureq::http::Uri;

/// Response bodies larger than this are refused.
pub const MAX_RESPONSE_BYTES: u64 = 32 << 20;
const MAX_REDIRECTS: usize = 10;

/// The hosts a step may reach: `HOST` (any port) or `HOST:PORT`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetPolicy {
    allowed: Vec<(String, Option<u16>)>,
}

impl NetPolicy {
    /// Parses `example.com`, `localhost:8083`, `[::1]:80`.
    pub fn new<S: AsRef<str>>(hosts: &[S]) -> Result<NetPolicy, String> {
        let mut allowed = Vec::new();
        for entry in hosts {
            let entry = entry.as_ref().trim();
            let uri: Uri = format!("http://{entry}/")
                .parse()
                .map_err(|_| format!("`{entry}` is not a host or host:port to allow"))?;
            let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| format!("`{entry}` names no host"))?;
            allowed.push((host.trim_matches(['[', ']']).to_ascii_lowercase(), uri.port_u16()));
        }
        Ok(NetPolicy { allowed })
    }

    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty()
    }

    /// The hosts of both policies.
    pub fn merged(&self, other: &NetPolicy) -> NetPolicy {
        let mut allowed = self.allowed.clone();
        allowed.extend(other.allowed.iter().filter(|h| !self.allowed.contains(h)).cloned());
        NetPolicy { allowed }
    }

    /// Whether every host `other` names is allowed here (a host without a
    /// port needs this policy to allow it on any port).
    pub fn covers(&self, other: &NetPolicy) -> bool {
        other.allowed.iter().all(|(h, p)| match p {
            Some(port) => self.allows(h, *port),
            None => self.allowed.contains(&(h.clone(), None)),
        })
    }

    /// Each allowed host as written on a command line: `HOST` or `HOST:PORT`.
    pub fn hosts(&self) -> Vec<String> {
        self.allowed
            .iter()
            .map(|(h, p)| {
                let host = if h.contains(':') { format!("[{h}]") } else { h.clone() };
                p.map_or(host.clone(), |p| format!("{host}:{p}"))
            })
            .collect()
    }

    fn allows(&self, host: &str, port: u16) -> bool {
        self.allowed.iter().any(|(h, p)| h == host && p.is_none_or(|p| p == port))
    }
}

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
pub(crate) enum Failure {
    /// `host:port` is not allowed.
    Denied(String),
    Invalid(String),
    Failed(String),
    Timeout,
    TooLarge(u64),
}

/// `host:port` of an absolute http(s) URL.
fn target(uri: &Uri) -> Result<(String, u16), Failure> {
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err(Failure::Invalid(format!("`{uri}` is not an http:// or https:// URL"))),
    };
    let host =
        uri.host().filter(|h| !h.is_empty()).ok_or_else(|| Failure::Invalid(format!("`{uri}` names no host")))?;
    Ok((host.trim_matches(['[', ']']).to_ascii_lowercase(), uri.port_u16().unwrap_or(default_port)))
}

/// Sends `request` if `policy` allows every host it reaches, before `deadline`.
pub(crate) fn send(policy: &NetPolicy, request: Request, deadline: Instant) -> Result<Response, Failure> {
    let mut url = request.url.clone();
    let mut method = request.method.to_ascii_uppercase();
    let mut body = request.body;
    for _ in 0..=MAX_REDIRECTS {
        let uri: Uri = url.parse().map_err(|e| Failure::Invalid(format!("`{url}` is not a URL: {e}")))?;
        let (host, port) = target(&uri)?;
        if !policy.allows(&host, port) {
            return Err(Failure::Denied(format!("{host}:{port}")));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Failure::Timeout);
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
    Err(Failure::Failed(format!("more than {MAX_REDIRECTS} redirects")))
}

fn once(
    uri: &Uri,
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, Failure> {
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
    let request = builder.body(body.to_vec()).map_err(|e| Failure::Invalid(format!("bad request: {e}")))?;
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

fn failure(error: ureq::Error) -> Failure {
    match error {
        ureq::Error::Timeout(_) => Failure::Timeout,
        ureq::Error::BodyExceedsLimit(limit) => Failure::TooLarge(limit),
        ureq::Error::BadUri(e) => Failure::Invalid(e),
        other => Failure::Failed(other.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_allowed_by_name_and_optionally_port() {
        let policy = NetPolicy::new(&["localhost:8083", "Example.com", "[::1]:80"]).unwrap();
        assert!(policy.allows("localhost", 8083));
        assert!(!policy.allows("localhost", 8084));
        assert!(policy.allows("example.com", 443) && policy.allows("example.com", 8080));
        assert!(policy.allows("::1", 80));
        assert!(!policy.allows("evil.example.com", 443));
        assert!(NetPolicy::new(&["http://x/y z"]).is_err());
    }

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
            Some(Failure::Denied("10.1.2.3:9".into()))
        );
        assert!(matches!(send(&policy, request("ftp://localhost/"), deadline), Err(Failure::Invalid(_))));
    }

    #[test]
    fn redirect_locations_resolve_against_the_request() {
        let base: Uri = "http://h:1/a/b?q".parse().unwrap();
        assert_eq!(resolve(&base, "/c"), "http://h:1/c");
        assert_eq!(resolve(&base, "d"), "http://h:1/a/d");
        assert_eq!(resolve(&base, "https://other/"), "https://other/");
    }
}
