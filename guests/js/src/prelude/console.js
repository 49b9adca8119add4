  // ------------------------------------------------------------- console ---
  // Nothing a script passes to console.log may throw: what cannot be
  // formatted (a toJSON that throws under %j) says so instead.
  let groupIndent = '';
  function line(show) {
    let text;
    try {
      text = `${show()}`;
    } catch (e) {
      text = `[runbox: console could not format its arguments: ${e && e.message}]`;
    }
    return groupIndent === '' ? `${text}\n` : `${groupIndent}${text.replaceAll('\n', `\n${groupIndent}`)}\n`;
  }
  const toStdout = (...args) => native.write(1, line(() => format(...args)));
  const toStderr = (...args) => native.write(2, line(() => format(...args)));
  const counts = new Map();
  const timers = new Map();
  const warn = (text) => native.write(2, `(node) Warning: ${text}\n`);
  const elapsed = (label) => {
    const ms = performance.now() - timers.get(label);
    if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
    if (ms < 60000) return `${Number((ms / 1000).toFixed(3))}s`;
    return `${Number((ms / 60000).toFixed(3))}min`;
  };
  const console = {
    log: toStdout,
    info: toStdout,
    debug: toStdout,
    dirxml: toStdout,
    dir: (v, options) => native.write(1, line(() => inspect(v, options))),
    warn: toStderr,
    error: toStderr,
    trace: (...args) => toStderr(`Trace: ${format(...args)}\n${String(new Error().stack).split('\n').slice(1).join('\n')}`),
    assert(cond, ...args) {
      if (!cond) toStderr(args.length ? `Assertion failed: ${format(...args)}` : 'Assertion failed');
    },
    count(label = 'default') {
      label = `${label}`;
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      toStdout(`${label}: ${n}`);
    },
    countReset(label = 'default') {
      label = `${label}`;
      if (counts.has(label)) counts.set(label, 0);
      else warn(`Count for '${label}' does not exist`);
    },
    group(...labels) {
      if (labels.length) toStdout(...labels);
      groupIndent += '  ';
    },
    groupCollapsed(...labels) {
      console.group(...labels);
    },
    groupEnd() {
      groupIndent = groupIndent.slice(0, -2);
    },
    time(label = 'default') {
      label = `${label}`;
      if (timers.has(label)) warn(`Label '${label}' already exists for console.time()`);
      else timers.set(label, performance.now());
    },
    timeEnd(label = 'default') {
      label = `${label}`;
      if (!timers.has(label)) return warn(`No such label '${label}' for console.timeEnd()`);
      toStdout(`${label}: ${elapsed(label)}`);
      timers.delete(label);
    },
    timeLog(label = 'default', ...data) {
      label = `${label}`;
      if (!timers.has(label)) return warn(`No such label '${label}' for console.timeLog()`);
      toStdout(`${label}: ${elapsed(label)}`, ...data);
    },
    table(data, properties) {
      if (data === null || typeof data !== 'object') return toStdout(data);
      toStdout(table(data, properties));
    },
  };

  // console.table's box, as Node 20 draws it (cells left-aligned).
  function table(data, properties) {
    const cell = (v) => {
      const depth = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 2 ? -1 : 0;
      return inspect(v, { depth, maxArrayLength: 3, breakLength: Infinity });
    };
    let indexHeader = '(index)';
    let rows;
    let keyColumn = null;
    if (data instanceof Map) {
      indexHeader = '(iteration index)';
      keyColumn = [];
      rows = [...data].map(([k, v], i) => {
        keyColumn.push(cell(k));
        return [String(i), v];
      });
    } else if (data instanceof Set) {
      indexHeader = '(iteration index)';
      rows = [...data].map((v, i) => [String(i), v]);
    } else rows = Object.keys(data).map((k) => [k, data[k]]);
    const columns = [];
    const values = [];
    let hasValues = false;
    const flat = data instanceof Map || data instanceof Set;
    const cells = rows.map(([, v]) => {
      const row = new Map();
      if (!flat && v !== null && (typeof v === 'object' || typeof v === 'function')) {
        for (const k of properties || Object.keys(v)) {
          if (!properties && !Object.prototype.hasOwnProperty.call(v, k)) continue;
          if (!columns.includes(k)) columns.push(k);
          if (Object.prototype.hasOwnProperty.call(v, k)) row.set(k, cell(v[k]));
        }
        values.push('');
      } else {
        hasValues = true;
        values.push(cell(v));
      }
      return row;
    });
    const header = [indexHeader, ...(keyColumn ? ['Key'] : []), ...columns, ...(hasValues ? ['Values'] : [])];
    const body = rows.map(([index], r) => [
      index,
      ...(keyColumn ? [keyColumn[r]] : []),
      ...columns.map((c) => cells[r].get(c) ?? ''),
      ...(hasValues ? [values[r]] : []),
    ]);
    const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)) + 2);
    const rule = (left, middle, right) => left + widths.map((w) => '─'.repeat(w)).join(middle) + right;
    const draw = (row) => `│${row.map((v, c) => ` ${v.padEnd(widths[c] - 1)}`).join('│')}│`;
    return [rule('┌', '┬', '┐'), draw(header), rule('├', '┼', '┤'), ...body.map(draw), rule('└', '┴', '┘')].join('\n');
  }

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

