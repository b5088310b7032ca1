//! `results.json`, and [`write_run`]: every file a run leaves, written under one lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{TrialEvidence, TrialResult, html, junit};
use crate::paths::file_stem;

/// One trial as `results.json` holds it: what the JUnit and HTML writers read back, so that the
/// trials of every process of a nextest run end up in them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Row {
    pub spec: String,
    pub state: String,
    /// `pass` | `fail` | `error`.
    pub verdict: String,
    #[serde(default)]
    pub failures: Vec<FailureRow>,
    /// `match` | `changed` | `new` | `skipped`.
    #[serde(default)]
    pub snapshot: String,
    #[serde(default)]
    pub duration_ms: u64,
    /// Runs of the trial (1 + retries used); 0 when unknown.
    #[serde(default)]
    pub attempts: u32,
    /// Failed at first, passed on a retry.
    #[serde(default)]
    pub flaky: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<PathBuf>,
}

impl Row {
    pub fn name(&self) -> String {
        format!("{}::{}", self.spec, self.state)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FailureRow {
    pub check: String,
    #[serde(default)]
    pub destination: Option<String>,
    pub message: String,
    #[serde(default)]
    pub evidence: Vec<EvidenceRow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub at_ms: u64,
    pub phase: String,
    pub what: String,
}

#[derive(Serialize)]
struct ResultsFile<'a> {
    version: u32,
    /// cargo-nextest's run id: processes of one nextest run merge their trials into one file.
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    trials: &'a [serde_json::Value],
}

/// Writes `results.json` (sorted by trial name) atomically into `dir`.
///
/// cargo-nextest runs every trial in its own process; those of one nextest run (same
/// `NEXTEST_RUN_ID`) merge into one file under a lock, so the file always holds the whole run.
pub fn write_results(dir: &Path, results: &[TrialResult]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let lock = std::fs::File::create(dir.join("results.lock"))?;
    lock.lock()?;
    let run_id = std::env::var("NEXTEST_RUN_ID").ok();
    merge_results(dir, results, run_id.as_deref()).map(|(path, _)| path)
}

/// What [`write_run`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub results: PathBuf,
    pub junit: PathBuf,
    pub html: PathBuf,
}

/// Writes everything a run leaves in `dir`: `results.json`, each trial's evidence and
/// screenshots under `report/`, then `junit.xml` and `report/index.html` from the merged
/// results, all under one lock (see [`write_results`] for nextest).
pub fn write_run(dir: &Path, results: &[TrialResult]) -> std::io::Result<Written> {
    let run_id = std::env::var("NEXTEST_RUN_ID").ok();
    write_run_as(dir, results, run_id.as_deref())
}

