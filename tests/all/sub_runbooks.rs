//! Sub-runbooks: `runbook.call` in JavaScript and the
//! `runbook` builtin in shell run a runbook beside the current one as a child
//! of the execution: its own History and record, the chain's correlation id,
//! recursion refused, the parent's grants and deadline as its bounds.

use crate::harness::shown;
use crate::harness::{Scratch, history_headings, runbook};
use crate::snapshot;

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
    // Each has an id of its own; the child's names its parent's.
    let id = |r: &serde_json::Value| r["execution_id"].as_str().unwrap().to_string();
    assert_ne!(id(child), id(parent));
    assert_eq!(json["execution_id"], id(parent).as_str());
    assert_eq!(child["parent_execution_id"], id(parent).as_str());
    assert!(parent.get("parent_execution_id").is_none(), "{parent:#}");
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
    snapshot!("sub_runbooks_the_runbook_builtin_is_a_command_with_the_childs_output_and_status", shown(&s, &run));
}

#[test]
fn a_runbook_that_calls_itself_is_refused_and_the_refusal_recorded() {
    let s = Scratch::new();
    s.write("Loop.md", &runbook("Loop", "", &[], &[], "```sh\nrunbook Loop.md\n```"));
    let run = s.runbox().args(["run", "Loop.md"]).run();
    let message = "Recursion detected: Runbook Loop.md already in execution chain: [\"Loop.md\"]";
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("sub_runbooks_a_runbook_that_calls_itself_is_refused_and_the_refusal_recorded", shown(&s, &run));
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
    snapshot!("sub_runbooks_nesting_deeper_than_the_limit_is_refused", shown(&s, &run));
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
    snapshot!("sub_runbooks_a_child_never_widens_what_the_user_granted", shown(&s, &run));
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
    snapshot!("sub_runbooks_steps_see_the_chain_and_cannot_be_told_otherwise", shown(&s, &run));
}

