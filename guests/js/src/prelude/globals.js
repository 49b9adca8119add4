  // ------------------------------------------------------------- globals ---
  const globals = {
    console, get, runbook, fs, path, util, fetch, Headers, Response,
    setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout, setImmediate, clearImmediate,
    TextEncoder, TextDecoder, Buffer, URL, URLSearchParams, crypto, CryptoKey,
    Event, EventTarget, CustomEvent, AbortController, AbortSignal, Blob, structuredClone, reportError, Intl,
    navigator: Object.freeze({ userAgent: 'runbox', language: 'en-US', languages: Object.freeze(['en-US']), hardwareConcurrency: 1 }),
  };
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }

  return {
    timers: runTimer,
    begin(dir, seed) {
      cwd = dir;
      resetTimers();
      [s0, s1, s2, s3] = seed;
      if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
    },
  };
});
