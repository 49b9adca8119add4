//! What a run says when no one watches a terminal: a CI log. One line per
//! step start and end, a failed step's error with its file and line, a
//! summary; GitHub Actions groups and annotations; `--quiet`, `--color` and
//! ASCII markers; limits that say how to raise them; shell errors at the
//! runbook's own lines. Every output is compared whole.

use crate::harness::{Scratch, runbook, shown};
use crate::snapshot;

const STEPS: &str = "```sh {name=prepare}\necho preparing\n```\n\n```sh {name=count timeout=300ms}\necho counting\nsleep 5\n```\n\n```js {name=after}\nconsole.log('after')\n```";

fn deploy(s: &Scratch) {
    s.write("Deploy.md", &runbook("Deploy", "", &[], &[], STEPS));
}

#[test]
fn a_ci_log_says_which_step_ran_which_failed_and_why() {
    let s = Scratch::new();
    deploy(&s);
    let run = s.runbox().args(["run", "--no-history", "Deploy.md"]).run();
    snapshot!("ci_log_failed_run", shown(&s, &run));
    s.write("Pass.md", &runbook("Pass", "", &[], &[], "```sh {name=hello}\necho hello\n```"));
    let run = s.runbox().args(["run", "--no-history", "Pass.md"]).run();
    snapshot!("ci_log_passed_run", shown(&s, &run));
}

#[test]
fn github_actions_gets_groups_and_an_annotation_and_no_commands_from_the_runbook() {
    let s = Scratch::new();
    std::fs::create_dir(s.join("ops")).unwrap();
    // The runbook's output tries to write GitHub workflow commands of its own.
    let steps = "```sh {name=lo|ud<b>}\necho '::error::planted'\necho '::endgroup::'\nprintf 'left open'\n```\n\n```sh {name=fails}\nprintf 'to stderr' >&2\nexit 3\n```";
    s.write("ops/Fail.md", &runbook("Fail", "", &[], &[], steps));
    let summary = s.state.path().join("step-summary.md");
    let run = s
        .runbox()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", s.path().to_str().unwrap())
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args(["run", "--no-history", "ops/Fail.md"])
        .run();
    snapshot!("ci_log_github_actions", shown(&s, &run));
    // The job's summary page: a table, the runbook's text kept to its cells.
    snapshot!("ci_log_github_step_summary", std::fs::read_to_string(&summary).unwrap());
    // A runbook that is not valid: each problem on its line.
    s.write("ops/Broken.md", "# Broken\n\n# Script\n```js\nreturn 1\n```\n");
    let run = s
        .runbox()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", s.path().to_str().unwrap())
        .args(["run", "--no-history", "ops/Broken.md"])
        .run();
    snapshot!("ci_log_github_actions_invalid", shown(&s, &run));
}

#[test]
fn quiet_prints_the_steps_output_and_errors_only() {
    let s = Scratch::new();
    deploy(&s);
    let run = s.runbox().args(["run", "--quiet", "--no-history", "Deploy.md"]).run();
    snapshot!("ci_log_quiet_failed", shown(&s, &run));
    s.write("Pass.md", &runbook("Pass", "", &[], &[], "```sh {name=hello}\necho hello\n```"));
    let run = s.runbox().args(["run", "-q", "--no-history", "Pass.md"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "hello\n", ""));
}

