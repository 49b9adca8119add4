//! The text tools runbooks pipe big data through (`cat`, `head`, `tail`,
//! `wc`, `cut`, `tr`, `uniq`, `grep`, `sort`, `sed`, `awk`) are runbox's own streaming commands:
//! each prints what GNU's prints, with its exit status and messages, on the
//! same multi-megabyte inputs (run beside the host's bash and GNU tools in
//! a UTF-8 locale), and a step passes more data through them than its
//! memory limit holds.

use std::fmt::Write as _;

use crate::harness::{Scratch, same_as_gnu, same_as_reference};

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

/// As `same_as_gnu`, with GNU awk as `awk` (Debian's default awk is mawk;
/// under the name `awk`, gawk's messages and `ARGV[0]` say `awk`).
fn same_as_gawk(s: &Scratch, scripts: &[&str]) {
    same_as_reference(s, "awk() { (exec -a awk gawk \"$@\"); }\n", scripts);
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
            // -z: NUL-ended lines in and out; a newline is an ordinary character.
            "printf 'dark red\\nteal\\0a2\\0spared' | grep -z 'red' | od -An -c; printf 'a\\nb\\0c\\0' | grep -z '^b' | od -An -c; printf 'a\\nb\\0c\\0' | grep -zc 'a$'",
            "printf 'blue green\\nteal brown' | grep -oz 'g.*n' | od -An -c; printf 'blue green\\nteal brown' | grep -ozP 'g.*n' | od -An -c; printf 'blue green\\nteal brown' | grep -ozP '(?s)g.*n' | od -An -c",
            "echo 'hi-hello;top-spot' | grep -zoP '\\w+\\z'; echo status=$?; echo 'hi-hello;top-spot' | grep -zoP '\\w+\\Z' | od -An -c; printf 'blue green\\nteal\\n' | grep -z \"$(printf 'n\\nt')\" | od -An -c",
            "printf 'x\\0a\\0b\\0c\\0d\\0a\\0' | grep -z -A0 -n a | od -An -c; printf 'ab\\0cd' | grep -zn c | od -An -c; printf 'a\\0b\\0' | grep -zv a | od -An -c; printf 'a\\0b\\0' | grep -zl b; printf 'x\\0more\\nxa\\n' | grep -z more | od -An -c",
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
            // GNU's character escapes, in a pattern (`\\x5e` is an anchor) and a
            // replacement (`\\x26` a literal `&`); a label ends at a blank.
            "echo \"universe: '42'\" | sed 's/\\x27/\"/g'; echo 'say \"hi\"' | sed 's/\"/\\x27/g'; printf 'cute\\ncot\\n' | sed -n '/\\x5eco/p'",
            "echo 'hello' | sed 's/.*/\"\\x26\"/'; echo 'a.b' | sed 's/\\x2e/[\\d065\\o102\\x5c]/'; printf 'hi there\\r\\n' | sed -E 's/\\w+(\\r?)$/123\\1/' | od -c",
            "echo '12345 hello42' | sed -E ':a s/^(\\**)[0-9]/\\1*/; ta'; echo 'coffining' | sed ':d s/fin//; td'; echo x | sed -n ':a p'",
            "echo '3.14' | sed '1{s/^/start: /; b}; $ s/$/ :end/'; echo x | sed -n 'b end ; p; :end'; seq 5 | sed '2,4i hi'",
            "seq 10 | sed -n '4,~4p'; seq 10 | sed -n '/4/,~4p'; seq 12 | sed -n '/[46]/,~3p'; seq 10 | sed -n '4,~1p'; seq 10 | sed -n '4,~0p'",
            "echo 'report_{a,b}.txt' | sed -E 's/_{a,b}/_c/'; echo $?; echo 'a{x' | sed -E 's/a{x/Q/'; echo $?; echo 'r_{a}' | sed -E 's/_\\{a}/_c/; s/a{0}/-/'; echo 'a{,' | grep -E 'a{,'",
            "printf 'x\\ty\\n' | sed '1r /dev/stdin' conf; seq 2 | sed '2r /dev/stdin' blank; printf '123' | sed '1r /dev/stdin' blank; sed '0r blank' conf",
            "seq 4 | sed 'R /dev/stdin' conf; printf 'a\\nb\\n' | sed -e '2 {r /dev/stdin' -e 'd}' conf; seq 3 | sed '1r /dev/stdin' - conf",
            "seq 3 | sed '2a fruit: \\x27mango\\x27'; printf 'Hi there\\nHave a Nice Day\\n' | sed 'N; s/H.*e/X/gm'; printf 'ab\\ncd\\n' | sed 'N; s/a.*/X/M; s/\\`/</M'",
        ],
    );
}

