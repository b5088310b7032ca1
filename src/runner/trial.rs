//! The engine for one trial: spec × state → browser visit → capture → Segment decoding → routing →
//! verdict → snapshot, plus the evidence the report shows (timeline, screenshots, and a Playwright
//! trace kept only when the verdict is not `pass`). The harness (the face) only schedules trials
//! and reports.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::analysis::privacy::{self, Kind};
use crate::analysis::routing;
use crate::analysis::segment::{self, CdnSettings};
use crate::analysis::verdict;
use crate::browser::edge;
use crate::browser::error::SETUP_COMMAND;
use crate::browser::session::{self, Shared};
use crate::capture::Capture;
use crate::outcome::{CheckId, Failure, SnapshotStatus, TrialEvidence, TrialResult, Verdict};
use crate::output::report;
use crate::output::snapshot;
use crate::spec::{Spec, State};

/// What a trial collects beyond its verdict and snapshot.
#[derive(Debug, Clone, Default)]
pub struct EvidenceOptions {
    /// Build the report's timeline and expectations.
    pub report: bool,
    /// Take screenshots before and after the decision (for the report).
    pub screenshots: bool,
    /// Record a Playwright trace and keep it as `<dir>/<spec>-<state>.zip` when the verdict is
    /// not `pass` (`None`: no tracing).
    pub traces: Option<PathBuf>,
}

impl EvidenceOptions {
    /// Everything on: the report's evidence, and traces of failures in `<out>/traces`.
    /// `CONSENT_GATES_TRACE=0` turns tracing off, `CONSENT_GATES_SCREENSHOTS=0` screenshots.
    pub fn full(out: &Path) -> Self {
        let off = |var: &str| std::env::var(var).is_ok_and(|v| v == "0" || v == "false");
        EvidenceOptions {
            report: true,
            screenshots: !off("CONSENT_GATES_SCREENSHOTS"),
            traces: (!off("CONSENT_GATES_TRACE")).then(|| out.join("traces")),
        }
    }
}

/// Runs `state_name` of `spec` and judges it, without report evidence or traces. Never panics on
/// user input: every problem becomes a failure in the result.
pub fn run(shared: &Shared, spec: &Spec, state_name: &str, snapshots: &Path) -> TrialResult {
    run_with(
        shared,
        spec,
        state_name,
        snapshots,
        &EvidenceOptions::default(),
    )
}

