//! `results.json`, and [`write_run`]: every file a run leaves, written under one lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{html, junit};
use crate::outcome::{TrialEvidence, TrialResult};
use crate::paths::file_stem;

/// `results.json`: the trials of one run, sorted by name. JUnit and the HTML report are rendered
/// from the trials read back from it, so that the trials of every process of a nextest run end up
/// in them.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ResultsFile {
    pub(crate) version: u32,
    /// cargo-nextest's run id: processes of one nextest run merge their trials into one file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) run_id: Option<String>,
    pub(crate) trials: Vec<TrialResult>,
}

/// The `version` results.json carries.
const VERSION: u32 = 1;

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
    pub(crate) junit: PathBuf,
    pub(crate) html: PathBuf,
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
pub(crate) fn write_run_as(
    dir: &Path,
    results: &[TrialResult],
    run_id: Option<&str>,
) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let lock = std::fs::File::create(dir.join("results.lock"))?;
    lock.lock()?;
    let (results_path, trials) = merge_results(dir, results, run_id)?;
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
    let evidence: BTreeMap<String, TrialEvidence> = trials
        .iter()
        .filter_map(|t| {
            let path = trials_dir.join(format!("{}.json", file_stem(&t.spec, &t.state)));
            let text = std::fs::read(path).ok()?;
            let ev = serde_json::from_slice::<TrialEvidence>(&text).ok()?;
            Some((t.name(), ev))
        })
        .collect();
    let junit_path = dir.join("junit.xml");
    write_atomic(&junit_path, junit::render(&trials).as_bytes())?;
    let html_path = report.join("index.html");
    let html_text = html::render(&trials, &evidence, &report);
    write_atomic(&html_path, html_text.as_bytes())?;
    Ok(Written {
        results: results_path,
        junit: junit_path,
        html: html_path,
    })
}

/// Reads the trials of `results.json` in `dir` (the unit tests' round trip).
#[cfg(test)]
pub(crate) fn read_results(dir: &Path) -> std::io::Result<Vec<TrialResult>> {
    let text = std::fs::read(dir.join("results.json"))?;
    let file: ResultsFile = serde_json::from_slice(&text).map_err(std::io::Error::other)?;
    Ok(file.trials)
}

/// Merges `results` into `results.json` (the caller holds the lock); returns its path and the
/// merged trials (without report evidence: that is read from `report/trials/`).
fn merge_results(
    dir: &Path,
    results: &[TrialResult],
    run_id: Option<&str>,
) -> std::io::Result<(PathBuf, Vec<TrialResult>)> {
    let path = dir.join("results.json");
    let mut trials: BTreeMap<String, TrialResult> = Default::default();
    if let Some(id) = run_id
        && let Ok(text) = std::fs::read(&path)
        && let Ok(old) = serde_json::from_slice::<ResultsFile>(&text)
        && old.run_id.as_deref() == Some(id)
    {
        trials.extend(old.trials.into_iter().map(|t| (t.name(), t)));
    }
    for r in results {
        let mut r = r.clone();
        // The evidence is written apart (and not into results.json): no need to carry it.
        r.evidence = None;
        trials.insert(r.name(), r);
    }
    let file = ResultsFile {
        version: VERSION,
        run_id: run_id.map(str::to_string),
        trials: trials.into_values().collect(),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    write_atomic(&path, &json)?;
    Ok((path, file.trials))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Phase;
    use crate::outcome::{
        CheckId, Failure, Screenshots, SnapshotStatus, TimelineEntry, TimelineKind, Verdict,
    };

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
                    phase: Phase::Before,
                    kind: TimelineKind::Segment,
                    what: format!("analytics.js loaded ({state})"),
                    destination: None,
                    detail: None,
                }],
                screenshots: Screenshots {
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
        let rows = read_results(dir).unwrap();
        let names: Vec<String> = rows.iter().map(TrialResult::name).collect();
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
        let rows = read_results(dir).unwrap();
        assert_eq!(rows.len(), 1, "a run of its own replaces the last");
        let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
        assert!(!html.contains("accept-all"), "no stale evidence");
        assert!(
            !dir.join("report/screenshots/shop-accept-all.before.png")
                .exists()
        );
    }
}
