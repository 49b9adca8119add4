//! The native tier: real bash, zsh and PowerShell, only with
//! `--allow-native`, confined by the kernel (namespaces, Landlock, no new
//! privileges, rlimits), with the sandbox's env, cwd, output and deadline
//! rules. zsh comes from Debian (`.ci/run` installs it); PowerShell cannot
//! be installed here, so its runner is covered by a fake `pwsh` script put
//! first on PATH.

use serde_json::Value;

use crate::harness::shown;
use crate::harness::{Scratch, Yaml, runbook};
use crate::snapshot;

fn yaml(kind: &str, script: &str, extra: &str) -> String {
    let runbook = Yaml::new("n");
    let runbook = if extra.is_empty() { runbook } else { runbook.field(extra) };
    runbook.step("s", kind, "native: true", script).text()
}

#[test]
fn native_steps_run_only_with_allow_native() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "echo ran", ""));
    for flags in [&[][..], &["--allow-all"][..]] {
        let run = s.runbox().args(["run", "--no-history"]).args(flags).args(["n.yaml"]).run();
        assert_eq!((run.code, run.stdout.as_str()), (126, ""), "{flags:?}");
        snapshot!(format!("native_native_steps_run_only_with_allow_native_{}", flags.len()), shown(&s, &run));
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
echo "home is private: $([ -z "$(ls -A "$HOME")" ] && [ "$TMPDIR" = /tmp ] && echo yes)"
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
            .starts_with("user, mount and PID namespaces, a network namespace of its own")
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
    assert_eq!(
        json["steps"][0]["stdout"],
        format!("{kept}\n[runbox: cut stdout at 65536 bytes: the step's output limit]\n")
    );
    assert_eq!(json["steps"][0]["stdout_truncated"], true);
}

/// zsh runs `#! /bin/zsh` scripts natively, from markdown too.
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
    // Without --json too, the reason is on stderr.
    let run = s.runbox().env("PATH", &bin.path().to_string_lossy()).args(["run", "--allow-native", "P.md"]).run();
    assert_eq!(run.code, 127);
    snapshot!("native_powershell_steps_run_pwsh_or_say_it_is_missing", shown(&s, &run));
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

/// A step cannot re-point a mount of its working directory (it is a mount
/// point, not a link), so the next step and the sandbox see the real one.
#[test]
fn a_step_cannot_repoint_an_output() {
    let s = Scratch::new();
    let yaml = "name: r\npermissions:\n  write: [./out]\nsteps:\n  - name: a\n    type: bash\n    native: true\n    with: { inline_script: 'rm -r out 2>/dev/null || echo \"out is a mount\"; ln -sT /etc out 2>/dev/null || echo \"out stays\"' }\n  - name: b\n    type: bash\n    native: true\n    with: { inline_script: 'echo ok > out/b.txt && cat out/b.txt' }\n  - name: c\n    type: sh\n    with: { inline_script: 'cat out/b.txt' }\n";
    s.write("r.yaml", yaml);
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "r.yaml"]).run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "out is a mount\nout stays\nok\nok\n"), "{}", run.stderr);
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

/// A native step has no terminal: a session of its own, no `/dev/tty`,
/// and TIOCSTI and TIOCLINUX refused by its system-call filter even on a
/// descriptor it holds, so it cannot push keystrokes into the user's shell
/// (which would run them unconfined once runbox exits).
#[test]
fn a_native_step_cannot_reach_the_terminal() {
    let s = Scratch::new();
    let script = r#"python3 - <<'EOF'
import fcntl, os, termios
try:
    fd = os.open('/dev/tty', os.O_RDWR)
    fcntl.ioctl(fd, termios.TIOCSTI, b'#')
    print('injected into the terminal')
except OSError as e:
    print('no terminal:', os.strerror(e.errno))
fd = os.open('/dev/null', os.O_RDWR)
for name, request in [('TIOCSTI', termios.TIOCSTI), ('TIOCLINUX', 0x541C)]:
    try:
        fcntl.ioctl(fd, request, b'#')
        print(name, 'allowed')
    except OSError as e:
        print(name, os.strerror(e.errno))
tty_nr = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[4])
print('controlling terminal:', tty_nr or 'none')
EOF"#;
    s.write("n.yaml", &yaml("bash", script, ""));
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "n.yaml"]).on_terminal("");
    let out = run.stdout.replace("\r\n", "\n");
    assert!(
        out.contains(
            "no terminal: No such file or directory\nTIOCSTI Operation not permitted\nTIOCLINUX Operation not permitted\ncontrolling terminal: none\n"
        ),
        "{out}"
    );
}

