//! Verdicts: the spec's expectations judged against what the visit produced.
//!
//! Judging window (DESIGN.md §2): in a state with steps, `allowed` and `blocked` judge traffic from
//! the first step on (under an opt-out model vendors may legitimately load before the decision);
//! in a state without steps, all of it. `collection` and `calls` judge the whole visit: they say
//! what may reach Segment's tracking API in this state at all. `consent` judges every event after
//! the decision (all events in a state without steps).

mod check;

pub use check::{CheckId, Evidence, Failure, Verdict};

use crate::capture::{Capture, Phase};
use crate::routing::{Reception, Routing};
use crate::segment::{ConsentStamp, Decoded, SegmentEvent};
use crate::spec::{Collection, Spec, State};

/// Every failed expectation of `state`, in a stable order.
pub fn judge(
    _spec: &Spec,
    state: &State,
    _capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
) -> Vec<Failure> {
    let in_window = |phase: Phase| state.steps.is_empty() || phase == Phase::After;
    let expect = &state.expect;
    let mut failures = Vec::new();

    if let Some(blocked) = &expect.blocked {
        for (name, outcome) in &routed.destinations {
            if !blocked.contains(name) {
                continue;
            }
            let seen: Vec<&Reception> = outcome
                .receptions
                .iter()
                .filter(|r| in_window(r.phase))
                .collect();
            if !seen.is_empty() {
                failures.push(Failure {
                    check: CheckId::BlockedReceived,
                    destination: Some(name.clone()),
                    message: format!(
                        "`{name}` must be blocked in this state but received data ({} time{})",
                        seen.len(),
                        if seen.len() == 1 { "" } else { "s" }
                    ),
                    evidence: seen.iter().map(|r| reception_evidence(r)).collect(),
                });
            }
        }
    }

    if let Some(allowed) = &expect.allowed {
        for (name, outcome) in &routed.destinations {
            if !allowed.contains(name) {
                continue;
            }
            if !outcome.receptions.iter().any(|r| in_window(r.phase)) {
                let how = match outcome.mode {
                    crate::spec::Mode::Device => {
                        "its code never loaded and none of its hosts was contacted"
                    }
                    crate::spec::Mode::Cloud => "no event that Segment would route to it was sent",
                };
                failures.push(Failure {
                    check: CheckId::AllowedMissing,
                    destination: Some(name.clone()),
                    message: format!("`{name}` must receive data in this state, but {how}"),
                    evidence: Vec::new(),
                });
            }
        }
    }

    if let Some(level) = expect.collection {
        let bad: Vec<&SegmentEvent> = decoded
            .events
            .iter()
            .filter(|e| violates(level, e))
            .collect();
        if !bad.is_empty() {
            failures.push(Failure {
                check: CheckId::Collection,
                destination: None,
                message: match level {
                    Collection::None => format!(
                        "no event may reach Segment in this state, but {} did; the first at {} ms",
                        bad.len(),
                        bad[0].at_ms
                    ),
                    _ => format!(
                        "only anonymous events may reach Segment in this state, but {} carried a userId or traits",
                        bad.len()
                    ),
                },
                evidence: bad.iter().map(|e| event_evidence(e)).collect(),
            });
        }
    }

    for (call, level) in &expect.calls {
        let bad: Vec<&SegmentEvent> = decoded
            .events
            .iter()
            .filter(|e| e.call == *call && violates(*level, e))
            .collect();
        if !bad.is_empty() {
            failures.push(Failure {
                check: CheckId::Calls,
                destination: None,
                message: match level {
                    Collection::None => format!(
                        "no {} call may reach Segment in this state, but {} did",
                        call.as_str(),
                        bad.len()
                    ),
                    _ => format!(
                        "{} calls must be anonymous in this state, but {} carried a userId or traits",
                        call.as_str(),
                        bad.len()
                    ),
                },
                evidence: bad.iter().map(|e| event_evidence(e)).collect(),
            });
        }
    }

    if let Some(expected) = &expect.consent {
        let mut bad = Vec::new();
        let mut diffs = std::collections::BTreeSet::new();
        for e in decoded.events.iter().filter(|e| in_window(e.phase)) {
            match &e.consent {
                ConsentStamp::Preferences(p) => {
                    let mut ok = true;
                    for (cat, want) in expected {
                        let got = p.get(cat).copied();
                        if got != Some(*want) {
                            ok = false;
                            diffs.insert(format!(
                                "{cat}: expected {want}, stamped {}",
                                got.map_or("nothing".to_string(), |g| g.to_string())
                            ));
                        }
                    }
                    if !ok {
                        bad.push(e);
                    }
                }
                ConsentStamp::Absent | ConsentStamp::NoPreferences => {
                    diffs.insert("events carry no consent stamp".to_string());
                    bad.push(e);
                }
            }
        }
        if !bad.is_empty() {
            failures.push(Failure {
                check: CheckId::ConsentMismatch,
                destination: None,
                message: format!(
                    "{} event{} disagree with expect.consent ({})",
                    bad.len(),
                    if bad.len() == 1 { "" } else { "s" },
                    diffs.into_iter().collect::<Vec<_>>().join("; ")
                ),
                evidence: bad.iter().map(|e| event_evidence(e)).collect(),
            });
        }
    }
    failures
}

/// Whether an event breaks a collection level.
fn violates(level: Collection, e: &SegmentEvent) -> bool {
    match level {
        Collection::None => true,
        Collection::Anonymous => e.user_id.is_some() || e.has_traits,
        Collection::Any => false,
    }
}

/// `track "Order Completed"`, `page`, …
pub fn describe_event(e: &SegmentEvent) -> String {
    match &e.name {
        Some(n) => format!("{} {n:?}", e.call.as_str()),
        None => e.call.as_str().to_string(),
    }
}

fn event_evidence(e: &SegmentEvent) -> Evidence {
    Evidence {
        at_ms: e.at_ms,
        phase: e.phase,
        what: format!(
            "{} sent to {}{}{}",
            describe_event(e),
            e.host,
            e.path,
            if e.batched { " (batch)" } else { "" }
        ),
    }
}

fn reception_evidence(r: &Reception) -> Evidence {
    Evidence {
        at_ms: r.at_ms,
        phase: r.phase,
        what: r.describe(),
    }
}
