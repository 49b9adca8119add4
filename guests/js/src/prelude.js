// The globals of a JavaScript step, built once when the engine starts (and so
// inside the pre-initialised snapshot). `native` holds the few functions the
// Rust side provides; this file returns the hooks Rust calls at each run.
(function (native) {
  'use strict';

  let cwd = '/';

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

  // -------------------------------------------------------- util.inspect ---
  // Node 20's util.inspect and util.format, which console.log uses
  // (tests/all/node/format-cases.js holds the cases, with Node's answers).
  const MAX_NESTING = 400;
  const inspectDefaults = { depth: 2, breakLength: 80, compact: 3, showHidden: false, maxArrayLength: 100 };

  function inspect(value, options) {
    const ctx = { ...inspectDefaults, ...(options && typeof options === 'object' ? options : {}) };
    if (ctx.depth === null) ctx.depth = Infinity;
    ctx.seen = [];
    ctx.circular = new Map();
    ctx.indentationLvl = 0;
    ctx.currentDepth = 0;
    return formatValue(ctx, value, 0);
  }

  function strEscape(s) {
    let q = "'";
    if (s.includes("'")) {
      if (!s.includes('"')) q = '"';
      else if (!s.includes('`') && !s.includes('${')) q = '`';
    }
    let out = '';
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      if (ch === q && q === "'") out += "\\'";
      else if (ch === '\\') out += '\\\\';
      else if (c === 8) out += '\\b';
      else if (c === 9) out += '\\t';
      else if (c === 10) out += '\\n';
      else if (c === 12) out += '\\f';
      else if (c === 13) out += '\\r';
      else if (c < 32 || (c >= 0x7f && c <= 0x9f)) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
      else out += ch;
    }
    return `${q}${out}${q}`;
  }

  const formatNumber = (n) => (Object.is(n, -0) ? '-0' : `${n}`);

  function formatPrimitive(ctx, v) {
    switch (typeof v) {
      case 'string':
        if (ctx.compact !== true && v.length > 16 && v.length > ctx.breakLength - ctx.indentationLvl - 4 && v.includes('\n')) {
          return v
            .split(/(?<=\n)/)
            .map(strEscape)
            .join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`);
        }
        return strEscape(v);
      case 'number':
        return formatNumber(v);
      case 'bigint':
        return `${v}n`;
      case 'symbol':
        return v.toString();
      default:
        return String(v);
    }
  }

  const isIdentifier = (k) => /^[a-zA-Z_][a-zA-Z_0-9]*$/.test(k);

  function constructorName(v) {
    let obj = v;
    while (obj !== null && obj !== undefined) {
      const d = Object.getOwnPropertyDescriptor(obj, 'constructor');
      if (d && typeof d.value === 'function' && d.value.name !== '') {
        try {
          if (v instanceof d.value || obj === v) return d.value.name;
        } catch {
          return d.value.name;
        }
        return d.value.name;
      }
      obj = Object.getPrototypeOf(obj);
    }
    return null;
  }

  function prefixOf(constructor, tag, fallback, size = '') {
    if (constructor === null) {
      return tag !== '' && fallback !== tag ? `[${fallback}${size}: null prototype] [${tag}] ` : `[${fallback}${size}: null prototype] `;
    }
    return tag !== '' && constructor !== tag ? `${constructor}${size} [${tag}] ` : `${constructor}${size} `;
  }

  function functionBase(v, constructor, tag) {
    const source = Function.prototype.toString.call(v);
    if (source.startsWith('class') && source.endsWith('}')) {
      let base = `[class ${v.name || '(anonymous)'}`;
      const parent = Object.getPrototypeOf(v);
      if (parent && parent.name) base += ` extends ${parent.name}`;
      return `${base}]`;
    }
    const kind = (Object.getPrototypeOf(v) || {}).constructor;
    const type = kind && /^(Async)?(Generator)?Function$/.test(kind.name) ? kind.name : 'Function';
    let base = `[${type}`;
    if (constructor === null) base += ' (null prototype)';
    base += v.name === '' || typeof v.name !== 'string' ? ' (anonymous)' : `: ${v.name}`;
    base += ']';
    if (constructor !== type && constructor !== null) base += ` ${constructor}`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    return base;
  }

  function ownKeys(v, showHidden) {
    const names = showHidden ? Object.getOwnPropertyNames(v) : Object.keys(v);
    const symbols = Object.getOwnPropertySymbols(v).filter((s) => showHidden || Object.prototype.propertyIsEnumerable.call(v, s));
    return [...names, ...symbols];
  }

  function formatValue(ctx, v, recurseTimes) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return formatPrimitive(ctx, v);
    if (ctx.seen.includes(v)) {
      let index = ctx.circular.get(v);
      if (index === undefined) {
        index = ctx.circular.size + 1;
        ctx.circular.set(v, index);
      }
      return `[Circular *${index}]`;
    }
    return formatRaw(ctx, v, recurseTimes);
  }

  const isTypedArray = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView);

  function formatRaw(ctx, v, recurseTimes) {
    const constructor = constructorName(v);
    let tag = v[Symbol.toStringTag];
    if (typeof tag !== 'string') tag = '';
    let keys = ownKeys(v, ctx.showHidden);
    let base = '';
    let braces;
    let formatter = () => [];
    let array = false;
    let noEntries = false;
    if (Array.isArray(v)) {
      array = true;
      keys = keys.filter((k) => typeof k !== 'string' || !/^(0|[1-9][0-9]*)$/.test(k) || Number(k) >= v.length);
      if (ctx.showHidden) keys = keys.filter((k) => k !== 'length').concat(['length']);
      const prefix = constructor !== 'Array' || tag !== '' ? prefixOf(constructor, tag, 'Array', `(${v.length})`) : '';
      braces = [`${prefix}[`, ']'];
      if (v.length === 0 && keys.length === 0) return `${braces[0]}]`;
      formatter = () => formatArray(ctx, v, recurseTimes);
    } else if (v instanceof Set || v instanceof Map) {
      const set = v instanceof Set;
      const prefix = prefixOf(constructor, tag, set ? 'Set' : 'Map', `(${v.size})`);
      braces = [`${prefix}{`, '}'];
      if (v.size === 0 && keys.length === 0) return `${braces[0]}}`;
      formatter = () => {
        ctx.indentationLvl += 2;
        const out = set
          ? [...v].map((x) => formatValue(ctx, x, recurseTimes))
          : [...v].map(([k, x]) => `${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, x, recurseTimes)}`);
        ctx.indentationLvl -= 2;
        return out;
      };
    } else if (isTypedArray(v)) {
      array = true;
      keys = keys.filter((k) => typeof k !== 'string' || !/^(0|[1-9][0-9]*)$/.test(k));
      const name = constructor || tag || 'TypedArray';
      braces = [`${prefixOf(constructor, tag, name, `(${v.length})`)}[`, ']'];
      if (v.length === 0 && keys.length === 0) return `${braces[0]}]`;
      formatter = () => {
        const out = [];
        const shown = Math.min(v.length, ctx.maxArrayLength);
        for (let i = 0; i < shown; i++) out.push(typeof v[i] === 'bigint' ? `${v[i]}n` : formatNumber(v[i]));
        if (v.length > shown) out.push(`... ${v.length - shown} more item${v.length - shown > 1 ? 's' : ''}`);
        return out;
      };
    } else {
      noEntries = true;
      if (typeof v === 'function') {
        base = functionBase(v, constructor, tag);
        if (keys.length === 0) return base;
        braces = ['{', '}'];
      } else if (v instanceof RegExp) {
        base = RegExp.prototype.toString.call(v);
        if (keys.length === 0) return base;
        braces = ['{', '}'];
      } else if (v instanceof Date) {
        base = Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
        if (keys.length === 0) return base;
        braces = ['{', '}'];
      } else if (v instanceof Error) {
        base = formatError(v);
        keys = keys.filter((k) => k !== 'stack' && k !== 'message');
        if (keys.length === 0) return base;
        braces = ['{', '}'];
      } else if (v instanceof ArrayBuffer) {
        const bytes = [...new Uint8Array(v)].map((b) => b.toString(16).padStart(2, '0'));
        braces = [`${prefixOf(constructor, tag, 'ArrayBuffer')}{`, '}'];
        formatter = () => [`[Uint8Contents]: <${bytes.join(' ')}>`, `byteLength: ${v.byteLength}`];
        noEntries = false;
      } else if (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt || v instanceof Symbol) {
        const type = v instanceof Number ? 'Number' : v instanceof String ? 'String' : v instanceof Boolean ? 'Boolean' : v instanceof BigInt ? 'BigInt' : 'Symbol';
        const inner = formatPrimitive({ ...ctx, compact: true }, v.valueOf());
        base = `[${type}${constructor !== type ? ` (${constructor})` : ''}: ${inner}]`;
        if (v instanceof String) keys = keys.filter((k) => typeof k !== 'string' || !/^(0|[1-9][0-9]*)$/.test(k) || k === 'length');
        keys = keys.filter((k) => k !== 'length');
        if (keys.length === 0) return base;
        braces = ['{', '}'];
      } else if (v instanceof Promise) {
        braces = [`${prefixOf(constructor, tag, 'Promise')}{`, '}'];
        formatter = () => ['<unknown>'];
        noEntries = false;
      } else if (v instanceof WeakMap || v instanceof WeakSet) {
        return `${prefixOf(constructor, tag, v instanceof WeakMap ? 'WeakMap' : 'WeakSet')}{ <items unknown> }`;
      } else {
        const prefix = constructor !== 'Object' || tag !== '' ? prefixOf(constructor, tag, 'Object') : '';
        braces = [`${prefix}{`, '}'];
        if (keys.length === 0) return `${braces[0]}}`;
      }
    }
    // Node stops where its stack runs out; here running out is a trap no
    // script can catch, so inspection stops well before.
    if (recurseTimes > MAX_NESTING) return '[Object: Inspection interrupted prematurely. Maximum call stack size exceeded.]';
    if (recurseTimes > ctx.depth) {
      const name = constructor === null ? `${array ? 'Array' : 'Object'}: null prototype` : constructor || tag || 'Object';
      return `[${name}]`;
    }
    recurseTimes += 1;
    ctx.seen.push(v);
    ctx.currentDepth = recurseTimes;
    let output = noEntries ? [] : formatter();
    for (const k of keys) output.push(formatProperty(ctx, v, recurseTimes, k, array));
    ctx.seen.pop();
    const index = ctx.circular.get(v);
    if (index !== undefined) {
      const reference = `<ref *${index}>`;
      base = base === '' ? reference : `${reference} ${base}`;
    }
    return reduceToSingleString(ctx, output, base, braces, array, recurseTimes, v);
  }

  function formatError(e) {
    const stack = typeof e.stack === 'string' ? e.stack : '';
    let text;
    try {
      text = Error.prototype.toString.call(e);
    } catch {
      text = 'Error';
    }
    if (!stack.includes('\n    at')) return `[${stack || text}]`;
    return stack;
  }

  function formatArray(ctx, v, recurseTimes) {
    const out = [];
    const shown = Math.min(v.length, ctx.maxArrayLength);
    let holes = 0;
    const flush = () => {
      if (holes) out.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
      holes = 0;
    };
    for (let i = 0; i < shown; i++) {
      if (!Object.prototype.hasOwnProperty.call(v, i)) {
        holes++;
        continue;
      }
      flush();
      out.push(formatProperty(ctx, v, recurseTimes, String(i), true, true));
    }
    flush();
    if (v.length > shown) out.push(`... ${v.length - shown} more item${v.length - shown > 1 ? 's' : ''}`);
    return out;
  }

  function formatProperty(ctx, v, recurseTimes, key, array, item = false) {
    const desc = Object.getOwnPropertyDescriptor(v, key) || { value: v[key], enumerable: true };
    let str;
    if (desc.value !== undefined || !('get' in desc || 'set' in desc)) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, desc.value, recurseTimes);
      ctx.indentationLvl -= 2;
    } else if (desc.get !== undefined) {
      str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
    } else {
      str = desc.set !== undefined ? '[Setter]' : 'undefined';
    }
    if (item) return str;
    let name;
    if (typeof key === 'symbol') name = `[${key.toString()}]`;
    else if (desc.enumerable === false) name = `[${key}]`;
    else if (isIdentifier(key)) name = key;
    else name = strEscape(key);
    return `${name}: ${str}`;
  }

  function isBelowBreakLength(ctx, output, start, base) {
    let total = output.length + start;
    if (total + output.length > ctx.breakLength) return false;
    for (const entry of output) {
      total += entry.length;
      if (total > ctx.breakLength) return false;
    }
    return base === '' || !base.includes('\n');
  }

  function reduceToSingleString(ctx, output, base, braces, array, recurseTimes, value) {
    if (ctx.compact !== true) {
      if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
        const entries = output.length;
        if (array && entries > 6) output = groupArrayElements(ctx, output, value);
        if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
          const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
          if (isBelowBreakLength(ctx, output, start, base)) {
            const joined = output.join(', ');
            if (!joined.includes('\n')) return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
          }
        }
      }
      const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
      return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
    }
    if (isBelowBreakLength(ctx, output, 0, base)) {
      return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ${braces[1]}`;
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }

  // Short entries of a long array in aligned columns, as Node lays them out:
  // about as many columns as make the block square (a character being ~2.5
  // times as high as wide), no wider than the line, at most 15 (or 4 per
  // unit of `compact`); numbers right-aligned, anything else left-aligned.
  function groupArrayElements(ctx, output, value) {
    let count = output.length;
    if (ctx.maxArrayLength < output.length) count--;
    const lengths = output.slice(0, count).map((s) => s.length);
    const total = lengths.reduce((sum, n) => sum + n + 2, 0);
    const widest = Math.max(0, ...lengths);
    const cell = widest + 2;
    if (cell * 3 + ctx.indentationLvl >= ctx.breakLength || !(total / cell > 5 || widest <= 6)) return output;
    const bias = Math.sqrt(cell - total / output.length);
    const biased = Math.max(cell - 3 - bias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biased * count) / biased),
      Math.floor((ctx.breakLength - ctx.indentationLvl) / cell),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;
    const widths = [];
    for (let c = 0; c < columns; c++) {
      let w = 0;
      for (let j = c; j < output.length; j += columns) if (lengths[j] > w) w = lengths[j];
      widths.push(w + 2);
    }
    let numeric = true;
    if (value !== undefined) {
      for (let i = 0; i < output.length; i++) {
        if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
          numeric = false;
          break;
        }
      }
    }
    const rows = [];
    for (let i = 0; i < count; i += columns) {
      const last = Math.min(i + columns, count) - 1;
      let row = '';
      for (let j = i; j < last; j++) {
        const cellText = `${output[j]}, `;
        row += numeric ? cellText.padStart(widths[j - i], ' ') : cellText.padEnd(widths[j - i], ' ');
      }
      row += numeric ? output[last].padStart(widths[last - i] - 2, ' ') : output[last];
      rows.push(row);
    }
    if (ctx.maxArrayLength < output.length) rows.push(output[count]);
    return rows;
  }

  // ---------------------------------------------------------- util.format ---
  function hasBuiltInToString(v) {
    if (typeof v.toString !== 'function') return true;
    if (Object.prototype.hasOwnProperty.call(v, 'toString')) return false;
    let p = v;
    do {
      p = Object.getPrototypeOf(p);
    } while (p !== null && !Object.prototype.hasOwnProperty.call(p, 'toString'));
    if (p === null) return true;
    const d = Object.getOwnPropertyDescriptor(p, 'constructor');
    return d !== undefined && typeof d.value === 'function' && typeof globalThis[d.value.name] === 'function' && globalThis[d.value.name] === d.value;
  }

  function tryStringify(v) {
    try {
      return JSON.stringify(v);
    } catch (e) {
      if (e instanceof TypeError && /circular/i.test(e.message)) return '[Circular]';
      throw e;
    }
  }

  function format(...args) {
    const first = args[0];
    let a = 0;
    let str = '';
    let join = '';
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      let last = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (first[i] !== '%') continue;
        const next = first[++i];
        if (a + 1 !== args.length) {
          let piece;
          switch (next) {
            case 's': {
              const x = args[++a];
              if (typeof x === 'number') piece = formatNumber(x);
              else if (typeof x === 'bigint') piece = `${x}n`;
              else if (typeof x !== 'object' || x === null || !hasBuiltInToString(x)) piece = String(x);
              else piece = inspect(x, { depth: 0, compact: 3 });
              break;
            }
            case 'j':
              piece = String(tryStringify(args[++a]));
              break;
            case 'd': {
              const x = args[++a];
              piece = typeof x === 'bigint' ? `${x}n` : typeof x === 'symbol' ? 'NaN' : formatNumber(Number(x));
              break;
            }
            case 'O':
              piece = inspect(args[++a]);
              break;
            case 'o':
              piece = inspect(args[++a], { showHidden: true, depth: 4 });
              break;
            case 'i': {
              const x = args[++a];
              piece = typeof x === 'bigint' ? `${x}n` : typeof x === 'symbol' ? 'NaN' : formatNumber(parseInt(x));
              break;
            }
            case 'f': {
              const x = args[++a];
              piece = typeof x === 'symbol' ? 'NaN' : formatNumber(parseFloat(x));
              break;
            }
            case 'c':
              a++;
              piece = '';
              break;
            case '%':
              str += first.slice(last, i);
              last = i + 1;
              continue;
            default:
              continue;
          }
          if (last !== i - 1) str += first.slice(last, i - 1);
          str += piece;
          last = i + 1;
        } else if (next === '%') {
          str += first.slice(last, i);
          last = i + 1;
        }
      }
      if (last !== 0) {
        a++;
        join = ' ';
        if (last < first.length) str += first.slice(last);
      }
    }
    while (a < args.length) {
      const v = args[a];
      str += join + (typeof v !== 'string' ? inspect(v) : v);
      join = ' ';
      a++;
    }
    return str;
  }

  const util = Object.freeze({ format, inspect });

  // ------------------------------------------------------------- console ---
  // Nothing a script passes to console.log may throw: what cannot be
  // formatted (a toJSON that throws under %j) says so instead.
  function line(show) {
    try {
      return `${show()}\n`;
    } catch (e) {
      return `[runbox: console could not format its arguments: ${e && e.message}]\n`;
    }
  }
  const toStdout = (...args) => native.write(1, line(() => format(...args)));
  const toStderr = (...args) => native.write(2, line(() => format(...args)));
  const console = {
    log: toStdout,
    info: toStdout,
    debug: toStdout,
    dir: (v, options) => native.write(1, line(() => inspect(v, options))),
    warn: toStderr,
    error: toStderr,
    trace: (...args) => toStderr(`Trace: ${format(...args)}\n${String(new Error().stack).split('\n').slice(1).join('\n')}`),
    assert(cond, ...args) {
      if (!cond) toStderr(args.length ? `Assertion failed: ${format(...args)}` : 'Assertion failed');
    },
  };

  // ---------------------------------------------------------- err.stack ---
  // As in Node, a stack starts with `Name: message`, then its frames.
  Error.prepareStackTrace = (error, frames) => {
    let header;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = 'Error';
    }
    const lines = frames.map((f) => {
      const name = f.getFunctionName() || '<anonymous>';
      const file = f.getFileName();
      return file === undefined || file === null ? `    at ${name} (native)` : `    at ${name} (${file}:${f.getLineNumber()}:${f.getColumnNumber()})`;
    });
    return [header, ...lines].join('\n');
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
  for (const [name, value] of Object.entries({ console, get, runbook, fs, path, util, fetch, Headers, Response })) {
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
