//! Broken runbooks: every problem at once, each with its line, and nothing
//! runs or is written.

use crate::harness::Scratch;
use crate::harness::shown;
use crate::snapshot;

const BROKEN: &str = "\
# NotTheFileName
Description.

# Script
```python
print('not runnable')
```

# History

# File System Requirements
```yaml
Input: [./missing]
Surprise: []
```
";

#[test]
fn validate_reports_every_structural_problem_with_its_line() {
    let s = Scratch::new();
    s.write("Broken.md", BROKEN);
    let run = s.runbox().args(["validate", "Broken.md"]).run();
    crate::snapshot!("validate_broken_markdown", crate::harness::shown(&s, &run));
}

#[test]
fn run_refuses_a_malformed_runbook_without_touching_it() {
    let s = Scratch::new();
    let path = s.write("Broken.md", BROKEN);
    let run = s.runbox().args(["run", "Broken.md"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("malformed_run_refuses_a_malformed_runbook_without_touching_it", shown(&s, &run));
    assert_eq!(std::fs::read_to_string(path).unwrap(), BROKEN);
    let record: serde_json::Value = serde_json::from_str(s.log().trim()).unwrap();
    assert_eq!((record["runbook"].as_str(), record["exit_code"].as_i64()), (Some("Broken"), Some(2)));
    assert_eq!(record["error"]["code"], "ConfigInvalid", "the refusal is in the JSON record");
}

#[test]
fn validate_checks_several_files_and_reports_each() {
    let s = Scratch::new();
    s.write("Broken.md", BROKEN);
    s.write("Good.md", &crate::harness::runbook("Good", "", &[], &[], "```js\nreturn 1\n```"));
    let run = s.runbox().args(["validate", "Good.md", "Broken.md", "Absent.md"]).run();
    crate::snapshot!("validate_several_files", crate::harness::shown(&s, &run));
}

#[test]
fn bad_step_attributes_and_yaml_are_located() {
    let s = Scratch::new();
    let text = crate::harness::runbook(
        "Attrs",
        "A: [unclosed",
        &[],
        &[],
        "```js {timeout=soon colour=red}\nreturn 1\n```\n\n```sh\n\n```",
    );
    s.write("Attrs.md", &text);
    let run = s.runbox().args(["validate", "Attrs.md"]).run();
    crate::snapshot!("validate_step_attributes", crate::harness::shown(&s, &run));
}

#[test]
fn an_empty_file_lists_what_is_missing() {
    let s = Scratch::new();
    s.write("Empty.md", "");
    let shown_run = s.runbox().args(["validate", "Empty.md"]).run();
    assert_eq!(shown_run.code, 1, "{}", shown_run.stderr);
    snapshot!("malformed_an_empty_file_lists_what_is_missing_10", shown(&s, &shown_run));
}

#[test]
fn deep_yaml_inside_a_markdown_block_is_refused_at_once() {
    let s = Scratch::new();
    for (name, yaml) in [("OneLine", "[".repeat(100_000)), ("ManyLines", "x:\n".to_string() + &"[\n".repeat(100_000))] {
        let text = format!(
            "# {name}\nDeep.\n\n# Environment Requirements\n```yaml\n{yaml}\n```\n\n# File System Requirements\n```yaml\nInput:\nOutput:\n```\n\n# Script\n```js\nreturn 1\n```\n\n# History\n"
        );
        s.write(&format!("{name}.md"), &text);
        let run = s.runbox().args(["validate", &format!("{name}.md")]).run();
        assert_eq!(run.code, 1, "{}", run.stderr);
        snapshot!(format!("malformed_deep_yaml_inside_a_markdown_block_is_refused_at_once_{name}"), shown(&s, &run));
    }
}

#[test]
fn absurd_limits_are_config_errors_with_their_line_never_a_panic() {
    let s = Scratch::new();
    let script = "```js {timeout=99999999999999999999s}\nreturn 1\n```";
    s.write("Absurd.md", &crate::harness::runbook("Absurd", "", &[], &[], script));
    for args in [vec!["validate", "Absurd.md"], vec!["run", "Absurd.md"]] {
        let run = s.runbox().args(&args).run();
        assert!(run.code == 1 || run.code == 2, "{args:?}: {}", run.stderr);
        snapshot!(
            format!("malformed_absurd_limits_are_config_errors_with_their_line_never_a_panic_{}", args[0]),
            shown(&s, &run)
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let run = s.runbox().args(["list", "."]).run();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let text = "name: A\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: 'true', timeout: 99999999999999999999s }\n";
    s.write("absurd.yaml", text);
    let shown_run = s.runbox().args(["validate", "absurd.yaml"]).run();
    assert_eq!(shown_run.code, 1, "{}", shown_run.stderr);
    snapshot!("malformed_absurd_limits_are_config_errors_with_their_line_never_a_panic_10", shown(&s, &shown_run));
    let run = s.runbox().args(["js", "-e", "1", "--timeout", "5000000000000000h"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("malformed_absurd_limits_are_config_errors_with_their_line_never_a_panic_1", shown(&s, &run));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// Files as some Windows editors save them: a UTF-8 byte-order mark first
/// (and CRLF line ends) changes nothing, in markdown and YAML runbooks,
/// registry files, script files and `runbox sh FILE`. A registry pin is
/// the sha256 of the file's bytes, as `sha256sum` prints it. History is
/// appended to a runbook with a BOM without losing it.
#[test]
fn a_leading_byte_order_mark_is_ignored() {
    use sha2::{Digest, Sha256};
    let s = Scratch::new();
    let bom = "\u{feff}";
    let md = crate::harness::runbook("Bom", "", &[], &[], "```sh\necho md ran\n```");
    s.write("Bom.md", &format!("{bom}{}", md.replace('\n', "\r\n")));
    let run = s.runbox().args(["run", "Bom.md"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "md ran\n"), "{}", run.stderr);
    let text = s.read("Bom.md");
    assert!(text.starts_with(bom) && crate::harness::history_headings(&text).len() == 1, "{text}");

    let script = format!("{bom}echo script ran\n");
    s.write("scripts/s.sh", &script);
    let pin = format!("{:x}", Sha256::digest(script.as_bytes()));
    s.write(
        "registry.yaml",
        &format!("{bom}scripts:\n  s:\n    file: scripts/s.sh\n    approved_by: me\n    sha256: {pin}\n"),
    );
    let yaml = format!(
        "{bom}name: bom\nsteps:\n  - name: a\n    type: sh\n    with: {{ inline_script: 'echo yaml ran' }}\n  - name: b\n    type: sh\n    with: {{ script_file: scripts/s.sh }}\n  - name: c\n    type: sh\n    with: {{ script_id: s }}\n"
    );
    s.write("bom.yaml", &yaml);
    let run = s.runbox().args(["run", "--no-history", "bom.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "yaml ran\nscript ran\nscript ran\n"), "{}", run.stderr);
    s.runbox().args(["validate", "bom.yaml", "Bom.md"]).run().success();

    let run = s.runbox().args(["sh", "scripts/s.sh"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "script ran\n"), "{}", run.stderr);
    s.write("s.js", &format!("{bom}console.log('js ran')\n"));
    let run = s.runbox().args(["js", "s.js"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "js ran\n"), "{}", run.stderr);
}

/// `runbox run NAME` finds `NAME.md` or `NAME.yaml`, as `just` finds a
/// recipe; a folder, an ambiguous name and a misspelt one say what there is.
#[test]
fn a_runbook_is_found_by_its_name_and_a_wrong_one_says_what_there_is() {
    let s = Scratch::new();
    s.write("Deploy.md", &crate::harness::runbook("Deploy", "", &[], &[], "```sh\necho deployed\n```"));
    s.write(
        "ops/check.yaml",
        "name: Check\nsteps:\n  - name: c\n    type: sh\n    with: { inline_script: echo checked }\n",
    );
    // Its companion folder has its name: the runbook is meant, not the folder.
    std::fs::create_dir(s.join("Deploy")).unwrap();
    let run = s.runbox().args(["run", "-q", "--no-history", "Deploy"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "deployed\n", ""));
    let run = s.runbox().args(["run", "-q", "--dir", "ops", "check"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "checked\n", ""));
    let shown = |args: &[&str]| {
        let run = s.runbox().args(args).run();
        format!("{} {}", run.code, run.stderr)
    };
    assert_eq!(
        shown(&["run", "Deplyo"]),
        "2 runbox: error: no runbook Deplyo (looked for it as a file, then as .md, .yaml and .yml); did you mean `./Deploy.md`?\n"
    );
    assert_eq!(
        shown(&["run", "ops"]),
        "2 runbox: error: ops is a folder: run one of its runbooks by file name (check.yaml), or list them with runbox list ops\n"
    );
    s.write("Deploy.yaml", "name: Deploy\nsteps:\n  - name: c\n    type: sh\n    with: { inline_script: echo yaml }\n");
    assert_eq!(
        shown(&["run", "Deploy"]),
        "2 runbox: error: `Deploy` could be any of Deploy.md, Deploy.yaml: give the file name\n"
    );
}

/// A misspelt field, section or input gets the name that was meant.
#[test]
fn a_misspelt_name_gets_the_one_meant() {
    let s = Scratch::new();
    s.write("typo.yaml", "name: Typo\ninputs:\n  replica: { type: string, default: a }\nsteps:\n  - name: a\n    type: sh\n    with:\n      inline_scrpit: echo hi\n");
    let run = s.runbox().args(["validate", "typo.yaml"]).run();
    crate::snapshot!("validate_misspelt_field", crate::harness::shown(&s, &run));
    s.write("ok.yaml", "name: Ok\ninputs:\n  replica: { type: string, default: a }\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: echo hi }\n");
    let run = s.runbox().args(["run", "ok.yaml", "--input", "replcia=b"]).run();
    crate::snapshot!("run_misspelt_input", crate::harness::shown(&s, &run));
    s.write(
        "Sections.md",
        "# Sections\nx\n\n# Enviroment Requirements\n```yaml\n{}\n```\n\n# File System Requirements\n```yaml\n{}\n```\n\n# Script\n```sh\necho hi\n```\n\n# History\n",
    );
    let run = s.runbox().args(["validate", "Sections.md"]).run();
    crate::snapshot!("validate_misspelt_section", crate::harness::shown(&s, &run));
}

/// A markdown runbook's inputs reach its JavaScript steps only: given to one
/// without any, they are an error, not dropped.
#[test]
fn an_input_a_markdown_runbook_cannot_use_is_an_error() {
    let s = Scratch::new();
    s.write("Shell.md", &crate::harness::runbook("Shell", "", &[], &[], "```sh\necho hi\n```"));
    let run = s.runbox().args(["run", "Shell.md", "--input", "n=1"]).run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            2,
            "",
            "runbox: error: --input n cannot reach Shell.md: a markdown runbook's inputs reach its JavaScript steps (get('NAME')), and it has none; its shell steps read the variables under # Environment Requirements (give them with --env NAME=VALUE)\n"
        )
    );
}

/// A YAML parse error says what to do: the indentation expected, the tab,
/// the quotes a value needs, the `:` missing, with the line shown.
#[test]
fn yaml_parse_errors_say_what_to_do() {
    let s = Scratch::new();
    let head = "name: x\nsteps:\n  - name: a\n    type: sh\n";
    let cases = [
        ("dash", format!("{head}    with:\n      inline_script: echo\n   - name: b\n")),
        ("key", format!("{head}    with:\n      inline_script: echo\n    on_error: continue\n  with: x\n")),
        ("deeper", format!("{head}     with: {{}}\n")),
        ("tab", "name: x\nsteps:\n  - name: a\n\ttype: sh\n".to_string()),
        ("colon", format!("{head}    with:\n      inline_script: echo a: b\n")),
        ("quote", format!("{head}    with:\n      inline_script: \"echo\n")),
        ("no-colon", "name: x\nsteps:\n  - name: a\n    type sh\n    with: {}\n".to_string()),
        ("at", "name: @x\n".to_string()),
        // Text after a complete value: not a question of indentation.
        ("after", "name: x\nsteps:\n  - {name: a, type: sh, with: {inline_script: echo}} x\n".to_string()),
    ];
    let mut shown = String::new();
    for (name, text) in cases {
        s.write(&format!("{name}.yaml"), &text);
        let run = s.runbox().args(["validate", &format!("{name}.yaml")]).run();
        shown.push_str(&crate::harness::shown(&s, &run));
    }
    crate::snapshot!("validate_yaml_parse_errors", shown);
}
