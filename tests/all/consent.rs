//! Consent: the runbook asks, the user grants. Safe declarations
//! run without asking; the rest is refused with `PermissionDenied` naming
//! the flags that grant it, unless granted by flag, at the terminal, or by
//! `runbox allow` for the runbook's current content.

use crate::harness::shown;
use crate::harness::{Scratch, history_headings, runbook};
use crate::snapshot;

/// A runbook whose one step lists what it can see.
fn asking(s: &Scratch, inputs: &[&str], outputs: &[&str]) -> std::path::PathBuf {
    s.write("Ask.md", &runbook("Ask", "", inputs, outputs, "```sh\necho ran\n```"))
}

/// A directory outside the runbook's folder, and its real path.
fn outside_dir() -> (tempfile::TempDir, String) {
    let outside = tempfile::tempdir().unwrap();
    let dir = outside.path().canonicalize().unwrap().display().to_string();
    (outside, dir)
}

#[track_caller]
fn refused_with(s: &Scratch, extra: &[&str], flags: &[&str]) {
    let run = s.runbox().args(["run", "--no-history", "Ask.md"]).args(extra).run();
    run.code(126).stderr_has("PermissionDenied: Ask.md asks for what needs your grant");
    for flag in flags {
        run.stderr_has(flag);
    }
    assert!(!run.stdout.contains("ran"), "nothing runs before the grant: {}", run.stdout);
}

#[track_caller]
fn runs(s: &Scratch, extra: &[&str]) {
    s.runbox().args(["run", "--no-history", "Ask.md"]).args(extra).run().success().stdout_has("ran\n");
}

#[test]
fn relative_paths_inside_the_folder_and_declared_variables_need_no_grant() {
    let s = Scratch::new();
    s.write("data/x.txt", "x");
    s.write("Ask.md", &runbook("Ask", "HOME: home", &["./data", "./data/x.txt"], &["./out"], "```sh\necho ran\n```"));
    runs(&s, &[]);
}

#[test]
fn absolute_paths_need_allow_read_or_allow_write() {
    let s = Scratch::new();
    let (outside, dir) = outside_dir();
    asking(&s, &[&dir], &[]);
    refused_with(&s, &[], &[&format!("--allow-read {dir}")]);
    runs(&s, &["--allow-read", &dir]);
    // A grant of a parent covers it; so does a grant to write it.
    runs(&s, &["--allow-read", &outside.path().parent().unwrap().display().to_string()]);
    runs(&s, &["--allow-write", &dir]);
    runs(&s, &["--allow-all"]);

    asking(&s, &[], &[&dir]);
    refused_with(&s, &["--allow-read", &dir], &[&format!("--allow-write {dir}")]);
    runs(&s, &["--allow-write", &dir]);
}

#[test]
fn paths_through_hidden_components_need_a_grant() {
    let s = Scratch::new();
    s.write(".git/config", "[core]");
    let real = s.path().canonicalize().unwrap();
    asking(&s, &["./.git/config"], &[]);
    refused_with(
        &s,
        &[],
        &[&format!("--allow-read {}/.git/config", real.display()), "passes through the hidden `.git`"],
    );
    runs(&s, &["--allow-read", &real.join(".git").display().to_string()]);
}

#[test]
fn an_output_that_covers_a_runbook_or_script_needs_a_grant() {
    let s = Scratch::new();
    let real = s.path().canonicalize().unwrap().display().to_string();
    asking(&s, &[], &["./"]);
    refused_with(&s, &[], &[&format!("--allow-write {real}"), "it holds the runbook itself"]);
    runs(&s, &["--allow-write", &real]);

    s.write("tools/deploy.sh", "echo deploy");
    asking(&s, &[], &["./tools"]);
    refused_with(&s, &[], &[&format!("--allow-write {real}/tools"), "it holds `deploy.sh`"]);
    s.write("tools2/other.md", "# Other");
    asking(&s, &[], &["./tools2"]);
    refused_with(&s, &[], &["it holds `other.md`"]);
}

