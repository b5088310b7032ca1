//! The engine for one trial: spec × state → browser visit → capture → one analysis pass (Segment
//! decoding, routing, verdict) → snapshot, plus the evidence the report shows (timeline,
//! screenshots, and a Playwright trace of a trial that did not pass). The harness (the face) only
//! schedules trials and reports.
//!
//! Order of one attempt: the session visits and hands back what it recorded (up to whatever
//! stopped it) and, when asked, a trace still recording; the trial analyses the capture once,
//! judges, and only then keeps the trace (not `pass`) or discards it. Tracing doubles the
//! browser's CPU per visit (BENCHMARKS.md), so the judged attempts run untraced and a trial that
//! did not pass is visited once more with the trace on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::privacy::{self, Kind};
use crate::analysis::segment::CdnSettings;
use crate::analysis::{Analysis, analyse};
use crate::browser::edge::{self, EdgeConfig, Recorder};
use crate::browser::error::SETUP_COMMAND;
use crate::browser::session::{self, Shared, Stop};
use crate::capture::Capture;
use crate::outcome::{CheckId, Failure, Screenshots, TrialEvidence, TrialResult, Verdict};
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
    /// When the verdict is not `pass`, visit once more with a Playwright trace and keep it as
    /// `<dir>/<spec>-<state>.zip` if that visit fails too (`None`: no tracing).
    pub traces: Option<PathBuf>,
}

impl EvidenceOptions {
    /// Everything on: the report's evidence, and traces of failures in `<out>/traces`.
    /// `CONSENT_GATES_TRACE=0` turns tracing off, `CONSENT_GATES_SCREENSHOTS=0` screenshots.
    pub(crate) fn full(out: &Path) -> Self {
        let off = |var: &str| std::env::var(var).is_ok_and(|v| v == "0" || v == "false");
        EvidenceOptions {
            report: true,
            screenshots: !off("CONSENT_GATES_SCREENSHOTS"),
            traces: (!off("CONSENT_GATES_TRACE")).then(|| out.join("traces")),
        }
    }
}

/// Runs `state_name` of `spec` and judges it, collecting the evidence `evidence` asks for. Never
/// panics on user input: every problem becomes a failure in the result.
pub fn run_with(
    shared: &Shared,
    spec: &Spec,
    state_name: &str,
    snapshots: &Path,
    evidence: &EvidenceOptions,
) -> TrialResult {
    let prepared = Prepared::default();
    run_prepared(shared, spec, &prepared, state_name, snapshots, evidence)
}

/// What every trial of one spec shares, worked out once per spec by its first trial to run (so
/// listing or filtering trials reads nothing): where analytics-next is installed, the edge's
/// answers and the settings file, read once and parsed once — or why the spec's trials cannot run
/// (each of its states then reports it).
#[derive(Default)]
pub(crate) struct Prepared(std::sync::OnceLock<Result<SpecWide, String>>);

#[derive(Clone)]
struct SpecWide {
    edge: EdgeConfig,
    settings: Option<Arc<CdnSettings>>,
}

impl Prepared {
    fn get(&self, spec: &Spec) -> Result<SpecWide, String> {
        self.0.get_or_init(|| SpecWide::new(spec)).clone()
    }
}

impl SpecWide {
    fn new(spec: &Spec) -> Result<SpecWide, String> {
        let spec_dir = spec.path.parent().unwrap_or(Path::new("."));
        let dist = edge::find_segment_dist(spec_dir);
        if spec.segment.library == crate::spec::Library::Bundled && dist.is_none() {
            return Err(format!(
                "segment.library is `bundled` but @segment/analytics-next is not installed: run `{}`",
                SETUP_COMMAND
            ));
        }
        let (bytes, settings) = match &spec.segment.settings {
            Some(p) => {
                let bytes = std::fs::read(p)
                    .map_err(|e| format!("cannot read the settings file {}: {e}", p.display()))?;
                let parsed = CdnSettings::from_bytes(p, &bytes).map_err(|e| e.to_string())?;
                (Some(Arc::new(bytes)), Some(Arc::new(parsed)))
            }
            None => (None, None),
        };
        Ok(SpecWide {
            edge: EdgeConfig::with_settings(spec, dist, bytes),
            settings,
        })
    }
}

