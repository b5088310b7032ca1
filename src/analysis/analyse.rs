//! One analysis pass over one visit: Segment decoding, the visitor's navigations, routing and
//! every verdict, computed once per attempt from the recorded capture and the settings parsed
//! beforehand. Pure: it reads no file and never talks to the browser, so tests feed it hand-made
//! captures.

use std::collections::BTreeSet;

use crate::analysis::privacy::{self, Scanner};
use crate::analysis::routing::{self, Carried, Routing};
use crate::analysis::segment::{self, CdnSettings, Decoded};
use crate::analysis::verdict::{self, Effective};
use crate::capture::{Capture, CapturedRequest, Initiator};
use crate::outcome::Failure;
use crate::spec::{Spec, State};

/// What one visit amounts to.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub decoded: Decoded,
    pub routing: Routing,
    /// The state's expectations completed by the regime's defaults, with their sources.
    pub effective: Effective,
    /// Every failed expectation and built-in check (not yet redacted).
    pub failures: Vec<Failure>,
    /// How analytics.js showed itself (by URL or by behaviour).
    pub(crate) library: segment::LibrarySeen,
    /// Warnings that are not failures: spec keys that had no effect, exemptions to check.
    pub(crate) notes: Vec<String>,
}

/// Decodes, routes and judges `capture`, a visit of `state`. `settings` is the spec's
/// `segment.settings`, parsed once by the caller.
pub fn analyse(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    settings: Option<&CdnSettings>,
) -> Analysis {
    let decoded = segment::decode(capture);
    let carried = carried(spec, capture, &decoded);
    let routing = routing::route_carried(spec, settings, capture, &decoded, &carried);
    let effective = verdict::effective_of_visit(spec, state, &routing, capture);
    let failures = verdict::judge(
        spec, state, capture, &decoded, &routing, settings, &effective,
    );
    let library = segment::library::recognise(&decoded);
    let mut notes = effective.warnings.clone();
    notes.extend(segment::library::ineffective_keys(spec, &library, &decoded));
    Analysis {
        decoded,
        routing,
        effective,
        failures,
        library,
        notes,
    }
}

/// Query and form parameters that hand the visitor's identity to whoever receives the link:
/// the click ids ad platforms append to their links and read back on landing (Google `gclid`,
/// `gbraid`, `wbraid`, `dclid`; Meta `fbclid`; TikTok `ttclid`; Microsoft `msclkid`; X `twclid`;
/// LinkedIn `li_fat_id`; Pinterest `epik`; Snap `sccid`; Impact `irclickid`; Yandex `yclid`),
/// Google's cross-domain linker `_gl`, Mailchimp's subscriber id `mc_eid`, and Segment's query
/// string API (`ajs_uid`, `ajs_aid`).
const ID_PARAMETERS: [&str; 17] = [
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "ttclid",
    "msclkid",
    "twclid",
    "li_fat_id",
    "epik",
    "sccid",
    "irclickid",
    "yclid",
    "_gl",
    "mc_eid",
    "ajs_uid",
    "ajs_aid",
];

/// For every top-level navigation a step caused, what identifies the visitor in it.
fn carried(spec: &Spec, capture: &Capture, decoded: &Decoded) -> Carried {
    let scanner = Scanner::new(&spec.pii);
    let ids = known_ids(capture, decoded);
    capture
        .requests
        .iter()
        .filter(|r| matches!(r.initiator, Initiator::StepNavigation { .. }))
        .map(|r| (r.seq, identifiers(r, &ids, &scanner)))
        .collect()
}

/// The ids this visit is known by: Segment's user and anonymous ids, and the values of the
/// cookies the visit left (the site's own visitor ids among them). Values shorter than 8
/// characters or without a digit (`true`, `en`, `granted`) identify no one.
fn known_ids(capture: &Capture, decoded: &Decoded) -> Vec<String> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for e in &decoded.events {
        ids.extend(e.user_id.iter().cloned());
        ids.extend(e.anonymous_id.iter().cloned());
    }
    ids.extend(capture.cookie_values.iter().cloned());
    ids.into_iter()
        .filter(|v| v.chars().count() >= 8 && v.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// The names of what identifies the visitor in `req` (never the values), sorted: a query or
/// form parameter that is a click id or linker, or whose value holds one of `ids`, and every
/// place personal data sits (`pii-leak`'s findings: an email, a phone number, a declared field).
pub(crate) fn identifiers(req: &CapturedRequest, ids: &[String], scanner: &Scanner) -> Vec<String> {
    let mut names = BTreeSet::new();
    let query = req
        .url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q));
    let body = req.body_text().unwrap_or_default();
    let body = body.as_str();
    let form = !body.is_empty() && body.contains('=') && !body.contains(char::is_whitespace);
    let pairs = query
        .into_iter()
        .chain(form.then_some(body))
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (privacy::percent_decode(k), privacy::percent_decode(v)));
    for (k, v) in pairs {
        let click_id = ID_PARAMETERS.contains(&k.to_ascii_lowercase().as_str());
        if !v.is_empty() && (click_id || ids.iter().any(|id| v.contains(id.as_str()))) {
            names.insert(k);
        }
    }
    if !form && ids.iter().any(|id| body.contains(id.as_str())) {
        names.insert("body".to_string());
    }
    for f in scanner.scan_request(req) {
        names.insert(match f.path.split_once('.') {
            Some(("query" | "body", rest)) => rest.to_string(),
            Some(("headers", rest)) => format!("{rest} header"),
            _ => f.path.clone(),
        });
    }
    names.into_iter().collect()
}

#[cfg(test)]
mod tests;
