  // ---------------------------------------------------------------- util ---
  // Node's util: format and inspect (inspect.js, format.js) with the
  // helpers scripts reach for.
  const AsyncFunction = (async () => {}).constructor;
  const GeneratorFunction = function* () {}.constructor;
  const AsyncGeneratorFunction = async function* () {}.constructor;
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const tagOf = (v) => Object.prototype.toString.call(v).slice(8, -1);

  const types = {
    isAnyArrayBuffer: (v) => v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer),
    isArrayBuffer: (v) => v instanceof ArrayBuffer,
    isArrayBufferView: (v) => ArrayBuffer.isView(v),
    isAsyncFunction: (v) => v instanceof AsyncFunction || v instanceof AsyncGeneratorFunction,
    isBigInt64Array: (v) => v instanceof BigInt64Array,
    isBigUint64Array: (v) => v instanceof BigUint64Array,
    isBooleanObject: (v) => v instanceof Boolean,
    isBoxedPrimitive: (v) => v instanceof Boolean || v instanceof Number || v instanceof String || v instanceof BigInt || v instanceof Symbol,
    isDataView: (v) => v instanceof DataView,
    isDate: (v) => v instanceof Date,
    isFloat32Array: (v) => v instanceof Float32Array,
    isFloat64Array: (v) => v instanceof Float64Array,
    isGeneratorFunction: (v) => v instanceof GeneratorFunction || v instanceof AsyncGeneratorFunction,
    isGeneratorObject: (v) => tagOf(v) === 'Generator' || tagOf(v) === 'AsyncGenerator',
    isInt8Array: (v) => v instanceof Int8Array,
    isInt16Array: (v) => v instanceof Int16Array,
    isInt32Array: (v) => v instanceof Int32Array,
    isMap: (v) => v instanceof Map,
    isMapIterator: (v) => tagOf(v) === 'Map Iterator',
    isNativeError: (v) => v instanceof Error,
    isNumberObject: (v) => v instanceof Number,
    isPromise: (v) => v instanceof Promise,
    isRegExp: (v) => v instanceof RegExp,
    isSet: (v) => v instanceof Set,
    isSetIterator: (v) => tagOf(v) === 'Set Iterator',
    isStringObject: (v) => v instanceof String,
    isSymbolObject: (v) => v instanceof Symbol,
    isTypedArray: (v) => v instanceof TypedArray,
    isUint8Array: (v) => v instanceof Uint8Array,
    isUint8ClampedArray: (v) => v instanceof Uint8ClampedArray,
    isUint16Array: (v) => v instanceof Uint16Array,
    isUint32Array: (v) => v instanceof Uint32Array,
    isWeakMap: (v) => v instanceof WeakMap,
    isWeakSet: (v) => v instanceof WeakSet,
  };

  const promisifyCustom = Symbol.for('nodejs.util.promisify.custom');
  function promisify(original) {
    if (typeof original !== 'function') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "original" argument must be of type function. Received ${inspect(original)}`);
    }
    if (typeof original[promisifyCustom] === 'function') return original[promisifyCustom];
    function promisified(...args) {
      return new Promise((resolve, reject) => {
        original.call(this, ...args, (error, ...values) => (error ? reject(error) : resolve(values.length > 1 ? values : values[0])));
      });
    }
    Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
    return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
  }
  promisify.custom = promisifyCustom;
  setTimeout[promisifyCustom] = timersPromises.setTimeout;
  setImmediate[promisifyCustom] = timersPromises.setImmediate;

  function callbackify(original) {
    return function (...args) {
      const callback = args.pop();
      original.apply(this, args).then(
        (value) => queueMicrotask(() => callback(null, value)),
        (reason) => queueMicrotask(() => callback(reason || Object.assign(new Error('Promise was rejected with a falsy value'), { reason }))),
      );
    };
  }

  function isDeepStrictEqual(a, b, memo = new Map()) {
    if (Object.is(a, b)) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || tagOf(a) !== tagOf(b)) return false;
    if (memo.get(a) === b) return true;
    memo.set(a, b);
    if (a instanceof Date && a.getTime() !== b.getTime()) return false;
    if (a instanceof RegExp && (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex)) return false;
    if (a instanceof Error && (a.message !== b.message || a.name !== b.name)) return false;
    if (types.isBoxedPrimitive(a) && !Object.is(a.valueOf(), b.valueOf())) return false;
    if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length || (!(a instanceof Uint8Array) && a.length !== b.length)) return false;
      if (a instanceof Float32Array || a instanceof Float64Array) {
        for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
      } else for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
    if (a instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) {
        if (b.has(k)) {
          if (!isDeepStrictEqual(v, b.get(k), memo)) return false;
        } else if (![...b].some(([k2, v2]) => isDeepStrictEqual(k, k2, memo) && isDeepStrictEqual(v, v2, memo))) return false;
      }
    }
    if (a instanceof Set) {
      if (a.size !== b.size) return false;
      for (const v of a) if (!b.has(v) && ![...b].some((w) => isDeepStrictEqual(v, w, memo))) return false;
    }
    const keys = (o) => [...Object.keys(o), ...Object.getOwnPropertySymbols(o).filter((s) => Object.prototype.propertyIsEnumerable.call(o, s))];
    const ka = keys(a);
    const kb = keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
      if (!isDeepStrictEqual(a[k], b[k], memo)) return false;
    }
    if (Array.isArray(a) && a.length !== b.length) return false;
    return true;
  }

  function inherits(ctor, superCtor) {
    if (typeof ctor !== 'function' || typeof superCtor !== 'function' || superCtor.prototype === undefined) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "ctor" and "superCtor" arguments must be functions with a prototype');
    }
    Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  }

  const warned = new Set();
  function deprecate(fn, message, code) {
    return function deprecated(...args) {
      const key = code || message;
      if (!warned.has(key)) {
        warned.add(key);
        native.write(2, `(node) ${code ? `[${code}] ` : ''}DeprecationWarning: ${message}\n`);
      }
      return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
    };
  }

  const util = Object.freeze({
    format,
    formatWithOptions: (options, ...args) => format(...args),
    inspect,
    promisify,
    callbackify,
    types,
    isDeepStrictEqual: (a, b) => isDeepStrictEqual(a, b),
    inherits,
    deprecate,
    isArray: Array.isArray,
    stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g, ''),
    toUSVString: (s) => String(s).toWellFormed(),
    TextEncoder,
    TextDecoder,
  });
