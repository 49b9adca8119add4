//! A runbook's network policy: the hosts its steps may reach.

use ureq::http::Uri;

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

    /// The TCP ports the policy opens, for a kernel that filters by port
    /// alone (Landlock): a host without a port opens 80 and 443.
    pub fn tcp_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.allowed.iter().flat_map(|(_, p)| p.map_or(vec![80, 443], |p| vec![p])).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// Whether a request to `host:port` is allowed.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.allowed.iter().any(|(h, p)| h == host && p.is_none_or(|p| p == port))
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
}
