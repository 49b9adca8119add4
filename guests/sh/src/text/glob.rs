//! Shell wildcards as `fnmatch` reads them (`*`, `?`, `[...]` with `!` or
//! `^` and ranges, `\` quoting), for grep's `--include` and `--exclude`.

/// Whether `name` matches `pattern` whole.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Iterative, with one backtrack point for the last `*`: linear in
    // practice, never exponential.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some('?') => Some(p + 1),
            Some('[') => class(&pattern, p, name[n]),
            Some('\\') if p + 1 < pattern.len() => (pattern[p + 1] == name[n]).then_some(p + 2),
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                n += 1;
            }
            (None, Some((sp, sn))) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A bracket expression at `pattern[at]` against `c`: the index after it
/// when `c` is in it. An unclosed `[` is a literal.
fn class(pattern: &[char], at: usize, c: char) -> Option<usize> {
    let mut i = at + 1;
    let negated = matches!(pattern.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut inside = false;
    let mut first = true;
    while let Some(&p) = pattern.get(i) {
        if p == ']' && !first {
            return (inside != negated).then_some(i + 1);
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|&h| h != ']') {
            inside |= p <= c && c <= pattern[i + 2];
            i += 3;
        } else {
            inside |= p == c;
            i += 1;
        }
    }
    (c == '[').then_some(at + 1)
}
