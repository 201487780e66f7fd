//! The house rules of `src/`, checked: the layers only point down, and no files import each
//! other in a circle. The README's Layout section describes the same layers; this test is what
//! keeps that description true.
//!
//! It reads the sources as text: every `crate::a::b` path (in `use` items and inline), outside
//! `#[cfg(test)]` modules, names the module file it reaches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules from the bottom up. A module may import those on lower rows, and the
/// files of its own folder; never one on its own row or above.
const LAYERS: &[&[&str]] = &[
    // Values and leaf services that know nothing of the rest.
    &["domain", "markdown", "metrics"],
    &["config"],
    &["db"],
    &["error", "janitor"],
    // The domain, from the most basic up: every layer may use those below it.
    &["thread_cache"],
    &["audit"],
    &["auth"],
    &["sites"],
    &["moderation"],
    &["comments", "widget"],
    &["notify"],
    // The request layer: shared state at its bottom, then the HTTP plumbing, then handlers.
    &["state"],
    &["http"],
    &["api"],
    &["openapi"],
    &["app"],
    &["cli"],
    &["main", "lib"],
];

type Module = Vec<String>;

struct Source {
    module: Module,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).expect("under src/");
            let mut module: Module = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            // Tests may reach anything; only what ships counts.
            let text = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            Source { module, text }
        })
        // This file is a test: the paths in its strings are examples.
        .filter(|s| s.module != ["layers"])
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::...` path in the text, braces expanded one level (`crate::a::{b, c::d}`).
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        // `$crate::` and `colloquy_crate::` are other things.
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let head: Vec<String> = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map_or(rest.len(), |j| end + j);
            for item in rest[end + 1..close].split(',') {
                let mut path = head.clone();
                path.extend(
                    item.split_whitespace()
                        .next()
                        .unwrap_or("")
                        .split("::")
                        .filter(|s| !s.is_empty() && *s != "self" && *s != "{")
                        .map(str::to_owned),
                );
                out.push(path);
            }
        } else {
            out.push(head);
        }
    }
    out
}

/// The module a path lands in: its longest prefix that is a file of ours.
fn resolve(path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains(m))
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&top))
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let sources = sources();
    let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    sources
        .iter()
        .map(|s| {
            let targets = crate_paths(&s.text)
                .iter()
                .filter_map(|p| resolve(p, &modules))
                .filter(|m| *m != s.module)
                .collect();
            (s.module.clone(), targets)
        })
        .collect()
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unplaced: Vec<String> = graph()
        .keys()
        .map(|m| m.first().cloned().unwrap_or_else(|| "lib".to_owned()))
        .filter(|top| layer_of(top).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no row in LAYERS: {unplaced:?}"
    );
}

#[test]
fn imports_only_point_down() {
    let mut wrong = Vec::new();
    for (from, targets) in graph() {
        let Some(top) = from.first() else { continue };
        let Some(mine) = layer_of(top) else { continue };
        for to in targets {
            let Some(their) = to.first().and_then(|t| layer_of(t)) else {
                continue;
            };
            if to.first() != Some(top) && their >= mine {
                wrong.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = graph();
    // Tarjan's strongly connected components, iteratively small enough to recurse.
    struct Walk<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        circles: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let Some((w, _)) = self.graph.get_key_value(w) else {
                    continue;
                };
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut circle = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    circle.push(w.join("::"));
                    if w == v {
                        break;
                    }
                }
                if circle.len() > 1 {
                    self.circles.push(circle);
                }
            }
        }
    }
    let mut walk = Walk {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    assert!(
        walk.circles.is_empty(),
        "import circles: {:?}",
        walk.circles
    );
}

#[test]
fn the_reader_sees_through_braces_and_inline_paths() {
    let paths = crate_paths(
        "use crate::a::{b, c::d as e, self};\nlet x = crate::f::g(1); $crate::h; my_crate::i",
    );
    let want: Vec<Vec<String>> = [
        vec!["a", "b"],
        vec!["a", "c", "d"],
        vec!["a"],
        vec!["f", "g"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(paths, want);
}