/// No host service exists for a native step: a UNIX socket it can name (a
/// tmux server, D-Bus, docker.sock, an ssh-agent) is not there, nor is the
/// host's /run, another user's file or the user's own home; what it sees
/// is the system's programs read-only, its mounts, its own /tmp, an empty
/// HOME and a minimal /dev.
#[test]
fn a_native_step_sees_no_host_socket_or_file_beyond_its_mounts() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().unwrap();
    let socket = outside.path().join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let script = format!(
        r#"python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('{socket}'); print('connected')" 2>/dev/null || echo "no socket"
ls -A / | tr '\n' ' '; echo
ls -A /dev | tr '\n' ' '; echo
ls -A /run | tr '\n' ' '; echo
echo "home [$(ls -A "$HOME")] writable $(touch "$HOME/x" && echo yes) tmp $TMPDIR"
echo x > /usr/planted 2>/dev/null || echo "system read-only"
ls /proc/1/exe >/dev/null && echo "own /proc""#,
        socket = socket.display()
    );
    s.write("n.yaml", &yaml("bash", &script, "permissions:\n  write: [./out]\n"));
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "n.yaml"]).run();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}{}", run.stdout, run.stderr);
    assert_eq!(lines[0], "no socket");
    assert!(listener.accept().is_err(), "the step reached the socket");
    let home = std::env::var("HOME").unwrap();
    let top = home.trim_start_matches('/').split('/').next().unwrap().to_string();
    let mut expected: Vec<&str> = vec!["bin", "dev", "etc", "lib", "proc", "run", "sbin", "tmp", "usr", "work"];
    for optional in ["lib32", "lib64", "libx32"] {
        if std::path::Path::new("/").join(optional).exists() {
            expected.push(optional);
        }
    }
    if !expected.contains(&top.as_str()) {
        expected.push(&top);
    }
    expected.sort();
    let mut seen: Vec<&str> = lines[1].split_whitespace().collect();
    seen.sort();
    assert_eq!(seen, expected);
    assert_eq!(lines[2], "fd full null random shm stderr stdin stdout urandom zero ");
    assert_eq!(lines[3], "runbox ");
    assert_eq!(lines[4], "home [] writable yes tmp /tmp");
    assert_eq!(lines[5], "system read-only");
    assert_eq!(lines[6], "own /proc");
}

/// runbox follows no link a step planted: a step that replaces a folder of
/// its working directory with a link to a host folder it may not write
/// (here `./a`, above the declared `./a/b`) makes runbox create nothing
/// there before the next step, confined or not.
#[test]
fn runbox_follows_no_link_a_step_planted() {
    for flag in ["--allow-native", "--allow-native=unconfined"] {
        let s = Scratch::new();
        let victim = tempfile::tempdir().unwrap();
        let yaml = "name: r\npermissions:\n  write: [./a/b]\n  env: [VICTIM]\nsteps:\n  - name: plant\n    type: bash\n    native: true\n    on_error: continue\n    with: { inline_script: 'rm -rf a 2>/dev/null; ln -s \"$VICTIM\" a 2>/dev/null; true' }\n  - name: next\n    type: bash\n    native: true\n    on_error: continue\n    with: { inline_script: 'echo next' }\n  - name: sandboxed\n    type: sh\n    with: { inline_script: 'echo ok > a/b/f.txt && cat a/b/f.txt' }\n";
        s.write("r.yaml", yaml);
        let run = s
            .runbox()
            .env("VICTIM", &victim.path().to_string_lossy())
            .args(["run", "--no-history", flag, "r.yaml"])
            .run();
        let planted: Vec<_> = std::fs::read_dir(victim.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(planted, Vec::<std::ffi::OsString>::new(), "{flag}: runbox wrote through the link: {}", run.stderr);
        // Confined, the step could not even remove its mount; unconfined,
        // it broke its own working directory, and runbox refuses to link
        // through what it left.
        if flag == "--allow-native" {
            assert_eq!(run.stdout, "next\nok\n", "{}", run.stderr);
            assert_eq!(s.read("a/b/f.txt"), "ok\n");
        } else {
            snapshot!("native_runbox_follows_no_link_a_step_planted", shown(&s, &run));
        }
    }
}

/// Only stdin, stdout and stderr reach a step: a descriptor runbox
/// inherited without close-on-exec (a CI agent's, a wrapper's `exec
/// 7<file`) does not, so the step cannot read through it what its
/// confinement refuses.
#[test]
fn inherited_descriptors_do_not_reach_a_native_step() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "PLANTED-INHERITED-SECRET\n").unwrap();
    s.write("n.yaml", &yaml("bash", "cat <&7 2>/dev/null || echo 'fd 7 closed'\nls /proc/self/fd | tr '\\n' ' '", ""));
    let mut run = s.runbox().args(["run", "--no-history", "--allow-native", "n.yaml"]);
    let program = run.cmd.get_program().to_os_string();
    let args: Vec<_> = run.cmd.get_args().map(|a| a.to_os_string()).collect();
    let mut wrapper = std::process::Command::new("bash");
    wrapper.arg("-c").arg("exec 7<\"$0\"; exec \"$@\"").arg(&secret).arg(program).args(args);
    for (k, v) in run.cmd.get_envs() {
        if let Some(v) = v {
            wrapper.env(k, v);
        }
    }
    wrapper.current_dir(s.path());
    run.cmd = wrapper;
    let run = run.run();
    assert!(!run.stdout.contains("PLANTED"), "{}", run.stdout);
    // 0, 1, 2 and the one `ls` opens to list them.
    assert_eq!(run.stdout, "fd 7 closed\n0 1 2 3 ", "{}", run.stderr);
}

