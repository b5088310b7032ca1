//! Helpers shared by the end-to-end test files.

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
