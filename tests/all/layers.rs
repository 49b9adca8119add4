//! The host's architecture, checked: each folder of `host/src` imports only
//! the folders below it, and no file imports, through any chain, a file that
//! imports it back. README's architecture section draws the same layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::harness::repo;

/// What each top-level module of the library may import besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("text", &[]),
    ("handle", &[]),
    ("state", &[]),
    ("model", &[]),
    ("kubernetes", &[]),
    ("parse", &["error", "text", "model"]),
    ("catalog", &["error", "text", "handle", "model", "parse"]),
    ("template", &["error", "text", "model"]),
    ("plan", &["error", "text", "handle", "state", "model", "parse", "template", "kubernetes"]),
    ("sandbox", &["error", "text", "handle", "state", "model"]),
    ("native", &["error", "text", "handle", "state", "model", "sandbox"]),
    ("store", &["error", "text", "handle", "state", "model"]),
    ("jobs", &["error", "text", "handle", "state", "model", "sandbox", "kubernetes"]),
    (
        "run",
        &[
            "error",
            "text",
            "handle",
            "state",
            "model",
            "parse",
            "catalog",
            "template",
            "plan",
            "sandbox",
            "native",
            "store",
            "kubernetes",
            "jobs",
        ],
    ),
    (
        "api",
        &[
            "error",
            "text",
            "handle",
            "state",
            "model",
            "parse",
            "catalog",
            "template",
            "plan",
            "sandbox",
            "native",
            "store",
            "kubernetes",
            "jobs",
            "run",
        ],
    ),
];

fn src() -> PathBuf {
    repo().join("host/src")
}

/// Every library source file, as a path relative to `host/src`.
fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path.strip_prefix(src()).unwrap().to_path_buf());
        }
    }
}

/// The module path of a file: `run/mod.rs` → `[run]`, `run/chain.rs` → `[run, chain]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The file that holds module `path`, or its nearest enclosing module's.
fn file_of(path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let dir: PathBuf = path[..n].iter().collect();
        [dir.with_extension("rs"), dir.join("mod.rs")].into_iter().find(|f| src().join(f).is_file())
    })
}

/// The code of `text`, without its tests, comments and string literals (a
/// path named in a doc comment or a message is not an import).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|line| {
            let line = line.split("//").next().unwrap_or("");
            let mut out = String::new();
            let mut quoted = false;
            for c in line.chars() {
                if c == '"' {
                    quoted = !quoted;
                } else if !quoted {
                    out.push(c);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths `text` (of the module `me`) refers to: `crate::a::b`,
/// `super::c` and `child::d` (a module it declares), each as far as it
/// names modules.
fn references(text: &str, me: &[String]) -> Vec<Vec<String>> {
    let code = code(text);
    let mut parent = me.to_vec();
    parent.pop();
    let mut prefixes = vec![("crate::".to_string(), Vec::new()), ("super::".to_string(), parent)];
    for line in code.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let declared = words.iter().position(|w| *w == "mod").and_then(|at| words.get(at + 1));
        if let Some(name) = declared.and_then(|n| n.strip_suffix(';')) {
            prefixes.push((format!("{name}::"), [me, &[name.to_string()]].concat()));
        }
    }
    let mut found = Vec::new();
    for (prefix, base) in prefixes {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(&prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            // `prefix{a, b::c}` names each of its items.
            let items: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group[..group.find('}').unwrap_or(group.len())].split(',').collect(),
                None => vec![rest],
            };
            for item in items {
                let mut path = base.clone();
                for segment in item.trim_start().split("::") {
                    let name: String = segment.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if name.is_empty() || name == "self" {
                        break;
                    }
                    path.push(name.clone());
                    if name.len() != segment.len() {
                        break;
                    }
                }
                if !path.is_empty() {
                    found.push(path);
                }
            }
        }
    }
    found
}

/// Files and the files they import (through `crate::` and `super::`).
fn graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut edges = BTreeMap::new();
    // The library's front ends: the programs and the command line.
    let front = |f: &PathBuf| {
        ["lib.rs", "main.rs", "terminal.rs", "progress.rs", "github.rs", "snippet.rs"].contains(&f.to_str().unwrap())
            || f.starts_with("cli")
            || f.starts_with("bin")
    };
    for file in all.iter().filter(|f| !front(f)) {
        let text = std::fs::read_to_string(src().join(file)).unwrap();
        let me = module_of(file);
        let targets: BTreeSet<PathBuf> =
            references(&text, &me).iter().filter_map(|path| file_of(path)).filter(|target| target != file).collect();
        edges.insert(file.clone(), targets);
    }
    edges
}

#[test]
fn each_folder_imports_only_the_folders_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (file, targets) in graph() {
        let from = module_of(&file)[0].clone();
        let may = allowed.get(from.as_str()).unwrap_or_else(|| panic!("{} is in no layer of ALLOWED", file.display()));
        for target in targets {
            let to = module_of(&target)[0].clone();
            if to != from && !may.contains(&to.as_str()) {
                wrong.push(format!("{} imports {}", file.display(), target.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn no_file_imports_itself_through_others() {
    let graph = graph();
    // Depth-first search for a back edge; report the cycle.
    fn visit(
        file: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        path: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = path.iter().position(|f| f == file) {
            return Some(path[at..].to_vec());
        }
        if !done.insert(file.clone()) {
            return None;
        }
        path.push(file.clone());
        for next in graph.get(file).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for file in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(file, &graph, &mut path, &mut done) {
            let names: Vec<String> = cycle.iter().map(|f| f.display().to_string()).collect();
            panic!("an import cycle: {} → back to the first", names.join(" → "));
        }
    }
    // The check sees the imports it is about.
    assert!(graph[Path::new("run/mod.rs")].contains(Path::new("plan/mod.rs")));
    assert!(graph[Path::new("sandbox/store.rs")].contains(Path::new("sandbox/script.rs")));
}
