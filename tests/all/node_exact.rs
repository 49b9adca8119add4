//! JavaScript globals as Node 20 gives them: `path` (POSIX) and
//! `util.format`/`util.inspect` (what `console.log` prints), on a table of
//! cases in tests/all/node/ with the answers Node 20 gave
//! (`node scripts/node-expectations` writes them). Every case must match.

use serde_json::Value;

use crate::harness::{Scratch, repo};

/// One case of a table in tests/all/node/: the expression, what Node 20
/// gave and what runbox gives (encoded by harness.js).
pub struct Answer {
    pub case: String,
    pub node: String,
    pub runbox: String,
}

/// Every case of `file` (`path-cases.js`, ...) run in one runbox step.
pub fn node_table(s: &Scratch, file: &str) -> Vec<Answer> {
    let dir = repo().join("tests/all/node");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let harness = std::fs::read_to_string(dir.join("harness.js")).unwrap();
    let rows = expected[file].as_array().unwrap_or_else(|| panic!("{file} is not in expected.json"));
    let cases: Vec<&str> = rows.iter().map(|r| r["case"].as_str().unwrap()).collect();
    let script = format!(
        "const harness = {harness};\nconsole.log(JSON.stringify(harness({})));\n",
        serde_json::to_string(&cases).unwrap()
    );
    s.write("cases.js", &script);
    let run = s.runbox().args(["js", "cases.js"]).run();
    assert_eq!(run.code, 0, "{file}: {}", run.stderr);
    let got: Vec<String> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(got.len(), rows.len(), "{file}");
    rows.iter()
        .zip(got)
        .map(|(row, runbox)| Answer {
            case: row["case"].as_str().unwrap().to_string(),
            node: row["node"].as_str().unwrap().to_string(),
            runbox,
        })
        .collect()
}

#[test]
fn path_and_util_format_give_what_node_20_gives() {
    let s = Scratch::new();
    let mut mismatches = Vec::new();
    let mut total = 0;
    for file in ["path-cases.js", "format-cases.js"] {
        for answer in node_table(&s, file) {
            total += 1;
            if answer.node != answer.runbox {
                mismatches.push(format!(
                    "{file}: {}\n  node:   {:?}\n  runbox: {:?}",
                    answer.case, answer.node, answer.runbox
                ));
            }
        }
    }
    assert!(total > 400, "the table has its cases ({total})");
    assert!(
        mismatches.is_empty(),
        "{} of {total} cases differ from Node:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// `console.log` is `util.format` and a newline; nothing passed to it throws;
/// an error's stack starts with `Name: message`, as in Node.
#[test]
fn console_log_formats_as_node_and_never_throws() {
    let s = Scratch::new();
    let code = r#"
console.log('%s has %d items costing %f', 'cart', 3, 9.5, { extra: [1, 2] });
const o = { toJSON() { throw new Error('no'); } };
console.log('%j', o);
console.error(Symbol('x'), -0, 5n);
const e = new TypeError('bad thing');
console.log(e.stack.split('\n')[0]);
console.log(String(new RangeError('r').stack).startsWith('RangeError: r\n    at '));
let deep = {}; let p = deep; for (let i = 0; i < 200000; i++) { p.a = {}; p = p.a; }
console.log(util.inspect(deep, { depth: null }).includes('a: [Object: Inspection interrupted prematurely. Maximum call stack size exceeded.]'));
"#;
    s.write("c.js", code);
    let run = s.runbox().args(["js", "c.js"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "cart has 3 items costing 9.5 { extra: [ 1, 2 ] }\n[runbox: console could not format its arguments: no]\nTypeError: bad thing\ntrue\ntrue\n"
    );
    assert_eq!(run.stderr, "Symbol(x) -0 5n\n");
}