#[test]
fn awk_is_gnu_awk() {
    let s = Scratch::new();
    inputs(&s);
    s.write("in.txt", "a 1 x\nb 2 y\na 3 z\n\nc 10 w\n");
    s.write("people.csv", "name,age,city\nann,31,oslo\nbob,27,rome\ncid,45,oslo\n");
    same_as_gawk(
        &s,
        &[
            // The log-munging forms, over the 30,000-line log.
            "awk '{s+=$11} END {print s}' log; awk '$9 == 404 { n++ } END { print n+0 }' log",
            "awk '{ print $1 }' log | sort | uniq -c | sort -rn | head -3; awk 'length($0) > 120' log | wc -l",
            "awk '{ split($4, t, \":\"); h[t[2]]++ } END { for (k in h) print k, h[k] }' log | sort",
            "cat log | awk '{ n[$9]++ } END { for (s in n) print s, n[s] }' | sort; awk '$9 >= 500 { print $1, $9 }' log | tail -3",
            "awk -F'\"' '{ print $2 }' log | awk '{ print $1 }' | sort | uniq -c; awk 'NR > 5 { exit } { print }' log",
            "awk '{ bytes += $10 } END { printf \"%.2f MB\\n\", bytes / 1024 / 1024 }' log; awk 'BEGIN { OFS = \",\" } { print $1, $9, $10 }' log | md5sum",
            "awk '{ sum[$9] += $10; cnt[$9]++ } END { for (k in sum) printf \"%s %d %.1f\\n\", k, cnt[k], sum[k]/cnt[k] }' log | sort",
            "awk '{ printf \"%-15s %6d\\n\", $1, $10 }' log | md5sum; awk -F '\\t' '{ print NF }' log | sort -u",
            // Fields, records, patterns.
            "awk '{print $1}' in.txt; awk 'NR==2' in.txt; awk '/a/,/c/ {print NR\": \"$0}' in.txt; awk 'NF { print $NF; print $(NF-1) }' in.txt",
            "awk 'BEGIN{FS=\":\"} {print NF}' in.txt; awk '{ $2 = $2 * 2; print }' in.txt; awk '{ $5 = \"new\"; print; print NF }' in.txt",
            "awk '{ NF = 2; print }' in.txt; awk 'BEGIN { OFS=\"-\" } { $1=$1; print }' in.txt; awk 'END { print $0, NF }' in.txt",
            "awk '!seen[$1]++' in.txt; awk 'NR==FNR { a[$1]; next } $1 in a' in.txt in.txt; awk 'NR==1, NR==3' in.txt",
            "awk '$2 ~ /^[0-9]+$/ && $2 > 1' in.txt; awk '/^$/ { print \"blank at\", NR }' in.txt; awk '{ print NR % 2 ? \"odd\" : \"even\" }' in.txt",
            "awk '{ $1 = \"\"; print substr($0, 2) }' in.txt; awk '{ for (i = NF; i > 0; i--) printf \"%s%s\", $i, (i > 1 ? OFS : ORS) }' in.txt",
            "awk -F, '{ print $2 }' people.csv; awk -F, '{ print $NF }' people.csv; awk -F, -v OFS='\\t' '{ $1 = $1 } 1' people.csv",
            "awk -F, 'NR > 1 { sum[$3] += $2; n[$3]++ } END { for (c in sum) printf \"%s %.1f\\n\", c, sum[c]/n[c] }' people.csv | sort",
            "awk '{ print x, $1 }' x=1 in.txt x=2 people.csv; awk -v x=5 'BEGIN { print x + 1 }'; awk -v 'msg=a\\tb' 'BEGIN { print msg }'",
            "awk -F: '$1 == \"port\" || /name/' conf; awk '/^\\[/ { section = $0; next } NF && !/^#/ { print section, $0 }' conf",
            "awk -F' *= *' 'NF == 2 { print $1 \"=\" $2 }' conf; awk 'BEGIN { FS = \"=\" } /=/ { gsub(/^[ \\t]+|[ \\t]+$/, \"\", $1); print \"[\" $1 \"]\" }' conf",
            "printf 'one two\\n\\nthree\\n' | awk 'BEGIN { RS = \"\" } { print NF \": \" $0 }'; printf 'a;b;c' | awk 'BEGIN { RS = \";\" } { print NR, $0 }'",
            "printf 'a1b22c333d' | awk 'BEGIN { RS = \"[0-9]+\" } { print NR, $0 }'; printf 'x' | awk '{ print \"[\" $0 \"]\" }'; printf 'a\\r\\nb\\r\\n' | awk '{ print length($0) }'",
            "awk '{ print NR \": \" $0 }' small; awk '{ n += NF } END { print n }' small; awk '{ w += length($0) } END { print w }' small",
            "awk '{ print FILENAME, FNR, NR }' in.txt people.csv | tail -3; awk 'BEGIN { print ARGC, ARGV[0], ARGV[1] }' in.txt",
            // getline.
            "awk 'BEGIN { getline; print \"first:\" $0 } { print \"rest:\" $0 }' in.txt; awk '{ getline; print }' in.txt",
            "awk 'BEGIN { while ((getline l) > 0) n++; print n, NR }' in.txt; cat in.txt | awk 'BEGIN { getline; print \"first:\" $0 } END { print NR }'",
            "awk 'NR % 2 == 0 { getline x; print $0 \"+\" x }' in.txt; awk 'BEGIN { while ((getline line < \"in.txt\") > 0) n++; print n }'",
            "awk '{ print $1 > \"out.txt\" } END { close(\"out.txt\"); while ((getline l < \"out.txt\") > 0) print \"r:\" l }' in.txt; rm out.txt",
            // Expressions, numbers, strings.
            "awk 'BEGIN { printf \"%s %s\\n\", 1e6, 1000000; print 0.1+0.2; print 1e20; print 100000000000000000000; x = 3.0; print x; print 1/3 }'",
            "awk 'BEGIN { print 2^10, 2**3, -2^2, 7%3, -7%3 }'; awk 'BEGIN { print \"a\" < \"b\", 10 < 9, \"10\" < \"9\", 2 == 2.0 }'",
            "awk '{ print ($2 < 10), ($2 < \"10\") }' in.txt; awk 'BEGIN { x; if (x == 0 && x == \"\") print \"both\" }'",
            "awk 'BEGIN { CONVFMT=\"%.2g\"; a = 3.14159; b = a \"\"; print b; OFMT=\"%.1f\"; print a }'; awk 'BEGIN { print length(\"héllo\") }'",
            "awk 'BEGIN { a = 1; a += 2; a -= 1; a *= 5; a /= 2; a %= 3; a ^= 2; print a }'; awk 'BEGIN { x = 5; print x++ + ++x, x-- - --x, x }'",
            "awk 'BEGIN { print 10 % 3, -10 % 3, 10.5 % 3, 2 ^ 0.5 }'; awk 'BEGIN { print 1 \" \" 2, 1 2, \"x\" (1 > 0) }'",
            "awk 'BEGIN { print 1==1.0, \"1\"==1, \"a\" < \"ab\", \"Z\" < \"a\" }'; awk 'BEGIN { print !0, !1, !\"\", !\"a\", -\"3\", +\"4x\" }'",
            "awk 'BEGIN { print 1e6, 1e16, 1e17, 123456789012, 0.000001, 3e-7 }'; awk 'BEGIN { x = \"3x\"; y = x + 0; print y, (x == 3), (\"3\" == 3) }'",
            "awk 'BEGIN { print 9007199254740993, 2^53 + 1, 1e15 + 0.5 }'; awk 'BEGIN { print 0.1 * 3, 1e-5, 123.456e2 }'; awk 'BEGIN { print -0, 0 * -1 }'",
            "awk '{ print length($0), substr($0, 2, 3), index($0, \"x\"), toupper($1) }' in.txt; awk '{ n = split($0, a, \" \"); print n, a[n] }' in.txt",
            "awk 'BEGIN { print substr(\"hello\", 0, 2), substr(\"hello\", -1, 3), substr(\"hello\", 1.5), substr(\"hello\", 2.5, 2), substr(\"héllo wörld\", 2, 4) }'",
            "awk 'BEGIN { print index(\"abc\", \"\"), length(), match(\"foobar\", /o+/), RSTART, RLENGTH, index(\"héllo\", \"l\") }'",
            "awk 'BEGIN { print tolower(\"ABC\"), sprintf(\"%03d\", 7), int(-3.7), int(\"4abc\"), toupper(substr(\"hello\", 1, 1)) substr(\"hello\", 2) }'",
            "awk '{ gsub(/a/, \"A\"); print } END { print NR }' in.txt; awk '{ sub(/[0-9]+/, \"<&>\"); print }' in.txt",
            "awk 'BEGIN { s = \"a.b.c\"; gsub(/\\./, \"-\", s); print s; t = \"aaa\"; print gsub(/a/, \"b\", t), t; u = \"abc\"; gsub(/x*/, \"-\", u); print u }'",
            "awk 'BEGIN { s = \"foo bar\"; sub(/o+/, \"[&][\\\\&]\", s); print s; n = split(\"2024-01-15\", d, \"-\"); print d[1] + 0, d[2] + 0, d[3] * 2 }'",
            // printf.
            "awk '{printf \"%-5s|%5.2f|%d|%x|%c\\n\", $1, $2, $2, $2, $1}' in.txt; awk 'BEGIN { printf \"%5s|%-5d|%05d|%+d|%e|%g|%G\\n\", \"ab\", 3, 42, 5, 12345.678, 0.0001234, 1e-10 }'",
            "awk 'BEGIN { printf \"%c%c%c\\n\", 65, \"BCD\", 256; printf \"%5.1f%%\\n\", 12.345; printf \"[%10.3s][%-10s]\\n\", \"abcdef\", \"x\" }'",
            "awk 'BEGIN { printf \"%i %o %X %u\\n\", 42.9, 8, 255, 3; s = sprintf(\"%5.1f|%-8s|%08.3f\", 3.14159, \"ab\", -2.5); print s }'",
            "awk 'BEGIN { printf \"%.3e %G %g %g %g\\n\", 123456, 0.00001234, 100000, 1000000, 123456789; x = 17; printf \"%o %x %X %#o %#x %5.3d\\n\", x, x, x, x, x, x }'",
            "awk 'BEGIN { printf \"%d %d\\n\", \"0x1A\", 1e3; printf \"%d\\n\", 2147483648 * 4; printf \"%s|%5s|%-5s|\\n\", \"é\", \"é\", \"é\"; printf(\"%s-%s\\n\", \"a\", \"b\") }'",
            // Arrays, functions, control flow.
            "awk '{c[$1]++} END {for (k in c) print k, c[k]}' in.txt | sort; awk 'BEGIN { x[\"a\"]=1; delete x[\"a\"]; print length(x); print (\"a\" in x) }'",
            "awk 'BEGIN { a[\"x\"]; if (\"x\" in a) print \"yes\"; for (k in a) n++; print n; delete a; print length(a) }'",
            "awk 'function fill(arr, n,   i) { for (i = 1; i <= n; i++) arr[i] = i * i } BEGIN { fill(sq, 4); print sq[3], length(sq) }'",
            "awk 'function fact(n) { return n <= 1 ? 1 : n * fact(n - 1) } BEGIN { print fact(10), fact(20) }'; awk 'function f(a, b) { return a + b } { print f($2, 1) }' in.txt",
            "awk 'function swap(a, i, j,   t) { t = a[i]; a[i] = a[j]; a[j] = t } BEGIN { v[1] = \"x\"; v[2] = \"y\"; swap(v, 1, 2); print v[1], v[2] }'",
            "awk 'function r(n) { if (n == 0) return 0; return 1 + r(n - 1) } BEGIN { print r(500) }'; awk 'function g(a) { a[\"k\"] = 1 } BEGIN { g(arr); print length(arr), arr[\"k\"] }'",
            "awk 'BEGIN { a[1,2] = 3; for (k in a) { split(k, p, SUBSEP); print p[1], p[2] }; print ((1,2) in a) }'; awk 'BEGIN { i = 5; a[i++] = i; for (k in a) print k, a[k] }'",
            "awk 'BEGIN { while (i < 3) { i++; if (i == 2) continue; print i }; do { j++ } while (j < 5); print j; for (;;) { k++; if (k > 4) break }; print k }'",
            "awk '{ print; next; print \"no\" }' in.txt; awk 'BEGIN { exit 3 } END { print \"end\" }'; echo $?; awk '{ exit $2 }' in.txt; echo $?",
            "awk 'BEGIN {\n  x = 1\n  if (x)\n    print \"yes\"\n  else\n    print \"no\"\n}'; awk '{ print $1, $2 }\nEND { print \"done\" }' in.txt",
            "awk 'BEGIN { $0 = \"a b c\"; print NF, $2; $3 = \"\"; print NF, $0 \"|\" }'; awk 'BEGIN { $0 = \"a b c\"; NF = 5; print $0 \"|\"; $7 = \"z\"; print NF, $0 }'",
            "awk 'BEGIN { srand(1); a = rand(); srand(1); b = rand(); print (a == b), (a >= 0 && a < 1) }'; awk 'BEGIN { print length(x), x == \"\", x + 0 }'",
            // Errors: messages and statuses.
            "awk 'syntax error here {' in.txt; echo $?; awk '{ print $1 ' in.txt; echo $?; awk 'BEGIN { x = }'; echo $?",
            "awk 'BEGIN { print \"abc }'; echo $?; awk 'BEGIN { f(1) }'; echo $?; awk 'BEGIN { printf \"%s %s %s\\n\", \"a\", \"b\" }'; echo $?",
            "awk '{ print $-1 }' in.txt; echo $?; awk '{ print }' nosuch; echo $?; awk 'END { print NR }' empty; awk -f /dev/null in.txt; echo $?",
            "awk 2>/dev/null; echo $?; awk -x 'BEGIN{}' 2>/dev/null; echo $?",
        ],
    );
}

