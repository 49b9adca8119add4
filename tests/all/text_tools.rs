//! The text tools runbooks pipe big data through (`cat`, `head`, `tail`,
//! `wc`, `cut`, `tr`, `uniq`, `grep`, `sort`, `sed`) are runbox's own streaming commands:
//! each prints what GNU's prints, with its exit status and messages, on the
//! same multi-megabyte inputs (run beside the host's bash and GNU tools in
//! a UTF-8 locale), and a step passes more data through them than its
//! memory limit holds.

use std::fmt::Write as _;
use std::process::Command;

use crate::harness::Scratch;

/// A web server's log, `lines` lines long, the same on every run: varied
/// addresses, paths, statuses and sizes, some non-ASCII text and tabs.
fn web_log(lines: usize) -> String {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let paths = ["/", "/api/users", "/api/orders", "/static/app.js", "/login", "/health", "/søk?q=naïve", "/metrics"];
    let methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
    let statuses = [200, 200, 200, 200, 200, 200, 301, 304, 404, 500, 503];
    let mut log = String::with_capacity(lines * 110);
    for i in 0..lines {
        let _ = writeln!(
            log,
            "10.{}.{}.{} - - [05/Dec/2026:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.1\" {} {} \"-\" \"curl/8.{}\"\tx={}",
            next(256),
            next(256),
            next(256),
            i / 3600 % 24,
            i / 60 % 60,
            i % 60,
            methods[next(methods.len() as u64) as usize],
            paths[next(paths.len() as u64) as usize],
            statuses[next(statuses.len() as u64) as usize],
            next(50_000),
            next(10),
            next(1_000_000),
        );
    }
    log
}

/// The inputs every comparison reads, in the scratch directory.
fn inputs(s: &Scratch) {
    s.write("log", &web_log(30_000));
    s.write("small", "alpha beta\ngamma\n\n\n\tdelta \u{2003}épsilon\u{a0}zeta\nlast line without a newline");
    s.write("blank", "\n\n\nx\n\n\ny\n");
    s.write("empty", "");
    s.write("crlf", "one\r\ntwo\r\n");
    s.write("controls", "bell\x07 del\x7f esc\x1b tab\t end\n");
    s.write("conf", "# comment\nname = web\nport=8080\n\n[section]\nkey = value # trailing\nHOST=example.com\n");
    std::fs::create_dir_all(s.join("dir")).unwrap();
}

/// Runs each script in bash (the host's GNU tools) and in `runbox sh`, in
/// the scratch directory; every difference in status, stdout or stderr is
/// listed in the failure.
fn same_as_gnu(s: &Scratch, scripts: &[&str]) {
    let mut differences = String::new();
    for script in scripts {
        let gnu =
            Command::new("bash").args(["-c", script]).current_dir(s.path()).env("LC_ALL", "C.UTF-8").output().unwrap();
        let gnu = (
            gnu.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&gnu.stdout).into_owned(),
            String::from_utf8_lossy(&gnu.stderr).into_owned(),
        );
        let run = s.runbox().args(["sh", "-c", script]).run();
        let runbox = (run.code, run.stdout, run.stderr);
        if gnu != runbox {
            let _ = writeln!(differences, "`{script}`:\n  GNU:    {gnu:?}\n  runbox: {runbox:?}");
        }
    }
    assert!(differences.is_empty(), "runbox differs from GNU:\n{differences}");
}

#[test]
fn cat_is_gnu_cat() {
    let s = Scratch::new();
    inputs(&s);
    same_as_gnu(
        &s,
        &[
            "cat log | md5sum",
            "cat small blank empty crlf",
            "cat -n small blank",
            "cat -b blank small",
            "cat -s blank; cat -s blank blank",
            "cat -sn blank",
            "cat -A small crlf controls",
            "cat -e crlf; cat -t controls; cat -v controls; cat -ET small",
            "cat --number --show-ends blank",
            "cat - small < crlf",
            "echo piped | cat small - blank",
            "cat nope small dir; echo status=$?",
            "cat 'a b'; echo status=$?",
            "cat -x small; echo status=$?",
            "cat --bogus; echo status=$?",
            "cat /dev/null; head -c 5 /dev/zero | cat | od -An -c",
        ],
    );
}

