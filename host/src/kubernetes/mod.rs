//! The Kubernetes API, as runbox reads it (the `kubernetes` feature): a
//! step's script from a key of a ConfigMap or a Secret. Where the API server
//! is and who runbox is there come from `KUBECONFIG` (else
//! `~/.kube/config`), else the pod's own ServiceAccount (kube's
//! `Config::infer`); a namespace the step does not give is the kubeconfig
//! context's, or the pod's.
//!
//! kube's client is async and runbox's checks are not: each read runs on a
//! thread of its own with a runtime of its own, within [`READ_TIMEOUT`].
//! The Kubernetes executor (`jobs/`) runs its Jobs on the same runtimes.

mod scripts;

use std::time::Duration;

use kube::{Client, Config};

pub use scripts::Kind;

/// The longest a read may take, from reading the configuration to the
/// API server's answer.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads key `key` of the `kind` object `name` in `namespace`. The error
/// says what to do; it never holds the object's content.
pub fn read(kind: Kind, name: &str, key: &str, namespace: &str) -> Result<String, String> {
    on_runtime(read_async(kind, name, key, namespace))
}

/// The namespace a read names when a step names none: the kubeconfig
/// context's, else the pod's own (`default` when neither says).
pub fn default_namespace() -> Result<String, String> {
    on_runtime(async {
        match tokio::time::timeout(READ_TIMEOUT, Config::infer()).await {
            Ok(Ok(config)) => Ok(config.default_namespace),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("reading the Kubernetes configuration timed out".into()),
        }
    })
}

/// Runs `work` to its end on a thread and a runtime of its own.
pub fn on_runtime<T: Send>(work: impl Future<Output = Result<T, String>> + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        let running = std::thread::Builder::new()
            .name("runbox-kubernetes".into())
            .spawn_scoped(scope, || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start a runtime to read the Kubernetes API: {e}"))?;
                runtime.block_on(work)
            })
            .map_err(|e| format!("cannot start a thread to read the Kubernetes API: {e}"))?;
        running.join().unwrap_or_else(|_| Err("reading the Kubernetes API failed".into()))
    })
}

async fn read_async(kind: Kind, name: &str, key: &str, namespace: &str) -> Result<String, String> {
    let config = match tokio::time::timeout(READ_TIMEOUT, Config::infer()).await {
        Ok(Ok(config)) => config,
        Ok(Err(e)) => {
            return Err(format!(
                "no Kubernetes configuration to read {} `{name}` with: neither KUBECONFIG (or ~/.kube/config) nor a pod's ServiceAccount ({e})",
                kind.name()
            ));
        }
        Err(_) => return Err(format!("reading the Kubernetes configuration took over {}s", READ_TIMEOUT.as_secs())),
    };
    let server = config.cluster_url.to_string();
    let client =
        Client::try_from(config).map_err(|e| format!("cannot make a client for the API server at {server}: {e}"))?;
    match tokio::time::timeout(READ_TIMEOUT, scripts::fetch(&client, kind, namespace, name, key, &server)).await {
        Ok(text) => text,
        Err(_) => Err(format!(
            "the Kubernetes API server at {server} did not answer within {}s (reading {} `{name}` in namespace `{namespace}`)",
            READ_TIMEOUT.as_secs(),
            kind.name()
        )),
    }
}
