//! JavaScript steps walk a file larger than their memory as Node scripts
//! do: descriptors (`fs.openSync`, `fs.readSync` with and without a
//! position, `fs.writeSync`, `fs.fstatSync`), `fs.promises.open` and its
//! `FileHandle`, `filehandle.readLines()` and `fs.createReadStream`. The
//! scripts' expected output is what Node 20 printed for them (run with
//! `node -e "globalThis.fs = require('fs'); require('./case.js')"`).

use crate::harness::{Scratch, js_file_stdout};

/// Lines ended by `\r\n`, `\r` and `\n`, an empty one, non-ASCII text and
/// a last line without an end.
const LINES: &str = "first line\r\nsecond\rthird\n\nfünfte zeile ✓\nlast without newline";

const DESCRIPTORS: &str = r#"const fd = fs.openSync('lines.txt', 'r');
const buf = new Uint8Array(8);
let n = fs.readSync(fd, buf, 0, 8, null);
console.log(n, JSON.stringify(Array.from(buf)));
n = fs.readSync(fd, buf, 2, 4, 3);
console.log(n, JSON.stringify(Array.from(buf)));
n = fs.readSync(fd, buf, { position: 0, length: 3 });
console.log(n, JSON.stringify(Array.from(buf)));
n = fs.readSync(fd, buf);
console.log(n, JSON.stringify(Array.from(buf)));
console.log(fs.fstatSync(fd).size, fs.fstatSync(fd).isFile());
fs.closeSync(fd);
try { fs.closeSync(fd); } catch (e) { console.log(e.code, e.message); }
try { fs.readSync(fd, buf); } catch (e) { console.log(e.code, e.message); }
try { fs.openSync('nope.txt'); } catch (e) { console.log(e.code, e.message); }
try { fs.readSync(99, 'x'); } catch (e) { console.log(e.code, e.name); }
try { fs.readSync(fd, buf, 9); } catch (e) { console.log(e.code, e.name); }
const w = fs.openSync('out.txt', 'w');
console.log(fs.writeSync(w, 'hello ✓\n'), fs.writeSync(w, new Uint8Array([65, 66, 10])));
fs.closeSync(w);
console.log(JSON.stringify(fs.readFileSync('out.txt', 'utf8')));
const a = fs.openSync('out.txt', 'a');
fs.writeSync(a, 'more\n');
fs.closeSync(a);
console.log(JSON.stringify(fs.readFileSync('out.txt', 'utf8')));
try { fs.openSync('out.txt', 'wx'); } catch (e) { console.log(e.code, e.message); }
"#;

const DESCRIPTORS_IN_NODE: &str = r#"8 [102,105,114,115,116,32,108,105]
4 [102,105,115,116,32,108,108,105]
3 [102,105,114,116,32,108,108,105]
8 [110,101,13,10,115,101,99,111]
64 true
EBADF EBADF: bad file descriptor, close
EBADF EBADF: bad file descriptor, read
ENOENT ENOENT: no such file or directory, open 'nope.txt'
ERR_INVALID_ARG_TYPE TypeError
ERR_INVALID_ARG_TYPE TypeError
10 3
"hello ✓\nAB\n"
"hello ✓\nAB\nmore\n"
EEXIST EEXIST: file already exists, open 'out.txt'
"#;

const HANDLES_AND_STREAMS: &str = r#"(async () => {
  const file = await fs.promises.open('lines.txt');
  const lines = [];
  for await (const line of file.readLines()) lines.push(line);
  console.log(JSON.stringify(lines));
  await file.close();
  const h = await fs.promises.open('lines.txt', 'r');
  const { bytesRead, buffer } = await h.read(new Uint8Array(5), 0, 5, 6);
  console.log(bytesRead, JSON.stringify(Array.from(buffer)));
  const r2 = await h.read({ buffer: new Uint8Array(4), position: 0 });
  console.log(r2.bytesRead, JSON.stringify(Array.from(r2.buffer)));
  console.log((await h.stat()).size);
  console.log(JSON.stringify(await h.readFile('utf8')));
  await h.close();
  const chunks = [];
  for await (const c of fs.createReadStream('lines.txt', { highWaterMark: 7 })) chunks.push(c.length);
  console.log(JSON.stringify(chunks));
  let text = '';
  for await (const c of fs.createReadStream('lines.txt', { encoding: 'utf8', highWaterMark: 5 })) text += c;
  console.log(JSON.stringify(text));
  let part = '';
  for await (const c of fs.createReadStream('lines.txt', { encoding: 'utf8', start: 3, end: 10 })) part += c;
  console.log(JSON.stringify(part));
  await new Promise((resolve) => {
    let bytes = 0;
    fs.createReadStream('lines.txt', { highWaterMark: 10 }).on('data', (c) => { bytes += c.length; }).on('end', () => { console.log('end', bytes); resolve(); });
  });
  const f2 = await fs.promises.open('lines.txt');
  await new Promise((resolve) => {
    f2.readLines().on('line', (l) => console.log('line', JSON.stringify(l))).on('close', () => { console.log('closed'); resolve(); });
  });
  await new Promise((resolve) => {
    fs.createReadStream('nope.txt').on('error', (e) => { console.log('error', e.code); resolve(); }).on('data', () => {});
  });
  try { for await (const c of fs.createReadStream('nope.txt')) {} } catch (e) { console.log('caught', e.code); }
})();
"#;

