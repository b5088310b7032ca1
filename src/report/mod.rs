//! What every run leaves behind for CI and other tools: `target/consent-gates/results.json`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::verdict::{Failure, Verdict};

/// Whether the trial's snapshot matched the accepted one (recorded apart from the verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotStatus {
    Match,
    Changed,
    New,
    /// Not compared: the trial errored, or a step did not match.
    Skipped,
}

/// One trial's entry in `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TrialResult {
    pub spec: String,
    pub state: String,
    pub verdict: Verdict,
    pub failures: Vec<Failure>,
    pub snapshot: SnapshotStatus,
    pub duration_ms: u64,
}

impl TrialResult {
    /// `<spec>::<state>`, the trial's name.
    pub fn name(&self) -> String {
        format!("{}::{}", self.spec, self.state)
    }
}

#[derive(Serialize)]
struct ResultsFile<'a> {
    version: u32,
    trials: &'a [TrialResult],
}

/// The folder a run writes into: `$CONSENT_GATES_OUT`, else `<target>/consent-gates`.
pub fn output_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CONSENT_GATES_OUT") {
        return PathBuf::from(p);
    }
    target_dir().join("consent-gates")
}

/// Cargo's target folder: `$CARGO_TARGET_DIR`, else the `target` folder holding this executable,
/// else `./target`.
pub fn target_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(p);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "target"))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Writes `results.json` (sorted by trial name) atomically into `dir`.
pub fn write_results(dir: &Path, results: &[TrialResult]) -> std::io::Result<PathBuf> {
    let mut sorted = results.to_vec();
    sorted.sort_by_key(TrialResult::name);
    std::fs::create_dir_all(dir)?;
    let path = dir.join("results.json");
    let tmp = dir.join("results.json.tmp");
    let json = serde_json::to_vec_pretty(&ResultsFile {
        version: 1,
        trials: &sorted,
    })
    .map_err(std::io::Error::other)?;
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// A plain-text verdict table, one row per trial.
pub fn verdict_table(results: &[TrialResult]) -> String {
    let mut sorted = results.to_vec();
    sorted.sort_by_key(TrialResult::name);
    let width = sorted
        .iter()
        .map(|r| r.name().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:width$}  {:7}  {:8}  checks\n",
        "trial", "verdict", "snapshot"
    );
    for r in &sorted {
        let mut checks: Vec<String> = r
            .failures
            .iter()
            .map(|f| match &f.destination {
                Some(d) => format!("{}({d})", f.check),
                None => f.check.to_string(),
            })
            .collect();
        checks.dedup();
        let snapshot = serde_json::to_value(r.snapshot)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:width$}  {:7}  {:8}  {}\n",
            r.name(),
            r.verdict.as_str(),
            snapshot,
            if checks.is_empty() {
                "-".to_string()
            } else {
                checks.join(", ")
            }
        ));
    }
    out
}
