//! The engine for one trial: spec × state → browser visit → capture → Segment decoding → routing →
//! verdict → snapshot. The harness (the face) only schedules trials and reports.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::report::{SnapshotStatus, TrialResult};
use crate::routing;
use crate::segment::{self, CdnSettings};
use crate::session::{self, Shared, edge};
use crate::snapshot;
use crate::spec::{Spec, State};
use crate::verdict::{self, CheckId, Failure, Verdict};

/// Runs `state_name` of `spec` and judges it. Never panics on user input: every problem becomes a
/// failure in the result.
pub fn run(shared: &Shared, spec: &Spec, state_name: &str, snapshots: &Path) -> TrialResult {
    let started = Instant::now();
    let mut result = TrialResult {
        spec: spec.name.clone(),
        state: state_name.to_string(),
        verdict: Verdict::Pass,
        failures: Vec::new(),
        snapshot: SnapshotStatus::Skipped,
        duration_ms: 0,
    };
    match judge_state(shared, spec, state_name) {
        Ok(Judged {
            failures,
            snapshot: snap,
        }) => {
            result.failures = failures;
            if let Some(snap) = snap {
                result.snapshot = snapshot::compare(&snap, snapshots);
            }
        }
        Err(message) => result.failures.push(Failure {
            check: CheckId::Error,
            destination: None,
            message,
            evidence: Vec::new(),
        }),
    }
    result.verdict = Verdict::of(&result.failures);
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

struct Judged {
    failures: Vec<Failure>,
    snapshot: Option<snapshot::Snapshot>,
}

fn judge_state(shared: &Shared, spec: &Spec, state_name: &str) -> Result<Judged, String> {
    let state = spec
        .states
        .get(state_name)
        .ok_or_else(|| format!("no state `{state_name}` in {}", spec.path.display()))?;
    let browser = shared.browser().map_err(|e| e.to_string())?;
    let spec_dir = spec.path.parent().unwrap_or(Path::new("."));
    let dist = edge::find_segment_dist(spec_dir);
    if spec.segment.library == crate::spec::Library::Bundled && dist.is_none() {
        return Err(format!(
            "segment.library is `bundled` but @segment/analytics-next is not installed: run `{}`",
            session::browser::SETUP_COMMAND
        ));
    }
    let config = edge::EdgeConfig::from_spec(spec, dist)
        .map_err(|e| format!("cannot read the settings file: {e}"))?;
    let bound = trial_bound(spec, state);
    let visit = shared
        .runtime()
        .block_on(async {
            tokio::time::timeout(
                bound,
                session::visit(&browser, spec, state, std::sync::Arc::new(config)),
            )
            .await
        })
        .map_err(|_| format!("the trial did not finish within {} s", bound.as_secs()))?
        .map_err(|e| e.to_string())?;
    if let Some(miss) = visit.step_miss {
        return Ok(Judged {
            failures: vec![Failure {
                check: CheckId::StepDidNotMatch,
                destination: None,
                message: format!(
                    "step {} did not match ({}): {}; the state would silently test \"no choice\"",
                    miss.index, miss.step, miss.detail
                ),
                evidence: Vec::new(),
            }],
            snapshot: None,
        });
    }
    analyse(spec, state_name, state, &visit.capture)
}

/// Everything after the browser: pure, so tests can feed it hand-made captures.
fn analyse(
    spec: &Spec,
    state_name: &str,
    state: &State,
    capture: &Capture,
) -> Result<Judged, String> {
    let settings = match &spec.segment.settings {
        Some(p) => Some(CdnSettings::from_file(p).map_err(|e| e.to_string())?),
        None => None,
    };
    let decoded = segment::decode(capture);
    let routed = routing::route(spec, settings.as_ref(), capture, &decoded);
    let failures = verdict::judge(spec, state, capture, &decoded, &routed, settings.as_ref());
    let snap = snapshot::build(
        spec, state_name, state, capture, &decoded, &routed, &failures,
    );
    Ok(Judged {
        failures,
        snapshot: Some(snap),
    })
}

/// An upper bound on one trial: every wait it may do, plus slack for the browser.
fn trial_bound(spec: &Spec, state: &State) -> Duration {
    let t = spec.timing;
    let navigations = 1 + spec.site.pages.len() as u64;
    let waits = state.steps.len() as u64 + navigations + 1;
    Duration::from_millis(
        navigations * t.navigation_ms + waits * (t.step_ms + t.settle_max_ms) + 15_000,
    )
}
