//! `pii-leak`: personal data in what reached a recipient that may not have it.
//!
//! What counts as personal data (emails, phone numbers, the spec's `pii` fields) is decided by
//! [`crate::analysis::privacy::detect`], which the redactor also uses, so every value this check
//! flags is removed from every artefact. A finding names *where* personal data sits
//! (`traits.email`, `query.em`), never the value.

use std::collections::BTreeMap;

use crate::analysis::privacy::{Finding, Scanner};
use crate::analysis::routing::{self, ReceptionKind, Routing};
use crate::analysis::segment::{Decoded, SegmentEvent};
use crate::capture::{Capture, CapturedRequest, Phase};
use crate::spec::{Collection, DestinationSet, Spec, State};

use super::regime::Effective;
use super::{CheckId, Evidence, Failure};

/// Why a payload with personal data is a leak.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    Blocked(String),
    CollectionNone(String),
    BeforeDecision(String),
}

impl Reason {
    fn describe(&self, label: &str) -> String {
        match self {
            Reason::Blocked(note) => format!("`{label}` is blocked in this state{note}"),
            Reason::CollectionNone(note) => {
                format!("no event may reach Segment in this state{note}")
            }
            Reason::BeforeDecision(src) => format!(
                "it was sent before the visitor decided ({src}: no personal data may leave the \
                 page before consent)"
            ),
        }
    }
}

#[derive(Default)]
struct Group {
    destination: Option<String>,
    reasons: std::collections::BTreeSet<Reason>,
    kinds: std::collections::BTreeSet<String>,
    evidence: Vec<Evidence>,
}

/// `pii-leak`: personal data (see the module docs) found in
/// - a Segment event routed (cloud) to a destination blocked in this state, within the judging
///   window, or any event at all when `collection: none` applies;
/// - a request to a blocked destination's hosts within the judging window (for `blocked: all`,
///   undeclared destinations too);
/// - under gdpr, any Segment event or third-party request (destination, undeclared destination or
///   other host) sent before the decision.
///
/// One failure per recipient (a destination, `Segment`, or an unknown host); each evidence line
/// names the payload, when it was sent and the field paths, never the values. A payload is
/// reported once per recipient even when several reasons apply.
pub(crate) fn check(
    spec: &Spec,
    state: &State,
    eff: &Effective,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
) -> Vec<Failure> {
    let mut leaks = Leaks {
        scanner: Scanner::new(&spec.pii),
        spec,
        state,
        eff,
        blocked_note: eff
            .blocked
            .as_ref()
            .map_or(String::new(), |b| b.origin_note()),
        before: eff.pii_before_decision.map(|s| s.to_string()),
        groups: BTreeMap::new(),
    };
    leaks.events(decoded, routed);
    leaks.destination_requests(capture, routed);
    if leaks.before.is_some() {
        leaks.other_host_requests(capture, routed);
    }
    leaks.failures()
}

/// The state's rules for `pii-leak` and what it found so far, grouped by recipient.
struct Leaks<'a> {
    scanner: Scanner,
    spec: &'a Spec,
    state: &'a State,
    eff: &'a Effective,
    blocked_note: String,
    /// Where the rule "no personal data before the decision" comes from, when it applies.
    before: Option<String>,
    groups: BTreeMap<String, Group>,
}