const HANDLES_AND_STREAMS_IN_NODE: &str = r#"["first line","second","third","","fünfte zeile ✓","last without newline"]
5 [108,105,110,101,13]
4 [102,105,114,115]
64
"first line\r\nsecond\rthird\n\nfünfte zeile ✓\nlast without newline"
[7,7,7,7,7,7,7,7,7,1]
"first line\r\nsecond\rthird\n\nfünfte zeile ✓\nlast without newline"
"st line\r"
end 64
line "first line"
line "second"
line "third"
line ""
line "fünfte zeile ✓"
line "last without newline"
closed
error ENOENT
caught ENOENT
"#;

#[test]
fn descriptors_handles_lines_and_streams_answer_as_node_20_does() {
    for (script, node) in [(DESCRIPTORS, DESCRIPTORS_IN_NODE), (HANDLES_AND_STREAMS, HANDLES_AND_STREAMS_IN_NODE)] {
        let s = Scratch::new();
        s.write("lines.txt", LINES);
        s.write("case.js", script);
        let run = s.runbox().args(["js", "case.js"]).run();
        assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, node, ""));
    }
}

/// A read asks for at most 64 MiB whatever length a script gives (Node's
/// reads may give fewer bytes than asked): an absurd `highWaterMark` or
/// `length` reads the file, not the step's memory away.
#[test]
fn an_absurd_read_size_reads_in_bounded_pieces() {
    let s = Scratch::new();
    s.write("lines.txt", LINES);
    s.write(
        "case.js",
        "let n = 0;\nfor await (const c of fs.createReadStream('lines.txt', { highWaterMark: 1e12 })) n += c.length;\n\
         let t = '';\nfor await (const c of fs.createReadStream('lines.txt', { encoding: 'utf8', highWaterMark: 2 ** 40 })) t += c;\n\
         const h = await fs.promises.open('lines.txt');\nconst { bytesRead } = await h.read({ buffer: new Uint8Array(10) });\n\
         console.log(n, t.length, bytesRead);\n",
    );
    let run = s.runbox().args(["js", "--memory", "16MiB", "case.js"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "64 61 10\n", ""));
}

/// A 24 MB log, read three ways (lines, a stream's chunks, a descriptor's
/// reads) in a step of 16 MiB: the step's memory high-water mark stays far
/// below the file's size.
#[test]
fn a_file_larger_than_the_steps_memory_is_walked_in_pieces() {
    let s = Scratch::new();
    let line =
        "10.0.0.1 - - [05/Dec/2026:00:00:00 +0000] \"GET /api/items?id=7 HTTP/1.1\" 200 10576 \"-\" \"curl/8.7\"\n";
    let lines = (40 << 20) / line.len() + 1;
    let mut log = line.repeat(lines);
    log.push_str("POST without a newline");
    s.write("big.log", &log);
    s.write(
        "walk.js",
        "let n = 0, gets = 0, bytes = 0, total = 0;\n\
         const file = await fs.promises.open('big.log');\n\
         for await (const line of file.readLines()) { n++; if (line.startsWith('10.')) gets++; }\n\
         for await (const chunk of fs.createReadStream('big.log')) bytes += chunk.length;\n\
         const fd = fs.openSync('big.log');\n\
         const buf = new Uint8Array(1 << 16);\n\
         for (let got; (got = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) total += got;\n\
         fs.closeSync(fd);\n\
         console.log(n, gets, bytes, total);\n",
    );
    // What a step that reads nothing holds (the guest's own data: CLDR's
    // for Intl is most of it), against which the walk is measured.
    s.write("nothing.js", "console.log(0);\n");
    let peak_of = |run: &crate::harness::Run| {
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        report["steps"][0]["memory_peak"].as_u64().or(report["memory_peak"].as_u64()).unwrap()
    };
    let baseline = peak_of(&s.runbox().args(["js", "--json", "nothing.js"]).run());
    let run = s.runbox().args(["js", "--memory", "24MiB", "--json", "walk.js"]).run();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["stdout"], format!("{} {lines} {} {}\n", lines + 1, log.len(), log.len()), "{}", run.stderr);
    let peak = peak_of(&run);
    assert!(peak < baseline + (6 << 20), "the step's memory stayed small: {peak} (a step reading nothing: {baseline})");
    assert!(log.len() > 24 << 20);
}

