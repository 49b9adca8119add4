  // ------------------------------------------------------------------ fs ---
  const abs = (p) => path.resolve(cwd, assertPath(p));

  function encoding(options) {
    const enc = typeof options === 'string' ? options : options && options.encoding;
    if (enc === undefined || enc === null || enc === 'buffer') return null;
    return encodingOf(enc);
  }
  // A native read's bytes as Node gives them: a Buffer.
  const asBuffer = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Bytes read, as text in `enc` (`null`: as a Buffer).
  const inEncoding = (bytes, enc) => (enc === null ? asBuffer(bytes) : asBuffer(bytes).toString(enc));

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

  // Errors as Node reports them: the path the script gave (not where it
  // resolved to), then `dest` for two paths; Linux's `errno`; the syscall
  // Node names. Own properties in Node's order.
  const ERRNO = {
    EPERM: -1, ENOENT: -2, EIO: -5, EBADF: -9, EACCES: -13, EEXIST: -17, EXDEV: -18, ENOTDIR: -20, EISDIR: -21,
    EINVAL: -22, EMFILE: -24, ENOSPC: -28, EROFS: -30, ENAMETOOLONG: -36, ENOTEMPTY: -39, ELOOP: -40,
  };
  function asGiven(e, given, { dest, syscall, pathless } = {}) {
    if (!(e instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return e;
    const call = syscall || e.syscall;
    const where = pathless ? '' : dest === undefined ? ` '${given}'` : ` '${given}' -> '${dest}'`;
    const message = e.message.replace(/, [\w]+( '.*')?$/s, `, ${call}${where}`);
    const error = new Error(message);
    if (ERRNO[e.code] !== undefined) error.errno = ERRNO[e.code];
    error.code = e.code;
    error.syscall = call;
    if (!pathless) error.path = String(given);
    if (dest !== undefined) error.dest = String(dest);
    return error;
  }
  function at(given, f, options) {
    try {
      return f();
    } catch (e) {
      throw asGiven(e, given, options);
    }
  }
  // Node's error for a failed call that is not the system's own errno.
  class SystemError extends Error {
    constructor(message, code) {
      super(message);
      const frames = String(this.stack).slice(String(this.stack).indexOf('\n'));
      Object.defineProperty(this, 'stack', { value: `${this.name} [${code}]: ${message}${frames}`, writable: true, configurable: true });
    }
    toString() {
      return `${this.name} [${this.code}]: ${this.message}`;
    }
  }
  Object.defineProperty(SystemError.prototype, 'name', { value: 'SystemError', writable: true, configurable: true });
  // `statSync` (following a link) and `lstatSync`: `undefined` for a
  // missing file when `throwIfNoEntry` is false.
  function statOf(p, options, follow) {
    try {
      return new Stats(native.stat(abs(p), follow));
    } catch (e) {
      if (options && options.throwIfNoEntry === false && missing(e)) return undefined;
      throw asGiven(e, p);
    }
  }
  const missing = (e) => e && (e.code === 'ENOENT' || e.code === 'ENOTDIR');

  const fs = {
    readFileSync(p, options) {
      // Node's spellings of stdin: file descriptor 0 and /dev/stdin.
      const enc = encoding(options);
      if (p === 0 || p === '/dev/stdin') return enc === 'utf8' ? native.readStdin(true) : inEncoding(native.readStdin(false), enc);
      try {
        return enc === 'utf8' ? native.readFile(abs(p), true) : inEncoding(native.readFile(abs(p), false), enc);
      } catch (e) {
        // Node opens a directory and fails to read it.
        throw asGiven(e, p, e.code === 'EISDIR' ? { syscall: 'read', pathless: true } : {});
      }
    },
    writeFileSync(p, data, options) {
      const append = !!options && typeof options === 'object' && options.flag === 'a';
      at(p, () => native.writeFile(abs(p), bytesOrText(data), append));
    },
    appendFileSync(p, data) {
      at(p, () => native.writeFile(abs(p), bytesOrText(data), true));
    },
    existsSync(p) {
      return typeof p === 'string' && p !== '' && native.exists(abs(p));
    },
    accessSync(p) {
      at(p, () => native.stat(abs(p), true), { syscall: 'access' });
    },
    readdirSync(p, options) {
      const dir = abs(p);
      const entries = at(p, () => native.readdir(dir));
      if (options && options.withFileTypes) return entries.map(([name, kind]) => new Dirent(name, dir, kind));
      return entries.map(([name]) => name);
    },
    mkdirSync(p, options) {
      const recursive = !!(options && options.recursive);
      if (!recursive) return at(p, () => native.mkdir(abs(p), false));
      // Node answers the first directory it made, as the script named it.
      let first;
      for (let dir = String(p).replace(/(.)\/+$/, '$1'); !native.exists(abs(dir)); ) {
        first = dir;
        const up = path.dirname(dir);
        if (up === dir) break;
        dir = up;
      }
      at(p, () => native.mkdir(abs(p), true));
      return first;
    },
    rmSync(p, options) {
      try {
        native.rm(abs(p), !!(options && options.recursive), !!(options && options.force), 'rm');
      } catch (e) {
        if (e.code !== 'EISDIR') throw asGiven(e, p);
        const error = new SystemError(`Path is a directory: rm returned EISDIR (is a directory) ${p}`, 'ERR_FS_EISDIR');
        Object.assign(error, { code: 'ERR_FS_EISDIR', info: { code: 'EISDIR', message: 'is a directory', path: String(p), syscall: 'rm', errno: 21 }, errno: 21, syscall: 'rm', path: String(p) });
        throw error;
      }
    },
    rmdirSync(p, options) {
      at(p, () => native.rm(abs(p), !!(options && options.recursive), false, 'rmdir'));
    },
    unlinkSync(p) {
      at(p, () => native.rm(abs(p), false, false, 'unlink'));
    },
    statSync: (p, options) => statOf(p, options, true),
    lstatSync: (p, options) => statOf(p, options, false),
    renameSync(from, to) {
      at(from, () => native.rename(abs(from), abs(to)), { dest: to });
    },
    copyFileSync(from, to) {
      at(from, () => native.copyFile(abs(from), abs(to)), { dest: to });
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


  // ------------------------------------------------- a file, a piece at a time ---
  // Descriptors (`openSync`, `readSync`, `fs.promises.open`), line by line
  // (`filehandle.readLines()`) and chunk by chunk (`createReadStream`): a
  // file larger than the step's memory is walked as in Node.

  function nodeError(Kind, code, message) {
    const error = new Kind(message);
    error.code = code;
    return error;
  }

  function descriptor(fd) {
    if (!Number.isInteger(fd)) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "fd" argument must be of type number. Received ${inspect(fd)}`);
    }
    return fd;
  }

  // Node's `position`: null, undefined or -1 read at the file's offset and
  // move it; a number (or bigint) reads there and leaves the offset.
  function position(value) {
    if (value === undefined || value === null || value === -1 || value === -1n) return null;
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (!Number.isInteger(n) || n < 0) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "position" is out of range. It must be an integer >= -1. Received ${inspect(value)}`);
    }
    return n;
  }

  function bytesView(buffer) {
    if (!ArrayBuffer.isView(buffer)) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "buffer" argument must be an instance of Buffer, TypedArray, or DataView. Received ${inspect(buffer)}`);
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  fs.openSync = (p, flags, mode) => native.fdOpen(abs(p), flags === undefined || flags === null ? 'r' : String(flags), String(p));
  fs.closeSync = (fd) => native.fdClose(descriptor(fd));
  fs.fstatSync = (fd) => new Stats(native.fdFstat(descriptor(fd)));

  fs.readSync = function readSync(fd, buffer, offset, length, pos) {
    const view = bytesView(buffer);
    if (arguments.length <= 3 && offset !== undefined && offset !== null && typeof offset !== 'object') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received type ${typeof offset} (${inspect(offset)})`);
    }
    if (offset !== null && typeof offset === 'object') {
      ({ offset = 0, length = view.byteLength - offset, position: pos = null } = offset);
    }
    offset = offset === undefined || offset === null ? 0 : offset;
    length = length === undefined || length === null ? view.byteLength - offset : length;
    if (!Number.isInteger(offset) || offset < 0 || offset > view.byteLength) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "offset" is out of range. It must be >= 0 && <= ${view.byteLength}. Received ${offset}`);
    }
    if (!Number.isInteger(length) || length < 0 || offset + length > view.byteLength) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "length" is out of range. It must be >= 0 && <= ${view.byteLength - offset}. Received ${length}`);
    }
    if (length === 0) return 0;
    const chunk = native.fdRead(descriptor(fd), length, position(pos));
    view.set(chunk, offset);
    return chunk.length;
  };

  fs.writeSync = (fd, data, offset, length, pos) => {
    if (typeof data === 'string') return native.fdWrite(descriptor(fd), data, position(offset));
    const view = bytesView(data);
    offset = offset === undefined || offset === null ? 0 : offset;
    length = length === undefined || length === null ? view.byteLength - offset : length;
    return native.fdWrite(descriptor(fd), view.subarray(offset, offset + length), position(pos));
  };

  // Lines as Node's `readline` gives them, read 64 KiB at a time; the
  // descriptor is closed at the end (Node's stream closes its handle).
  function lineReader(handle) {
    const listeners = { line: [], close: [] };
    let started = false;
    const reader = {
      async *[Symbol.asyncIterator]() {
        started = true;
        try {
          for (;;) {
            const lines = native.fdReadLines(handle.fd);
            if (lines == null) break;
            for (const line of lines) yield line;
          }
        } finally {
          handle.closeQuietly();
          for (const f of listeners.close) f();
        }
      },
      on(event, f) {
        if (listeners[event]) listeners[event].push(f);
        if (event === 'line' && !started) {
          started = true;
          Promise.resolve().then(() => {
            for (;;) {
              const lines = native.fdReadLines(handle.fd);
              if (lines == null) break;
              for (const line of lines) for (const g of listeners.line) g(line);
            }
            handle.closeQuietly();
            for (const g of listeners.close) g();
          });
        }
        return reader;
      },
      close() {
        handle.closeQuietly();
      },
    };
    return reader;
  }

  class FileHandle {
    constructor(fd) {
      this.fd = fd;
    }
    async read(buffer, offset, length, pos) {
      if (!ArrayBuffer.isView(buffer)) {
        const o = buffer || {};
        buffer = o.buffer === undefined ? new Uint8Array(16384) : o.buffer;
        ({ offset = 0, length = buffer.byteLength - offset, position: pos = null } = o);
      }
      const bytesRead = fs.readSync(this.fd, buffer, offset, length, pos);
      return { bytesRead, buffer };
    }
    async write(data, ...rest) {
      const bytesWritten = fs.writeSync(this.fd, data, ...rest);
      return { bytesWritten, buffer: data };
    }
    async readFile(options) {
      const enc = encoding(options);
      const text = enc === 'utf8';
      const parts = [];
      for (;;) {
        if (text) {
          const got = native.fdReadText(this.fd, 65536, null);
          if (got == null) break;
          parts.push(got.text);
        } else {
          const chunk = native.fdRead(this.fd, 65536, null);
          if (chunk.length === 0) break;
          parts.push(chunk);
        }
      }
      if (text) return parts.join('');
      const all = Buffer.alloc(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return enc === null ? all : all.toString(enc);
    }
    async stat() {
      return fs.fstatSync(this.fd);
    }
    readLines() {
      return lineReader(this);
    }
    closeQuietly() {
      if (this.fd !== -1) {
        native.fdClose(this.fd);
        this.fd = -1;
      }
    }
    async close() {
      this.closeQuietly();
    }
  }
  fs.promises.open = async (p, flags, mode) => new FileHandle(fs.openSync(p, flags, mode));

  // A readable stream of a file's bytes (`Uint8Array` chunks, or text with
  // an encoding), `start` and `end` inclusive, as Node's: iterated with
  // `for await`, or followed with `on('data')`, `on('end')`, `on('error')`.
  class ReadStream {
    constructor(p, options) {
      const o = typeof options === 'string' ? { encoding: options } : options || {};
      this.path = p;
      this.bytesRead = 0;
      const enc = encoding(o);
      if (enc !== null && enc !== 'utf8') throw new TypeError(`runbox's createReadStream reads utf8 text or bytes, not ${o.encoding}`);
      this._text = enc !== null;
      this._at = o.start === undefined ? 0 : o.start;
      this._end = o.end === undefined ? Infinity : o.end;
      this._size = o.highWaterMark === undefined ? 65536 : o.highWaterMark;
      this._fd = null;
      this._listeners = { data: [], end: [], error: [], close: [], open: [] };
      this._flowing = false;
    }
    _next() {
      if (this._fd === null) this._fd = fs.openSync(this.path, 'r');
      for (;;) {
        const want = Math.min(this._size, this._end - this._at + 1);
        if (want <= 0 && !this._text) return null;
        if (!this._text) {
          const chunk = native.fdRead(this._fd, want, this._at);
          if (chunk.length === 0) return null;
          this._at += chunk.length;
          this.bytesRead += chunk.length;
          return asBuffer(chunk);
        }
        // Text: whole characters; a read that ends inside one gives less.
        const got = native.fdReadText(this._fd, Math.max(want, 0), this._at);
        if (got == null) return null;
        this._at += got.read;
        this.bytesRead += got.read;
        if (got.text.length > 0) return got.text;
      }
    }
    _finish() {
      if (this._fd !== null && this._fd !== -1) native.fdClose(this._fd);
      this._fd = -1;
    }
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const chunk = this._next();
          if (chunk === null) break;
          yield chunk;
        }
      } finally {
        this._finish();
      }
    }
    on(event, f) {
      (this._listeners[event] || (this._listeners[event] = [])).push(f);
      if (event === 'data' && !this._flowing) {
        this._flowing = true;
        Promise.resolve().then(() => {
          try {
            for (;;) {
              const chunk = this._next();
              if (chunk === null) break;
              for (const g of this._listeners.data) g(chunk);
            }
            this._finish();
            for (const g of this._listeners.end) g();
            for (const g of this._listeners.close) g();
          } catch (e) {
            this._finish();
            if (this._listeners.error.length === 0) throw e;
            for (const g of this._listeners.error) g(e);
          }
        });
      }
      return this;
    }
    once(event, f) {
      return this.on(event, f);
    }
    close() {
      this._finish();
    }
    destroy() {
      this._finish();
    }
  }
  fs.createReadStream = (p, options) => new ReadStream(p, options);