/// `-z`: records that end in NUL (file names from `find -print0`, values
/// with newlines in them) through `head`, `tail`, `cut`, `sort` and
/// `uniq`, as GNU's, a sort large enough to spill to disk included.
#[test]
fn tools_read_nul_ended_records_under_z() {
    let s = Scratch::new();
    inputs(&s);
    let mut many = String::new();
    for i in 0..400_000u32 {
        many.push_str(&format!("{}\nline {}\0", (i * 7919) % 400_000, i % 13));
    }
    s.write("many", &many);
    same_as_gnu(
        &s,
        &[
            "printf 'car\\0jeep\\0bus\\0' | head -z -n2 | od -c; printf 'car\\0jeep\\0bus\\0' | tail -z -n2 | od -c",
            "printf 'a\\nb\\0c\\0d' | head -zn -1 | od -c; printf 'a\\nb\\0c\\0d' | tail -z -n +2 | od -c; tail -zn 3 many | od -c",
            "head -z -n 2 many | od -c; printf 'x\\ny\\n' | head -z -n 1 | od -c",
            "printf 'good-food\\0tip-tap\\0' | cut -zd- -f2 | od -c; printf 'a\\tb\\nc\\0d' | cut -z -f2 | od -c; printf 'abc\\0de' | cut -zc2- | od -c",
            "printf 'cherry\\0apple\\0banana' | sort -z | od -c; printf 'b 2\\0a 10\\0a 9\\0' | sort -z -k2,2n | od -c; printf 'b\\0a\\0' | sort -zc; echo $?",
            "sort -z many | md5sum; sort -zn many | tail -zn 2 | od -c; sort -zu -t' ' -k2,2 many | od -c",
            "printf 'cherry\\0cherry\\0cherry\\0apple\\0banana' | uniq -z | od -c; printf 'a\\0a\\0b\\0' | uniq -zc | od -c; printf 'x\\ny\\0x\\ny\\0' | uniq -zd | od -c",
        ],
    );
}

