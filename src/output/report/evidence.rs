//! Builds what the HTML report shows of one trial beside its verdict (a
//! [`crate::outcome::TrialEvidence`]): the effective expectations, a timeline of the consent
//! decision, Segment's loading and events and every vendor request, and a screenshot before and
//! after the decision.
//!
//! Built inside the trial from the capture ([`build`]); stored as `report/trials/<stem>.json`
//! (and screenshots as `report/screenshots/<stem>.{before,after}.png`) so that processes of one
//! nextest run all contribute to one report. No payload value ever enters it: events are shown
//! by call type, name and consent stamp; URLs go through [`super::strip_query_values`].

use crate::analysis::privacy::Redactor;
use crate::analysis::routing::{ReceptionKind, Routing};
use crate::analysis::segment::{Decoded, LoadKind};
use crate::analysis::verdict::describe_event;
use crate::capture::{Capture, Phase};
use crate::outcome::{Screenshots, TimelineEntry, TimelineKind, TrialEvidence};
use crate::spec::{Spec, State};

use super::strip_query_values;

impl TrialEvidence {
    /// Redacts what the HTML report shows of a trial with the trial's redactor (screenshots are
    /// images: not redacted).
    pub fn redact(&mut self, r: &mut Redactor) {
        self.url = r.text(&self.url);
        r.all(&mut self.steps);
        r.all(&mut self.expectations);
        for t in &mut self.timeline {
            t.what = r.text(&t.what);
            if let Some(d) = &t.destination {
                t.destination = Some(r.text(d));
            }
            if let Some(d) = &t.detail {
                t.detail = Some(r.text(d));
            }
        }
    }
}

/// A timeline entry with its sort key: time, then the request's sequence number.
type Row = (u64, u64, TimelineEntry);

/// The evidence of one judged visit: the timeline's rows of every kind, in time order.
pub fn build(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
    expectations: Vec<String>,
) -> TrialEvidence {
    let mut rows: Vec<Row> = Vec::new();
    decision_rows(&mut rows, state, capture);
    segment_rows(&mut rows, decoded, routed);
    event_rows(&mut rows, decoded, routed);
    vendor_rows(&mut rows, capture, routed);
    third_party_rows(&mut rows, capture, routed);
    departure_rows(&mut rows, routed);
    rows.sort_by_key(|r| (r.0, r.1));
    rows.dedup_by(|a, b| a.2 == b.2);
    TrialEvidence {
        spec_file: spec.path.display().to_string(),
        url: strip_query_values(&spec.site.url),
        gpc: state.gpc,
        steps: state.steps.iter().map(|s| s.describe()).collect(),
        expectations,
        // Filled by the trial, which knows the analysis.
        library: String::new(),
        decision_at_ms: capture.decision_at_ms,
        timeline: rows.into_iter().map(|(_, _, e)| e).collect(),
        screenshot_before: None,
        screenshot_after: None,
        screenshots: Screenshots::default(),
    }
}

/// Each decision where it landed: the state's one, or each of a journey's (named).
fn decision_rows(rows: &mut Vec<Row>, state: &State, capture: &Capture) {
    for (d, mark) in state.decisions.iter().zip(&capture.decisions) {
        let Some(step) = state.steps.get(d.step) else {
            continue;
        };
        let at = if Some(d.step) == state.decision_step() {
            capture.decision_at_ms.unwrap_or(mark.at_ms)
        } else {
            mark.at_ms
        };
        let name = d.name.as_ref().map_or(String::new(), |n| format!(" `{n}`"));
        let after = state.steps.len() - d.step - 1;
        rows.push((
            at,
            0,
            TimelineEntry {
                at_ms: at,
                phase: Phase::After,
                kind: TimelineKind::Decision,
                what: format!(
                    "consent decision{name}: {}",
                    super::step_text(&step.describe())
                ),
                destination: None,
                detail: (after > 0).then(|| format!("{after} more step(s) follow")),
            },
        ));
    }
}

