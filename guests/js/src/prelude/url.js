  // ------------------------------------------------- URL, URLSearchParams ---
  // The URL Standard's URL (parsed by the `url` crate) and its query.
  const URL_PARTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];

  function invalidUrl(input) {
    const error = new TypeError('Invalid URL');
    error.code = 'ERR_INVALID_URL';
    error.input = input;
    return error;
  }

  class URL {
    constructor(input, base) {
      if (arguments.length === 0) {
        throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "url" argument must be specified');
      }
      const text = String(input);
      const parts = native.urlParse(text, base === undefined ? undefined : String(base));
      if (parts === undefined || parts === null) throw invalidUrl(text);
      Object.defineProperty(this, '_parts', { value: parts, writable: true });
      Object.defineProperty(this, '_query', { value: new URLSearchParams(parts[9]) });
      this._query._url = this;
    }
    static canParse(input, base) {
      const parts = native.urlParse(String(input), base === undefined ? undefined : String(base));
      return parts !== undefined && parts !== null;
    }
    static parse(input, base) {
      return URL.canParse(input, base) ? new URL(input, base) : null;
    }
    _set(part, value) {
      const parts = native.urlSet(this._parts[0], part, String(value));
      if (parts === undefined || parts === null) throw invalidUrl(String(value));
      this._parts = parts;
      if (part === 'search' || part === 'href') this._query._replace(parts[9]);
    }
    get searchParams() {
      return this._query;
    }
    toString() {
      return this._parts[0];
    }
    toJSON() {
      return this._parts[0];
    }
    [Symbol.for('nodejs.util.inspect.custom')](depth, options) {
      const shown = {};
      for (const name of URL_PARTS) shown[name] = this[name];
      shown.searchParams = this.searchParams;
      const { searchParams, hash, ...rest } = shown;
      return `URL ${inspect({ ...rest, searchParams, hash }, options)}`;
    }
  }
  URL_PARTS.forEach((name, i) => {
    const descriptor = { get() { return this._parts[i]; }, enumerable: true, configurable: true };
    if (name !== 'origin') descriptor.set = function (value) { this._set(name, value); };
    Object.defineProperty(URL.prototype, name, descriptor);
  });

  // application/x-www-form-urlencoded, as the URL Standard writes it.
  const formEncode = (s) =>
    encodeURIComponent(s)
      .replace(/%20/g, '+')
      .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  function formDecode(s) {
    const text = s.replace(/\+/g, ' ');
    if (!text.includes('%')) return text;
    const bytes = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 37 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
        bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (c < 128) bytes.push(c);
      else for (const b of native.encode(text[i] + (c >= 0xd800 && c < 0xdc00 ? text[++i] || '' : ''), 'utf8')) bytes.push(b);
    }
    return native.decode(new Uint8Array(bytes), 'utf8', 0, bytes.length, false);
  }
  const usvString = (v) => String(v).toWellFormed();

  class URLSearchParams {
    constructor(init = '') {
      Object.defineProperty(this, '_list', { value: [], writable: true });
      Object.defineProperty(this, '_url', { value: null, writable: true });
      if (init instanceof URLSearchParams) this._list = init._list.map(([k, v]) => [k, v]);
      else if (init !== null && typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const entry = [...pair];
          if (entry.length !== 2) {
            throw nodeError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');
          }
          this._list.push([usvString(entry[0]), usvString(entry[1])]);
        }
      } else if (init !== null && typeof init === 'object') {
        for (const key of Object.keys(init)) this._list.push([usvString(key), usvString(init[key])]);
      } else this._replace(String(init));
    }
    _replace(query) {
      this._list = [];
      const text = query.startsWith('?') ? query.slice(1) : query;
      for (const piece of text.split('&')) {
        if (piece === '') continue;
        const eq = piece.indexOf('=');
        const name = eq === -1 ? piece : piece.slice(0, eq);
        const value = eq === -1 ? '' : piece.slice(eq + 1);
        this._list.push([formDecode(name), formDecode(value)]);
      }
    }
    _update() {
      if (this._url === null) return;
      const query = this.toString();
      this._url._parts = native.urlSet(this._url._parts[0], 'search', query);
    }
    get size() {
      return this._list.length;
    }
    append(name, value) {
      this._list.push([usvString(name), usvString(value)]);
      this._update();
    }
    delete(name, value) {
      name = usvString(name);
      this._list = this._list.filter(([k, v]) => k !== name || (value !== undefined && v !== usvString(value)));
      this._update();
    }
    get(name) {
      name = usvString(name);
      const found = this._list.find(([k]) => k === name);
      return found ? found[1] : null;
    }
    getAll(name) {
      name = usvString(name);
      return this._list.filter(([k]) => k === name).map(([, v]) => v);
    }
    has(name, value) {
      name = usvString(name);
      return this._list.some(([k, v]) => k === name && (value === undefined || v === usvString(value)));
    }
    set(name, value) {
      name = usvString(name);
      value = usvString(value);
      const at = this._list.findIndex(([k]) => k === name);
      if (at === -1) this._list.push([name, value]);
      else {
        this._list[at][1] = value;
        this._list = this._list.filter(([k], i) => k !== name || i === at);
      }
      this._update();
    }
    sort() {
      this._list = this._list
        .map((pair, i) => [pair, i])
        .sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j))
        .map(([pair]) => pair);
      this._update();
    }
    forEach(callback, thisArg) {
      for (const [k, v] of this._list) callback.call(thisArg, v, k, this);
    }
    *entries() {
      for (const [k, v] of this._list) yield [k, v];
    }
    *keys() {
      for (const [k] of this._list) yield k;
    }
    *values() {
      for (const [, v] of this._list) yield v;
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    toString() {
      return this._list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&');
    }
    get [Symbol.toStringTag]() {
      return 'URLSearchParams';
    }
    [Symbol.for('nodejs.util.inspect.custom')](depth, options) {
      if (this._list.length === 0) return 'URLSearchParams {}';
      const shown = this._list.map(([k, v]) => `${inspect(k, options)} => ${inspect(v, options)}`);
      const one = `URLSearchParams { ${shown.join(', ')} }`;
      return one.length <= 80 ? one : `URLSearchParams {\n  ${shown.join(',\n  ')} }`;
    }
  }
