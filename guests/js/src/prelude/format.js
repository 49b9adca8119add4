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

