//! What consent binds (SPEC §2): every byte whose change changes what runs
//! under a grant. The runbook (above `# History`), each script file its
//! steps name, each registry entry they use (its script's pinned sha256,
//! where it is and whether it needs approval), and each sub-runbook its
//! steps name (`type: runbook`), with its own files, recursively: those
//! children run under the caller's consent, so what they ask is asked with
//! it. A `script_from_secret` script is the operator's, not the runbook's,
//! and is not bound (a registry entry's secret is, by its pin).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::consent::{self, Ask};
use super::sources::{self, Secrets};
use crate::model::{Runbook, Source};
use crate::parse;
use crate::state::{self, Protected};
use crate::text::sha256;

/// How deep sub-runbooks are followed (the chain's own default limit).
const MAX_DEPTH: usize = 50;

/// The files consent binds, by the name a user knows them by (relative to
/// the runbook's folder), with their sha256; and the sub-runbooks named in
/// the runbook, which run under its consent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bound {
    pub files: BTreeMap<String, String>,
    pub children: Vec<Child>,
}

/// A sub-runbook a runbook names: where it is, the digest of what it binds,
/// and what it asks (asked with its caller).
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    pub path: PathBuf,
    pub digest: String,
    pub asks: Vec<Ask>,
}

impl Bound {
    /// One hash of everything bound: what a child's consent is checked by.
    pub fn digest(&self) -> String {
        let text: String = self.files.iter().map(|(name, hash)| format!("{name}\t{hash}\n")).collect();
        sha256(&text)
    }
}

/// What consent to `runbook` binds, as the files are now.
pub fn bind(runbook: &Runbook, secrets: &Secrets, protected: &[Protected]) -> Bound {
    bind_loaded(runbook, None, secrets, protected)
}

/// The same, with the runbook's own scripts as the run loaded them (so
/// what consent is checked against is what runs, not a second read that a
/// file swapped in between would pass).
pub fn bind_loaded(
    runbook: &Runbook,
    scripts: Option<&[sources::Resolved]>,
    secrets: &Secrets,
    protected: &[Protected],
) -> Bound {
    let mut bound = Bound::default();
    let mut seen = vec![state::real(&runbook.path)];
    walk(runbook, scripts, "", secrets, protected, &mut seen, 0, &mut bound);
    bound
}

#[allow(clippy::too_many_arguments)]
fn walk(
    runbook: &Runbook,
    loaded: Option<&[sources::Resolved]>,
    prefix: &str,
    secrets: &Secrets,
    protected: &[Protected],
    seen: &mut Vec<PathBuf>,
    depth: usize,
    bound: &mut Bound,
) {
    let name = |rel: &str| format!("{prefix}{}", rel.trim_start_matches("./"));
    bound.files.insert(name(&runbook.file_name()), runbook.consent_sha256.clone());
    for (i, step) in runbook.steps.iter().enumerate() {
        let resolved = match loaded.and_then(|scripts| scripts.get(i)) {
            Some(script) => Ok(script.clone()),
            None => sources::resolve(runbook, step, secrets),
        };
        // What cannot be read now is bound as unreadable: it asks again
        // once it can be.
        let hash = |r: &Result<sources::Resolved, String>| match r {
            Ok(resolved) => resolved.audit.sha256.clone(),
            Err(_) => "unreadable".to_string(),
        };
        match &step.source {
            Source::File(path) => {
                bound.files.insert(name(path), hash(&resolved));
            }
            Source::Registry(id) => {
                let entry = match &resolved {
                    Ok(r) => {
                        let file = r.audit.registry.as_ref().map_or("", |reg| reg.file.as_str());
                        sha256(&format!("{file}\n{}\n{}\n{}", r.audit.reference, r.audit.sha256, r.requires_approval))
                    }
                    Err(_) => "unreadable".to_string(),
                };
                bound.files.insert(name(&format!("registry.yaml#{id}")), entry);
            }
            Source::Runbook { name: child_name, .. } => {
                bound.files.insert(name(child_name), hash(&resolved));
                if resolved.is_err() || depth >= MAX_DEPTH {
                    continue;
                }
                let path = runbook.folder().join(child_name);
                let real = state::real(&path);
                if seen.contains(&real) {
                    continue;
                }
                let Ok(child) = parse::load(&path) else { continue };
                seen.push(real.clone());
                let mut own = Bound::default();
                walk(&child, None, "", secrets, protected, seen, depth + 1, &mut own);
                let mut asks = consent::asks_of(&child, protected).unwrap_or_default();
                for ask in &mut asks {
                    ask.why = format!("{child_name}: {}", ask.why);
                }
                bound.files.extend(
                    own.files.iter().map(|(n, h)| (format!("{}{n}", child_prefix(prefix, child_name)), h.clone())),
                );
                bound.children.push(Child { path: real, digest: own.digest(), asks });
                bound.children.extend(own.children);
                seen.pop();
            }
            Source::Inline(_) | Source::Secret(_) => {}
        }
    }
}

/// How a sub-runbook's own files are named in its caller's list.
fn child_prefix(prefix: &str, child: &str) -> String {
    format!("{prefix}{child} > ")
}
