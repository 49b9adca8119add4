//! Markdown runbooks: H1 sections in a fixed order,
//! yaml blocks for requirements, fenced code blocks as steps, `# History`
//! last. Parsed with pulldown-cmark so headings inside code are not sections;
//! every structural problem is reported, each with its line.

use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};
use yaml_serde::Value as Yaml;

use crate::error::{Invalid, Problem};
use crate::model::limits::{LimitOverrides, parse_duration, parse_fuel, parse_output, parse_size};
use crate::model::{
    ClaimRequirement, EnvRequirement, Format, Language, Native, PathRequirement, Runbook, Step, is_env_name,
};

const ENVIRONMENT: &str = "Environment Requirements";
const FILE_SYSTEM: &str = "File System Requirements";
const CLAIMS: &str = "Required Claims";
const SCRIPT: &str = "Script";
const HISTORY: &str = "History";
/// The sections after the name, in the order they must appear.
const ORDER: [&str; 5] = [ENVIRONMENT, FILE_SYSTEM, CLAIMS, SCRIPT, HISTORY];

/// Maps byte offsets of a text to 1-based line numbers.
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        Lines(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    pub(crate) fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// An H1 section: its title, where its heading starts and where its body
/// (everything up to the next H1) lies.
struct Section {
    title: String,
    line: usize,
    heading_start: usize,
    body: Range<usize>,
    blocks: Vec<CodeBlock>,
}

/// A fenced code block; `line` is the line of its first content line.
pub(crate) struct CodeBlock {
    pub(crate) info: String,
    pub(crate) content: String,
    pub(crate) fence_line: usize,
    pub(crate) line: usize,
    /// Its closing fence is there: an unclosed fence runs to the end of
    /// the file, swallowing the sections after it.
    pub(crate) closed: bool,
}

/// Parses `text`, the content of the runbook file `path`.
pub fn parse(path: &Path, text: &str) -> Result<Runbook, Invalid> {
    match parse_partial(path, text)? {
        (runbook, problems) if problems.iter().all(|p| p.warning) => Ok(runbook),
        (_, problems) => {
            Err(Invalid { file: path.to_path_buf(), problems: problems.into_iter().filter(|p| !p.warning).collect() })
        }
    }
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

fn sections(text: &str, lines: &Lines) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut heading: Option<(usize, String)> = None;
    let mut block: Option<(usize, String, String)> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. }) => heading = Some((range.start, String::new())),
            Event::End(TagEnd::Heading(HeadingLevel::H1)) => {
                if let Some((start, title)) = heading.take() {
                    if let Some(last) = sections.last_mut() {
                        last.body.end = start;
                    }
                    sections.push(Section {
                        title: title.trim().to_string(),
                        line: lines.of(start),
                        heading_start: start,
                        body: range.end..text.len(),
                        blocks: Vec::new(),
                    });
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                block = Some((range.start, info.to_string(), String::new()));
            }
            Event::End(TagEnd::CodeBlock) => {
                if let (Some((start, info, content)), Some(section)) = (block.take(), sections.last_mut()) {
                    let fence_line = lines.of(start);
                    let closed = closes_its_fence(&text[start..range.end]);
                    section.blocks.push(CodeBlock { info, content, fence_line, line: fence_line + 1, closed });
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, title)) = heading.as_mut() {
                    title.push_str(&t);
                } else if let Some((_, _, content)) = block.as_mut() {
                    content.push_str(&t);
                }
            }
            _ => {}
        }
    }
    sections
}

/// Whether the fenced block `block` (its text from the opening fence) ends
/// with a closing fence of the same character, at least as long.
fn closes_its_fence(block: &str) -> bool {
    let opening = block.trim_start();
    let fence_char = opening.chars().next().unwrap_or('`');
    let length = opening.chars().take_while(|c| *c == fence_char).count();
    let mut lines = block.trim_end().lines();
    let _ = lines.next();
    lines.last().is_some_and(|last| {
        let last = last.trim();
        last.chars().all(|c| c == fence_char) && last.chars().count() >= length
    })
}

