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
