//! The parsed form of a runbook, whatever file format it came from.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::limits::LimitOverrides;

/// A runbook as read from its file: what it needs and what it runs.
#[derive(Clone, Debug)]
pub struct Runbook {
    /// The file it was read from.
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    /// The only host variables the steps see.
    pub env: Vec<EnvRequirement>,
    /// Paths mounted read-only; they must exist.
    pub inputs: Vec<PathRequirement>,
    /// Directories mounted read-write; created when missing.
    pub outputs: Vec<PathRequirement>,
    /// JWT claims a caller must hold (one listed value of each).
    pub claims: Vec<ClaimRequirement>,
    pub steps: Vec<Step>,
}

impl Runbook {
    /// The folder relative paths in the runbook start from.
    pub fn folder(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// The file's name, e.g. `HelloWorld.md`, for messages.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvRequirement {
    pub name: String,
    pub description: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRequirement {
    /// As written in the runbook: relative to its folder, or absolute.
    pub path: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRequirement {
    pub claim: String,
    pub values: Vec<String>,
    pub line: usize,
}

/// One code block of the script, run in a fresh sandbox instance.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    pub language: Language,
    pub source: String,
    /// The line of the runbook file that holds the source's first line.
    pub line: usize,
    pub limits: LimitOverrides,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// `sh`, `bash` or `zsh`: the sandboxed shell.
    Shell,
    /// `js` or `javascript`: QuickJS.
    JavaScript,
}

impl Language {
    pub fn from_tag(tag: &str) -> Option<Language> {
        match tag {
            "sh" | "bash" | "zsh" | "shell" => Some(Language::Shell),
            "js" | "javascript" => Some(Language::JavaScript),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Shell => "sh",
            Language::JavaScript => "js",
        }
    }
}

/// Something wrong with a runbook, at a line of its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl Problem {
    pub fn new(line: usize, message: impl Into<String>) -> Problem {
        Problem { line, message: message.into() }
    }
}

/// Every problem found in one runbook file.
#[derive(Clone, Debug, thiserror::Error)]
pub struct Invalid {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{} is not a valid runbook ({n} problem{}):", self.file.display(), if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  {}:{}: {}", self.file.display(), p.line, p.message)?;
        }
        Ok(())
    }
}