#[test]
fn markers_are_ascii_without_a_utf8_locale_and_colour_is_never_piped_unasked() {
    let s = Scratch::new();
    s.write("Pass.md", &runbook("Pass", "", &[], &[], "```sh {name=hello}\necho hello\n```"));
    let run = s.runbox().env("LANG", "C").args(["run", "--no-history", "Pass.md"]).run();
    snapshot!("ci_log_ascii", shown(&s, &run));
    let dumb = s.runbox().env("TERM", "dumb").args(["run", "--no-history", "Pass.md"]).run();
    let markers = |text: &str| text.lines().map(|l| l.split(" in ").next().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(markers(&dumb.stderr), markers(&run.stderr));
    // Auto colour never reaches a pipe; `always` does, and `never` wins over a terminal.
    for color in ["auto", "never"] {
        let run = s.runbox().args(["run", "--no-history", "--color", color, "Pass.md"]).run();
        assert!(!run.stderr.contains('\x1b'), "{color}: {}", run.stderr);
    }
    let run = s.runbox().args(["run", "--no-history", "--color", "always", "Pass.md"]).run();
    snapshot!("ci_log_color_always", shown(&s, &run));
    let run = s.runbox().env("NO_COLOR", "1").args(["run", "--no-history", "Pass.md"]).on_terminal("");
    assert!(!run.stdout.contains("\x1b[3"), "NO_COLOR on a terminal: {}", run.stdout);
    let run = s.runbox().args(["run", "--no-history", "Pass.md"]).on_terminal("");
    snapshot!("ci_log_markers_are_ascii_without_a_utf8_locale_and_colour_is_never_piped_unasked", shown(&s, &run));
}

#[test]
fn a_limit_names_the_step_its_line_and_how_to_raise_it() {
    let s = Scratch::new();
    s.write(
        "limits.yaml",
        "name: Limits\nsteps:\n  - name: spin\n    type: js\n    with:\n      fuel: 1000000\n      inline_script: |\n        for (;;) {}\n",
    );
    let run = s.runbox().args(["run", "--json", "limits.yaml"]).run();
    let report = run.json();
    assert_eq!(
        report["steps"][0]["error"]["message"],
        "step `spin` (limits.yaml:8) used up its fuel (1000000 units); raise it with fuel: under the step's with: or --fuel"
    );
    let run = s.runbox().args(["run", "--json", "--memory", "16MiB", "limits.yaml"]).run().json();
    assert_eq!(run["steps"][0]["error"]["code"], "OutOfFuel");
    let run = s.runbox().args(["run", "--json", "--fuel", "2000000", "limits.yaml"]).run().json();
    assert_eq!(
        run["steps"][0]["error"]["message"],
        "step `spin` (limits.yaml:8) used up its fuel (2000000 units); raise --fuel, which overrides the step's own fuel"
    );
    s.write("Loud.md", &runbook("Loud", "", &[], &[], "```sh {name=loud output=1KiB}\nseq 1 100000\n```"));
    let run = s.runbox().args(["run", "--json", "--no-history", "Loud.md"]).run().json();
    assert_eq!(
        run["steps"][0]["error"]["message"],
        "step `loud` (Loud.md:17) wrote more than 1024 bytes to stdout; raise it with output=… on the step's code fence or --max-output"
    );
}

#[test]
fn a_shell_error_is_at_the_runbook_files_line() {
    let s = Scratch::new();
    let steps = "```sh {name=a}\necho one\nset -u\necho \"$missing\"\n```\n\n```sh {name=b}\necho two\nif then\n```";
    s.write("E05.md", &runbook("E05", "", &[], &[], steps));
    let run = s.runbox().args(["run", "--json", "--no-history", "E05.md"]).run().json();
    assert_eq!(run["steps"][0]["stderr"], "E05.md: line 19: missing: unbound variable\n");
    s.write(
        "E06.md",
        &runbook("E06", "", &[], &[], &steps.replace("set -u\necho \"$missing\"\n", "echo \"$LINENO\"\n")),
    );
    let run = s.runbox().args(["run", "--json", "--no-history", "E06.md"]).run().json();
    assert_eq!(run["steps"][0]["stdout"], "one\n18\n");
    assert_eq!(
        run["steps"][1]["stderr"],
        "E06.md: line 23: syntax error near unexpected token `then'\nE06.md: line 23: `if then'\n"
    );
}

#[test]
fn bashkit_caps_are_lifted_or_named() {
    let s = Scratch::new();
    // `yes` stopped at 10 000 lines with status 0; word splitting at 100 000 fields.
    let run = s.runbox().args(["sh", "-c", "yes | head -n 20000 | wc -l; set -- $(seq 1 200000); echo $#"]).run();
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "20000\n200000\n", ""));
    let run = s.runbox().args(["sh", "--json", "-c", "f() { f; }; f"]).run().json();
    assert_eq!(run["error"]["code"], "RuntimeError");
    assert_eq!(
        run["error"]["message"],
        "the shell interpreter's fixed limit: maximum function depth exceeded (16); runbox's shell (bashkit) cannot go past it, whatever the step's limits (see docs/shell-compat.md)"
    );
}