#[test]
fn network_hosts_need_allow_net() {
    let s = Scratch::new();
    let text = "name: Net\npermissions:\n  net: [\"evil.example:443\", localhost]\nsteps:\n  - name: a\n    type: sh\n    with: { inline_script: echo ran }\n";
    s.write("net.yaml", text);
    let run = s.runbox().args(["run", "net.yaml"]).run();
    assert_eq!(run.code, 126, "{}", run.stderr);
    snapshot!("consent_network_hosts_need_allow_net", shown(&s, &run));
    let run = s.runbox().args(["run", "net.yaml", "--allow-net", "evil.example:443"]).run();
    assert_eq!(run.code, 126, "{}", run.stderr);
    snapshot!("consent_network_hosts_need_allow_net_1", shown(&s, &run));
    // A port-less grant covers every port; a grant on another port does not.
    s.runbox().args(["run", "net.yaml", "--allow-net", "evil.example", "--allow-net", "localhost"]).run().success();
    s.runbox().args(["run", "net.yaml", "--allow-net", "evil.example:80", "--allow-net", "localhost"]).run().code(126);
    s.runbox().args(["run", "net.yaml", "--allow-all"]).run().success();
}

#[test]
fn a_refusal_goes_to_history_and_the_record_says_how_it_was_decided() {
    let s = Scratch::new();
    let (_keep, dir) = outside_dir();
    asking(&s, &[&dir], &[]);
    s.runbox().args(["run", "Ask.md"]).run().code(126);
    let text = s.read("Ask.md");
    assert_eq!(history_headings(&text).len(), 1);
    assert!(text.contains("| Exit Code: 126") && text.contains("PermissionDenied: Ask.md asks for"), "{text}");
    s.runbox().args(["run", "Ask.md", "--allow-read", &dir]).run().success();
    let records: Vec<serde_json::Value> = s.log().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flag = format!("--allow-read {dir}");
    assert_eq!(records[0]["consent"], serde_json::json!({"asked": [flag], "granted": false, "how": "not granted"}));
    assert_eq!(records[1]["consent"], serde_json::json!({"asked": [flag], "granted": true, "how": "flags"}));
}

#[test]
fn validate_names_what_needs_a_grant() {
    let s = Scratch::new();
    let (_keep, dir) = outside_dir();
    asking(&s, &[&dir], &[]);
    let run = s.runbox().args(["validate", "Ask.md"]).run();
    run.success();
    snapshot!("consent_validate_names_what_needs_a_grant", shown(&s, &run));
}

#[test]
fn runbox_allow_consents_to_this_version_of_the_file_until_it_changes_or_is_revoked() {
    let s = Scratch::new();
    let (_keep, dir) = outside_dir();
    let path = asking(&s, &[&dir], &[]);
    s.runbox().args(["run", "Ask.md"]).run().code(126);
    let shown_run = s.runbox().args(["allow", "Ask.md"]).run();
    shown_run.success();
    snapshot!(
        "consent_runbox_allow_consents_to_this_version_of_the_file_until_it_changes_or_is_revoked_10",
        shown(&s, &shown_run)
    );
    // Runs append to History; that does not revoke consent.
    let shown_run = s.runbox().args(["run", "Ask.md"]).run();
    shown_run.success();
    snapshot!(
        "consent_runbox_allow_consents_to_this_version_of_the_file_until_it_changes_or_is_revoked_11",
        shown(&s, &shown_run)
    );
    s.runbox().args(["run", "Ask.md"]).run().success();
    assert!(s.log().contains("\"how\":\"runbox allow\""));
    // A changed file asks again.
    let changed = std::fs::read_to_string(&path).unwrap().replace("echo ran", "echo changed");
    std::fs::write(&path, changed).unwrap();
    s.runbox().args(["run", "Ask.md"]).run().code(126);
    s.runbox().args(["allow", "Ask.md"]).run().success();
    let shown_run = s.runbox().args(["run", "Ask.md"]).run();
    shown_run.success();
    snapshot!(
        "consent_runbox_allow_consents_to_this_version_of_the_file_until_it_changes_or_is_revoked_12",
        shown(&s, &shown_run)
    );
    let shown_run = s.runbox().args(["revoke", "Ask.md"]).run();
    shown_run.success();
    snapshot!(
        "consent_runbox_allow_consents_to_this_version_of_the_file_until_it_changes_or_is_revoked_13",
        shown(&s, &shown_run)
    );
    s.runbox().args(["run", "Ask.md"]).run().code(126);
    let shown_run = s.runbox().args(["revoke", "Ask.md"]).run();
    shown_run.success();
    snapshot!(
        "consent_runbox_allow_consents_to_this_version_of_the_file_until_it_changes_or_is_revoked_14",
        shown(&s, &shown_run)
    );
}

