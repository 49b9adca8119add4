//! What consent binds: every byte whose change changes what runs
//! under a grant. The runbook (above `# History`), each script file its
//! steps name, each registry entry they use (its script's pinned sha256,
//! where it is and whether it needs approval), and each sub-runbook its
//! steps name (`type: runbook`), with its own files, recursively: those
//! children run under the caller's consent, so what they ask is asked with
//! it. A `script_from_secret` script is the operator's, not the runbook's,
//! and is not bound (a registry entry's secret is, by its pin).

use std::collections::{BTreeMap, HashMap};
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
/// the runbook's folder, where its sub-runbooks are too), with their sha256;
/// and the sub-runbooks named in the runbook and in those, each once, which
/// run under its consent.
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
        digest(&self.files)
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
    let mut walk =
        Walk { secrets, protected, done: HashMap::new(), open: vec![state::real(&runbook.path)], children: Vec::new() };
    let files = walk.closure(runbook, scripts, 0);
    Bound { files, children: walk.children }
}

/// One binding's walk over a runbook and the sub-runbooks it names. Every
/// runbook of the tree is beside the first (a child is named by its file
/// name), so a file's name relative to that folder names it once, and each
/// runbook is read once however often it is named: a tree of runbooks that
/// each name the next twice costs its size, not two to the power of its depth.
struct Walk<'a> {
    secrets: &'a Secrets,
    protected: &'a [Protected],
    /// What each runbook already walked binds, with its sub-runbooks'.
    done: HashMap<PathBuf, BTreeMap<String, String>>,
    /// The runbooks being walked (a loop is left to the run to refuse).
    open: Vec<PathBuf>,
    children: Vec<Child>,
}

impl Walk<'_> {
    /// The files `runbook` binds, its sub-runbooks' included.
    fn closure(
        &mut self,
        runbook: &Runbook,
        loaded: Option<&[sources::Resolved]>,
        depth: usize,
    ) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        files.insert(runbook.file_name(), runbook.consent_sha256.clone());
        for (i, step) in runbook.steps.iter().enumerate() {
            let resolved = match loaded.and_then(|scripts| scripts.get(i)) {
                Some(script) => Ok(script.clone()),
                None => sources::resolve(runbook, step, self.secrets),
            };
            // What cannot be read now is bound as unreadable: it asks again
            // once it can be.
            let hash = match &resolved {
                Ok(resolved) => resolved.audit.sha256.clone(),
                Err(_) => "unreadable".to_string(),
            };
            match &step.source {
                Source::File(path) => {
                    files.insert(path.trim_start_matches("./").to_string(), hash);
                }
                Source::Registry(id) => {
                    let entry = match &resolved {
                        Ok(r) => {
                            let file = r.audit.registry.as_ref().map_or("", |reg| reg.file.as_str());
                            sha256(&format!(
                                "{file}\n{}\n{}\n{}",
                                r.audit.reference, r.audit.sha256, r.requires_approval
                            ))
                        }
                        Err(_) => "unreadable".to_string(),
                    };
                    files.insert(format!("registry.yaml#{id}"), entry);
                }
                Source::Runbook { name, .. } => {
                    files.insert(name.clone(), hash);
                    if resolved.is_err() || depth >= MAX_DEPTH {
                        continue;
                    }
                    let path = runbook.folder().join(name);
                    let real = state::real(&path);
                    if self.open.contains(&real) {
                        continue;
                    }
                    if let Some(walked) = self.done.get(&real) {
                        files.extend(walked.iter().map(|(n, h)| (n.clone(), h.clone())));
                        continue;
                    }
                    let Ok(child) = parse::load(&path) else { continue };
                    self.open.push(real.clone());
                    let own = self.closure(&child, None, depth + 1);
                    self.open.pop();
                    let mut asks = consent::asks_of(&child, self.protected).unwrap_or_default();
                    for ask in &mut asks {
                        ask.why = format!("{name}: {}", ask.why);
                    }
                    self.children.push(Child { path: real.clone(), digest: digest(&own), asks });
                    files.extend(own.iter().map(|(n, h)| (n.clone(), h.clone())));
                    self.done.insert(real, own);
                }
                // A ConfigMap's script is bound as a file's is: changed in
                // the cluster, it asks again.
                Source::ConfigMap { name, key, .. } => {
                    let namespace = sources::object_of(&step.source).map(|o| o.namespace).unwrap_or_default();
                    files.insert(format!("configmap:{namespace}/{name}/{key}"), hash);
                }
                Source::Inline(_) | Source::Secret(_) => {}
            }
        }
        files
    }
}

/// One hash of the files a runbook binds.
fn digest(files: &BTreeMap<String, String>) -> String {
    let text: String = files.iter().map(|(name, hash)| format!("{name}\t{hash}\n")).collect();
    sha256(&text)
}
