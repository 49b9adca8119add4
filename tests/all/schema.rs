//! The JSON Schemas of a YAML runbook and of `registry.yaml` that editors
//! read (README: Editing YAML runbooks): the files in `schema/` are what
//! `runbox schema` prints, every sample passes them as an editor would check
//! it, and a misspelt field does not.

use serde_json::Value;

use crate::harness::{Scratch, repo};

/// The schema `runbox schema FILE` prints.
fn printed(s: &Scratch, file: &str) -> Value {
    let run = s.runbox().args(["schema", file]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The problems the schema finds in the YAML `text`, as an editor lists them.
fn problems(schema: &Value, text: &str) -> Vec<String> {
    let document: Value = yaml_serde::from_str(text).unwrap();
    let validator = jsonschema::validator_for(schema).unwrap();
    validator.iter_errors(&document).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_committed_schemas_are_the_ones_runbox_prints() {
    let s = Scratch::new();
    for file in ["runbook", "registry"] {
        let committed = std::fs::read_to_string(repo().join(format!("schema/{file}.schema.json"))).unwrap();
        let committed: Value = serde_json::from_str(&committed).unwrap();
        assert_eq!(committed, printed(&s, file), "schema/{file}.schema.json is stale: runbox schema {file} > it");
    }
}

#[test]
fn every_sample_passes_its_schema_and_names_it_for_editors() {
    let s = Scratch::new();
    let (runbook, registry) = (printed(&s, "runbook"), printed(&s, "registry"));
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("runbooks")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let (schema, file) = if name == "registry.yaml" { (&registry, "registry") } else { (&runbook, "runbook") };
        assert_eq!(problems(schema, &text), Vec::<String>::new(), "{name}");
        let comment = format!("# yaml-language-server: $schema=../schema/{file}.schema.json\n");
        assert!(text.starts_with(&comment), "{name} starts with {comment:?}");
        checked += 1;
    }
    assert_eq!(checked, 4, "three YAML runbooks and the registry");
}

#[test]
fn a_misspelt_or_misplaced_field_fails_the_schema() {
    let s = Scratch::new();
    let runbook = printed(&s, "runbook");
    let typo = "name: Disk\nsteps:\n  - name: df\n    type: sh\n    with:\n      inline_scrpit: df -h\n      timeout: 30s\n      fuel: 1000000\n  - type: bash\n    on_error: sometimes\n    with: { inline_script: echo }\n";
    assert_eq!(
        problems(&runbook, typo),
        [
            "/steps/0/with: Additional properties are not allowed ('inline_scrpit' was unexpected)",
            "/steps/1/on_error: \"sometimes\" is not one of \"fail\" or \"continue\"",
        ]
    );
    let registry = printed(&s, "registry");
    let pin = "scripts:\n  check:\n    file: check.sh\n    sha256: 31583B0E\n";
    assert_eq!(problems(&registry, pin), ["/scripts/check/sha256: \"31583B0E\" does not match \"^[0-9a-f]{64}$\""]);
}