#[test]
fn consent_does_not_cover_a_new_target_behind_the_same_file() {
    // The file is unchanged, but what its relative path names is not.
    let s = Scratch::new();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(a.path(), s.join("link")).unwrap();
    let link = s.join("link").display().to_string();
    asking(&s, &[&link], &[]);
    s.runbox().args(["allow", "Ask.md"]).run().success();
    s.runbox().args(["run", "--no-history", "Ask.md"]).run().success();
    std::fs::remove_file(s.join("link")).unwrap();
    std::os::unix::fs::symlink(b.path(), s.join("link")).unwrap();
    s.runbox().args(["run", "--no-history", "Ask.md"]).run().code(126);
}

#[test]
fn on_a_terminal_runbox_lists_what_is_asked_and_prompts() {
    let s = Scratch::new();
    let (_keep, dir) = outside_dir();
    asking(&s, &[&dir], &[]);
    // The terminal merges the streams into stdout.
    let declined = s.runbox().args(["run", "--no-history", "Ask.md"]).on_terminal("n\n");
    assert_eq!(declined.code, 126, "{}", declined.stdout);
    snapshot!("consent_terminal_prompt_declined", shown(&s, &declined));
    let once = s.runbox().args(["run", "--no-history", "Ask.md"]).on_terminal("y\n");
    assert_eq!(once.code, 0, "{}", once.stdout);
    snapshot!("consent_terminal_prompt_granted_once", shown(&s, &once));
    s.runbox().args(["run", "--no-history", "Ask.md"]).run().code(126);
    let always = s.runbox().args(["run", "--no-history", "Ask.md"]).on_terminal("a\n");
    assert_eq!(always.code, 0, "{}", always.stdout);
    let shown_run = s.runbox().args(["run", "--no-history", "Ask.md"]).run();
    shown_run.success();
    snapshot!("consent_on_a_terminal_runbox_lists_what_is_asked_and_prompts_10", shown(&s, &shown_run));
}

#[test]
fn what_the_prompt_shows_cannot_be_rewritten_by_escape_sequences() {
    let s = Scratch::new();
    let (_keep, dir) = outside_dir();
    // A path that would erase its own line and print a harmless one instead.
    let text = format!(
        "name: Hide\npermissions:\n  write: [\"{dir}/x\\e[2K\\r  - read ./data (harmless)\"]\nsteps:\n  - name: a\n    type: sh\n    approval_required: true\n    with: {{ inline_script: \"echo ok # \\e[1A\\e[2Khidden\" }}\n"
    );
    s.write("hide.yaml", &text);
    // No colour: every escape seen would be the runbook's.
    let asked = s.runbox().env("NO_COLOR", "1").args(["run", "hide.yaml"]).on_terminal("n\n");
    assert_eq!(asked.code, 126, "{}", asked.stdout);
    assert!(!asked.stdout.contains('\u{1b}'), "an escape reached the terminal: {:?}", asked.stdout);
    snapshot!("consent_terminal_prompt_escapes_shown", shown(&s, &asked));
    let approval = s.runbox().env("NO_COLOR", "1").args(["run", "hide.yaml", "--allow-all"]).on_terminal("n\n");
    assert_eq!(approval.code, 77, "{}", approval.stdout);
    assert!(!approval.stdout.contains('\u{1b}'), "an escape reached the terminal: {:?}", approval.stdout);
    snapshot!("consent_terminal_approval_escapes_shown", shown(&s, &approval));
}