/// gawk's extensions that scripts (and the GNU awk book) use, each beside
/// gawk's own answer: files' rules, record terminators, field patterns and
/// widths, case-blind matching, the functions gawk adds, sorted arrays,
/// typed regexps, positional formats, bytes, in-place editing.
#[test]
fn awk_has_gawks_extensions() {
    let s = Scratch::new();
    inputs(&s);
    s.write("a.txt", "Hi there\nHave a nice day\nGood bye\n");
    s.write("b.txt", "brown bread mat 42\nblue cake mug -7\nyellow banana window 3.14\n");
    s.write("widths.txt", "apple   fig banana\n50      10  200\nab\n");
    s.write(
        "report.log",
        "blah blah Error: second record starts\nsomething went wrong\nsome more details Error: third\n",
    );
    s.write("edit1.txt", "I ate 3 apples\n");
    s.write("edit2.txt", "3 balls and 3 bats\nno\n");
    same_as_gawk(
        &s,
        &[
            // BEGINFILE, ENDFILE, nextfile.
            "awk 'BEGINFILE { print \"--- \" FILENAME \" ---\" } 1' a.txt b.txt; awk 'ENDFILE { print FNR, $0 }' a.txt b.txt",
            "awk '/a/ { print FILENAME, FNR; nextfile }' a.txt b.txt; awk 'BEGINFILE { if (FILENAME ~ /a/) nextfile } { print }' a.txt b.txt",
            "awk '{ s += $NF } ENDFILE { print FILENAME \":\" s; s = 0 } END { print NR }' b.txt b.txt; cat a.txt | awk 'BEGINFILE { print \"[\" FILENAME \"]\" } END { print NR }'",
            // RT and regexp RS, IGNORECASE.
            "echo 'Sample123string42with777numbers' | awk -v RS='[0-9]+' '{ print NR, $0, \"[\" RT \"]\" }'",
            "printf 'a\\n\\nb\\n\\n\\n\\nc' | awk -v RS= '{ print NR \":\" $0 \":\" length(RT) }'; printf 'x,y' | awk -v RS=, '{ print $0 \"<\" RT \">\" }'",
            "awk -v IGNORECASE=1 -v RS='error:' 'NR == 1' report.log; awk -v IGNORECASE=1 -v RS='e' 'NR == 1' report.log; awk -v IGNORECASE=1 -v RS='[e]' 'NR == 1' report.log",
            "printf 'Cat\\ncOnCaT\\nscatter\\ncot\\n' | awk -v IGNORECASE=1 '/cat/'; echo 'RECONSTRUCTED' | awk -F'[aeiou]+' -v IGNORECASE=1 '{ print $NF }'",
            "echo 'RECONSTRUCTED' | awk -F'e' -v IGNORECASE=1 '{ print $1 }'; awk 'BEGIN { IGNORECASE = 1; print index(\"FooBar\", \"bar\"); s = \"ABC\"; gsub(/b/, \"-\", s); print s }'",
            // FPAT and FIELDWIDTHS.
            "echo 'eagle,\"fox,42\",bee,frog' | awk -v FPAT='\"[^\"]*\"|[^,]*' '{ print NF; print $2 }'; echo 'a,,b,' | awk -v FPAT='[^,]*' '{ print NF }'",
            "echo 'coat Bin food tar12 best' | awk -v FPAT='\\\\<[a-z0-9]+\\\\>' -v OFS=, '{ $1 = $1 } 1'; echo 'Read Eat Sleep' | awk -v IGNORECASE=1 -v FPAT='[e]' '{ print NF }'",
            "awk -v FIELDWIDTHS='8 4 6' '{ print NF \"[\" $2 \"]\" }' widths.txt; awk -v FIELDWIDTHS='5 3:3 1:6' '{ print \"[\" $1 \"][\" $2 \"]\" }' widths.txt",
            "awk -v FIELDWIDTHS='5 *' '{ print \"[\" $2 \"]\" }' widths.txt; awk 'BEGIN { FIELDWIDTHS = \"2 2\" } { print $2 } NR == 1 { FS = \",\" }' widths.txt",
            "awk -v FIELDWIDTHS='3 0' 1 widths.txt; echo $?",
            // gensub, patsplit, match's array, split's separators.
            "echo 'apple:banana:cherry:fig' | awk '{ print gensub(/:/, \"-\", 2); print gensub(/[^:]+/, \"<&>\", \"g\"); print }'",
            "echo 'one,2,3.14,42' | awk '{ print gensub(/^(([^,]+,){2})([^,]+)/, \"[\\\\1](\\\\3)\", 1); print gensub(/,/, \"\\\\\\\\&\", \"G\") }'",
            "echo '1 good 2 apples' | awk '{ $4 = gensub(/[aeiou]/, \"X\", \"g\", $4) } 1'; echo abc | awk '{ print gensub(/x*/, \"-\", \"g\") }'",
            "echo 'eagle,\"fox,42\",bee' | awk '{ n = patsplit($0, a, /\"[^\"]*\"|[^,]*/, s); print n, a[2], \"[\" s[1] \"]\", length(s) }'",
            "echo 'apple=42, fig=314' | awk 'match($0, /fig=([0-9]+)/, m) { print m[0], m[1], m[1, \"start\"], m[1, \"length\"], RSTART, RLENGTH }'",
            "s='42 apple-5, fig3; x-83, y-20: f12'; echo \"$s\" | awk '{ while (match($0, /([0-9]+),/, m)) { print m[1]; $0 = substr($0, RSTART + RLENGTH) } }'",
            "echo 'Sample123string42with777numbers' | awk '{ n = split($0, s, /[0-9]+/, seps); for (i = 1; i < n; i++) print s[i], seps[i] }'",
            "printf '  one \\t two  \\n' | awk '{ n = split($0, a, \" \", s); print n, \"[\" s[0] \"]\", \"[\" s[1] \"]\", \"[\" s[2] \"]\" }'; awk 'BEGIN { n = split(\"DCBAS\", g, //); print n, g[1], g[5] }'",
            // Sorted arrays.
            "awk 'BEGIN { PROCINFO[\"sorted_in\"] = \"@ind_str_asc\"; a[\"z\"] = 1; a[\"x\"] = 12; a[\"b\"] = 42; for (i in a) print i, a[i] }'",
            "awk 'BEGIN { PROCINFO[\"sorted_in\"] = \"@val_num_desc\"; a[\"z\"] = 1; a[\"x\"] = 12; a[\"b\"] = 42; a[\"c\"] = 12; for (i in a) print i, a[i] }'",
            "awk 'BEGIN { PROCINFO[\"sorted_in\"] = \"@ind_num_asc\"; a[10]; a[9]; a[100]; for (i in a) print i; PROCINFO[\"sorted_in\"] = \"@val_str_asc\"; b[1] = \"b\"; b[2] = \"a\"; for (i in b) print i }'",
            "awk 'BEGIN { a[1] = \"pear\"; a[2] = 10; a[3] = \"apple\"; a[4] = 9; n = asort(a, b); for (i = 1; i <= n; i++) print i, b[i]; n = asorti(a, c, \"@ind_str_desc\"); print n, c[1], c[4] }'",
            "awk 'BEGIN { a[\"x\"] = 3; a[\"y\"] = 1; n = asort(a); print n, a[1], a[2], (\"x\" in a) }'",
            // Regexps: typed constants, \\y, . and newlines, escapes.
            "printf 'spared no one\\ngrasped\\nspar\\n' | awk 'BEGIN { r = @/ed/ } $0 ~ r'; echo 'copper' | awk '{ gsub(/\\y/, \":\") } 1'",
            "echo 'I have 12, he has 2!' | awk '{ gsub(/\\y..\\y/, \"[&]\") } 1'; awk 'BEGIN { s = \"abc\\nxyz\"; sub(/c.x/, \" \", s); print s }'",
            "printf 'acorn\\ncot\\n' | awk '/\\x5eco/'; echo \"it's\" | awk '{ gsub(/\\x27/, \"\") } 1'; echo 'hello' | awk '{ sub(/.*/, \"[\\x26]\") } 1'",
            "echo 'ab-cd gh-c 12-423' | awk '{ gsub(/[a-z\\-0-9]{2,}/, \"X\") } 1'; echo 'a]b' | awk '{ gsub(/[\\]]/, \"|\") } 1'",
            "awk 'BEGIN { print \"\\q\" }'; awk -v 'r=\\Bpar\\B' 'BEGIN { print r }'; awk -v 'r=\\\\Bpar' 'BEGIN { print r }'",
            // Positional formats, bytes, ENVIRON.
            "awk 'BEGIN { printf \"%1$d + %2$d * %1$d = %3$d\\n\", 3, 4, 15; printf \"hex=%1$#x oct=%1$#o\\n\", 15 }'; awk 'BEGIN { printf \"%2$s %s\\n\", 1, 2 }'; echo $?",
            "echo 'αλεπού' | awk '{ print length(), substr($0, 1, 2) }'; echo 'αλεπού' | awk -b '{ print length(), index($0, \"λ\") }'; echo 'αλεπού' | LC_ALL=C awk '{ print length() }'",
            "word=hello awk 'BEGIN { print ENVIRON[\"word\"] }'",
            "awk 'BEGIN { printf \"%1$*2$d|%2$-*1$d|\\n\", 5, 3 }'; awk 'BEGIN { printf \"%s %*2$d|\\n\", 5, 3 }'; awk 'BEGIN { printf \"%1$*d\\n\", 5, 3 }'; echo $?; awk 'BEGIN { printf \"%1$.*d\\n\", 5, 3 }'; awk 'BEGIN { printf \"%1$*9$d\\n\", 5, 3 }'; echo $?",
            // In-place editing.
            // (on copies: the reference edits the same directory first).
            "cp edit1.txt e1; awk -i inplace '{ print NR \". \" $0 }' e1; cat e1; cp edit2.txt e2; awk -i inplace -v inplace::suffix=.bak '{ gsub(/\\<3\\>/, \"three\") } 1; END { print \"done\" }' e2; cat e2 e2.bak; rm e1 e2 e2.bak",
            "cp edit2.txt e3; awk -i inplace 'BEGINFILE { print \"top\" } FNR == 2 { exit } 1' e3; cat e3; ls -a | grep -c inplace; rm e3",
            // A program that fails leaves the file as it was, and nothing beside it.
            "cp edit2.txt e5; awk -i inplace '{ print \"X\"; y = 0; x = 1 / y }' e5 2>/dev/null; echo $?; cat e5; ls -a | grep -c inplace; rm e5",
            "cp edit1.txt e4; awk -i inplace '{ print; print $1 > \"/dev/stderr\" } ENDFILE { print \"end\" }' e4 a.txt; cat e4 a.txt; rm e4; git checkout a.txt 2>/dev/null; printf 'Hi there\\nHave a nice day\\nGood bye\\n' > a.txt",
        ],
    );
}