#[test]
fn head_and_tail_are_gnus() {
    let s = Scratch::new();
    inputs(&s);
    same_as_gnu(
        &s,
        &[
            "head log",
            "head -n 3 log; head -n3 small; head --lines=2 blank",
            "head -n 0 log; head -c 0 log",
            "head -n -29995 log",
            "head -n -2 small; head -n -1 blank; head -n -0 small",
            "head -c 100 log; head -c 1K log | wc -c; head -c -30 small",
            "head -c 2kB log | wc -c; head -c 1b log | wc -c",
            "head -5 log; head -2c small",
            "head small blank; head -q small blank; head -v small",
            "head -n 1 nope small dir; echo status=$?",
            "head -n x small; echo status=$?",
            "head -c 1Q small; echo status=$?",
            "head -n 1 - small < blank",
            "cat log | head -n 2",
            "yes | head -n 3; echo ${PIPESTATUS[@]}",
            "tail log",
            "tail -n 3 log; tail -n 1 small; tail -n 2 blank; tail -n 0 log",
            "tail -n 50000 log | md5sum",
            "tail -n +29998 log; tail -n +3 small; tail +2 blank",
            "tail -c 50 log; tail -c +40 small; tail -c 3 crlf | od -An -c",
            "tail -3 small; tail -2c small",
            "tail small blank; tail -q small blank; tail -v empty",
            "cat log | tail -n 4; cat log | tail -c 100; cat small | tail -n 2",
            "cat log | tail -n +29999; cat small | tail -c +50",
            "seq 100000 | tail -n 2; seq 100000 | tail -n 20000 | md5sum",
            "tail -n 1 nope small dir; echo status=$?",
            "tail -n y small; echo status=$?",
            "tail -n 2 - small < blank",
        ],
    );
}

#[test]
fn wc_is_gnu_wc() {
    let s = Scratch::new();
    inputs(&s);
    same_as_gnu(
        &s,
        &[
            "wc log",
            "wc -l log; wc -w log; wc -c log; wc -m log; wc -L log",
            "wc small blank empty crlf controls",
            "wc -lw small blank; wc -c small blank",
            "wc -m small; wc -L small; wc --chars --lines small",
            "cat log | wc; cat log | wc -l; cat small | wc -wm",
            "wc nope small; echo status=$?",
            "wc dir small; echo status=$?",
            "wc -c dir; echo status=$?",
            "wc -x; echo status=$?",
            "wc small - < blank",
            "printf 'one two' | wc; printf '' | wc -l",
        ],
    );
}