#[test]
fn an_output_holding_a_hard_link_needs_a_grant() {
    // A hard link is the file itself: writing out/notes would rewrite the runbook.
    let s = Scratch::new();
    asking(&s, &[], &["./out"]);
    std::fs::create_dir(s.join("out")).unwrap();
    std::fs::hard_link(s.join("Ask.md"), s.join("out/notes")).unwrap();
    refused_with(&s, &[], &["it holds `notes`, which has other hard links"]);
}

#[test]
fn an_output_holding_hidden_entries_or_executables_needs_a_grant() {
    let s = Scratch::new();
    asking(&s, &[], &["./out"]);
    s.write("out/.git/hooks/pre-commit", "echo hook");
    refused_with(&s, &[], &["it holds `.git`, hidden, which other tools may run or trust"]);
    std::fs::remove_dir_all(s.join("out/.git")).unwrap();
    let tool = s.write("out/bin/deploy", "#!/bin/sh\n");
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    refused_with(&s, &[], &["it holds `bin/deploy`, an executable a step could rewrite"]);
    std::fs::remove_file(&tool).unwrap();
    s.write("out/report.txt", "last week's report");
    runs(&s, &[]);
}

/// Consent binds every byte that runs under it: a script file a step names,
/// the registry entry it uses and a sub-runbook it names (with that one's
/// own files). When one changes, runbox asks again and says which.
#[test]
fn consent_binds_script_files_registry_entries_and_named_sub_runbooks() {
    let s = Scratch::new();
    let (_outside, dir) = outside_dir();
    let asks = format!("permissions:\n  read: [{dir}]\n");
    s.write("scripts/x.sh", "echo script\n");
    s.write("scripts/reg.sh", "echo registry\n");
    let pin = |text: &str| {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
    };
    let registry = |script: &str, approval: bool| {
        format!(
            "scripts:\n  reg:\n    file: scripts/reg.sh\n    sha256: {}\n    requires_approval: {approval}\n",
            pin(script)
        )
    };
    s.write("registry.yaml", &registry("echo registry\n", false));
    s.write(
        "Child.yaml",
        &format!(
            "name: child\n{asks}steps:\n  - name: c\n    type: sh\n    with: {{ script_file: scripts/child.sh }}\n"
        ),
    );
    s.write("scripts/child.sh", "echo child\n");
    s.write(
        "p.yaml",
        &format!(
            "name: p\n{asks}steps:\n  - name: a\n    type: sh\n    with: {{ script_file: scripts/x.sh }}\n  - name: b\n    type: sh\n    with: {{ script_id: reg }}\n  - name: c\n    type: runbook\n    with: {{ runbook: Child.yaml }}\n"
        ),
    );
    let allow = s.runbox().args(["allow", "p.yaml"]).run();
    allow.success().stdout_has("Child.yaml: an absolute path").stdout_has("scripts/child.sh");
    let run = s.runbox().args(["run", "--no-history", "--json", "p.yaml"]).run();
    assert_eq!((run.code, run.json()["stdout"].as_str()), (0, Some("script\nregistry\nchild\n")), "{}", run.stderr);

    let asks_again = |changed: &str| {
        let run = s.runbox().args(["run", "--no-history", "p.yaml"]).run();
        run.code(126)
            .stderr_has(&format!("consent was recorded for another version: {changed} changed since"))
            .stderr_has("p.yaml asks for what needs your grant");
        assert_eq!(run.stdout, "");
        s.runbox().args(["allow", "p.yaml"]).run().success();
        s.runbox().args(["run", "--no-history", "p.yaml"]).run().success();
    };
    s.write("scripts/x.sh", "echo changed\n");
    asks_again("`scripts/x.sh`");
    s.write("scripts/reg.sh", "echo registry 2\n");
    s.write("registry.yaml", &registry("echo registry 2\n", false));
    asks_again("`registry.yaml#reg`");
    // Whether the entry needs approval is bound too.
    s.write("registry.yaml", &registry("echo registry 2\n", true));
    let run = s.runbox().args(["run", "--no-history", "p.yaml"]).run();
    assert_eq!(run.code, 126, "{}", run.stderr);
    snapshot!("consent_consent_binds_script_files_registry_entries_and_named_sub_runbooks", shown(&s, &run));
    s.write("registry.yaml", &registry("echo registry 2\n", false));
    s.write("scripts/child.sh", "echo child changed\n");
    asks_again("`scripts/child.sh`");
}