#[test]
fn outside_a_runbook_there_is_nothing_to_call() {
    let s = Scratch::new();
    let run = s.runbox().args(["sh", "-c", "runbook Child.md"]).run();
    assert_eq!(run.code, 2);
    snapshot!("sub_runbooks_outside_a_runbook_there_is_nothing_to_call", shown(&s, &run));
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
    snapshot!("sub_runbooks_a_child_is_a_file_beside_its_parent_never_a_link_out_or_a_path", shown(&s, &run));
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
    crate::snapshot!("validate_runbook_steps", crate::harness::shown(&s, &run));
    s.write("child.yaml", "name: child\nsteps:\n  - name: s\n    type: sh\n    with: { inline_script: echo }\n");
    s.write(
        "host.yaml",
        "name: host\nsteps:\n  - name: a\n    type: runbook\n    with: { runbook: ../outside.yaml }\n  - name: b\n    type: runbook\n    with: { runbook: missing.yaml }\n  - name: c\n    type: runbook\n    with: { runbook: child.yaml, inputs: { x: '{{ inputs.nope }}' } }\n",
    );
    let run = s.runbox().args(["validate", "host.yaml"]).run();
    crate::snapshot!("validate_runbook_step_files", crate::harness::shown(&s, &run));
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

/// The in-process API's bridge: `$RUNBOOK_API_TOKEN` is a handle that opens this
/// run's in-process API and nothing else: not without it, not forged, and
/// not a parent's handle passed down to a child.
#[test]
fn the_api_token_is_a_handle_only_its_own_run_can_use() {
    let s = Scratch::new();
    s.write(
        "Child.md",
        &runbook(
            "Child",
            "PARENT_HANDLE: the parent's handle",
            &[],
            &[],
            "```sh\ncode=$(curl -s -o /dev/null -w '%{http_code}' -X POST \"$RUNBOOK_API_BASE_URL/api/runbooks/Grand.md/execute\" -H \"Authorization: Bearer $PARENT_HANDLE\")\necho \"grand=$code\"\n[ \"$PARENT_HANDLE\" != \"$RUNBOOK_API_TOKEN\" ] && echo distinct\n```",
        ),
    );
    s.write("Grand.md", &runbook("Grand", "", &[], &[], "```sh\necho PLANTED-GRAND-RAN\n```"));
    let parent = r#"```sh
url="$RUNBOOK_API_BASE_URL/api/runbooks/Grand.md/execute"
curl -s -w ' %{http_code}\n' -X POST "$url"
curl -s -w ' %{http_code}\n' -X POST "$url" -H "Authorization: Bearer forged"
curl -s -w ' %{http_code}\n' -X POST "$url" -H "Authorization: Bearer ${RUNBOOK_API_TOKEN}x"
child=$(curl -s -X POST "$RUNBOOK_API_BASE_URL/api/runbooks/Child.md/execute" -H "Authorization: Bearer $RUNBOOK_API_TOKEN" \
  -d "{\"env_vars\":{\"PARENT_HANDLE\":\"$RUNBOOK_API_TOKEN\"}}")
echo "$child" | grep -o '"stdout":"[^"]*' | head -1
case "$RUNBOOK_API_TOKEN" in runbox-handle-????????????????????????????????) echo opaque;; esac
```"#;
    s.write("Parent.md", &runbook("Parent", "", &[], &[], parent));
    let run = s.runbox().args(["run", "--no-history", "Parent.md"]).run();
    let refused = r#"{"error":{"code":"Unauthorized","message":"a step's API calls need `Authorization: Bearer $RUNBOOK_API_TOKEN`"}} 401"#;
    assert_eq!(
        run.stdout,
        format!("{refused}\n{refused}\n{refused}\n\"stdout\":\"grand=401\\ndistinct\\n\nopaque\n"),
        "{}",
        run.stderr
    );
    assert!(!s.log().contains("PLANTED-GRAND-RAN"));
}

/// The bridge checks recursion against the chain the host knows: a forged
/// or empty `X-Recursion-Stack` cannot break out of it.
#[test]
fn through_the_bridge_recursion_is_refused_whatever_stack_the_script_sends() {
    let s = Scratch::new();
    let script = r#"```sh
curl -s -w ' %{http_code}\n' -X POST "$RUNBOOK_API_BASE_URL/api/runbooks/Loop.md/execute" \
  -H "Authorization: Bearer $RUNBOOK_API_TOKEN" -H 'X-Recursion-Stack: []' > /dev/stderr
```"#;
    s.write("Loop.md", &runbook("Loop", "", &[], &[], script));
    let run = s.runbox().args(["run", "--json", "Loop.md"]).run();
    let json = run.success().json();
    let response = json["stderr"].as_str().unwrap();
    let (body, status) = response.trim_end().rsplit_once(' ').unwrap();
    assert_eq!(status, "400", "{response}");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["code"], "RecursionDetected");
    assert_eq!(
        body["error"]["message"],
        "Recursion detected: Runbook Loop.md already in execution chain: [\"Loop.md\"]"
    );
    assert_eq!((body["return_code"].clone(), body["steps"].clone()), (serde_json::json!(2), serde_json::json!([])));
    // The refusal is in Loop.md's History too, under the run's own entry.
    let history = s.read("Loop.md");
    assert_eq!(history_headings(&history).len(), 2, "{history}");
    assert!(history.contains("RecursionDetected: Recursion detected: Runbook Loop.md"), "{history}");
}

/// What the bridge serves, and how it refuses the rest: names that are not
/// runbooks beside this one, other routes and methods, a bad body, and an
/// approval a step tries to give.
#[test]
fn the_bridge_serves_execute_alone_and_refuses_names_that_are_not_runbooks() {
    let s = Scratch::new();
    s.write("notes.txt", "PLANTED-NOTES");
    s.write("registry.yaml", "scripts: {}\n# PLANTED-REGISTRY\n");
    s.write("Child.md", &runbook("Child", "", &[], &[], "```sh\necho child-ran\n```"));
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("Out.md"), runbook("Out", "", &[], &[], "```sh\necho PLANTED-OUT\n```"))
        .unwrap();
    let script = r#"```sh
call() { curl -s -w " %{http_code}\n" -X "$1" "$RUNBOOK_API_BASE_URL$2" -H "Authorization: Bearer $RUNBOOK_API_TOKEN" -d "${3:-}"; }
for name in ..%2FOut.md %2e%2e%2fChild.md notes.txt registry.yaml .hidden.md Missing.md "$OUTSIDE"; do
  call POST "/api/runbooks/$name/execute" | sed 's/^{"error":{"code":"\([A-Za-z]*\)".* \([0-9]*\)$/\1 \2/'
done
call GET /api/runbooks/Child.md/execute
call GET /api/runbooks
call GET /health
call POST /api/runbooks/Child.md/execute '{"approve":["step-1"]}'
call POST /api/runbooks/Child.md/execute '{"env":{}}' | cut -c1-60
call POST /api/runbooks/Child.md/execute | grep -o '"stdout":"child-ran\\n"' | head -1
```"#;
    let outside_name = outside.path().join("Out.md").to_string_lossy().replace('/', "%2F");
    s.write("Caller.md", &runbook("Caller", "OUTSIDE: a path", &[], &[], script));
    let run = s.runbox().env("OUTSIDE", &outside_name).args(["run", "--no-history", "Caller.md"]).run();
    let expected = [
        "ConfigInvalid 400",
        "ConfigInvalid 400",
        "ConfigInvalid 400",
        "ConfigInvalid 400",
        "ConfigInvalid 400",
        "NotFound 404",
        "ConfigInvalid 400",
        r#"{"error":{"code":"ConfigInvalid","message":"GET /api/runbooks/Child.md/execute: execute takes POST"}} 405"#,
        r#"{"error":{"code":"NotFound","message":"GET /api/runbooks: a step reaches only POST /api/runbooks/{name}/execute and GET /health through RUNBOOK_API_BASE_URL"}} 404"#,
        r#"{"status":"ok"} 200"#,
        r#"{"error":{"code":"ConfigInvalid","message":"`approve` is refused from inside a run: a step cannot approve a sub-runbook's steps"}} 400"#,
        r#"{"error":{"code":"ConfigInvalid","message":"the request body"#,
        r#""stdout":"child-ran\n""#,
    ];
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), expected, "{}", run.stderr);
    assert!(!run.stdout.contains("PLANTED") && !s.log().contains("PLANTED"));
}

/// `API_PROTOCOL`, `API_HOST` and `API_PORT` make the base URL;
/// a request anywhere else, the old default included, is plain network.
#[test]
fn the_api_base_url_follows_api_protocol_host_and_port() {
    let s = Scratch::new();
    s.write("Child.md", &runbook("Child", "", &[], &[], "```sh\necho child-ran\n```"));
    let script = r#"```sh
echo "$RUNBOOK_API_BASE_URL"
curl -s -o /dev/null -w '%{http_code}\n' -X POST "$RUNBOOK_API_BASE_URL/api/runbooks/Child.md/execute" -H "Authorization: Bearer $RUNBOOK_API_TOKEN"
curl -sS -X POST "http://localhost:8083/api/runbooks/Child.md/execute" -H "Authorization: Bearer $RUNBOOK_API_TOKEN" || echo "exit $?"
```"#;
    s.write("Caller.md", &runbook("Caller", "", &[], &[], script));
    let run = s
        .runbox()
        .env("API_PROTOCOL", "https")
        .env("API_HOST", "runbox.internal")
        .env("API_PORT", "9443")
        .args(["run", "--no-history", "Caller.md"])
        .run();
    assert_eq!(run.stdout, "https://runbox.internal:9443\n200\nexit 7\n", "{}", run.stderr);
    snapshot!("sub_runbooks_the_api_base_url_follows_api_protocol_host_and_port", shown(&s, &run));
    let run = s.runbox().env("API_PROTOCOL", "ftp").args(["run", "--no-history", "Caller.md"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("sub_runbooks_the_api_base_url_follows_api_protocol_host_and_port_1", shown(&s, &run));
}

/// None of the chain's variables can be set by the user or the runbook.
#[test]
fn system_variables_cannot_be_set_by_env_or_by_a_step() {
    let s = Scratch::new();
    let script = "```sh\necho \"$RUNBOOK_API_BASE_URL ${RUNBOOK_API_TOKEN%%-*}\"\n```";
    s.write("Vars.md", &runbook("Vars", "", &[], &[], script));
    let run = s
        .runbox()
        .args(["run", "--no-history", "--env", "RUNBOOK_API_TOKEN=forged", "--env"])
        .args(["RUNBOOK_API_BASE_URL=http://evil:1", "Vars.md"])
        .run();
    assert_eq!(run.stdout, "http://localhost:8083 runbox\n", "{}", run.stderr);
    snapshot!("sub_runbooks_system_variables_cannot_be_set_by_env_or_by_a_step", shown(&s, &run));
    s.write(
        "vars.yaml",
        "name: vars\nsteps:\n  - name: s\n    type: sh\n    with:\n      env:\n        RUNBOOK_API_TOKEN: forged\n      inline_script: echo \"$RUNBOOK_API_TOKEN\"\n",
    );
    let run = s.runbox().args(["run", "--no-history", "vars.yaml"]).run();
    crate::snapshot!("run_step_sets_a_system_variable", crate::harness::shown(&s, &run));
}

