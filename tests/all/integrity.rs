//! What is granted cannot be widened by a step: mounts stay bound to what
//! was validated, inputs never lie inside outputs, and runbox's own state
//! (the compiled-guest cache, the log, the consent store) is never mounted.

use std::os::unix::fs::{PermissionsExt, symlink};

use crate::harness::shown;
use crate::harness::{Scratch, runbook};
use crate::snapshot;

/// A host directory no mount grants, holding a planted secret.
fn host_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.txt"), "PLANTED-SECRET-42").unwrap();
    dir
}

#[track_caller]
fn untouched(dir: &tempfile::TempDir, output: &str) {
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["secret.txt"], "a step wrote into the host directory");
    assert!(!output.contains("PLANTED-SECRET-42"), "the secret leaked: {output}");
}

/// Between step 1 and step 2, a declared output is swapped for a symlink to
/// a host directory — by step 1 itself, or by another process while step 1
/// sleeps. Step 2 must still see the directory that was validated (now
/// deleted), never the host's.
fn swap_runbook(s: &Scratch, first: &str, second: &str, by_another_process: bool) {
    let host = host_dir();
    std::fs::create_dir_all(s.join("out/sub")).unwrap();
    symlink(host.path(), s.join("out/evil")).unwrap();
    symlink(".", s.join("out/alias")).unwrap();
    s.write("Swap.md", &runbook("Swap", "", &[], &["./out", "./out/sub"], &format!("{first}\n\n{second}")));
    let child = s.runbox().args(["run", "--json", "--no-history", "Swap.md"]).spawn();
    if by_another_process {
        std::thread::sleep(std::time::Duration::from_millis(700));
        std::fs::remove_dir(s.join("out/sub")).unwrap();
        std::fs::rename(s.join("out/evil"), s.join("out/sub")).unwrap();
    }
    let run = crate::harness::Run::from(child.wait_with_output().unwrap());
    let json = run.json();
    assert_eq!(json["steps"][0]["exit_code"], 0, "the first step works: {json:#}");
    assert!(std::fs::symlink_metadata(s.join("out/sub")).unwrap().file_type().is_symlink(), "the swap happened");
    assert_ne!(json["steps"][1]["exit_code"], 0, "the second step reached nothing: {json:#}");
    untouched(&host, &run.stdout);
}

#[test]
fn a_mount_swapped_for_a_symlink_by_a_step_stays_bound_to_what_was_validated() {
    let s = Scratch::new();
    swap_runbook(
        &s,
        "```js\nfs.rmSync('out/alias/sub', {recursive: true}); fs.renameSync('out/alias/evil', 'out/alias/sub');\n```",
        "```js\nfs.writeFileSync('out/sub/pwned.txt', 'x'); return fs.readFileSync('out/sub/secret.txt', 'utf8')\n```",
        false,
    );
}

#[test]
fn a_mount_swapped_for_a_symlink_by_another_process_stays_bound_to_what_was_validated() {
    let s = Scratch::new();
    swap_runbook(&s, "```sh\nsleep 2\n```", "```sh\ncat out/sub/secret.txt; echo x > out/sub/pwned.txt\n```", true);
}

#[test]
fn an_input_inside_an_output_is_refused() {
    let s = Scratch::new();
    s.write("out/data/x.txt", "x");
    s.write("In.md", &runbook("In", "", &["./out/data"], &["./out"], "```js\nreturn 1\n```"));
    let run = s.runbox().args(["validate", "In.md"]).run();
    crate::snapshot!("validate_input_inside_output", crate::harness::shown(&s, &run));
}