/// Segment's library, settings and destination code loads.
fn segment_rows(rows: &mut Vec<Row>, decoded: &Decoded, routed: &Routing) {
    let code_owner = |seq: u64| -> Option<String> {
        routed.destinations.values().find_map(|o| {
            o.receptions
                .iter()
                .any(|r| r.seq == seq && matches!(r.kind, ReceptionKind::CodeLoaded { .. }))
                .then(|| o.resolved.name.clone())
        })
    };

    for l in &decoded.library_loads {
        let what = match &l.kind {
            LoadKind::Library { .. } => format!("analytics.js loaded from {}", l.host),
            LoadKind::Settings { .. } => format!("Segment settings fetched from {}", l.host),
            LoadKind::Chunk => continue,
            LoadKind::ClassicDestination { slug } => {
                format!(
                    "destination code integrations/{slug} loaded from {}",
                    l.host
                )
            }
            LoadKind::ActionDestination { dir } => {
                format!("destination code actions/{dir} loaded from {}", l.host)
            }
        };
        rows.push((
            l.at_ms,
            l.seq,
            TimelineEntry {
                at_ms: l.at_ms,
                phase: l.phase,
                kind: TimelineKind::Segment,
                what,
                destination: code_owner(l.seq),
                detail: None,
            },
        ));
    }
}

/// Each Segment event, with its consent stamp and the cloud destinations it reaches.
fn event_rows(rows: &mut Vec<Row>, decoded: &Decoded, routed: &Routing) {
    for (i, e) in decoded.events.iter().enumerate() {
        let reaches = routed
            .event_destinations
            .get(i)
            .filter(|d| !d.is_empty())
            .map(|d| d.join(", "))
            .unwrap_or_else(|| "no cloud destination".into());
        let mut detail = format!("consent {}; reaches {reaches}", e.consent);
        if e.user_id.is_some() || e.has_traits {
            detail.push_str("; identified");
        }
        if e.batched {
            detail.push_str("; batched");
        }
        rows.push((
            e.at_ms,
            e.seq,
            TimelineEntry {
                at_ms: e.at_ms,
                phase: e.phase,
                kind: TimelineKind::Event,
                what: format!("{} → {}{}", describe_event(e), e.host, e.path),
                destination: None,
                detail: Some(detail),
            },
        ));
    }
}

/// Each request a destination's vendor received (code loads are Segment's rows).
fn vendor_rows(rows: &mut Vec<Row>, capture: &Capture, routed: &Routing) {
    let request = |seq: u64| capture.requests.iter().find(|r| r.seq == seq);
    for o in routed.destinations.values() {
        for r in &o.receptions {
            let (host, path, carried) = match &r.kind {
                ReceptionKind::HostContacted { host, path }
                | ReceptionKind::SocketOpened { host, path, .. } => (host, path, None),
                ReceptionKind::Navigated {
                    host,
                    path,
                    identifiers,
                } => (host, path, Some(identifiers)),
                _ => continue,
            };
            let mut what = match request(r.seq) {
                Some(req) => format!("{} {}", req.method, strip_query_values(&req.url)),
                None => format!("request to {host}{path}"),
            };
            if let Some(names) = carried {
                what = format!(
                    "the visitor was sent to {what} by a step, carrying {}",
                    names.join(", ")
                );
            }
            rows.push((
                r.at_ms,
                r.seq,
                TimelineEntry {
                    at_ms: r.at_ms,
                    phase: r.phase,
                    kind: TimelineKind::Vendor,
                    what,
                    destination: Some(o.resolved.name.clone()),
                    detail: None,
                },
            ));
        }
    }
}

/// Each request to a host no destination claims.
fn third_party_rows(rows: &mut Vec<Row>, capture: &Capture, routed: &Routing) {
    for req in &capture.requests {
        if routed.other_hosts.contains(&req.host()) {
            rows.push((
                req.at_ms,
                req.seq,
                TimelineEntry {
                    at_ms: req.at_ms,
                    phase: req.phase,
                    kind: TimelineKind::ThirdParty,
                    what: format!("{} {}", req.method, strip_query_values(&req.url)),
                    destination: None,
                    detail: None,
                },
            ));
        }
    }
}

/// Each time a step sent the visitor off the site.
fn departure_rows(rows: &mut Vec<Row>, routed: &Routing) {
    for d in &routed.departures {
        rows.push((
            d.at_ms,
            d.seq,
            TimelineEntry {
                at_ms: d.at_ms,
                phase: d.phase,
                kind: TimelineKind::Departure,
                what: format!("the visitor left for {} (step {})", d.host, d.step),
                destination: None,
                detail: None,
            },
        ));
    }
}
