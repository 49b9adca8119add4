//! What a JavaScript step sees and how its results and errors come back.

use crate::harness::shown;
use crate::harness::{Scratch, error_code};
use crate::snapshot;

#[test]
fn console_goes_to_the_right_streams_with_node_like_formatting() {
    let s = Scratch::new();
    let code = "console.log('a', 1, {x: [1, 'two'], y: null}); console.info('%s=%d', 'n', 42); \
                console.warn('careful'); console.error(new Map([[1, 2]]))";
    let (run, json) = s.runbox().js(code, &[]);
    run.success();
    assert_eq!(json["stdout"], "a 1 { x: [ 1, 'two' ], y: null }\nn=42\n");
    assert_eq!(json["stderr"], "careful\nMap(1) { 1 => 2 }\n");
}

#[test]
fn output_streams_live_without_json() {
    let s = Scratch::new();
    let run = s.runbox().args(["js", "-e", "console.log('out'); console.error('err')"]).run();
    run.success();
    assert_eq!(run.stdout, "out\n");
    assert_eq!(run.stderr, "err\n");
}

#[test]
fn the_return_value_is_the_json_result_and_top_level_await_works() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("const v = await Promise.resolve(20); return { v: v + 1, list: [true, 'x'] }", &[]);
    run.success();
    assert_eq!(json["result"], serde_json::json!({ "v": 21, "list": [true, "x"] }));
    let (_, json) = s.runbox().js("console.log('no return')", &[]);
    assert!(json["result"].is_null());
}

#[test]
fn scripts_run_from_files_and_stdin() {
    let s = Scratch::new();
    s.write("script.js", "console.log(path.basename('/a/b.txt', '.txt'))\n");
    let shown_run = s.runbox().args(["js", "script.js"]).run();
    shown_run.success();
    snapshot!("js_steps_scripts_run_from_files_and_stdin_10", shown(&s, &shown_run));
    use crate::harness::StdinChild;
    let child = s.runbox().args(["js"]).spawn_with_stdin("console.log(6 * 7)");
    let out = crate::harness::Run::from(child.wait_with_output_after_stdin());
    out.success().stdout_has("42");
}

#[test]
fn syntax_errors_give_the_users_line_and_column() {
    let s = Scratch::new();
    s.write("bad.js", "const a = 1;\nconst b = 2;\nlet = = 3;\n");
    let run = s.runbox().args(["js", "--json", "bad.js"]).run();
    run.code(1);
    let json = run.json();
    assert_eq!(error_code(&json), "SyntaxError");
    assert_eq!(json["error"]["line"], 3);
    assert!(json["stderr"].as_str().unwrap().starts_with("bad.js:3:"), "{json:#}");
}

#[test]
fn runtime_errors_carry_the_stack_in_user_coordinates() {
    let s = Scratch::new();
    s.write("boom.js", "const config = null;\nfunction inner() {\n  return config.field;\n}\ninner();\n");
    let run = s.runbox().args(["js", "--json", "boom.js"]).run();
    run.code(1);
    let json = run.json();
    assert_eq!(error_code(&json), "RuntimeError");
    assert_eq!(json["error"]["line"], 3);
    let stack = json["error"]["stack"].as_str().unwrap();
    assert!(stack.contains("inner (boom.js:3:") && stack.contains("boom.js:5:"), "{stack}");
    assert!(!stack.contains("<eval>"), "runbox's wrapper is not in the stack: {stack}");
    // First-line positions are not shifted by runbox's wrapper.
    let (_, json) = s.runbox().js("undefinedThing()", &[]);
    assert_eq!((json["error"]["line"].as_u64(), json["error"]["column"].as_u64()), (Some(1), Some(1)), "{json:#}");
}

#[test]
fn thrown_non_errors_are_reported() {
    let s = Scratch::new();
    let (run, json) = s.runbox().js("throw {reason: 'nope'}", &[]);
    run.code(1);
    assert_eq!(json["error"]["message"], "Uncaught {\"reason\":\"nope\"}");
}

/// A promise rejected with nobody to handle it fails the step, as Node ends
/// with status 1 on an unhandled rejection (it used to pass in silence);
/// one handled, also after an `await`, does not.
#[test]
fn an_unhandled_rejection_fails_the_step_as_in_node() {
    let s = Scratch::new();
    let (run, json) = s
        .runbox()
        .js("(async () => { throw new RangeError('in a floating promise') })();\nconsole.log('went on')", &[]);
    run.code(1);
    assert_eq!(
        (error_code(&json), json["error"]["message"].as_str()),
        ("RuntimeError", Some("RangeError: in a floating promise")),
        "{json:#}"
    );
    assert_eq!(json["stdout"], "went on\n");
    let (run, json) = s.runbox().js("Promise.reject(42)", &[]);
    run.code(1);
    assert_eq!(json["error"]["message"], "Uncaught 42");
    let handled = "const p = Promise.reject(new Error('late'));\nawait null;\np.catch((e) => console.log('handled', e.message));\n\
                   try { await Promise.reject(new Error('awaited')) } catch (e) { console.log('caught', e.message) }";
    let (run, json) = s.runbox().js(handled, &[]);
    run.code(0);
    assert_eq!(json["stdout"], "handled late\ncaught awaited\n");
}

