  // ------------------------------------------ TextEncoder, TextDecoder ---
  const asUint8 = (v) => (v instanceof Uint8Array ? v : new Uint8Array(v.buffer || v, v.byteOffset || 0, v.byteLength));
  const bytesOf = (v) => {
    if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) return new Uint8Array(v);
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return null;
  };

  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(input = '') {
      const bytes = native.encode(String(input), 'utf8');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    encodeInto(input, dest) {
      const text = String(input);
      let read = 0;
      let written = 0;
      for (const ch of text) {
        const bytes = native.encode(ch, 'utf8');
        if (written + bytes.length > dest.length) break;
        dest.set(bytes, written);
        written += bytes.length;
        read += ch.length;
      }
      return { read, written };
    }
  }

  const DECODERS = { 'utf-8': 'utf8', 'utf-16le': 'utf16le', 'windows-1252': 'latin1' };
  const LABELS = {
    'utf-8': 'utf-8', utf8: 'utf-8', 'unicode-1-1-utf-8': 'utf-8',
    'utf-16le': 'utf-16le', 'utf-16': 'utf-16le',
    latin1: 'windows-1252', 'iso-8859-1': 'windows-1252', 'windows-1252': 'windows-1252', ascii: 'windows-1252', 'us-ascii': 'windows-1252',
  };

  class TextDecoder {
    constructor(label = 'utf-8', options = {}) {
      const encoding = LABELS[String(label).trim().toLowerCase()];
      if (encoding === undefined) {
        throw nodeError(RangeError, 'ERR_ENCODING_NOT_SUPPORTED', `The "${label}" encoding is not supported`);
      }
      Object.defineProperties(this, {
        _encoding: { value: encoding },
        _fatal: { value: Boolean(options && options.fatal) },
        _ignoreBOM: { value: Boolean(options && options.ignoreBOM) },
        _pending: { value: new Uint8Array(0), writable: true },
        _started: { value: false, writable: true },
      });
    }
    get encoding() {
      return this._encoding;
    }
    get fatal() {
      return this._fatal;
    }
    get ignoreBOM() {
      return this._ignoreBOM;
    }
    decode(input, options = {}) {
      let bytes = input === undefined ? new Uint8Array(0) : bytesOf(input);
      if (bytes === null) {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "input" argument must be an instance of ArrayBuffer or ArrayBufferView. Received ${inspect(input)}`);
      }
      if (this._pending.length) {
        const joined = new Uint8Array(this._pending.length + bytes.length);
        joined.set(this._pending);
        joined.set(bytes, this._pending.length);
        bytes = joined;
      }
      let end = bytes.length;
      if (options && options.stream) end -= incompleteTail(bytes, this._encoding);
      this._pending = bytes.slice(end);
      let text = native.decode(asUint8(bytes), DECODERS[this._encoding], 0, end, this._fatal);
      if (!this._started && !this._ignoreBOM && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this._started = Boolean(options && options.stream);
      return text;
    }
  }

  // How many bytes at the end of `bytes` begin a character not yet whole.
  function incompleteTail(bytes, encoding) {
    if (encoding === 'utf-16le') return bytes.length % 2;
    if (encoding !== 'utf-8') return 0;
    for (let back = 1; back <= Math.min(3, bytes.length); back++) {
      const b = bytes[bytes.length - back];
      if ((b & 0xc0) === 0x80) continue;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return need > back ? back : 0;
    }
    return 0;
  }

  // -------------------------------------------------------------- Buffer ---
  // Node's Buffer: a Uint8Array with its encodings and byte accessors.
  const ENCODINGS = {
    utf8: 'utf8', 'utf-8': 'utf8', hex: 'hex', base64: 'base64', base64url: 'base64url',
    latin1: 'latin1', binary: 'latin1', ascii: 'ascii',
    ucs2: 'utf16le', 'ucs-2': 'utf16le', utf16le: 'utf16le', 'utf-16le': 'utf16le',
  };
  function encodingOf(encoding) {
    if (encoding === undefined || encoding === null) return 'utf8';
    const known = ENCODINGS[String(encoding).toLowerCase()];
    if (known === undefined) throw nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${encoding}`);
    return known;
  }

  class Buffer extends Uint8Array {
    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') {
        const bytes = native.encode(value, encodingOf(encodingOrOffset));
        return new Buffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
        const offset = encodingOrOffset === undefined ? 0 : Number(encodingOrOffset);
        return new Buffer(value, offset, length === undefined ? value.byteLength - offset : Number(length));
      }
      if (ArrayBuffer.isView(value)) {
        const copy = new Buffer(value.length);
        for (let i = 0; i < value.length; i++) copy[i] = Number(value[i]) & 255;
        return copy;
      }
      if (value !== null && typeof value === 'object') {
        if (value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data);
        if (typeof value.length === 'number' || Array.isArray(value)) {
          const copy = new Buffer(value.length >>> 0);
          for (let i = 0; i < copy.length; i++) copy[i] = Number(value[i]) & 255;
          return copy;
        }
        const primitive = value.valueOf();
        if (primitive !== value && primitive !== null && primitive !== undefined) return Buffer.from(primitive, encodingOrOffset, length);
      }
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received ${inspect(value)}`,
      );
    }
    static alloc(size, fill, encoding) {
      const buffer = new Buffer(sizeOf(size));
      if (fill !== undefined && fill !== 0) buffer.fill(fill, 0, buffer.length, encoding);
      return buffer;
    }
    static allocUnsafe(size) {
      return new Buffer(sizeOf(size));
    }
    static allocUnsafeSlow(size) {
      return new Buffer(sizeOf(size));
    }
    static isBuffer(value) {
      return value instanceof Buffer;
    }
    static isEncoding(encoding) {
      return typeof encoding === 'string' && ENCODINGS[encoding.toLowerCase()] !== undefined;
    }
    static byteLength(value, encoding) {
      if (typeof value !== 'string') return value.byteLength;
      return native.encode(value, encodingOf(encoding)).length;
    }
    static concat(list, totalLength) {
      if (!Array.isArray(list)) {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "list" argument must be an instance of Array. Received ${inspect(list)}`);
      }
      const total = totalLength === undefined ? list.reduce((n, b) => n + b.length, 0) : Number(totalLength);
      const out = Buffer.alloc(total);
      let at = 0;
      for (const b of list) {
        if (at >= total) break;
        const part = asUint8(b);
        out.set(part.length > total - at ? part.subarray(0, total - at) : part, at);
        at += part.length;
      }
      return out;
    }
    static compare(a, b) {
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
    }
    toString(encoding, start = 0, end = this.length) {
      start = Math.max(0, start | 0);
      end = Math.min(this.length, end === undefined ? this.length : end | 0);
      if (end <= start) return '';
      return native.decode(this, encodingOf(encoding), start, end, false);
    }
    toLocaleString(encoding, start, end) {
      return this.toString(encoding, start, end);
    }
    toJSON() {
      return { type: 'Buffer', data: Array.from(this) };
    }
    equals(other) {
      return Buffer.compare(this, other) === 0;
    }
    compare(other) {
      return Buffer.compare(this, other);
    }
    slice(start, end) {
      return this.subarray(start, end);
    }
    write(text, offset, length, encoding) {
      if (typeof offset === 'string') [offset, length, encoding] = [0, undefined, offset];
      else if (typeof length === 'string') [length, encoding] = [undefined, length];
      offset = offset === undefined ? 0 : offset >>> 0;
      const bytes = native.encode(String(text), encodingOf(encoding));
      const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length >>> 0);
      this.set(bytes.subarray(0, n), offset);
      return n;
    }
    fill(value, offset = 0, end = this.length, encoding) {
      if (typeof offset === 'string') [offset, end, encoding] = [0, this.length, offset];
      if (typeof value === 'string') {
        const bytes = value.length === 1 && value.charCodeAt(0) < 128 && encoding === undefined ? [value.charCodeAt(0)] : native.encode(value, encodingOf(encoding));
        if (bytes.length === 0) return Uint8Array.prototype.fill.call(this, 0, offset, end);
        for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
        return this;
      }
      if (ArrayBuffer.isView(value)) {
        for (let i = offset, j = 0; i < end; i++, j = (j + 1) % value.length) this[i] = value[j];
        return this;
      }
      return Uint8Array.prototype.fill.call(this, Number(value) & 255, offset, end);
    }
    copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
      const part = this.subarray(sourceStart, Math.min(sourceEnd, sourceStart + target.length - targetStart));
      target.set(part, targetStart);
      return part.length;
    }
    indexOf(value, byteOffset = 0, encoding) {
      const needle = typeof value === 'number' ? [value & 255] : typeof value === 'string' ? Buffer.from(value, encoding) : value;
      let from = byteOffset < 0 ? Math.max(0, this.length + byteOffset) : byteOffset;
      if (needle.length === 0) return Math.min(from, this.length);
      outer: for (let i = from; i <= this.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    lastIndexOf(value, byteOffset = this.length, encoding) {
      const needle = typeof value === 'number' ? [value & 255] : typeof value === 'string' ? Buffer.from(value, encoding) : value;
      outer: for (let i = Math.min(byteOffset, this.length - needle.length); i >= 0; i--) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    includes(value, byteOffset, encoding) {
      return this.indexOf(value, byteOffset, encoding) !== -1;
    }
    get parent() {
      return this.buffer;
    }
    get offset() {
      return this.byteOffset;
    }
    [Symbol.for('nodejs.util.inspect.custom')]() {
      const shown = Array.from(this.subarray(0, 50), (b) => b.toString(16).padStart(2, '0')).join(' ');
      const more = this.length > 50 ? ` ... ${this.length - 50} more byte${this.length - 50 > 1 ? 's' : ''}` : '';
      return `<Buffer${shown ? ` ${shown}` : ''}${more}>`;
    }
  }
  // readUInt16LE, writeInt32BE, readDoubleLE, …: through a DataView.
  for (const [name, size, get, set] of [
    ['UInt8', 1, 'getUint8', 'setUint8'], ['Int8', 1, 'getInt8', 'setInt8'],
    ['UInt16', 2, 'getUint16', 'setUint16'], ['Int16', 2, 'getInt16', 'setInt16'],
    ['UInt32', 4, 'getUint32', 'setUint32'], ['Int32', 4, 'getInt32', 'setInt32'],
    ['Float', 4, 'getFloat32', 'setFloat32'], ['Double', 8, 'getFloat64', 'setFloat64'],
    ['BigUInt64', 8, 'getBigUint64', 'setBigUint64'], ['BigInt64', 8, 'getBigInt64', 'setBigInt64'],
  ]) {
    const ends = size === 1 ? [['', false]] : [['LE', true], ['BE', false]];
    for (const [end, little] of ends) {
      const check = (buffer, offset) => {
        if (!Number.isInteger(offset) || offset < 0 || offset + size > buffer.length) {
          throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "offset" is out of range. It must be >= 0 and <= ${buffer.length - size}. Received ${offset}`);
        }
      };
      const view = (buffer) => new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      const methods = {
        [`read${name}${end}`](offset = 0) {
          check(this, offset);
          return view(this)[get](offset, little);
        },
        [`write${name}${end}`](value, offset = 0) {
          check(this, offset);
          view(this)[set](offset, value, little);
          return offset + size;
        },
      };
      for (const [method, f] of Object.entries(methods)) {
        Object.defineProperty(Buffer.prototype, method, { value: f, writable: true, configurable: true });
        if (name.includes('UInt')) Object.defineProperty(Buffer.prototype, method.replace('UInt', 'Uint'), { value: f, writable: true, configurable: true });
      }
    }
  }

  function sizeOf(size) {
    if (typeof size !== 'number' || !(size >= 0) || size > 2 ** 32) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be >= 0 && <= 4294967296. Received ${inspect(size)}`);
    }
    return Math.floor(size);
  }
