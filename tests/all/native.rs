//! The native tier (SPEC §2): real bash, zsh and PowerShell, only with
//! `--allow-native`, confined by the kernel (namespaces, Landlock, no new
//! privileges, rlimits), with the sandbox's env, cwd, output and deadline
//! rules. zsh comes from Debian (`.ci/run` installs it); PowerShell cannot
//! be installed here, so its runner is covered by a fake `pwsh` script put
//! first on PATH.

use serde_json::Value;

use crate::harness::{Scratch, runbook};

fn yaml(kind: &str, script: &str, extra: &str) -> String {
    let script: String = script.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "name: n\n{extra}steps:\n  - name: s\n    type: {kind}\n    native: true\n    with:\n      inline_script: |\n{script}"
    )
}

#[test]
fn native_steps_run_only_with_allow_native() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "echo ran", ""));
    for flags in [&[][..], &["--allow-all"][..]] {
        let run = s.runbox().args(["run", "--no-history"]).args(flags).args(["n.yaml"]).run();
        assert_eq!((run.code, run.stdout.as_str()), (126, ""), "{flags:?}");
        run.stderr_has("run natively: bash (line 8: step `s` runs bash as a real process, confined by the kernel)")
            .stderr_has("grant it with --allow-native, or record consent");
    }
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "n.yaml"]).run();
    assert_eq!(run.stdout, "ran\n", "{}", run.stderr);
    // Consent recorded with `runbox allow` grants it too.
    s.runbox().args(["allow", "n.yaml"]).run().success();
    assert_eq!(s.runbox().args(["run", "--no-history", "n.yaml"]).run().stdout, "ran\n");
}

/// What a native step sees: its declared variables and no others, its
/// arguments, templates as data, `./out` as in the sandbox, PID 1.
#[test]
fn a_native_step_sees_what_a_sandboxed_one_sees() {
    let s = Scratch::new();
    let script = r#"echo "pid $$ arg [$1] mode [$MODE] planted [${PLANTED_HOST_SECRET:-}]"
echo "home is private: $([ "$HOME" = "$TMPDIR" ] && echo yes)"
echo "written" > out/result.txt
cat in/data.txt
exit 3"#;
    let extra = "inputs:\n  who: { type: string }\npermissions:\n  env: [MODE]\n  read: [./in]\n  write: [./out]\n";
    let text = yaml("bash", script, extra)
        .replace("      inline_script", "      args: [\"{{ inputs.who }}\"]\n      inline_script");
    s.write("n.yaml", &text);
    s.write("in/data.txt", "input data\n");
    let run = s
        .runbox()
        .env("MODE", "fast")
        .env("PLANTED_HOST_SECRET", "PLANTED")
        .args(["run", "--json", "--allow-native", "n.yaml", "--input", "who=$(touch pwned); `id` \"x"])
        .run();
    let json: Value = run.json();
    assert_eq!(run.code, 3, "{json:#}");
    assert_eq!(
        json["stdout"],
        "pid 1 arg [$(touch pwned); `id` \"x] mode [fast] planted []\nhome is private: yes\ninput data\n"
    );
    assert_eq!(json["steps"][0]["error"]["code"], "CommandFailed");
    assert!(
        json["steps"][0]["confinement"]
            .as_str()
            .unwrap()
            .starts_with("user and PID namespaces, a network namespace of its own")
    );
    assert_eq!(s.read("out/result.txt"), "written\n");
    assert!(!s.join("pwned").exists());
}

/// The kernel confines it: no planted host file outside its mounts, no
/// write outside its outputs, no TCP port it was not granted.
#[test]
fn a_native_step_is_confined_by_the_kernel() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "PLANTED-HOST-FILE").unwrap();
    let granted = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (granted_port, other_port) = (granted.local_addr().unwrap().port(), other.local_addr().unwrap().port());
    let script = format!(
        r#"cat {secret} 2>/dev/null || echo "read refused"
echo x > {outside}/planted 2>/dev/null || echo "write refused"
echo x > $HOME/../escape 2>/dev/null || echo "temp refused"
(exec 3<>/dev/tcp/127.0.0.1/{granted_port}) 2>/dev/null && echo "granted port open"
(exec 3<>/dev/tcp/127.0.0.1/{other_port}) 2>/dev/null || echo "other port refused""#,
        secret = outside.path().join("secret.txt").display(),
        outside = outside.path().display(),
    );
    s.write("n.yaml", &yaml("bash", &script, ""));
    let run = s
        .runbox()
        .args(["run", "--no-history", "--allow-native", "--allow-net", &format!("127.0.0.1:{granted_port}"), "n.yaml"])
        .run();
    assert_eq!(
        run.stdout, "read refused\nwrite refused\ntemp refused\ngranted port open\nother port refused\n",
        "{}",
        run.stderr
    );
    assert!(!outside.path().join("planted").exists());
}

