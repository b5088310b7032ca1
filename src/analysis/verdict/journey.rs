//! Journeys: a state whose steps make several decisions (`decision: NAME` markers), each with its
//! own expectations (`phases.<name>`, and `phases.before` for what comes before the first). A
//! phase runs from its decision step's start until the next decision's; its expectations are
//! judged on the requests and events recorded in that window, with the same checks as a state's
//! (`blocked-received`, `allowed-missing`, `collection`, `calls`, `consent-mismatch`,
//! `event-missing`, `event-unexpected`), each message naming the phase.

use std::collections::BTreeMap;

use crate::analysis::routing::{ReceptionKind, Routing};
use crate::analysis::segment::{ConsentStamp, Decoded, SegmentEvent};
use crate::capture::Capture;
use crate::outcome::{CheckId, Failure};
use crate::spec::{Collection, ConsentModel, DestinationSet, Expect, Mode, Spec, State};

use super::{Sourced, event_evidence, exempt, plural, reception_evidence, violates};

/// A phase's window: requests with `from <= seq < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub from: u64,
    pub to: u64,
    pub at_ms: u64,
}

impl Window {
    pub(crate) fn contains(&self, seq: u64) -> bool {
        self.from <= seq && seq < self.to
    }
}

/// Each phase of `state` the visit reached, in order: `before` (before the first decision) and
/// each decision (its name, or `decision` for the unnamed default), with its window.
pub(crate) fn windows(state: &State, capture: &Capture) -> Vec<(String, Window)> {
    let marks = &capture.decisions;
    let mut out = Vec::new();
    let first = marks.first().map_or(u64::MAX, |m| m.first_seq);
    out.push((
        "before".to_string(),
        Window {
            from: 0,
            to: first,
            at_ms: 0,
        },
    ));
    for (k, (m, d)) in marks.iter().zip(&state.decisions).enumerate() {
        let to = marks.get(k + 1).map_or(u64::MAX, |n| n.first_seq);
        out.push((
            d.name.clone().unwrap_or_else(|| "decision".to_string()),
            Window {
                from: m.first_seq,
                to,
                at_ms: m.at_ms,
            },
        ));
    }
    out
}

/// Every failed expectation of every phase the visit reached.
pub(super) fn check(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
) -> Vec<Failure> {
    if state.phases.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, window) in windows(state, capture) {
        if let Some(expect) = state.phases.get(&name) {
            let step = state
                .decisions
                .iter()
                .find(|d| d.name.as_deref() == Some(name.as_str()))
                .map(|d| d.step + 1);
            let label = match step {
                Some(n) => format!("in phase `{name}` (from step {n}, at {} ms)", window.at_ms),
                None => format!("in phase `{name}` (before the first decision)"),
            };
            out.extend(phase(
                spec, expect, &label, window, capture, decoded, routed,
            ));
        }
    }
    out
}

/// Every failed expectation of one phase of a journey, in the order of a state's checks.
fn phase(
    spec: &Spec,
    expect: &Expect,
    label: &str,
    window: Window,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
) -> Vec<Failure> {
    let mut out = Vec::new();
    if let Some(blocked) = &expect.blocked {
        phase_blocked(&mut out, spec, blocked, label, window, routed);
    }
    if let Some(allowed) = expect.allowed.as_ref().filter(|_| !capture.interrupted) {
        phase_allowed(&mut out, allowed, label, window, routed);
    }
    let events: Vec<&SegmentEvent> = decoded
        .events
        .iter()
        .filter(|e| window.contains(e.seq))
        .collect();
    if let Some(level) = expect.collection {
        phase_collection(&mut out, level, label, &events);
    }
    phase_calls(&mut out, expect, label, &events);
    if let Some(want) = &expect.consent {
        phase_consent(&mut out, want, label, &events);
    }
    if !expect.events.is_empty() {
        phase_events(&mut out, expect, label, window, capture, decoded);
    }
    out
}

fn phase_blocked(
    out: &mut Vec<Failure>,
    spec: &Spec,
    blocked: &DestinationSet,
    label: &str,
    window: Window,
    routed: &Routing,
) {
    let opt_out = spec.consent_model == ConsentModel::OptOut;
    for (name, o) in &routed.destinations {
        if !blocked.contains(name) || exempt::is_exempt(spec, name) {
            continue;
        }
        let seen: Vec<_> = o
            .receptions
            .iter()
            .filter(|r| window.contains(r.seq))
            .filter(|r| !(opt_out && matches!(r.kind, ReceptionKind::CodeLoaded { .. })))
            .collect();
        if !seen.is_empty() {
            out.push(Failure {
                check: CheckId::BlockedReceived,
                destination: Some(name.clone()),
                message: format!(
                    "`{name}` must be blocked {label} but received data ({} time{})",
                    seen.len(),
                    plural(seen.len())
                ),
                evidence: seen.iter().map(|r| reception_evidence(r)).collect(),
            });
        }
    }
}

