//! Small pieces the shell and JavaScript template lexers share.

pub(super) fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Replaces the innermost context of a lexer's stack.
pub(super) fn set_top<T>(stack: &mut [T], context: T) {
    if let Some(top) = stack.last_mut() {
        *top = context;
    }
}

/// Copies a backslash and the character it escapes.
pub(super) fn push_escaped(script: &str, out: &mut String, i: &mut usize) {
    let next = script[*i + 1..].chars().next().map_or(0, char::len_utf8);
    out.push_str(&script[*i..*i + 1 + next]);
    *i += 1 + next;
}
