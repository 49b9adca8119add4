//! Who is calling: a bearer JWT checked against the one key the server was
//! given, or the keys of an OpenID Connect issuer (`oidc.rs`) (the
//! algorithm pinned, so `none` and HS/RS confusion are refused; `exp`
//! required, `nbf` checked), and the approvals its roles can give.

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::oidc::Oidc;
use crate::plan::claims::held;

/// The key tokens are checked with.
#[derive(Clone)]
pub struct Keys(Source);

#[derive(Clone)]
enum Source {
    /// One key, given.
    One { key: DecodingKey, algorithm: Algorithm },
    /// An issuer's keys, discovered.
    Issuer(Arc<Oidc>),
}

impl Keys {
    /// HS256 with the secret in `file` (surrounding white space trimmed).
    pub fn secret_file(file: &Path) -> anyhow::Result<Keys> {
        let secret = read_secret(file)?;
        Ok(Keys(Source::One { key: DecodingKey::from_secret(&secret), algorithm: Algorithm::HS256 }))
    }

    /// The keys of the OpenID Connect issuer at `issuer`, for tokens whose
    /// `aud` is `audience`.
    pub fn issuer(issuer: &str, audience: &str) -> anyhow::Result<Keys> {
        Oidc::discover(issuer, audience).map(|oidc| Keys(Source::Issuer(Arc::new(oidc)))).map_err(anyhow::Error::msg)
    }

    /// RS256 or ES256, by the PEM public key in `file`.
    pub fn public_key_file(file: &Path) -> anyhow::Result<Keys> {
        let pem = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
            return Ok(Keys(Source::One { key, algorithm: Algorithm::RS256 }));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
            return Ok(Keys(Source::One { key, algorithm: Algorithm::ES256 }));
        }
        anyhow::bail!("{}: not an RSA or EC (P-256) public key in PEM", file.display())
    }

    /// The claims of the token in an `Authorization: Bearer …` header.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Map<String, Value>, String> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("an `Authorization: Bearer <token>` header is required")?;
        refuse_critical(token)?;
        let (key, algorithm) = match &self.0 {
            Source::One { key, algorithm } => (key, *algorithm),
            Source::Issuer(oidc) => return oidc.verify(token),
        };
        let mut validation = Validation::new(algorithm);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("the token is not valid: {e}"))
    }
}

/// The HS256 secret in `file`: its bytes without surrounding white space
/// (an editor's final newline is not part of it), at least 32 of them.
fn read_secret(file: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let secret = text.trim_ascii();
    if secret.len() < 32 {
        anyhow::bail!("{}: an HS256 secret needs at least 32 bytes", file.display());
    }
    Ok(secret.to_vec())
}

/// The longest a minted token lives: it is for trying the API, not for
/// handing out.
pub const MAX_MINTED_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// An HS256 token signed with the secret in `file`, as the server checks
/// it: `sub`, `iat`, `exp` (`ttl` from now, at most [`MAX_MINTED_TTL`]),
/// and `roles` when any are given.
pub fn mint(file: &Path, sub: &str, roles: &[String], ttl: std::time::Duration) -> anyhow::Result<String> {
    if sub.trim().is_empty() {
        anyhow::bail!("--sub: give the caller's name (the records' by_user)");
    }
    if ttl.is_zero() || ttl > MAX_MINTED_TTL {
        anyhow::bail!("--ttl {ttl:?}: give a lifetime from 1s to 24h");
    }
    let secret = read_secret(file)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::from(sub));
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now + ttl.as_secs()));
    if !roles.is_empty() {
        claims.insert("roles".into(), Value::from(roles.to_vec()));
    }
    let key = jsonwebtoken::EncodingKey::from_secret(&secret);
    Ok(jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims, &key)?)
}

/// A token whose header names critical extensions (`crit`) is refused: a
/// recipient must understand each, and runbox understands none (RFC 7515
/// §4.1.11).
fn refuse_critical(token: &str) -> Result<(), String> {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else {
        return Ok(()); // Not base64: the decoder refuses it next.
    };
    match serde_json::from_slice::<Map<String, Value>>(&bytes) {
        Ok(header) if header.contains_key("crit") => {
            Err("the token's header names critical extensions (`crit`), which runbox does not understand".into())
        }
        _ => Ok(()),
    }
}

/// Whether the token holds, in `roles` or `groups`, one of `approvers`.
pub(crate) fn may_approve(approvers: &[String], claims: &Map<String, Value>) -> bool {
    let held: Vec<String> = ["roles", "groups"].iter().flat_map(|c| held(claims, c)).collect();
    approvers.is_empty() || approvers.iter().any(|a| held.contains(a))
}
