//! A guest reaches only what it is granted: the working directory, the
//! runbook's declared paths, and `--read`/`--write` mounts.

use std::os::unix::fs::symlink;

use crate::harness::{Scratch, error_code, runbook};

/// A host file outside every mount, holding a planted secret.
fn planted_secret() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, "PLANTED-SECRET-42").unwrap();
    (dir, file)
}

#[track_caller]
fn refused(json: &serde_json::Value, errno: &str) {
    assert_eq!(error_code(json), "RuntimeError", "{json:#}");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains(errno), "expected {errno}: {message}");
    assert!(!json.to_string().contains("PLANTED-SECRET-42"), "the secret leaked: {json:#}");
}

#[test]
fn host_files_by_absolute_path_do_not_exist_for_the_guest() {
    let s = Scratch::new();
    let (_keep, secret) = planted_secret();
    let (run, json) = s.runbox().js("return fs.readFileSync('/etc/passwd', 'utf8')", &[]);
    run.code(1);
    refused(&json, "ENOENT");
    let (_, json) = s.runbox().js(&format!("return fs.readFileSync('{}', 'utf8')", secret.display()), &[]);
    refused(&json, "ENOENT");
    let (_, json) = s.runbox().js("return fs.readdirSync('/')", &[]);
    refused(&json, "ENOENT");
}

#[test]
fn dot_dot_cannot_climb_out_of_a_mount() {
    let s = Scratch::new();
    let (keep, _) = planted_secret();
    std::fs::create_dir(s.join("work")).unwrap();
    // The secret's folder is the working directory's sibling.
    let sibling = keep.path().file_name().unwrap().to_string_lossy().into_owned();
    let up = format!("../{sibling}/secret.txt");
    let inside = s.join("work");
    let run = s
        .runbox()
        .current_dir(&inside)
        .args(["js", "--json", "-e", &format!("return fs.readFileSync('{up}', 'utf8')")])
        .run();
    refused(&run.json(), "ENOENT");
    let (_, json) = s.runbox().js("return fs.readFileSync('../../../../etc/hostname', 'utf8')", &[]);
    refused(&json, "ENOENT");
}

#[test]
fn a_symlink_inside_a_mount_cannot_point_outside() {
    let s = Scratch::new();
    let (_keep, secret) = planted_secret();
    symlink(&secret, s.join("link.txt")).unwrap();
    symlink(secret.parent().unwrap(), s.join("linkdir")).unwrap();
    let (run, json) = s.runbox().js("return fs.readFileSync('link.txt', 'utf8')", &[]);
    run.code(1);
    refused(&json, "EACCES");
    let (_, json) = s.runbox().js("return fs.readFileSync('linkdir/secret.txt', 'utf8')", &[]);
    refused(&json, "EACCES");
    let (_, json) = s.runbox().js("fs.writeFileSync('linkdir/planted.txt', 'x')", &[]);
    refused(&json, "EACCES");
    assert!(!secret.parent().unwrap().join("planted.txt").exists());
}

#[test]
fn a_read_only_mount_refuses_writes_and_keeps_its_files() {
    let s = Scratch::new();
    let ro = tempfile::tempdir().unwrap();
    std::fs::write(ro.path().join("keep.txt"), "original").unwrap();
    let dir = ro.path().display().to_string();
    let (run, json) = s.runbox().js(&format!("return fs.readFileSync('{dir}/keep.txt', 'utf8')"), &["--read", &dir]);
    run.success();
    assert_eq!(json["result"], "original");
    for attempt in [
        format!("fs.writeFileSync('{dir}/keep.txt', 'changed')"),
        format!("fs.writeFileSync('{dir}/new.txt', 'x')"),
        format!("fs.rmSync('{dir}/keep.txt')"),
        format!("fs.mkdirSync('{dir}/sub')"),
    ] {
        let (run, json) = s.runbox().js(&attempt, &["--read", &dir]);
        run.code(1);
        assert_eq!(error_code(&json), "RuntimeError", "{attempt}: {json:#}");
    }
    assert_eq!(std::fs::read_to_string(ro.path().join("keep.txt")).unwrap(), "original");
    assert_eq!(std::fs::read_dir(ro.path()).unwrap().count(), 1);
}