/// [`run_with`] for a spec already [`Prepared`] (the harness prepares each spec once).
pub(crate) fn run_prepared(
    shared: &Shared,
    spec: &Spec,
    prepared: &Prepared,
    state_name: &str,
    snapshots: &Path,
    evidence: &EvidenceOptions,
) -> TrialResult {
    let started = Instant::now();
    let mut result = TrialResult {
        attempts: 0,
        ..TrialResult::new(&spec.name, state_name, Vec::new())
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
    let mut trace_redactor = None;
    match Trial::prepare(spec, prepared, state_name) {
        Err(message) => result.failures.push(error(message)),
        Ok(trial) => {
            // `retries:` re-runs a trial that did not pass; one that passes on a retry is flaky.
            let judged = loop {
                result.attempts += 1;
                let judged = trial.attempt(shared, evidence, None);
                let passed = judged.failures.is_empty();
                if passed || result.attempts > spec.retries {
                    result.flaky = passed && result.attempts > 1;
                    break judged;
                }
            };
            // Recording a trace costs about as much browser CPU as the visit itself, so only a
            // trial that did not pass pays for it: one more visit, traced, whose trace is kept when
            // it shows the trial failing again (its own failures are not the result's).
            trace_redactor = match trace.as_deref() {
                Some(path) if !judged.failures.is_empty() => {
                    // The report's evidence comes from the judged attempt, not this one.
                    let no_report = EvidenceOptions::default();
                    Some(trial.attempt(shared, &no_report, Some(path)).redactor)
                }
                _ => None,
            };
            result.failures = judged.failures;
            if let Some(snap) = judged.snapshot {
                result.snapshot = snapshot::compare(&snap, snapshots);
            }
            result.evidence = judged.evidence.map(Box::new);
        }
    }
    // Errors raised before any visit know no traffic: redact patterns at least.
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

/// What stopped a visit, as the failure that comes first in the result.
fn stopped(stop: Stop) -> Failure {
    match stop {
        Stop::Miss(miss) => Failure {
            check: CheckId::StepDidNotMatch,
            destination: None,
            message: format!(
                "step {} did not match ({}): {}; the state would silently test \"no choice\"",
                miss.index, miss.step, miss.detail
            ),
            evidence: Vec::new(),
        },
        Stop::Error(e) => error(e.to_string()),
    }
}

/// A visit that ran out of `timing.trial_ms`: what it recorded until then is judged all the same,
/// beside an error naming what it was doing.
fn out_of_time(recorder: &Recorder, config: &EdgeConfig, bound: Duration) -> (Capture, Failure) {
    let capture = Capture {
        requests: recorder.requests(),
        decision_at_ms: recorder.decision_at_ms(),
        interrupted: true,
        cookie_values: config.secrets.values(),
        ..Capture::default()
    };
    let message = format!(
        "the trial did not finish within {} ms (timing.trial_ms); it was {} when the time ran out",
        bound.as_millis(),
        config.progress.get()
    );
    (capture, error(message))
}

fn error(message: String) -> Failure {
    Failure {
        check: CheckId::Error,
        destination: None,
        message,
        evidence: Vec::new(),
    }
}

/// What every attempt of one trial shares: the state and the spec-wide preparation.
struct Trial<'a> {
    spec: &'a Spec,
    state_name: &'a str,
    state: &'a State,
    edge: EdgeConfig,
    settings: Option<Arc<CdnSettings>>,
}

/// One judged attempt.
struct Judged {
    failures: Vec<Failure>,
    /// `None` when the visit was interrupted: a partial visit's snapshot would differ run to run.
    snapshot: Option<snapshot::Snapshot>,
    evidence: Option<TrialEvidence>,
    /// The attempt's redactor, which knows its secrets: it also cleans the trace.
    redactor: privacy::Redactor,
}

impl<'a> Trial<'a> {
    fn prepare(
        spec: &'a Spec,
        prepared: &Prepared,
        state_name: &'a str,
    ) -> Result<Trial<'a>, String> {
        let state = spec
            .states
            .get(state_name)
            .ok_or_else(|| format!("no state `{state_name}` in {}", spec.path.display()))?;
        let wide = prepared.get(spec)?;
        Ok(Trial {
            spec,
            state_name,
            state,
            edge: wide.edge,
            settings: wide.settings,
        })
    }

    /// Visits, analyses once, judges, then keeps the trace at `trace` (not `pass`) or discards it.
    fn attempt(&self, shared: &Shared, options: &EvidenceOptions, trace: Option<&Path>) -> Judged {
        let (spec, state) = (self.spec, self.state);
        let browser = match shared.browser() {
            Ok(b) => b,
            Err(e) => return Judged::error(e.to_string()),
        };
        // Progress and secrets are the attempt's own.
        let config = Arc::new(EdgeConfig {
            progress: Default::default(),
            secrets: Default::default(),
            ..self.edge.clone()
        });
        let recorder = Recorder::new();
        let bound = trial_bound(spec, state);
        let session_options = session::EvidenceOptions {
            screenshots: options.report && options.screenshots,
            trace: trace.is_some(),
        };
        let visited = shared.runtime().block_on(async {
            tokio::time::timeout(
                bound,
                session::visit_with(
                    &browser,
                    spec,
                    state,
                    config.clone(),
                    session_options,
                    recorder.clone(),
                ),
            )
            .await
        });
        let (capture, stop, screenshots, recording) = match visited {
            Ok(Ok(v)) => (v.capture, v.stop.map(stopped), v.screenshots, v.trace),
            // No browser context: nothing was recorded.
            Ok(Err(e)) => return Judged::error(e.to_string()),
            Err(_) => {
                let (capture, failure) = out_of_time(&recorder, &config, bound);
                (capture, Some(failure), Screenshots::default(), None)
            }
        };
        let analysis = analyse(spec, state, &capture, self.settings.as_deref());
        let judged = self.judge(&capture, &analysis, stop, screenshots, options.report);
        if let Some(recording) = recording {
            shared.runtime().block_on(async {
                match trace.filter(|_| !judged.failures.is_empty()) {
                    Some(path) => recording.keep(path).await,
                    None => recording.discard().await,
                }
            });
        }
        judged
    }

    /// The attempt's result: what stopped the visit first, then every finding; snapshot and
    /// report evidence; everything redacted with what the visit saw.
    fn judge(
        &self,
        capture: &Capture,
        analysis: &Analysis,
        stop: Option<Failure>,
        screenshots: Screenshots,
        with_evidence: bool,
    ) -> Judged {
        let (spec, state) = (self.spec, self.state);
        let mut failures: Vec<Failure> = stop.into_iter().collect();
        failures.extend(analysis.failures.iter().cloned());
        let mut snap = (!capture.interrupted)
            .then(|| snapshot::build(spec, self.state_name, state, capture, analysis));
        // Personal data and secrets never leave the trial raw; snapshot first, then failures, so
        // the placeholders' numbers are the same on every run.
        let mut redactor = privacy::Redactor::for_trial(&spec.pii, capture, &analysis.decoded);
        for v in &capture.cookie_values {
            redactor.add(Kind::Cookie, v);
        }
        if let Some(snap) = &mut snap {
            snap.redact(&mut redactor);
        }
        for f in &mut failures {
            redactor.failure(f);
        }
        let evidence = with_evidence.then(|| {
            let mut ev = report::evidence::build(
                spec,
                state,
                capture,
                &analysis.decoded,
                &analysis.routing,
                analysis
                    .effective
                    .lines()
                    .into_iter()
                    .chain(analysis.notes.iter().map(|n| format!("warning: {n}")))
                    .collect(),
            );
            ev.library = analysis.library.describe();
            ev.redact(&mut redactor);
            ev.screenshots = screenshots;
            ev
        });
        Judged {
            failures,
            snapshot: snap,
            evidence,
            redactor,
        }
    }
}

impl Judged {
    fn error(message: String) -> Judged {
        Judged {
            failures: vec![error(message)],
            snapshot: None,
            evidence: None,
            redactor: privacy::Redactor::new(),
        }
    }
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
