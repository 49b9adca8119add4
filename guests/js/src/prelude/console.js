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

