  // --------------------------------------------------------- Math.random ---
  // xoshiro128**, reseeded by the host's randomness at every run so that a
  // pre-initialised snapshot never replays one sequence.
  let s0 = 1, s1 = 0, s2 = 0, s3 = 0;
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));
  function next() {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }
  Math.random = function random() {
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };

