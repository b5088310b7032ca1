//! The crate's layering, enforced: every `crate::…` (and `super::…`) path in `src/` may only name
//! a module of the same layer or of a layer below, and no two modules name each other through a
//! chain (no circles). The layers are in `src/lib.rs`'s rustdoc and in ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

/// The layer of a top-level module of `src/`; `None` for files outside the layering (lib.rs).
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "spec" | "capture" | "outcome" | "paths" => 0,
        "analysis" => 1,
        "browser" => 2,
        "output" => 3,
        "runner" => 4,
        _ => return None,
    })
}

/// `src/analysis/verdict/mod.rs` → `["analysis", "verdict"]`; `src/analysis/routing.rs` →
/// `["analysis", "routing"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Every module path a line names: `crate::a::b::{c, d}` → `a::b::c`, `a::b::d`, and
/// `super::x` resolved against `module`. Over-approximates (an item name may be taken for a
/// module); [`resolve`] then keeps only real modules.
fn named_paths(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        // Skip `consent_gates::crate::` lookalikes and `…super::` inside longer identifiers.
        if start > 0 {
            let prev = code.as_bytes()[start - 1];
            if prev.is_ascii_alphanumeric() || prev == b'_' {
                continue;
            }
        }
        let rest = &code[start..];
        let mut base: Vec<String> = Vec::new();
        let mut tail = rest;
        if let Some(t) = tail.strip_prefix("crate::") {
            tail = t;
        } else {
            // `super` is the parent of the module the file defines (`a/b.rs` and `a/b/mod.rs`
            // both define `a::b`, whose parent is `a`).
            base = module.to_vec();
            let mut t = tail;
            while let Some(n) = t.strip_prefix("super::") {
                base.pop();
                t = n;
            }
            tail = t;
        }
        let path_text: String = tail
            .chars()
            .take_while(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '{' | '}' | ',' | ' ')
            })
            .collect();
        // `a::b::{c, d}` → both; nested braces are rare enough to treat flatly.
        if let Some((prefix, group)) = path_text.split_once('{') {
            let prefix: Vec<String> = prefix
                .split("::")
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_string())
                .collect();
            for item in group.split([',', '}']) {
                let item = item.trim();
                if item.is_empty() || item == "self" {
                    let mut p = base.clone();
                    p.extend(prefix.iter().cloned());
                    out.push(p);
                    continue;
                }
                let mut p = base.clone();
                p.extend(prefix.iter().cloned());
                p.extend(item.split("::").map(|s| s.trim().to_string()));
                out.push(p);
            }
        } else {
            let mut p = base.clone();
            p.extend(
                path_text
                    .split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty() && !s.contains(' ')),
            );
            out.push(p);
        }
    }
    out
}

/// The longest prefix of `path` that is a module of the crate.
fn resolve(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

struct Graph {
    /// module → modules it names, with the first line that does.
    edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = common::files_under(&src);
    files.retain(|f| f.extension().is_some_and(|e| e == "rs") && !f.starts_with(src.join("bin")));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("read");
        // `#[cfg(test)] mod tests` blocks may reach anywhere: stop at the first one.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in text.lines().enumerate() {
            for path in named_paths(line, &module) {
                if let Some(target) = resolve(&path, &modules)
                    && target != module
                    && !module.starts_with(&target)
                {
                    edges
                        .entry(module.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| {
                            format!("{}:{}: {}", file.display(), n + 1, line.trim())
                        });
                }
            }
        }
    }
    Graph { edges }
}

/// Known violations being removed (issue 10): the report types move to `outcome`. Remove an
/// entry when its fix lands; the list must end empty.
const PENDING: &[&str] = &[];

#[test]
fn imports_only_point_down_the_layers() {
    let g = graph();
    let mut upward = Vec::new();
    for (from, targets) in &g.edges {
        let Some(lf) = from.first().and_then(|t| layer(t)) else {
            continue;
        };
        for (to, line) in targets {
            let Some(lt) = to.first().and_then(|t| layer(t)) else {
                continue;
            };
            let key = format!("{} → {}", from.join("::"), to.join("::"));
            if lt > lf && !PENDING.contains(&key.as_str()) {
                upward.push(format!(
                    "{} (layer {lf}) imports {} (layer {lt}):\n    {line}",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    common::assert_no_problems(
        "imports that run up a layer (move the item down, or the code up)",
        upward,
    );
}

#[test]
fn no_module_circles() {
    let g = graph();
    // Tarjan-free: a DFS from every node looking for a path back to it (the graph is small).
    let mut circles = BTreeSet::new();
    for start in g.edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in g.edges.get(&node).into_iter().flat_map(|t| t.keys()) {
                if next == start {
                    let mut names: Vec<String> = path.iter().map(|m| m.join("::")).collect();
                    // One spelling per circle: rotate to its smallest member.
                    let min = names
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| n.as_str())
                        .map_or(0, |(i, _)| i);
                    names.rotate_left(min);
                    let circle = names.join(" → ");
                    if !PENDING.contains(&circle.as_str()) {
                        circles.insert(circle);
                    }
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    common::assert_no_problems(
        "modules that import each other (a circle; split the shared part out)",
        circles,
    );
}

#[test]
fn the_checker_sees_imports() {
    // Guards against a checker that passes because it parses nothing.
    let g = graph();
    let runner_trial = vec!["runner".to_string(), "trial".to_string()];
    let targets = g
        .edges
        .get(&runner_trial)
        .expect("runner::trial imports something");
    assert!(
        targets
            .keys()
            .any(|t| t.first().is_some_and(|m| m == "analysis"))
    );
    assert!(
        targets
            .keys()
            .any(|t| t.first().is_some_and(|m| m == "browser"))
    );
}