fn phase_allowed(
    out: &mut Vec<Failure>,
    allowed: &DestinationSet,
    label: &str,
    window: Window,
    routed: &Routing,
) {
    for (name, o) in &routed.destinations {
        if allowed.contains(name) && !o.receptions.iter().any(|r| window.contains(r.seq)) {
            let how = match o.resolved.mode {
                Mode::Device => "its code did not load and none of its hosts was contacted",
                Mode::Cloud => "no event that Segment would route to it was sent",
            };
            out.push(Failure {
                check: CheckId::AllowedMissing,
                destination: Some(name.clone()),
                message: format!("`{name}` must receive data {label}, but {how}"),
                evidence: Vec::new(),
            });
        }
    }
}

fn phase_collection(
    out: &mut Vec<Failure>,
    level: Collection,
    label: &str,
    events: &[&SegmentEvent],
) {
    let bad: Vec<_> = events.iter().filter(|e| violates(level, e)).collect();
    if !bad.is_empty() {
        out.push(Failure {
            check: CheckId::Collection,
            destination: None,
            message: format!(
                "{} event{} {label} broke `collection: {}`",
                bad.len(),
                plural(bad.len()),
                super::regime::collection_name(level)
            ),
            evidence: bad.iter().map(|e| event_evidence(e)).collect(),
        });
    }
}

fn phase_calls(out: &mut Vec<Failure>, expect: &Expect, label: &str, events: &[&SegmentEvent]) {
    for (call, level) in &expect.calls {
        let bad: Vec<_> = events
            .iter()
            .filter(|e| e.call == *call && violates(*level, e))
            .collect();
        if !bad.is_empty() {
            out.push(Failure {
                check: CheckId::Calls,
                destination: None,
                message: format!(
                    "{} {} call{} {label} broke `calls.{}: {}`",
                    bad.len(),
                    call.as_str(),
                    plural(bad.len()),
                    call.as_str(),
                    super::regime::collection_name(*level)
                ),
                evidence: bad.iter().map(|e| event_evidence(e)).collect(),
            });
        }
    }
}

fn phase_consent(
    out: &mut Vec<Failure>,
    want: &BTreeMap<String, bool>,
    label: &str,
    events: &[&SegmentEvent],
) {
    let mut diffs = std::collections::BTreeSet::new();
    let bad: Vec<_> = events
        .iter()
        .filter(|e| {
            let got = match &e.consent {
                ConsentStamp::Preferences(p) => p,
                _ => {
                    diffs.insert("events carry no consent stamp".to_string());
                    return true;
                }
            };
            let mut ok = true;
            for (cat, v) in want {
                if got.get(cat) != Some(v) {
                    ok = false;
                    diffs.insert(format!(
                        "{cat}: expected {v}, stamped {}",
                        got.get(cat)
                            .map_or("nothing".to_string(), |g| g.to_string())
                    ));
                }
            }
            !ok
        })
        .collect();
    if !bad.is_empty() {
        out.push(Failure {
            check: CheckId::ConsentMismatch,
            destination: None,
            message: format!(
                "{} event{} {label} disagree with its consent ({})",
                bad.len(),
                plural(bad.len()),
                diffs.into_iter().collect::<Vec<_>>().join("; ")
            ),
            evidence: bad.iter().map(|e| event_evidence(e)).collect(),
        });
    }
}

/// `expect.events` judged on the phase's events alone.
fn phase_events(
    out: &mut Vec<Failure>,
    expect: &Expect,
    label: &str,
    window: Window,
    capture: &Capture,
    decoded: &Decoded,
) {
    let mut scoped = decoded.clone();
    scoped.events.retain(|e| window.contains(e.seq));
    let items: Vec<Sourced<_>> = expect.events.iter().cloned().map(Sourced::spec).collect();
    // A journey has decisions.
    let when = |p| super::phase_words(true, p);
    for mut f in super::events::check(&items, &scoped, capture.interrupted, when) {
        f.message = format!("{label}: {}", f.message);
        out.push(f);
    }
}