/// What runbox's awk refuses (it runs no commands) says so.
#[test]
fn awk_refuses_to_run_commands_and_says_why() {
    let s = Scratch::new();
    let run = s
        .runbox()
        .args([
            "sh",
            "-c",
            "awk 'BEGIN { system(\"ls\") }'; echo $?; echo x | awk '{ print | \"sort\" }'; echo $?; \
             awk 'BEGIN { \"date\" | getline d }'; echo $?",
        ])
        .run();
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        (
            "2\n2\n2\n",
            "awk: cmd. line:1: fatal: cannot run `ls': runbox's awk runs no commands (system()); run the command in \
             the step's script instead\n\
             awk: cmd. line:1: fatal: cannot run `sort': runbox's awk runs no commands (print | \"cmd\"); pipe the \
             step's output instead, or run the step natively (--allow-native)\n\
             awk: cmd. line:1: fatal: cannot run `date': runbox's awk runs no commands (\"cmd\" | getline); run the \
             command in the step's script and pass its output in\n"
        ),
    );
}

/// A hostile program meets bounds that end it with a message, never the
/// step's stack or the host's file table: nesting, chains of operators,
/// recursion, open files.
#[test]
fn awk_bounds_what_a_program_can_hold() {
    let s = Scratch::new();
    s.write("nested.awk", &format!("BEGIN {{ print {}1{} }}\n", "(".repeat(5000), ")".repeat(5000)));
    s.write("negated.awk", &format!("BEGIN {{ x = {}1; print x }}\n", "-".repeat(20000)));
    s.write("blocks.awk", &format!("BEGIN {}{}\n", "{".repeat(3000), "}".repeat(3000)));
    s.write("chain.awk", &format!("BEGIN {{ x = 1{}; print x }}\n", " + 1".repeat(100_000)));
    s.write("fine.awk", &format!("BEGIN {{ x = 1{}; print x }}\n", " + 1".repeat(999)));
    let run = s
        .runbox()
        .args([
            "sh",
            "-c",
            "for f in nested negated blocks chain; do awk -f $f.awk 2>&1 | tail -n 1 | sed 's/^awk: cmd. line:1: *//'; done; \
             awk -f fine.awk; \
             awk 'function r(n) { return n == 0 ? 0 : 1 + r(n - 1) } BEGIN { print r(999); print r(5000) }'; echo $?; \
             awk 'BEGIN { for (i = 0; i < 2000; i++) print i > (\"/tmp/f\" i) }'; echo $?; ls /tmp | wc -l",
        ])
        .run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "^ program nested too deeply\n^ program nested too deeply\n^ program nested too deeply\n\
             ^ expression too long\n1000\n999\n2\n2\n1024\n",
            "awk: cmd. line:1: fatal: function `r' nested deeper than 1000 calls\n\
             awk: cmd. line:1: fatal: can't redirect to `/tmp/f1024': more than 1024 files open (close() some)\n"
        ),
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

