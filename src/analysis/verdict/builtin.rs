//! Built-in checks that run in every state (README "What is judged"; ids in docs/results.md): undeclared-destination,
//! ungated-destination, unstamped-events, consent-mismatch against the CMP's own record, and
//! events-held.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::routing::{self, CategorySource, Routing};
use crate::analysis::segment::{
    CdnSettings, ConsentStamp, Decoded, LibraryLoad, LoadKind, SegmentEvent,
};
use crate::capture::{Capture, Phase};
use crate::spec::{Mode, Spec, State, Step};

use super::{CheckId, Evidence, Failure, event_evidence, finding, plural, reception_evidence};

/// One failure per destination that the settings or the network show and the spec does not
/// declare.
pub(super) fn undeclared(decoded: &Decoded, routed: &Routing, capture: &Capture) -> Vec<Failure> {
    let settings_load = decoded
        .library_loads
        .iter()
        .find(|l| matches!(l.kind, LoadKind::Settings { .. }));
    routed
        .undeclared
        .iter()
        .map(|u| {
            let evidence = u
                .evidence
                .iter()
                .map(|e| undeclared_evidence(e, settings_load, capture))
                .collect();
            // Names routing makes up for code it cannot name carry a backquote.
            let todo = if u.name.contains('`') {
                "find its settings name and declare it under destinations (with its consent \
                 categories), or remove it from the source"
                    .to_string()
            } else {
                format!(
                    "add `{}: {{}}` under destinations (its consent categories come from the \
                     settings, or declare `categories:`), or remove it from the source",
                    yaml_key(&u.name)
                )
            };
            Failure {
                check: CheckId::UndeclaredDestination,
                destination: Some(u.name.clone()),
                message: format!(
                    "`{}` is fed by this source (see the evidence) but the spec does not declare it, \
                     so no expectation covers it: {todo}",
                    u.name
                ),
                evidence,
            }
        })
        .collect()
}

/// One piece of evidence for an undeclared destination, placed in time by the request (or the
/// settings load) that showed it.
fn undeclared_evidence(
    e: &routing::Evidence,
    settings_load: Option<&LibraryLoad>,
    capture: &Capture,
) -> Evidence {
    let request = |seq: u64| capture.requests.iter().find(|r| r.seq == seq);
    match e {
        routing::Evidence::Settings { detail } => match settings_load {
            Some(l) => Evidence {
                at_ms: l.at_ms,
                phase: Some(l.phase),
                what: format!("{detail} in the settings fetched from {}{}", l.host, l.path),
            },
            None => Evidence {
                at_ms: 0,
                phase: Some(Phase::Before),
                what: format!("{detail} in the spec's segment.settings file"),
            },
        },
        routing::Evidence::CodeLoaded { seq, path } => {
            let r = request(*seq);
            Evidence {
                at_ms: r.map_or(0, |r| r.at_ms),
                phase: Some(r.map_or(Phase::Before, |r| r.phase)),
                what: format!("destination code loaded ({path})"),
            }
        }
        routing::Evidence::Payload {
            seq,
            host,
            signature,
            first_party,
        } => {
            let r = request(*seq);
            Evidence {
                at_ms: r.map_or(0, |r| r.at_ms),
                phase: Some(r.map_or(Phase::Before, |r| r.phase)),
                what: routing::payload_words(
                    signature,
                    host,
                    r.map_or("", |r| r.path()),
                    *first_party,
                ),
            }
        }
        routing::Evidence::HostContacted { seq, host } => {
            let r = request(*seq);
            Evidence {
                at_ms: r.map_or(0, |r| r.at_ms),
                phase: Some(r.map_or(Phase::Before, |r| r.phase)),
                what: format!(
                    "request to {host}{}",
                    r.map_or(String::new(), |r| r.path().to_string())
                ),
            }
        }
    }
}

/// A destination name as a YAML mapping key: plain when safe, else double-quoted.
pub(super) fn yaml_key(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ()._-/".contains(c))
        && !name.starts_with([' ', '-'])
        && !name.ends_with(' ');
    if plain {
        name.to_string()
    } else {
        serde_json::to_string(name).unwrap_or_else(|_| name.to_string())
    }
}