/// [`write_run`] as part of the run `run_id` (`None`: a run of its own, which replaces whatever
/// an earlier run left).
pub fn write_run_as(
    dir: &Path,
    results: &[TrialResult],
    run_id: Option<&str>,
) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let lock = std::fs::File::create(dir.join("results.lock"))?;
    lock.lock()?;
    let (results_path, rows) = merge_results(dir, results, run_id)?;
    let report = dir.join("report");
    let trials_dir = report.join("trials");
    let shots_dir = report.join("screenshots");
    std::fs::create_dir_all(&trials_dir)?;
    if run_id.is_none() {
        // A fresh run: evidence of trials that did not run this time must not linger.
        for d in [&trials_dir, &shots_dir] {
            if d.is_dir() {
                for entry in std::fs::read_dir(d)?.flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
    for r in results {
        let stem = file_stem(&r.spec, &r.state);
        let path = trials_dir.join(format!("{stem}.json"));
        match &r.evidence {
            Some(ev) => {
                let mut ev: TrialEvidence = (**ev).clone();
                for (which, bytes) in [
                    ("before", ev.screenshots.before.take()),
                    ("after", ev.screenshots.after.take()),
                ] {
                    let Some(bytes) = bytes else { continue };
                    std::fs::create_dir_all(&shots_dir)?;
                    let name = format!("{stem}.{which}.png");
                    std::fs::write(shots_dir.join(&name), bytes)?;
                    let rel = Some(format!("screenshots/{name}"));
                    if which == "before" {
                        ev.screenshot_before = rel;
                    } else {
                        ev.screenshot_after = rel;
                    }
                }
                let json = serde_json::to_vec_pretty(&ev).map_err(std::io::Error::other)?;
                write_atomic(&path, &json)?;
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let evidence: BTreeMap<String, TrialEvidence> = rows
        .iter()
        .filter_map(|row| {
            let path = trials_dir.join(format!("{}.json", file_stem(&row.spec, &row.state)));
            let text = std::fs::read(path).ok()?;
            let ev = serde_json::from_slice::<TrialEvidence>(&text).ok()?;
            Some((row.name(), ev))
        })
        .collect();
    let junit_path = dir.join("junit.xml");
    write_atomic(&junit_path, junit::render(&rows).as_bytes())?;
    let html_path = report.join("index.html");
    let html_text = html::render(&rows, &evidence, &report);
    write_atomic(&html_path, html_text.as_bytes())?;
    Ok(Written {
        results: results_path,
        junit: junit_path,
        html: html_path,
    })
}

/// Reads the trials of `results.json` in `dir`.
pub fn read_rows(dir: &Path) -> std::io::Result<Vec<Row>> {
    let text = std::fs::read(dir.join("results.json"))?;
    let file: serde_json::Value = serde_json::from_slice(&text).map_err(std::io::Error::other)?;
    let trials = file.get("trials").cloned().unwrap_or_default();
    serde_json::from_value(trials).map_err(std::io::Error::other)
}

/// Merges `results` into `results.json` (the caller holds the lock); returns its path and the
/// merged trials.
fn merge_results(
    dir: &Path,
    results: &[TrialResult],
    run_id: Option<&str>,
) -> std::io::Result<(PathBuf, Vec<Row>)> {
    let path = dir.join("results.json");
    let mut trials: BTreeMap<String, serde_json::Value> = Default::default();
    if let Some(id) = run_id
        && let Ok(text) = std::fs::read(&path)
        && let Ok(old) = serde_json::from_slice::<serde_json::Value>(&text)
        && old.get("run_id").and_then(|v| v.as_str()) == Some(id)
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
    let rows: Vec<Row> = trials
        .iter()
        .filter_map(|t| serde_json::from_value(t.clone()).ok())
        .collect();
    let json = serde_json::to_vec_pretty(&ResultsFile {
        version: 1,
        run_id,
        trials: &trials,
    })
    .map_err(std::io::Error::other)?;
    write_atomic(&path, &json)?;
    Ok((path, rows))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::verdict::{CheckId, Failure, Verdict};
    use crate::output::report::{SnapshotStatus, TimelineEntry, TimelineKind};

    fn result(state: &str, verdict: Verdict) -> TrialResult {
        TrialResult {
            spec: "shop".into(),
            state: state.into(),
            verdict,
            failures: if verdict == Verdict::Pass {
                Vec::new()
            } else {
                vec![Failure {
                    check: CheckId::BlockedReceived,
                    destination: Some("Facebook Pixel".into()),
                    message: "`Facebook Pixel` must be blocked".into(),
                    evidence: Vec::new(),
                }]
            },
            snapshot: SnapshotStatus::Match,
            duration_ms: 3,
            attempts: 1,
            flaky: false,
            trace: None,
            evidence: Some(Box::new(TrialEvidence {
                timeline: vec![TimelineEntry {
                    at_ms: 1,
                    phase: "before".into(),
                    kind: TimelineKind::Segment,
                    what: format!("analytics.js loaded ({state})"),
                    destination: None,
                    detail: None,
                }],
                screenshots: crate::output::report::Screenshots {
                    before: Some(b"\x89PNG".to_vec()),
                    after: None,
                },
                ..Default::default()
            })),
        }
    }

    /// Processes of one nextest run (one trial each) end up in one results.json, one junit.xml
    /// and one report; a new run starts afresh.
    #[test]
    fn processes_of_one_run_merge_everywhere() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write_run_as(dir, &[result("accept-all", Verdict::Pass)], Some("run-1")).unwrap();
        let w = write_run_as(dir, &[result("reject-all", Verdict::Fail)], Some("run-1")).unwrap();
        let rows = read_rows(dir).unwrap();
        let names: Vec<String> = rows.iter().map(Row::name).collect();
        assert_eq!(names, ["shop::accept-all", "shop::reject-all"]);
        let junit = std::fs::read_to_string(&w.junit).unwrap();
        assert!(
            junit.contains(r#"tests="2""#) && junit.contains(r#"failures="1""#),
            "{junit}"
        );
        let html = std::fs::read_to_string(&w.html).unwrap();
        assert!(
            html.contains("analytics.js loaded (accept-all)"),
            "evidence of process 1"
        );
        assert!(
            html.contains("analytics.js loaded (reject-all)"),
            "evidence of process 2"
        );
        assert!(html.contains(r#"src="screenshots/shop-reject-all.before.png""#));
        assert!(
            dir.join("report/screenshots/shop-accept-all.before.png")
                .is_file()
        );

        write_run_as(dir, &[result("no-choice", Verdict::Pass)], None).unwrap();
        let rows = read_rows(dir).unwrap();
        assert_eq!(rows.len(), 1, "a run of its own replaces the last");
        let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
        assert!(!html.contains("accept-all"), "no stale evidence");
        assert!(
            !dir.join("report/screenshots/shop-accept-all.before.png")
                .exists()
        );
    }
}