#[test]
fn cut_tr_and_uniq_are_gnus() {
    let s = Scratch::new();
    inputs(&s);
    s.write("csv", "id,name,team\n1,Ada,core\n2,Linus,kernel\n3,Grace\n4,,ops\nno commas here\n");
    same_as_gnu(
        &s,
        &[
            "cut -d' ' -f1 log | sort | uniq -c | sort -rn | head -5",
            "cut -d' ' -f9 log | sort | uniq -c",
            "cut -f2 log | md5sum; cut -d'\"' -f2 log | cut -d' ' -f1 | sort | uniq -c",
            "cut -d, -f2 csv; cut -d, -f1,3 csv; cut -d, -f2- csv; cut -d, -f-2 csv",
            "cut -d, -f3 -s csv; cut -d, --complement -f2 csv; cut -d, -f1,3 --output-delimiter=' | ' csv",
            "cut -c1-3 small; cut -b 2,4-5 small; cut -c3- small; cut -c1,2-3 --output-delimiter=: small",
            "cut -d, -f 3-2 csv; echo status=$?",
            "cut -d, -f0 csv; echo status=$?",
            "cut -d, -f x csv; echo status=$?",
            "cut csv; echo status=$?",
            "cut -d ab -f1 csv; echo status=$?",
            "cut -b1 -f1 csv; echo status=$?",
            "cut -f1 nope csv; echo status=$?",
            "cut -d, -f2 < csv; echo a:b | cut -d: -f2",
            "tr a-z A-Z < small; tr '[:lower:]' '[:upper:]' < log | md5sum",
            "tr -d '\\r' < crlf | od -An -c; tr -s ' ' < small; tr -s '\\n' < blank",
            "tr -cd '[:digit:]\\n' < csv; tr -d '[:punct:]' < log | md5sum",
            "echo hello | tr hel 'x[y*]'; echo hello | tr -t hel xy; echo abc | tr a-c '[x*2]Z'",
            "echo 'hello world' | tr -s ' ol' '_0L'; echo heLLo | tr '[:upper:][:lower:]' '[:lower:][:upper:]'",
            "printf 'a\\tb\\n' | tr '\\t' ,; printf 'a\\nb\\n' | tr '\\n' ' '; echo '\\101' | tr '\\101' z",
            "tr; echo status=$?",
            "tr a < small; echo status=$?",
            "tr -d a b < small; echo status=$?",
            "tr a b c < small; echo status=$?",
            "tr z-a x < small; echo status=$?",
            "tr a '' < small; echo status=$?",
            "tr a-z '[:upper:]' < small; echo status=$?",
            "tr '[:upper:]' '[:digit:]' < small; echo status=$?",
            "uniq blank; uniq -c blank; uniq -d blank; uniq -u blank; uniq -D blank",
            "cut -d' ' -f9 log | uniq -c | sort -rn | head -3",
            "printf 'a\\nA\\na\\nb\\n' | uniq -i; printf 'x 1\\ny 1\\nz 2\\n' | uniq -f1 -c",
            "printf 'ab1\\nab2\\nac\\n' | uniq -w2; printf '1ab\\n2ab\\n' | uniq -s1 -c; printf 'a\\na' | uniq",
            "uniq blank out; cat out; uniq nope; echo status=$?; uniq a b c; echo status=$?",
            "uniq -c -D blank; echo status=$?",
        ],
    );
}

