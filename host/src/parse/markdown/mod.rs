//! Markdown runbooks: H1 sections in a fixed order,
//! yaml blocks for requirements, fenced code blocks as steps, `# History`
//! last. Parsed with pulldown-cmark so headings inside code are not sections;
//! every structural problem is reported, each with its line.
//!
//! This file reads a whole runbook and finds its `# History`;
//! [`sections`] finds the sections, [`requirements`] reads their yaml
//! blocks, [`code_blocks`] the script's code blocks.

mod code_blocks;
mod requirements;
mod sections;

use std::ops::Range;
use std::path::Path;

use crate::error::{Invalid, Problem};
use crate::model::{Format, Runbook};

use code_blocks::steps;
use requirements::{claims, environment, file_system};
pub(crate) use sections::Lines;
use sections::{CLAIMS, ENVIRONMENT, FILE_SYSTEM, HISTORY, ORDER, SCRIPT, check_order, sections};

/// Parses `text`, the content of the runbook file `path`.
pub fn parse(path: &Path, text: &str) -> Result<Runbook, Invalid> {
    Invalid::unless_warnings(path, parse_partial(path, text)?)
}

/// The runbook as far as it parses, without the steps that do not, and
/// every problem found, sorted by line. `Err` when it has no heading.
pub fn parse_partial(path: &Path, text: &str) -> Result<(Runbook, Vec<Problem>), Invalid> {
    let lines = Lines::new(text);
    let sections = sections(text, &lines);
    let mut problems = Vec::new();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    for block in sections.iter().flat_map(|s| &s.blocks).filter(|b| !b.closed) {
        problems.push(Problem::new(
            block.fence_line,
            "this code block is never closed: it runs to the end of the file, hiding every section after it; \
             close it with a line of ``` after its code",
        ));
    }

    let Some(first) = sections.first() else {
        problems.push(Problem::new(1, format!("no `# {stem}` heading: a runbook starts with an H1 holding its name")));
        problems.extend(
            ORDER.iter().filter(|s| **s != CLAIMS).map(|s| Problem::new(1, format!("missing section `# {s}`"))),
        );
        return Err(Invalid { file: path.to_path_buf(), problems });
    };
    if first.heading_start > 0 && !text[..first.heading_start].trim().is_empty() {
        problems.push(Problem::new(1, "text before the first `#` heading; the runbook must start with `# Name`"));
    }
    let name = first.title.clone();
    if name != stem {
        problems.push(Problem::new(
            first.line,
            format!("the first heading `# {name}` must equal the file name without `.md`: `{stem}`"),
        ));
    }
    if name.contains(char::is_whitespace) {
        problems.push(Problem::new(first.line, format!("the runbook name `{name}` must not contain spaces")));
    }

    check_order(&sections[1..], &mut problems);
    let find = |title: &str| sections[1..].iter().find(|s| s.title == title);

    let env = find(ENVIRONMENT).map(|s| environment(s, &mut problems)).unwrap_or_default();
    let (reads, writes) = find(FILE_SYSTEM).map(|s| file_system(s, &mut problems)).unwrap_or_default();
    let claims = find(CLAIMS).map(|s| claims(s, &mut problems)).unwrap_or_default();
    let steps = find(SCRIPT).map(|s| steps(s, &name, &mut problems)).unwrap_or_default();

    problems.sort_by_key(|p| p.line);
    let runbook = Runbook {
        path: path.to_path_buf(),
        format: Format::Markdown,
        description: text[first.body.clone()].trim().to_string(),
        name,
        env,
        reads,
        writes,
        net: Vec::new(),
        claims,
        inputs: Vec::new(),
        steps,
        deterministic: false,
        consent_sha256: String::new(),
    };
    Ok((runbook, problems))
}

/// Byte offset where the `# History` section's body starts, if the text has
/// one; appends go after it.
pub(crate) fn history_body(text: &str) -> Option<Range<usize>> {
    let lines = Lines::new(text);
    sections(text, &lines).into_iter().skip(1).find(|s| s.title == HISTORY).map(|s| s.body)
}

/// Byte offset of the `# History` heading, if the text has one: what
/// precedes it is what runs append nothing to.
pub(crate) fn history_heading(text: &str) -> Option<usize> {
    let lines = Lines::new(text);
    sections(text, &lines).into_iter().skip(1).find(|s| s.title == HISTORY).map(|s| s.heading_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EnvRequirement, Language, Source};

    const GOOD: &str = "# Hello\nSays hello.\n\n# Environment Requirements\n```yaml\nGREETING: what to say\n```\n\n# File System Requirements\n```yaml\nInput:\n- ./data\nOutput:\n- ./out\n```\n\n# Required Claims\n```yaml\nroles: dev, admin\n```\n\n# Script\n```js {name=greet timeout=5s}\nconsole.log('hi')\n```\n\n# History\n";

    #[test]
    fn a_complete_runbook_parses_into_its_parts() {
        let rb = parse(Path::new("runbooks/Hello.md"), GOOD).unwrap();
        assert_eq!(rb.name, "Hello");
        assert_eq!(rb.description, "Says hello.");
        assert_eq!(
            rb.env,
            vec![EnvRequirement { name: "GREETING".into(), description: "what to say".into(), line: 6 }]
        );
        assert_eq!(rb.reads[0].path, "./data");
        assert_eq!(rb.writes[0].path, "./out");
        assert_eq!(rb.claims[0].values, vec!["dev", "admin"]);
        let step = &rb.steps[0];
        assert_eq!((step.name.as_str(), step.language, step.line), ("greet", Language::JavaScript, 24));
        assert_eq!(step.limits.timeout, Some(std::time::Duration::from_secs(5)));
        assert_eq!(step.source, Source::Inline("console.log('hi')\n".into()));
    }

    #[test]
    fn headings_inside_code_blocks_are_not_sections() {
        let text = GOOD.replace("console.log('hi')", "// # History\nconsole.log('# Script')");
        assert_eq!(parse(Path::new("Hello.md"), &text).unwrap().steps.len(), 1);
    }

    #[test]
    fn every_structural_problem_is_reported_with_its_line() {
        let text = "# Wrong\n\n# Script\n```python\nprint(1)\n```\n\n# History\n\n# Environment Requirements\n```yaml\nA: b\n```\n";
        let err = parse(Path::new("Right.md"), text).unwrap_err();
        let lines: Vec<_> = err.problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert!(lines.iter().any(|(l, m)| *l == 1 && m.contains("`Right`")), "{lines:?}");
        assert!(lines.iter().any(|(l, m)| *l == 4 && m.contains("`python`")), "{lines:?}");
        assert!(lines.iter().any(|(l, m)| *l == 10 && m.contains("must be the last section")), "{lines:?}");
        assert!(lines.iter().any(|(l, m)| *l == 10 && m.contains("out of order")), "{lines:?}");
        assert!(lines.iter().any(|(_, m)| m.contains("missing section `# File System Requirements`")), "{lines:?}");
    }

    #[test]
    fn yaml_errors_point_into_the_file() {
        let text = GOOD.replace("GREETING: what to say", "GREETING: [unclosed");
        let err = parse(Path::new("Hello.md"), &text).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].line >= 6, "{:?}", err.problems);
    }

    #[test]
    fn the_history_body_is_found() {
        let body = history_body(GOOD).unwrap();
        assert_eq!(&GOOD[body.clone()], "");
        assert_eq!(body.start, GOOD.len());
    }
}
