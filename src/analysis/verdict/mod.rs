//! Verdicts: the spec's expectations (completed by the regime's defaults, [`regime`]) judged
//! against what the visit produced, plus the built-in checks that run in every state
//! ([`builtin`], [`pii`]).
//!
//! Judging window (docs/spec.md, `states.<name>.steps`): in a state with steps, `allowed` and `blocked` judge traffic from
//! the first step on (under an opt-out model vendors may legitimately load before the decision);
//! in a state without steps, all of it. `collection` and `calls` judge the whole visit: they say
//! what may reach Segment's tracking API in this state at all. `consent` judges every event after
//! the decision (all events in a state without steps).
//!
//! Under the opt-out model (`consentModel: opt-out`) consent-tools loads every device-mode
//! destination on every page and blocks per event (docs/segment.md §3.1 step 6): a destination
//! code load is then not a reception for `blocked`; a request to the vendor's hosts still is.

mod builtin;
mod events;
pub mod exempt;
mod gpp;
pub(crate) mod journey;
pub(crate) mod pii;
pub mod recipients;
pub(crate) mod regime;
mod tcf;

pub use regime::{Effective, Source, Sourced, effective, effective_of_visit, effective_signalled};

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::routing::{Reception, ReceptionKind, Routing};
use crate::analysis::segment::{CdnSettings, ConsentStamp, Decoded, SegmentEvent};
use crate::capture::{Capture, Phase};
use crate::outcome::{CheckId, Evidence, Failure};
use crate::spec::{Collection, ConsentModel, Spec, State};

/// Every failed expectation and built-in check of `state`, in a stable order: expectations
/// (blocked, allowed, collection, calls, consent), then the built-in checks (undeclared, ungated,
/// unstamped, CMP consent mismatch, pii, unknown recipients, events held, undecodable Segment
/// traffic). `eff` holds the state's effective expectations ([`effective_of_visit`]).
///
/// An interrupted visit ([`Capture::interrupted`]: a step missed or failed, the trial ran out of
/// time) is judged on what it recorded, but only by the checks that say something must *not*
/// happen: whatever they find in part of a visit the whole visit would hold too. Checks that say
/// something must be there by the end (`allowed-missing`, the stamp against the CMP's final
/// choice) cannot be judged on a visit that never got there.
pub fn judge(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
    settings: Option<&CdnSettings>,
    eff: &Effective,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    failures.extend(blocked_received(spec, state, routed, eff));
    if !capture.interrupted {
        failures.extend(allowed_missing(state, routed, eff));
    }
    failures.extend(collection(state, decoded, eff));
    failures.extend(calls(decoded, eff));
    let (consent_failure, consent_flagged) = consent_expected(spec, state, decoded, eff);
    failures.extend(consent_failure);
    let consent_skip = consent_skip(eff, capture, consent_flagged);

    failures.extend(events::check(
        &eff.events,
        decoded,
        capture.interrupted,
        |p| phase_words(!state.decisions.is_empty(), p),
    ));
    failures.extend(journey::check(spec, state, capture, decoded, routed));
    failures.extend(builtin::undeclared(decoded, routed, capture));
    failures.extend(builtin::ungated(spec, routed));
    failures.extend(builtin::unstamped(spec, decoded, routed));
    if !capture.interrupted {
        failures.extend(builtin::cmp_mismatch(
            spec,
            state,
            capture,
            decoded,
            settings,
            &consent_skip,
        ));
    }
    failures.extend(tcf::judge(spec, state, capture, decoded));
    failures.extend(gpp::judge(spec, state, capture, decoded));
    failures.extend(pii::check(spec, state, eff, capture, decoded, routed));
    failures.extend(recipients::unknown(spec, state, eff, routed));
    failures.extend(builtin::held(state, capture, decoded));
    failures.extend(builtin::undecodable(decoded));
    failures.extend(builtin::unrecorded(capture));
    if state.decisions.is_empty() {
        // No decision in this state: "before the decision" would mean nothing to the reader.
        for e in failures.iter_mut().flat_map(|f| f.evidence.iter_mut()) {
            e.phase = None;
        }
    }
    failures
}

/// Whether traffic in `phase` is judged by `allowed`, `blocked` and `consent`: from the first
/// step on in a state with steps, all of it in a state without.
fn in_window(state: &State, phase: Phase) -> bool {
    state.steps.is_empty() || phase == Phase::After
}

