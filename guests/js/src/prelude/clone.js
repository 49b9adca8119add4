  // ------------------------------------------------- structuredClone, Blob ---
  // The HTML Standard's structured clone: objects, arrays, Map, Set, Date,
  // RegExp, errors, ArrayBuffers and their views, boxed primitives, cycles;
  // functions, symbols and class instances' prototypes are not cloned.
  function dataCloneError(v) {
    return new DOMException(`${typeof v === 'function' ? v.toString().slice(0, 60) : String(v)} could not be cloned.`, 'DataCloneError');
  }
  const ERRORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

  function structuredClone(value, options) {
    if (arguments.length === 0) throw new TypeError('The "value" argument must be specified');
    const memory = new Map();
    const transfer = (options && options.transfer) || [];
    const clone = (v) => {
      if (typeof v === 'symbol' || typeof v === 'function') throw dataCloneError(v);
      if (v === null || typeof v !== 'object') return v;
      if (memory.has(v)) return memory.get(v);
      let out;
      const tag = Object.prototype.toString.call(v);
      if (v instanceof Boolean || v instanceof Number || v instanceof String || v instanceof BigInt) out = Object(v.valueOf());
      else if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof Blob) return v;
      else if (v instanceof ArrayBuffer) out = transfer.includes(v) ? v : v.slice(0);
      else if (ArrayBuffer.isView(v)) {
        const buffer = clone(v.buffer);
        const Kind = v instanceof DataView ? DataView : Object.getPrototypeOf(Uint8Array).prototype.isPrototypeOf(v) ? globalThis[v[Symbol.toStringTag]] : null;
        if (Kind === null) throw dataCloneError(v);
        out = v instanceof DataView ? new DataView(buffer, v.byteOffset, v.byteLength) : new Kind(buffer, v.byteOffset, v.length);
      } else if (v instanceof Map) {
        out = new Map();
        memory.set(v, out);
        for (const [k, x] of v) out.set(clone(k), clone(x));
        return out;
      } else if (v instanceof Set) {
        out = new Set();
        memory.set(v, out);
        for (const x of v) out.add(clone(x));
        return out;
      } else if (v instanceof Error) {
        const Kind = ERRORS[v.name] || Error;
        out = Object.create(Kind.prototype);
        memory.set(v, out);
        const define = (name, x) => Object.defineProperty(out, name, { value: x, writable: true, configurable: true });
        if (v.message !== undefined) define('message', String(v.message));
        if (typeof v.stack === 'string') define('stack', v.stack);
        if ('cause' in v) define('cause', clone(v.cause));
        return out;
      } else if (Array.isArray(v)) {
        out = new Array(v.length);
        memory.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      } else if (tag === '[object Object]' || tag === '[object Arguments]') {
        out = {};
        memory.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      } else throw dataCloneError(v);
      memory.set(v, out);
      return out;
    };
    return clone(value);
  }

  class Blob {
    constructor(parts = [], options = {}) {
      const chunks = [];
      for (const part of parts) {
        if (part instanceof Blob) chunks.push(part._bytes);
        else if (bytesOf(part) !== null) chunks.push(bytesOf(part).slice());
        else chunks.push(native.encode(String(part), 'utf8'));
      }
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      const type = options && options.type !== undefined ? String(options.type) : '';
      Object.defineProperties(this, {
        _bytes: { value: bytes },
        _type: { value: /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : '' },
      });
    }
    get size() {
      return this._bytes.length;
    }
    get type() {
      return this._type;
    }
    async text() {
      return native.decode(this._bytes, 'utf8', 0, this._bytes.length, false);
    }
    async arrayBuffer() {
      return this._bytes.slice().buffer;
    }
    async bytes() {
      return this._bytes.slice();
    }
    slice(start = 0, end = this.size, type = '') {
      const blob = new Blob([this._bytes.slice(start, end)], { type });
      return blob;
    }
    get [Symbol.toStringTag]() {
      return 'Blob';
    }
    [Symbol.for('nodejs.util.inspect.custom')]() {
      return `Blob { size: ${this.size}, type: '${this.type}' }`;
    }
  }
