//! `runbox serve`: the address, the API base URL steps see, the token
//! keys, and the server's configuration.

use anyhow::Context;
use runbox::api::{self, Keys, ServeConfig};
use runbox::store::{self, Retention};
use runbox::{Cancel, Config, Runner};

use super::args::ServeArgs;

/// The API's address: `API_HOST:API_PORT` (localhost:8083).
pub(super) fn api_address() -> String {
    let host = std::env::var("API_HOST").unwrap_or_else(|_| "localhost".into());
    let port = std::env::var("API_PORT").unwrap_or_else(|_| "8083".into());
    format!("{host}:{port}")
}

/// `RUNBOOK_API_BASE_URL`: `API_PROTOCOL://` and `address`, or
/// `API_HOST:API_PORT`.
pub(super) fn api_base_url(address: Option<&str>) -> anyhow::Result<String> {
    let protocol = std::env::var("API_PROTOCOL").unwrap_or_else(|_| "http".into());
    if protocol != "http" && protocol != "https" {
        anyhow::bail!("API_PROTOCOL={protocol}: give http or https");
    }
    let address = address.map_or_else(api_address, str::to_string);
    let url = format!("{protocol}://{address}");
    url.parse::<axum::http::Uri>().map_err(|e| anyhow::anyhow!("the API base URL {url} is not a URL: {e}"))?;
    Ok(url)
}

/// `runbox serve`: API_HOST and API_PORT (the runbook API's own variables) unless --addr says.
/// Under the Kubernetes executor: the Jobs an earlier server of this pod
/// left (it died while they ran) are deleted before this one serves.
#[cfg(feature = "kubernetes")]
fn sweep(config: &Config) {
    if config.executor.is_none() {
        return;
    }
    let runner = runbox::jobs::runner();
    match runbox::jobs::sweep(&runner) {
        Ok(0) => {}
        Ok(n) => tracing::info!(runner = %runner, "deleted {n} Job(s) an earlier server of this pod left"),
        Err(e) => tracing::warn!(runner = %runner, "cannot sweep the Jobs an earlier server of this pod left: {e}"),
    }
}

#[cfg(not(feature = "kubernetes"))]
fn sweep(_: &Config) {}

pub(super) fn run_server(args: ServeArgs, config: Config) -> anyhow::Result<i32> {
    let requested = args.addr.unwrap_or_else(api_address);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&requested)
        .with_context(|| format!("--addr {requested}: not a HOST:PORT to listen on"))?
        .next()
        .with_context(|| format!("--addr {requested}: names no address"))?;
    // Bound before the runner is made, so that the base URL steps see names
    // the port listened on, also when the kernel picked it (`HOST:0`).
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {requested}"))?;
    let bound = listener.local_addr()?;
    let host = requested.rsplit_once(':').map_or(requested.as_str(), |(host, _)| host);
    let api_base_url = api_base_url(Some(&format!("{host}:{}", bound.port())))?;
    let keys = match (&args.jwt_secret_file, &args.jwt_public_key, &args.oidc_issuer) {
        (Some(file), _, _) => Keys::secret_file(file)?,
        (None, Some(file), _) => Keys::public_key_file(file)?,
        (None, None, Some(issuer)) => Keys::issuer(issuer, args.audience.as_deref().unwrap_or_default())?,
        (None, None, None) => anyhow::bail!("give --jwt-secret-file, --jwt-public-key or --oidc-issuer"),
    };
    let dir = args.dir.canonicalize().with_context(|| format!("cannot serve {}", args.dir.display()))?;
    let mut config = args.runner.config(config, api_base_url)?;
    // An instance warm for each execution that may run at once.
    config.warm_instances = args.max_concurrent;
    let serve = ServeConfig {
        dir,
        keys,
        max_concurrent: args.max_concurrent,
        request_timeout: args.request_timeout,
        max_body: runbox::run::sub_runbooks::execute::MAX_BODY_BYTES,
        header_timeout: args.header_timeout,
        max_connections_per_peer: args.max_connections_per_peer.max(1),
        retention: Retention {
            per_runbook: args.retain_runs.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            max_age_secs: args.retain_age.map(|d| d.as_secs().max(1)),
        },
        lapse: args.replica_lapse.max(store::HEARTBEAT * 2),
    };
    sweep(&config);
    let runner = Runner::new(config)?;
    runner.prepare_in_background();
    api::serve(serve, listener, runner, Cancel::new(), |bound| eprintln!("runbox: serving on http://{bound}"))?;
    Ok(0)
}
