//! Templates in shell steps, checked against the interpreter itself: for
//! every quoting context after every line that could confuse a lexer, a hostile value must print exactly as the plain
//! word `RBXVAL` prints in its place. Where runbox's template lexer and the
//! shell's parser disagree about where a template stands, the value changes
//! the script's structure and the outputs differ.

use crate::harness::{Scratch, Yaml};

/// Each context prints the value between brackets once (or refuses it).
const CONTEXTS: &[&str] = &[
    "echo [{{ inputs.v }}]",
    "echo \"[{{ inputs.v }}]\"",
    "echo '[{{ inputs.v }}]'",
    "echo x'['{{ inputs.v }}']'",
    "echo \\\"[{{ inputs.v }}]\\\"",
    "echo a#[{{ inputs.v }}]",
    "# a comment: {{ inputs.v }}\necho done",
    "echo \"$(echo \"[{{ inputs.v }}]\")\"",
    "echo \"$(echo '[{{ inputs.v }}]')\"",
    "echo \"$(echo \"$(echo [{{ inputs.v }}])\")\"",
    "echo \"`echo '[{{ inputs.v }}]'`\"",
    "x=${unset:-[{{ inputs.v }}]}; echo \"$x\"",
    "x=\"${unset:-[{{ inputs.v }}]}\"; echo \"$x\"",
    "echo $(( {{ inputs.n }} + 1 )) \"[{{ inputs.v }}]\"",
    "(( y = {{ inputs.n }} * 2 )); echo \"$y\" [{{ inputs.v }}]",
    "cat <<EOF\n[{{ inputs.v }}]\nEOF",
    "cat <<'EOF'\n[{{ inputs.v }}]\nEOF",
    "cat <<\"EOF\"\n[{{ inputs.v }}]\nEOF",
    "cat <<-EOF\n\t[{{ inputs.v }}]\n\tEOF",
    "cat <<EOF; echo after [{{ inputs.v }}]\nbody [{{ inputs.v }}]\nEOF",
    "cat <<< [{{ inputs.v }}]",
    "cat <<< \"[{{ inputs.v }}]\"",
    "cat <<<'[{{ inputs.v }}]'",
    "s=$(tr a-z A-Z <<< \"hello\")\ncat <<'LETTER'\nDear [{{ inputs.v }}],\nLETTER\necho \"$s\"",
    "s=$(cat <<< x)\ncat <<EOF\n[{{ inputs.v }}] $s\nEOF",
    "a=([{{ inputs.v }}] \"[{{ inputs.v }}]\"); echo \"${#a[@]}\" \"${a[0]}\" \"${a[1]}\"",
    "case x in y) echo no;; *) echo \"[{{ inputs.v }}]\";; esac",
    "case \"[{{ inputs.v }}]\" in \\[*) echo bracketed;; *) echo other;; esac",
    "f() { echo \"[{{ inputs.v }}]\"; }; f",
    "if [ -n \"[{{ inputs.v }}]\" ]; then echo '[{{ inputs.v }}]'; fi",
    "for w in [{{ inputs.v }}]; do echo \"$w\"; done",
    "echo \"\\$[{{ inputs.v }}]\"",
    "echo '\\'[{{ inputs.v }}]",
    "echo $'it\\'s' [{{ inputs.v }}]",
    "x=$(cat <<'EOF'\n[{{ inputs.v }}]\nEOF\n); echo \"$x\"",
    "x=\"$(cat <<EOF\n[{{ inputs.v }}]\nEOF\n)\"; echo \"$x\"",
    "echo \"[{{ inputs.v }}]\\\n  continued\"",
    "echo $'a\\tb' \"[{{ inputs.v }}]\" $'\\''",
];