/// At the deadline the whole tree goes: children, grandchildren, and those
/// that left the process group with setsid.
#[test]
fn the_deadline_ends_every_process_the_step_started() {
    let s = Scratch::new();
    let marker = 3000 + std::process::id() % 1000;
    let script = format!(
        "sleep {marker}.1 &\nsetsid sleep {marker}.2 &\n( sleep {marker}.3 & )\necho started\nsleep {marker}.4"
    );
    s.write("n.yaml", &yaml("bash", &script, ""));
    let run = s.runbox().args(["run", "--json", "--allow-native", "--timeout", "1s", "n.yaml"]).run();
    let json = run.json();
    assert_eq!((run.code, json["steps"][0]["error"]["code"].as_str()), (124, Some("Timeout")), "{json:#}");
    assert_eq!(json["stdout"], "started\n");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let left = std::process::Command::new("pgrep").args(["-f", &format!("sleep {marker}\\.")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout), "", "no sleep outlives the step");

    // The interpreter itself (PID 1 of the step) leaving runbox's process
    // group and session: it still ends at the deadline, and all with it.
    let script = format!("sleep {marker}.5 &\necho started\nexec setsid sleep {marker}.6");
    s.write("n.yaml", &yaml("bash", &script, ""));
    let run = s.runbox().args(["run", "--json", "--allow-native", "--timeout", "1s", "n.yaml"]).run();
    assert_eq!(run.json()["steps"][0]["error"]["code"], "Timeout");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let left = std::process::Command::new("pgrep").args(["-f", &format!("sleep {marker}\\.")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout), "", "no sleep outlives the step");
}

#[test]
fn output_past_the_cap_stops_a_native_step() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "yes runbox", ""));
    let run = s.runbox().args(["run", "--json", "--allow-native", "--max-output", "64KiB", "n.yaml"]).run();
    let json = run.json();
    assert_eq!((run.code, json["steps"][0]["error"]["code"].as_str()), (153, Some("OutputLimit")), "{json:#}");
    // The first 64 KiB, then the sandbox's own truncation line.
    let kept: String = "runbox\n".repeat(64 << 10).chars().take(64 << 10).collect();
    assert_eq!(json["steps"][0]["stdout"], format!("{kept}\n[runbox: stdout truncated at 65536 bytes]\n"));
    assert_eq!(json["steps"][0]["stdout_truncated"], true);
}

/// zsh runs seed 002's `#! /bin/zsh` scripts natively, from markdown too.
#[test]
fn zsh_runs_natively_from_markdown() {
    let s = Scratch::new();
    let script = "```zsh {native}\n#! /bin/zsh\ntypeset -A m\nm[a]=1\necho \"zsh ${ZSH_VERSION%%.*} ${(k)m}\"\n```";
    s.write("Z.md", &runbook("Z", "", &[], &[], script));
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "Z.md"]).run();
    assert!(run.stdout.starts_with("zsh 5 a"), "{}{}", run.stdout, run.stderr);
}

/// PowerShell exists only natively. Missing, it is `CommandNotFound` naming
/// what to install; a fake `pwsh` first on PATH shows how it is run.
#[test]
fn powershell_steps_run_pwsh_or_say_it_is_missing() {
    let s = Scratch::new();
    s.write("P.md", &runbook("P", "", &[], &[], "```powershell\nWrite-Output 'hi'\n```"));
    let bin = tempfile::tempdir().unwrap();
    let run =
        s.runbox().env("PATH", &bin.path().to_string_lossy()).args(["run", "--json", "--allow-native", "P.md"]).run();
    let json = run.json();
    assert_eq!((run.code, json["steps"][0]["error"]["code"].as_str()), (127, Some("CommandNotFound")), "{json:#}");
    if !std::path::Path::new("/usr/local/bin/pwsh").exists() && !std::path::Path::new("/usr/bin/pwsh").exists() {
        assert!(
            json["steps"][0]["error"]["message"].as_str().unwrap().starts_with("pwsh not found: install PowerShell 7+")
        );
    }
    let fake = bin.path().join("pwsh");
    std::fs::write(&fake, "#!/bin/sh\necho \"fake pwsh ran $(basename \"$1\")\"\ncat \"$1\"\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let run = s.runbox().env("PATH", &path).args(["run", "--no-history", "--allow-native", "P.md"]).run();
    assert_eq!(run.stdout, "fake pwsh ran step.ps1\nWrite-Output 'hi'\n", "{}", run.stderr);
}

/// Deterministic mode cannot make a real process repeatable: refused.
#[test]
fn deterministic_mode_refuses_native_steps() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "echo ran", ""));
    let run = s.runbox().args(["run", "--json", "--deterministic", "--allow-native", "n.yaml"]).run();
    let json = run.json();
    assert_eq!(json["steps"][0]["error"]["code"], "PermissionDenied", "{json:#}");
    assert_eq!(json["stdout"], "");
}

