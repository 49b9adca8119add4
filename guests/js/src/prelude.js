// The globals of a JavaScript step, built once when the engine starts (and so
// inside the pre-initialised snapshot). `native` holds the few functions the
// Rust side provides; this file returns the hooks Rust calls at each run.
(function (native) {
  'use strict';

  let cwd = '/';

  // ---------------------------------------------------------------- path ---
  function assertPath(p, name = 'path') {
    if (typeof p !== 'string') {
      throw new TypeError(`The "${name}" argument must be of type string. Received ${inspect(p)}`);
    }
    return p;
  }

  function normalizeSegments(segments, absolute) {
    const out = [];
    for (const s of segments) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (out.length && out[out.length - 1] !== '..') out.pop();
        else if (!absolute) out.push('..');
      } else {
        out.push(s);
      }
    }
    return out;
  }

  const path = {
    sep: '/',
    delimiter: ':',
    isAbsolute(p) {
      return assertPath(p).startsWith('/');
    },
    normalize(p) {
      assertPath(p);
      if (p === '') return '.';
      const absolute = p.startsWith('/');
      const trailing = p.endsWith('/');
      let out = normalizeSegments(p.split('/'), absolute).join('/');
      if (!out && !absolute) out = '.';
      if (out && trailing) out += '/';
      return (absolute ? '/' : '') + out;
    },
    join(...parts) {
      parts.forEach((p) => assertPath(p));
      const joined = parts.filter((p) => p !== '').join('/');
      return joined === '' ? '.' : path.normalize(joined);
    },
    resolve(...parts) {
      let resolved = '';
      for (let i = parts.length - 1; i >= -1 && !resolved.startsWith('/'); i--) {
        const p = i >= 0 ? assertPath(parts[i]) : cwd;
        if (p !== '') resolved = resolved ? `${p}/${resolved}` : p;
      }
      return '/' + normalizeSegments(resolved.split('/'), true).join('/');
    },
    relative(from, to) {
      const a = path.resolve(from).split('/').filter(Boolean);
      const b = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
    },
    dirname(p) {
      assertPath(p);
      if (p === '') return '.';
      const trimmed = p.replace(/\/+$/, '');
      if (trimmed === '') return '/';
      const idx = trimmed.lastIndexOf('/');
      if (idx < 0) return '.';
      if (idx === 0) return '/';
      return trimmed.slice(0, idx).replace(/\/+$/, '') || '/';
    },
    basename(p, ext) {
      assertPath(p);
      const trimmed = p.replace(/\/+$/, '');
      let base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
      if (ext !== undefined && base.endsWith(ext) && base !== ext) base = base.slice(0, -ext.length);
      return base;
    },
    extname(p) {
      const base = path.basename(p);
      const idx = base.lastIndexOf('.');
      return idx <= 0 ? '' : base.slice(idx);
    },
    parse(p) {
      const root = assertPath(p).startsWith('/') ? '/' : '';
      const base = path.basename(p);
      const ext = path.extname(p);
      let dir = path.dirname(p);
      if (dir === '.' && !p.startsWith('.')) dir = '';
      return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(o) {
      const dir = o.dir || o.root || '';
      const base = o.base || `${o.name || ''}${o.ext || ''}`;
      if (!dir) return base;
      return dir === o.root ? `${dir}${base}` : `${dir}/${base}`;
    },
  };
  path.posix = path;

  // ------------------------------------------------------------- console ---
  function quote(s) {
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  }

  function key(k) {
    return /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
  }

  function inspect(v, depth = 2, seen = []) {
    switch (typeof v) {
      case 'string':
        return quote(v);
      case 'number':
        return Object.is(v, -0) ? '-0' : String(v);
      case 'bigint':
        return `${v}n`;
      case 'undefined':
      case 'boolean':
        return String(v);
      case 'symbol':
        return v.toString();
      case 'function':
        return `[Function: ${v.name || '(anonymous)'}]`;
    }
    if (v === null) return 'null';
    if (v instanceof Error) {
      const stack = typeof v.stack === 'string' && v.stack.trim() ? `\n${v.stack.trimEnd()}` : '';
      return `${v.name}: ${v.message}${stack}`;
    }
    if (seen.includes(v)) return '[Circular]';
    if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof Promise) return 'Promise {}';
    const inner = [...seen, v];
    if (Array.isArray(v)) {
      if (depth < 0) return '[Array]';
      const items = v.map((x) => inspect(x, depth - 1, inner));
      return items.length ? `[ ${items.join(', ')} ]` : '[]';
    }
    if (ArrayBuffer.isView(v)) {
      const items = Array.from(v, (x) => String(x));
      return `${v.constructor.name}(${v.length}) [ ${items.join(', ')} ]`;
    }
    if (v instanceof Map) {
      if (depth < 0) return '[Map]';
      const items = [...v].map(([k, x]) => `${inspect(k, depth - 1, inner)} => ${inspect(x, depth - 1, inner)}`);
      return `Map(${v.size}) { ${items.join(', ')} }`;
    }
    if (v instanceof Set) {
      if (depth < 0) return '[Set]';
      const items = [...v].map((x) => inspect(x, depth - 1, inner));
      return `Set(${v.size}) { ${items.join(', ')} }`;
    }
    if (depth < 0) return '[Object]';
    const proto = Object.getPrototypeOf(v);
    let prefix = '';
    if (proto === null) prefix = '[Object: null prototype] ';
    else if (proto !== Object.prototype && proto.constructor && proto.constructor.name) {
      prefix = `${proto.constructor.name} `;
    }
    const entries = Object.keys(v).map((k) => `${key(k)}: ${inspect(v[k], depth - 1, inner)}`);
    return entries.length ? `${prefix}{ ${entries.join(', ')} }` : `${prefix}{}`;
  }

  function format(args) {
    const out = [];
    let rest = args;
    if (typeof args[0] === 'string' && args[0].includes('%') && args.length > 1) {
      let i = 1;
      out.push(
        args[0].replace(/%[sdifjoOc%]/g, (m) => {
          if (m === '%%') return '%';
          if (i >= args.length) return m;
          const a = args[i++];
          switch (m) {
            case '%s':
              return typeof a === 'string' ? a : inspect(a);
            case '%d':
            case '%i':
              return String(m === '%i' ? parseInt(a) : Number(a));
            case '%f':
              return String(parseFloat(a));
            case '%j':
              return JSON.stringify(a);
            case '%c':
              return '';
            default:
              return inspect(a);
          }
        }),
      );
      rest = args.slice(i);
    } else if (args.length) {
      out.push(typeof args[0] === 'string' ? args[0] : inspect(args[0]));
      rest = args.slice(1);
    }
    for (const a of rest) out.push(typeof a === 'string' ? a : inspect(a));
    return out.join(' ');
  }

  const toStdout = (...args) => native.write(1, `${format(args)}\n`);
  const toStderr = (...args) => native.write(2, `${format(args)}\n`);
  const console = {
    log: toStdout,
    info: toStdout,
    debug: toStdout,
    dir: (v) => native.write(1, `${inspect(v)}\n`),
    warn: toStderr,
    error: toStderr,
    trace: (...args) => toStderr(`Trace: ${format(args)}\n${new Error().stack.trimEnd()}`),
    assert(cond, ...args) {
      if (!cond) toStderr(args.length ? `Assertion failed: ${format(args)}` : 'Assertion failed');
    },
  };

  // ----------------------------------------------------------------- get ---
  function get(name) {
    const json = native.get(String(name));
    return json === undefined ? undefined : JSON.parse(json);
  }

  // ------------------------------------------------------------- runbook ---
  // runbook.call('Child.md', { env: { K: 'v' }, inputs: { n: 1 } }): runs a
  // runbook beside this one as a child of this execution and returns its
  // { exit_code, stdout, stderr, result }; a child refused before it ran
  // throws an Error whose `code` is runbox's (e.g. RecursionDetected).
  const runbook = Object.freeze({
    call(name, options) {
      const o = options === undefined || options === null ? {} : options;
      if (typeof o !== 'object') throw new TypeError('runbook.call(name, { env, inputs }): options must be an object');
      const env = Object.entries(o.env || {}).map(([k, v]) => [String(k), String(v)]);
      const called = native.callRunbook(String(name), env, JSON.stringify(o.inputs === undefined ? {} : o.inputs));
      if (called.refused) {
        const error = new Error(`${called.code}: ${called.message}`);
        error.code = called.code;
        error.exitStatus = called.exit_status;
        throw error;
      }
      return {
        exit_code: called.exit_code,
        stdout: called.stdout,
        stderr: called.stderr,
        result: called.result === undefined ? undefined : JSON.parse(called.result),
      };
    },
  });

  // ------------------------------------------------------------------ fs ---
  const abs = (p) => path.resolve(cwd, assertPath(p));

  function encoding(options) {
    const enc = typeof options === 'string' ? options : options && options.encoding;
    if (enc === undefined || enc === null || enc === 'buffer') return null;
    const lower = String(enc).toLowerCase();
    if (lower !== 'utf8' && lower !== 'utf-8') {
      throw new TypeError(`Unsupported encoding "${enc}": runbox's fs reads utf8 text or bytes`);
    }
    return 'utf8';
  }

  function bytesOrText(data) {
    if (typeof data === 'string') return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return String(data);
  }

  // What `Stats` and `Dirent` say about the kind of file.
  const kindMethods = {
    isFile() {
      return this.kind === 'file';
    },
    isDirectory() {
      return this.kind === 'dir';
    },
    isSymbolicLink() {
      return this.kind === 'symlink';
    },
  };

  class Stats {
    constructor(raw) {
      Object.assign(this, {
        size: raw.size,
        mtimeMs: raw.mtimeMs,
        atimeMs: raw.atimeMs,
        birthtimeMs: raw.birthtimeMs,
      });
      Object.defineProperty(this, 'kind', { value: raw.kind });
      this.mtime = new Date(raw.mtimeMs);
      this.atime = new Date(raw.atimeMs);
      this.birthtime = new Date(raw.birthtimeMs);
    }
  }

  class Dirent {
    constructor(name, parentPath, kind) {
      this.name = name;
      this.parentPath = parentPath;
      Object.defineProperty(this, 'kind', { value: kind });
    }
  }
  Object.assign(Stats.prototype, kindMethods);
  Object.assign(Dirent.prototype, kindMethods);

  const fs = {
    readFileSync(p, options) {
      // Node's spellings of stdin: file descriptor 0 and /dev/stdin.
      if (p === 0 || p === '/dev/stdin') return native.readStdin(encoding(options) !== null);
      return native.readFile(abs(p), encoding(options) !== null);
    },
    writeFileSync(p, data, options) {
      const append = !!options && typeof options === 'object' && options.flag === 'a';
      native.writeFile(abs(p), bytesOrText(data), append);
    },
    appendFileSync(p, data) {
      native.writeFile(abs(p), bytesOrText(data), true);
    },
    existsSync(p) {
      return typeof p === 'string' && native.exists(abs(p));
    },
    accessSync(p) {
      native.stat(abs(p), true);
    },
    readdirSync(p, options) {
      const dir = abs(p);
      const entries = native.readdir(dir);
      if (options && options.withFileTypes) return entries.map(([name, kind]) => new Dirent(name, dir, kind));
      return entries.map(([name]) => name);
    },
    mkdirSync(p, options) {
      const recursive = !!(options && options.recursive);
      native.mkdir(abs(p), recursive);
      return recursive ? abs(p) : undefined;
    },
    rmSync(p, options) {
      native.rm(abs(p), !!(options && options.recursive), !!(options && options.force), 'rm');
    },
    rmdirSync(p, options) {
      native.rm(abs(p), !!(options && options.recursive), false, 'rmdir');
    },
    unlinkSync(p) {
      native.rm(abs(p), false, false, 'unlink');
    },
    statSync(p) {
      return new Stats(native.stat(abs(p), true));
    },
    lstatSync(p) {
      return new Stats(native.stat(abs(p), false));
    },
    renameSync(from, to) {
      native.rename(abs(from), abs(to));
    },
    copyFileSync(from, to) {
      native.copyFile(abs(from), abs(to));
    },
  };
  const promised = (f) => (...args) => new Promise((resolve, reject) => {
    try {
      resolve(f(...args));
    } catch (e) {
      reject(e);
    }
  });
  fs.promises = {};
  for (const name of Object.keys(fs)) {
    if (name.endsWith('Sync') && name !== 'existsSync') fs.promises[name.slice(0, -4)] = promised(fs[name]);
  }
  fs.promises.access = promised(fs.accessSync);

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
    return new Response(native.fetch(method, String(input), headers, body, follow));
  }

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

  // ------------------------------------------------------------- globals ---
  for (const [name, value] of Object.entries({ console, get, runbook, fs, path, fetch, Headers, Response })) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }

  return {
    begin(dir, seed) {
      cwd = dir;
      [s0, s1, s2, s3] = seed;
      if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
    },
  };
});