/// A script naming more files than a step may hold open is refused before
/// any is made, not left to fill the host's table of descriptors.
#[test]
fn sed_holds_at_most_1024_files_open() {
    let s = Scratch::new();
    let script: String = (0..3000).map(|i| format!("w /tmp/o{i}\n")).collect();
    s.write("many.sed", &script);
    let run = s.runbox().args(["sh", "-c", "echo x | sed -f many.sed; echo $?; ls /tmp | wc -l"]).run();
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("4\n0\n", "sed: couldn't open file /tmp/o1024: Too many open files (a script may name 1024)\n")
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
             sed -n '$p' big; cat big | sed 's/x=/y=/' | tail -n 1; awk 'END { print NR }' big; \
             cat big | awk '{ n += length($0) + 1 } END { print n }'",
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
                "200000\n{} big\n{last}\n{last}\n{}\n{posts}\n{}\n{last_sorted}\n{first}\n{first}\n0\n{last}\n{}\n200000\n{}\n",
                log.len(),
                line_150000.len() + 1,
                statuses.len(),
                last.replace("x=", "y="),
                // awk's length counts characters.
                log.chars().count()
            ),
            ""
        ),
    );
    assert!(log.len() > 16 << 20, "the log is larger than the step's memory: {}", log.len());
}

