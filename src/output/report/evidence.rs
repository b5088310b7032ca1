//! What the HTML report shows of one trial beside its verdict: the effective expectations, a
//! timeline of the consent decision, Segment's loading and events and every vendor request, and a
//! screenshot before and after the decision.
//!
//! Built inside the trial from the capture ([`build`]); stored as `report/trials/<stem>.json`
//! (and screenshots as `report/screenshots/<stem>.{before,after}.png`) so that processes of one
//! nextest run all contribute to one report. No payload value ever enters it: events are shown
//! by call type, name and consent stamp; URLs go through [`super::strip_query_values`].

use serde::{Deserialize, Serialize};

use crate::analysis::routing::{ReceptionKind, Routing};
use crate::analysis::segment::{ConsentStamp, Decoded, LoadKind};
use crate::analysis::verdict::describe_event;
use crate::capture::{Capture, Phase};
use crate::spec::{Spec, State};

use super::strip_query_values;

/// Screenshots taken during the visit (PNG bytes), kept in memory until the report is written.
#[derive(Debug, Clone, Default)]
pub struct Screenshots {
    /// After the page loaded and settled, before the first step (the banner as the visitor
    /// first sees it). In a state without steps: the page as the visit left it undecided.
    pub before: Option<Vec<u8>>,
    /// After the steps ran and the page settled.
    pub after: Option<Vec<u8>>,
}

/// What a timeline row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelineKind {
    /// The first step: the visitor's consent decision.
    Decision,
    /// Segment's library, settings or destination code loading.
    Segment,
    /// A Segment event reaching the tracking API.
    Event,
    /// A request to a declared destination's vendor.
    Vendor,
    /// A request to any other third-party host.
    ThirdParty,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Decision => "decision",
            TimelineKind::Segment => "segment",
            TimelineKind::Event => "event",
            TimelineKind::Vendor => "vendor",
            TimelineKind::ThirdParty => "third-party",
        }
    }
}

/// One row of a trial's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Milliseconds since the first navigation started.
    pub at_ms: u64,
    /// `before` or `after` the decision.
    pub phase: String,
    pub kind: TimelineKind,
    /// `track "Order Completed"`, `GET https://connect.facebook.net/en_US/fbevents.js`.
    pub what: String,
    /// The declared destination concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Consent stamp and routing of an event: `consent C0002=true; reaches Actions Amplitude`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Everything the HTML report shows of one trial besides its result.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrialEvidence {
    /// The spec file, as given.
    pub spec_file: String,
    /// The site's first page (query values stripped).
    pub url: String,
    pub gpc: bool,
    /// Step descriptions, in order.
    pub steps: Vec<String>,
    /// Effective expectations with their source: `blocked: all (regime gdpr)`.
    pub expectations: Vec<String>,
    pub decision_at_ms: Option<u64>,
    pub timeline: Vec<TimelineEntry>,
    /// Screenshot files, relative to the report folder, once written.
    #[serde(default)]
    pub screenshot_before: Option<String>,
    #[serde(default)]
    pub screenshot_after: Option<String>,
    /// Screenshot bytes until the report writes them.
    #[serde(skip)]
    pub screenshots: Screenshots,
}

fn phase_name(p: Phase) -> String {
    match p {
        Phase::Before => "before".into(),
        Phase::After => "after".into(),
    }
}

/// The consent stamp as the snapshot writes it: `absent`, `no-preferences`, `C0001=true C0002=false`.
pub fn stamp_text(stamp: &ConsentStamp) -> String {
    match stamp {
        ConsentStamp::Absent => "absent".into(),
        ConsentStamp::NoPreferences => "no-preferences".into(),
        ConsentStamp::Preferences(p) if p.is_empty() => "{} (all denied)".into(),
        ConsentStamp::Preferences(p) => p
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The evidence of one judged visit.
pub fn build(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
    expectations: Vec<String>,
) -> TrialEvidence {
    let mut rows: Vec<(u64, u64, TimelineEntry)> = Vec::new();
    let request = |seq: u64| capture.requests.iter().find(|r| r.seq == seq);
    let code_owner = |seq: u64| -> Option<String> {
        routed.destinations.values().find_map(|o| {
            o.receptions
                .iter()
                .any(|r| r.seq == seq && matches!(r.kind, ReceptionKind::CodeLoaded { .. }))
                .then(|| o.name.clone())
        })
    };

    if let (Some(at), Some(first)) = (capture.decision_at_ms, state.steps.first()) {
        rows.push((
            at,
            0,
            TimelineEntry {
                at_ms: at,
                phase: "after".into(),
                kind: TimelineKind::Decision,
                what: format!("consent decision: {}", super::step_text(&first.describe())),
                destination: None,
                detail: (state.steps.len() > 1)
                    .then(|| format!("{} more step(s) follow", state.steps.len() - 1)),
            },
        ));
    }
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
                phase: phase_name(l.phase),
                kind: TimelineKind::Segment,
                what,
                destination: code_owner(l.seq),
                detail: None,
            },
        ));
    }
    for (i, e) in decoded.events.iter().enumerate() {
        let reaches = routed
            .event_destinations
            .get(i)
            .filter(|d| !d.is_empty())
            .map(|d| d.join(", "))
            .unwrap_or_else(|| "no cloud destination".into());
        let mut detail = format!("consent {}; reaches {reaches}", stamp_text(&e.consent));
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
                phase: phase_name(e.phase),
                kind: TimelineKind::Event,
                what: format!("{} → {}{}", describe_event(e), e.host, e.path),
                destination: None,
                detail: Some(detail),
            },
        ));
    }
    for o in routed.destinations.values() {
        for r in &o.receptions {
            let (ReceptionKind::HostContacted { host, path }
            | ReceptionKind::SocketOpened { host, path, .. }) = &r.kind
            else {
                continue;
            };
            let what = match request(r.seq) {
                Some(req) => format!("{} {}", req.method, strip_query_values(&req.url)),
                None => format!("request to {host}{path}"),
            };
            rows.push((
                r.at_ms,
                r.seq,
                TimelineEntry {
                    at_ms: r.at_ms,
                    phase: phase_name(r.phase),
                    kind: TimelineKind::Vendor,
                    what,
                    destination: Some(o.name.clone()),
                    detail: None,
                },
            ));
        }
    }
    for req in &capture.requests {
        if routed.other_hosts.contains(&req.host()) {
            rows.push((
                req.at_ms,
                req.seq,
                TimelineEntry {
                    at_ms: req.at_ms,
                    phase: phase_name(req.phase),
                    kind: TimelineKind::ThirdParty,
                    what: format!("{} {}", req.method, strip_query_values(&req.url)),
                    destination: None,
                    detail: None,
                },
            ));
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    rows.dedup_by(|a, b| a.2 == b.2);
    TrialEvidence {
        spec_file: spec.path.display().to_string(),
        url: strip_query_values(&spec.site.url),
        gpc: state.gpc,
        steps: state.steps.iter().map(|s| s.describe()).collect(),
        expectations,
        decision_at_ms: capture.decision_at_ms,
        timeline: rows.into_iter().map(|(_, _, e)| e).collect(),
        screenshot_before: None,
        screenshot_after: None,
        screenshots: Screenshots::default(),
    }
}
