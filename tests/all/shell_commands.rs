//! Commands shell steps reach for besides the text tools, each compared
//! with the host's (Debian's bash 5.2, util-linux getopt, GNU expr and
//! coreutils, jq 1.6) on the same scripts: status, stdout and stderr. Where
//! the reference writes stdout and stderr interleaved, the scripts keep
//! them apart (bashkit gives a command's stderr after its stdout).

use crate::harness::{Scratch, same_as_gnu};

#[test]
fn getopt_is_util_linux_getopt() {
    let s = Scratch::new();
    same_as_gnu(
        &s,
        &[
            r#"getopt -o ab:c:: -l long,arg:,opt:: -n myprog -- -a -bval -c --long --arg=v1 --opt --opt=o2 file1 "it's" -- -x"#,
            "getopt ab: -a -b x y",
            "getopt -o a -n p -- -z --nope --lo 2>/dev/null; echo $?",
            "getopt -o a -n p -- -z --nope --lo 2>&1 >/dev/null",
            "getopt -o ab: -- -b 2>&1 >/dev/null; echo $?",
            "getopt -o a -l all,alpha -- --al 2>&1 >/dev/null",
            "getopt -o a -l arg: -- --arg 2>&1 >/dev/null",
            "getopt -o +a -- x -a",
            "getopt -T; echo $?",
            "getopt -q -o a -- -z; echo $?",
            "getopt -Q -o a -- -z -a 2>&1; echo $?",
            "getopt -a -o a -l long: -- -long v",
            "getopt -u -o ab: -- -a -b 'x y' z",
            "getopt",
            "getopt -o a: -- -a ''",
            "getopt --options=hv --longoptions=help,verbose,file: --name=tool -- --verb --file=/tmp/x -h rest",
            r#"eval set -- "$(getopt -o f:v -l file:,verbose -- -v --file a.txt b c)"
               while true; do case "$1" in -f|--file) echo "file=$2"; shift 2;; -v|--verbose) echo verbose; shift;; --) shift; break;; esac; done
               echo "rest=$*""#,
        ],
    );
}

#[test]
fn expr_is_gnu_expr() {
    let s = Scratch::new();
    same_as_gnu(
        &s,
        &[
            r"expr \( 1 + 2 \) \* 3",
            "expr 0 + 0",
            "expr a : b",
            r"expr abc123 : '[a-z]*\([0-9]*\)'",
            "expr abc : 'a.*'",
            r#"expr length "hello world""#,
            "expr substr hello 2 3",
            "expr index hello lo",
            r"expr 10 \< 9",
            r"expr a \< b",
            r"expr '' \| x",
            "expr 1 / 0",
            "expr 1 +",
            "expr a + 1",
            "expr 5 % 3 - 1",
            r"expr \( 1",
            "expr 1 2",
            r"expr 3 \> 2 \& 0",
            "expr 007 + 1",
            r"expr -5 \* -5",
            "expr 9223372036854775807 + 1",
            r"expr match abc 'a\(b\)'",
            r#"expr "$((3+4))" = 7"#,
            r"i=0; while [ $(expr $i \< 3) -eq 1 ]; do i=$(expr $i + 1); done; echo $i",
            "expr",
        ],
    );
}

