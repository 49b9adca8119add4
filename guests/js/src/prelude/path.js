  // ---------------------------------------------------------------- path ---
  // POSIX `path` as Node 20 behaves (tests/all/node/path-cases.js holds the
  // cases, with Node's answers).
  function invalidArgType(name, expected, value) {
    const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${received(value)}`);
    error.code = 'ERR_INVALID_ARG_TYPE';
    return error;
  }

  function received(value) {
    if (value === null || value === undefined) return String(value);
    if (typeof value === 'function') return `function ${value.name}`;
    if (typeof value === 'object') {
      const name = value.constructor && value.constructor.name;
      return name ? `an instance of ${name}` : inspect(value, { depth: -1 });
    }
    let shown = inspect(value, { colors: false });
    if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
    return `type ${typeof value} (${shown})`;
  }

  function assertPath(p, name = 'path') {
    if (typeof p !== 'string') throw invalidArgType(name, 'of type string', p);
    return p;
  }

  // `p`'s segments with `.` and `..` applied; `..` past the start is kept
  // only for a relative path.
  function normalizeSegments(p, aboveRoot) {
    const out = [];
    for (const s of p.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (out.length && out[out.length - 1] !== '..') out.pop();
        else if (aboveRoot) out.push('..');
      } else {
        out.push(s);
      }
    }
    return out.join('/');
  }

  // The last segment (trailing slashes ignored) and where it starts.
  function lastSegment(p) {
    let end = p.length;
    while (end > 0 && p[end - 1] === '/') end--;
    const start = p.lastIndexOf('/', end - 1) + 1;
    return { base: p.slice(start, end), start, end };
  }

  // The extension of a last segment: from its last dot, unless that dot
  // starts it or the segment is `..`.
  function extOf(base) {
    const dot = base.lastIndexOf('.');
    if (dot <= 0 || base === '..') return '';
    return base.slice(dot);
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
      let out = normalizeSegments(p, !absolute);
      if (out === '') {
        if (absolute) return '/';
        return trailing ? './' : '.';
      }
      if (trailing) out += '/';
      return absolute ? `/${out}` : out;
    },
    join(...parts) {
      parts.forEach((p) => assertPath(p));
      const joined = parts.filter((p) => p !== '').join('/');
      return joined === '' ? '.' : path.normalize(joined);
    },
    resolve(...parts) {
      let resolved = '';
      let absolute = false;
      for (let i = parts.length - 1; i >= -1 && !absolute; i--) {
        const p = i >= 0 ? assertPath(parts[i], `paths[${i}]`) : cwd;
        if (p === '') continue;
        resolved = resolved ? `${p}/${resolved}` : p;
        absolute = p.startsWith('/');
      }
      const out = normalizeSegments(resolved, !absolute);
      if (absolute) return `/${out}`;
      return out === '' ? '.' : out;
    },
    relative(from, to) {
      assertPath(from, 'from');
      assertPath(to, 'to');
      if (from === to) return '';
      const a = path.resolve(from).split('/').filter(Boolean);
      const b = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
    },
    toNamespacedPath(p) {
      return p;
    },
    dirname(p) {
      assertPath(p);
      if (p === '') return '.';
      const rooted = p.startsWith('/');
      // The separator before the last segment (trailing slashes skipped).
      let i = p.length - 1;
      while (i >= 1 && p[i] === '/') i--;
      while (i >= 1 && p[i] !== '/') i--;
      if (i < 1) return rooted ? '/' : '.';
      if (rooted && i === 1) return '//';
      return p.slice(0, i);
    },
    basename(p, suffix) {
      assertPath(p);
      if (suffix !== undefined) assertPath(suffix, 'suffix');
      const { base, start } = lastSegment(p);
      if (suffix === undefined || !base.endsWith(suffix)) return base;
      // A suffix that is the whole name leaves it, unless the path is only
      // that name (Node's own rule).
      if (suffix === base) return start === 0 ? '' : base;
      return base.slice(0, base.length - suffix.length);
    },
    extname(p) {
      return extOf(lastSegment(assertPath(p)).base);
    },
    parse(p) {
      assertPath(p);
      const root = p.startsWith('/') ? '/' : '';
      if (p === '') return { root, dir: '', base: '', ext: '', name: '' };
      const { base, start } = lastSegment(p);
      let dir = '';
      if (start > 0) {
        let end = start - 1;
        dir = end === 0 ? '/' : p.slice(0, end);
      }
      const ext = extOf(base);
      return { root, dir: dir || root, base, ext, name: base.slice(0, base.length - ext.length) };
    },
    format(o) {
      if (o === null || typeof o !== 'object') throw invalidArgType('pathObject', 'of type object', o);
      const dir = o.dir || o.root;
      const ext = o.ext ? `${o.ext[0] === '.' ? '' : '.'}${o.ext}` : '';
      const base = o.base || `${o.name || ''}${ext}`;
      if (!dir) return base;
      return dir === o.root ? `${dir}${base}` : `${dir}/${base}`;
    },
  };
  path.posix = path;

