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