#[test]
fn a_write_mount_keeps_what_the_guest_writes() {
    let s = Scratch::new();
    let rw = tempfile::tempdir().unwrap();
    let dir = rw.path().display().to_string();
    s.runbox().js(&format!("fs.writeFileSync('{dir}/report.txt', 'done')"), &["--write", &dir]).0.success();
    assert_eq!(std::fs::read_to_string(rw.path().join("report.txt")).unwrap(), "done");
}

#[test]
fn a_runbooks_input_folder_is_read_only() {
    let s = Scratch::new();
    s.write("data/config.txt", "v1");
    let script = "```js\nconsole.log(fs.readFileSync('data/config.txt', 'utf8'));\nfs.writeFileSync('data/config.txt', 'v2');\n```";
    s.write("Ro.md", &runbook("Ro", "", &["./data"], &[], script));
    let run = s.runbox().args(["run", "--json", "--no-history", "Ro.md"]).run();
    run.code(1);
    let json = run.json();
    assert_eq!(json["steps"][0]["stdout"], "v1\n");
    assert_eq!(
        json["steps"][0]["error"]["message"], "Error: EACCES: permission denied, open 'data/config.txt'",
        "{json:#}"
    );
    assert_eq!(s.read("data/config.txt"), "v1");
}

#[test]
fn a_runbooks_input_file_is_a_copy_the_guest_cannot_change() {
    let s = Scratch::new();
    s.write("settings.ini", "a=1");
    let script = "```js\nfs.writeFileSync('settings.ini', 'a=2'); return fs.readFileSync('settings.ini', 'utf8')\n```";
    s.write("Copy.md", &runbook("Copy", "", &["./settings.ini"], &[], script));
    let run = s.runbox().args(["run", "--json", "--no-history", "Copy.md"]).run();
    assert_eq!(run.success().json()["steps"][0]["result"], "a=2");
    assert_eq!(s.read("settings.ini"), "a=1");
}

#[test]
fn declared_paths_may_not_leave_the_runbooks_folder() {
    let s = Scratch::new();
    let (keep, _) = planted_secret();
    std::fs::create_dir(s.join("book")).unwrap();
    symlink(keep.path(), s.join("book/data")).unwrap();
    let script = "```js\nreturn fs.readFileSync('data/secret.txt', 'utf8')\n```";
    s.write("book/Sneaky.md", &runbook("Sneaky", "", &["./data"], &["../outside"], script));
    let run = s.runbox().args(["run", "--json", "book/Sneaky.md"]).run();
    run.code(2);
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert_eq!(
        message,
        "Sneaky.md:12: input path `./data` resolves outside the runbook's folder (through a symlink); declare an absolute path if that is intended\nSneaky.md:14: output path `../outside` leaves the runbook's folder through `..`; declare an absolute path if that is intended"
    );
    assert!(!s.join("outside").exists());
    // Refused before any step: nothing ran that could have read the secret.
    assert_eq!(run.json()["steps"], serde_json::json!([]), "{}", run.stdout);
}

#[test]
fn absolute_declared_paths_appear_at_their_own_path() {
    let s = Scratch::new();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("x.txt"), "abs").unwrap();
    let dir = data.path().display();
    let script = format!("```js\nreturn fs.readFileSync('{dir}/x.txt', 'utf8')\n```");
    s.write("Abs.md", &runbook("Abs", "", &[&dir.to_string()], &[], &script));
    let run = s.runbox().args(["run", "--json", "--no-history", "--allow-read", &dir.to_string(), "Abs.md"]).run();
    assert_eq!(run.success().json()["steps"][0]["result"], "abs");
}

#[test]
fn a_path_declared_twice_is_refused() {
    let s = Scratch::new();
    std::fs::create_dir(s.join("data")).unwrap();
    s.write("Twice.md", &runbook("Twice", "", &["./data"], &["./data/"], "```js\nreturn 1\n```"));
    let run = s.runbox().args(["validate", "Twice.md"]).run();
    crate::snapshot!("validate_path_declared_twice", crate::harness::shown(&s, &run));
}
