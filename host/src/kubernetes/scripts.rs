//! A script from a key of a ConfigMap or a Secret, and each answer of the
//! API server worded for the person who runs the step: which object or key
//! is missing, which verb on which resource runbox's identity lacks (and
//! the Role rule that grants it), refused credentials, an unreachable
//! server. Decided by the Status's code, not its reason string.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

/// The kind of object a script is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }

    /// Its resource, as a Role's rule names it.
    fn resource(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configmaps",
            Kind::Secret => "secrets",
        }
    }
}

/// Reads key `key` of `kind` `name` in `namespace` through `client`;
/// `server` names the API server in errors.
pub(super) async fn fetch(
    client: &Client,
    kind: Kind,
    namespace: &str,
    name: &str,
    key: &str,
    server: &str,
) -> Result<String, String> {
    let what = format!("{} `{name}` in namespace `{namespace}`", kind.name());
    let text = match kind {
        Kind::ConfigMap => {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
            let map = api.get(name).await.map_err(|e| answer(&e, kind, namespace, name, server))?;
            let data = map.data.unwrap_or_default();
            match data.get(key) {
                Some(text) => text.clone(),
                None => {
                    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
                    let has = if keys.is_empty() { "no keys".to_string() } else { format!("keys {}", keys.join(", ")) };
                    return Err(format!("{what} has no key `{key}` (it has {has})"));
                }
            }
        }
        Kind::Secret => {
            let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let secret = api.get(name).await.map_err(|e| answer(&e, kind, namespace, name, server))?;
            // A Secret's key names are not its content, but runbox lists
            // none of them: the step names the key it wants.
            let bytes =
                secret.data.unwrap_or_default().remove(key).ok_or_else(|| format!("{what} has no key `{key}`"))?;
            String::from_utf8(bytes.0).map_err(|_| format!("key `{key}` of {what} is not UTF-8 text"))?
        }
    };
    Ok(text)
}

/// What the API server's answer (or its absence) means for the step.
fn answer(error: &kube::Error, kind: Kind, namespace: &str, name: &str, server: &str) -> String {
    let what = format!("{} `{name}` in namespace `{namespace}`", kind.name());
    match error {
        kube::Error::Api(status) => match status.code {
            404 => format!("the API server has no {what} (404 NotFound)"),
            403 => format!(
                "runbox may not get {what} (403 Forbidden: {}); a Role in `{namespace}` with the rule {{apiGroups: [\"\"], resources: [\"{}\"], resourceNames: [\"{name}\"], verbs: [\"get\"]}}, bound to runbox's ServiceAccount or user, grants it",
                status.message,
                kind.resource()
            ),
            401 => format!(
                "the API server at {server} did not accept runbox's credentials reading {what} (401 Unauthorized): check the kubeconfig's user, or the pod's ServiceAccount token"
            ),
            code => format!("the API server answered {code} {} reading {what}: {}", status.reason, status.message),
        },
        kube::Error::HyperError(e) => format!("cannot reach the Kubernetes API server at {server} to read {what}: {e}"),
        kube::Error::Service(e) => {
            format!("cannot reach the Kubernetes API server at {server} to read {what}: {}", sources(e.as_ref()))
        }
        other => format!("cannot read {what} from the API server at {server}: {other}"),
    }
}

