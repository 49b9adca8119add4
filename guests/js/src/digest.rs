//! The native half of `crypto`: digests and HMACs (RustCrypto's crates) and
//! random bytes from the host (WASI random, seeded under `--deterministic`).

use hmac::{Hmac, KeyInit, Mac};
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};
use sha2::Digest;

use crate::fs::bytes_of;

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("digest", Function::new(ctx.clone(), digest)?)?;
    native.set("hmac", Function::new(ctx.clone(), hmac)?)?;
    native.set("randomBytes", Function::new(ctx.clone(), random_bytes)?)?;
    Ok(())
}

/// The hashes runbox knows, by Node's names (lower case, no dash).
fn hash_of(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match algorithm {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha224" => sha2::Sha224::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

fn unknown<'js>(ctx: &Ctx<'js>, algorithm: &str) -> rquickjs::Error {
    match Exception::from_message(ctx.clone(), &format!("Digest method not supported: {algorithm}")) {
        Ok(error) => {
            let _ = error.as_object().set("code", "ERR_CRYPTO_INVALID_DIGEST");
            let _ = error.as_object().set("name", "TypeError");
            error.throw()
        }
        Err(e) => e,
    }
}

/// Every chunk of `parts` (as `update` was called) through `algorithm`.
fn digest<'js>(ctx: Ctx<'js>, algorithm: String, parts: Vec<TypedArray<'js, u8>>) -> rquickjs::Result<Value<'js>> {
    let data: Vec<u8> = parts.iter().flat_map(bytes_of).collect();
    let hash = hash_of(&algorithm, &data).ok_or_else(|| unknown(&ctx, &algorithm))?;
    Ok(TypedArray::<u8>::new(ctx, hash)?.into_value())
}

fn mac<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hmac<'js>(
    ctx: Ctx<'js>,
    algorithm: String,
    key: TypedArray<'js, u8>,
    parts: Vec<TypedArray<'js, u8>>,
) -> rquickjs::Result<Value<'js>> {
    let key = bytes_of(&key);
    let data: Vec<u8> = parts.iter().flat_map(bytes_of).collect();
    let out = match algorithm.as_str() {
        "md5" => mac::<Hmac<md5::Md5>>(&key, &data),
        "sha1" => mac::<Hmac<sha1::Sha1>>(&key, &data),
        "sha224" => mac::<Hmac<sha2::Sha224>>(&key, &data),
        "sha256" => mac::<Hmac<sha2::Sha256>>(&key, &data),
        "sha384" => mac::<Hmac<sha2::Sha384>>(&key, &data),
        "sha512" => mac::<Hmac<sha2::Sha512>>(&key, &data),
        _ => return Err(unknown(&ctx, &algorithm)),
    };
    Ok(TypedArray::<u8>::new(ctx, out)?.into_value())
}

/// `n` random bytes, at most 64 KiB at once (as `getRandomValues`).
fn random_bytes<'js>(ctx: Ctx<'js>, n: usize) -> rquickjs::Result<Value<'js>> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| Exception::throw_internal(&ctx, &format!("no randomness: {e}")))?;
    Ok(TypedArray::<u8>::new(ctx, bytes)?.into_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_their_test_vectors() {
        let hex = |b: Vec<u8>| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(hash_of("sha256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(hash_of("sha1", b"abc").unwrap()), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(hash_of("md5", b"abc").unwrap()), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(mac::<Hmac<sha2::Sha256>>(b"key", b"The quick brown fox jumps over the lazy dog")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