/// `--allow-native=unconfined` runs a step where the kernel could not
/// confine it, and the record says there was no confinement.
#[test]
fn unconfined_is_asked_for_by_name_and_recorded() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "echo \"pid is one: $([ $$ -eq 1 ] && echo yes || echo no)\"", ""));
    let run = s.runbox().args(["run", "--json", "--allow-native=unconfined", "n.yaml"]).run();
    let json = run.json();
    assert_eq!(json["stdout"], "pid is one: no\n", "{json:#}");
    assert_eq!(json["steps"][0]["confinement"], "none (--allow-native=unconfined): rlimits and the deadline only");
    let run = s.runbox().args(["run", "--json", "--allow-native", "n.yaml"]).run();
    assert_eq!(run.json()["stdout"], "pid is one: yes\n");
}

/// A step's variables reach it through its environment, never through a
/// command line, which every local user can read in /proc.
#[test]
fn variables_never_appear_on_a_command_line() {
    let s = Scratch::new();
    let extra = "permissions:\n  env: [DB_PASSWORD]\n";
    s.write("n.yaml", &yaml("bash", "sleep 1\necho \"${#DB_PASSWORD}\"", extra));
    let child = s
        .runbox()
        .env("DB_PASSWORD", "PLANTED-ARGV-SECRET")
        .args(["run", "--no-history", "--allow-native", "n.yaml"])
        .spawn();
    let mut seen = Vec::new();
    let until = std::time::Instant::now() + std::time::Duration::from_millis(900);
    while std::time::Instant::now() < until {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
                && String::from_utf8_lossy(&cmdline).contains("PLANTED-ARGV-SECRET")
            {
                seen.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "19\n");
    assert_eq!(seen, Vec::<String>::new());
}

/// A declared `cwd` is relative to the step's working directory, as in the
/// sandbox; one that is not a directory is `InvalidCwd`.
#[test]
fn a_native_step_runs_in_its_declared_cwd() {
    let s = Scratch::new();
    let extra = "permissions:\n  write: [./out]\n";
    s.write(
        "n.yaml",
        &yaml("bash", "pwd -P | sed 's|.*/||'; ls", extra)
            .replace("      inline_script", "      cwd: out\n      inline_script"),
    );
    std::fs::create_dir_all(s.join("out")).unwrap();
    s.write("out/here.txt", "x");
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "n.yaml"]).run();
    assert_eq!(run.stdout, "out\nhere.txt\n", "{}", run.stderr);
    s.write(
        "m.yaml",
        &yaml("bash", "pwd", extra).replace("      inline_script", "      cwd: missing\n      inline_script"),
    );
    let run = s.runbox().args(["run", "--json", "--allow-native", "m.yaml"]).run();
    assert_eq!(run.json()["steps"][0]["error"]["code"], "InvalidCwd");
}

/// A step that re-points a link in the working directory changes nothing
/// for the next: each native step gets the links afresh, and the sandbox
/// reads its own mounts.
#[test]
fn a_relinked_output_is_restored_for_the_next_step() {
    let s = Scratch::new();
    let yaml = "name: r\npermissions:\n  write: [./out]\nsteps:\n  - name: a\n    type: bash\n    native: true\n    with: { inline_script: 'rm out && ln -s /etc out && echo relinked' }\n  - name: b\n    type: bash\n    native: true\n    with: { inline_script: 'echo ok > out/b.txt && cat out/b.txt' }\n  - name: c\n    type: sh\n    with: { inline_script: 'cat out/b.txt' }\n";
    s.write("r.yaml", yaml);
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "r.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "relinked\nok\nok\n"), "{}", run.stderr);
    assert_eq!(s.read("out/b.txt"), "ok\n");
}