/// [`run`] collecting the evidence `evidence` asks for.
pub fn run_with(
    shared: &Shared,
    spec: &Spec,
    state_name: &str,
    snapshots: &Path,
    evidence: &EvidenceOptions,
) -> TrialResult {
    let started = Instant::now();
    let mut result = TrialResult {
        spec: spec.name.clone(),
        state: state_name.to_string(),
        verdict: Verdict::Pass,
        failures: Vec::new(),
        snapshot: SnapshotStatus::Skipped,
        duration_ms: 0,
        attempts: 0,
        flaky: false,
        trace: None,
        evidence: None,
    };
    let trace = evidence.traces.as_ref().map(|dir| {
        dir.join(format!(
            "{}.zip",
            crate::paths::file_stem(&spec.name, state_name)
        ))
    });
    if let Some(t) = &trace {
        // A trace from an earlier run of this trial must not pass for this run's.
        let _ = std::fs::remove_file(t);
    }
    // `retries:` re-runs a trial that did not pass; one that passes on a retry is flaky.
    let judged = loop {
        result.attempts += 1;
        let judged = judge_state(shared, spec, state_name, evidence, trace.clone());
        let passed = matches!(&judged, Ok(j) if j.failures.is_empty());
        if passed || result.attempts > spec.retries {
            result.flaky = passed && result.attempts > 1;
            break judged;
        }
    };
    let mut trace_redactor = None;
    match judged {
        Ok(Judged {
            failures,
            snapshot: snap,
            evidence,
            redactor,
        }) => {
            trace_redactor = redactor;
            result.failures = failures;
            if let Some(snap) = snap {
                result.snapshot = snapshot::compare(&snap, snapshots);
            }
            result.evidence = evidence.map(Box::new);
        }
        Err(message) => result.failures.push(Failure {
            check: CheckId::Error,
            destination: None,
            message,
            evidence: Vec::new(),
        }),
    }
    // Errors and step misses were not redacted with the trial's traffic: patterns at least.
    let mut redactor = privacy::Redactor::new();
    for f in &mut result.failures {
        redactor.failure(f);
    }
    result.verdict = Verdict::of(&result.failures);
    result.trace = trace.filter(|t| t.is_file());
    if let Some(t) = &result.trace {
        // A trace records raw requests and pages: redact it like everything else, or drop it.
        let mut r = trace_redactor.unwrap_or_else(privacy::Redactor::new);
        if privacy::trace_file(t, &mut r).is_err() {
            let _ = std::fs::remove_file(t);
            result.trace = None;
        }
    }
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

struct Judged {
    failures: Vec<Failure>,
    snapshot: Option<snapshot::Snapshot>,
    evidence: Option<TrialEvidence>,
    /// The trial's redactor, which knows its secrets: it also cleans the trace.
    redactor: Option<privacy::Redactor>,
}

fn judge_state(
    shared: &Shared,
    spec: &Spec,
    state_name: &str,
    options: &EvidenceOptions,
    trace: Option<PathBuf>,
) -> Result<Judged, String> {
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
            SETUP_COMMAND
        ));
    }
    let config = edge::EdgeConfig::from_spec(spec, dist)
        .map_err(|e| format!("cannot read the settings file: {e}"))?;
    let bound = trial_bound(spec, state);
    let progress = config.progress.clone();
    let secrets = config.secrets.clone();
    let session_options = session::EvidenceOptions {
        screenshots: options.report && options.screenshots,
        trace: trace.is_some(),
    };
    // The trace is kept when the verdict will not be `pass`; the analysis that decides it is
    // kept for the verdict itself.
    let mut analysed: Option<Result<Judged, String>> = None;
    let keep_trace = |visit: &Result<session::Visit, session::SessionError>| {
        let failing = match visit {
            Err(_) => true,
            Ok(v) => {
                let judged = analyse(
                    spec,
                    state_name,
                    state,
                    &v.capture,
                    options.report,
                    &secrets,
                );
                let failing = v.step_miss.is_some()
                    || judged.as_ref().map_or(true, |j| !j.failures.is_empty());
                analysed = Some(judged);
                failing
            }
        };
        if failing { trace.clone() } else { None }
    };
    let visit = shared
        .runtime()
        .block_on(async {
            tokio::time::timeout(
                bound,
                session::visit_with(
                    &browser,
                    spec,
                    state,
                    std::sync::Arc::new(config),
                    session_options,
                    keep_trace,
                ),
            )
            .await
        })
        .map_err(|_| {
            format!(
                "the trial did not finish within {} ms (timing.trial_ms); it was {} when the time \
                 ran out",
                bound.as_millis(),
                progress.get()
            )
        })?
        .map_err(|e| e.to_string())?;
    // Analysed even when a step missed: the evidence still shows what happened (the banner the
    // step did not find). Under tracing the analysis already ran to decide on the trace.
    let analysed = analysed.unwrap_or_else(|| {
        analyse(
            spec,
            state_name,
            state,
            &visit.capture,
            options.report,
            &secrets,
        )
    });
    if let Some(miss) = visit.step_miss {
        let evidence = analysed.ok().and_then(|j| j.evidence).map(|mut ev| {
            ev.screenshots = visit.screenshots;
            ev
        });
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
            evidence,
            redactor: None,
        });
    }
    let mut judged = analysed?;
    if let Some(ev) = &mut judged.evidence {
        ev.screenshots = visit.screenshots;
    }
    if let Some(snap) = &mut judged.snapshot {
        snap.settle = snapshot::SettleSeen {
            clock: visit.settle.clock.to_string(),
            never_idle: visit.settle.never_idle.clone(),
        };
    }
    // What the page did after a settle ran out of time was not seen: the verdict cannot stand.
    for what in &visit.settle.incomplete {
        judged.failures.push(Failure {
            check: CheckId::Error,
            destination: None,
            message: format!(
                "the visit was not watched to the end: {what}; raise timing.settle_max_ms or \
                 lower timing.horizon_ms"
            ),
            evidence: Vec::new(),
        });
    }
    Ok(judged)
}

/// Everything after the browser: pure, so tests can feed it hand-made captures.
fn analyse(
    spec: &Spec,
    state_name: &str,
    state: &State,
    capture: &Capture,
    with_evidence: bool,
    secrets: &edge::Secrets,
) -> Result<Judged, String> {
    let settings = match &spec.segment.settings {
        Some(p) => Some(CdnSettings::from_file(p).map_err(|e| e.to_string())?),
        None => None,
    };
    let decoded = segment::decode(capture);
    let routed = routing::route(spec, settings.as_ref(), capture, &decoded);
    let mut failures = verdict::judge(spec, state, capture, &decoded, &routed, settings.as_ref());
    let mut snap = snapshot::build(
        spec, state_name, state, capture, &decoded, &routed, &failures,
    );
    // Personal data and secrets never leave the trial raw; snapshot first, then failures, so
    // the placeholders' numbers are the same on every run.
    let mut redactor = privacy::Redactor::for_trial(&spec.pii, capture, &decoded);
    for v in secrets.values() {
        redactor.add(Kind::Cookie, &v);
    }
    snap.redact(&mut redactor);
    for f in &mut failures {
        redactor.failure(f);
    }
    let mut evidence = with_evidence.then(|| {
        report::evidence::build(
            spec,
            state,
            capture,
            &decoded,
            &routed,
            verdict::effective(spec, state, &routed).lines(),
        )
    });
    if let Some(ev) = &mut evidence {
        ev.redact(&mut redactor);
    }
    Ok(Judged {
        failures,
        snapshot: Some(snap),
        evidence,
        redactor: Some(redactor),
    })
}

/// An upper bound on one trial: every wait it may do, plus slack for the browser.
fn trial_bound(spec: &Spec, state: &State) -> Duration {
    let t = spec.timing;
    if let Some(ms) = t.trial_ms {
        return Duration::from_millis(ms);
    }
    let navigations = 1 + spec.site.pages.len() as u64;
    let waits = state.steps.len() as u64 + navigations + 1;
    Duration::from_millis(
        navigations * t.navigation_ms + waits * (t.step_ms + t.settle_max_ms) + 15_000,
    )
}
