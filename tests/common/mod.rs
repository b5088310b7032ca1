//! Helpers shared by the end-to-end test files.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use consent_gates::harness::{self, Options};
use consent_gates::report::TrialResult;

/// Runs, quietly, the trials of `specs` that `select` accepts; snapshots go to a temporary
/// folder (kept alive by the returned guard).
pub fn judge(specs: &str, select: impl Fn(&str) -> bool) -> (Vec<TrialResult>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = Options {
        specs: specs.into(),
        snapshots: Some(tmp.path().join("snapshots")),
        table: false,
        out: None,
    };
    (harness::judge(&options, select, 2), tmp)
}

/// The trial called `name`, or a panic listing those that ran.
pub fn result<'a>(results: &'a [TrialResult], name: &str) -> &'a TrialResult {
    results
        .iter()
        .find(|r| r.name() == name)
        .unwrap_or_else(|| {
            panic!(
                "no trial {name} in {:?}",
                results.iter().map(TrialResult::name).collect::<Vec<_>>()
            )
        })
}

/// Every file below `dir` (recursively), in no particular order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