/// Errors as Node reports them, on every member that fails: the path the
/// script gave, `dest` for two, Linux's `errno`, the syscall Node names
/// (`lstat` for `rm`, `access`, `read` for a directory), `ENOTEMPTY`,
/// `ERR_FS_EISDIR`; `existsSync('')`, `throwIfNoEntry: false` and what
/// `mkdirSync(p, {recursive: true})` returns.
const ERRORS: &str = r#"const tryIt = (f) => { try { const r = f(); console.log('ok', JSON.stringify(r)) } catch (e) { console.log(e.code, e.errno, e.syscall, JSON.stringify(e.path), e.message) } };
tryIt(() => fs.readFileSync('nope.txt'));
tryIt(() => fs.readFileSync('./sub/nope.txt', 'utf8'));
tryIt(() => fs.existsSync(''));
tryIt(() => fs.statSync('nope', { throwIfNoEntry: false }));
tryIt(() => fs.mkdirSync('a/b/c', { recursive: true }));
tryIt(() => fs.mkdirSync('a/b/c', { recursive: true }));
tryIt(() => fs.mkdirSync('a'));
fs.writeFileSync('a/f.txt', 'x');
tryIt(() => fs.rmdirSync('a'));
tryIt(() => fs.rmSync('a'));
tryIt(() => fs.unlinkSync('a'));
tryIt(() => fs.readdirSync('nope'));
tryIt(() => fs.readFileSync('a'));
tryIt(() => fs.writeFileSync('zz/f', 'x'));
tryIt(() => fs.renameSync('nope', 'x'));
tryIt(() => fs.copyFileSync('nope', 'x'));
tryIt(() => fs.lstatSync('nope'));
tryIt(() => fs.accessSync('nope'));
tryIt(() => fs.rmSync('nope'));
tryIt(() => fs.rmSync('nope', { force: true }));
tryIt(() => fs.rmSync('a', { recursive: true }));
tryIt(() => fs.readdirSync('.').filter((n) => !n.startsWith('f.')));
tryIt(() => fs.statSync('f.js').isFile());
fs.promises.readFile('nope').catch(e => console.log('p', e.code, e.message));
"#;

const ERRORS_IN_NODE: &str = r#"ENOENT -2 open "nope.txt" ENOENT: no such file or directory, open 'nope.txt'
ENOENT -2 open "./sub/nope.txt" ENOENT: no such file or directory, open './sub/nope.txt'
ok false
ok undefined
ok "a"
ok undefined
EEXIST -17 mkdir "a" EEXIST: file already exists, mkdir 'a'
ENOTEMPTY -39 rmdir "a" ENOTEMPTY: directory not empty, rmdir 'a'
ERR_FS_EISDIR 21 rm "a" Path is a directory: rm returned EISDIR (is a directory) a
EISDIR -21 unlink "a" EISDIR: illegal operation on a directory, unlink 'a'
ENOENT -2 scandir "nope" ENOENT: no such file or directory, scandir 'nope'
EISDIR -21 read undefined EISDIR: illegal operation on a directory, read
ENOENT -2 open "zz/f" ENOENT: no such file or directory, open 'zz/f'
ENOENT -2 rename "nope" ENOENT: no such file or directory, rename 'nope' -> 'x'
ENOENT -2 copyfile "nope" ENOENT: no such file or directory, copyfile 'nope' -> 'x'
ENOENT -2 lstat "nope" ENOENT: no such file or directory, lstat 'nope'
ENOENT -2 access "nope" ENOENT: no such file or directory, access 'nope'
ENOENT -2 lstat "nope" ENOENT: no such file or directory, lstat 'nope'
ok undefined
ok undefined
ok []
ok true
p ENOENT ENOENT: no such file or directory, open 'nope'
"#;

#[test]
fn fs_reports_errors_as_node_does() {
    let s = Scratch::new();
    assert_eq!(js_file_stdout(&s, "f.js", ERRORS), ERRORS_IN_NODE);
}
