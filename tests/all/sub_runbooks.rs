//! Sub-runbooks (SPEC §3, seed 001): `runbook.call` in JavaScript and the
//! `runbook` builtin in shell run a runbook beside the current one as a child
//! of the execution: its own History and record, the chain's correlation id,
//! recursion refused, the parent's grants and deadline as its bounds.

use crate::harness::{Scratch, history_headings, runbook};

fn records(s: &Scratch) -> Vec<serde_json::Value> {
    s.log().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn javascript_calls_a_child_and_reads_its_result() {
    let s = Scratch::new();
    s.write(
        "Child.md",
        &runbook(
            "Child",
            "GREETING: who",
            &[],
            &[],
            "```js\nconsole.log(`hi ${get('GREETING')}`);\nreturn { n: 42 }\n```",
        ),
    );
    let parent = "```js\nconst r = runbook.call('Child.md', { env: { GREETING: 'parent' } });\nconsole.log(JSON.stringify(r));\nreturn r.result.n\n```";
    s.write("Parent.md", &runbook("Parent", "", &[], &[], parent));
    let run = s.runbox().args(["run", "--json", "Parent.md"]).run();
    let json = run.success().json();
    assert_eq!(json["steps"][0]["result"], 42);
    assert_eq!(
        json["stdout"], "{\"exit_code\":0,\"stdout\":\"hi parent\\n\",\"stderr\":\"\",\"result\":{\"n\":42}}\n",
        "the child's output is the step's to use, not printed by itself"
    );
    // Each has its own History entry and record, in one chain.
    assert_eq!(history_headings(&s.read("Child.md")).len(), 1);
    assert_eq!(history_headings(&s.read("Parent.md")).len(), 1);
    let records = records(&s);
    assert_eq!(records.len(), 2);
    let (child, parent) = (&records[0], &records[1]);
    assert_eq!(child["breadcrumb"]["recursion_stack"], serde_json::json!(["Parent.md", "Child.md"]));
    assert_eq!(parent["breadcrumb"]["recursion_stack"], serde_json::json!(["Parent.md"]));
    assert_eq!(child["correlation_id"], parent["correlation_id"]);
}

#[test]
fn the_runbook_builtin_is_a_command_with_the_childs_output_and_status() {
    let s = Scratch::new();
    s.write(
        "child.yaml",
        "name: child\ninputs:\n  n: { type: int }\nsteps:\n  - name: s\n    type: sh\n    with:\n      inline_script: |\n        echo \"n={{ inputs.n }} stack=$RUNBOOK_RECURSION_STACK\"\n        echo to-stderr >&2\n        exit 3\n",
    );
    let parent = "```sh\nrunbook child.yaml --input n=7 > out.txt 2> err.txt; echo \"status=$?\"\ncat out.txt err.txt\nrunbook missing.md || echo \"missing=$?\"\n```";
    s.write("Parent.md", &runbook("Parent", "", &[], &[], parent));
    let run = s.runbox().args(["run", "Parent.md"]).run();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "status=3\nn=7 stack=[\"Parent.md\",\"child.yaml\"]\nto-stderr\nmissing=2\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("runbook: NotFound: no runbook is named `missing.md`"), "{}", run.stderr);
}

#[test]
fn a_runbook_that_calls_itself_is_refused_and_the_refusal_recorded() {
    let s = Scratch::new();
    s.write("Loop.md", &runbook("Loop", "", &[], &[], "```sh\nrunbook Loop.md\n```"));
    let run = s.runbox().args(["run", "Loop.md"]).run();
    let message = "Recursion detected: Runbook Loop.md already in execution chain: [\"Loop.md\"]";
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("runbook: RecursionDetected: {message}")), "{}", run.stderr);
    let text = s.read("Loop.md");
    // The refused child's entry, then the parent's.
    assert_eq!(history_headings(&text).len(), 2, "{text}");
    assert!(text.contains(&format!("RecursionDetected: {message}")), "{text}");
    let records = records(&s);
    assert_eq!(records[0]["error"]["code"], "RecursionDetected");
    assert_eq!(records[0]["exit_code"], 2);
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let s = Scratch::new();
    s.write("A.md", &runbook("A", "", &[], &[], "```sh\nrunbook B.md\n```"));
    s.write("B.md", &runbook("B", "", &[], &[], "```sh\nrunbook C.md\n```"));
    s.write("C.md", &runbook("C", "", &[], &[], "```sh\necho deepest\n```"));
    let run = s.runbox().env("MAX_RECURSION_DEPTH", "3").args(["run", "--no-history", "A.md"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "deepest\n"), "a stack of exactly the limit runs");
    let run = s.runbox().env("MAX_RECURSION_DEPTH", "2").args(["run", "--no-history", "A.md"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(
        run.stderr.contains("runbook: RecursionDepthExceeded: Recursion depth limit exceeded: 3 (max: 2)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_child_never_widens_what_the_user_granted() {
    let s = Scratch::new();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("secret.txt"), "PLANTED-SECRET-9").unwrap();
    let dir = data.path().display().to_string();
    let child = format!("```sh\ncat {dir}/secret.txt\n```");
    s.write("Child.md", &runbook("Child", "", &[&dir], &[], &child));
    s.write("Parent.md", &runbook("Parent", "", &[], &[], "```sh\nrunbook Child.md\n```"));
    let run = s.runbox().args(["run", "--no-history", "Parent.md"]).run();
    assert_eq!(run.code, 126, "{}", run.stderr);
    assert!(run.stderr.contains("runbook: PermissionDenied:"), "{}", run.stderr);
    assert!(!run.stdout.contains("PLANTED") && !run.stderr.contains("PLANTED"));
    let run = s.runbox().args(["run", "--no-history", "--allow-read", &dir, "Parent.md"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "PLANTED-SECRET-9"), "{}", run.stderr);
}

#[test]
fn a_childs_time_counts_against_the_calling_step() {
    let s = Scratch::new();
    s.write("Slow.md", &runbook("Slow", "", &[], &[], "```sh\nsleep 100\n```"));
    s.write("Parent.md", &runbook("Parent", "", &[], &[], "```sh {timeout=1s}\nrunbook Slow.md\necho after\n```"));
    let run = s.runbox().args(["run", "--json", "--no-history", "Parent.md"]).run();
    let json = run.json();
    assert_eq!((run.code, json["steps"][0]["error"]["code"].as_str()), (124, Some("Timeout")), "{json:#}");
    assert_eq!(json["steps"][0]["stdout"], "", "the step ended with its deadline: {json:#}");
}

#[test]
fn steps_see_the_chain_and_cannot_be_told_otherwise() {
    let s = Scratch::new();
    s.write(
        "Ids.md",
        &runbook("Ids", "", &[], &[], "```sh\necho \"$RUNBOOK_RECURSION_STACK $RUNBOOK_CORRELATION_ID\"\n```"),
    );
    let run = s.runbox().args(["run", "--json", "--env", "RUNBOOK_CORRELATION_ID=forged", "Ids.md"]).run();
    let json = run.success().json();
    let expected = format!("[\"Ids.md\"] {}\n", json["correlation_id"].as_str().unwrap());
    assert_eq!(json["stdout"], expected);
    assert!(run.stderr.contains("--env RUNBOOK_CORRELATION_ID is ignored"), "{}", run.stderr);
}

#[test]
fn outside_a_runbook_there_is_nothing_to_call() {
    let s = Scratch::new();
    let run = s.runbox().args(["sh", "-c", "runbook Child.md"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("runbook: ConfigInvalid: sub-runbooks are called from a runbook's steps"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_child_is_a_file_beside_its_parent_never_a_link_out_or_a_path() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().unwrap();
    // YAML-shaped, as a kubeconfig is: its keys would show in a parse error.
    std::fs::write(outside.path().join("creds.yaml"), "PLANTED_KEY_7: PLANTED-SECRET-7\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("creds.yaml"), s.join("Leak.yaml")).unwrap();
    fifo(&s.join("Pipe.md"));
    let script = "```sh\nfor name in Leak.yaml Pipe.md ../Parent.md /etc/hosts .hidden.md; do runbook \"$name\"; echo \"$name=$?\"; done\n```";
    s.write("Parent.md", &runbook("Parent", "", &[], &[], script));
    let run = s.runbox().args(["run", "--no-history", "Parent.md"]).run();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "Leak.yaml=2\nPipe.md=2\n../Parent.md=2\n/etc/hosts=2\n.hidden.md=2\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`Leak.yaml` resolves outside the runbooks' folder"), "{}", run.stderr);
    assert!(run.stderr.contains("`Pipe.md`: cannot read the runbook: not a regular file"), "{}", run.stderr);
    assert!(!run.stderr.contains("PLANTED") && !s.log().contains("PLANTED"), "{}", run.stderr);
}

/// A FIFO at `path` (mkfifo), which would hang whoever opens it to read.
fn fifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

#[test]
fn a_yaml_step_of_type_runbook_calls_a_child_with_templated_inputs() {
    let s = Scratch::new();
    s.write(
        "double.yaml",
        "name: double\ninputs:\n  n: { type: int }\nsteps:\n  - name: calc\n    type: js\n    with:\n      inline_script: |\n        console.log(`doubling ${get('n')} for ${get('WHO')}`);\n        return { doubled: get('n') * 2 };\npermissions:\n  env: [WHO]\n",
    );
    s.write(
        "parent.yaml",
        "name: parent\nsteps:\n  - name: start\n    type: js\n    with: { inline_script: 'return 21' }\n  - name: call\n    type: runbook\n    with:\n      runbook: double.yaml\n      env: { WHO: parent }\n      inputs: { n: '{{ steps.start.result }}' }\n  - name: after\n    type: sh\n    with: { inline_script: 'echo \"got {{ steps.call.result.doubled }}\"' }\n",
    );
    let run = s.runbox().args(["run", "parent.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "doubling 21 for parent\ngot 42\n"), "{}", run.stderr);
    let run = s.runbox().args(["run", "--json", "parent.yaml"]).run();
    let step = &run.success().json()["steps"][1];
    assert_eq!(step["language"], "runbook");
    assert_eq!(step["source"]["type"], "runbook");
    assert_eq!(step["source"]["reference"], "double.yaml");
    assert_eq!(step["source"]["sha256"], runbox::text::sha256(&s.read("double.yaml")));
}

#[test]
fn runbook_steps_are_checked_before_anything_runs() {
    let s = Scratch::new();
    s.write(
        "shape.yaml",
        "name: shape\nsteps:\n  - name: c\n    type: sh\n    with: { inline_script: echo, runbook: x.yaml }\n  - name: d\n    type: runbook\n    with: { runbook: x.yaml, inline_script: echo }\n  - name: e\n    type: runbook\n    with: { inputs: { n: 1 } }\n",
    );
    let run = s.runbox().args(["validate", "shape.yaml"]).run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "shape.yaml is not a valid runbook (3 problems):\n  \
         shape.yaml:5: step `c`: `runbook` belongs to steps of type runbook\n  \
         shape.yaml:8: step `d` runs a runbook: `inline_script` has no meaning for it\n  \
         shape.yaml:9: step `e` of type runbook needs `with.runbook`: the file name of a runbook\n"
    );
    s.write("child.yaml", "name: child\nsteps:\n  - name: s\n    type: sh\n    with: { inline_script: echo }\n");
    s.write(
        "host.yaml",
        "name: host\nsteps:\n  - name: a\n    type: runbook\n    with: { runbook: ../outside.yaml }\n  - name: b\n    type: runbook\n    with: { runbook: missing.yaml }\n  - name: c\n    type: runbook\n    with: { runbook: child.yaml, inputs: { x: '{{ inputs.nope }}' } }\n",
    );
    let run = s.runbox().args(["validate", "host.yaml"]).run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "host.yaml is not a valid runbook (3 problems):\n  \
         host.yaml:5: step `a`: `../outside.yaml` is not the file name of a runbook beside this one\n  \
         host.yaml:8: step `b`: runbook `missing.yaml` cannot be read: No such file or directory (os error 2)\n  \
         host.yaml:11: step `c`: `{{ inputs.nope }}`: no input is named `nope`\n"
    );
}

#[test]
fn a_yaml_runbook_step_that_loops_is_refused_as_the_step_s_error() {
    let s = Scratch::new();
    s.write("loop.yaml", "name: loop\nsteps:\n  - name: again\n    type: runbook\n    with: { runbook: loop.yaml }\n");
    let run = s.runbox().args(["run", "--json", "loop.yaml"]).run();
    let json = run.json();
    assert_eq!(run.code, 2, "{json:#}");
    assert_eq!(json["steps"][0]["error"]["code"], "RecursionDetected");
    assert_eq!(
        json["steps"][0]["error"]["message"],
        "Recursion detected: Runbook loop.yaml already in execution chain: [\"loop.yaml\"]"
    );
}