#[test]
fn grep_is_gnu_grep() {
    let s = Scratch::new();
    inputs(&s);
    s.write("bin", "text\0more\nxa\n");
    s.write("patterns", "POST\n/login\n");
    s.write("tree/a.txt", "alpha\nbeta\n");
    s.write("tree/b.log", "alpha log\n");
    s.write("tree/sub/c.txt", "gamma alpha\n");
    s.write("tree/skip/d.txt", "alpha skipped\n");
    // Not followed by -r (GNU's neither), nor by runbox's -R (a loop would never end).
    std::os::unix::fs::symlink("..", s.join("tree/sub/up")).unwrap();
    same_as_gnu(
        &s,
        &[
            "grep -c POST log; grep POST log | wc -l; grep -v GET log | md5sum",
            "grep ' 50[03] ' log | md5sum; grep -n 'HTTP/1.1\" 404' log | head -3",
            "grep -c -i 'delete\\|put' log; grep -ci -E 'delete|put' log; grep -cF '/søk?q=naïve' log",
            "grep -o 'x=[0-9]*' log | sort | uniq | wc -l; grep -oE '\\[[^]]*\\]' log | head -2",
            "grep -E '^10\\.1[0-9]{2}\\.' log | head -3; grep '^10\\.2[0-9]\\{2\\}\\.' log | wc -l",
            "grep -w GET log | wc -l; grep -x 'gamma' small; grep -e alpha -e gamma small; grep -f patterns log | wc -l",
            "grep -m 2 -n POST log; grep -l POST log small blank; grep -L POST log small blank; echo status=$?",
            "grep -h alpha small small; grep -H alpha small; grep -c '' small blank empty",
            "grep -A 1 -B 2 gamma small; grep -C 1 -n '^x' blank; grep -A1 POST log | head -8",
            "grep -r alpha tree | sort; grep -rl alpha tree --include='*.txt' | sort; grep -r alpha tree --exclude-dir=skip -c | sort",
            "cd tree && grep -rn alpha | sort",
            "grep -r gamma tree | sort",
            "grep more bin; echo status=$?; grep -c more bin; grep -a more bin | od -An -c",
            "grep -q POST log; echo status=$?; grep -q nothing-like-this log; echo status=$?",
            "grep POST nope small dir; echo status=$?; grep -s POST nope; echo status=$?",
            "grep -q alpha nope small; echo status=$?",
            "grep 'a\\{1' small; echo status=$?; grep -E '(' small; echo status=$?; grep '[[:nope:]]' small; echo status=$?",
            "grep -E 'a{1' small; echo status=$?; grep -E '*alpha' small; grep 'a\\+' small | head -2",
            "grep '\\<beta\\>' small; grep 'delta\\b' small; grep -E 'x=9[0-9]{5}$' log | wc -l",
            "grep -o 'b*' small; echo ab | grep -o '' ; echo status=$?",
            "echo piped | grep pip; echo status=$?; printf 'no newline' | grep new",
            "grep; echo status=$?; grep -Z x small; echo status=$?; grep -A x y small; echo status=$?",
            "grep -vc alpha small; grep -vn '' blank; grep -f /dev/null small; echo status=$?",
            "grep -lZ alpha small blank | od -An -c; grep -HZ gamma small | od -An -c; grep -E 'a|*b' small",
            "grep -E '+alpha' small; grep '*alpha' small; echo status=$?; echo POST | grep -f - log | wc -l",
        ],
    );
}

#[test]
fn sort_is_gnu_sort() {
    let s = Scratch::new();
    inputs(&s);
    s.write("nums", "10\n-1\n2.5\n\nabc\n-10\n007\n1e3\n0\n-0\n 3\n");
    s.write("sizes", "1K\n2M\n10\n512\n1G\n3k\n-2K\n");
    s.write("versions", "v1.10\nv1.9\nv1.2\nv1.2a\nv2\nv1.10.1\n");
    s.write("months", "feb x\nJan y\nxyz\nDEC z\n mar\n");
    s.write("people", "ada:core:36\nlinus:kernel:54\ngrace:core:85\nken:unix:81\nbob:core:36\n");
    same_as_gnu(
        &s,
        &[
            "sort log | md5sum; sort -r log | md5sum; sort -u log | wc -l",
            "sort small blank crlf; sort -r small; sort -f small; sort -b small",
            "sort -n nums; sort -rn nums; sort -g nums; sort -un nums",
            "sort -h sizes; sort -hr sizes; sort -V versions; sort -M months",
            "sort -t: -k2,2 -k3,3n people; sort -t: -k3nr people; sort -t: -k2,2 -u people; sort -t: -s -k2,2 people",
            "sort -k2 months; sort -k1.2,1.3 people; sort -t: -k1.2b people; sort -k 2,2 -k 1,1r months",
            "cut -d' ' -f9 log | sort | uniq -c | sort -rn; cut -d' ' -f1 log | sort -t. -k2,2n -k3,3n | head -3",
            "sort -t' ' -k9,9n -k10,10nr log | md5sum; sort -s -k7,7 log | md5sum",
            "sort -c people; echo status=$?; sort -C people; echo status=$?; sort nums | sort -c; echo status=$?",
            "sort -cu blank; echo status=$?; sort -o out people; cat out; sort -o people people; cat people",
            "sort nope; echo status=$?; sort -k0 people; echo status=$?; sort -t ab people; echo status=$?",
            "sort -k1.2x people; echo status=$?; sort -x people; echo status=$?",
            "sort -d controls small; sort -i controls; sort -f -u small blank",
            "printf 'b\\na' | sort; sort empty; sort - small < blank",
        ],
    );
}

