//! YAML runbooks: typed inputs, injection-safe templates, script sources,
//! secrets that never reach a record, malformed and hostile files.

use std::time::{Duration, Instant};

use crate::harness::shown;
use crate::harness::{Scratch, Yaml, error_code};
use crate::snapshot;

/// A runbook of one shell step whose script is `script`, with `inputs`.
fn one_step(inputs: &str, script: &str) -> String {
    Yaml::new("One step")
        .field(&format!("inputs:\n{inputs}"))
        .field("permissions:\n  write: [./out]")
        .sh("only", script)
        .text()
}

#[test]
fn hostile_inputs_stay_data_wherever_a_template_stands() {
    let s = Scratch::new();
    s.write("out/keep.txt", "precious");
    s.write("secret.txt", "PLANTED-HOST-FILE");
    let script = r#"printf '[%s]\n' {{ inputs.x }}
printf '[%s]\n' "in {{ inputs.x }} quotes"
printf '[%s]\n' 'single {{ inputs.x }}'
printf '[%s]\n' $(echo {{ inputs.x }})
cat <<EOF
doc {{ inputs.x }}
EOF
: # a comment keeps {{ inputs.x }} as written"#;
    s.write("inject.yaml", &one_step("  x: string", script));
    for hostile in ["x; rm -rf out", "$(cat secret.txt)", "`rm out/keep.txt`", "a\nrm -rf out", "'; rm -rf out; '"] {
        let run = s.runbox().args(["run", "--json", "inject.yaml", "--input", &format!("x={hostile}")]).run();
        let json = run.success().json();
        let stdout = json["stdout"].as_str().unwrap();
        assert!(stdout.starts_with(&format!("[{hostile}]\n[in {hostile} quotes]\n[single {hostile}]\n")), "{stdout}");
        assert!(stdout.contains(&format!("doc {hostile}\n")), "{stdout}");
        assert!(!stdout.contains("PLANTED-HOST-FILE"), "{hostile} ran as code: {stdout}");
        assert_eq!(s.read("out/keep.txt"), "precious", "{hostile} ran as code");
    }
}