/// A short option's value is the rest of its word, `=` included: `cut
/// -d= -f1` (the idiom for the names of `KEY=VALUE` lines) cut nothing
/// when `-d=` was read as `-d ''`. Found by shunit2, whose constants are
/// listed with `set | grep '^__SHUNIT_' | cut -d= -f1`.
#[test]
fn an_equals_sign_is_a_short_options_value() {
    let s = Scratch::new();
    s.write("env.txt", "B=2=x\nA=1\nnoequals\n");
    same_as_gnu(
        &s,
        &[
            "cut -d= -f1 env.txt",
            "cut -sd= -f2- env.txt",
            "awk -F= '{ print $2 }' env.txt",
            "awk -vx=7 'BEGIN { print x }'",
            "sort -t= -k2 env.txt",
            "grep -e=2 env.txt",
            "tr -d= < env.txt",
            "head -n=1 env.txt; echo \"rc=$?\"",
            "cut -d=, -f1 env.txt; echo \"rc=$?\"",
        ],
    );
}

/// `grep -P` is PCRE2, as GNU grep's: look-around, `\K`, back-references,
/// possessive quantifiers, atomic groups, conditionals, recursion,
/// `\Q…\E`, `\p{…}`; one line at a time; a line that is not UTF-8 does not
/// match; a runaway backtrack is GNU's error, naming the file, exit 2.
#[test]
fn grep_p_is_pcre2() {
    let s = Scratch::new();
    s.write(
        "f.txt",
        "fox,cat,dog,parrot\nhey cats! cat_5 catcat\n((f+x)^y-42) (a(b(c)))\n2008-03-24,food,2012-08-12\n\
         a^2 + b^2 - C*3\nφοο12,βτ_4,bat\nint a[5]\n0501 035 154 98234\n",
    );
    std::fs::write(s.join("bad.txt"), b"caf\xe9 cat\ncat ok\n").unwrap();
    s.write("bt.txt", &format!("{}!\n", "a".repeat(40)));
    same_as_gnu(
        &s,
        &[
            "grep -oP '(?<=,)\\w+(?=,)' f.txt",
            "grep -oP 'cat(?!s)\\w*' f.txt",
            "grep -oP '(?<!cat)cat\\b' f.txt",
            "grep -oP 'hey \\Kcat\\w*' f.txt",
            "grep -oP '\\b(\\w+)\\1\\b' f.txt",
            "grep -oP '\\d++5' f.txt; grep -oP '(?>\\d+)4' f.txt",
            "grep -oP '\\((?:[^()]++|(?0))++\\)' f.txt",
            "grep -oP '(?<y>\\d{4})-\\d\\d-\\d\\d,\\w+,(?&y)' f.txt",
            "grep -oP '(\\()?\\d+(?(1)\\))' f.txt",
            "grep -P '\\Qa^2 + b^2\\E' f.txt",
            "grep -oP '\\p{Greek}+' f.txt; grep -oP '\\w+' f.txt | head -3",
            "grep -wP 'cat' f.txt; grep -xP 'int a\\[5\\]' f.txt; grep -ciP 'CAT' f.txt",
            "grep -aP 'cat' bad.txt; grep -acP 'caf' bad.txt",
            "grep -P '(a+)+$' bt.txt; echo \"rc=$?\"",
            "grep -P 'a(b' f.txt; echo \"rc=$?\"",
            "grep -vP '\\d' f.txt",
        ],
    );
}

