//! The validated plan of an execution: everything a runbook needs of the
//! host, checked before anything runs, with every problem reported at once.

use std::collections::HashMap;

use crate::mounts::{self, Declared};
use crate::runbook::{Problem, Runbook};

/// What the sandbox of one execution is made of.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The declared variables with their values: the guest's whole environment.
    pub env: Vec<(String, String)>,
    /// The declared paths, resolved on the host.
    pub paths: Vec<Declared>,
}

/// Checks `runbook` against this host: its variables are set (from `env`
/// first, then the process environment), its inputs exist, and its paths
/// stay where they may.
pub fn check(runbook: &Runbook, env: &HashMap<String, String>) -> Result<Plan, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut values = Vec::new();
    for requirement in &runbook.env {
        match env.get(&requirement.name).cloned().or_else(|| std::env::var(&requirement.name).ok()) {
            Some(value) => values.push((requirement.name.clone(), value)),
            None => problems.push(Problem::new(
                requirement.line,
                format!("environment variable `{}` is not set ({})", requirement.name, requirement.description),
            )),
        }
    }
    let paths = mounts::resolve(runbook).unwrap_or_else(|more| {
        problems.extend(more);
        Vec::new()
    });
    problems.sort_by_key(|p| p.line);
    if problems.is_empty() { Ok(Plan { env: values, paths }) } else { Err(problems) }
}