#[test]
fn arithmetic_and_quoted_here_documents_refuse_values_that_would_be_code() {
    let s = Scratch::new();
    s.write("arith.yaml", &one_step("  n: string", "echo $(( {{ inputs.n }} + 1 ))"));
    let shown_run = s.runbox().args(["run", "arith.yaml", "--input", "n=41"]).run();
    shown_run.success();
    snapshot!(
        "yaml_runbooks_arithmetic_and_quoted_here_documents_refuse_values_that_would_be_code_10",
        shown(&s, &shown_run)
    );
    let run = s.runbox().args(["run", "--json", "arith.yaml", "--input", "n=a[$(id)]"]).run();
    let json = run.code(2).json();
    assert_eq!(json["steps"][0]["error"]["code"], "ConfigInvalid");
    assert!(json["steps"][0]["error"]["message"].as_str().unwrap().contains("is not an integer"), "{json}");
    s.write("doc.yaml", &one_step("  x: string", "cat <<'END'\n{{ inputs.x }}\nEND"));
    let run = s.runbox().args(["run", "doc.yaml", "--input", "x=a\nEND\necho escaped"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("yaml_runbooks_arithmetic_and_quoted_here_documents_refuse_values_that_would_be_code", shown(&s, &run));
}

#[test]
fn args_env_and_javascript_receive_values_as_data() {
    let s = Scratch::new();
    let text = r#"name: Data
inputs:
  who: { type: string }
  count: { type: int, default: 2 }
  tags: { type: list, default: [a, b] }
steps:
  - name: shell
    type: sh
    with:
      inline_script: 'echo "$1|$GREETING|$#"'
      args: ["{{ inputs.who }}", "{{ inputs.count }}"]
      env: { GREETING: "hello {{ inputs.who }}" }
  - name: js
    type: js
    with:
      inline_script: |
        const n = {{ inputs.count }} * 2;
        const s = 'who: {{ inputs.who }}';
        return { n, s, tags: {{ inputs.tags }}, earlier: "{{ steps.shell.stdout }}".trim(), who: get('inputs').who };
"#;
    s.write("data.yaml", text);
    let hostile = "it's \"$(id)\" `x`";
    let run = s.runbox().args(["run", "--json", "data.yaml", "--input", &format!("who={hostile}")]).run();
    let json = run.success().json();
    assert_eq!(json["steps"][0]["stdout"], format!("{hostile}|hello {hostile}|2\n"));
    let result = &json["steps"][1]["result"];
    assert_eq!(result["n"], 4);
    assert_eq!(result["s"], format!("who: {hostile}"));
    assert_eq!(result["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(result["earlier"], format!("{hostile}|hello {hostile}|2"));
    assert_eq!(result["who"], hostile);
}

#[test]
fn typed_inputs_are_checked_before_anything_runs() {
    let s = Scratch::new();
    let text = "name: Typed\ninputs:\n  n: { type: int }\n  flag: { type: bool, default: false }\n  ratio: { type: number, default: 0.5 }\n  conf: { type: map, default: {} }\npermissions:\n  write: [./out]\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: touch out/ran }\n";
    s.write("typed.yaml", text);
    let run = s
        .runbox()
        .args([
            "run",
            "typed.yaml",
            "--input",
            "flag=maybe",
            "--input",
            "ratio=x",
            "--input",
            "conf=[1]",
            "--input",
            "nn=3",
        ])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("yaml_runbooks_typed_inputs_are_checked_before_anything_runs", shown(&s, &run));
    assert!(!s.join("out/ran").exists());
    s.runbox().args(["run", "typed.yaml", "--input", "n=3", "--input", "conf={\"a\":1}"]).run().success();
    assert!(s.join("out/ran").exists());
}

#[test]
fn unknown_template_variables_are_errors_that_name_them() {
    let s = Scratch::new();
    let text = "name: T\ninputs:\n  a: string\nsteps:\n  - name: first\n    type: sh\n    with:\n      inline_script: |\n        echo {{ inputs.b }}\n        echo {{ steps.later.stdout }} {{ steps.first.stdout }}\n  - name: later\n    type: sh\n    with: { inline_script: echo }\n";
    s.write("t.yaml", text);
    let run = s.runbox().args(["validate", "t.yaml", "--input", "a=1"]).run();
    crate::snapshot!("validate_unknown_templates", crate::harness::shown(&s, &run));
}

#[test]
fn every_script_source_works_and_exactly_one_is_allowed() {
    let s = Scratch::new();
    s.write("lib/hello.sh", "echo \"from a file: $1\"\n");
    s.write("secrets/team/hello.sh", "echo from a secret file\n");
    let text = "name: Sources\nsteps:\n  - name: inline\n    type: sh\n    with: { inline_script: echo inline }\n  - name: file\n    type: sh\n    with: { script_file: lib/hello.sh, args: [x] }\n  - name: secret-file\n    type: sh\n    with: { script_from_secret: { secret_name: team, key: hello.sh } }\n  - name: secret-env\n    type: js\n    with: { script_from_secret: { env: HELLO_SCRIPT } }\n";
    s.write("sources.yaml", text);
    let run = s
        .runbox()
        .env("HELLO_SCRIPT", "console.log('from a secret variable')")
        .args(["run", "--json", "sources.yaml", "--secrets-dir", "secrets"])
        .run();
    let json = run.success().json();
    assert_eq!(json["stdout"], "inline\nfrom a file: x\nfrom a secret file\nfrom a secret variable\n");
    let kinds: Vec<&str> =
        json["steps"].as_array().unwrap().iter().map(|s| s["source"]["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["inline", "file", "secret", "secret"]);
    assert_eq!(json["steps"][3]["source"]["reference"], "env:HELLO_SCRIPT");
    assert!(json["steps"][2]["source"].get("content").is_none());

    let none_or_two = "name: Bad\nsteps:\n  - name: none\n    type: sh\n    with: { args: [1] }\n  - name: two\n    type: sh\n    with: { inline_script: x, script_file: y }\n";
    s.write("bad.yaml", none_or_two);
    let run = s.runbox().args(["validate", "bad.yaml"]).run();
    crate::snapshot!("validate_script_sources", crate::harness::shown(&s, &run));
}

#[test]
fn script_files_cannot_leave_the_runbook_folder() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("evil.sh"), "echo outside\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("evil.sh"), s.join("link.sh")).unwrap();
    s.write("rb/inner.yaml", "");
    for (n, path) in ["../link.sh", "/etc/passwd", "link.sh"].iter().enumerate() {
        let folder = if n == 2 { "" } else { "rb/" };
        let file = format!("{folder}esc{n}.yaml");
        s.write(
            &file,
            &format!("name: E\nsteps:\n  - name: a\n    type: sh\n    with: {{ script_file: \"{path}\" }}\n"),
        );
        let run = s.runbox().args(["run", "--json", &file]).run();
        let json = run.code(2).json();
        assert_eq!(error_code(&json), "ConfigInvalid");
        assert!(json["error"]["message"].as_str().unwrap().contains("script_file"), "{json:#}");
        // Refused before any step: the script outside never ran.
        assert_eq!(json["steps"], serde_json::json!([]), "{path}: {json:#}");
    }
}

#[test]
fn a_planted_secret_never_reaches_logs_records_or_error_messages() {
    const PLANTED: &str = "PLANTED-SECRET-7f3a";
    let s = Scratch::new();
    s.write("secrets/ops/broken.sh", &format!("# {PLANTED}\nif then fi {PLANTED}\n"));
    s.write("secrets/ops/later.sh", &format!("echo started\nif then fi {PLANTED}\n"));
    s.write("secrets/ops/fine.js", &format!("// {PLANTED}\nconsole.log('ok');\nthrow new Error('{PLANTED}');\n"));
    let text = "name: Secret\nsteps:\n  - name: sh\n    type: sh\n    with: { script_from_secret: { secret_name: ops, key: broken.sh } }\n    on_error: continue\n  - name: later\n    type: sh\n    with: { script_from_secret: { secret_name: ops, key: later.sh } }\n    on_error: continue\n  - name: js\n    type: js\n    with: { script_from_secret: { secret_name: ops, key: fine.js } }\n";
    s.write("secret.yaml", text);
    let run = s.runbox().args(["run", "--json", "secret.yaml", "--secrets-dir", "secrets"]).run();
    let json = run.code(1).json();
    assert_eq!(error_code(&json["steps"][0]), "SyntaxError");
    assert_eq!(error_code(&json["steps"][1]), "CommandFailed", "bash runs the lines before a syntax error");
    assert_eq!(json["steps"][1]["stdout"], "started\n");
    assert_eq!(error_code(&json["steps"][2]), "RuntimeError");
    let plain = s.runbox().args(["run", "secret.yaml", "--secrets-dir", "secrets"]).run();
    assert_eq!((plain.code, plain.stdout.as_str()), (1, "started\nok\n"), "{}", plain.stderr);
    let history = s.runbox().args(["history", "--json", "secret.yaml"]).run();
    let entries = history.success().json();
    // Both runs are there, with what they printed: the search below reads them.
    assert_eq!(entries.as_array().map(Vec::len), Some(2), "{entries:#}");
    assert_eq!((entries[1]["exit_code"].as_i64(), entries[1]["stdout"].as_str()), (Some(1), Some("started\nok\n")));
    for (what, text) in [
        ("--json output", run.stdout.as_str()),
        ("stderr", run.stderr.as_str()),
        ("terminal output", plain.stdout.as_str()),
        ("terminal errors", plain.stderr.as_str()),
        ("JSON log", s.log().as_str()),
        ("history", history.stdout.as_str()),
    ] {
        assert!(!text.contains(PLANTED), "the secret script leaked into the {what}:\n{text}");
    }
}

#[test]
fn approval_is_refused_without_a_terminal_and_given_by_flag() {
    let s = Scratch::new();
    let text = "name: Approve\npermissions:\n  write: [./out]\nsteps:\n  - name: first\n    type: sh\n    with: { inline_script: echo first }\n  - name: risky\n    type: sh\n    approval_required: true\n    approvers: [sre-leads]\n    with: { inline_script: touch out/done }\n";
    s.write("approve.yaml", text);
    // Certain to be refused (no terminal, no --approve): before the first step runs.
    let run = s.runbox().args(["run", "approve.yaml"]).run();
    assert_eq!(run.code, 77, "{}", run.stderr);
    snapshot!("yaml_runbooks_approval_is_refused_without_a_terminal_and_given_by_flag", shown(&s, &run));
    assert_eq!(run.stdout, "", "no step ran");
    assert!(!s.join("out/done").exists());
    let typo = s.runbox().args(["run", "approve.yaml", "--approve", "riksy"]).run();
    // A misspelt approval is an error before anything runs, with the step meant.
    assert_eq!(
        (typo.code, typo.stdout.as_str(), typo.stderr.as_str()),
        (
            2,
            "",
            "runbox: error: --approve riksy names no step of approve.yaml (its steps: first, risky); did you mean `--approve risky`?\n"
        )
    );
    s.runbox().args(["run", "approve.yaml", "--approve", "risky"]).run().success();
    assert!(s.join("out/done").exists());
    let log = s.log();
    assert!(log.contains("\"code\":\"ApprovalRequired\""), "{log}");
    assert!(log.contains("\"how\":\"--approve\""), "{log}");
}

#[test]
fn on_a_terminal_approval_is_asked_after_showing_the_script() {
    let s = Scratch::new();
    let text = "name: Ask\npermissions:\n  write: [./out]\nsteps:\n  - name: risky\n    type: sh\n    approval_required: true\n    approvers: [sre-leads]\n    with: { inline_script: touch out/done }\n";
    s.write("ask.yaml", text);
    let declined = s.runbox().args(["run", "ask.yaml"]).on_terminal("n\n");
    // The terminal merges the streams into stdout.
    assert_eq!(declined.code, 77, "{}", declined.stdout);
    snapshot!("yaml_runbooks_terminal_approval_declined", shown(&s, &declined));
    assert!(!s.join("out/done").exists());
    let approved = s.runbox().args(["run", "ask.yaml"]).on_terminal("y\n");
    assert_eq!(approved.code, 0, "{}", approved.stdout);
    assert!(s.join("out/done").exists());
    assert!(s.log().contains("\"approved\":true,\"how\":\"terminal\""));
}

#[test]
fn a_step_cwd_must_be_a_directory_inside_the_sandbox() {
    let s = Scratch::new();
    s.write("data/sub/f.txt", "here\n");
    let text = "name: Cwd\ninputs:\n  dir: { type: string, default: sub }\npermissions:\n  read: [./data]\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: 'cat f.txt; pwd', cwd: \"data/{{ inputs.dir }}\" }\n";
    s.write("cwd.yaml", text);
    let shown_run = s.runbox().args(["run", "cwd.yaml"]).run();
    shown_run.success();
    snapshot!("yaml_runbooks_a_step_cwd_must_be_a_directory_inside_the_sandbox_10", shown(&s, &shown_run));
    for bad in ["missing", "../..", "/etc"] {
        let run = s.runbox().args(["run", "--json", "cwd.yaml", "--input", &format!("dir={bad}")]).run();
        let json = run.code(2).json();
        assert_eq!(error_code(&json["steps"][0]), "InvalidCwd", "{bad}");
    }
}

#[test]
fn malformed_yaml_is_reported_with_every_line() {
    let s = Scratch::new();
    let text = "name: Broken\ncolour: blue\ninputs:\n  n: { type: float64 }\nsteps:\n  - name: a\n    type: ruby\n    with: { inline_script: x }\n  - name: b\n    type: sh\n    on_error: maybe\n    with: { inline_script: x, image_ref: alpine, timeout: soon }\n  - name: b\n    type: runbook\n    with: { inline_script: x }\n";
    s.write("broken.yaml", text);
    let run = s.runbox().args(["validate", "broken.yaml"]).run();
    crate::snapshot!("validate_malformed_yaml", crate::harness::shown(&s, &run));
    s.write("syntax.yaml", "name: x\nsteps: [\n  - a: b\n");
    let run = s.runbox().args(["validate", "syntax.yaml"]).run();
    crate::snapshot!("validate_yaml_syntax", crate::harness::shown(&s, &run));
}

#[test]
fn yaml_bombs_deep_nesting_and_huge_files_fail_fast() {
    let s = Scratch::new();
    let mut laughs = String::from("name: lol\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    laughs.push_str("steps: [*a9]\n");
    s.write("laughs.yaml", &laughs);
    s.write("deep.yaml", &format!("name: deep\nsteps: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)));
    let huge = s.join("huge.yaml");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(50 << 20).unwrap();
    for file in ["laughs.yaml", "deep.yaml", "huge.yaml"] {
        let started = Instant::now();
        let run = s.runbox().args(["run", file]).run();
        assert_eq!(run.code, 2, "{}", run.stderr);
        snapshot!(format!("yaml_runbooks_yaml_bombs_deep_nesting_and_huge_files_fail_fast_{file}"), shown(&s, &run));
        assert!(started.elapsed() < Duration::from_secs(30), "{file} took {:?}", started.elapsed());
    }
}

#[test]
fn list_shows_every_runbook_with_its_steps() {
    let s = Scratch::new();
    s.samples();
    let run = s.runbox().args(["list", "--json", "."]).run();
    let json = run.success().json();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    for expected in
        ["HelloWorld", "ConfigAudit", "LogSummary", "ops.check-db-lag", "ops.health-check", "ops.prune-backups"]
    {
        assert!(names.contains(&expected), "{names:?}");
    }
    let lag = json.as_array().unwrap().iter().find(|r| r["name"] == "ops.check-db-lag").unwrap();
    assert_eq!(lag["steps"][1], serde_json::json!({"name": "parse", "language": "js"}));
    let shown_run = s.runbox().args(["list", "."]).run();
    shown_run.success();
    snapshot!("yaml_runbooks_list_shows_every_runbook_with_its_steps_10", shown(&s, &shown_run));
}

#[test]
fn a_registry_entry_can_demand_approval_and_must_be_pinned() {
    let s = Scratch::new();
    let script = "echo approved script\n";
    s.write("team/scripts/x.sh", script);
    let pin = runbox::text::sha256(script);
    s.write(
        "registry.yaml",
        &format!("scripts:\n  x:\n    file: team/scripts/x.sh\n    requires_approval: true\n    sha256: {pin}\n  unpinned:\n    file: team/scripts/x.sh\n"),
    );
    s.write("team/runbooks/use.yaml", "name: Use\nsteps:\n  - name: x\n    type: sh\n    with: { script_id: x }\n");
    let run = s.runbox().args(["run", "team/runbooks/use.yaml"]).run();
    assert_eq!(run.code, 77, "{}", run.stderr);
    snapshot!("yaml_runbooks_a_registry_entry_can_demand_approval_and_must_be_pinned", shown(&s, &run));
    let shown_run = s.runbox().args(["run", "team/runbooks/use.yaml", "--approve", "x"]).run();
    shown_run.success();
    snapshot!("yaml_runbooks_a_registry_entry_can_demand_approval_and_must_be_pinned_10", shown(&s, &shown_run));
    s.write(
        "team/runbooks/bare.yaml",
        "name: Bare\nsteps:\n  - name: y\n    type: sh\n    with: { script_id: unpinned }\n",
    );
    let shown_run = s.runbox().args(["validate", "team/runbooks/bare.yaml"]).run();
    assert_eq!(shown_run.code, 1, "{}", shown_run.stderr);
    snapshot!("yaml_runbooks_a_registry_entry_can_demand_approval_and_must_be_pinned_11", shown(&s, &shown_run));
    s.write(
        "team/runbooks/gone.yaml",
        "name: Gone\nsteps:\n  - name: z\n    type: sh\n    with: { script_id: nope }\n",
    );
    let shown_run = s.runbox().args(["validate", "team/runbooks/gone.yaml"]).run();
    assert_eq!(shown_run.code, 1, "{}", shown_run.stderr);
    snapshot!("yaml_runbooks_a_registry_entry_can_demand_approval_and_must_be_pinned_12", shown(&s, &shown_run));
}

/// Each step gets a progress line on stderr as it starts and ends, on a
/// terminal and in a pipe alike; `--quiet` leaves the steps' own
/// output and errors.
#[test]
fn progress_lines_go_to_stderr_on_a_terminal_and_in_a_pipe() {
    let s = Scratch::new();
    s.write(
        "two.yaml",
        "name: two\nsteps:\n  - name: first\n    type: sh\n    on_error: continue\n    with: { inline_script: echo one }\n  - name: second\n    type: js\n    with: { inline_script: 'console.log(\"two\"); throw new Error(\"no\")' }\n",
    );
    let expected = [
        "runbox: ▶ first (sh, two.yaml:6) [1/2]",
        "runbox: ✓ first passed",
        "runbox: ▶ second (js, two.yaml:9) [2/2]",
        "runbox: ✗ second failed",
        "runbox: error: two.yaml:9: step `second`: RuntimeError: Error: no",
        "runbox: ✗ two.yaml failed (exit 1)",
    ];
    let progress = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| l.starts_with("runbox: "))
            .map(|l| l.split(" in ").next().unwrap().to_string())
            .collect()
    };
    let piped = s.runbox().args(["run", "two.yaml"]).run();
    assert_eq!((piped.code, piped.stdout.as_str()), (1, "one\ntwo\n"));
    assert_eq!(progress(&piped.stderr), expected, "{}", piped.stderr);
    let shown = s.runbox().env("NO_COLOR", "1").args(["run", "two.yaml"]).on_terminal("");
    assert_eq!(progress(&shown.stdout), expected, "{}", shown.stdout);
    let quiet = s.runbox().args(["run", "--quiet", "two.yaml"]).run();
    assert_eq!(progress(&quiet.stderr), expected[3..], "{}", quiet.stderr);
}

/// Flow-style steps with quoted scripts are not nesting: 300 of them once
/// counted as 300 levels deep and were refused.
#[test]
fn many_flow_style_steps_with_quoted_scripts_run() {
    let s = Scratch::new();
    let steps: String = (0..300)
        .map(|i| format!("  - {{ name: s{i}, type: js, with: {{ inline_script: \"return '{{[' + {i}\" }} }}\n"))
        .collect();
    s.write("many.yaml", &format!("name: many\nsteps:\n{steps}"));
    let run = s.runbox().args(["run", "--json", "many.yaml"]).run();
    let json = run.success().json();
    assert_eq!(json["steps"].as_array().unwrap().len(), 300);
    assert_eq!(json["steps"][299]["result"], "{[299");
}

/// The approver sees the step as it will run: each template's value, a
/// secret's masked, beside the script.
#[test]
fn the_approval_prompt_shows_what_the_templates_will_be() {
    let s = Scratch::new();
    let text = "name: Renew\npermissions:\n  env: [API_TOKEN]\nsteps:\n  - name: find\n    type: sh\n    with: { inline_script: echo host1 host2 $API_TOKEN }\n  - name: renew\n    type: sh\n    approval_required: true\n    with:\n      inline_script: |\n        for h in {{ steps.find.stdout }}; do echo \"renew $h\"; done\n        echo {{ steps.find.exit_code }} $API_TOKEN\n";
    s.write("renew.yaml", text);
    let asked = s
        .runbox()
        .env("NO_COLOR", "1")
        .env("API_TOKEN", "PLANTED-TOKEN-77")
        .args(["run", "renew.yaml"])
        .on_terminal("n\n");
    assert_eq!(asked.code, 77, "{}", asked.stdout);
    let shown: Vec<&str> = asked
        .stdout
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .skip_while(|l| !l.starts_with("runbox: it runs with"))
        .take(3)
        .collect();
    assert_eq!(
        shown,
        [
            "runbox: it runs with these values:",
            "  {{ steps.find.stdout }} = host1 host2 ***",
            "  {{ steps.find.exit_code }} = 0"
        ],
        "{}",
        asked.stdout
    );
}

/// README writes `approval_required` and `approvers` under `with:`; beside
/// `type` they still work, and `validate` warns where they go.
#[test]
fn an_approval_beside_type_works_with_a_warning() {
    let s = Scratch::new();
    let text = "name: Approve\nsteps:\n  - name: prune\n    type: sh\n    approval_required: true\n    approvers: [sre-leads]\n    with: { inline_script: echo pruned }\n";
    s.write("approve.yaml", text);
    let run = s.runbox().args(["validate", "approve.yaml"]).run();
    crate::snapshot!("validate_approval_beside_type", crate::harness::shown(&s, &run));
    let run = s.runbox().args(["run", "-q", "--no-history", "approve.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (77, ""), "{}", run.stderr);
    let run = s.runbox().args(["run", "-q", "--no-history", "--approve", "prune", "approve.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "pruned\n", ""));
}

/// `validate` shows the line of a problem, but never a secret script's.
#[test]
fn a_secret_scripts_syntax_error_shows_no_line_of_it() {
    let s = Scratch::new();
    s.write("secrets/team/s.sh", "echo TOPSECRET\nif then fi\n");
    s.write("sec.yaml", "name: Sec\nsteps:\n  - name: s\n    type: sh\n    with: { script_from_secret: { secret_name: team, key: s.sh } }\n");
    let run = s.runbox().args(["validate", "--secrets-dir", "secrets", "sec.yaml"]).run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            1,
            "",
            "error: step `s`: the script comes from a secret, so the message is withheld\n--> secret:team/s.sh:2:4\n\nsec.yaml is not a valid runbook (1 problem)\n"
        )
    );
}

/// `{{ steps.NAME.stdout }}` is a step's output as `$(…)` gives a command's:
/// without its trailing newlines, so a loop over its lines has no empty last
/// one (bash: `x=$(printf 'a\nb\n\n'); printf '%s\n' "$x"` prints two lines).
#[test]
fn a_steps_output_reads_as_command_substitution_gives_it() {
    let s = Scratch::new();
    let text = "name: Lines\nsteps:\n  - name: list\n    type: sh\n    with: { inline_script: \"printf 'a\\\\nb\\\\n\\\\n'\" }\n  - name: each\n    type: sh\n    with:\n      inline_script: |\n        printf '%s\\n' {{ steps.list.stdout }} | while read -r f; do echo \"[$f]\"; done\n        echo \"<{{ steps.list.stdout }}>\"\n  - name: js\n    type: js\n    with: { inline_script: \"console.log(JSON.stringify('{{ steps.list.stdout }}'))\" }\n";
    s.write("lines.yaml", text);
    let run = s.runbox().args(["run", "-q", "--no-history", "lines.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "a\nb\n\n[a]\n[b]\n<a\nb>\n\"a\\nb\"\n", ""));
}

/// An absolute `script_path` (a script pre-mounted where the operator put
/// approved ones) reads only the folder `--scripts-dir` names: without it,
/// out of it by `..` or a symlink, or a file that is not there — each is
/// refused before any step runs, and a path outside the folder without
/// asking the file system whether it exists.
#[test]
fn an_absolute_script_path_reads_only_the_operators_scripts_folder() {
    let s = Scratch::new();
    let approved = s.dir.path().join("approved");
    std::fs::create_dir_all(&approved).unwrap();
    std::fs::write(approved.join("health-check.sh"), "echo healthy\n").unwrap();
    std::fs::write(s.dir.path().join("outside.sh"), "echo planted-outside\n").unwrap();
    std::os::unix::fs::symlink(s.dir.path().join("outside.sh"), approved.join("leaves.sh")).unwrap();
    let dir = approved.display().to_string();
    let runbook = |path: &str| {
        format!("name: pre\nsteps:\n  - name: check\n    type: script.run\n    with:\n      script_path: \"{path}\"\n")
    };
    s.write("pre.yaml", &runbook(&format!("{dir}/health-check.sh")));
    let run = s.runbox().args(["run", "--json", "--no-history", "--scripts-dir", &dir, "pre.yaml"]).run();
    run.success();
    let report = run.json();
    assert_eq!(report["stdout"], "healthy\n");
    assert_eq!(report["steps"][0]["source"]["reference"], format!("{dir}/health-check.sh"));
    let cases = [
        (
            format!("{dir}/health-check.sh"),
            false,
            format!(
                "script_file `{dir}/health-check.sh` is absolute: runbox reads a script outside the runbook's folder only from the scripts folder its operator gives (--scripts-dir DIR), and none was given"
            ),
        ),
        (
            "/etc/hostname".to_string(),
            true,
            format!("script_file `/etc/hostname` is not in the scripts folder {dir} (--scripts-dir)"),
        ),
        (
            "/no/such/file".to_string(),
            true,
            format!("script_file `/no/such/file` is not in the scripts folder {dir} (--scripts-dir)"),
        ),
        (
            format!("{dir}/../outside.sh"),
            true,
            format!("script_file `{dir}/../outside.sh` is not in the scripts folder {dir} (--scripts-dir)"),
        ),
        (
            format!("{dir}/leaves.sh"),
            true,
            format!("script_file `{dir}/leaves.sh` is not in the scripts folder {dir} (--scripts-dir)"),
        ),
    ];
    for (path, given, message) in cases {
        s.write("pre.yaml", &runbook(&path));
        let mut args = vec!["run", "--json", "--no-history"];
        if given {
            args.extend(["--scripts-dir", &dir]);
        }
        args.push("pre.yaml");
        let run = s.runbox().args(args).run();
        assert_eq!(run.code, 2, "{path}: {}", run.stdout);
        let report = run.json();
        assert_eq!(report["error"]["message"], format!("pre.yaml:6: step `check`: {message}"), "{path}");
        assert_eq!(report["steps"], serde_json::json!([]));
        assert!(!run.stdout.contains("planted-outside") && !run.stderr.contains("planted-outside"));
    }
}
