//! The Web platform and Node APIs JavaScript steps reach for: timers,
//! `Buffer`, `TextEncoder`/`TextDecoder`, `URL`/`URLSearchParams`, Web
//! Crypto and Node's hashes, events and `AbortController`,
//! `structuredClone`, `Blob`, `util`'s helpers and `console`'s. `WEB`'s
//! expected output is what Node 20 printed for it, run as `case.mjs` with
//! the one line a Node module needs for runbox's globals:
//! `import util from 'node:util'; import nodeCrypto from 'node:crypto';
//! crypto.createHash = nodeCrypto.createHash; crypto.createHmac =
//! nodeCrypto.createHmac;`.

use crate::harness::{Scratch, error_code, js_file_stdout};

const WEB: &str = r#"console.log('start');
setTimeout(() => console.log('timeout 20'), 20);
setTimeout((a, b) => console.log('timeout 0', a, b), 0, 'x', 'y');
setImmediate(() => console.log('immediate'));
const iv = setInterval(() => { console.log('tick'); if (++n === 3) clearInterval(iv) }, 5); let n = 0;
const t = setTimeout(() => console.log('never'), 1000); clearTimeout(t);
setTimeout(() => console.log('unref never'), 5000).unref();
await new Promise(r => setTimeout(r, 30));
console.log('after await');
const sleep = util.promisify(setTimeout); await sleep(5); console.log('slept');
console.log(Buffer.from('hello').toString('base64'), Buffer.from('aGVsbG8=', 'base64').toString(), Buffer.from('hé').toString('hex'));
console.log(Buffer.from('hello'), Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString(), Buffer.alloc(3, 'ab'), Buffer.byteLength('hé'));
console.log(JSON.stringify(Buffer.from('hi')), Buffer.from('hello').subarray(1,3).toString(), Buffer.isBuffer(Buffer.alloc(1)), Buffer.from('abc').equals(Buffer.from('abc')));
const b = Buffer.alloc(8); b.writeUInt32BE(0xdeadbeef, 0); b.writeInt16LE(-2, 4); console.log(b.readUInt32BE(0).toString(16), b.readInt16LE(4), b.toString('hex'));
console.log(new TextEncoder().encode('hé'), new TextDecoder().decode(new Uint8Array([0xe2, 0x82, 0xac])), new TextDecoder('utf-8', {fatal: false}).decode(new Uint8Array([0xff])));
try { new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xff])) } catch (e) { console.log(e.name, e.code, e.message) }
const u = new URL('https://user:pw@example.com:8080/a/b/../c?x=1&y=a+b#frag'); console.log(u.href, u.host, u.pathname, u.searchParams.get('y'), u.origin);
u.searchParams.append('z', 'a b&c'); console.log(u.href); u.pathname = '/new path'; u.hash = ''; console.log(String(u));
console.log(new URL('../x?q', 'http://h/a/b/c').href, URL.canParse('nope'), JSON.stringify({u: new URL('http://x')}));
try { new URL('not a url') } catch (e) { console.log(e.name, e.code, e.message) }
console.log(u); console.log(new URLSearchParams({a: '1', b: 'x y'}).toString(), [...new URLSearchParams('a=1&a=2&b=%E2%82%AC')]);
console.log(crypto.randomUUID().length, crypto.getRandomValues(new Uint8Array(4)).length, crypto.createHash('sha256').update('abc').digest('hex'));
console.log(crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('base64'), crypto.createHash('md5').update('a').update('bc').digest('hex'));
const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')); console.log(Buffer.from(d).toString('hex'));
const k = await crypto.subtle.importKey('raw', new TextEncoder().encode('key'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
const sig = await crypto.subtle.sign('HMAC', k, new TextEncoder().encode('msg')); console.log(Buffer.from(sig).toString('hex'), await crypto.subtle.verify('HMAC', k, sig, new TextEncoder().encode('msg')));
const ac = new AbortController(); ac.signal.addEventListener('abort', (e) => console.log('aborted', e.type, ac.signal.reason.name)); ac.abort(); console.log(ac.signal.aborted, ac);
const et = new EventTarget(); et.addEventListener('ping', (e) => console.log('got', e.type, e.detail), { once: true }); et.dispatchEvent(new CustomEvent('ping', { detail: 42 })); et.dispatchEvent(new CustomEvent('ping', { detail: 43 }));
const s = AbortSignal.timeout(10); await new Promise(r => setTimeout(r, 20)); console.log(s.aborted, s.reason.name, s.reason.message);
const c = structuredClone({ a: [1, { b: new Date(0) }], m: new Map([[1, 2]]), s: new Set([3]) }); console.log(c);
try { structuredClone({ f() {} }) } catch (e) { console.log(e.name) }
const o = { x: 1 }; o.self = o; const oc = structuredClone(o); console.log(oc.self === oc, oc !== o);
console.log(await new Blob(['ab', new Uint8Array([99])], { type: 'Text/Plain' }).text(), new Blob(['x']).size);
console.log(util.isDeepStrictEqual({ a: [1, 2] }, { a: [1, 2] }), util.isDeepStrictEqual({ a: 1 }, { a: '1' }), util.types.isDate(new Date()), util.types.isPromise(Promise.resolve()));
function Old() {} util.inherits(Old, EventTarget); console.log(Object.getPrototypeOf(Old.prototype) === EventTarget.prototype);
const cb = (x, done) => done(null, x * 2); console.log(await util.promisify(cb)(21));
console.table([{ a: 1, b: 'x' }, { a: 2, c: true }]); console.group('G'); console.log('in'); console.groupEnd(); console.count(); console.count();
console.log(typeof setTimeout(() => {}, 0), typeof +setTimeout(() => {}, 0));
"#;

const WEB_IN_NODE: &str = r#"start
immediate
timeout 0 x y
tick
tick
tick
timeout 20
after await
slept
aGVsbG8= hello 68c3a9
<Buffer 68 65 6c 6c 6f> ab <Buffer 61 62 61> 3
{"type":"Buffer","data":[104,105]} el true true
deadbeef -2 deadbeeffeff0000
Uint8Array(3) [ 104, 195, 169 ] € �
TypeError ERR_ENCODING_INVALID_ENCODED_DATA The encoded data was not valid for encoding utf-8
https://user:pw@example.com:8080/a/c?x=1&y=a+b#frag example.com:8080 /a/c a b https://example.com:8080
https://user:pw@example.com:8080/a/c?x=1&y=a+b&z=a+b%26c#frag
https://user:pw@example.com:8080/new%20path?x=1&y=a+b&z=a+b%26c
http://h/a/x?q false {"u":"http://x/"}
TypeError ERR_INVALID_URL Invalid URL
URL {
  href: 'https://user:pw@example.com:8080/new%20path?x=1&y=a+b&z=a+b%26c',
  origin: 'https://example.com:8080',
  protocol: 'https:',
  username: 'user',
  password: 'pw',
  host: 'example.com:8080',
  hostname: 'example.com',
  port: '8080',
  pathname: '/new%20path',
  search: '?x=1&y=a+b&z=a+b%26c',
  searchParams: URLSearchParams { 'x' => '1', 'y' => 'a b', 'z' => 'a b&c' },
  hash: ''
}
a=1&b=x+y [ [ 'a', '1' ], [ 'a', '2' ], [ 'b', '€' ] ]
36 4 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg= 900150983cd24fb0d6963f7d28e17f72
ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
2d93cbc1be167bcb1637a4a23cbff01a7878f0c50ee833954ea5221bb1b8c628 true
aborted abort AbortError
true AbortController { signal: AbortSignal { aborted: true } }
got ping 42
true TimeoutError The operation was aborted due to timeout
{
  a: [ 1, { b: 1970-01-01T00:00:00.000Z } ],
  m: Map(1) { 1 => 2 },
  s: Set(1) { 3 }
}
DataCloneError
true true
abc 1
true false true true
true
42
┌─────────┬───┬─────┬──────┐
│ (index) │ a │ b   │ c    │
├─────────┼───┼─────┼──────┤
│ 0       │ 1 │ 'x' │      │
│ 1       │ 2 │     │ true │
└─────────┴───┴─────┴──────┘
G
  in
default: 1
default: 2
object number
"#;

#[test]
fn web_and_node_apis_answer_as_in_node() {
    let s = Scratch::new();
    assert_eq!(js_file_stdout(&s, "web.js", WEB), WEB_IN_NODE);
}

/// Under `--deterministic` a timer waits in virtual time: an hour's wait
/// ends at once, the clock says an hour passed, and a wait past the step's
/// timeout ends the step with `Timeout`, on every run alike.
#[test]
fn timers_wait_in_virtual_time_under_deterministic() {
    let s = Scratch::new();
    let script = "const t0 = Date.now(); await new Promise((r) => setTimeout(r, 3600 * 1000)); \
                  console.log(Date.now() - t0 >= 3600 * 1000)";
    let (run, json) = s.runbox().js(script, &["--deterministic", "--timeout", "2h"]);
    run.success();
    assert_eq!(json["stdout"], "true\n");
    let (run, json) =
        s.runbox().js("setTimeout(() => console.log('late'), 60000)", &["--deterministic", "--timeout", "30s"]);
    run.code(124);
    assert_eq!(error_code(&json), "Timeout");
    assert_eq!(json["stdout"], "");
}

/// A step whose interval is never cleared runs, as Node would, until its
/// deadline.
#[test]
fn an_interval_never_cleared_ends_at_the_deadline() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("let n = 0; setInterval(() => n++, 5)", &["--timeout", "300ms"]);
    run.code(124);
    assert_eq!(error_code(&json), "Timeout");
}

/// A timer's callback that throws ends the step with its error, where it
/// threw, and no later timer runs (as an uncaught exception ends Node); so
/// does `reportError`.
#[test]
fn a_throwing_timer_callback_fails_the_step() {
    let s = Scratch::new();
    let script =
        "console.log('before')\nsetTimeout(() => {\n  null.x\n}, 1)\nsetTimeout(() => console.log('not reached'), 50)";
    let (run, json) = s.runbox().js(script, &[]);
    run.code(1);
    assert_eq!(json["stdout"], "before\n");
    assert_eq!(json["error"]["message"], "TypeError: cannot read property 'x' of null");
    assert_eq!(json["error"]["line"], 3);
    let (run, json) = s.runbox().js("reportError(new RangeError('reported')); console.log('goes on')", &[]);
    run.code(1);
    assert_eq!(json["stdout"], "goes on\n");
    assert_eq!(json["error"]["message"], "RangeError: reported");
}

/// `fetch` with a signal already aborted rejects with its reason, asking
/// the host for nothing.
#[test]
fn fetch_honours_an_aborted_signal() {
    let s = Scratch::new();
    let script = "const c = new AbortController(); c.abort(); \
                  try { await fetch('http://example.invalid/', { signal: c.signal }) } \
                  catch (e) { console.log(e.name, e.message) }\n\
                  try { await fetch('http://example.invalid/', { signal: AbortSignal.abort(new Error('mine')) }) } \
                  catch (e) { console.log(e.message) }";
    let (run, json) = s.runbox().js(script, &[]);
    run.success();
    assert_eq!(json["stdout"], "AbortError This operation was aborted\nmine\n");
}

/// What Node 20 lacks and runbox has, from the WinterTC list, and what
/// `fs` now reads as Node does: `Buffer`s, in any of their encodings.
#[test]
fn files_read_as_buffers_and_navigator_names_runbox() {
    let s = Scratch::new();
    s.write("data.txt", "héllo");
    let script = "const b = fs.readFileSync('data.txt'); \
                  console.log(Buffer.isBuffer(b), b.toString(), fs.readFileSync('data.txt', 'base64'), fs.readFileSync('data.txt', 'hex'));\n\
                  console.log(navigator.userAgent, typeof structuredClone, typeof queueMicrotask)";
    let (run, json) = s.runbox().js(script, &[]);
    run.success();
    assert_eq!(json["stdout"], "true héllo aMOpbGxv 68c3a96c6c6f\nrunbox function function\n");
}

/// Many timers at once (a script fanning out delayed retries) run within
/// the default budget, those of one delay in the order they were set.
#[test]
fn twenty_thousand_timers_run_and_keep_their_order() {
    let s = Scratch::new();
    let script = "const order = new Map(); let n = 0;\n\
                  for (let i = 0; i < 20000; i++) setTimeout(() => { n++; const d = i % 100; \
                  if (order.has(d) && order.get(d) > i) throw new Error('out of order'); order.set(d, i) }, i % 100);\n\
                  await new Promise((r) => setTimeout(r, 200)); console.log(n)";
    let (run, json) = s.runbox().js(script, &[]);
    run.success();
    assert_eq!(json["stdout"], "20000\n");
}

/// `util.inspect` (and so `console.log`) shows a promise's state and value,
/// and names a function's `prototype` object as Node does (found by the
/// real-world corpus: javascript-questions 73 and 92).
const INSPECT: &str = r#"const p1 = Promise.resolve({ a: 1 }); const p2 = new Promise(() => {}); const p3 = Promise.reject(new Error('no')); p3.catch(() => {});
console.log(p1, p2); console.log([p1]); console.log(Promise.resolve(5));
function F() {} console.log(F.prototype, new F(), Object.create(F.prototype));
class A {} console.log(A.prototype, new A());
"#;

const INSPECT_IN_NODE: &str = r#"Promise { { a: 1 } } Promise { <pending> }
[ Promise { { a: 1 } } ]
Promise { 5 }
{} F {} F {}
{} A {}
"#;

#[test]
fn promises_and_prototypes_print_as_in_node() {
    let s = Scratch::new();
    assert_eq!(js_file_stdout(&s, "p.js", INSPECT), INSPECT_IN_NODE);
}