#[test]
fn get_reads_inputs_and_declared_variables_and_nothing_else_leaks() {
    let s = Scratch::new();
    let script = "```js\nreturn { who: get('who'), n: get('inputs').n, token: get('SERVICE_TOKEN'), token_ok: get('SERVICE_TOKEN') === 't0k3n', \
                  home: get('HOME') ?? null, missing: get('nope') === undefined, \
                  globals: [typeof require, typeof process, typeof module] }\n```";
    s.write("Vars.md", &crate::harness::runbook("Vars", "SERVICE_TOKEN: a token", &[], &[], script));
    let run = s
        .runbox()
        .env("SERVICE_TOKEN", "t0k3n")
        .env("UNDECLARED_SECRET", "hidden")
        .args(["run", "--json", "--no-history", "Vars.md", "--input", "who=ops", "--input", "n=3"])
        .args(["--env", "UNDECLARED_TOO=x"])
        .run();
    snapshot!("js_steps_get_reads_inputs_and_declared_variables_and_nothing_else_leaks", shown(&s, &run));
    let json = run.success().json();
    assert_eq!(
        json["steps"][0]["result"],
        // The step read the token; what it returned is masked (its name looks secret).
        serde_json::json!({ "who": "ops", "n": "3", "token": "***", "token_ok": true, "home": null, "missing": true,
                            "globals": ["undefined", "undefined", "undefined"] })
    );
}

#[test]
fn math_random_differs_between_runs() {
    let s = Scratch::new();
    let (_, a) = s.runbox().js("return [Math.random(), Math.random()]", &[]);
    let (_, b) = s.runbox().js("return [Math.random(), Math.random()]", &[]);
    assert_ne!(a["result"], b["result"]);
    assert_ne!(a["result"][0], a["result"][1]);
    let (_, year) = s.runbox().js("return new Date().getUTCFullYear()", &[]);
    assert!(year["result"].as_u64().unwrap() >= 2025, "Date is the real clock");
}

#[test]
fn fs_works_on_the_working_directory() {
    let s = Scratch::new();
    s.write("in/data.txt", "line1\nline2\n");
    let code = "fs.mkdirSync('made/deep', {recursive: true});\
                fs.writeFileSync('made/deep/a.txt', 'A');\
                fs.appendFileSync('made/deep/a.txt', 'B');\
                await fs.promises.writeFile('made/b.bin', new Uint8Array([1, 2, 3]));\
                const st = fs.statSync('made/b.bin');\
                fs.renameSync('made/b.bin', 'made/c.bin');\
                fs.copyFileSync('made/c.bin', 'made/d.bin');\
                fs.rmSync('made/c.bin');\
                return { text: fs.readFileSync('made/deep/a.txt', 'utf8'), size: st.size, file: st.isFile(),\
                         bytes: Array.from(fs.readFileSync('made/d.bin')), list: fs.readdirSync('made'),\
                         lines: fs.readFileSync('in/data.txt', {encoding: 'utf8'}).split('\\n').length,\
                         exists: [fs.existsSync('in'), fs.existsSync('nope')], cwd: path.resolve('.') }";
    let (run, json) = s.runbox().js(code, &[]);
    run.success();
    assert_eq!(
        json["result"],
        serde_json::json!({ "text": "AB", "size": 3, "file": true, "bytes": [1, 2, 3], "list": ["d.bin", "deep"],
                            "lines": 3, "exists": [true, false], "cwd": "/work" })
    );
    assert_eq!(s.read("made/deep/a.txt"), "AB", "files written in the working directory are on disk");
}

#[test]
fn fs_errors_are_node_style_and_catchable() {
    let s = Scratch::new();
    let code = "try { fs.readFileSync('missing.txt') } catch (e) { return [e.code, e.syscall, e.message] }";
    let (_, json) = s.runbox().js(code, &[]);
    assert_eq!(
        json["result"],
        serde_json::json!(["ENOENT", "open", "ENOENT: no such file or directory, open 'missing.txt'"])
    );
}

#[test]
fn path_is_posix() {
    let s = Scratch::new();
    let code = "return [path.join('a', '../b', 'c.txt'), path.resolve('/x', 'y', '..', 'z'), path.dirname('/a/b/c'),\
                path.extname('f.tar.gz'), path.relative('/a/b', '/a/c/d'), path.normalize('a//b/./c/'), path.isAbsolute('/q')]";
    let (_, json) = s.runbox().js(code, &[]);
    assert_eq!(json["result"], serde_json::json!(["b/c.txt", "/x/z", "/a/b", ".gz", "../c/d", "a/b/c/", true]));
}

#[test]
fn stdin_is_read_with_node_spellings() {
    let s = Scratch::new();
    let code = "return [fs.readFileSync(0, 'utf8'), fs.readFileSync('/dev/stdin').length]";
    let run = s.runbox().args(["js", "--json", "-e", code]).run_with_stdin("x\ny\n");
    // The first read takes it all; the second finds it at its end.
    assert_eq!(run.success().json()["result"], serde_json::json!(["x\ny\n", 0]));
    let (mut child, _) = s.runbox().args(["js", "--json", "--timeout", "1s", "-e", code]).spawn_with_stdin("");
    let _open = child.stdin.take();
    let run = crate::harness::Run::from(child.wait_with_output().unwrap());
    assert_eq!((run.code, error_code(&run.json())), (124, "Timeout"));
}