/// The directory a native step is confined to is the one runbox opened
/// when the run began, not whatever is at its path when the step starts: a
/// process outside the run that swaps another directory in at that path,
/// again and again while the steps start, never lets a step read it.
#[test]
fn a_directory_swapped_in_at_a_mounts_path_stays_out_of_reach() {
    use std::io::BufRead;
    let s = Scratch::new();
    s.write("data/public.txt", "public\n");
    s.write("b/secret.txt", "PLANTED-SWAPPED-SECRET\n");
    let root = s.path().display().to_string();
    let mut yaml = String::from("name: swap\npermissions:\n  read: [./data]\nsteps:\n");
    yaml += "  - name: ready\n    type: bash\n    native: true\n    with: { inline_script: 'echo ready' }\n";
    for i in 0..100 {
        yaml += &format!(
            "  - name: s{i}\n    type: bash\n    native: true\n    with: {{ inline_script: 'cat data/secret.txt {root}/data/secret.txt {root}/b/secret.txt {root}/tmp/secret.txt 2>/dev/null; true' }}\n"
        );
    }
    s.write("swap.yaml", &yaml);
    let mut child = s.runbox().args(["run", "--no-history", "--allow-native", "swap.yaml"]).spawn();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "ready\n");
    // The run holds ./data now; swap b in at its path, and back, until it ends.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (done, root) = (done.clone(), s.path().to_path_buf());
        std::thread::spawn(move || {
            let at = |name: &str| root.join(name);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::fs::rename(at("data"), at("tmp")).unwrap();
                std::fs::rename(at("b"), at("data")).unwrap();
                std::fs::rename(at("data"), at("b")).unwrap();
                std::fs::rename(at("tmp"), at("data")).unwrap();
            }
        })
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(status.success(), "{rest}");
    assert_eq!(rest, "", "a step read the directory swapped in");
}

/// `runbox` copied somewhere on its own, without `runbox-native` beside
/// it, confines native steps itself (`runbox __native`).
#[test]
fn runbox_alone_is_its_own_helper() {
    let s = Scratch::new();
    let bin = tempfile::tempdir().unwrap();
    let alone = bin.path().join("runbox");
    std::fs::copy(env!("CARGO_BIN_EXE_runbox"), &alone).unwrap();
    assert!(!bin.path().join("runbox-native").exists());
    s.write("n.yaml", &yaml("bash", "cat /etc/shadow 2>/dev/null || echo refused; echo pid $$", ""));
    let run = s.runbox_at(&alone).args(["run", "--no-history", "--allow-native", "n.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "refused\npid 1\n"), "{}", run.stderr);
}

/// Where the kernel cannot make the step's namespaces (here: inside a user
/// namespace that allows no more of them), the step is refused, saying why
/// and naming the way out; `--allow-native=unconfined` runs it.
#[test]
fn a_step_the_kernel_cannot_confine_is_refused() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "echo ran", ""));
    let runbox = env!("CARGO_BIN_EXE_runbox");
    let inside = |flag: &str| {
        let script = format!(
            "echo 0 > /proc/sys/user/max_user_namespaces && exec '{runbox}' run --json --no-history {flag} n.yaml"
        );
        let mut cmd = s.runbox();
        cmd.cmd = std::process::Command::new("unshare");
        cmd.cmd.args(["--user", "--map-root-user", "sh", "-c", &script]);
        // The same variables and folder as the harness gives runbox.
        let base = s.runbox();
        for (k, v) in base.cmd.get_envs() {
            if let Some(v) = v {
                cmd.cmd.env(k, v);
            }
        }
        cmd.cmd.current_dir(s.path());
        cmd.run()
    };
    let refused = inside("--allow-native");
    let json = refused.json();
    assert_eq!(refused.code, 126, "{json:#}");
    assert_eq!(json["steps"][0]["error"]["code"], "PermissionDenied");
    let message = json["steps"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("allows no more user namespaces"), "{message}");
    assert!(message.ends_with("run it unconfined only if you trust it, with --allow-native=unconfined"), "{message}");
    assert_eq!(json["stdout"], "");
    let unconfined = inside("--allow-native=unconfined");
    assert_eq!((unconfined.code, unconfined.json()["stdout"].as_str()), (0, Some("ran\n")));
}
