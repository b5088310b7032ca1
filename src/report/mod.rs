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
    /// cargo-nextest's run id: processes of one nextest run merge their trials into one file.
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    trials: &'a [serde_json::Value],
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
///
/// cargo-nextest runs every trial in its own process; those of one nextest run (same
/// `NEXTEST_RUN_ID`) merge into one file under a lock, so the file always holds the whole run.
pub fn write_results(dir: &Path, results: &[TrialResult]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("results.json");
    let lock = std::fs::File::create(dir.join("results.lock"))?;
    lock.lock()?;
    let run_id = std::env::var("NEXTEST_RUN_ID").ok();
    let mut trials: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
    if let Some(id) = &run_id
        && let Ok(text) = std::fs::read(&path)
        && let Ok(old) = serde_json::from_slice::<serde_json::Value>(&text)
        && old.get("run_id").and_then(|v| v.as_str()) == Some(id.as_str())
    {
        for t in old
            .get("trials")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            let name = format!(
                "{}::{}",
                t.get("spec").and_then(|v| v.as_str()).unwrap_or_default(),
                t.get("state").and_then(|v| v.as_str()).unwrap_or_default()
            );
            trials.insert(name, t.clone());
        }
    }
    for r in results {
        trials.insert(
            r.name(),
            serde_json::to_value(r).map_err(std::io::Error::other)?,
        );
    }
    let trials: Vec<serde_json::Value> = trials.into_values().collect();
    let json = serde_json::to_vec_pretty(&ResultsFile {
        version: 1,
        run_id: run_id.as_deref(),
        trials: &trials,
    })
    .map_err(std::io::Error::other)?;
    let tmp = dir.join(format!("results.json.{}.tmp", std::process::id()));
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