/// `sed -i` and `awk -i inplace` keep an edited file's permission bits, as
/// GNU's do: a checked-out `deploy.sh` stays executable on the host (WASI
/// creates files with the default bits, so the new text is written into the
/// old file where a rename would lose them). A file whose bits are the
/// default is renamed over, as GNU's is, and a backup keeps the old text.
#[test]
fn in_place_edits_keep_the_files_permission_bits() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let mode = |name: &str| std::fs::metadata(s.path().join(name)).unwrap().permissions().mode() & 0o777;
    for name in ["deploy.sh", "tool.sh"] {
        let path = s.write(name, "#!/bin/sh\necho a\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let plain = s.write("plain.txt", "a\n");
    let plain_mode = mode("plain.txt");
    let run = s
        .runbox()
        .args([
            "sh",
            "-c",
            "sed -i 's/echo a/echo b/' deploy.sh && sed -i.bak 's/echo a/echo c/' tool.sh && \
             awk -i inplace '{ sub(/echo b/, \"echo d\") } 1' deploy.sh && sed -i s/a/b/ plain.txt && \
             stat -c %a deploy.sh tool.sh && ls -A",
        ])
        .run();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "755\n755\ndeploy.sh\nplain.txt\ntool.sh\ntool.sh.bak\n", "")
    );
    assert_eq!(std::fs::read_to_string(s.path().join("deploy.sh")).unwrap(), "#!/bin/sh\necho d\n");
    assert_eq!(std::fs::read_to_string(s.path().join("tool.sh")).unwrap(), "#!/bin/sh\necho c\n");
    assert_eq!(std::fs::read_to_string(s.path().join("tool.sh.bak")).unwrap(), "#!/bin/sh\necho a\n");
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "b\n");
    assert_eq!((mode("deploy.sh"), mode("tool.sh"), mode("plain.txt")), (0o755, 0o755, plain_mode));
}