/// System calls a step never needs are refused by its filter: new user
/// namespaces (which would shed its limits), keyrings, BPF, userfaultfd,
/// io_uring, perf events, ptrace.
#[cfg(target_arch = "x86_64")]
#[test]
fn a_native_step_is_refused_what_it_never_needs() {
    let s = Scratch::new();
    let script = r#"unshare --user true 2>/dev/null && echo "new user namespace" || echo "no user namespace"
python3 - <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for name, number in [('keyctl', 250), ('bpf', 321), ('userfaultfd', 323), ('io_uring_setup', 425), ('perf_event_open', 298), ('ptrace', 101)]:
    result = libc.syscall(number, 0, 0, 0, 0, 0)
    print(name, os.strerror(ctypes.get_errno()) if result == -1 else 'allowed')
EOF"#;
    s.write("n.yaml", &yaml("bash", script, ""));
    let run = s.runbox().args(["run", "--no-history", "--allow-native", "n.yaml"]).run();
    assert_eq!(
        run.stdout,
        "no user namespace\nkeyctl Operation not permitted\nbpf Operation not permitted\nuserfaultfd Operation not permitted\nio_uring_setup Operation not permitted\nperf_event_open Operation not permitted\nptrace Operation not permitted\n",
        "{}",
        run.stderr
    );
}

/// A fork bomb ends at the step's process limit, not the host's: forks fail
/// past it, the deadline ends the rest, and the record says which bounds
/// held.
#[test]
fn a_fork_bomb_ends_at_the_steps_process_limit() {
    let s = Scratch::new();
    // First a harmless step: where no bound holds (root without a pids
    // control group), the test fails here instead of bombing the machine.
    s.write("probe.yaml", &yaml("bash", "true", ""));
    let probe = s.runbox().args(["run", "--json", "--no-history", "--allow-native", "probe.yaml"]).run().json();
    let confinement = probe["steps"][0]["confinement"].as_str().unwrap().to_string();
    assert!(confinement.contains("at most 1024 processes"), "{confinement}");
    s.write("n.yaml", &yaml("bash", "bomb() { bomb | bomb & }; bomb; sleep 30", ""));
    let run = s.runbox().args(["run", "--json", "--allow-native", "--timeout", "4s", "n.yaml"]).run();
    let json = run.json();
    assert_eq!(json["steps"][0]["error"]["code"], "Timeout", "{json:#}");
    assert!(json["steps"][0]["stderr"].as_str().unwrap().contains("Resource temporarily unavailable"), "{json:#}");
    let confinement = json["steps"][0]["confinement"].as_str().unwrap();
    assert!(confinement.contains("at most 1024 processes"), "{confinement}");
}

/// A grant of the host's /dev or /proc is not mounted over the step's own:
/// the host's terminals would be back.
#[test]
fn a_grant_over_the_steps_own_dev_or_proc_is_refused() {
    let s = Scratch::new();
    s.write("n.yaml", &yaml("bash", "ls /dev/pts", "permissions:\n  read: [/dev]\n"));
    let run = s.runbox().args(["run", "--json", "--allow-native", "--allow-read", "/dev", "n.yaml"]).run();
    let json = run.json();
    assert_eq!(json["stdout"], "", "{json:#}");
    let message = json["steps"][0]["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "runbox: cannot confine the native step: /dev cannot be mounted for a native step: the step has a /dev of its own; run it unconfined only if you trust it, with --allow-native=unconfined"
    );
}

/// Where the user's home path cannot be the step's HOME (here it lies in a
/// read-only grant of /home), the step still gets an empty, writable HOME
/// of its own, in a place no grant can cover.
#[test]
fn a_home_inside_a_grant_falls_back_to_a_private_one() {
    let s = Scratch::new();
    let script = "echo \"$HOME\"; [ -z \"$(ls -A \"$HOME\")\" ] && touch \"$HOME/f\" && echo writable";
    s.write("n.yaml", &yaml("bash", script, "permissions:\n  read: [/home]\n"));
    let run = s
        .runbox()
        .env("HOME", "/home/runbox-test-user")
        .args(["run", "--no-history", "--allow-native", "--allow-read", "/home", "n.yaml"])
        .run();
    assert_eq!((run.code, run.stdout.as_str()), (0, "/run/runbox/home\nwritable\n"), "{}", run.stderr);
}
