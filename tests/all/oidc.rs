//! `runbox serve --oidc-issuer URL --audience AUD`: tokens checked against
//! the keys of an OpenID Connect issuer the test serves on loopback (its
//! discovery document and key set), through a rotation of its keys.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::api::{key_pair, now, request, serve_keyed};
use crate::harness::Scratch;

/// An issuer on loopback: its discovery document names `issuer` (its own
/// URL unless told otherwise) and its key set is `keys`; `fetches` counts
/// reads of the key set.
struct Issuer {
    base: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

fn issuer(named: Option<&str>) -> Issuer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let keys = Arc::new(Mutex::new(json!({ "keys": [] })));
    let fetches = Arc::new(AtomicUsize::new(0));
    let document = json!({ "issuer": named.unwrap_or(&base), "jwks_uri": format!("{base}/keys") }).to_string();
    let (set, count) = (Arc::clone(&keys), Arc::clone(&fetches));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            while reader.read_line(&mut head).unwrap_or(0) > 2 && !head.ends_with("\r\n\r\n") {}
            let path = head.split(' ').nth(1).unwrap_or_default().to_string();
            let body = match path.as_str() {
                "/.well-known/openid-configuration" => document.clone(),
                "/keys" => {
                    count.fetch_add(1, Ordering::SeqCst);
                    set.lock().unwrap().to_string()
                }
                _ => String::new(),
            };
            let status = if body.is_empty() { "404 Not Found" } else { "200 OK" };
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    Issuer { base, keys, fetches }
}

/// An RSA key pair's private PEM and its public JWK named `kid`.
fn rsa(kid: &str) -> (Vec<u8>, Value) {
    let (private, _) = key_pair(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let mut jwk = Jwk::from_encoding_key(&EncodingKey::from_rsa_pem(&private).unwrap(), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_string());
    (private, serde_json::to_value(jwk).unwrap())
}

/// A token of `claims` signed RS256 with `private`, naming `kid`.
fn signed(claims: &Value, private: &[u8], kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(private).unwrap()).unwrap()
}

/// The status and error message of `GET /api/runbooks` with `token`.
fn answer(base: &str, token: &str) -> (u16, String) {
    let reply = request("GET", &format!("{base}/api/runbooks"), Some(token), &[], "");
    (reply.status, reply.json["error"]["message"].as_str().unwrap_or_default().to_string())
}

#[test]
fn an_issuers_tokens_are_checked_against_its_keys_through_a_rotation() {
    let s = Scratch::new();
    let issuer = issuer(None);
    let (first, first_jwk) = rsa("first");
    let (second, second_jwk) = rsa("second");
    *issuer.keys.lock().unwrap() = json!({ "keys": [first_jwk] });
    // The server reads the key set between these two instants.
    let spawned = Instant::now();
    let server = serve_keyed(&s, &["--oidc-issuer", &issuer.base, "--audience", "runbox-api"], &[]);
    let serving = Instant::now();
    let claims = json!({ "sub": "ada", "exp": now() + 600, "iss": issuer.base, "aud": "runbox-api" });
    assert_eq!(answer(&server.base, &signed(&claims, &first, Some("first"))), (200, String::new()));
    // Another audience, another issuer, no key named, an algorithm chosen by the token.
    let mut other = claims.clone();
    other["aud"] = json!("another-api");
    assert_eq!(
        answer(&server.base, &signed(&other, &first, Some("first"))),
        (401, "the token is not valid: InvalidAudience".to_string())
    );
    let mut other = claims.clone();
    other["iss"] = json!("https://issuer.example");
    assert_eq!(
        answer(&server.base, &signed(&other, &first, Some("first"))),
        (401, "the token is not valid: InvalidIssuer".to_string())
    );
    assert_eq!(
        answer(&server.base, &signed(&claims, &first, None)),
        (401, "the token is not valid: it names no key (`kid`)".to_string())
    );
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("first".into());
    let confused = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(b"public-key-bytes")).unwrap();
    assert_eq!(
        answer(&server.base, &confused),
        (401, "the token is not valid: it is signed HS256, its key `first` is RS256".to_string())
    );
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1, "the key set was read once, at start");
    // The issuer rotates its keys: a token of the new key makes the server
    // read the set again, once the floor since the last read has passed.
    *issuer.keys.lock().unwrap() = json!({ "keys": [second_jwk] });
    let early = answer(&server.base, &signed(&claims, &second, Some("second")));
    let floor = Duration::from_secs(10);
    // Surely within the floor (a machine this slow cannot tell).
    if spawned.elapsed() < floor {
        let unknown = format!("the token is not valid: its key `second` is not one of {}'s", issuer.base);
        assert_eq!(early, (401, unknown), "within the floor the set is not read again");
        assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
    }
    // Surely past it.
    std::thread::sleep(floor.saturating_sub(serving.elapsed()) + Duration::from_millis(200));
    assert_eq!(answer(&server.base, &signed(&claims, &second, Some("second"))), (200, String::new()));
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 2);
    // The retired key's tokens fail; a burst of unknown keys reads nothing.
    let retired = answer(&server.base, &signed(&claims, &first, Some("first")));
    assert_eq!(retired, (401, format!("the token is not valid: its key `first` is not one of {}'s", issuer.base)));
    for n in 0..20 {
        assert_eq!(answer(&server.base, &signed(&claims, &first, Some(&format!("forged-{n}")))).0, 401);
    }
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 2, "at most one read of the key set per floor");
}

#[test]
fn an_issuer_that_cannot_be_read_or_names_another_stops_the_server_naming_it() {
    let s = Scratch::new();
    let serve = |issuer: &str| {
        s.runbox()
            .args(["serve", "--dir", ".", "--addr", "127.0.0.1:0", "--oidc-issuer", issuer, "--audience", "a"])
            .run()
    };
    let gone = format!("http://127.0.0.1:{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    serve(&gone).code(2).stderr_has(&format!("cannot read {gone}/.well-known/openid-configuration"));
    let impostor = issuer(Some("https://issuer.example"));
    serve(&impostor.base).code(2).stderr_has(&format!(
        "{}/.well-known/openid-configuration names the issuer `https://issuer.example`, not `{}`",
        impostor.base, impostor.base
    ));
    serve("http://issuer.example")
        .code(2)
        .stderr_has("--oidc-issuer http://issuer.example: it must be https (http only on 127.0.0.1, localhost or ::1)");
    let empty = issuer(None);
    serve(&empty.base)
        .code(2)
        .stderr_has(&format!("{}/keys holds no signing key runbox can use (RSA, P-256, P-384 or Ed25519)", empty.base));
    let alone = s.runbox().args(["serve", "--dir", ".", "--oidc-issuer", &empty.base]).run();
    alone.code(2).stderr_has("--audience <AUD>");
}