fn check_order(sections: &[Section], problems: &mut Vec<Problem>) {
    let mut last_rank = None;
    for (i, section) in sections.iter().enumerate() {
        let Some(rank) = ORDER.iter().position(|t| *t == section.title) else {
            let expected = format!("expected one of: {}", ORDER.join(", "));
            let help = match crate::text::nearest(&section.title, ORDER.iter().copied()) {
                Some(meant) => format!("did you mean `# {meant}`? ({expected})"),
                None => expected,
            };
            problems.push(
                Problem::new(section.line, format!("unknown section `# {}`", section.title))
                    .spanning(1, section.title.chars().count() + 2)
                    .help(help),
            );
            continue;
        };
        if sections[..i].iter().any(|s| s.title == section.title) {
            problems.push(Problem::new(section.line, format!("section `# {}` appears twice", section.title)));
            continue;
        }
        if let Some(last) = last_rank
            && rank < last
        {
            problems.push(Problem::new(
                section.line,
                format!("section `# {}` is out of order: it must come before `# {}`", section.title, ORDER[last]),
            ));
        }
        last_rank = Some(last_rank.map_or(rank, |l: usize| l.max(rank)));
    }
    if let Some(history) = sections.iter().position(|s| s.title == HISTORY)
        && let Some(after) = sections.get(history + 1)
    {
        problems.push(Problem::new(
            after.line,
            format!("`# History` must be the last section, but `# {}` follows it", after.title),
        ));
    }
    let end_line = sections.last().map_or(1, |s| s.line);
    // An unclosed code block swallowed what follows it: that block is the
    // problem to report (at its fence), not the sections it hid.
    if sections.iter().flat_map(|s| &s.blocks).any(|b| !b.closed) {
        return;
    }
    for (rank, title) in ORDER.iter().enumerate().filter(|(_, t)| **t != CLAIMS) {
        if sections.iter().any(|s| s.title == *title) {
            continue;
        }
        // Where it goes: before the first section that comes after it.
        let later = sections.iter().find(|s| ORDER.iter().position(|t| *t == s.title).is_some_and(|r| r > rank));
        let block = if matches!(*title, ENVIRONMENT | FILE_SYSTEM) {
            " with its ```yaml block (empty when none is needed)"
        } else {
            ""
        };
        let problem = Problem::new(later.map_or(end_line, |s| s.line), format!("missing section `# {title}`"));
        problems.push(problem.help(match later {
            Some(later) => format!("add `# {title}`{block} before `# {}`", later.title),
            None => format!("add `# {title}`{block} at the end"),
        }));
    }
}

/// The section's yaml block, parsed; `None` after reporting a problem.
fn yaml_block(section: &Section, problems: &mut Vec<Problem>) -> Option<(Yaml, usize)> {
    let Some(block) = section.blocks.iter().find(|b| matches!(b.info.trim(), "yaml" | "yml" | "")) else {
        problems.push(Problem::new(section.line, format!("`# {}` needs a ```yaml code block", section.title)));
        return None;
    };
    // The same guard as YAML runbooks: a deeply nested block would take the
    // parser quadratic time before it failed.
    if let Some(at) = super::yaml::too_deep(&block.content) {
        problems.push(Problem::new(
            block.line + at - 1,
            format!(
                "the yaml in `# {}` nests more than {} levels deep; a runbook never needs that",
                section.title,
                super::yaml::MAX_DEPTH
            ),
        ));
        return None;
    }
    match yaml_serde::from_str::<Yaml>(&block.content) {
        Ok(value) => Some((value, block.line)),
        Err(e) => {
            let line = e.location().map_or(block.line, |l| block.line + l.line() - 1);
            problems.push(Problem::new(line, format!("invalid yaml in `# {}`: {e}", section.title)));
            None
        }
    }
}

/// The section's yaml block as a mapping (empty when the block is empty);
/// `None` after reporting a problem. `shape` says what the mapping holds.
fn yaml_mapping(section: &Section, shape: &str, problems: &mut Vec<Problem>) -> Option<(yaml_serde::Mapping, usize)> {
    let (yaml, line) = yaml_block(section, problems)?;
    match yaml {
        Yaml::Null => Some((yaml_serde::Mapping::new(), line)),
        Yaml::Mapping(map) => Some((map, line)),
        _ => {
            problems.push(Problem::new(line, format!("`# {}` must {shape}", section.title)));
            None
        }
    }
}

/// The line of `key` inside a yaml block, for messages.
fn key_line(section: &Section, block_line: usize, key: &str) -> usize {
    section
        .blocks
        .iter()
        .find(|b| b.line == block_line)
        .and_then(|b| b.content.lines().position(|l| l.trim_start().trim_start_matches("- ").starts_with(key)))
        .map_or(block_line, |i| block_line + i)
}

fn environment(section: &Section, problems: &mut Vec<Problem>) -> Vec<EnvRequirement> {
    let Some((map, line)) = yaml_mapping(section, "map each VARIABLE to its description", problems) else {
        return Vec::new();
    };
    let mut env = Vec::new();
    for (key, value) in map {
        let name = scalar(&key).unwrap_or_default();
        let at = key_line(section, line, &name);
        if !is_env_name(&name) {
            problems.push(Problem::new(at, format!("`{name}` is not an environment variable name")));
            continue;
        }
        env.push(EnvRequirement { description: scalar(&value).unwrap_or_default(), name, line: at });
    }
    env
}