#[test]
fn the_compiled_guest_cache_can_never_be_mounted() {
    let s = Scratch::new();
    let cache = s.state.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    let cache = cache.to_string_lossy().into_owned();
    let run = s.runbox().env("RUNBOX_CACHE_DIR", &cache).args(["js", "-e", "1", "--write", &cache]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_the_compiled_guest_cache_can_never_be_mounted", shown(&s, &run));
    // Declared by a runbook and granted with everything the user has: still refused.
    s.write("Plant.md", &runbook("Plant", "", &[], &[&cache], "```js\nfs.writeFileSync('x', 'y')\n```"));
    let run = s
        .runbox()
        .env("RUNBOX_CACHE_DIR", &cache)
        .args(["run", "--allow-all", "--allow-write", &cache, "Plant.md"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_the_compiled_guest_cache_can_never_be_mounted_1", shown(&s, &run));
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    // A parent of it, the log's or the consent store's folder: the same.
    let state = s.state.path().to_string_lossy().into_owned();
    let run = s.runbox().args(["js", "-e", "1", "--read", &state]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_the_compiled_guest_cache_can_never_be_mounted_2", shown(&s, &run));
}

#[test]
fn runbox_sh_in_the_home_directory_that_holds_the_cache_is_refused() {
    let s = Scratch::new();
    let run = s
        .runbox()
        .env("HOME", &s.path().to_string_lossy())
        .env_remove("RUNBOX_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .args(["sh", "-c", "echo hi"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_runbox_sh_in_the_home_directory_that_holds_the_cache_is_refused", shown(&s, &run));
    assert!(run.stdout.is_empty());
}

#[test]
fn a_cache_others_can_write_is_refused_and_a_new_one_is_private() {
    let s = Scratch::new();
    let cache = s.state.path().join("shared-cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = s.runbox().env("RUNBOX_CACHE_DIR", &cache.to_string_lossy()).args(["js", "-e", "console.log(1)"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_a_cache_others_can_write_is_refused_and_a_new_one_is_private", shown(&s, &run));
    assert!(run.stdout.is_empty());

    let fresh = s.state.path().join("new/cache");
    let run = s.runbox().env("RUNBOX_CACHE_DIR", &fresh.to_string_lossy()).args(["js", "-e", "console.log(1)"]).run();
    run.success();
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn the_scratch_directory_is_private_to_the_user_and_removed_afterwards() {
    let s = Scratch::new();
    let tmp = tempfile::tempdir().unwrap();
    let slow = "```js\nconst t = Date.now(); while (Date.now() - t < 1500) {}\n```";
    s.write("Slow.md", &runbook("Slow", "", &[], &[], slow));
    let child =
        s.runbox().env("TMPDIR", &tmp.path().to_string_lossy()).args(["run", "--no-history", "Slow.md"]).spawn();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let modes: Vec<u32> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().permissions().mode() & 0o777)
        .collect();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        modes,
        [0o700, 0o700],
        "the scratch directory and the guest's /tmp exist while the step runs, and only their user can enter them"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "both are removed");
}

#[test]
fn an_input_that_is_a_fifo_or_a_device_is_refused_not_waited_on() {
    let s = Scratch::new();
    let made = std::process::Command::new("mkfifo").arg(s.join("pipe")).status().unwrap();
    assert!(made.success());
    s.write("Fifo.md", &runbook("Fifo", "", &["./pipe"], &[], "```js\nreturn 1\n```"));
    let run = s.runbox().args(["validate", "Fifo.md"]).run();
    crate::snapshot!("validate_input_fifo", crate::harness::shown(&s, &run));
    s.write("Dev.md", &runbook("Dev", "", &["/dev/zero"], &[], "```js\nreturn 1\n```"));
    let run = s.runbox().args(["run", "--allow-read", "/dev/zero", "Dev.md"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_an_input_that_is_a_fifo_or_a_device_is_refused_not_waited_on", shown(&s, &run));
}

#[test]
fn a_symlinked_cache_is_trusted_only_where_it_leads_is_private() {
    let s = Scratch::new();
    let private = s.state.path().join("real-cache");
    std::fs::create_dir(&private).unwrap();
    let link = s.state.path().join("cache-link");
    symlink(&private, &link).unwrap();
    s.runbox().env("RUNBOX_CACHE_DIR", &link.to_string_lossy()).args(["js", "-e", "console.log(1)"]).run().success();
    // Where it leads lies in a directory anyone can write (and not sticky).
    let open = s.state.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir(open.join("cache")).unwrap();
    let link2 = s.state.path().join("cache-link-2");
    symlink(open.join("cache"), &link2).unwrap();
    let run = s.runbox().env("RUNBOX_CACHE_DIR", &link2.to_string_lossy()).args(["js", "-e", "console.log(1)"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    snapshot!("integrity_a_symlinked_cache_is_trusted_only_where_it_leads_is_private", shown(&s, &run));
}

/// With no HOME, XDG or RUNBOX_ variable (systemd units, `env -i`), the
/// cache, the log and the consent store live in a private `runbox-UID`
/// under the temporary directory: the second run compiles nothing. One that
/// others can write is refused, and runbox says so.
#[test]
fn without_a_home_the_cache_and_state_go_to_a_private_temporary_directory() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write("Hi.md", &runbook("Hi", "", &[], &[], "```js\nconsole.log('hi')\n```"));
    let tmp = tempfile::tempdir().unwrap();
    let homeless = |s: &Scratch| {
        let mut runbox = s.runbox();
        runbox.cmd.env_clear().env("PATH", "/usr/bin:/bin").env("TMPDIR", tmp.path());
        runbox
    };
    let run = homeless(&s).args(["run", "-q", "--no-history", "Hi.md"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "hi\n", ""));
    let base = tmp.path().join(format!("runbox-{}", rustix::process::geteuid().as_raw()));
    assert_eq!(std::fs::metadata(&base).unwrap().permissions().mode() & 0o777, 0o700);
    let cached: Vec<String> = std::fs::read_dir(base.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cwasm"))
        .collect();
    assert!(cached.len() == 1 && cached[0].starts_with("js-"), "{cached:?}");
    let log = std::fs::read_to_string(base.join("state/executions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1);
    // Others can write it: not used, and said.
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = homeless(&s).args(["run", "--no-history", "Hi.md"]).run();
    assert_eq!(run.stdout, "hi\n");
    let said = format!("runbox: not using {}:", base.display());
    assert_eq!(run.stderr.matches(&said).count(), 1, "said once: {}", run.stderr);
    assert_eq!(std::fs::read_to_string(base.join("state/executions.jsonl")).unwrap(), log, "nothing written there");
}

/// On a terminal, a first run says why it waits; a run with the guest
/// cached does not.
#[test]
fn a_first_run_says_it_is_preparing_the_sandbox() {
    let s = Scratch::new();
    let cache = s.state.path().join("fresh-cache");
    let cache = cache.to_string_lossy();
    let first = s.runbox().env("RUNBOX_CACHE_DIR", &cache).args(["js", "-e", "console.log(1)"]).on_terminal("");
    let lines: Vec<&str> = first.stdout.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert_eq!(lines, ["runbox: preparing the JavaScript sandbox (on a first run only)…", "1"]);
    let second = s.runbox().env("RUNBOX_CACHE_DIR", &cache).args(["js", "-e", "console.log(2)"]).on_terminal("");
    assert_eq!(second.stdout.trim_end(), "2");
}

/// What runbox opens for its state is checked, not what a path named a
/// moment before: another user's symlink at the temporary fallback's path
/// (in a shared, sticky directory) is refused even when it leads to a
/// directory of ours, since its owner could swap it after the check; a log
/// that is a symlink, another user's file or writable by others is refused.
#[test]
fn a_planted_link_at_the_fallback_or_the_log_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write("Hi.md", &runbook("Hi", "", &[], &[], "```js\nconsole.log('hi')\n```"));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let ours = tempfile::tempdir().unwrap();
    let base = tmp.path().join(format!("runbox-{}", rustix::process::geteuid().as_raw()));
    std::os::unix::fs::symlink(ours.path(), &base).unwrap();
    // As root (CI), the link is made another user's, as a planted one would be.
    let _ = rustix::fs::chownat(
        rustix::fs::CWD,
        &base,
        Some(rustix::fs::Uid::from_raw(65534)),
        None,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    );
    let mut runbox = s.runbox();
    runbox.cmd.env_clear().env("PATH", "/usr/bin:/bin").env("TMPDIR", tmp.path());
    let run = runbox.args(["run", "--no-history", "Hi.md"]).run();
    assert_eq!(run.stdout, "hi\n", "{}", run.stderr);
    snapshot!("integrity_a_planted_link_at_the_fallback_or_the_log_is_refused", shown(&s, &run));
    assert_eq!(std::fs::read_dir(ours.path()).unwrap().count(), 0, "nothing written where the link led");

    let elsewhere = s.state.path().join("elsewhere.jsonl");
    std::fs::write(&elsewhere, "").unwrap();
    let link = s.state.path().join("linked.jsonl");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let run = s.runbox().env("RUNBOX_LOG", &link.to_string_lossy()).args(["run", "--no-history", "Hi.md"]).run();
    snapshot!("integrity_a_planted_link_at_the_fallback_or_the_log_is_refused_1", shown(&s, &run));
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "");
    let shared = s.state.path().join("shared.jsonl");
    std::fs::write(&shared, "").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o666)).unwrap();
    let run = s.runbox().env("RUNBOX_LOG", &shared.to_string_lossy()).args(["run", "--no-history", "Hi.md"]).run();
    snapshot!("integrity_a_planted_link_at_the_fallback_or_the_log_is_refused_2", shown(&s, &run));
    assert_eq!(std::fs::read_to_string(&shared).unwrap(), "");
}
