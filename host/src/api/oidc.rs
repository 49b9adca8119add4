//! Tokens from an OpenID Connect issuer (`--oidc-issuer URL --audience
//! AUD`): its discovery document names its key set (JWKS), which the server
//! reads at start and keeps; a token naming a key (`kid`) the set lacks
//! makes it read the set again (the issuer rotated its keys), at most once
//! per [`REFETCH_FLOOR`] whatever tokens arrive. Each key's algorithm is
//! pinned (its `alg`, else its type's), so a token cannot choose it; `iss`
//! must be the issuer and `aud` the audience.

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// The key set is read again for an unknown `kid` at most this often.
pub(crate) const REFETCH_FLOOR: Duration = Duration::from_secs(10);

/// How long a fetch from the issuer may take, and how much it may read.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const FETCH_LIMIT: u64 = 1 << 20;

/// An issuer's keys, as this server knows them.
pub(crate) struct Oidc {
    issuer: String,
    audience: String,
    jwks_uri: String,
    keys: RwLock<Vec<Key>>,
    /// When the key set was last read (or tried).
    fetched: Mutex<Instant>,
}

/// One of the issuer's signing keys.
struct Key {
    kid: String,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl Oidc {
    /// Reads `issuer`'s discovery document and key set: an issuer that
    /// cannot be read, or whose document names another issuer, is an error.
    pub(crate) fn discover(issuer: &str, audience: &str) -> Result<Oidc, String> {
        let issuer = issuer.trim_end_matches('/').to_string();
        fetchable(&issuer).map_err(|e| format!("--oidc-issuer {issuer}: {e}"))?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let document: Value = serde_json::from_str(&fetch(&url)?).map_err(|e| format!("{url}: not JSON: {e}"))?;
        let named = document["issuer"].as_str().unwrap_or_default().trim_end_matches('/');
        if named != issuer {
            return Err(format!("{url} names the issuer `{named}`, not `{issuer}`"));
        }
        let jwks_uri = document["jwks_uri"].as_str().ok_or_else(|| format!("{url} names no jwks_uri"))?.to_string();
        fetchable(&jwks_uri).map_err(|e| format!("{url}: its jwks_uri {jwks_uri}: {e}"))?;
        let keys = read_keys(&jwks_uri)?;
        if keys.is_empty() {
            return Err(format!("{jwks_uri} holds no signing key runbox can use (RSA, P-256, P-384 or Ed25519)"));
        }
        Ok(Oidc {
            issuer,
            audience: audience.to_string(),
            jwks_uri,
            keys: RwLock::new(keys),
            fetched: Mutex::new(Instant::now()),
        })
    }

    /// The claims of `token`, checked against the issuer's key it names.
    pub(crate) fn verify(&self, token: &str) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("the token is not valid: {e}"))?;
        let kid = header.kid.ok_or("the token is not valid: it names no key (`kid`)")?;
        let (algorithm, key) = match self.key(&kid) {
            Some(found) => found,
            None if self.refetch() => self.key(&kid).ok_or_else(|| unknown(&kid, &self.issuer))?,
            None => return Err(unknown(&kid, &self.issuer)),
        };
        if header.alg != algorithm {
            return Err(format!(
                "the token is not valid: it is signed {:?}, its key `{kid}` is {algorithm:?}",
                header.alg
            ));
        }
        let mut validation = Validation::new(algorithm);
        validation.validate_nbf = true;
        validation.leeway = 30;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("the token is not valid: {e}"))
    }

    fn key(&self, kid: &str) -> Option<(Algorithm, DecodingKey)> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.iter().find(|k| k.kid == kid).map(|k| (k.algorithm, k.key.clone()))
    }

    /// Reads the key set again unless it was read within the floor; whether
    /// it did. Requests meanwhile do not wait: they find the floor.
    fn refetch(&self) -> bool {
        {
            let mut fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
            if fetched.elapsed() < REFETCH_FLOOR {
                return false;
            }
            *fetched = Instant::now();
        }
        // A blocking read, off the runtime's worker.
        let read = tokio::task::block_in_place(|| read_keys(&self.jwks_uri));
        match read {
            Ok(keys) if !keys.is_empty() => {
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
                true
            }
            Ok(_) => {
                tracing::warn!("{}: no usable key in the set read again; the old set is kept", self.jwks_uri);
                false
            }
            Err(e) => {
                tracing::warn!("{e}; the old key set is kept");
                false
            }
        }
    }
}

fn unknown(kid: &str, issuer: &str) -> String {
    format!("the token is not valid: its key `{kid}` is not one of {issuer}'s")
}

/// A URL the server may read keys from: https, or http on this machine
/// only (a key set read in clear across a network could be anyone's).
fn fetchable(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if ["127.0.0.1", "localhost", "::1"].contains(&host) => Ok(()),
        _ => Err("it must be https (http only on 127.0.0.1, localhost or ::1)".into()),
    }
}

fn fetch(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(FETCH_TIMEOUT)).build().into();
    let mut response = agent.get(url).call().map_err(|e| format!("cannot read {url}: {e}"))?;
    response.body_mut().with_config().limit(FETCH_LIMIT).read_to_string().map_err(|e| format!("cannot read {url}: {e}"))
}

/// The signing keys of the set at `url` that runbox can use.
fn read_keys(url: &str) -> Result<Vec<Key>, String> {
    let set: JwkSet = serde_json::from_str(&fetch(url)?).map_err(|e| format!("{url}: not a JSON Web Key Set: {e}"))?;
    Ok(set.keys.iter().filter_map(key_of).collect())
}

/// A key of the set, with its algorithm: its `alg`, else its type's usual
/// one. Encryption keys, keys without a `kid` and symmetric keys are left.
fn key_of(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let kid = jwk.common.key_id.clone()?;
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        _ => return None,
    };
    let algorithm = match jwk.common.key_algorithm {
        Some(alg) => Algorithm::try_from(alg).ok()?,
        None => by_type,
    };
    // A key's own `alg` of another family (an RSA key marked HS256) is not used.
    if !matches!(
        (algorithm, by_type),
        (
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512,
            Algorithm::RS256
        ) | (Algorithm::ES256, Algorithm::ES256)
            | (Algorithm::ES384, Algorithm::ES384)
            | (Algorithm::EdDSA, Algorithm::EdDSA)
    ) {
        return None;
    }
    Some(Key { kid, algorithm, key: DecodingKey::from_jwk(jwk).ok()? })
}