/// jq is jaq (bashkit's `jq` feature) and answers as Debian's jq on the
/// filters ops scripts use; docs/shell-compat.md lists where it does not
/// (key order after `del`, `1.0` kept as written, error messages).
#[test]
fn jq_answers_as_jq_on_the_filters_scripts_use() {
    let s = Scratch::new();
    s.write(
        "pods.json",
        r#"{"items":[{"metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web"}},"status":{"phase":"Running","restarts":3}},{"metadata":{"name":"db-0","namespace":"prod","labels":{"app":"db"}},"status":{"phase":"Pending","restarts":0}},{"metadata":{"name":"job-x","namespace":"batch","labels":{}},"status":{"phase":"Failed","restarts":7}}],"count":3,"version":"1.2.3","tags":["a","b","c"],"nested":{"x":{"y":null}},"price":12.5,"when":"2024-01-02T03:04:05Z"}"#,
    );
    let filters = [
        ".",
        "-c .",
        "-r .version",
        "-r '.items[].metadata.name'",
        r#"'[.items[] | select(.status.phase == "Running") | .metadata.name]'"#,
        "-c '.items | map({name: .metadata.name, phase: .status.phase})'",
        r#"-r '.items[] | "\(.metadata.namespace)/\(.metadata.name) \(.status.restarts)"'"#,
        "-r '.items[] | [.metadata.name, .status.phase] | @tsv'",
        "-r '.items[] | [.metadata.name, .status.restarts] | @csv'",
        "'[.items[].status.restarts] | add'",
        "'.items | sort_by(.status.restarts) | reverse | .[0].metadata.name'",
        "-c '.items | group_by(.metadata.namespace) | map({ns: .[0].metadata.namespace, n: length})'",
        r#"'.tags | join(",")'"#,
        r#"'.nested.x.y // "default"'"#,
        "-c 'to_entries | map(select(.key | startswith(\"c\")))'",
        "-c '[.items[] | {(.metadata.name): .status.phase}] | add'",
        r#"'.version | split(".") | map(tonumber)'"#,
        "-r '.tags | @base64'",
        "-e '.nested.x.y'",
        "'.when | fromdateiso8601'",
        r#"-c '[.items[].metadata.name | sub("-[0-9]+$"; "")]'"#,
        "-c 'reduce .items[] as $i ({}; .[$i.status.phase] += 1)'",
        "-n --arg name web '$name + \"-1\"'",
        "-n --argjson n 5 '$n + 1'",
        "-S -c '{b: 1, a: 2}'",
        r#"'.items | any(.status.phase == "Failed")'"#,
        r#"-r '.items[] | .metadata.name as $n | .status.phase as $p | "\($n)=\($p)"'"#,
        "-c 'walk(if type == \"number\" then . + 1 else . end) | .count'",
        "-j '.tags[]'",
        r#"'try error("boom") catch .'"#,
        "'.missing.deeper'",
        "-e '.missing'",
    ];
    let scripts: Vec<String> = filters.iter().map(|f| format!("jq {f} pods.json")).collect();
    same_as_gnu(&s, &scripts.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `TZ` names a zone (bashkit's `tzdata` feature), `cp /dev/null` empties a
/// file, and a script bash cannot parse exits 2.
#[test]
fn zones_devices_and_syntax_errors_are_bashs() {
    let s = Scratch::new();
    same_as_gnu(
        &s,
        &[
            "TZ=Asia/Tokyo date -d @0 +%H",
            r#"export TZ=America/New_York; date -d @0 "+%F %T %Z""#,
            r#"TZ=Europe/Berlin date -d "2024-07-01 12:00" +%s"#,
            "printf '%(%Y-%m-%d)T\\n' 86400",
            "echo data > log; cp /dev/null log; wc -c < log",
        ],
    );
    let run = s.runbox().args(["sh", "-c", "echo a\nif then fi"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// HOME, PATH, SHELL and USER are exported, as bash's are (it inherits
/// them): `env`, awk's `ENVIRON` and every command see them, and a
/// script's assignment reaches them too.
#[test]
fn the_login_variables_are_exported() {
    let s = Scratch::new();
    let script = "env | grep -E '^(HOME|PATH|SHELL|USER)=' | sort; awk 'BEGIN { print ENVIRON[\"HOME\"] }'; \
                  HOME=/tmp/h; env | grep '^HOME='; unset USER; env | grep -c '^USER='";
    let run = s.runbox().args(["sh", "-c", script]).run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            1,
            "HOME=/home/runbox\nPATH=/usr/local/bin:/usr/bin:/bin\nSHELL=/bin/bash\nUSER=runbox\n/home/runbox\n\
             HOME=/tmp/h\n0\n",
            ""
        ),
    );
}

/// A command the sandbox does not have is named once, at the step's end,
/// with the tier that runs real tools.
#[test]
fn a_missing_tool_points_to_the_native_tier_once() {
    let s = Scratch::new();
    let run = s.runbox().args(["sh", "-c", "kubectl get pods; psql -c 'select 1'; kubectl version; true"]).run();
    run.success();
    let hints: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("runbox: ")).collect();
    assert_eq!(
        hints,
        ["runbox: `kubectl`, `psql` are not in the sandbox, whose commands are runbox's own; a native step \
          (```bash {native}```, or `native: true` in YAML, run with --allow-native) runs the machine's real tools"],
        "{}",
        run.stderr
    );
}

/// `split` is GNU's (found missing by the real-world corpus: the coreutils
/// book's sections): pieces by lines, bytes, bytes of whole lines and
/// chunks, GNU's suffixes and their widening past `xyz`, messages and
/// statuses.
/// `dirname` as GNU's, `-z` included (bashkit's had none).
#[test]
fn dirname_is_gnu_dirname() {
    let s = Scratch::new();
    same_as_gnu(
        &s,
        &[
            "dirname / // /// a a/ /a /a/ a/b a/b/ a//b// //a ///a/b . .. ../x '' 'a/b/c///' 'é/ü'",
            "dirname -z a/b c | od -c; dirname --zero /x/y/ | od -c; dirname -- -x/y",
            "dirname; echo $?; dirname -q a; echo $?; dirname --bogus a; echo $?",
        ],
    );
}

#[test]
fn split_is_gnu_split() {
    let s = Scratch::new();
    s.write("f.txt", "apple\nbanana\ncherry\ndates\nfig\n");
    let show = "for f in x* p_* part_* in_*; do [ -e \"$f\" ] && echo \"$f: $(tr '\\n' '|' < \"$f\")\"; done; rm -f x* p_* part_* in_*";
    let cases: Vec<String> = [
        "seq 1 2500 | split; wc -l x* | tail -1",
        "split -l 3 f.txt",
        "split -b 7 f.txt p_",
        "split -C 12 f.txt",
        "split -n 3 f.txt",
        "split -n l/3 f.txt",
        "split -n r/2 f.txt",
        "split -n 2/3 f.txt; echo \"rc=$?\"",
        "split -n l/2/3 f.txt; echo \"rc=$?\"",
        "split -dl2 --additional-suffix=.txt f.txt part_",
        "split -a1 -l1 --verbose f.txt",
        "seq 700 | split -l1; ls x* | tail -3; ls x* | wc -l",
        "seq 120 | split -l1 -d; ls x* | tail -2",
        "seq 30 | split -l1 -a1; echo \"rc=$?\"; ls x* | wc -l",
        "split -l 0 f.txt; echo \"rc=$?\"",
        "split -n 9 f.txt -e; ls x* | wc -l",
        "split -x -l2 f.txt",
        "split nope.txt; echo \"rc=$?\"",
        "printf 'a\\nb\\nc\\nd\\n' | split -l2 - in_",
        "seq 2500 | split -n 2 -a 1; ls x*",
        "seq 5 | split -n r/2; seq 5 | split -n 2; echo \"rc=$?\"",
        "split -nr/1/3 f.txt; split -n r/2/2 f.txt; seq 7 | split -n r/3/3; split -n r/1/4294967296 f.txt",
    ]
    .iter()
    .map(|case| format!("{case} 2>&1; {show}"))
    .collect();
    same_as_gnu(&s, &cases.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `csplit` is GNU's: line numbers, `/RE/` and `%RE%` with offsets,
/// `{N}` and `{*}`, `--suppress-matched`, `-z`, `-k`, `-f`, `-b`, `-n`,
/// the sizes it prints, and the removal of its pieces when a pattern fails.
#[test]
fn csplit_is_gnu_csplit() {
    let s = Scratch::new();
    s.write("p.txt", "coffee\ntea\nwashing powder\ncoffee\ntoothpaste\ntea\nsoap\ntea\n");
    let show = "for f in xx* num_*; do [ -e \"$f\" ] && echo \"$f: $(tr '\\n' '|' < \"$f\")\"; done; rm -f xx* num_*";
    let cases: Vec<String> = [
        "seq 10 | csplit - 4",
        "csplit p.txt '/t.*p/'",
        "csplit -q p.txt '%t.*p%'",
        "csplit -q p.txt '/xyz/'; echo \"rc=$?\"",
        "csplit p.txt '/t.*p/1'",
        "csplit p.txt '/t.*p/-2'",
        "csplit p.txt '/t.*p/5'; echo \"rc=$?\"",
        "csplit p.txt '/t.*p/-5'; echo \"rc=$?\"",
        "seq 10 | csplit - 4 '{1}'",
        "csplit p.txt '/paste\\|powder/' '{*}'",
        "seq 10 | csplit -q - 4 '{2}'; echo \"rc=$?\"",
        "csplit -q p.txt '/tea/' '{4}'; echo \"rc=$?\"",
        "seq 7 | csplit -k - 4 '{*}'; echo \"rc=$?\"",
        "seq 5 | csplit --suppress-matched - 3",
        "seq 10 | csplit -q --suppress-matched - 4 '{1}'",
        "csplit -q --suppress-matched p.txt '/soap\\|powder/' '{*}'",
        "csplit -q --suppress-matched p.txt '/coffee\\|tea/' '{*}'; csplit -qz --suppress-matched p.txt '/coffee\\|tea/' '{*}'",
        "seq 4 | csplit -q -f'num_' - 3",
        "seq 4 | csplit -q -n1 - 3; seq 4 | csplit -q -n3 - 3",
        "seq 100 | csplit -q -b'%02x' - 3 '{20}'; ls xx* | tail -2",
        "seq 20 | csplit -q -f'num_' -b'%d.txt' - 3 '{4}'",
        "seq 7 | csplit - 9; seq 7 | csplit - 0; seq 7 | csplit - 4 4; seq 7 | csplit - 4 2; echo \"rc=$?\"",
        "seq 7 | csplit - '%5%' '/2/'; csplit nope.txt 3; csplit p.txt; echo \"rc=$?\"",
        "printf 'a\\nx\\nb\\nx\\nc\\nx\\n' | csplit - '/x/-1' '{*}'",
        "printf 'a\\nx\\nb\\nx\\nc\\nx\\n' | csplit - '/x/1' '{*}'",
        "printf 'x\\nx\\nx\\n' | csplit - '/x/' '{*}'",
    ]
    .iter()
    .map(|case| format!("{case} 2>&1; {show}"))
    .collect();
    same_as_gnu(&s, &cases.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `split` streams: a file larger than the step's memory is split a chunk
/// at a time.
#[test]
fn split_streams_a_file_larger_than_the_steps_memory() {
    let s = Scratch::new();
    let line = "2026-12-05T00:00:00Z GET /api/items 200 10576\n";
    s.write("big.log", &line.repeat((48 << 20) / line.len()));
    let run = s
        .runbox()
        .args(["sh", "--memory", "40MiB", "-c", "split -l 300000 big.log part_ && wc -l part_* && tail -c 46 part_ad"])
        .run();
    let lines = (48 << 20) / line.len();
    let expected = format!(
        "  300000 part_aa\n  300000 part_ab\n  300000 part_ac\n{:>8} part_ad\n{:>8} total\n{line}",
        lines - 900_000,
        lines
    );
    assert_eq!(run.stdout, expected, "{}", run.stderr);
}

/// The hint quotes names a step chose: it must not carry the step's
/// terminal escapes to the user's screen.
#[test]
fn the_native_tier_hint_shows_escapes_not_control_characters() {
    let s = Scratch::new();
    let run = s.runbox().args(["sh", "-c", r"printf '\033]0;pwned\007evil: command not found\n' >&2"]).run();
    let hint = run.stderr.lines().find(|l| l.starts_with("runbox: ")).expect(&run.stderr);
    assert!(hint.starts_with(r"runbox: `\u{1b}]0;pwned\u{7}evil` is not in the sandbox"), "{hint}");
}

/// A checked-out script keeps its executable bit on the mount (WASI has
/// none: the host tells the guest), so `./tool.sh` runs as in bash and a
/// script without the bit is `Permission denied`, 126. A link a step
/// planted to a file off the mount gives nothing away. A read-only
/// mount's files show no write bits.
#[test]
fn scripts_on_the_mounts_run_with_their_host_modes() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let mode =
        |rel: &str, bits: u32| std::fs::set_permissions(s.join(rel), std::fs::Permissions::from_mode(bits)).unwrap();
    s.write("bin/tool.sh", "#!/bin/bash\necho \"tool $1 from $0\"\nexit 3\n");
    mode("bin/tool.sh", 0o755);
    s.write("bin/plain", "echo plain \"$@\"\n");
    mode("bin/plain", 0o750);
    s.write("bin/data.sh", "echo data\n");
    mode("bin/data.sh", 0o640);
    std::os::unix::fs::symlink("/bin/ls", s.join("bin/ls-link")).unwrap();
    same_as_gnu(
        &s,
        &[
            "./bin/tool.sh a; echo \"rc=$?\"",
            "cd bin && ./plain x y; echo \"rc=$?\"; PATH=\"$PWD:$PATH\" plain z",
            "./bin/data.sh 2>/dev/null; echo \"rc=$?\"",
            "bash bin/data.sh; sh bin/data.sh; . bin/data.sh",
            "stat -c '%a %n' bin/tool.sh bin/plain bin/data.sh; test -x bin/plain && echo x",
            "chmod +x bin/data.sh && ./bin/data.sh",
        ],
    );
    let run = s
        .runbox()
        .args(["sh", "-c", "test -e bin/ls-link && echo reached; test -x bin/ls-link || echo not-executable"])
        .run();
    assert_eq!(run.stdout, "not-executable\n", "{}", run.stderr);
    let elsewhere = Scratch::new();
    elsewhere.write("tool.sh", "echo elsewhere\n");
    std::fs::set_permissions(elsewhere.join("tool.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = elsewhere.path().display().to_string();
    let script = format!("{dir}/tool.sh; stat -c %a {dir}/tool.sh");
    let run = s.runbox().args(["sh", "--read", &dir, "-c", &script]).run();
    assert_eq!(run.stdout, "elsewhere\n555\n", "{}", run.stderr);
}

/// A script run from a file finds itself as in bash (`$0`, and
/// `BASH_SOURCE[0]` until its first function call: see
/// docs/shell-compat.md), and `env` says the `PWD` that `$PWD` says (found
/// by the real-world corpus: bash3boilerplate's scenarios).
#[test]
fn a_script_file_finds_itself_and_env_agrees_with_pwd() {
    let s = Scratch::new();
    s.write(
        "tools/where.sh",
        "echo \"[$0] [${BASH_SOURCE[0]}]\"\ncd \"$(dirname \"${BASH_SOURCE[0]}\")\" && echo \"$(basename \"$PWD\")\"\nenv | grep '^PWD='\n",
    );
    let bash = std::process::Command::new("bash").arg("tools/where.sh").current_dir(s.path()).output().unwrap();
    let bash = String::from_utf8_lossy(&bash.stdout).replace(&s.path().display().to_string(), "/work");
    let run = s.runbox().args(["sh", "tools/where.sh"]).run();
    run.success();
    assert_eq!(run.stdout, bash);
    assert_eq!(run.stdout, "[tools/where.sh] [tools/where.sh]\ntools\nPWD=/work/tools\n");
}

/// bc computes in decimals of any length with POSIX's scale rules, as GNU
/// bc 1.07 does (bashkit's own used floats: `1.5 + 2` gave 3, `3.25 * 2`
/// gave 6, `2^100` saturated), with its library, bases, functions and line
/// breaking; `paste -sd+ | bc` sums a long column.
#[test]
fn bc_is_gnu_bc() {
    let s = Scratch::new();
    s.write("prog.bc", "define fact(n) {\n  auto r\n  for (r = 1; n > 1; n--) r *= n\n  return r\n}\nfact(25)\nquit\n");
    s.write("bad.bc", "1 +\n2 + 3\n");
    let sum = (1..=20000).map(|n| n.to_string()).collect::<Vec<_>>().join("\n") + "\n";
    s.write("column.txt", &sum);
    same_as_gnu(
        &s,
        &[
            "echo '1.5 + 2; 3.25 * 2; 10 / 4; 1.50 - 0.25; -1.5 + 1; 0.00; 1.000 * 1; .5 * 2' | bc",
            "echo 'scale=2; 7 / 3 * 100; 7 % 3; 7.5 % 2; -7 % 3; x = 17.5; x / 3; x % 3' | bc",
            "echo '2^100; 2^-2; scale=4; 2^-2; 1.5^2; 1.50^3; -2^2; 2^3^2' | bc",
            "echo '99999999999999999999999999999999999999999999999999999999999999999999999999999999*9' | bc",
            "echo 'length(123.450); scale(123.450); length(0.05); sqrt(16); sqrt(2); scale=30; sqrt(2); 1/3; -1/3' | bc",
            "echo 'obase=16; 255; -255; 10.5; 255.255; obase=2; 5.25; obase=20; 12345; 1.5; obase=10; ibase=16; FF; 1.8' | bc",
            "echo 'e(1); l(10); a(1); a(-1); c(0); s(3.14159); j(0,1); l(0); e(-1); e(100)' | bc -l",
            "echo 'scale=60; 4*a(1); e(10); l(1000000); s(-2); c(100); j(2, 3.5)' | bc -l; echo 'scale=0; e(1)' | bc -l",
            "echo 'x = 2; x++; x; --x; x += 5; x; x ^= 2; x; x %= 7; x; a = 3 < 5; a; 1 == 1 && 2 < 1 || 3; !0; !5' | bc",
            "echo 'x[3] = 5; x[3] + 1; x[1]; last; .+1' | bc",
            "printf 'define f(n) {\\n  if (n < 2) return 1\\n  return n * f(n - 1)\\n}\\nf(30)\\ndefine g(a[]) { a[0] = 9; return a[0] }\\nb[0] = 1; g(b[]); b[0]\\n' | bc",
            "printf 'define k() {\\n  auto a\\n  a = 7\\n  return m()\\n}\\ndefine m() { return a }\\na = 1; k(); m()\\n' | bc",
            "printf 'for (i = 1; i <= 5; i++) {\\n  if (i == 3) continue\\n  print i, \"\\\\t\"\\n}\\nprint \"\\\\n\"; \"raw\\\\n\"\\nwhile (j < 3) { j; j = j + 1; if (j == 2) break }\\n' | bc",
            "printf 'if (0) {\\n 1\\n} else {\\n 2\\n}\\n/* a comment */ 1 + 1 # and another\\n2 \\\\\\n+ 3\\n' | bc",
            "printf '5\\nif (0) quit\\n6\\n' | bc; echo '5; quit' | bc; printf '1\\n2\\nhalt\\n3\\n' | bc",
            "echo 'e(1); 2^300' | BC_LINE_LENGTH=30 bc -l; echo '2^300' | BC_LINE_LENGTH=0 bc",
            "bc prog.bc; bc bad.bc < /dev/null; echo rc=$?; echo '3 4' | bc; echo rc=$?",
            "paste -sd+ column.txt | bc; seq 1 5 | paste -sd'*' | bc",
            "echo 'define void v() { print \"v\\\\n\" }; v()' | bc",
            "echo 'scale=200; obase=2; 1/3; obase=7; 2/3; obase=16; -1/7' | bc",
            "echo 'ibase=36; ZZ; ibase=A; ibase=37; ibase; ibase=1; obase=2147483648; obase' | bc 2>/dev/null",
            "echo 'l(10^500); s(100); c(-7); s(1000); c(12345); scale=5; l(2^-30); e(-50); a(10^30)' | bc -l",
        ],
    );
    // Answers past 10 million digits are refused before they are computed.
    let run = s.runbox().args(["sh", "-c", "echo 'e(10^12); j(2, 10^12); 2^(10^9); scale=10^7; 1' | bc -l"]).run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "",
            "Runtime error (func=(main), adr=0): argument too large (runbox's bc keeps numbers to 10 million digits)\n"
        )
    );
    let run = s.runbox().args(["sh", "-c", "printf 'j(2, 10^12)\\n2^(10^9)\\nscale=10^7\\n1\\n' | bc -l"]).run();
    assert_eq!(
        run.stderr,
        "Runtime error (func=(main), adr=0): argument too large (runbox's bc keeps numbers to 10 million digits)\n\
         Runtime error (func=(main), adr=0): exponent too large in raise\n\
         Runtime error (func=(main), adr=0): scale too large (runbox's bc keeps at most 1000000 digits)\n"
    );
    assert_eq!(run.stdout, "1\n");
    // GNU's runtime messages name a byte-code address runbox's has not.
    let run = s.runbox().args(["sh", "-c", "printf '1/0; 5\\n6\\nsqrt(-1)\\nfoo(1)\\n' | bc"]).run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "6\n",
            "Runtime error (func=(main), adr=0): Divide by zero\n\
             Runtime error (func=(main), adr=0): Square root of a negative number\n\
             Runtime error (func=(main), adr=0): Function foo not defined.\n"
        )
    );
    // Bounded where the guest's stack is: an error for that line, not the step's end.
    let deep = format!("{}1{}\n2\n", "(".repeat(500), ")".repeat(500));
    s.write("deep.bc", &deep);
    let run = s
        .runbox()
        .args(["sh", "-c", "bc deep.bc </dev/null; printf 'define f(n) { if (n == 0) return 0; return 1 + f(n - 1) }\\nf(500)\\nf(5000)\\n7\\n' | bc"])
        .run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "2\n500\n7\n",
            "deep.bc 1: nesting too deep (runbox's bc reads 400 levels of parentheses and blocks)\n\
             Runtime error (func=f, adr=0): calls and expressions nested too deeply (runbox's bc: about 600 recursive calls)\n"
        )
    );
}