/// An error and its causes, on one line.
fn sources(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let said = e.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request, Response};
    use kube::client::Body;
    use serde_json::{Value, json};

    const SERVER: &str = "https://10.0.0.1:6443/";

    /// Answers the one request the client makes with `status` and `body`,
    /// as the API server writes them, and returns what `fetch` made of it
    /// with the request's method and path.
    async fn answered(kind: Kind, key: &str, status: u16, body: Value) -> (Result<String, String>, String) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let server = tokio::spawn(async move {
            let (request, send) = handle.next_request().await.expect("a request");
            let seen = format!("{} {}", request.method(), request.uri());
            let answer = Response::builder().status(status).body(Body::from(body.to_string().into_bytes())).unwrap();
            send.send_response(answer);
            seen
        });
        let client = Client::new(service, "default");
        let fetched = fetch(&client, kind, "ops", "maintenance-scripts", key, SERVER).await;
        (fetched, server.await.unwrap())
    }

    /// A Status as the API server writes it.
    fn status(code: u16, reason: &str, message: &str) -> Value {
        json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code })
    }

    #[tokio::test]
    async fn a_configmaps_key_is_its_script() {
        let map = json!({ "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "maintenance-scripts", "namespace": "ops" },
            "data": { "check-db-lag.sh": "echo lag\n", "other.sh": "true" } });
        let (fetched, seen) = answered(Kind::ConfigMap, "check-db-lag.sh", 200, map.clone()).await;
        assert_eq!(fetched, Ok("echo lag\n".to_string()));
        assert_eq!(seen, "GET /api/v1/namespaces/ops/configmaps/maintenance-scripts");
        let (fetched, _) = answered(Kind::ConfigMap, "missing.sh", 200, map).await;
        assert_eq!(
            fetched,
            Err("ConfigMap `maintenance-scripts` in namespace `ops` has no key `missing.sh` (it has keys check-db-lag.sh, other.sh)".into())
        );
    }

    #[tokio::test]
    async fn a_secrets_key_is_decoded_and_its_other_keys_are_not_named() {
        let secret = json!({ "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": "maintenance-scripts", "namespace": "ops" },
            "data": { "cleanup.sh": "ZWNobyBjbGVhbgo=", "token": "c2VjcmV0LXZhbHVl" } });
        let (fetched, seen) = answered(Kind::Secret, "cleanup.sh", 200, secret.clone()).await;
        assert_eq!(fetched, Ok("echo clean\n".to_string()));
        assert_eq!(seen, "GET /api/v1/namespaces/ops/secrets/maintenance-scripts");
        let (fetched, _) = answered(Kind::Secret, "missing.sh", 200, secret).await;
        assert_eq!(fetched, Err("Secret `maintenance-scripts` in namespace `ops` has no key `missing.sh`".into()));
        let binary = json!({ "apiVersion": "v1", "kind": "Secret", "metadata": { "name": "maintenance-scripts" },
            "data": { "blob": "/w==" } });
        let (fetched, _) = answered(Kind::Secret, "blob", 200, binary).await;
        assert_eq!(
            fetched,
            Err("key `blob` of Secret `maintenance-scripts` in namespace `ops` is not UTF-8 text".into())
        );
    }

    #[tokio::test]
    async fn each_refusal_says_what_is_missing_and_how_to_grant_it() {
        let (fetched, _) = answered(
            Kind::ConfigMap,
            "k",
            404,
            status(404, "NotFound", "configmaps \"maintenance-scripts\" not found"),
        )
        .await;
        assert_eq!(
            fetched,
            Err("the API server has no ConfigMap `maintenance-scripts` in namespace `ops` (404 NotFound)".into())
        );
        let forbidden = "secrets \"maintenance-scripts\" is forbidden: User \"system:serviceaccount:ops:runbox\" cannot get resource \"secrets\" in API group \"\" in the namespace \"ops\"";
        let (fetched, _) = answered(Kind::Secret, "k", 403, status(403, "Forbidden", forbidden)).await;
        assert_eq!(
            fetched,
            Err(format!(
                "runbox may not get Secret `maintenance-scripts` in namespace `ops` (403 Forbidden: {forbidden}); a Role in `ops` with the rule {{apiGroups: [\"\"], resources: [\"secrets\"], resourceNames: [\"maintenance-scripts\"], verbs: [\"get\"]}}, bound to runbox's ServiceAccount or user, grants it"
            ))
        );
        let (fetched, _) = answered(Kind::ConfigMap, "k", 401, status(401, "Unauthorized", "Unauthorized")).await;
        assert_eq!(
            fetched,
            Err(format!(
                "the API server at {SERVER} did not accept runbox's credentials reading ConfigMap `maintenance-scripts` in namespace `ops` (401 Unauthorized): check the kubeconfig's user, or the pod's ServiceAccount token"
            ))
        );
        // Decided by the code: a reason string the client does not know.
        let (fetched, _) =
            answered(Kind::ConfigMap, "k", 404, status(404, "SomethingNew", "configmaps \"x\" not found")).await;
        assert_eq!(
            fetched,
            Err("the API server has no ConfigMap `maintenance-scripts` in namespace `ops` (404 NotFound)".into())
        );
        let (fetched, _) = answered(Kind::ConfigMap, "k", 500, status(500, "InternalError", "etcd is down")).await;
        assert_eq!(
            fetched,
            Err("the API server answered 500 InternalError reading ConfigMap `maintenance-scripts` in namespace `ops`: etcd is down".into())
        );
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_reached_is_named() {
        let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        drop(handle);
        let client = Client::new(service, "default");
        let fetched = fetch(&client, Kind::ConfigMap, "ops", "maintenance-scripts", "k", SERVER).await;
        let message = fetched.unwrap_err();
        assert!(
            message.starts_with(&format!(
                "cannot reach the Kubernetes API server at {SERVER} to read ConfigMap `maintenance-scripts` in namespace `ops`: "
            )),
            "{message}"
        );
    }
}