/// Lines before a context that a lexer could lose track in; each runs on
/// its own and prints the same whatever the value.
const PREFIXES: &[&str] = &[
    "",
    "s=$(tr a-z A-Z <<< \"hello\")\n",
    "echo $'it\\'s <<\\'EOF\\''\n",
    "echo \"a'b\" 'c\"d' \\' \\\" \\<<'EOF'\n",
    "# a comment with ' and \" and ` and <<'EOF'\n",
    "cat <<'Z'\n' \" ` $( <<'EOF'\nZ\n",
    "cat <<Z\n$(echo ')') \" '\nZ\n",
    "x=${unset:-'}'}; echo \"$x\"\n",
    "a=( \"(\" ')' ); echo \"${a[1]}\"\n",
    "case x in (x) echo case;; esac\n",
    "(( n = 2 * (3 + 4) )); echo $n $((1 + (2 * 3)))\n",
    "echo ${#HOME} \"${HOME%/*}\" >/dev/null\n",
    "echo a\\\nb\n",
    "echo $((1 << 2)) $(( (1 << 3) >> 1 ))\n",
    "echo \"$(echo \")\")\" '$(' \"${HOME:+)}\" >/dev/null\n",
    "f() {\n  cat <<-'EOF'\n\t$( ' \"\n\tEOF\n}\nf\n",
];

/// Values that would change a script's structure if they were ever code.
const VALUES: &[&str] = &[
    "plain",
    "a  b",
    "$(echo PWNED)",
    "`echo PWNED`",
    "'",
    "\"",
    "\\",
    "}",
    "))",
    "*",
    ";echo PWNED",
    "${HOME}",
    "x\nEOF\necho PWNED",
    "x\nLETTER\necho PWNED",
    "]; echo PWNED; [",
    "$((1+1))",
];

fn runbook() -> String {
    let mut runbook = Yaml::new("Contexts").field("inputs:\n  v: { type: string }\n  n: { type: int, default: 7 }");
    for (i, (prefix, context)) in cases().enumerate() {
        runbook = runbook.step(&format!("c{i}"), "sh", "on_error: continue", &format!("{prefix}{context}"));
    }
    runbook.text()
}

/// Every context after every prefix.
fn cases() -> impl Iterator<Item = (&'static str, &'static str)> {
    PREFIXES.iter().flat_map(|p| CONTEXTS.iter().map(move |c| (*p, *c)))
}

fn steps(s: &Scratch, value: &str) -> Vec<serde_json::Value> {
    let run = s.runbox().args(["run", "--json", "contexts.yaml", "--input", &format!("v={value}")]).run();
    run.json()["steps"].as_array().unwrap().clone()
}

#[test]
fn a_value_prints_where_a_plain_word_prints_in_every_shell_context() {
    let s = Scratch::new();
    s.write("contexts.yaml", &runbook());
    let oracle = steps(&s, "RBXVAL");
    for (step, (prefix, context)) in oracle.iter().zip(cases()) {
        assert_eq!(step["exit_code"], 0, "{prefix:?} + {context:?} runs with a plain word: {step:#}");
    }
    let mut disagreements = Vec::new();
    for value in VALUES {
        for ((plain, step), (prefix, context)) in oracle.iter().zip(steps(&s, value)).zip(cases()) {
            let i = format!("{prefix:?} +");
            let delimiter = ["EOF", "LETTER"]
                .into_iter()
                .find(|d| context.contains(&format!("<<'{d}'")) || context.contains(&format!("<<\"{d}\"")));
            if let Some(d) = delimiter.filter(|d| value.lines().any(|l| l == *d)) {
                // A quoted here-document takes the value as text: one that
                // would end the document is refused, never run.
                let message = step["error"]["message"].as_str().unwrap_or("");
                if !(step["exit_code"] == 2
                    && message.contains(&format!("has a line `{d}`, which would end the here-document")))
                {
                    disagreements.push(format!("{i} {context:?}, value {value:?}: not refused: {step:#}"));
                }
                continue;
            }
            let expected = plain["stdout"].as_str().unwrap().replace("RBXVAL", value);
            if step["stdout"] != expected.as_str() || step["exit_code"] != plain["exit_code"] {
                disagreements.push(format!(
                    "{i} {context:?}, value {value:?}:\n  expected {expected:?}\n  got {:?} (exit {}, stderr {:?})",
                    step["stdout"], step["exit_code"], step["stderr"]
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
}
