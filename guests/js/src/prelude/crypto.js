  // -------------------------------------------------------------- crypto ---
  // Web Crypto's getRandomValues, randomUUID and subtle's digest and HMAC,
  // with Node's createHash, createHmac, randomBytes, randomInt and
  // timingSafeEqual beside them (a script's `require('crypto')` becomes the
  // global). Randomness is the host's: seeded under --deterministic.
  const SUBTLE_HASHES = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
  const NODE_HASHES = { md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', 'rsa-sha256': 'sha256' };

  function subtleHash(algorithm) {
    const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
    const hash = SUBTLE_HASHES[String(name).toUpperCase()];
    if (hash === undefined) throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
    return hash;
  }
  function nodeHash(algorithm) {
    const hash = NODE_HASHES[String(algorithm).toLowerCase()];
    if (hash === undefined) throw nodeError(Error, 'ERR_OSSL_EVP_UNSUPPORTED', 'Digest method not supported');
    return hash;
  }
  const toArrayBuffer = (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  function dataBytes(data, name = 'data') {
    const bytes = bytesOf(data);
    if (bytes === null) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received ${inspect(data)}`);
    }
    return bytes.slice();
  }
  function updateBytes(data, encoding) {
    if (typeof data === 'string') return native.encode(data, encodingOf(encoding));
    return dataBytes(data);
  }
  const digestOut = (bytes, encoding) => {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return encoding === undefined || encoding === 'buffer' ? buffer : buffer.toString(encoding);
  };

  class Hash {
    constructor(algorithm, key) {
      Object.defineProperties(this, {
        _algorithm: { value: nodeHash(algorithm) },
        _key: { value: key },
        _parts: { value: [] },
        _done: { value: false, writable: true },
      });
    }
    update(data, encoding) {
      if (this._done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
      this._parts.push(updateBytes(data, encoding));
      return this;
    }
    digest(encoding) {
      if (this._done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
      this._done = true;
      const bytes = this._key === undefined ? native.digest(this._algorithm, this._parts) : native.hmac(this._algorithm, this._key, this._parts);
      return digestOut(bytes, encoding);
    }
    copy() {
      const copy = new Hash(this._algorithm, this._key);
      copy._parts.push(...this._parts);
      return copy;
    }
  }

  class CryptoKey {
    constructor(key, algorithm, extractable, usages) {
      Object.defineProperty(this, '_key', { value: key });
      this.type = 'secret';
      this.extractable = extractable;
      this.algorithm = algorithm;
      this.usages = usages;
    }
  }

  function randomFill(array) {
    if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
      throw new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, 'QuotaExceededError');
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(native.randomBytes(array.byteLength));
    return array;
  }

  const subtle = {
    async digest(algorithm, data) {
      return toArrayBuffer(native.digest(subtleHash(algorithm), [dataBytes(data)]));
    },
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (format !== 'raw') throw new DOMException(`Unable to import a key in the ${format} format`, 'NotSupportedError');
      const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
      if (String(name).toUpperCase() !== 'HMAC') throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
      const hashName = typeof algorithm.hash === 'string' ? algorithm.hash : algorithm.hash.name;
      subtleHash(hashName);
      const key = dataBytes(keyData, 'keyData');
      return new CryptoKey(key, { name: 'HMAC', hash: { name: hashName.toUpperCase() }, length: key.length * 8 }, Boolean(extractable), [...usages]);
    },
    async exportKey(format, key) {
      if (format !== 'raw') throw new DOMException(`Unable to export a key in the ${format} format`, 'NotSupportedError');
      if (!key.extractable) throw new DOMException('key is not extractable', 'InvalidAccessError');
      return toArrayBuffer(key._key);
    },
    async sign(algorithm, key, data) {
      if (!key.usages.includes('sign')) throw new DOMException('Unable to use this key to sign', 'InvalidAccessError');
      return toArrayBuffer(native.hmac(subtleHash(key.algorithm.hash), key._key, [dataBytes(data)]));
    },
    async verify(algorithm, key, signature, data) {
      if (!key.usages.includes('verify')) throw new DOMException('Unable to use this key to verify', 'InvalidAccessError');
      const expected = native.hmac(subtleHash(key.algorithm.hash), key._key, [dataBytes(data)]);
      return timingSafeEqual(expected, dataBytes(signature, 'signature'));
    },
  };

  function timingSafeEqual(a, b) {
    if (a.byteLength !== b.byteLength) {
      throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
    }
    const x = bytesOf(a);
    const y = bytesOf(b);
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }

  const crypto = {
    subtle,
    getRandomValues: randomFill,
    randomUUID() {
      const b = native.randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
    createHash: (algorithm) => new Hash(algorithm),
    createHmac: (algorithm, key) => new Hash(algorithm, typeof key === 'string' ? native.encode(key, 'utf8') : dataBytes(key, 'key')),
    hash: (algorithm, data, encoding = 'hex') => new Hash(algorithm).update(data).digest(encoding),
    randomBytes(size, callback) {
      const bytes = native.randomBytes(sizeOf(size));
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (typeof callback === 'function') {
        queueMicrotask(() => callback(null, buffer));
        return undefined;
      }
      return buffer;
    },
    randomInt(min, max) {
      if (max === undefined) [min, max] = [0, min];
      const range = max - min;
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || range <= 0 || range > 2 ** 48) {
        throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
      }
      const b = native.randomBytes(6);
      const r = b.reduce((n, x) => n * 256 + x, 0);
      return min + Math.floor((r / 2 ** 48) * range);
    },
    timingSafeEqual,
    getHashes: () => Object.keys(NODE_HASHES).filter((h) => !h.startsWith('rsa')),
  };
