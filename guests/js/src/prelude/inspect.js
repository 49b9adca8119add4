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

  inspect.custom = Symbol.for('nodejs.util.inspect.custom');
  inspect.defaultOptions = inspectDefaults;

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
      // As Node: the first constructor the value is an instance of (a
      // function's `prototype` object is not its function's instance).
      if (d && typeof d.value === 'function' && d.value.name !== '') {
        let instance = false;
        try {
          instance = v instanceof d.value;
        } catch {}
        if (instance) return d.value.name;
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
    if (ctx.customInspect !== false) {
      const custom = v[inspect.custom];
      if (typeof custom === 'function' && custom !== inspect) {
        const depth = ctx.depth - recurseTimes;
        const options = { ...inspectDefaults, ...ctx, depth, seen: undefined, circular: undefined };
        const shown = custom.call(v, depth, options, inspect);
        if (shown !== v) {
          if (typeof shown !== 'string') return formatValue(ctx, shown, recurseTimes);
          return shown.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
        }
      }
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
        formatter = () => {
          const state = native.promiseState(v);
          if (state.length === 0) return ['<pending>'];
          ctx.indentationLvl += 2;
          const shown = formatValue(ctx, state[1], recurseTimes);
          ctx.indentationLvl -= 2;
          return [state[0] ? shown : `<rejected> ${shown}`];
        };
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

