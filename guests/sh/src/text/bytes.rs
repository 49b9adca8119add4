//! Byte searches the tools share, written for the guest: wasm32 has 64-bit
//! integers but memchr's fast paths there need SIMD the guest is not built
//! with, and every instruction is fuel.

/// Bytes that equal `byte` in `haystack`, eight at a time.
pub(crate) fn count(haystack: &[u8], byte: u8) -> u64 {
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let pattern = u64::from_ne_bytes([byte; 8]);
    let (words, rest) = haystack.as_chunks::<8>();
    let mut found = 0u64;
    for word in words {
        let x = u64::from_ne_bytes(*word) ^ pattern;
        // A byte's high bit ends up set exactly when the byte is not zero.
        let nonzero = ((x & LOW) + LOW) | x;
        found += u64::from((!nonzero & !LOW).count_ones());
    }
    found + rest.iter().filter(|&&b| b == byte).count() as u64
}

/// Where the `n`th (from 1) `byte` is in `haystack`, or how many there are
/// when fewer.
pub(crate) fn nth(haystack: &[u8], byte: u8, n: u64) -> Result<usize, u64> {
    let mut seen = 0;
    for at in memchr::memchr_iter(byte, haystack) {
        seen += 1;
        if seen == n {
            return Ok(at);
        }
    }
    Err(seen)
}
