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