fn file_system(section: &Section, problems: &mut Vec<Problem>) -> (Vec<PathRequirement>, Vec<PathRequirement>) {
    let Some((map, line)) = yaml_mapping(section, "have `Input:` and `Output:` lists", problems) else {
        return Default::default();
    };
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for (key, value) in map {
        let key = scalar(&key).unwrap_or_default();
        let target = match key.as_str() {
            "Input" | "input" | "Inputs" | "inputs" => &mut inputs,
            "Output" | "output" | "Outputs" | "outputs" => &mut outputs,
            other => {
                problems.push(Problem::new(
                    key_line(section, line, other),
                    format!("unknown key `{other}` in `# File System Requirements` (expected Input, Output)"),
                ));
                continue;
            }
        };
        let items = match value {
            Yaml::Null => Vec::new(),
            Yaml::Sequence(items) => items,
            single @ Yaml::String(_) => vec![single],
            _ => {
                problems.push(Problem::new(key_line(section, line, &key), format!("`{key}` must be a list of paths")));
                continue;
            }
        };
        for item in items {
            match scalar(&item).filter(|p| !p.trim().is_empty()) {
                Some(path) => target.push(PathRequirement { line: key_line(section, line, &path), path }),
                None => problems.push(Problem::new(
                    key_line(section, line, &key),
                    format!("`{key}` lists an entry that is not a path"),
                )),
            }
        }
    }
    (inputs, outputs)
}

fn claims(section: &Section, problems: &mut Vec<Problem>) -> Vec<ClaimRequirement> {
    let Some((map, line)) = yaml_mapping(section, "map each claim to its accepted values", problems) else {
        return Vec::new();
    };
    let mut claims = Vec::new();
    for (key, value) in map {
        let claim = scalar(&key).unwrap_or_default();
        let at = key_line(section, line, &claim);
        let values: Vec<String> = match &value {
            Yaml::Sequence(items) => items.iter().filter_map(scalar).collect(),
            other => scalar(other).unwrap_or_default().split(',').map(|v| v.trim().to_string()).collect(),
        };
        let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            problems.push(Problem::new(at, format!("claim `{claim}` lists no accepted values")));
            continue;
        }
        claims.push(ClaimRequirement { claim, values, line: at });
    }
    claims
}

fn steps(section: &Section, runbook: &str, problems: &mut Vec<Problem>) -> Vec<Step> {
    let mut steps = Vec::new();
    for block in &section.blocks {
        let (tag, attributes) = split_info(&block.info);
        // PowerShell exists only natively; bash and zsh when marked {native}.
        let powershell = matches!(tag.as_str(), "powershell" | "pwsh");
        let native = powershell || attributes.iter().any(|a| a == "native");
        let Some(language) = Language::from_tag(&tag).or(powershell.then_some(Language::Shell)) else {
            let shown = if tag.is_empty() { "(none)".to_string() } else { format!("`{tag}`") };
            problems.push(Problem::new(
                block.fence_line,
                format!("code block language {shown} is not runnable: use sh, bash, zsh, js, javascript or powershell"),
            ));
            continue;
        };
        let native = match (native, Native::from_tag(&tag)) {
            (false, _) => None,
            (true, Some(native)) => Some(native),
            (true, None) => {
                problems.push(Problem::new(
                    block.fence_line,
                    format!("`{tag}` has no native tier: {{native}} is for bash, zsh and powershell"),
                ));
                None
            }
        };
        let mut name = format!("step-{}", steps.len() + 1);
        let mut limits = LimitOverrides::default();
        for attribute in attributes.iter().filter(|a| *a != "native") {
            let Some((key, value)) = attribute.split_once('=') else {
                problems
                    .push(Problem::new(block.fence_line, format!("step attribute `{attribute}` must be key=value")));
                continue;
            };
            let value = value.trim_matches('"');
            let parsed = match key {
                "name" if !value.is_empty() => {
                    name = value.to_string();
                    Ok(())
                }
                "timeout" => parse_duration(value).map(|d| limits.timeout = Some(d)),
                "fuel" => parse_fuel(value).map(|f| limits.fuel = Some(f)),
                "memory" => parse_size(value).map(|m| limits.memory = Some(m)),
                "output" => parse_output(value).map(|o| limits.output = Some(o)),
                _ => Err(format!("unknown step attribute `{key}` (expected name, timeout, fuel, memory, output)")),
            };
            if let Err(message) = parsed {
                problems.push(Problem::new(block.fence_line, message));
            }
        }
        if steps.iter().any(|s: &Step| s.name == name) {
            problems.push(Problem::new(block.fence_line, format!("two steps are named `{name}`")));
        }
        if block.content.trim().is_empty() {
            problems.push(Problem::new(block.fence_line, format!("step `{name}` has no code")));
        }
        let mut step = Step::inline(name, language, block.content.clone(), block.line, limits);
        step.native = native;
        steps.push(step);
    }
    if section.blocks.is_empty() {
        problems.push(Problem::new(section.line, format!("`# Script` of {runbook} has no code block to run")));
    }
    steps
}

/// `sh {name=check timeout=30s}` → (`sh`, [`name=check`, `timeout=30s`]).
fn split_info(info: &str) -> (String, Vec<String>) {
    let info = info.trim();
    let (tag, rest) = info.split_once(|c: char| c.is_whitespace() || c == '{').map_or((info, ""), |(t, r)| (t, r));
    let rest = rest.trim().trim_start_matches('{').trim_end_matches('}');
    (tag.to_ascii_lowercase(), rest.split_whitespace().map(str::to_string).collect())
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

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
