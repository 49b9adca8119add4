//! A markdown runbook's skeleton: its H1 sections in their fixed order,
//! each with its fenced code blocks and lines (pulldown-cmark, so that a
//! heading inside code is not a section).

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::error::Problem;

pub(super) const ENVIRONMENT: &str = "Environment Requirements";
pub(super) const FILE_SYSTEM: &str = "File System Requirements";
pub(super) const CLAIMS: &str = "Required Claims";
pub(super) const SCRIPT: &str = "Script";
pub(super) const HISTORY: &str = "History";
/// The sections after the name, in the order they must appear.
pub(super) const ORDER: [&str; 5] = [ENVIRONMENT, FILE_SYSTEM, CLAIMS, SCRIPT, HISTORY];

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
pub(super) struct Section {
    pub(super) title: String,
    pub(super) line: usize,
    pub(super) heading_start: usize,
    pub(super) body: Range<usize>,
    pub(super) blocks: Vec<CodeBlock>,
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

/// The H1 sections of `text`, each with its code blocks.
pub(super) fn sections(text: &str, lines: &Lines) -> Vec<Section> {
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
pub(super) fn closes_its_fence(block: &str) -> bool {
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

pub(super) fn check_order(sections: &[Section], problems: &mut Vec<Problem>) {
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
