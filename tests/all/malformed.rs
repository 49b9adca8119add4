//! Broken runbooks: every problem at once, each with its line, and nothing
//! runs or is written.

use crate::harness::Scratch;

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
    run.code(1)
        .stderr_has(
            "Broken.md:1: the first heading `# NotTheFileName` must equal the file name without `.md`: `Broken`",
        )
        .stderr_has("Broken.md:5: code block language `python` is not runnable")
        .stderr_has("Broken.md:11: `# History` must be the last section, but `# File System Requirements` follows it")
        .stderr_has("Broken.md:11: section `# File System Requirements` is out of order")
        .stderr_has("missing section `# Environment Requirements`")
        .stderr_has("Broken.md:14: unknown key `Surprise`");
}

#[test]
fn run_refuses_a_malformed_runbook_without_touching_it() {
    let s = Scratch::new();
    let path = s.write("Broken.md", BROKEN);
    let run = s.runbox().args(["run", "Broken.md"]).run();
    run.code(2).stderr_has("Broken.md is not a valid runbook");
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
    run.code(1).stdout_has("ok: Good.md").stderr_has("Broken.md:1:").stderr_has("Absent.md: cannot read the file");
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
    run.code(1)
        .stderr_has("Attrs.md:7: invalid yaml in `# Environment Requirements`")
        .stderr_has("Attrs.md:16: `soon` is not a duration")
        .stderr_has("Attrs.md:16: unknown step attribute `colour`")
        .stderr_has("Attrs.md:20: step `step-2` has no code");
}

#[test]
fn an_empty_file_lists_what_is_missing() {
    let s = Scratch::new();
    s.write("Empty.md", "");
    s.runbox()
        .args(["validate", "Empty.md"])
        .run()
        .code(1)
        .stderr_has("no `# Empty` heading")
        .stderr_has("missing section `# Script`");
}
