  // -------------------------------------------------------------- timers ---
  // Node's timers. Rust's event loop calls `runTimer` when no job is left:
  // it runs an immediate, or the earliest timer that is due, or says how
  // long until one is. Time is the step's monotonic clock: virtual under
  // --deterministic, and a wait past the step's deadline ends the step.
  const TIMEOUT_MAX = 2147483647;
  let timerSeq = 0;
  const timerList = new Map(); // id -> Timeout, of the timers pending
  let timersReferenced = 0; // how many of them keep the step alive
  const immediates = [];

  // The pending timers by when they are due (then by when they were set):
  // a binary heap of [due, seq, timer]; an entry whose seq is no longer
  // its timer's (cleared, refreshed, rescheduled) is dropped when met.
  const heap = [];
  const before = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  function heapPush(entry) {
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }
  function heapPop() {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
  // The earliest live entry, stale ones dropped.
  function heapPeek() {
    while (heap.length && (!timerList.has(heap[0][2]._id) || heap[0][1] !== heap[0][2]._seq)) heapPop();
    return heap[0];
  }
  function schedule(timer, due) {
    timer._due = due;
    timer._seq = ++timerSeq;
    heapPush([due, timer._seq, timer]);
  }
  function unschedule(timer) {
    if (timerList.delete(timer._id) && timer._ref) timersReferenced--;
  }

  class Timeout {
    constructor(callback, after, args, repeat) {
      after = Number(after);
      if (!(after >= 1 && after <= TIMEOUT_MAX)) after = 1;
      Object.defineProperties(this, {
        _id: { value: ++timerSeq },
        _callback: { value: callback },
        _args: { value: args },
        _repeat: { value: repeat ? after : null },
        _idleTimeout: { value: after },
        _due: { value: 0, writable: true },
        _ref: { value: true, writable: true },
        _seq: { value: 0, writable: true },
      });
      timerList.set(this._id, this);
      timersReferenced++;
      schedule(this, performance.now() + after);
    }
    ref() {
      if (!this._ref && timerList.has(this._id)) timersReferenced++;
      this._ref = true;
      return this;
    }
    unref() {
      if (this._ref && timerList.has(this._id)) timersReferenced--;
      this._ref = false;
      return this;
    }
    hasRef() {
      return this._ref;
    }
    refresh() {
      if (timerList.has(this._id)) schedule(this, performance.now() + this._idleTimeout);
      return this;
    }
    close() {
      unschedule(this);
      return this;
    }
    [Symbol.toPrimitive]() {
      return this._id;
    }
  }

  class Immediate {
    constructor(callback, args) {
      Object.defineProperties(this, {
        _callback: { value: callback },
        _args: { value: args },
        _ref: { value: true, writable: true },
        _cleared: { value: false, writable: true },
      });
    }
    ref() {
      this._ref = true;
      return this;
    }
    unref() {
      this._ref = false;
      return this;
    }
    hasRef() {
      return this._ref;
    }
  }

  function callbackOf(callback) {
    if (typeof callback !== 'function') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "callback" argument must be of type function. Received ${inspect(callback)}`);
    }
    return callback;
  }

  function setTimeout(callback, after, ...args) {
    return new Timeout(callbackOf(callback), after, args, false);
  }
  function setInterval(callback, after, ...args) {
    return new Timeout(callbackOf(callback), after, args, true);
  }
  function clearTimeout(timer) {
    if (typeof timer === 'number' || typeof timer === 'string') timer = timerList.get(Number(timer));
    if (timer instanceof Timeout) unschedule(timer);
  }
  function setImmediate(callback, ...args) {
    const immediate = new Immediate(callbackOf(callback), args);
    immediates.push(immediate);
    return immediate;
  }
  function clearImmediate(immediate) {
    if (immediate instanceof Immediate) immediate._cleared = true;
  }

  // Runs a timer that is due: its callback (an interval is due again).
  function fire(timer) {
    if (timer._repeat === null) unschedule(timer);
    else schedule(timer, Math.max(timer._due + timer._repeat, performance.now()));
    timer._callback(...timer._args);
  }

  // -1: nothing keeps the step alive; 0: a callback ran; else the
  // milliseconds until the next timer is due.
  function runTimer() {
    while (immediates.length && immediates[0]._cleared) immediates.shift();
    if (immediates.length && immediates.some((i) => i._ref && !i._cleared)) {
      const immediate = immediates.shift();
      immediate._callback(...immediate._args);
      return 0;
    }
    if (timersReferenced === 0) return -1;
    const next = heapPeek();
    const wait = next[0] - performance.now();
    if (wait > 0) return wait;
    fire(next[2]);
    return 0;
  }

  // Runs the timers already due (an abort timeout that passed during a
  // blocking request), whatever else is pending.
  function runDueTimers() {
    const now = performance.now();
    const last = timerSeq; // an interval fires once here, not again when rescheduled
    for (let next = heapPeek(); next !== undefined && next[0] <= now && next[1] <= last; next = heapPeek()) fire(next[2]);
  }

  function resetTimers() {
    timerList.clear();
    heap.length = 0;
    timersReferenced = 0;
    immediates.length = 0;
  }

  const timersPromises = {
    setTimeout: (after, value) => new Promise((resolve) => setTimeout(resolve, after, value)),
    setImmediate: (value) => new Promise((resolve) => setImmediate(resolve, value)),
    async *setInterval(after, value) {
      for (;;) yield await new Promise((resolve) => setTimeout(resolve, after, value));
    },
  };