/// A declared destination without any consent category while the spec declares categories.
///
/// A property of the configuration, reported in every state: each trial is judged (and may be
/// run) alone, and in every state such a destination is outside the visitor's control. Its
/// receptions in this state are the evidence.
pub(super) fn ungated(spec: &Spec, routed: &Routing) -> Vec<Failure> {
    if spec.categories.is_empty() {
        return Vec::new();
    }
    routed
        .destinations
        .iter()
        .filter(|(_, o)| o.resolved.categories.is_empty())
        .filter(|(name, _)| !super::exempt::is_exempt(spec, name))
        .map(|(name, o)| {
            let why = match o.resolved.categories_source {
                CategorySource::Spec => "the spec declares `categories: []` for it".to_string(),
                _ => {
                    "the settings give it no consentSettings.categories and the spec declares none"
                        .to_string()
                }
            };
            let effect = match o.resolved.mode {
                Mode::Device => {
                    "Segment's consent wrapper loads it in the browser and passes it every event, \
                     whatever the visitor chooses"
                }
                Mode::Cloud => {
                    "Segment's servers treat it as needing no consent and deliver it every event \
                     whatever the visitor chooses"
                }
            };
            let fix = match o.resolved.mode {
                Mode::Device => {
                    "map it to a consent category in Segment's consent settings (or, when the \
                     site's wrapper maps it with integrationCategoryMappings, declare those \
                     `categories:` in the spec)"
                }
                Mode::Cloud => {
                    "map it to a consent category in Segment's consent settings and declare the \
                     same `categories:` in the spec (cloud mappings are not in the CDN settings)"
                }
            };
            Failure {
                check: CheckId::UngatedDestination,
                destination: Some(name.clone()),
                message: format!("`{name}` has no consent category ({why}): {effect}; {fix}"),
                evidence: o.receptions.iter().map(reception_evidence).collect(),
            }
        })
        .collect()
}

/// Events that reached Segment without `context.consent.categoryPreferences`.
pub(super) fn unstamped(spec: &Spec, decoded: &Decoded, routed: &Routing) -> Vec<Failure> {
    if spec.categories.is_empty() {
        return Vec::new();
    }
    let bad: Vec<(usize, &SegmentEvent)> = decoded
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(
                e.consent,
                ConsentStamp::Absent | ConsentStamp::NoPreferences
            )
        })
        .collect();
    if bad.is_empty() {
        return Vec::new();
    }
    let reached: BTreeSet<&str> = bad
        .iter()
        .filter_map(|(i, _)| routed.event_destinations.get(*i))
        .flatten()
        .map(String::as_str)
        .collect();
    let here = if reached.is_empty() {
        String::new()
    } else {
        format!(
            " (here: {})",
            reached.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    vec![Failure {
        check: CheckId::UnstampedEvents,
        destination: None,
        message: format!(
            "{} event{} reached Segment without context.consent.categoryPreferences: Segment's \
             servers deliver unstamped events to every cloud destination whatever the visitor \
             chose{here}; load Segment through a consent wrapper (consent-tools or the CMP's \
             Segment wrapper) so that every event is stamped",
            bad.len(),
            plural(bad.len())
        ),
        evidence: bad.iter().map(|(_, e)| event_evidence(e)).collect(),
    }]
}

/// The stamp on the events after the decision against the CMP's own recorded choice
/// (`Capture::cmp_choice`, read through the spec's CMP adapter; `None` → not judged).
///
/// A state may change consent more than once (accept, then withdraw), so only the *final* stamp
/// is judged: the last run of events after the decision that carry the same stamp as the last
/// stamped event, against the CMP's record at the end of the visit. Earlier stamps belong to
/// earlier choices. Stamps before the decision are never judged.
///
/// One case has no event with the final choice: under the opt-out model, a withdrawal that makes
/// consent-tools disable Segment (`segmentShouldBeDisabled`: no unmapped destinations and no
/// consented category in `allCategories`) drops every later event, so the last events still
/// carry the earlier choice. That is skipped when the state makes more than one `cmp:` decision.
///
/// A category the CMP records and the stamp lacks counts as stamped `false` (Segment treats a
/// missing category as denied); categories only the stamp carries are not judged. `skip` holds
/// categories the expect.consent failure already reports with the same value.
pub(super) fn cmp_mismatch(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
    settings: Option<&CdnSettings>,
    skip: &BTreeSet<String>,
) -> Option<Failure> {
    let cmp = capture.cmp_choice.as_ref()?;
    if state.steps.is_empty() {
        return None;
    }
    let (run, last) = super::final_stamp(decoded, false)?;
    let decisions = state
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Cmp(_)))
        .count();
    if spec.consent_model == crate::spec::ConsentModel::OptOut
        && decisions > 1
        && segment_disabled(cmp, settings)
    {
        return None;
    }
    let diffs: Vec<String> = cmp
        .iter()
        .filter(|(cat, _)| !skip.contains(*cat))
        .filter_map(|(cat, want)| {
            let got = last.get(cat).copied();
            (got.unwrap_or(false) != *want).then(|| {
                format!(
                    "the CMP recorded {cat}={want} but Segment stamped {cat}={}",
                    super::stamped(got)
                )
            })
        })
        .collect();
    super::stamp_mismatch(
        diffs,
        &run,
        "after the decision",
        "the consent wrapper's category mapping is wrong, and Segment routes by the stamp, not \
         by the CMP",
    )
}

/// consent-tools' `segmentShouldBeDisabled` for a choice (docs/segment.md §3.1 step 7).
fn segment_disabled(choice: &BTreeMap<String, bool>, settings: Option<&CdnSettings>) -> bool {
    let Some(cs) = settings.and_then(|s| s.consent_settings.as_ref()) else {
        return false;
    };
    !cs.has_unmapped_destinations
        && choice
            .iter()
            .filter(|(_, v)| **v)
            .all(|(c, _)| !cs.all_categories.contains(c))
}