#[test]
fn validate_finds_syntax_errors_with_the_guests_parsers() {
    let s = Scratch::new();
    // A native step is its interpreter's to parse: zsh's and PowerShell's
    // syntax is not the sandbox's shell's.
    let steps = "```js {name=broken}\nconst x = ;\n```\n\n```sh {name=shbroken}\necho ok\nif then fi\n```\n\n```sh {name=fine}\necho fine\n```\n\n```zsh {native name=z}\nprint -l ${(s:,:)LIST}\n```\n\n```powershell {name=ps}\nGet-ChildItem | ForEach-Object { $_.Name }\n```";
    s.write("Lint.md", &runbook("Lint", "DB_PASSWORD: the password", &[], &[], steps));
    let run = s.runbox().env_remove("DB_PASSWORD").args(["validate", "Lint.md"]).run();
    snapshot!("validate_syntax", shown(&s, &run));
    let run = s.runbox().env_remove("DB_PASSWORD").args(["validate", "--lint", "--json", "Lint.md"]).run();
    snapshot!("validate_lint_json", shown(&s, &run));
}

#[test]
fn validate_lints_a_folder_without_its_secrets_and_checks_registries() {
    let s = Scratch::new();
    s.samples();
    s.write("README.md", "# About these runbooks\nNot a runbook.\n");
    s.write("Open.md", "# Open\nx\n\n# Environment Requirements\n```yaml\n{}\n```\n\n# File System Requirements\n```yaml\n{}\n```\n\n# Script\n```sh\necho hi\n\n# History\n");
    let run = s
        .runbox()
        .env_remove("GREETING_NAME")
        .env_remove("REQUIRED_KEYS")
        .env_remove("CHILD_VAR")
        .args(["validate", "--lint", "."])
        .run();
    snapshot!("validate_lint_folder", shown(&s, &run));
    // `list` names a broken markdown runbook as broken, and not the README.
    let listed = s.runbox().args(["list"]).run();
    let broken: Vec<&str> = listed.stdout.lines().skip_while(|l| !l.starts_with("Open.md")).take(3).collect();
    assert_eq!(
        broken,
        [
            "Open.md  (broken)",
            "    Open.md:15: this code block is never closed: it runs to the end of the file, hiding every section after it; close it with a line of ``` after its code",
            "    runbox validate Open.md shows every problem"
        ]
    );
    assert!(!listed.stdout.contains("README"), "{}", listed.stdout);
    // A registry whose script changed since it was approved.
    let registry = s.read("registry.yaml");
    let changed = registry.replacen("    sha256: ", "    sha256: 00", 1);
    s.write("registry.yaml", &changed);
    let run = s.runbox().args(["validate", "registry.yaml"]).run();
    snapshot!("validate_registry", shown(&s, &run));
}

#[test]
fn runbox_own_lines_mask_secrets_as_the_records_do() {
    let s = Scratch::new();
    let steps = "```js {name=leak}\nthrow new Error('token is ' + get('API_TOKEN'))\n```";
    s.write("Leak.md", &runbook("Leak", "API_TOKEN: the token", &[], &[], steps));
    let run = s
        .runbox()
        .env("API_TOKEN", "PLANTED-TOKEN-31")
        .env("GITHUB_ACTIONS", "true")
        .args(["run", "--no-history", "Leak.md"])
        .run();
    run.code(1);
    // The step's own stderr is its output, shown live as written; runbox's
    // lines and the annotation are runbox's, and keep no secret.
    let own: Vec<String> = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.starts_with("runbox: ") || l.starts_with("::error"))
        .map(regex_lite_duration)
        .collect();
    assert_eq!(
        own,
        [
            "::error file=Leak.md,line=17,title=runbox%3A step leak failed::RuntimeError: Error: token is ***",
            "runbox: ✗ leak failed in [ms] (exit 1)",
            "runbox: error: Leak.md:17: step `leak`: RuntimeError: Error: token is ***",
            "runbox: ✗ Leak.md failed (exit 1) in [ms]: 1 step: `leak` failed (RuntimeError, exit 1)",
        ]
    );
}

