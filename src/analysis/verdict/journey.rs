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
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) at_ms: u64,
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
    let mut judge = PhaseJudge {
        label,
        window,
        routed,
        events: decoded
            .events
            .iter()
            .filter(|e| window.contains(e.seq))
            .collect(),
        out: Vec::new(),
    };
    if let Some(blocked) = &expect.blocked {
        judge.blocked(spec, blocked);
    }
    if let Some(allowed) = expect.allowed.as_ref().filter(|_| !capture.interrupted) {
        judge.allowed(allowed);
    }
    if let Some(level) = expect.collection {
        judge.collection(level);
    }
    judge.calls(expect);
    if let Some(want) = &expect.consent {
        judge.consent(want);
    }
    if !expect.events.is_empty() {
        judge.events(expect, capture, decoded);
    }
    judge.out
}

/// One phase being judged: its label in messages, its window, its events, what failed so far.
struct PhaseJudge<'a> {
    label: &'a str,
    window: Window,
    routed: &'a Routing,
    events: Vec<&'a SegmentEvent>,
    out: Vec<Failure>,
}

impl PhaseJudge<'_> {
    fn blocked(&mut self, spec: &Spec, blocked: &DestinationSet) {
        let (label, window) = (self.label, self.window);
        let opt_out = spec.consent_model == ConsentModel::OptOut;
        for (name, o) in &self.routed.destinations {
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
                self.out.push(Failure {
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

    fn allowed(&mut self, allowed: &DestinationSet) {
        let (label, window) = (self.label, self.window);
        for (name, o) in &self.routed.destinations {
            if allowed.contains(name) && !o.receptions.iter().any(|r| window.contains(r.seq)) {
                let how = match o.resolved.mode {
                    Mode::Device => "its code did not load and none of its hosts was contacted",
                    Mode::Cloud => "no event that Segment would route to it was sent",
                };
                self.out.push(Failure {
                    check: CheckId::AllowedMissing,
                    destination: Some(name.clone()),
                    message: format!("`{name}` must receive data {label}, but {how}"),
                    evidence: Vec::new(),
                });
            }
        }
    }

    fn collection(&mut self, level: Collection) {
        let bad: Vec<_> = self.events.iter().filter(|e| violates(level, e)).collect();
        if bad.is_empty() {
            return;
        }
        let (n, label) = (bad.len(), self.label);
        let level = super::regime::collection_name(level);
        self.out.push(Failure {
            check: CheckId::Collection,
            destination: None,
            message: format!("{n} event{} {label} broke `collection: {level}`", plural(n)),
            evidence: bad.iter().map(|e| event_evidence(e)).collect(),
        });
    }

    fn calls(&mut self, expect: &Expect) {
        let label = self.label;
        for (call, level) in &expect.calls {
            let bad: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.call == *call && violates(*level, e))
                .collect();
            if bad.is_empty() {
                continue;
            }
            let (n, call) = (bad.len(), call.as_str());
            let level = super::regime::collection_name(*level);
            self.out.push(Failure {
                check: CheckId::Calls,
                destination: None,
                message: format!(
                    "{n} {call} call{} {label} broke `calls.{call}: {level}`",
                    plural(n)
                ),
                evidence: bad.iter().map(|e| event_evidence(e)).collect(),
            });
        }
    }

    fn consent(&mut self, want: &BTreeMap<String, bool>) {
        let label = self.label;
        let mut diffs = std::collections::BTreeSet::new();
        let bad: Vec<_> = self
            .events
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
            self.out.push(Failure {
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
    fn events(&mut self, expect: &Expect, capture: &Capture, decoded: &Decoded) {
        let (label, window) = (self.label, self.window);
        let mut scoped = decoded.clone();
        scoped.events.retain(|e| window.contains(e.seq));
        let items: Vec<Sourced<_>> = expect.events.iter().cloned().map(Sourced::spec).collect();
        // A journey has decisions.
        let when = |p| super::phase_words(true, p);
        for mut f in super::events::check(&items, &scoped, capture.interrupted, when) {
            f.message = format!("{label}: {}", f.message);
            self.out.push(f);
        }
    }
}