/// A sub-runbook named only at run time (`runbook.call(name)`) is covered by
/// its own consent at its current content, or by this run's flags; else it
/// is refused, naming what it lacks.
#[test]
fn a_child_named_at_run_time_needs_its_own_consent_or_flags() {
    let s = Scratch::new();
    let (_outside, dir) = outside_dir();
    s.write(
        "Other.yaml",
        &format!("name: other\npermissions:\n  read: [{dir}]\nsteps:\n  - name: o\n    type: sh\n    with: {{ inline_script: 'echo other ran' }}\n"),
    );
    s.write(
        "d.yaml",
        "name: d\npermissions:\n  net: [\"example.com:443\"]\nsteps:\n  - name: call\n    type: js\n    with: { inline_script: \"const name = ['Oth', 'er.yaml'].join(''); try { console.log(runbook.call(name).stdout.trim()) } catch (e) { console.log(e.code) }\" }\n",
    );
    s.runbox().args(["allow", "d.yaml"]).run().success();
    let run = s.runbox().args(["run", "--no-history", "d.yaml"]).run();
    assert_eq!(run.stdout, "PermissionDenied\n", "{}", run.stderr);
    s.runbox().args(["allow", "Other.yaml"]).run().success();
    let run = s.runbox().args(["run", "--no-history", "d.yaml"]).run();
    assert_eq!(run.stdout, "other ran\n", "{}", run.stderr);
    s.write("Other.yaml", &s.read("Other.yaml").replace("other ran", "other changed"));
    let run = s.runbox().args(["run", "--no-history", "d.yaml"]).run();
    assert_eq!(run.stdout, "PermissionDenied\n", "{}", run.stderr);
    let run = s.runbox().args(["run", "--no-history", "--allow-read", &dir, "d.yaml"]).run();
    assert_eq!(run.stdout, "other changed\n", "{}", run.stderr);
}

/// Binding a tree of sub-runbooks reads each once: twenty-five runbooks that
/// each name the next two ways would be 2^25 walks otherwise.
#[test]
fn a_wide_tree_of_named_sub_runbooks_is_bound_in_its_size() {
    let s = Scratch::new();
    for i in 0..25 {
        let step = |n: u32| {
            if i == 24 {
                format!("  - name: s{n}\n    type: sh\n    with: {{ inline_script: 'echo leaf' }}\n")
            } else {
                format!("  - name: s{n}\n    type: runbook\n    with: {{ runbook: T{}.yaml }}\n", i + 1)
            }
        };
        s.write(&format!("T{i}.yaml"), &format!("name: t{i}\nsteps:\n{}{}", step(0), step(1)));
    }
    s.runbox().args(["allow", "T0.yaml"]).run().success();
    s.runbox().args(["validate", "T0.yaml"]).run().success();
}