impl Leaks<'_> {
    fn in_window(&self, phase: Phase) -> bool {
        self.state.steps.is_empty() || phase == Phase::After
    }

    fn blocked(&self, name: &str) -> bool {
        self.eff
            .blocked
            .as_ref()
            .is_some_and(|b| b.value.contains(name))
            && !super::exempt::is_exempt(self.spec, name)
    }

    fn add(
        &mut self,
        label: &str,
        destination: Option<&str>,
        reason: Reason,
        findings: &[Finding],
        ev: Evidence,
    ) {
        let g = self.groups.entry(label.to_string()).or_default();
        g.destination = destination.map(str::to_string);
        g.reasons.insert(reason);
        g.kinds.extend(findings.iter().map(|f| f.kind.describe()));
        if !g.evidence.contains(&ev) {
            g.evidence.push(ev);
        }
    }

    /// Segment events: to a blocked destination in the window, else to Segment under
    /// `collection: none` or before the decision.
    fn events(&mut self, decoded: &Decoded, routed: &Routing) {
        let collection_none = self
            .eff
            .collection
            .as_ref()
            .filter(|c| c.value == Collection::None);
        for (i, e) in decoded.events.iter().enumerate() {
            let findings = self.scanner.scan_json(&e.payload);
            if findings.is_empty() {
                continue;
            }
            let ev = event_evidence(e, &findings);
            let dests: Vec<&String> = routed
                .event_destinations
                .get(i)
                .into_iter()
                .flatten()
                .filter(|d| self.blocked(d) && self.in_window(e.phase))
                .collect();
            for d in &dests {
                let reason = Reason::Blocked(self.blocked_note.clone());
                self.add(d, Some(d), reason, &findings, ev.clone());
            }
            if !dests.is_empty() {
                continue;
            }
            if let Some(c) = collection_none {
                let reason = Reason::CollectionNone(c.origin_note());
                self.add("Segment", None, reason, &findings, ev);
            } else if let Some(src) = &self.before
                && e.phase == Phase::Before
            {
                let reason = Reason::BeforeDecision(src.clone());
                self.add("Segment", None, reason, &findings, ev);
            }
        }
    }

    /// One request to `label`: a leak when it is blocked and in the window, or sent before the
    /// decision where that rule applies.
    fn request(
        &mut self,
        label: &str,
        destination: Option<&str>,
        is_blocked: bool,
        req: &CapturedRequest,
    ) {
        let reason = if is_blocked && self.in_window(req.phase) {
            Reason::Blocked(self.blocked_note.clone())
        } else if let Some(src) = &self.before
            && req.phase == Phase::Before
        {
            Reason::BeforeDecision(src.clone())
        } else {
            return;
        };
        let findings = self.scanner.scan_request(req);
        if !findings.is_empty() {
            let ev = request_evidence(req, &findings);
            self.add(label, destination, reason, &findings, ev);
        }
    }

    /// Requests to declared destinations' hosts, then to undeclared ones' (blocked under
    /// `blocked: all`).
    fn destination_requests(&mut self, capture: &Capture, routed: &Routing) {
        let request = |seq: u64| capture.requests.iter().find(|r| r.seq == seq);
        for (name, o) in &routed.destinations {
            let mut seen = std::collections::BTreeSet::new();
            for r in &o.receptions {
                if let ReceptionKind::HostContacted { .. }
                | ReceptionKind::Navigated { .. }
                | ReceptionKind::SocketOpened { .. } = r.kind
                    && seen.insert(r.seq)
                    && let Some(req) = request(r.seq)
                {
                    let is_blocked = self.blocked(name);
                    self.request(name, Some(name), is_blocked, req);
                }
            }
        }
        let blocked_all = self
            .eff
            .blocked
            .as_ref()
            .is_some_and(|b| b.value == DestinationSet::All);
        for u in &routed.undeclared {
            for e in &u.evidence {
                if let routing::Evidence::HostContacted { seq, .. } = e
                    && let Some(req) = request(*seq)
                {
                    self.request(&u.name, Some(&u.name), blocked_all, req);
                }
            }
        }
    }

    /// Requests to hosts no destination claims, sent before the decision.
    fn other_host_requests(&mut self, capture: &Capture, routed: &Routing) {
        for req in &capture.requests {
            let host = req.host();
            if req.phase == Phase::Before
                && !req.method.eq_ignore_ascii_case("OPTIONS")
                && routed.other_hosts.contains(&host)
            {
                self.request(&host, None, false, req);
            }
        }
    }

    /// One failure per recipient.
    fn failures(self) -> Vec<Failure> {
        self.groups
            .into_iter()
            .map(|(label, g)| {
                let reasons: Vec<String> = g.reasons.iter().map(|r| r.describe(&label)).collect();
                let kinds: Vec<String> = g.kinds.into_iter().collect();
                let quote = if g.destination.is_some() { "`" } else { "" };
                Failure {
                    check: CheckId::PiiLeak,
                    destination: g.destination,
                    message: format!(
                        "personal data ({}) reached {}{label}{}: {}; keep personal fields out of what \
                         is sent there until the visitor consents",
                        kinds.join(", "),
                        quote,
                        quote,
                        reasons.join("; ")
                    ),
                    evidence: g.evidence,
                }
            })
            .collect()
    }
}

fn field_list(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} ({})", f.path, f.kind.describe()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An event, described without any value: the event name is left out when it holds the data.
fn event_evidence(e: &SegmentEvent, findings: &[Finding]) -> Evidence {
    let named_field =
        |f: &Finding| f.path == "event" || f.path == "name" || f.path.starts_with("event.");
    let what = if findings.iter().any(named_field) {
        e.call.as_str().to_string()
    } else {
        super::describe_event(e)
    };
    Evidence {
        at_ms: e.at_ms,
        phase: Some(e.phase),
        what: format!(
            "{what} sent to {}{}: {}",
            e.host,
            e.path,
            field_list(findings)
        ),
    }
}

/// A request, described without any value: the path is left out when it holds the data.
fn request_evidence(req: &CapturedRequest, findings: &[Finding]) -> Evidence {
    let path = if findings.iter().any(|f| f.path == "path") {
        " (path withheld)".to_string()
    } else {
        req.path().to_string()
    };
    Evidence {
        at_ms: req.at_ms,
        phase: Some(req.phase),
        what: format!(
            "{} {}{path}: {}",
            req.method,
            req.host(),
            field_list(findings)
        ),
    }
}
