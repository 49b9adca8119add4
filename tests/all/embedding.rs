//! The guest is a plain WASI Preview 2 component with a typed
//! `run` export, so a host runbox did not write can run it. Here jco
//! transpiles the committed guest for Node, with Node's WASI shim and a
//! `context` import written in JavaScript.

use std::path::Path;
use std::process::Command;

use crate::harness::repo;

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("this test needs Node.js and npm on PATH (`{program}` failed to start: {e})"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{program} {}` failed:\n{stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_component_host_runbox_did_not_write_runs_the_js_guest() {
    let dir = repo().join("tests/embedding");
    // Not `npm ci`: npm leaves other platforms' optional packages out of the lock.
    run(&dir, "npm", &["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"]);
    let guest = repo().join("guests/dist/runbox-js.wasm");
    let context = format!("runbox:sandbox/context={}", dir.join("context.mjs").display());
    let http = format!("runbox:sandbox/http={}", dir.join("http.mjs").display());
    let runbooks = format!("runbox:sandbox/runbooks={}", dir.join("runbooks.mjs").display());
    let guest = guest.to_string_lossy();
    let transpile = ["jco", "transpile", &guest, "-o", "out", "--name", "runbox-js", "--quiet"];
    run(&dir, "npx", &[&transpile[..], &["--map", &context, "--map", &http, "--map", &runbooks]].concat());
    std::fs::write(dir.join("out/package.json"), r#"{"type":"module"}"#).unwrap();

    let stdout = run(&dir, "node", &["main.mjs", &dir.join("out").to_string_lossy()]);
    let lines: Vec<serde_json::Value> =
        stdout.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(stdout.contains("hello jco\n"), "the guest's console reached the host's stdout:\n{stdout}");
    assert_eq!(lines[0], serde_json::json!({ "name": "ok", "ok": "{\"sum\":6}" }));
    assert_eq!(lines[1], serde_json::json!({ "name": "undefinedResult", "ok": null }));
    assert_eq!(lines[2]["err"]["kind"], "runtime");
    assert_eq!(lines[2]["err"]["line"], 2);
    assert_eq!(lines[3]["err"]["kind"], "syntax");
    assert_eq!(lines[3]["err"]["line"], 1);
    assert_eq!(lines[4], serde_json::json!({ "name": "fetchRefused", "ok": "[\"EACCES\",true]" }));
    assert_eq!(
        lines[5],
        serde_json::json!({
            "name": "runbookRefused",
            "ok": "[\"ConfigInvalid\",\"ConfigInvalid: no runbook named Child.md here\"]"
        })
    );
}
