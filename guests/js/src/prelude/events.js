  // ---------------------------- Event, EventTarget, AbortController ---
  // The DOM's events as Node provides them (no propagation path: a target
  // is its own tree), and reportError.
  class Event {
    constructor(type, options = {}) {
      if (arguments.length === 0) throw new TypeError('The "type" argument must be specified');
      Object.defineProperties(this, {
        _type: { value: String(type) },
        _cancelable: { value: Boolean(options && options.cancelable) },
        _bubbles: { value: Boolean(options && options.bubbles) },
        _composed: { value: Boolean(options && options.composed) },
        _timeStamp: { value: performance.now() },
        _state: { value: { defaultPrevented: false, stop: false, target: null, current: null, dispatching: false } },
      });
    }
    get type() {
      return this._type;
    }
    get cancelable() {
      return this._cancelable;
    }
    get bubbles() {
      return this._bubbles;
    }
    get composed() {
      return this._composed;
    }
    get timeStamp() {
      return this._timeStamp;
    }
    get defaultPrevented() {
      return this._state.defaultPrevented;
    }
    get target() {
      return this._state.target;
    }
    get currentTarget() {
      return this._state.current;
    }
    get srcElement() {
      return this._state.target;
    }
    get eventPhase() {
      return this._state.dispatching ? 2 : 0;
    }
    get isTrusted() {
      return false;
    }
    get returnValue() {
      return !this._state.defaultPrevented;
    }
    composedPath() {
      return this._state.dispatching ? [this._state.current] : [];
    }
    preventDefault() {
      if (this._cancelable) this._state.defaultPrevented = true;
    }
    stopPropagation() {}
    stopImmediatePropagation() {
      this._state.stop = true;
    }
    [Symbol.for('nodejs.util.inspect.custom')](depth, options) {
      const shown = { type: this.type, defaultPrevented: this.defaultPrevented, cancelable: this.cancelable, timeStamp: this.timeStamp };
      return `${this.constructor.name} ${inspect(shown, options)}`;
    }
  }
  Object.defineProperties(Event, { NONE: { value: 0 }, CAPTURING_PHASE: { value: 1 }, AT_TARGET: { value: 2 }, BUBBLING_PHASE: { value: 3 } });

  class CustomEvent extends Event {
    constructor(type, options = {}) {
      super(type, options);
      Object.defineProperty(this, '_detail', { value: options && options.detail !== undefined ? options.detail : null });
    }
    get detail() {
      return this._detail;
    }
  }

  class EventTarget {
    constructor() {
      Object.defineProperty(this, '_listeners', { value: new Map() });
    }
    addEventListener(type, listener, options = {}) {
      if (listener === null || listener === undefined) return;
      const once = typeof options === 'object' && options !== null && Boolean(options.once);
      const capture = typeof options === 'boolean' ? options : Boolean(options && options.capture);
      const signal = typeof options === 'object' && options !== null ? options.signal : undefined;
      if (signal && signal.aborted) return;
      const list = this._listeners.get(type) || [];
      if (list.some((l) => l.listener === listener && l.capture === capture)) return;
      const entry = { listener, once, capture, removed: false };
      list.push(entry);
      this._listeners.set(type, list);
      if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, listener, { capture }), { once: true });
    }
    removeEventListener(type, listener, options = {}) {
      const capture = typeof options === 'boolean' ? options : Boolean(options && options.capture);
      const list = this._listeners.get(type);
      if (!list) return;
      const at = list.findIndex((l) => l.listener === listener && l.capture === capture);
      if (at !== -1) {
        list[at].removed = true;
        list.splice(at, 1);
      }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "event" argument must be an instance of Event. Received ${inspect(event)}`);
      }
      const state = event._state;
      state.target = this;
      state.current = this;
      state.dispatching = true;
      const handler = this[`on${event.type}`];
      const list = [...(this._listeners.get(event.type) || [])];
      if (typeof handler === 'function' && !(this._listeners.get(event.type) || []).some((l) => l.listener === handler)) {
        list.unshift({ listener: handler, once: false, removed: false });
      }
      for (const entry of list) {
        if (entry.removed) continue;
        if (entry.once) this.removeEventListener(event.type, entry.listener, { capture: entry.capture });
        try {
          const result = typeof entry.listener === 'function' ? entry.listener.call(this, event) : entry.listener.handleEvent(event);
          if (result && typeof result.then === 'function') result.then(undefined, reportError);
        } catch (e) {
          reportError(e);
        }
        if (state.stop) break;
      }
      state.dispatching = false;
      state.current = null;
      return !state.defaultPrevented;
    }
  }

  // An error no code can catch any more: as Node, it ends the step.
  function reportError(error) {
    Promise.reject(error);
  }

  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== abortKey) throw new TypeError('Illegal constructor');
      super();
      Object.defineProperties(this, {
        _aborted: { value: false, writable: true },
        _reason: { value: undefined, writable: true },
        onabort: { value: null, writable: true, enumerable: false },
      });
    }
    get aborted() {
      return this._aborted;
    }
    get reason() {
      return this._reason;
    }
    throwIfAborted() {
      if (this._aborted) throw this._reason;
    }
    static abort(reason) {
      const signal = new AbortSignal(abortKey);
      signal._aborted = true;
      signal._reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
      return signal;
    }
    static timeout(ms) {
      const signal = new AbortSignal(abortKey);
      setTimeout(() => abortSignal(signal, new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms).unref();
      return signal;
    }
    static any(signals) {
      const signal = new AbortSignal(abortKey);
      for (const s of signals) {
        if (s.aborted) {
          signal._aborted = true;
          signal._reason = s.reason;
          return signal;
        }
      }
      for (const s of signals) s.addEventListener('abort', () => abortSignal(signal, s.reason), { once: true });
      return signal;
    }
    [Symbol.for('nodejs.util.inspect.custom')]() {
      return `AbortSignal { aborted: ${this.aborted} }`;
    }
  }
  const abortKey = Symbol('AbortSignal');

  function abortSignal(signal, reason) {
    if (signal._aborted) return;
    signal._aborted = true;
    signal._reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    signal.dispatchEvent(new Event('abort'));
  }

  class AbortController {
    constructor() {
      Object.defineProperty(this, '_signal', { value: new AbortSignal(abortKey) });
    }
    get signal() {
      return this._signal;
    }
    abort(reason) {
      abortSignal(this._signal, reason);
    }
    [Symbol.for('nodejs.util.inspect.custom')]() {
      return `AbortController { signal: AbortSignal { aborted: ${this._signal.aborted} } }`;
    }
  }
