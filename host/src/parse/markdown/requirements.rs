//! What a markdown runbook's requirement sections hold: the yaml blocks of
//! `# Environment Requirements`, `# File System Requirements` and
//! `# Required Claims`, each entry with its line.

use yaml_serde::Value as Yaml;

use super::sections::Section;
use crate::error::Problem;
use crate::model::{ClaimRequirement, EnvRequirement, PathRequirement, is_env_name};

/// The section's yaml block, parsed; `None` after reporting a problem.
pub(super) fn yaml_block(section: &Section, problems: &mut Vec<Problem>) -> Option<(Yaml, usize)> {
    let Some(block) = section.blocks.iter().find(|b| matches!(b.info.trim(), "yaml" | "yml" | "")) else {
        problems.push(Problem::new(section.line, format!("`# {}` needs a ```yaml code block", section.title)));
        return None;
    };
    // The same guard as YAML runbooks: a deeply nested block would take the
    // parser quadratic time before it failed.
    if let Some(at) = crate::parse::yaml::too_deep(&block.content) {
        problems.push(Problem::new(
            block.line + at - 1,
            format!(
                "the yaml in `# {}` nests more than {} levels deep; a runbook never needs that",
                section.title,
                crate::parse::yaml::MAX_DEPTH
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
pub(super) fn yaml_mapping(
    section: &Section,
    shape: &str,
    problems: &mut Vec<Problem>,
) -> Option<(yaml_serde::Mapping, usize)> {
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
pub(super) fn key_line(section: &Section, block_line: usize, key: &str) -> usize {
    section
        .blocks
        .iter()
        .find(|b| b.line == block_line)
        .and_then(|b| b.content.lines().position(|l| l.trim_start().trim_start_matches("- ").starts_with(key)))
        .map_or(block_line, |i| block_line + i)
}

pub(super) fn environment(section: &Section, problems: &mut Vec<Problem>) -> Vec<EnvRequirement> {
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

pub(super) fn file_system(
    section: &Section,
    problems: &mut Vec<Problem>,
) -> (Vec<PathRequirement>, Vec<PathRequirement>) {
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

pub(super) fn claims(section: &Section, problems: &mut Vec<Problem>) -> Vec<ClaimRequirement> {
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

pub(super) fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
