//! A markdown runbook's `# Script`: each fenced code block a step, its
//! info string (`sh {name=check timeout=30s}`) its name, language and limits.

use super::sections::Section;
use crate::error::Problem;
use crate::model::limits::{LimitOverrides, parse_duration, parse_fuel, parse_output, parse_size};
use crate::model::{Language, Native, Step};

pub(super) fn steps(section: &Section, runbook: &str, problems: &mut Vec<Problem>) -> Vec<Step> {
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
pub(super) fn split_info(info: &str) -> (String, Vec<String>) {
    let info = info.trim();
    let (tag, rest) = info.split_once(|c: char| c.is_whitespace() || c == '{').map_or((info, ""), |(t, r)| (t, r));
    let rest = rest.trim().trim_start_matches('{').trim_end_matches('}');
    (tag.to_ascii_lowercase(), rest.split_whitespace().map(str::to_string).collect())
}