/// `blocked`: every blocked, non-exempt destination that received data in the window.
fn blocked_received(spec: &Spec, state: &State, routed: &Routing, eff: &Effective) -> Vec<Failure> {
    let Some(blocked) = &eff.blocked else {
        return Vec::new();
    };
    let opt_out = spec.consent_model == ConsentModel::OptOut && !state.steps.is_empty();
    let mut failures = Vec::new();
    for (name, outcome) in &routed.destinations {
        if !blocked.value.contains(name) || exempt::is_exempt(spec, name) {
            continue;
        }
        let seen: Vec<&Reception> = outcome
            .receptions
            .iter()
            .filter(|r| in_window(state, r.phase))
            .filter(|r| !(opt_out && matches!(r.kind, ReceptionKind::CodeLoaded { .. })))
            .collect();
        if !seen.is_empty() {
            let opt_out_note = if opt_out {
                "; under the opt-out model, code loaded before the decision may keep running, \
                 but these were sent after the decision"
            } else {
                ""
            };
            failures.push(Failure {
                check: CheckId::BlockedReceived,
                destination: Some(name.clone()),
                message: format!(
                    "`{name}` must be blocked in this state{} but received data ({} time{}){opt_out_note}",
                    blocked.origin_note(),
                    seen.len(),
                    plural(seen.len())
                ),
                evidence: seen.iter().map(|r| reception_evidence(r)).collect(),
            });
        }
    }
    failures
}

