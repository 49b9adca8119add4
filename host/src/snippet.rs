//! A problem of a runbook shown as rustc and cargo show theirs: the title,
//! the file and position, the source line with a caret under the span, and
//! `help:` (annotate-snippets renders it, as it does for rustc and cargo).
//!
//! A runbook is untrusted text: its line is shown with control characters
//! replaced, so that it cannot drive the terminal.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use runbox::text::visible_lines;

/// One problem, where it is.
pub(crate) struct ShownProblem<'a> {
    /// The file as the user named it.
    pub(crate) file: &'a str,
    /// 1-based; 0: the file as a whole.
    pub(crate) line: usize,
    /// 1-based, in characters.
    pub(crate) column: Option<usize>,
    /// Characters under the caret; 0: to the end of the line.
    pub(crate) width: usize,
    pub(crate) warning: bool,
    pub(crate) message: &'a str,
    pub(crate) help: Option<&'a str>,
    /// The text of `line`, when it may be shown (never a secret script's).
    pub(crate) source: Option<&'a str>,
}

/// `shown` rendered for stderr, without a trailing newline.
pub(crate) fn render(shown: &ShownProblem, color: bool) -> String {
    let level = if shown.warning { Level::WARNING } else { Level::ERROR };
    let message = visible_lines(shown.message);
    let file = visible_lines(shown.file);
    let title = level.primary_title(message.as_str());
    let source = shown.source.filter(|_| shown.line > 0).map(harmless);
    let group = match &source {
        Some(text) => {
            let span = span(text, shown.column, shown.width);
            title.element(
                Snippet::source(text.as_str())
                    .line_start(shown.line)
                    .path(file.as_str())
                    .annotation(AnnotationKind::Primary.span(span)),
            )
        }
        None => {
            let origin = Origin::path(file.as_str());
            let origin = match (shown.line, shown.column) {
                (0, _) => origin,
                (line, Some(column)) => origin.line(line).char_column(column),
                (line, None) => origin.line(line),
            };
            title.element(origin)
        }
    };
    let help = shown.help.map(visible_lines);
    let group: Group = match &help {
        Some(help) => group.element(Level::HELP.message(help.as_str())),
        None => group,
    };
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    renderer.render(&[group])
}

/// Every problem of the runbook `file`, whose text is `text`, rendered
/// one after the other with a blank line between.
pub(crate) fn problems(file: &str, text: &str, problems: &[runbox::error::Problem], color: bool) -> String {
    let text = runbox::text::without_bom(text);
    let rendered: Vec<String> = problems
        .iter()
        .map(|p| {
            let source = p.line.checked_sub(1).and_then(|n| text.lines().nth(n));
            let (column, width) = source.map_or((p.column, p.width), |line| p.span_in(line));
            let shown = ShownProblem {
                file,
                line: p.line,
                column,
                width,
                warning: p.warning,
                message: &p.message,
                help: p.help.as_deref(),
                source,
            };
            render(&shown, color)
        })
        .collect();
    rendered.join("\n\n")
}

/// `line` with each control character but a tab replaced by one `�`: the
/// columns stay where they were.
fn harmless(line: &str) -> String {
    line.chars().map(|c| if c.is_control() && c != '\t' { '\u{fffd}' } else { c }).collect()
}

/// The byte range of `width` characters from the 1-based `column` of
/// `line`; without a column, the line's text without its indentation.
fn span(line: &str, column: Option<usize>, width: usize) -> std::ops::Range<usize> {
    let byte = |chars: usize| line.char_indices().nth(chars).map_or(line.len(), |(at, _)| at);
    let end_of_text = line.trim_end().len();
    match column {
        Some(column) => {
            // A guest's parser may say column 0: the line's first character.
            let first = column.saturating_sub(1);
            let start = byte(first).min(end_of_text);
            let end = if width == 0 { end_of_text } else { byte(first + width).min(line.len()) };
            start..end.max(start)
        }
        None => (line.len() - line.trim_start().len()).min(end_of_text)..end_of_text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown<'a>(source: Option<&'a str>, column: Option<usize>, width: usize) -> ShownProblem<'a> {
        ShownProblem {
            file: "disk.yaml",
            line: 4,
            column,
            width,
            warning: false,
            message: "unknown field `inline_scrpit` in a step",
            help: Some("did you mean `inline_script`?"),
            source,
        }
    }

    #[test]
    fn a_caret_under_the_span_and_the_help() {
        let text = render(&shown(Some("    inline_scrpit: df -h"), Some(5), 13), false);
        assert_eq!(
            text,
            "error: unknown field `inline_scrpit` in a step\n \
             --> disk.yaml:4:5\n  \
             |\n\
             4 |     inline_scrpit: df -h\n  \
             |     ^^^^^^^^^^^^^\n  \
             |\n  \
             = help: did you mean `inline_script`?"
        );
    }

    #[test]
    fn without_the_line_only_the_position() {
        let text = render(&shown(None, Some(5), 13), false);
        assert_eq!(
            text,
            "error: unknown field `inline_scrpit` in a step\n\
             --> disk.yaml:4:5\n \
             = help: did you mean `inline_script`?"
        );
    }

    #[test]
    fn the_runbooks_control_characters_do_not_reach_the_terminal() {
        let text = render(&shown(Some("    x: \u{1b}]0;owned\u{7}"), Some(5), 1), false);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    }

    #[test]
    fn spans_in_characters_not_bytes() {
        assert_eq!(span("é: ab", Some(4), 2), 4..6);
        assert_eq!(span("  key: x  ", None, 0), 2..8);
        assert_eq!(span("ab", Some(9), 3), 2..2);
        assert_eq!(span("ab", Some(0), 1), 0..1, "column 0 is the first character, not a panic");
    }
}