#[test]
fn sed_is_gnu_sed() {
    let s = Scratch::new();
    inputs(&s);
    s.write("script.sed", "s/a/A/g\n/^$/d\n$a\\\nthe end\n");
    same_as_gnu(
        &s,
        &[
            // The log-munging forms, over the 30,000-line log.
            "sed -n 's/.*x=\\([0-9]*\\).*/\\1/p' log | sort -n | tail -1; sed -n '$=' log; sed '3q' log",
            "sed -n '/404/p' log | md5sum; sed -E '/\" (404|500) /!d' log | wc -l; sed 'n;d' log | md5sum",
            "sed -E 's/^([0-9]+)\\.([0-9]+)\\.([0-9]+)\\.([0-9]+)/\\4.\\3.\\2.\\1/' log | md5sum",
            "sed -n -E '/\" 5[0-9]{2} /{s/.*\\[([^]]+)\\].*/\\1/;p}' log | tail -3; sed '1~3d' log | wc -l",
            "sed 's|/|_|g;s,x=,X=,;s/\\./[dot]/3' log | md5sum; cat log | sed 's/GET/FETCH/' | tail -1; sed '$!d' log",
            // Substitution: flags, groups, case, escapes, empty matches.
            "sed 's/a/A/' small; sed 's/a/A/g' small blank; sed 's/e/E/2' conf; sed 's/e/E/2g' conf",
            "sed 's/\\(name\\) = \\(.*\\)/\\2 is \\1/' conf; sed -E 's/(.)(.)/\\2\\1/g' conf",
            "sed 's/x*/-/g' small; sed 's/b*/-/g' small; sed 's/a/\\n/g;s/e/\\t/' small",
            "sed 's/.*/\\U&/' conf; sed 's/\\(.\\)\\(.*\\)/\\u\\1\\L\\2/' conf; sed -E 's/(\\w+) = (\\w+)/\\U\\1\\E=\\2/' conf",
            "sed 's/&/and/; s/a/[&]/g; s/b/\\&/' small; sed 's/ALPHA/Z/I' small; sed -n '/ALPHA/Ip' small",
            "sed 's/^[ \\t]*//;s/[ \\t]*$//' small; sed 's/\\s\\+/ /g' small; sed 's/[[:space:]]\\+/_/g' small",
            "sed 's/[[:alpha:]]/a/g' small; sed 's/[[:upper:]]/U/g' small; sed 's/\\w\\+/[&]/g' conf; sed 's/\\<./\\u&/g' conf",
            "sed -E 's/(a|e)+/<&>/g' conf; sed 's/a\\|e/_/g' conf; sed 's/e\\{2,\\}/E/' conf; sed -E 's/e{1,2}/E/g' conf",
            "sed 's/[]]/X/g; s/[/]/Y/' conf; sed 's/\\/x/y/' conf; sed '/x/ s//y/g' conf; sed 's/e//;s//E/' conf",
            "sed 's/=/ = /w out.txt' conf; cat out.txt; sed -n 's/e/E/gpw out3' conf; cat out3",
            "sed 's/a/b/;T;s/$/ changed/' conf; sed 's/=/:/;t done;s/$/ (no =)/;:done' conf",
            // Addresses and ranges.
            "sed '1d;$d' small; sed '/^$/d' blank; sed '2,4!d' conf; sed -n '1~2p' conf; sed '0~2d' conf",
            "sed -n '/\\[section\\]/,/^$/p' conf; sed -n '/\\[section\\]/,$p' conf; sed -n '0,/=/p' conf",
            "sed -n '2,+2p' conf; sed -n '2,~4p' conf; sed '2,1p' conf; sed -n '/name/,2p' conf; sed -n '/key/,/name/p' conf",
            "sed '/name/,+1d' conf; sed '2,/=/d' conf; sed '1,/=/d' conf; sed '0,/=/d' conf; sed -n '4,$!p' conf",
            "sed '1,3{/port/d}' conf; sed -n '/a/{/e/p}' conf; sed '2,3{s/^/> /}' conf; sed '/^#/!s/=/:=/' conf",
            // Multi-line commands, the hold space, branches.
            "sed = small | sed 'N;s/\\n/ /'; sed '$!N;s/\\n/ /' conf; sed -n 'h;n;G;p' conf; sed '1!G;h;$!d' conf",
            "sed ':a;N;$!ba;s/\\n/,/g' conf; sed -e :a -e '$!N;s/\\n//;ta' blank; sed '/^$/N;/\\n$/D' blank",
            "sed '$!N;P;D' blank; sed 'N;N;s/\\n/|/g' conf; sed -n '$!{h;d};x;G;p' conf; sed -e 'b end' -e 's/a/X/' -e ':end' conf",
            "printf 'a\\nb' | sed 'N;P;D'; printf 'a\\nb' | sed -n 'H;${x;p}'; printf 'a\\nb\\nc' | sed 's/$/!/'",
            "sed '/=/{s/ //g\ns/=/: /\n}' conf; sed -n '2,4{/=/c\\\nchanged\np}' conf",
            // Text commands, output commands.
            "sed 'a\\appended' blank; sed '2i\\inserted' conf; sed '/port/c\\port=9090' conf; sed '2,4c\\changed' conf",
            "sed -e 'a\\' -e 'two lines\\' -e 'here' blank; sed '1 i\\   indented' conf; sed '1a hello world' conf",
            "echo aaaa | sed -E 's/a{,2}/X/'; echo one | sed 'a\\  two\\tthree'; printf x | sed 'a foo\\nbar\\\\baz\\qux'",
            "printf x | sed 'a\\y'; printf x | sed p; sed '$a\\---' small; sed -n '/alpha/,/gamma/{=;p}' small",
            "sed -n 'l' small crlf controls; sed -n 'l 10' conf; sed 'l 1' conf; sed -l 5 -n l conf",
            "sed 'r small' blank; sed '1r nosuch' conf; sed 'R small' conf; sed 'F' conf; sed G blank; sed -n 'P' conf",
            "sed 's/=/ /w /dev/stdout' conf; sed 'y/abc/xyz/' small; sed 'y/a\\nb/x y/' conf; sed 'z;s/^$/empty/' conf",
            "sed -n '2{p;q}' conf; echo $?; sed '2q5' conf; echo $?; sed '2Q' conf; sed -n '3{p;q}' log",
            // Options, files, in-place editing.
            "sed -f script.sed small; sed -z 's/\\n/,/g' conf; printf 'x\\0y\\0' | sed -z 's/^/>/' | od -c",
            "sed -s -n '$p' conf small blank; sed -n '$p' conf small blank; sed -s N conf small; sed -s -n 'F;1p' conf - small < blank",
            "sed --expression='s/a/b/' --quiet --expression=p small; sed -ne 's/=/:/p' conf; sed --posix 's/a/b/' small",
            "cp conf e1; sed -i 's/web/api/' e1; cat e1; sed -i.bak '/^#/d' e1; cat e1 e1.bak; ls -A; rm e1 e1.bak",
            "cp conf e1; cp small e2; sed -i -e '1d' e1 e2; cat e1 e2; sed --in-place=.orig 's/web/WEB/' e1; cat e1.orig e1; rm e1 e1.orig e2",
            "cp conf e1; cp small e2; sed -i'bak/*' p e1; echo $?; sed -i N e1 e2; cat e1 e2; ls -A; rm e1 e2",
            // Errors: messages and statuses.
            "sed 's/a/b' conf; echo $?; sed 'k' conf; echo $?; sed -n '/x/{p' conf; echo $?; sed '}' conf; echo $?",
            "sed 's/a/b/x' conf; sed '3!!p' conf; sed 'p x' conf; sed a conf; sed 'y/ab/c/' conf; sed '1:x' conf; echo $?",
            "sed 0p conf; sed 's/\\(a\\)/\\2/' conf; sed s/a/b/gg conf; sed s/a/b/0 conf; sed /abc conf; sed r conf; echo $?",
            "sed 'b nowhere' conf; echo $?; sed '//d' conf; echo $?; sed -f nosuch.sed conf; echo $?",
            "sed p nosuch conf; echo $?; sed p dir; echo $?; sed -i s/x/y/ nosuch; echo $?; sed -i s/x/y/ dir; echo $?",
            "sed -i s/x/y/; echo $?; sed --sandbox 'w x' conf; echo $?; sed -n -e p -e 's/a' conf; echo $?",
            "sed 2>/dev/null; echo $?; sed --bogus 2>&1 | head -2; sed -x 2>&1 | head -2",
            "sed '$d' empty; echo $?; sed = empty; sed -n '/a/,/b/p' empty",
        ],
    );
}