/// `in 1.2ms` / `in 1.20s` as `in [ms]`.
fn regex_lite_duration(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(" in ") {
        out.push_str(&rest[..at + 4]);
        let after = &rest[at + 4..];
        let number = after.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(after.len());
        let unit = if after[number..].starts_with("ms") {
            2
        } else if after[number..].starts_with('s') {
            1
        } else {
            0
        };
        if number > 0 && unit > 0 {
            out.push_str("[ms]");
            rest = &after[number + unit..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn validate_reports_every_problem_of_a_file_at_once() {
    let s = Scratch::new();
    // A typo in one step's `with:` once hid the template and syntax errors
    // of the steps after it until it was fixed.
    s.write(
        "typo.yaml",
        "name: Typo\ninputs:\n  n: { type: int, default: 1 }\nsteps:\n  - name: a\n    type: sh\n    with:\n      inline_scrpit: echo hi\n  - name: b\n    type: sh\n    with:\n      inline_script: echo {{ inputs.m }} {{ steps.a.stdout }}\n  - name: c\n    type: js\n    with:\n      inline_script: \"const x = ;\"\n",
    );
    let run = s.runbox().args(["validate", "typo.yaml"]).run();
    snapshot!("validate_every_problem_at_once", shown(&s, &run));
}

#[test]
fn the_version_names_the_commit_and_the_guests() {
    let s = Scratch::new();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").current_dir(crate::harness::repo()).args(args).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (commit, date) = (git(&["rev-parse", "--short=12", "HEAD"]), git(&["log", "-1", "--format=%cs"]));
    let sha = |guest: &str| {
        let path = crate::harness::repo().join("guests/dist").join(guest);
        let out = std::process::Command::new("sha256sum").arg(path).output().unwrap();
        String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    };
    let short = s.runbox().args(["-V"]).run();
    assert_eq!(short.stdout, format!("runbox {} ({commit} {date})\n", env!("CARGO_PKG_VERSION")));
    let long = s.runbox().args(["--version"]).run();
    assert_eq!(
        long.stdout,
        format!(
            "runbox {} ({commit} {date})\njs guest sha256 {}\nsh guest sha256 {}\n",
            env!("CARGO_PKG_VERSION"),
            sha("runbox-js.wasm"),
            sha("runbox-sh.wasm")
        )
    );
}

/// The completion scripts work in the shells themselves, and the man page
/// renders with man(1).
#[test]
fn completions_complete_in_bash_and_the_man_page_renders() {
    let s = Scratch::new();
    let bash = s.runbox().args(["completions", "bash"]).run();
    s.write("runbox.bash", &bash.stdout);
    let complete = |words: &str, cword: usize, current: &str, previous: &str| {
        let script = format!(
            "source runbox.bash; COMP_WORDS=({words}); COMP_CWORD={cword}; _runbox runbox '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = std::process::Command::new("bash").current_dir(s.path()).args(["-c", &script]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("runbox va", 1, "va", "runbox"), "validate\n");
    assert_eq!(complete("runbox run --col", 2, "--col", "run"), "--color\n");
    let zsh = s.runbox().args(["completions", "zsh"]).run();
    s.write("_runbox", &zsh.stdout);
    let checked = std::process::Command::new("zsh").current_dir(s.path()).args(["-n", "_runbox"]).status().unwrap();
    assert!(checked.success() && zsh.stdout.starts_with("#compdef runbox"), "{}", zsh.stdout);
    let fish = s.runbox().args(["completions", "fish"]).run();
    assert!(
        fish.stdout.contains("complete -c runbox -n \"__fish_runbox_needs_command\" -f -a \"validate\""),
        "{}",
        fish.stdout
    );
    let man = s.runbox().args(["man"]).run();
    s.write("runbox.1", &man.stdout);
    let out = std::process::Command::new("man")
        .current_dir(s.path())
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .args(["-l", "runbox.1"])
        .output()
        .unwrap();
    // man's bold and underline are overstrikes (`N\bN`, `_\bx`): keep the letter.
    let mut page = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            page.pop();
        } else {
            page.push(c);
        }
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for section in ["NAME", "SYNOPSIS", "SUBCOMMANDS", "runbox-validate(1)", "runbox-completions(1)"] {
        assert!(page.contains(section), "{section}:\n{page}");
    }
}