/// The bridge takes no larger a body than the API does: a step cannot make
/// the host parse hundreds of megabytes of JSON.
#[test]
fn the_bridge_refuses_a_body_larger_than_the_api_takes() {
    let s = Scratch::new();
    s.write("Child.md", &runbook("Child", "", &[], &[], "```sh\necho child-ran\n```"));
    let script = r#"```sh
head -c 1000000 /dev/zero | tr '\0' ' ' > half; cat half half > big.json
curl -s -w ' %{http_code}\n' -X POST "$RUNBOOK_API_BASE_URL/api/runbooks/Child.md/execute" -H "Authorization: Bearer $RUNBOOK_API_TOKEN" -d @big.json
```"#;
    s.write("Big.md", &runbook("Big", "", &[], &[], script));
    let run = s.runbox().args(["run", "--no-history", "Big.md"]).run();
    assert_eq!(
        run.stdout,
        "{\"error\":{\"code\":\"ConfigInvalid\",\"message\":\"the request body is larger than 1048576 bytes\"}} 413\n",
        "{}",
        run.stderr
    );
    assert!(!s.log().contains("child-ran"));
}

/// Fan-out is bounded: twelve runbooks, each calling the next twice, would
/// make 8,190 executions; the tree stops at `--max-sub-runbooks` with
/// `TreeLimit`, and the log holds no more than that many children.
#[test]
fn a_runs_tree_makes_at_most_its_sub_runbook_executions() {
    let s = Scratch::new();
    for i in 0..12 {
        let next = format!("L{}.yaml", i + 1);
        let script = if i == 11 { "echo leaf".to_string() } else { format!("runbook {next}; runbook {next}") };
        s.write(
            &format!("L{i}.yaml"),
            &format!("name: l{i}\nsteps:\n  - name: s\n    type: sh\n    with: {{ inline_script: '{script}' }}\n"),
        );
    }
    let run = s.runbox().args(["run", "--json", "--no-history", "--max-sub-runbooks", "40", "L0.yaml"]).run();
    snapshot!("sub_runbooks_a_runs_tree_makes_at_most_its_sub_runbook_executions", shown(&s, &run));
    // 40 children and the run itself.
    assert_eq!(records(&s).len(), 41);
}

/// The bytes a run's children log are bounded too: loud children stop at
/// `--max-tree-log`, and the log stays near it.
#[test]
fn a_runs_tree_logs_at_most_its_bytes() {
    let s = Scratch::new();
    s.write("Loud.md", &runbook("Loud", "", &[], &[], "```js\nconsole.log('x'.repeat(1 << 19))\n```"));
    let parent =
        "```sh\nfor i in $(seq 1 30); do runbook Loud.md > /dev/null || { echo \"stopped at $i\"; break; }; done\n```";
    s.write("Parent.md", &runbook("Parent", "", &[], &[], parent));
    let run = s.runbox().args(["run", "--no-history", "--max-tree-log", "2MiB", "Parent.md"]).run();
    assert!(run.stdout.starts_with("stopped at "), "{}{}", run.stdout, run.stderr);
    snapshot!("sub_runbooks_a_runs_tree_logs_at_most_its_bytes", shown(&s, &run));
    assert!(s.log().len() < 4 << 20, "the log took {} bytes", s.log().len());
}

/// The log is rotated by size: it never grows past `RUNBOX_LOG_MAX_BYTES`
/// (the previous one kept as `.1`); the record store keeps every record.
#[test]
fn the_log_is_rotated_by_size() {
    let s = Scratch::new();
    s.write(
        "y.yaml",
        "name: y\nsteps:\n  - name: s\n    type: sh\n    with: { inline_script: 'printf \"%0800d\\n\" 0' }\n",
    );
    for _ in 0..12 {
        s.runbox().env("RUNBOX_LOG_MAX_BYTES", "6000").args(["run", "y.yaml"]).run().success();
    }
    let current = std::fs::metadata(s.log_path()).unwrap().len();
    let mut rotated = s.log_path().into_os_string();
    rotated.push(".1");
    let previous = std::fs::metadata(&rotated).unwrap().len();
    assert!(current <= 6000 && previous <= 6000, "{current} and {previous} bytes");
    let lines = std::fs::read_to_string(&rotated).unwrap().lines().count() + s.log().lines().count();
    assert!(lines < 12, "older records were dropped from the log");
    let history = s.runbox().args(["history", "--json", "y.yaml"]).run();
    assert_eq!(history.json().as_array().unwrap().len(), 12, "the store keeps them");
}

/// A misspelt `runbook.call` names the runbook meant, and its error shows
/// the script's frames, not runbox's own JavaScript (over the API it names
/// none: api.rs).
#[test]
fn a_misspelt_call_gets_the_runbook_meant() {
    let s = Scratch::new();
    s.write("DiskReport.md", &runbook("DiskReport", "", &[], &[], "```sh\necho report\n```"));
    s.write("Caller.md", &runbook("Caller", "", &[], &[], "```js\nrunbook.call('DiskRepot.md');\n```"));
    let run = s.runbox().args(["run", "--no-history", "--json", "Caller.md"]).run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.json()["steps"][0]["stderr"],
        "Caller.md:17:8: RuntimeError: Error: NotFound: no runbook is named `DiskRepot.md`; did you mean `DiskReport.md`?\n    at <anonymous> (Caller.md:17:8)\n"
    );
}