/// What runbox's sed refuses says so, and names the way to run it.
#[test]
fn sed_refuses_what_it_cannot_do_and_says_why() {
    let s = Scratch::new();
    s.write("conf", "aa\n");
    let run = s.runbox().args(["sh", "-c", "sed 'e ls' conf; echo $?; sed 's/\\(a\\)\\1/X/' conf; echo $?"]).run();
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        (
            "1\n1\n",
            "sed: -e expression #1, char 1: the `e' command runs a shell command, which runbox's sed does not do; \
             run the command in the step's script instead\n\
             sed: -e expression #1, char 12: back-references (\\1) are not supported by runbox's grep and sed; \
             run the step natively (--allow-native) for them\n"
        ),
    );
}

/// More data than the step's memory passes through the tools: a pipe
/// between two of them holds 4 KiB, and a file operand is read a chunk at a
/// time. (bashkit's own `cat | wc` held the whole file, twice.)
#[test]
fn big_inputs_pass_through_a_small_memory_limit() {
    let s = Scratch::new();
    let log = web_log(200_000);
    s.write("big", &log);
    let last = log.lines().last().unwrap();
    let run = s
        .runbox()
        .args([
            "sh",
            "--memory",
            "16MiB",
            "-c",
            "cat big | wc -l; wc -c big; tail -n 1 big; cat big | tail -n 1; head -n 150000 big | tail -n 1 | wc -c; \
             grep -c POST big; cat big | grep -v POST | cut -d' ' -f9 | tr -d 0 | uniq | wc -l; \
             sort big | tail -n 1; cat big | sort -r | tail -n 1; sort big | head -n 1; ls -A /tmp | wc -l; \
             sed -n '$p' big; cat big | sed 's/x=/y=/' | tail -n 1",
        ])
        .run();
    let line_150000 = log.lines().nth(149_999).unwrap();
    let posts = log.lines().filter(|l| l.contains("POST")).count();
    let (first, last_sorted) = (log.lines().min().unwrap(), log.lines().max().unwrap());
    let mut statuses: Vec<String> =
        log.lines().filter(|l| !l.contains("POST")).map(|l| l.split(' ').nth(8).unwrap().replace('0', "")).collect();
    statuses.dedup();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            &*format!(
                // The sorts spilled their runs to /tmp and removed them, also
                // the one whose reader went away early: none are left.
                "200000\n{} big\n{last}\n{last}\n{}\n{posts}\n{}\n{last_sorted}\n{first}\n{first}\n0\n{last}\n{}\n",
                log.len(),
                line_150000.len() + 1,
                statuses.len(),
                last.replace("x=", "y=")
            ),
            ""
        ),
    );
    assert!(log.len() > 16 << 20, "the log is larger than the step's memory: {}", log.len());
}