/// `events-held`: the verdict judges what reached the wire, so events the page still held when the
/// state ended would be judged as never sent, in both directions (a leak passes, an allowed
/// destination looks starved). Fails when the page believed it was offline at the end of the
/// visit (analytics-next then queues instead of sending), and once per analytics-next queue that
/// still held events: for Segment's own queues (`dest-Segment.io`, `event-queue`) the events whose
/// `messageId` never reached Segment's API (analytics-next also persists deliveries still in flight
/// when the page hides), for a device-mode destination's queue every event.
pub(super) fn held(state: &State, capture: &Capture, decoded: &Decoded) -> Vec<Failure> {
    let phase = if state.steps.is_empty() {
        Phase::Before
    } else {
        Phase::After
    };
    let at = |what: String| Evidence {
        at_ms: capture.ended_at_ms,
        phase: Some(phase),
        what,
    };
    let mut failures = Vec::new();
    if capture.environment.as_ref().is_some_and(|e| !e.online) {
        failures.push(Failure {
            check: CheckId::EventsHeld,
            destination: None,
            message: "the page believed it was offline (navigator.onLine false at the end of the \
                      visit): analytics-next queues events instead of sending them, so what was \
                      sent is not what the site sends"
                .to_string(),
            evidence: vec![at(
                "navigator.onLine === false at the end of the visit".into()
            )],
        });
    }
    let sent: BTreeSet<&str> = decoded
        .events
        .iter()
        .filter_map(|e| e.message_id.as_deref())
        .collect();
    for q in &capture.held_queues {
        let (_write_key, queue) = q.name.split_once(':').unwrap_or(("", q.name.as_str()));
        let segments_own = queue == "dest-Segment.io" || queue == "event-queue";
        let held = q
            .message_ids
            .iter()
            .filter(|id| !segments_own || id.as_deref().is_none_or(|id| !sent.contains(id)))
            .count();
        if held == 0 {
            continue;
        }
        let key = format!("persisted-queue:v1:<write-key>:{queue}:items");
        let destination = queue
            .strip_prefix("dest-")
            .filter(|d| *d != "Segment.io")
            .map(str::to_string);
        failures.push(Failure {
            check: CheckId::EventsHeld,
            destination,
            message: format!(
                "analytics-next's queue `{queue}` still held {held} event{} at the end of the \
                 state, never sent: the verdict cannot tell what the site would have sent",
                plural(held)
            ),
            evidence: vec![at(format!(
                "{held} event{} in localStorage {key} of {}",
                plural(held),
                q.origin
            ))],
        });
    }
    failures
}

/// Requests to Segment's API (its hosts, or a `/v1/<call>` path on a proxy) whose payload could
/// not be decoded: what they carried cannot be judged, so they are a finding of their own, in
/// every state and phase.
pub(super) fn undecodable(decoded: &Decoded) -> Option<Failure> {
    let n = decoded.malformed.len();
    if n == 0 {
        return None;
    }
    let message = format!(
        "{n} request{} to Segment's tracking API could not be decoded, so what {} carried \
         cannot be judged; send Segment's documented JSON (optionally gzip, deflate or br \
         encoded) or keep such traffic from Segment's API",
        plural(n),
        they(n)
    );
    let evidence = decoded.malformed.iter().map(|m| {
        super::evidence(
            m.at_ms,
            m.phase,
            format!("{}{}: {}", m.host, m.path, m.reason),
        )
    });
    Some(finding(
        CheckId::UndecodableSegment,
        message,
        evidence.collect(),
    ))
}

/// Connections the browser reported and the recorder never saw: the trial cannot vouch for what
/// it did not see, so it does not pass.
pub(super) fn unrecorded(capture: &Capture) -> Option<Failure> {
    let unrecorded = &capture.unrecorded;
    if unrecorded.is_empty() {
        return None;
    }
    let first: Vec<String> = unrecorded
        .iter()
        .take(5)
        .map(|u| format!("{} {} (from {})", u.method, u.url, u.initiator))
        .collect();
    let message = format!(
        "the browser made {n} connection{} the recorder never saw, so this trial cannot vouch \
         for what {} carried: {}",
        plural(unrecorded.len()),
        they(unrecorded.len()),
        first.join("; "),
        n = unrecorded.len(),
    );
    let evidence = unrecorded.iter().map(|u| {
        let what = format!("{} {} from {}", u.method, u.url, u.initiator);
        super::evidence(u.at_ms, u.phase, what)
    });
    Some(finding(
        CheckId::UnrecordedTraffic,
        message,
        evidence.collect(),
    ))
}

/// `it` or `they`, for `n` things.
fn they(n: usize) -> &'static str {
    if n == 1 { "it" } else { "they" }
}