/// `allowed`: every allowed destination that received nothing in the window.
fn allowed_missing(state: &State, routed: &Routing, eff: &Effective) -> Vec<Failure> {
    let Some(allowed) = &eff.allowed else {
        return Vec::new();
    };
    let mut failures = Vec::new();
    for (name, outcome) in &routed.destinations {
        if !allowed.value.contains(name) {
            continue;
        }
        if !outcome.receptions.iter().any(|r| in_window(state, r.phase)) {
            let how = match outcome.resolved.mode {
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
    failures
}

/// `collection`: the events of the whole visit that exceed the state's collection level.
fn collection(state: &State, decoded: &Decoded, eff: &Effective) -> Option<Failure> {
    let level = eff.collection.as_ref()?;
    let bad: Vec<&SegmentEvent> = decoded
        .events
        .iter()
        .filter(|e| violates(level.value, e))
        .collect();
    let first = bad.first()?;
    Some(Failure {
        check: CheckId::Collection,
        destination: None,
        message: match level.value {
            Collection::None => format!(
                "no event may reach Segment in this state{}, but {} did; the first, {}, at {} ms ({})",
                level.origin_note(),
                bad.len(),
                describe_event(first),
                first.at_ms,
                phase_words(!state.decisions.is_empty(), first.phase)
            ),
            _ => format!(
                "only anonymous events may reach Segment in this state{}, but {} carried a userId or traits",
                level.origin_note(),
                bad.len()
            ),
        },
        evidence: bad.iter().map(|e| event_evidence(e)).collect(),
    })
}

/// `calls`: per call type, the events of the whole visit that exceed its level.
fn calls(decoded: &Decoded, eff: &Effective) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (call, level) in &eff.calls {
        let bad: Vec<&SegmentEvent> = decoded
            .events
            .iter()
            .filter(|e| e.call == *call && violates(level.value, e))
            .collect();
        if !bad.is_empty() {
            failures.push(Failure {
                check: CheckId::Calls,
                destination: None,
                message: match level.value {
                    Collection::None => format!(
                        "no {} call may reach Segment in this state, but {} did",
                        call.as_str(),
                        bad.len()
                    ),
                    _ => format!(
                        "{} calls must be anonymous in this state (no userId, no traits), but {} carried a userId or traits",
                        call.as_str(),
                        bad.len()
                    ),
                },
                evidence: bad.iter().map(|e| event_evidence(e)).collect(),
            });
        }
    }
    failures
}

/// `consent`: the events in the window whose stamp disagrees with `expect.consent`, and the
/// categories that disagreed (for [`consent_skip`]).
fn consent_expected(
    spec: &Spec,
    state: &State,
    decoded: &Decoded,
    eff: &Effective,
) -> (Option<Failure>, BTreeSet<String>) {
    let mut consent_flagged = BTreeSet::new();
    let Some(expected) = &eff.consent else {
        return (None, consent_flagged);
    };
    // Unstamped events are the unstamped-events check's when the spec declares categories.
    let unstamped_reported = !spec.categories.is_empty();
    let mut bad = Vec::new();
    let mut diffs = BTreeSet::new();
    for e in decoded.events.iter().filter(|e| in_window(state, e.phase)) {
        match &e.consent {
            ConsentStamp::Preferences(p) => {
                let mut ok = true;
                for (cat, want) in &expected.value {
                    let got = p.get(cat).copied();
                    if got != Some(*want) {
                        ok = false;
                        consent_flagged.insert(cat.clone());
                        diffs.insert(format!("{cat}: expected {want}, stamped {}", stamped(got)));
                    }
                }
                if !ok {
                    bad.push(e);
                }
            }
            ConsentStamp::Absent | ConsentStamp::NoPreferences => {
                if !unstamped_reported {
                    diffs.insert("events carry no consent stamp".to_string());
                    bad.push(e);
                }
            }
        }
    }
    if bad.is_empty() {
        return (None, consent_flagged);
    }
    let failure = Failure {
        check: CheckId::ConsentMismatch,
        destination: None,
        message: format!(
            "{} event{}{} disagree with expect.consent ({})",
            bad.len(),
            plural(bad.len()),
            if state.decisions.is_empty() {
                ""
            } else {
                " after the decision"
            },
            diffs.into_iter().collect::<Vec<_>>().join("; ")
        ),
        evidence: bad.iter().map(|e| event_evidence(e)).collect(),
    };
    (Some(failure), consent_flagged)
}

/// Categories the expect.consent failure already reports (the CMP comparison skips them when
/// the CMP agrees with the expectation, so one defect is reported once).
fn consent_skip(
    eff: &Effective,
    capture: &Capture,
    consent_flagged: BTreeSet<String>,
) -> BTreeSet<String> {
    match (&eff.consent, &capture.cmp_choice) {
        (Some(expected), Some(cmp)) => consent_flagged
            .into_iter()
            .filter(|c| expected.value.get(c) == cmp.get(c))
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// When something was sent, in words: relative to the decision, or the whole visit in a state
/// that has none (`decided` false).
fn phase_words(decided: bool, p: Phase) -> &'static str {
    match p {
        _ if !decided => "in a state without a decision",
        Phase::Before => "before the decision",
        Phase::After => "after the decision",
    }
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

/// What was sent `at_ms` into the visit, `phase` the decision.
fn evidence(at_ms: u64, phase: Phase, what: String) -> Evidence {
    Evidence {
        at_ms,
        phase: Some(phase),
        what,
    }
}

fn event_evidence(e: &SegmentEvent) -> Evidence {
    let batch = if e.batched { " (batch)" } else { "" };
    let what = format!("{} sent to {}{}{batch}", describe_event(e), e.host, e.path);
    evidence(e.at_ms, e.phase, what)
}

fn reception_evidence(r: &Reception) -> Evidence {
    evidence(r.at_ms, r.phase, r.describe())
}

/// The stamp the visit ended on: the run of identical consent stamps that ends the events after
/// the decision (with `whole_visit`, of the whole visit), as (its events, the stamp); `None` when
/// no such event is stamped. The CMP's recorded choice, a TC string and a GPP string are judged
/// against it.
fn final_stamp(
    decoded: &Decoded,
    whole_visit: bool,
) -> Option<(Vec<&SegmentEvent>, &BTreeMap<String, bool>)> {
    let stamped: Vec<(&SegmentEvent, &BTreeMap<String, bool>)> = decoded
        .events
        .iter()
        .filter(|e| whole_visit || e.phase == Phase::After)
        .filter_map(|e| e.consent.preferences().map(|p| (e, p)))
        .collect();
    let &(_, last) = stamped.last()?;
    let run_start = stamped
        .iter()
        .rposition(|(_, p)| *p != last)
        .map_or(0, |i| i + 1);
    Some((stamped[run_start..].iter().map(|(e, _)| *e).collect(), last))
}

/// A failure that concerns no one destination.
fn finding(check: CheckId, message: String, evidence: Vec<Evidence>) -> Failure {
    Failure {
        check,
        destination: None,
        message,
        evidence,
    }
}

/// A `consent-mismatch` that names no event (a signal that is missing or says otherwise than
/// the spec expects).
fn consent_mismatch(message: String) -> Failure {
    finding(CheckId::ConsentMismatch, message, Vec::new())
}

/// What a category was stamped: `true`, `false`, or `nothing`.
fn stamped(got: Option<bool>) -> String {
    got.map_or("nothing".to_string(), |g| g.to_string())
}

/// `consent-mismatch` when the stamp the visit ended on (`run`, the events `when`) disagrees
/// with what the page recorded; `diffs` has one line per category, `why` says what follows from
/// it. `None` when nothing disagrees.
fn stamp_mismatch(
    diffs: Vec<String>,
    run: &[&SegmentEvent],
    when: &str,
    why: &str,
) -> Option<Failure> {
    (!diffs.is_empty()).then(|| {
        let message = format!(
            "{} on the {} event{} {when}: {why}",
            diffs.join("; "),
            run.len(),
            plural(run.len())
        );
        finding(
            CheckId::ConsentMismatch,
            message,
            run.iter().map(|e| event_evidence(e)).collect(),
        )
    })
}

/// How the verdict names an IAB signal the page gives vendors (the TC string, the GPP string).
struct Signal {
    /// `TC string`.
    string: &'static str,
    /// `TCF`.
    name: &'static str,
    /// The page's API and the command that answers with the string.
    api: &'static str,
    command: &'static str,
    /// The spec keys that judge it: the state's expectation and the top-level category map.
    expect_key: &'static str,
    map_key: &'static str,
}

impl Signal {
    /// A signal check: nothing when the state judges no signal (neither `expected` nor `mapped`)
    /// or the visit was interrupted (the string is read at its end); else, in the string the page
    /// gave vendors (`raw`, decoded), how it disagrees with the state's expectation (`expected`
    /// lists the differences) and what the spec's category map finds against the stamp
    /// (`mapped`); or the one failure that the string is missing or does not decode.
    fn judge<T, E: std::fmt::Display>(
        &self,
        capture: &Capture,
        raw: Option<&str>,
        decode: impl FnOnce(&str) -> Result<T, E>,
        expected: Option<impl FnOnce(&T) -> Vec<String>>,
        mapped: Option<impl FnOnce(&T) -> Option<Failure>>,
    ) -> Vec<Failure> {
        if (expected.is_none() && mapped.is_none()) || capture.interrupted {
            return Vec::new();
        }
        match raw.map(decode) {
            Some(Ok(signal)) => {
                let mut out: Vec<Failure> = expected
                    .and_then(|diffs| self.disagreement(diffs(&signal)))
                    .into_iter()
                    .collect();
                out.extend(mapped.and_then(|stamp| stamp(&signal)));
                out
            }
            Some(Err(e)) => vec![consent_mismatch(format!(
                "{} / {}: {e}",
                self.expect_key, self.map_key
            ))],
            None => vec![consent_mismatch(format!(
                "the page gave vendors no {} (no `{}`, or `{}` did not answer with one), so the {} \
                 signal the spec judges is missing",
                self.string, self.api, self.command, self.name
            ))],
        }
    }

    /// The state's expectation against the string: one failure for every `diffs` line, `None`
    /// when there is none.
    fn disagreement(&self, diffs: Vec<String>) -> Option<Failure> {
        (!diffs.is_empty()).then(|| {
            consent_mismatch(format!(
                "the {} disagrees with {} ({})",
                self.string,
                self.expect_key,
                diffs.join("; ")
            ))
        })
    }

    /// The final stamp (the run of identical stamps that ends the visit — after the decision,
    /// or the whole visit when `whole_visit`) against the spec's category map: `signalled` says,
    /// for one category's entry, whether the signal leaves it on, and in words why.
    /// `consent-mismatch` naming every category where the two disagree.
    fn stamp_against<V>(
        &self,
        decoded: &Decoded,
        whole_visit: bool,
        map: &indexmap::IndexMap<String, V>,
        signalled: impl Fn(&V) -> (bool, String),
    ) -> Option<Failure> {
        let (run, last) = final_stamp(decoded, whole_visit)?;
        let diffs: Vec<String> = map
            .iter()
            .filter_map(|(cat, entry)| {
                let (on, why) = signalled(entry);
                self.diff(cat, on, last.get(cat).copied(), why)
            })
            .collect();
        self.stamp_mismatch(diffs, &run, whole_visit)
    }

    /// `consent-mismatch` when the stamp the visit ended on (`run`) disagrees with the signal;
    /// `diffs` has one line per category, from [`Signal::diff`].
    fn stamp_mismatch(
        &self,
        diffs: Vec<String>,
        run: &[&SegmentEvent],
        whole_visit: bool,
    ) -> Option<Failure> {
        let when = if whole_visit {
            "that end the visit"
        } else {
            "after the decision"
        };
        let why = format!(
            "Segment routes by the stamp, vendors by the {}, and the two disagree",
            self.string
        );
        stamp_mismatch(diffs, run, when, &why)
    }

    /// One category where the stamp disagrees with the signal: `the {signal} signals {why}, so
    /// {cat}={want}, but Segment stamped {cat}={got}`; `None` when they agree.
    fn diff(&self, cat: &str, want: bool, got: Option<bool>, why: String) -> Option<String> {
        (got != Some(want)).then(|| {
            format!(
                "the {} signals {why}, so {cat}={want}, but Segment stamped {cat}={}",
                self.string,
                stamped(got)
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
