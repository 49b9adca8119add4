  // --------------------------------------------------------------- fetch ---
  // A subset of WHATWG fetch over the host's `http` import: only the hosts
  // the step was granted answer; others reject with code EACCES.
  class Headers {
    constructor(init) {
      this._map = new Map();
      const pairs = init instanceof Headers ? [...init] : Array.isArray(init) ? init : Object.entries(init || {});
      for (const [k, v] of pairs) this.append(k, v);
    }
    append(name, value) {
      const key = String(name).toLowerCase();
      const prev = this._map.get(key);
      this._map.set(key, prev === undefined ? String(value) : `${prev}, ${value}`);
    }
    set(name, value) {
      this._map.set(String(name).toLowerCase(), String(value));
    }
    get(name) {
      return this._map.get(String(name).toLowerCase()) ?? null;
    }
    has(name) {
      return this._map.has(String(name).toLowerCase());
    }
    delete(name) {
      this._map.delete(String(name).toLowerCase());
    }
    forEach(f) {
      for (const [k, v] of this._map) f(v, k, this);
    }
    entries() {
      return this._map.entries();
    }
    keys() {
      return this._map.keys();
    }
    values() {
      return this._map.values();
    }
    [Symbol.iterator]() {
      return this._map.entries();
    }
  }

  class Response {
    constructor(raw) {
      this.status = raw.status;
      this.ok = raw.status >= 200 && raw.status < 300;
      this.statusText = '';
      this.url = raw.url;
      this.headers = new Headers(raw.headers);
      Object.defineProperty(this, '_body', { value: raw.body });
    }
    async text() {
      return native.utf8(this._body);
    }
    async json() {
      return JSON.parse(native.utf8(this._body));
    }
    async bytes() {
      return new Uint8Array(this._body);
    }
    async arrayBuffer() {
      return this._body.buffer.slice(this._body.byteOffset, this._body.byteOffset + this._body.byteLength);
    }
  }

  async function fetch(input, init = {}) {
    const headers = [...new Headers(init.headers)];
    const body = init.body === undefined || init.body === null ? '' : bytesOrText(init.body);
    const follow = init.redirect !== 'manual';
    const method = String(init.method || 'GET').toUpperCase();
    const signal = init.signal;
    if (signal) signal.throwIfAborted();
    const raw = native.fetch(method, String(input), headers, body, follow);
    // The request is not cut short by its signal: an abort that came due
    // while it ran (AbortSignal.timeout) rejects it when it returns.
    if (signal) {
      await null;
      runDueTimers();
      signal.throwIfAborted();
    }
    return new Response(raw);
  }

