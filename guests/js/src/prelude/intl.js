  // ---------------------------------------------------------------- Intl ---
  // ECMA-402 on ICU4X (intl.rs): options are read and checked here as the
  // specification says, the formatting is CLDR's. The default locale is
  // en-US, as Node's is where no LANG says otherwise.
  const DEFAULT_LOCALE = 'en-US';

  function canonicalLocales(locales) {
    if (locales === undefined) return [];
    const list = typeof locales === 'string' || (locales instanceof Intl.Locale) ? [locales] : Array.from(locales);
    const seen = [];
    for (const item of list) {
      if (typeof item !== 'string' && typeof item !== 'object') throw new TypeError('Language ID should be string or object.');
      const tag = native.intlLocale(String(item));
      if (tag === undefined || tag === null) throw new RangeError(`Incorrect locale information provided`);
      if (!seen.includes(tag)) seen.push(tag);
    }
    return seen;
  }

  // The locale a formatter uses: the first requested one, without the
  // Unicode extensions it does not read, or the default.
  function resolveLocale(locales, keep) {
    // A private-use part (`-x-…`) is for the caller alone.
    const tag = (canonicalLocales(locales)[0] || DEFAULT_LOCALE).split('-x-')[0];
    const [base, ...rest] = tag.split('-u-');
    if (!rest.length) return { locale: base, base, extensions: {} };
    const extensions = {};
    const words = rest.join('-u-').split('-');
    let key = null;
    for (const word of words) {
      if (word.length === 2) { key = word; extensions[key] = 'true'; } else if (key) extensions[key] = extensions[key] === 'true' ? word : `${extensions[key]}-${word}`;
    }
    const kept = Object.entries(extensions).filter(([k]) => keep.includes(k));
    return { locale: kept.length ? `${base}-u-${kept.map(([k, v]) => `${k}-${v}`).join('-')}` : base, base, extensions };
  }

  function option(options, name, allowed, fallback) {
    let value = options[name];
    if (value === undefined) return fallback;
    value = typeof fallback === 'boolean' ? Boolean(value) : String(value);
    if (allowed && !allowed.includes(value)) throw new RangeError(`Value ${value} out of range for Intl options property ${name}`);
    return value;
  }

  function digitOption(options, name, min, max, fallback) {
    const value = options[name];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new RangeError(`${name} value is out of range.`);
    return Math.floor(n);
  }

  function toOptions(options) {
    if (options === undefined) return Object.create(null);
    if (options === null) throw new TypeError('Cannot convert undefined or null to object');
    return Object(options);
  }

  // ISO 4217's minor units where they are not 2 (CLDR's currencyData).
  const CURRENCY_DIGITS = {
    BHD: 3, BIF: 0, CLP: 0, DJF: 0, GNF: 0, IQD: 0, ISK: 0, JOD: 3, JPY: 0, KMF: 0, KRW: 0, KWD: 3,
    LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  };

  class NumberFormat {
    constructor(locales, options) {
      options = toOptions(options);
      const { locale } = resolveLocale(locales, ['nu']);
      const style = option(options, 'style', ['decimal', 'percent', 'currency', 'unit'], 'decimal');
      if (style === 'unit') throw new RangeError("runbox's Intl.NumberFormat has no style 'unit' yet: format the number and add the unit");
      let currency = options.currency;
      if (currency !== undefined) {
        currency = String(currency);
        if (!/^[A-Za-z]{3}$/.test(currency)) throw new RangeError(`Invalid currency code : ${currency}`);
        currency = currency.toUpperCase();
      }
      if (style === 'currency' && currency === undefined) throw new TypeError('Currency code is required with currency style.');
      const currencyDisplay = option(options, 'currencyDisplay', ['code', 'symbol', 'narrowSymbol', 'name'], 'symbol');
      const notation = option(options, 'notation', ['standard', 'scientific', 'engineering', 'compact'], 'standard');
      if (notation === 'scientific' || notation === 'engineering') {
        throw new RangeError(`runbox's Intl.NumberFormat has no notation '${notation}' yet: use Number.prototype.toExponential`);
      }
      const compactDisplay = option(options, 'compactDisplay', ['short', 'long'], 'short');
      const cDigits = style === 'currency' ? (CURRENCY_DIGITS[currency] ?? 2) : 0;
      const minimumIntegerDigits = digitOption(options, 'minimumIntegerDigits', 1, 21, 1);
      const r = { locale, numberingSystem: 'latn', style };
      if (style === 'currency') Object.assign(r, { currency, currencyDisplay, currencySign: 'standard' });
      r.minimumIntegerDigits = minimumIntegerDigits;
      const hasSd = options.minimumSignificantDigits !== undefined || options.maximumSignificantDigits !== undefined;
      const hasFd = options.minimumFractionDigits !== undefined || options.maximumFractionDigits !== undefined;
      if (hasSd) {
        r.minimumSignificantDigits = digitOption(options, 'minimumSignificantDigits', 1, 21, 1);
        r.maximumSignificantDigits = digitOption(options, 'maximumSignificantDigits', r.minimumSignificantDigits, 21, 21);
      } else if (hasFd || notation !== 'compact') {
        const minDefault = cDigits;
        const maxDefault = style === 'percent' ? 0 : style === 'currency' ? cDigits : 3;
        let min = digitOption(options, 'minimumFractionDigits', 0, 100, undefined);
        let max = digitOption(options, 'maximumFractionDigits', 0, 100, undefined);
        if (min === undefined) min = Math.min(minDefault, max ?? minDefault);
        if (max === undefined) max = Math.max(maxDefault, min);
        else if (min > max) throw new RangeError('maximumFractionDigits value is out of range.');
        r.minimumFractionDigits = min;
        r.maximumFractionDigits = max;
      }
      const grouping = options.useGrouping;
      r.useGrouping = grouping === undefined ? (notation === 'compact' ? 'min2' : 'auto')
        : grouping === false || grouping === 'false' ? false
        : grouping === true || grouping === 'true' ? 'always'
        : option(options, 'useGrouping', ['min2', 'auto', 'always'], 'auto');
      r.notation = notation;
      if (notation === 'compact') r.compactDisplay = compactDisplay;
      r.signDisplay = option(options, 'signDisplay', ['auto', 'never', 'always', 'exceptZero', 'negative'], 'auto');
      Object.assign(r, { roundingMode: 'halfExpand', roundingIncrement: 1, trailingZeroDisplay: 'auto', roundingPriority: 'auto' });
      Object.defineProperty(this, '_r', { value: r });
      const forNative = { ...r, useGrouping: r.useGrouping === false ? 'never' : r.useGrouping, currencyDigits: cDigits };
      Object.defineProperty(this, 'format', { value: (x) => formatLocaleNumber(forNative, x), configurable: true, writable: true });
    }
    formatToParts(x) {
      return [{ type: 'literal', value: this.format(x) }];
    }
    formatRange(a, b) {
      return `${this.format(a)}–${this.format(b)}`;
    }
    resolvedOptions() {
      return { ...this._r };
    }
    static supportedLocalesOf(locales) {
      return canonicalLocales(locales);
    }
  }
  Object.defineProperty(NumberFormat.prototype, Symbol.toStringTag, { value: 'Intl.NumberFormat', configurable: true });

  function formatLocaleNumber(r, x) {
    if (typeof x === 'bigint') return native.intlNumber(r.locale, 0, String(x), r);
    const n = Number(x);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) {
      const text = native.intlNumber(r.locale, n < 0 ? -1 : 1, undefined, r);
      return text.replace(/[0-9]+([.,\s\u00a0\u202f'’][0-9]+)*/u, '∞');
    }
    return native.intlNumber(r.locale, n, undefined, r);
  }

  class PluralRules {
    constructor(locales, options) {
      options = toOptions(options);
      const { locale } = resolveLocale(locales, []);
      const type = option(options, 'type', ['cardinal', 'ordinal'], 'cardinal');
      const r = { locale, type, minimumIntegerDigits: digitOption(options, 'minimumIntegerDigits', 1, 21, 1) };
      r.minimumFractionDigits = digitOption(options, 'minimumFractionDigits', 0, 100, 0);
      r.maximumFractionDigits = digitOption(options, 'maximumFractionDigits', r.minimumFractionDigits, 100, Math.max(3, r.minimumFractionDigits));
      if (options.maximumSignificantDigits !== undefined || options.minimumSignificantDigits !== undefined) {
        r.minimumSignificantDigits = digitOption(options, 'minimumSignificantDigits', 1, 21, 1);
        r.maximumSignificantDigits = digitOption(options, 'maximumSignificantDigits', r.minimumSignificantDigits, 21, 21);
      }
      Object.defineProperty(this, '_r', { value: r });
    }
    select(x) {
      const n = Number(x);
      if (!Number.isFinite(n)) return 'other';
      return native.intlPlural(this._r.locale, this._r.type === 'ordinal', n, this._r);
    }
    resolvedOptions() {
      const r = { ...this._r };
      const categories = new Set();
      for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 21, 22, 23, 100, 101, 1000000, 0.5, 1.5]) categories.add(this.select(n));
      // Node 20 lists them in alphabetical order.
      r.pluralCategories = ['few', 'many', 'one', 'other', 'two', 'zero'].filter((c) => categories.has(c));
      return r;
    }
    static supportedLocalesOf(locales) {
      return canonicalLocales(locales);
    }
  }
  Object.defineProperty(PluralRules.prototype, Symbol.toStringTag, { value: 'Intl.PluralRules', configurable: true });

  class ListFormat {
    constructor(locales, options) {
      options = toOptions(options);
      const { locale } = resolveLocale(locales, []);
      const type = option(options, 'type', ['conjunction', 'disjunction', 'unit'], 'conjunction');
      const style = option(options, 'style', ['long', 'short', 'narrow'], 'long');
      Object.defineProperty(this, '_r', { value: { locale, type, style } });
    }
    format(list) {
      const items = [];
      for (const item of list === undefined ? [] : list) {
        if (typeof item !== 'string') throw new TypeError(`Iterable yielded ${String(item)} which is not a string`);
        items.push(item);
      }
      return native.intlList(this._r.locale, this._r.type, this._r.style, items);
    }
    formatToParts(list) {
      return [{ type: 'literal', value: this.format(list) }];
    }
    resolvedOptions() {
      return { ...this._r };
    }
    static supportedLocalesOf(locales) {
      return canonicalLocales(locales);
    }
  }
  Object.defineProperty(ListFormat.prototype, Symbol.toStringTag, { value: 'Intl.ListFormat', configurable: true });

  class Collator {
    constructor(locales, options) {
      options = toOptions(options);
      const { base, extensions } = resolveLocale(locales, ['kn', 'kf', 'co']);
      const usage = option(options, 'usage', ['sort', 'search'], 'sort');
      const sensitivity = option(options, 'sensitivity', ['base', 'accent', 'case', 'variant'], 'variant');
      const ignorePunctuation = option(options, 'ignorePunctuation', null, false);
      const numeric = options.numeric !== undefined ? Boolean(options.numeric) : extensions.kn === 'true';
      const caseFirst = option(options, 'caseFirst', ['upper', 'lower', 'false'], extensions.kf || 'false');
      let tag = base;
      const u = [];
      if (extensions.co) u.push(`co-${extensions.co}`);
      if (caseFirst !== 'false') u.push(`kf-${caseFirst}`);
      if (numeric) u.push('kn');
      if (u.length) tag += `-u-${u.join('-')}`;
      const r = { locale: base, usage, sensitivity, ignorePunctuation, collation: extensions.co || 'default', numeric, caseFirst };
      Object.defineProperty(this, '_r', { value: r });
      Object.defineProperty(this, 'compare', {
        value: (a, b) => native.intlCompare(tag, sensitivity, ignorePunctuation, String(a), String(b)),
        configurable: true, writable: true,
      });
    }
    resolvedOptions() {
      return { ...this._r };
    }
    static supportedLocalesOf(locales) {
      return canonicalLocales(locales);
    }
  }
  Object.defineProperty(Collator.prototype, Symbol.toStringTag, { value: 'Intl.Collator', configurable: true });

  const RELATIVE_UNITS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

  class RelativeTimeFormat {
    constructor(locales, options) {
      options = toOptions(options);
      const { locale } = resolveLocale(locales, ['nu']);
      const style = option(options, 'style', ['long', 'short', 'narrow'], 'long');
      const numeric = option(options, 'numeric', ['always', 'auto'], 'always');
      Object.defineProperty(this, '_r', { value: { locale, style, numeric, numberingSystem: 'latn' } });
    }
    format(value, unit) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new RangeError('Invalid number value');
      let u = String(unit);
      if (u.endsWith('s')) u = u.slice(0, -1);
      if (!RELATIVE_UNITS.includes(u)) throw new RangeError(`Invalid unit argument for format() '${unit}'`);
      return native.intlRelative(this._r.locale, n, u, this._r.style, this._r.numeric);
    }
    formatToParts(value, unit) {
      return [{ type: 'literal', value: this.format(value, unit) }];
    }
    resolvedOptions() {
      return { ...this._r };
    }
    static supportedLocalesOf(locales) {
      return canonicalLocales(locales);
    }
  }
  Object.defineProperty(RelativeTimeFormat.prototype, Symbol.toStringTag, { value: 'Intl.RelativeTimeFormat', configurable: true });

  // The zone a step's dates are in: its clock is UTC, as a server's is.
  const DEFAULT_ZONE = 'UTC';
  const DATE_FIELDS = ['weekday', 'era', 'year', 'month', 'day'];
  const TIME_FIELDS = ['dayPeriod', 'hour', 'minute', 'second', 'fractionalSecondDigits'];
  const FIELD_VALUES = {
    weekday: ['narrow', 'short', 'long'], era: ['narrow', 'short', 'long'], year: ['2-digit', 'numeric'],
    month: ['2-digit', 'numeric', 'narrow', 'short', 'long'], day: ['2-digit', 'numeric'],
    dayPeriod: ['narrow', 'short', 'long'], hour: ['2-digit', 'numeric'], minute: ['2-digit', 'numeric'],
    second: ['2-digit', 'numeric'],
    timeZoneName: ['short', 'long', 'shortOffset', 'longOffset', 'shortGeneric', 'longGeneric'],
  };
  // dateStyle and timeStyle, as the fields they show.
  const DATE_STYLES = {
    full: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' },
    long: { year: 'numeric', month: 'long', day: 'numeric' },
    medium: { year: 'numeric', month: 'short', day: 'numeric' },
    short: { year: '2-digit', month: 'numeric', day: 'numeric' },
  };
  const TIME_STYLES = {
    full: { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'long' },
    long: { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'short' },
    medium: { hour: 'numeric', minute: '2-digit', second: '2-digit' },
    short: { hour: 'numeric', minute: '2-digit' },
  };

  function timeValue(date) {
    if (date === undefined) return Date.now();
    const t = date instanceof Date ? date.getTime() : Number(date);
    if (!Number.isFinite(t)) throw new RangeError('Invalid time value');
    return t;
  }

  // Whether a `numeric` day, month, 12-hour and 24-hour hour are padded to
  // two digits in each locale (1 padded, 0 not): CLDR's `yMd`, `hm` and
  // `Hm` patterns as Node 20's ICU has them.
  const NUMERIC_PADDING = new Map([
    ['0000', 'es es-ES ja ja-JP fi cs he vi ca sk'],
    ['0001', 'en en-US en-IN en-IE de de-DE de-AT de-CH es-MX es-AR nl nl-NL nl-BE zh zh-CN zh-TW zh-HK ko ko-KR da nb no el id th sl et'],
    ['0101', 'en-NZ pl pl-PL bg lv'],
    ['1100', 'hu'],
    ['1101', 'en-GB en-CA en-AU en-ZA fr fr-FR fr-CA fr-CH fr-BE it it-IT pt pt-BR pt-PT sv sv-SE ru tr uk ro'],
    ['1111', 'hr lt'],
  ].flatMap(([pads, locales]) => locales.split(' ').map((l) => [l, pads])));

  function numericPadding(locale) {
    const base = locale.split('-u-')[0];
    return NUMERIC_PADDING.get(base) || NUMERIC_PADDING.get(base.split('-')[0]);
  }

  class DateTimeFormat {
    constructor(locales, options, required = 'any', defaults = 'date') {
      options = toOptions(options);
      const { locale, extensions } = resolveLocale(locales, ['ca', 'nu']);
      const r = { locale, calendar: extensions.ca || 'gregory', numberingSystem: extensions.nu || 'latn' };
      let zone = options.timeZone;
      if (zone === undefined) zone = DEFAULT_ZONE;
      else {
        const named = native.intlZone(String(zone));
        if (named === undefined || named === null) throw new RangeError(`Invalid time zone specified: ${zone}`);
        zone = named;
      }
      r.timeZone = zone;
      const bag = {};
      const hour12 = options.hour12;
      let hourCycle = option(options, 'hourCycle', ['h11', 'h12', 'h23', 'h24'], extensions.hc);
      if (hour12 !== undefined) hourCycle = hour12 ? 'h12' : 'h23';
      for (const field of [...DATE_FIELDS, ...TIME_FIELDS, 'timeZoneName']) {
        if (field === 'fractionalSecondDigits') {
          const digits = digitOption(options, field, 1, 3, undefined);
          if (digits !== undefined) bag[field] = digits;
        } else {
          const value = option(options, field, FIELD_VALUES[field], undefined);
          if (value !== undefined) bag[field] = value;
        }
      }
      const dateStyle = option(options, 'dateStyle', ['full', 'long', 'medium', 'short'], undefined);
      const timeStyle = option(options, 'timeStyle', ['full', 'long', 'medium', 'short'], undefined);
      if (dateStyle || timeStyle) {
        const explicit = Object.keys(bag)[0];
        if (explicit) throw new TypeError(`Can't set option ${explicit} when ${dateStyle ? 'dateStyle' : 'timeStyle'} is used`);
        if (dateStyle) Object.assign(bag, DATE_STYLES[dateStyle]);
        if (timeStyle) Object.assign(bag, TIME_STYLES[timeStyle]);
      } else {
        const hasDate = DATE_FIELDS.some((f) => bag[f] !== undefined);
        const hasTime = TIME_FIELDS.some((f) => bag[f] !== undefined);
        const needDefaults = (required === 'date' && !hasDate) || (required === 'time' && !hasTime) || (required === 'any' && !hasDate && !hasTime);
        if (needDefaults && (defaults === 'date' || defaults === 'all')) Object.assign(bag, { year: 'numeric', month: 'numeric', day: 'numeric' });
        if (needDefaults && (defaults === 'time' || defaults === 'all')) Object.assign(bag, { hour: 'numeric', minute: 'numeric', second: 'numeric' });
      }
      // The hour cycle goes to ICU4X as the locale's `-u-hc-` preference.
      let tag = locale;
      if (bag.hour !== undefined && hourCycle) tag += `${tag.includes('-u-') ? '' : '-u'}-hc-${hourCycle}`;
      Object.defineProperty(this, '_r', { value: r });
      Object.defineProperty(this, '_bag', { value: bag });
      Object.defineProperty(this, '_tag', { value: tag });
      Object.defineProperty(this, '_styled', { value: Boolean(dateStyle || timeStyle) });
      if (bag.hour !== undefined) {
        const [hour] = this._parts(Date.UTC(2001, 1, 3, 13, 5, 6)).filter((p) => p.type === 'hour');
        r.hourCycle = hourCycle || (hour && hour.value === '13' ? 'h23' : 'h12');
        r.hour12 = r.hourCycle === 'h11' || r.hourCycle === 'h12';
      }
      Object.assign(r, bag);
      if (dateStyle) r.dateStyle = dateStyle;
      if (timeStyle) r.timeStyle = timeStyle;
      Object.defineProperty(this, 'format', {
        value: (date) => this._parts(timeValue(date)).map((p) => p.value).join(''),
        configurable: true, writable: true,
      });
    }
    // The parts as V8 gives them: a plain space where CLDR has a narrow
    // no-break one (`3:07 PM`), and a field asked for as `numeric` padded
    // as the locale's own pattern pads it (`5.12.2026` in de, `05/12/2026`
    // in fr), which ICU4X's semantic skeletons do not tell apart.
    _parts(t) {
      const parts = native.intlDateParts(this._tag, t, this._r.timeZone, this._bag);
      const pads = this._styled ? undefined : numericPadding(this._r.locale);
      const h12 = this._r.hourCycle === 'h11' || this._r.hourCycle === 'h12';
      return parts.map(([type, value]) => {
        value = value.replace(/\u202f/g, ' ');
        const at = { day: 0, month: 1, hour: h12 ? 2 : 3 }[type];
        // A day beside a month's name is as ICU4X writes it (`5 Dec`).
        const numericDate = type !== 'day' || this._bag.month === 'numeric' || this._bag.month === '2-digit';
        if (pads && at !== undefined && this._bag[type] === 'numeric' && numericDate) {
          if (pads[at] === '0' && /^0[0-9]$/.test(value)) value = value.slice(1);
          else if (pads[at] === '1' && /^[0-9]$/.test(value)) value = `0${value}`;
        }
        return { type, value };
      });
    }
    formatToParts(date) {
      return this._parts(timeValue(date));
    }
    formatRange(a, b) {
      const [x, y] = [this.format(a), this.format(b)];
      return x === y ? x : `${x} – ${y}`;
    }
    resolvedOptions() {
      const order = ['locale', 'calendar', 'numberingSystem', 'timeZone', 'hourCycle', 'hour12', 'weekday', 'era', 'year', 'month', 'day',
        'dayPeriod', 'hour', 'minute', 'second', 'fractionalSecondDigits', 'timeZoneName', 'dateStyle', 'timeStyle'];
      const sample = this._styled ? [] : this._parts(Date.UTC(2001, 1, 3, 4, 5, 6));
      const r = {};
      for (const key of order) {
        if (this._r[key] === undefined) continue;
        r[key] = this._r[key];
        const part = sample.find((p) => p.type === key);
        if (r[key] === 'numeric' && part && /^0[0-9]$/.test(part.value)) r[key] = '2-digit';
      }
      return r;
    }
    static supportedLocalesOf(locales) {
      return canonicalLocales(locales);
    }
  }
  Object.defineProperty(DateTimeFormat.prototype, Symbol.toStringTag, { value: 'Intl.DateTimeFormat', configurable: true });

  class Locale {
    constructor(tag, options) {
      if (typeof tag !== 'string' && !(tag instanceof Locale)) throw new TypeError('First argument to Intl.Locale constructor can\'t be empty or missing');
      const canonical = native.intlLocale(String(tag));
      if (canonical === undefined || canonical === null) throw new RangeError('Incorrect locale information provided');
      const [base] = canonical.split('-u-');
      const parts = base.split('-');
      const r = { baseName: base, language: parts[0] };
      for (const part of parts.slice(1)) {
        if (/^[A-Za-z]{4}$/.test(part)) r.script = part;
        else if (/^([A-Za-z]{2}|[0-9]{3})$/.test(part)) r.region = part;
      }
      options = toOptions(options);
      for (const key of ['language', 'script', 'region']) if (options[key] !== undefined) r[key] = String(options[key]);
      Object.defineProperty(this, '_r', { value: r });
      Object.defineProperty(this, '_tag', { value: canonical });
    }
    get baseName() { return this._r.baseName; }
    get language() { return this._r.language; }
    get script() { return this._r.script; }
    get region() { return this._r.region; }
    toString() { return this._tag; }
  }
  Object.defineProperty(Locale.prototype, Symbol.toStringTag, { value: 'Intl.Locale', configurable: true });

  // NumberFormat, DateTimeFormat and Collator may be called without `new`
  // (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
  function callable(Class) {
    const F = function (locales, options) {
      return new Class(locales, options);
    };
    F.prototype = Class.prototype;
    Object.defineProperty(Class.prototype, 'constructor', { value: F, writable: true, configurable: true });
    Object.defineProperty(F, 'name', { value: Class.name });
    F.supportedLocalesOf = Class.supportedLocalesOf;
    return F;
  }

  const Intl = {
    getCanonicalLocales: (locales) => canonicalLocales(locales),
    NumberFormat: callable(NumberFormat), PluralRules, ListFormat, Collator: callable(Collator), RelativeTimeFormat,
    DateTimeFormat: callable(DateTimeFormat), Locale,
    supportedValuesOf() {
      throw new RangeError("runbox's Intl has no supportedValuesOf");
    },
  };
  Object.defineProperty(Intl, Symbol.toStringTag, { value: 'Intl', configurable: true });
  for (const name of ['NumberFormat', 'PluralRules', 'ListFormat', 'Collator', 'RelativeTimeFormat', 'DateTimeFormat', 'Locale', 'supportedValuesOf']) {
    Object.defineProperty(Intl, name, { enumerable: false });
  }

  // The locale-aware methods of the built-ins, as ECMA-402 defines them.
  const localeMethod = (proto, name, fn) =>
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  localeMethod(Number.prototype, 'toLocaleString', function toLocaleString(locales, options) {
    if (typeof this !== 'number' && !(this instanceof Number)) throw new TypeError('Number.prototype.toLocaleString requires that \'this\' be a Number');
    return new NumberFormat(locales, options).format(Number(this));
  });
  localeMethod(BigInt.prototype, 'toLocaleString', function toLocaleString(locales, options) {
    return new NumberFormat(locales, options).format(this);
  });
  localeMethod(String.prototype, 'localeCompare', function localeCompare(that, locales, options) {
    if (this === undefined || this === null) throw new TypeError('String.prototype.localeCompare called on null or undefined');
    return new Collator(locales, options).compare(String(this), String(that));
  });
  localeMethod(Array.prototype, 'toLocaleString', function toLocaleString(locales, options) {
    const items = Object(this);
    const parts = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      parts.push(item === undefined || item === null ? '' : item.toLocaleString(locales, options));
    }
    return parts.join(',');
  });
  const dateMethod = (name, required, defaults) => localeMethod(Date.prototype, name, function (locales, options) {
    if (!(this instanceof Date)) throw new TypeError('this is not a Date object.');
    const t = this.getTime();
    if (Number.isNaN(t)) return 'Invalid Date';
    return new DateTimeFormat(locales, options, required, defaults).format(t);
  });
  dateMethod('toLocaleString', 'any', 'all');
  dateMethod('toLocaleDateString', 'date', 'date');
  dateMethod('toLocaleTimeString', 'time', 'time');

  // `Date#toString` ends with the zone's name, as V8's does.
  let zoneName = null;
  const withZoneName = (name) => {
    const original = Date.prototype[name];
    localeMethod(Date.prototype, name, function () {
      const text = original.call(this);
      if (Number.isNaN(this.getTime())) return text;
      if (zoneName === null) {
        const parts = new DateTimeFormat('en-US', { hour: 'numeric', timeZoneName: 'long' }).formatToParts(0);
        zoneName = (parts.find((p) => p.type === 'timeZoneName') || { value: DEFAULT_ZONE }).value;
      }
      return `${text} (${zoneName})`;
    });
  };
  withZoneName('toString');
  withZoneName('toTimeString');
