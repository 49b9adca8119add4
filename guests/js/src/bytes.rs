//! The native half of `TextEncoder`, `TextDecoder` and `Buffer`: text to
//! bytes and back in the encodings Node's `Buffer` names (utf8, hex, base64,
//! base64url, latin1), decoded as leniently as Node decodes them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};

use crate::fs::bytes_of;

pub(crate) fn register<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set("encode", Function::new(ctx.clone(), encode)?)?;
    native.set("decode", Function::new(ctx.clone(), decode)?)?;
    Ok(())
}

/// `text` as bytes in `encoding`.
fn encode<'js>(ctx: Ctx<'js>, text: String, encoding: String) -> rquickjs::Result<Value<'js>> {
    let bytes = match encoding.as_str() {
        "utf8" => text.into_bytes(),
        "hex" => from_hex(&text),
        "base64" | "base64url" => from_base64(&text),
        "latin1" => text.chars().map(|c| c as u32 as u8).collect(),
        "ascii" => text.chars().map(|c| (c as u32 as u8) & 0x7f).collect(),
        "utf16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        other => return Err(Exception::throw_type(&ctx, &format!("Unknown encoding: {other}"))),
    };
    Ok(TypedArray::<u8>::new(ctx, bytes)?.into_value())
}

/// The bytes of `array` from `start` to `end` as text in `encoding`; with
/// `fatal`, malformed UTF-8 throws (as `TextDecoder` with `fatal: true`).
fn decode<'js>(
    ctx: Ctx<'js>,
    array: TypedArray<'js, u8>,
    encoding: String,
    start: usize,
    end: usize,
    fatal: bool,
) -> rquickjs::Result<String> {
    let all = bytes_of(&array);
    let bytes = all.get(start.min(end).min(all.len())..end.min(all.len())).unwrap_or_default();
    Ok(match encoding.as_str() {
        "utf8" if fatal => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_string(),
            Err(_) => {
                let error = Exception::from_message(ctx.clone(), "The encoded data was not valid for encoding utf-8")?;
                error.as_object().set("name", "TypeError")?;
                error.as_object().set("code", "ERR_ENCODING_INVALID_ENCODED_DATA")?;
                return Err(error.throw());
            }
        },
        "utf8" => String::from_utf8_lossy(bytes).into_owned(),
        "hex" => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        "base64" => STANDARD.encode(bytes),
        "base64url" => URL_SAFE_NO_PAD.encode(bytes),
        "latin1" => bytes.iter().map(|&b| char::from(b)).collect(),
        "ascii" => bytes.iter().map(|&b| char::from(b & 0x7f)).collect(),
        "utf16le" => {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        other => return Err(Exception::throw_type(&ctx, &format!("Unknown encoding: {other}"))),
    })
}

/// Node's hex: pairs of digits up to the first pair that is not one.
fn from_hex(text: &str) -> Vec<u8> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes().chunks_exact(2).map_while(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

/// Node's base64: either alphabet, whitespace and other characters skipped,
/// the first `=` ending the data, trailing bits dropped.
fn from_base64(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        bits = bits << 6 | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_as_node_does() {
        assert_eq!(from_base64("aGVsbG8="), b"hello");
        assert_eq!(from_base64("aGVs bG8"), b"hello");
        assert_eq!(from_base64("_-8"), [0xff, 0xef]);
        assert_eq!(from_base64("aGk=aGk="), b"hi");
    }

    #[test]
    fn hex_stops_at_the_first_bad_pair() {
        assert_eq!(from_hex("41424g43"), b"AB");
        assert_eq!(from_hex("414"), b"A");
    }
}
