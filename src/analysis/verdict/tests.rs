//! Verdict tests on hand-made captures: decoded and routed as the real path does, no browser.

use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::*;
use crate::analysis::routing::route;
use crate::analysis::segment::decode;
use crate::capture::CapturedRequest;
use crate::spec::types::{
    Call, Category, CmpAction, ConsentModel, Destination, DestinationSet, Expect, Library, Mode,
    Purpose, Regime, SegmentOptions, Site, Step, Timing,
};

const API: &str = "https://api.segment.io/v1";

pub(crate) fn spec(regime: Regime, dests: Vec<(&str, Destination)>) -> Spec {
    let cat = |p: Purpose| Category {
        purpose: p,
        cmp: None,
    };
    Spec {
        name: "t".into(),
        path: PathBuf::from("specs/t.yaml"),
        site: Site {
            url: "https://shop.example/".into(),
            serve: IndexMap::new(),
            offline: true,
            pages: Vec::new(),
            allow_hosts: None,
            first_party: Default::default(),
        },
        segment: SegmentOptions {
            settings: None,
            library: Library::Bundled,
            deliver: false,
        },
        regime,
        consent_model: ConsentModel::OptIn,
        pii: Vec::new(),
        categories: [
            ("C0001".to_string(), cat(Purpose::Necessary)),
            ("C0002".to_string(), cat(Purpose::Analytics)),
            ("C0004".to_string(), cat(Purpose::Advertising)),
        ]
        .into_iter()
        .collect(),
        cmp: None,
        destinations: dests.into_iter().map(|(n, d)| (n.to_string(), d)).collect(),
        states: IndexMap::new(),
        timing: Timing::default(),
        visitor: Default::default(),
        retries: 0,
        tcf: IndexMap::new(),
        gpp: IndexMap::new(),
    }
}

pub(crate) fn cloud(cats: &[&str]) -> Destination {
    Destination {
        mode: Some(Mode::Cloud),
        categories: Some(cats.iter().map(|s| s.to_string()).collect()),
        hosts: Vec::new(),
        exempt: None,
    }
}

pub(crate) fn chat() -> Destination {
    Destination {
        mode: None,
        categories: Some(vec!["C0004".into()]),
        hosts: vec!["chat.example.net".into()],
        exempt: None,
    }
}

/// Facebook Pixel (device, C0004 from settings), Mixpanel (cloud, C0002), Support Chat (device
/// by hosts, C0004 in the spec).
pub(crate) fn shop(regime: Regime) -> Spec {
    spec(
        regime,
        vec![
            ("Facebook Pixel", Destination::default()),
            ("Mixpanel", cloud(&["C0002"])),
            ("Support Chat", chat()),
        ],
    )
}

pub(crate) fn settings(extra: Value) -> CdnSettings {
    let mut v = json!({
        "integrations": {
            "Segment.io": {"apiKey": "WK", "apiHost": "api.segment.io/v1"},
            "Facebook Pixel": {"versionSettings": {"componentTypes": ["browser"]},
                               "consentSettings": {"categories": ["C0004"]}}
        },
        "consentSettings": {"allCategories": ["C0002", "C0004"], "hasUnmappedDestinations": false}
    });
    if let (Some(base), Some(more)) = (v["integrations"].as_object_mut(), extra.as_object()) {
        for (k, x) in more {
            base.insert(k.clone(), x.clone());
        }
    }
    CdnSettings::from_value(&v).unwrap()
}

pub(crate) fn state(steps: usize, expect: Expect) -> State {
    State {
        gpc: false,
        steps: (0..steps)
            .map(|_| Step::Cmp(CmpAction::AcceptAll))
            .collect(),
        expect,
        line: 1,
        decisions: if steps == 0 {
            Vec::new()
        } else {
            vec![crate::spec::Decision {
                step: 0,
                name: None,
            }]
        },
        phases: Default::default(),
    }
}

/// A request at `at_ms`; the decision is at 1000 ms.
/// The Meta Pixel's script, as a page loads it.
pub(crate) const FB_PIXEL: &str = "https://connect.facebook.net/en_US/fbevents.js";

/// A GET without body.
pub(crate) fn get(seq: u64, at_ms: u64, url: &str) -> CapturedRequest {
    req(seq, at_ms, "GET", url, None)
}

pub(crate) fn req(
    seq: u64,
    at_ms: u64,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> CapturedRequest {
    CapturedRequest {
        seq,
        at_ms,
        phase: if at_ms >= 1000 {
            Phase::After
        } else {
            Phase::Before
        },
        resource_type: "other".into(),
        ..CapturedRequest::sent(method, url, body.map(|b| b.to_string().into_bytes()))
    }
}

pub(crate) fn stamp(pairs: &[(&str, bool)]) -> Value {
    json!({"categoryPreferences": pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()})
}

/// A Segment event request: `call` letter path, `extra` merged into the body.
pub(crate) fn event(
    seq: u64,
    at_ms: u64,
    call: &str,
    consent: Value,
    extra: Value,
) -> CapturedRequest {
    let letter = &call[..1];
    let mut body = json!({"type": call, "writeKey": "WK", "messageId": format!("m{seq}"),
                          "anonymousId": "5c3d9f1e-1234-4567-8901-234567890abc",
                          "timestamp": "2024-01-15T10:20:30.123Z",
                          "context": {"consent": consent,
                                      "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109 Safari/537.36",
                                      "page": {"url": "https://shop.example/"}}});
    if call == "track" {
        body["event"] = json!("Product Viewed");
    }
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            b.insert(k.clone(), v.clone());
        }
    }
    req(seq, at_ms, "POST", &format!("{API}/{letter}"), Some(body))
}

pub(crate) fn capture(requests: Vec<CapturedRequest>, steps: bool) -> Capture {
    Capture {
        requests,
        decision_at_ms: steps.then_some(1000),
        ..Default::default()
    }
}

/// [`run`] with settings that declare nothing.
fn judged(spec: &Spec, state: &State, capture: &Capture) -> Vec<Failure> {
    run(spec, state, capture, Some(&settings(json!({}))))
}

pub(crate) fn run(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    settings: Option<&CdnSettings>,
) -> Vec<Failure> {
    let decoded = decode(capture);
    let routed = route(spec, settings, capture, &decoded);
    let eff = effective_of_visit(spec, state, &routed, capture);
    judge(spec, state, capture, &decoded, &routed, settings, &eff)
}

pub(crate) fn ids(f: &[Failure]) -> Vec<(CheckId, Option<String>)> {
    f.iter().map(|f| (f.check, f.destination.clone())).collect()
}

pub(crate) fn all_text(f: &[Failure]) -> String {
    f.iter()
        .map(|f| {
            let ev: Vec<String> = f.evidence.iter().map(|e| e.to_string()).collect();
            format!("{} | {}", f.message, ev.join(" | "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) const ALL_TRUE: [(&str, bool); 3] = [("C0001", true), ("C0002", true), ("C0004", true)];
pub(crate) const REJECT: [(&str, bool); 3] = [("C0001", true), ("C0002", false), ("C0004", false)];

pub(crate) fn cmp(pairs: &[(&str, bool)]) -> Option<BTreeMap<String, bool>> {
    Some(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
}

// ---- regimes ----

#[test]
fn gdpr_defaults_and_sources() {
    let s = shop(Regime::Gdpr);
    let r = Routing::default();
    let no_choice = state(0, Expect::default());
    let eff = effective(&s, &no_choice, &r);
    assert_eq!(
        eff.lines(),
        vec![
            "blocked: all (regime gdpr)",
            "collection: none (regime gdpr)",
            "pii: none before the decision (regime gdpr)",
        ]
    );
    // Spec values win key by key; `allowed` narrows the default `blocked`.
    let own = state(
        0,
        Expect {
            collection: Some(Collection::Anonymous),
            allowed: Some(some(&["Mixpanel"])),
            ..Default::default()
        },
    );
    assert_eq!(
        effective(&s, &own, &r).lines(),
        vec![
            "allowed: [Mixpanel] (spec)",
            "blocked: [Facebook Pixel, Support Chat] (regime gdpr)",
            "collection: anonymous (spec)",
            "pii: none before the decision (regime gdpr)",
        ]
    );
    let explicit = state(
        0,
        Expect {
            blocked: Some(some(&["Support Chat"])),
            calls: [(Call::Identify, Collection::None)].into_iter().collect(),
            consent: Some([("C0002".to_string(), false)].into_iter().collect()),
            ..Default::default()
        },
    );
    assert_eq!(
        effective(&s, &explicit, &r).lines(),
        vec![
            "blocked: [Support Chat] (spec)",
            "collection: none (regime gdpr)",
            "calls.identify: none (spec)",
            "consent: C0002=false (spec)",
            "pii: none before the decision (regime gdpr)",
        ]
    );
    // A state with steps gets no gdpr collection/blocked default.
    assert_eq!(
        effective(&s, &state(1, Expect::default()), &r).lines(),
        vec!["pii: none before the decision (regime gdpr)"]
    );
    // No regime, no defaults.
    assert!(
        effective(&shop(Regime::None), &no_choice, &r)
            .lines()
            .is_empty()
    );
}

#[test]
fn cpra_gpc_blocks_advertising_destinations() {
    let s = shop(Regime::Cpra);
    let set = settings(json!({}));
    let c = capture(Vec::new(), false);
    let routed = route(&s, Some(&set), &c, &decode(&c));
    let mut gpc = state(0, Expect::default());
    gpc.gpc = true;
    // Facebook Pixel's C0004 comes from the settings, Support Chat's from the spec.
    assert_eq!(
        effective(&s, &gpc, &routed).lines(),
        vec!["blocked: [Facebook Pixel, Support Chat] (regime cpra)"]
    );
    // Without GPC: nothing.
    assert!(
        effective(&s, &state(0, Expect::default()), &routed)
            .lines()
            .is_empty()
    );
    // The spec's own blocked wins (no union).
    gpc.expect.blocked = Some(some(&["Mixpanel"]));
    assert_eq!(
        effective(&s, &gpc, &routed).lines(),
        vec!["blocked: [Mixpanel] (spec)"]
    );
    // The default drives blocked-received, and says where it came from.
    gpc.expect.blocked = None;
    let cap = capture(vec![get(1, 200, FB_PIXEL)], false);
    let f = run(&s, &gpc, &cap, Some(&set));
    assert_eq!(
        ids(&f),
        vec![(CheckId::BlockedReceived, Some("Facebook Pixel".into()))]
    );
    assert!(f[0].message.contains("(regime cpra)"), "{}", f[0].message);
}

#[test]
fn gdpr_no_choice_collection_names_first_event_time() {
    let s = shop(Regime::Gdpr);
    let c = capture(
        vec![
            event(1, 420, "page", stamp(&REJECT), json!({})),
            event(2, 610, "track", stamp(&REJECT), json!({})),
        ],
        false,
    );
    let f = judged(&s, &state(0, Expect::default()), &c);
    assert_eq!(ids(&f), vec![(CheckId::Collection, None)]);
    assert!(
        f[0].message.contains("(regime gdpr)")
            && f[0].message.contains("the first, page, at 420 ms"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].evidence.len(), 2);
    // No steps, no decision: the time alone.
    assert_eq!(
        (f[0].evidence[0].at_ms, f[0].evidence[0].phase),
        (420, None)
    );
    assert!(
        f[0].message
            .contains("at 420 ms (in a state without a decision)"),
        "{}",
        f[0].message
    );
}

// ---- a clean site ----

#[test]
fn clean_site_passes_every_state() {
    let s = shop(Regime::Gdpr);
    // No choice: nothing at all.
    assert!(
        judged(
            &s,
            &state(0, Expect::default()),
            &capture(Vec::new(), false)
        )
        .is_empty()
    );
    // Accept all: everything loads after the decision, stamps agree with the CMP.
    let accept = state(
        1,
        Expect {
            allowed: Some(DestinationSet::All),
            consent: Some(ALL_TRUE.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
            ..Default::default()
        },
    );
    let mut c = capture(
        vec![
            get(1, 100, "https://shop.example/"),
            get(
                2,
                1100,
                "https://cdn.segment.com/next-integrations/integrations/facebook-pixel/2.11.4/facebook-pixel.dynamic.js.gz",
            ),
            get(3, 1200, FB_PIXEL),
            get(4, 1250, "https://widget.chat.example.net/w.js"),
            event(5, 1300, "page", stamp(&ALL_TRUE), json!({})),
            event(
                6,
                1400,
                "identify",
                stamp(&ALL_TRUE),
                json!({"userId": "u-1", "traits": {"email": "jane@example.com"}}),
            ),
        ],
        true,
    );
    c.cmp_choice = cmp(&ALL_TRUE);
    let f = judged(&s, &accept, &c);
    assert!(f.is_empty(), "{f:#?}");
    // Reject all: Segment sends stamped events that reach no mapped destination.
    let reject = state(
        1,
        Expect {
            blocked: Some(DestinationSet::All),
            consent: Some(REJECT.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
            ..Default::default()
        },
    );
    let mut c = capture(
        vec![event(1, 1300, "page", stamp(&REJECT), json!({}))],
        true,
    );
    c.cmp_choice = cmp(&REJECT);
    assert!(judged(&s, &reject, &c).is_empty());
}

// ---- undeclared-destination ----

#[test]
fn undeclared_destination_once_with_yaml_to_add() {
    let s = shop(Regime::None);
    let set = settings(json!({"Hotjar": {"versionSettings": {"componentTypes": ["browser"]}}}));
    let c = capture(
        vec![
            get(1, 50, "https://cdn.segment.com/v1/projects/WK/settings"),
            get(2, 1500, "https://static.hotjar.com/c/hotjar-1.js"),
        ],
        true,
    );
    let blocked_all = state(1, expect_blocked(DestinationSet::All));
    let f = run(&s, &blocked_all, &c, Some(&set));
    assert_eq!(
        ids(&f),
        vec![(CheckId::UndeclaredDestination, Some("Hotjar".into()))],
        "no blocked-received for an undeclared destination: {f:#?}"
    );
    assert!(
        f[0].message.contains("add `Hotjar: {}` under destinations"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].evidence.len(), 2, "{:?}", f[0].evidence);
    assert_eq!(f[0].evidence[0].at_ms, 50);
    assert!(f[0].evidence[1].what.contains("static.hotjar.com"));
    // Declared: silent.
    let mut declared = s.clone();
    declared.destinations.insert(
        "Hotjar".into(),
        Destination {
            categories: Some(vec!["C0002".into()]),
            ..Default::default()
        },
    );
    let f = run(&declared, &state(1, Expect::default()), &c, Some(&set));
    assert!(f.is_empty(), "{f:#?}");
    assert_eq!(super::builtin::yaml_key("Name: odd"), "\"Name: odd\"");
}

// ---- ungated-destination ----

#[test]
fn ungated_destination_fires_and_is_silent_when_mapped() {
    let mut s = shop(Regime::None);
    s.destinations.insert(
        "Webhooks".into(),
        Destination {
            mode: Some(Mode::Cloud),
            ..Default::default()
        },
    );
    let set = settings(json!({"Webhooks": {}}));
    let c = capture(
        vec![event(1, 1300, "page", stamp(&REJECT), json!({}))],
        true,
    );
    let f = run(&s, &state(1, Expect::default()), &c, Some(&set));
    assert_eq!(
        ids(&f),
        vec![(CheckId::UngatedDestination, Some("Webhooks".into()))]
    );
    assert!(f[0].message.contains("whatever the visitor chooses"));
    // The reject-stamped page still reached it: that is the evidence.
    assert_eq!(f[0].evidence.len(), 1);
    // Mapped in the spec: silent.
    s.destinations["Webhooks"].categories = Some(vec!["C0002".into()]);
    assert!(run(&s, &state(1, Expect::default()), &c, Some(&set)).is_empty());
    // A spec without categories judges no gating.
    s.destinations["Webhooks"].categories = None;
    s.categories.clear();
    assert!(run(&s, &state(1, Expect::default()), &c, Some(&set)).is_empty());
}

// ---- unstamped-events ----

#[test]
fn unstamped_events_fire_once_and_consent_does_not_repeat_them() {
    let s = shop(Regime::None);
    let st = state(
        1,
        Expect {
            consent: Some([("C0004".to_string(), false)].into_iter().collect()),
            ..Default::default()
        },
    );
    let c = capture(
        vec![
            event(1, 1300, "page", json!(null), json!({})),
            event(2, 1400, "track", json!({}), json!({})),
            event(3, 1500, "track", stamp(&REJECT), json!({})),
        ],
        true,
    );
    let f = judged(&s, &st, &c);
    assert_eq!(ids(&f), vec![(CheckId::UnstampedEvents, None)], "{f:#?}");
    assert!(f[0].message.contains("every cloud destination"));
    assert!(f[0].message.contains("here: Mixpanel"), "{}", f[0].message);
    assert_eq!(f[0].evidence.len(), 2);
    // Stamped events: silent.
    let c = capture(
        vec![event(3, 1500, "track", stamp(&REJECT), json!({}))],
        true,
    );
    assert!(judged(&s, &st, &c).is_empty());
}

// ---- consent-mismatch against the CMP ----

#[test]
fn cmp_mismatch_names_category_and_both_values() {
    let s = shop(Regime::None);
    let wrong = [("C0001", true), ("C0002", false), ("C0004", true)];
    let mut c = capture(
        vec![
            // Before the decision: never judged.
            event(1, 300, "page", stamp(&ALL_TRUE), json!({})),
            event(2, 1300, "page", stamp(&wrong), json!({})),
            event(3, 1400, "track", stamp(&wrong), json!({})),
        ],
        true,
    );
    c.cmp_choice = cmp(&REJECT);
    let f = judged(&s, &state(1, Expect::default()), &c);
    let mismatch: Vec<&Failure> = f
        .iter()
        .filter(|f| f.check == CheckId::ConsentMismatch)
        .collect();
    assert_eq!(mismatch.len(), 1, "{f:#?}");
    assert!(
        mismatch[0]
            .message
            .contains("the CMP recorded C0004=false but Segment stamped C0004=true"),
        "{}",
        mismatch[0].message
    );
    assert!(mismatch[0].message.contains("category mapping is wrong"));
    assert!(!mismatch[0].message.contains("C0002"));
    assert_eq!(mismatch[0].evidence.len(), 2);
    // No CMP record: not judged.
    c.cmp_choice = None;
    assert!(
        judged(&s, &state(1, Expect::default()), &c)
            .iter()
            .all(|f| f.check != CheckId::ConsentMismatch)
    );
    // A category the CMP grants and the stamp lacks is a mismatch; one it denies is not.
    let mut c2 = capture(
        vec![event(2, 1300, "page", stamp(&[("C0002", true)]), json!({}))],
        true,
    );
    c2.cmp_choice = cmp(&[("C0002", true), ("C0004", false)]);
    assert!(judged(&s, &state(1, Expect::default()), &c2).is_empty());
    c2.cmp_choice = cmp(&[("C0002", true), ("C0004", true)]);
    let f = judged(&s, &state(1, Expect::default()), &c2);
    assert!(
        f[0].message.contains("Segment stamped C0004=nothing"),
        "{}",
        f[0].message
    );
}

#[test]
fn cmp_mismatch_judges_the_final_choice_only() {
    let s = shop(Regime::None);
    // Accept, then withdraw: the earlier accept-stamped events are not judged against the final
    // (reject) record.
    let mut c = capture(
        vec![
            event(1, 1300, "page", stamp(&ALL_TRUE), json!({})),
            event(2, 1400, "track", stamp(&ALL_TRUE), json!({})),
            event(
                3,
                2400,
                "track",
                stamp(&REJECT),
                json!({"event": "Segment Consent Preference Updated"}),
            ),
            event(4, 2500, "page", stamp(&REJECT), json!({})),
        ],
        true,
    );
    c.cmp_choice = cmp(&REJECT);
    assert!(judged(&s, &state(2, Expect::default()), &c).is_empty());
    // Opt-out, withdrawal that disables Segment: no event carries the final choice: skipped.
    let mut opt_out = s.clone();
    opt_out.consent_model = ConsentModel::OptOut;
    let c = Capture {
        requests: c.requests[..2].to_vec(),
        ..c
    };
    assert!(judged(&opt_out, &state(2, Expect::default()), &c).is_empty());
}

#[test]
fn expect_consent_and_cmp_report_one_defect_once() {
    let s = shop(Regime::None);
    let wrong = [("C0001", true), ("C0002", false), ("C0004", true)];
    let mut c = capture(vec![event(2, 1300, "page", stamp(&wrong), json!({}))], true);
    c.cmp_choice = cmp(&REJECT);
    let st = state(
        1,
        Expect {
            consent: Some([("C0004".to_string(), false)].into_iter().collect()),
            ..Default::default()
        },
    );
    let f = judged(&s, &st, &c);
    assert_eq!(ids(&f), vec![(CheckId::ConsentMismatch, None)], "{f:#?}");
    assert!(f[0].message.contains("expect.consent"));
}

// ---- pii-leak ----

#[test]
fn pii_to_a_blocked_cloud_destination_names_paths_not_values() {
    let mut s = shop(Regime::None);
    s.destinations["Mixpanel"].categories = Some(vec!["C0004".into()]);
    let st = state(1, expect_blocked(some(&["Mixpanel"])));
    // The wrapper stamps C0004=true although the visitor rejected: Mixpanel gets the identify.
    let c = capture(
        vec![event(
            1,
            1300,
            "identify",
            stamp(&[("C0004", true)]),
            json!({"userId": "jane@example.com", "traits": {"phone": "+44 20 7946 0958", "plan": "pro"}}),
        )],
        true,
    );
    let f = judged(&s, &st, &c);
    assert_eq!(
        ids(&f),
        vec![
            (CheckId::BlockedReceived, Some("Mixpanel".into())),
            (CheckId::PiiLeak, Some("Mixpanel".into())),
        ]
    );
    let leak = &f[1];
    assert_eq!(leak.evidence.len(), 1);
    let what = &leak.evidence[0].what;
    assert!(what.contains("traits.phone (phone number)"), "{what}");
    assert!(what.contains("userId (email address)"), "{what}");
    assert_eq!(leak.evidence[0].at_ms, 1300);
    let text = all_text(&f);
    for secret in ["jane", "example.com", "7946", "0958"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Allowed in this state: no leak.
    let open = state(1, Expect::default());
    assert!(judged(&s, &open, &c).is_empty());
}

#[test]
fn pii_with_collection_none_and_declared_fields() {
    let mut s = shop(Regime::None);
    s.pii = vec!["traits.loyalty_id".into()];
    let st = state(
        1,
        Expect {
            collection: Some(Collection::None),
            ..Default::default()
        },
    );
    let c = capture(
        vec![event(
            1,
            1300,
            "identify",
            stamp(&REJECT),
            json!({"traits": {"loyalty_id": "LX-99812"}}),
        )],
        true,
    );
    let f = judged(&s, &st, &c);
    assert_eq!(
        ids(&f),
        vec![(CheckId::Collection, None), (CheckId::PiiLeak, None)]
    );
    assert!(f[1].message.contains("reached Segment"), "{}", f[1].message);
    assert!(
        f[1].evidence[0]
            .what
            .contains("traits.loyalty_id (declared personal field")
    );
    assert!(!all_text(&f).contains("LX-99812"));
}

#[test]
fn pii_in_vendor_requests() {
    let mut s = shop(Regime::None);
    s.pii = vec!["em".into()];
    let st = state(1, expect_blocked(some(&["Support Chat"])));
    let c = capture(
        vec![req(
            1,
            1300,
            "POST",
            "https://api.chat.example.net/collect?em=8f14e45fceea167a&ts=1700000000000",
            Some(json!({"user_data": {"contact": "jane%40example.com"}, "v": "120.0.6099.109"})),
        )],
        true,
    );
    let f = judged(&s, &st, &c);
    assert_eq!(
        ids(&f),
        vec![
            (CheckId::BlockedReceived, Some("Support Chat".into())),
            (CheckId::PiiLeak, Some("Support Chat".into())),
        ]
    );
    let what = &f[1].evidence[0].what;
    assert!(
        what.contains("query.em (declared personal field `em`)")
            && what.contains("body.user_data.contact (email address)"),
        "{what}"
    );
    assert!(!all_text(&f).contains("8f14e45f") && !all_text(&f).contains("jane"));
}

#[test]
fn gdpr_pii_before_the_decision_covers_any_payload() {
    let s = shop(Regime::Gdpr);
    // A state with steps: before the decision, an identify to Segment and an email in a request to
    // an unknown host; after it (allowed), the same is fine.
    let c = capture(
        vec![
            event(
                1,
                300,
                "identify",
                stamp(&ALL_TRUE),
                json!({"traits": {"email": "a@b.example"}}),
            ),
            get(2, 400, "https://px.tracker.example/p?u=a%40b.example"),
            event(
                3,
                1300,
                "identify",
                stamp(&ALL_TRUE),
                json!({"traits": {"email": "a@b.example"}}),
            ),
            get(4, 1400, "https://px.tracker.example/p?u=a%40b.example"),
        ],
        true,
    );
    let f = judged(&s, &state(1, Expect::default()), &c);
    let leaks: Vec<&Failure> = f.iter().filter(|f| f.check == CheckId::PiiLeak).collect();
    assert_eq!(leaks.len(), 2, "{f:#?}");
    let text = all_text(&f);
    assert!(
        text.contains("before the visitor decided (regime gdpr"),
        "{text}"
    );
    assert!(
        text.contains("px.tracker.example/p: query.u (email address)"),
        "{text}"
    );
    assert!(
        leaks
            .iter()
            .all(|l| l.evidence.len() == 1 && l.evidence[0].phase == Some(Phase::Before))
    );
    assert!(!text.contains("a@b"));
    // Without gdpr: nothing before the decision is a leak.
    let f = judged(&shop(Regime::None), &state(1, Expect::default()), &c);
    assert!(f.iter().all(|f| f.check != CheckId::PiiLeak), "{f:#?}");
}

// ---- calls ----

#[test]
fn calls_none_and_anonymous() {
    let s = shop(Regime::None);
    let st = state(
        1,
        Expect {
            calls: [
                (Call::Identify, Collection::None),
                (Call::Track, Collection::Anonymous),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        },
    );
    let anon = capture(
        vec![
            event(1, 1300, "track", stamp(&ALL_TRUE), json!({})),
            event(2, 1400, "page", stamp(&ALL_TRUE), json!({"userId": "u-1"})),
        ],
        true,
    );
    assert!(judged(&s, &st, &anon).is_empty());
    let named = capture(
        vec![
            event(1, 1300, "track", stamp(&ALL_TRUE), json!({"userId": "u-1"})),
            event(
                2,
                1350,
                "track",
                stamp(&ALL_TRUE),
                json!({"context": {"consent": stamp(&ALL_TRUE), "traits": {"plan": "pro"}}}),
            ),
            event(
                3,
                1360,
                "track",
                stamp(&ALL_TRUE),
                json!({"context": {"consent": stamp(&ALL_TRUE), "traits": {}}}),
            ),
            event(4, 1400, "identify", stamp(&ALL_TRUE), json!({})),
        ],
        true,
    );
    let f = judged(&s, &st, &named);
    assert_eq!(
        ids(&f),
        vec![(CheckId::Calls, None), (CheckId::Calls, None)]
    );
    assert!(
        f[0].message.contains("no identify call"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].evidence.len(), 1);
    assert!(f[1].message.contains("track calls must be anonymous"));
    // userId, and context.traits; empty traits are anonymous.
    assert_eq!(
        f[1].evidence.iter().map(|e| e.at_ms).collect::<Vec<_>>(),
        vec![1300, 1350]
    );
}

// ---- opt-out ----

#[test]
fn opt_out_code_loads_are_not_receptions_requests_after_are() {
    let mut s = shop(Regime::None);
    s.consent_model = ConsentModel::OptOut;
    let st = state(1, expect_blocked(DestinationSet::All));
    let code = "https://cdn.segment.com/next-integrations/integrations/facebook-pixel/2.11.4/facebook-pixel.dynamic.js.gz";
    let before_only = capture(
        vec![
            req(1, 100, "GET", code, None),
            get(2, 200, FB_PIXEL),
            // A later page loads the code again: consent-tools' opt-out loads everything.
            req(3, 1500, "GET", code, None),
        ],
        true,
    );
    assert!(judged(&s, &st, &before_only).is_empty());
    let mut after = before_only.clone();
    after
        .requests
        .push(get(4, 1600, "https://www.facebook.com/tr?id=1&ev=PageView"));
    let f = judged(&s, &st, &after);
    assert_eq!(
        ids(&f),
        vec![(CheckId::BlockedReceived, Some("Facebook Pixel".into()))]
    );
    assert!(
        f[0].message
            .contains("under the opt-out model, code loaded before the decision may keep running"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].evidence.len(), 1);
    assert_eq!(f[0].evidence[0].at_ms, 1600);
    // Opt-in: the code load after the decision is a reception.
    s.consent_model = ConsentModel::OptIn;
    let f = judged(&s, &st, &before_only);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence.len(), 1);
    assert!(!f[0].message.contains("opt-out"));
}

// ---- events-held ----

fn queue(name: &str, ids: &[Option<&str>]) -> crate::capture::HeldQueue {
    crate::capture::HeldQueue {
        origin: "https://shop.example".into(),
        name: name.into(),
        message_ids: ids.iter().map(|i| i.map(str::to_string)).collect(),
    }
}

fn environment(online: bool) -> Option<crate::capture::PageEnvironment> {
    Some(crate::capture::PageEnvironment {
        online,
        locale: "en-US".into(),
        time_zone: "UTC".into(),
        screen: "1280x720".into(),
        scale: 1.0,
        cores: 8,
    })
}

#[test]
fn events_held_names_the_queue_and_counts_what_never_reached_segment() {
    let s = spec(Regime::None, vec![("Actions Amplitude", cloud(&["C0002"]))]);
    let st = state(0, Expect::default());
    // m0 reached Segment (persisted while in flight at pagehide): not held; m7 and an item
    // without an id never did.
    let mut c = capture(
        vec![event(0, 100, "page", stamp(&ALL_TRUE), json!({}))],
        false,
    );
    c.environment = environment(true);
    c.ended_at_ms = 4000;
    c.held_queues = vec![queue("WK:dest-Segment.io", &[Some("m0"), Some("m7"), None])];
    let f = run(&s, &st, &c, None);
    assert_eq!(ids(&f), vec![(CheckId::EventsHeld, None)]);
    assert_eq!(
        f[0].evidence[0].what,
        "2 events in localStorage persisted-queue:v1:<write-key>:dest-Segment.io:items of \
         https://shop.example"
    );
    assert_eq!(f[0].evidence[0].at_ms, 4000);
    assert!(!all_text(&f).contains("WK"), "{}", all_text(&f));

    // Everything it persisted was delivered: nothing held.
    c.held_queues = vec![queue("WK:dest-Segment.io", &[Some("m0")])];
    assert!(run(&s, &st, &c, None).is_empty());

    // A device-mode destination's queue: its events never reached its code, whatever Segment got.
    c.held_queues = vec![queue("WK:dest-Google Analytics", &[Some("m0")])];
    let f = run(&s, &st, &c, None);
    assert_eq!(
        ids(&f),
        vec![(CheckId::EventsHeld, Some("Google Analytics".into()))]
    );
}

#[test]
fn events_held_when_the_page_believed_it_was_offline() {
    let s = spec(Regime::None, vec![]);
    let st = state(1, Expect::default());
    let mut c = capture(Vec::new(), true);
    c.environment = environment(false);
    let f = run(&s, &st, &c, None);
    assert_eq!(ids(&f), vec![(CheckId::EventsHeld, None)]);
    assert!(f[0].message.contains("believed it was offline"));
    assert_eq!(f[0].evidence[0].phase, Some(Phase::After));
    // Online, or not readable (the page had closed): nothing to report.
    c.environment = environment(true);
    assert!(run(&s, &st, &c, None).is_empty());
    c.environment = None;
    assert!(run(&s, &st, &c, None).is_empty());
}

#[test]
fn unknown_recipients_in_blocking_states() {
    let relay = |seq, at| get(seq, at, "https://px.trk-relay.example/p.gif?u=1");
    let font = |seq, at| get(seq, at, "https://fonts.gstatic.example/a.woff2");
    let blocked = expect_blocked(DestinationSet::All);
    // gdpr without allow_hosts: strict.
    let s = shop(Regime::Gdpr);
    let c = capture(vec![relay(1, 100), font(2, 200)], false);
    let unknown = |f: Vec<Failure>| -> Vec<Failure> {
        f.into_iter()
            .filter(|f| f.check == CheckId::UnknownRecipient)
            .collect()
    };
    let f = unknown(run(&s, &state(0, blocked.clone()), &c, None));
    assert_eq!(
        ids(&f),
        vec![
            (
                CheckId::UnknownRecipient,
                Some("fonts.gstatic.example".into())
            ),
            (
                CheckId::UnknownRecipient,
                Some("px.trk-relay.example".into())
            ),
        ]
    );
    // A state without steps has no decision: the evidence says when, not "before the decision".
    assert!(
        all_text(&f)
            .contains("GET px.trk-relay.example/p.gif (requested by the page: other) at 100 ms"),
        "{}",
        all_text(&f)
    );
    assert!(!all_text(&f).contains("the decision"), "{}", all_text(&f));
    assert!(
        f.iter()
            .flat_map(|f| &f.evidence)
            .all(|e| e.phase.is_none())
    );
    // Allowed hosts pass; globs.
    let mut allowing = s.clone();
    allowing.site.allow_hosts =
        Some(crate::spec::HostGlobs::new(vec!["*.gstatic.example".into()]).unwrap());
    let f = unknown(run(&allowing, &state(0, blocked.clone()), &c, None));
    assert_eq!(
        ids(&f),
        vec![(
            CheckId::UnknownRecipient,
            Some("px.trk-relay.example".into())
        )]
    );
    // With steps: only after the decision.
    let c2 = capture(vec![relay(1, 100), relay(2, 1500)], true);
    let f = unknown(run(&allowing, &state(1, blocked.clone()), &c2, None));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence.len(), 1);
    assert_eq!(f[0].evidence[0].phase, Some(Phase::After));
    assert!(
        all_text(&f).contains("at 1500 ms, after the decision"),
        "{}",
        all_text(&f)
    );
    // A state that blocks nothing: not judged.
    let f = run(&allowing, &state(1, Expect::default()), &c2, None);
    assert!(!ids(&f).iter().any(|(c, _)| *c == CheckId::UnknownRecipient));
    // Regime none without allow_hosts: not judged; with it: judged.
    let none = shop(Regime::None);
    let f = run(&none, &state(0, blocked.clone()), &c, None);
    assert!(!ids(&f).iter().any(|(c, _)| *c == CheckId::UnknownRecipient));
    let mut none_strict = none.clone();
    none_strict.site.allow_hosts = Some(Default::default());
    let f = run(&none_strict, &state(0, blocked), &c, None);
    assert_eq!(
        f.iter()
            .filter(|f| f.check == CheckId::UnknownRecipient)
            .count(),
        2
    );
}

/// `tcf:` and `expect.tcf` against a real TC string (CMP 6, consent to purposes 1–10, no legitimate
/// interest, no special features) on hand-made events.
#[test]
fn tcf_stamp_and_expectations_are_judged_against_the_decoded_string() {
    const TC_ALL: &str = "CP1R2oAP1R2oAAGABBENBkEgAP_AAAAAADLIAAAAAAAA";
    const TC_NONE: &str = "CP1R2oAP1R2oAAGABBENBkEgAAAAAAAAADLIAAAAAAAA";
    let mut s = shop(Regime::Gdpr);
    s.tcf = [
        ("C0002".to_string(), vec![1, 8, 9]),
        ("C0004".to_string(), vec![1, 3, 4]),
    ]
    .into_iter()
    .collect();
    let tcf_failures = |c: &Capture, e: Expect| consent_mismatches(&s, c, e);
    // Agreeing stamp: nothing.
    let mut c = stamped_page(&[("C0001", true), ("C0002", true), ("C0004", true)]);
    c.tcf = Some(TC_ALL.into());
    assert!(tcf_failures(&c, Expect::default()).is_empty());
    // The string withdraws consent, the stamp keeps advertising on.
    c.tcf = Some(TC_NONE.into());
    let f = tcf_failures(&c, Expect::default());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].message.contains(
            "no consent to purposes [1, 3, 4], so C0004=false, but Segment stamped C0004=true"
        ),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("C0002=false"));
    assert_eq!(f[0].evidence.len(), 1);
    // expect.tcf: the lists that differ are named; the ones that agree are not.
    let mut c = stamped_page(&[("C0001", true), ("C0002", true), ("C0004", true)]);
    c.tcf = Some(TC_ALL.into());
    let want = crate::spec::signals::TcfExpect {
        consent: Some((1..=11).collect()),
        legitimate_interest: Some(vec![]),
        special_features: None,
    };
    let f = tcf_failures(
        &c,
        Expect {
            tcf: Some(want),
            ..Default::default()
        },
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("consent: expected [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], signalled [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"), "{}", f[0].message);
    assert!(!f[0].message.contains("legitimate_interest"));
    // No TC string at all while the spec judges one.
    c.tcf = None;
    let f = tcf_failures(&c, Expect::default());
    assert!(f[0].message.contains("no TC string"), "{f:#?}");
}

/// Expects the destinations of `set` blocked, and nothing else.
pub(crate) fn expect_blocked(set: DestinationSet) -> Expect {
    Expect {
        blocked: Some(set),
        ..Default::default()
    }
}

/// The destinations `names`.
pub(crate) fn some(names: &[&str]) -> DestinationSet {
    DestinationSet::Some(names.iter().map(|n| n.to_string()).collect())
}

/// One page event after the decision, stamped `pairs`.
fn stamped_page(pairs: &[(&str, bool)]) -> Capture {
    capture(vec![event(2, 1300, "page", stamp(pairs), json!({}))], true)
}

/// The `consent-mismatch` failures of a one-step state of `s` that expects `e`.
fn consent_mismatches(s: &Spec, c: &Capture, e: Expect) -> Vec<Failure> {
    let found = run(s, &state(1, e), c, Some(&settings(json!({}))));
    found
        .into_iter()
        .filter(|f| f.check == CheckId::ConsentMismatch)
        .collect()
}

// GPP strings encoded by @iabgpp/cmpapi 3.2.0 (the fixture CMP's): usnat v2 and usca, sale,
// sharing (and in usnat targeted advertising) opted out (1), or not (2).
const GPP_OPTED_OUT: &str = "DBABrw~CVQVAAAAAACA.QA~BUUAAACA.QA";
const GPP_NO_OPT_OUT: &str = "DBABrw~CVQqAAAAAACA.QA~BUoAAACA.QA";

fn gpp_spec(regime: Regime) -> Spec {
    let mut s = shop(regime);
    s.gpp = [(
        "C0004".to_string(),
        <crate::spec::signals::GppOptOut as strum::VariantArray>::VARIANTS.to_vec(),
    )]
    .into_iter()
    .collect();
    s
}

/// `gpp:` and `expect.gpp` against real GPP strings on hand-made events.
#[test]
fn gpp_stamp_and_expectations_are_judged_against_the_decoded_string() {
    use crate::spec::signals::{GppExpect, GppOptOut, GppSection};
    let s = gpp_spec(Regime::None);
    let mismatches = |c: &Capture, e: Expect| consent_mismatches(&s, c, e);
    // Agreeing stamps: nothing.
    let mut c = stamped_page(&[("C0001", true), ("C0002", true), ("C0004", false)]);
    c.gpp = Some(GPP_OPTED_OUT.into());
    assert!(mismatches(&c, Expect::default()).is_empty());
    let mut c = stamped_page(&[("C0001", true), ("C0002", true), ("C0004", true)]);
    c.gpp = Some(GPP_NO_OPT_OUT.into());
    assert!(mismatches(&c, Expect::default()).is_empty());
    // The string opts out, the stamp keeps advertising on.
    c.gpp = Some(GPP_OPTED_OUT.into());
    let f = mismatches(&c, Expect::default());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].message.contains(
            "the GPP string signals an opt-out (usnat SaleOptOut, usnat SharingOptOut, \
             usnat TargetedAdvertisingOptOut, usca SaleOptOut, usca SharingOptOut), so \
             C0004=false, but Segment stamped C0004=true"
        ),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].evidence.len(), 1);
    // expect.gpp: per section, on the fields each section has.
    let want = |opted_out: Vec<GppOptOut>| Expect {
        gpp: Some(GppExpect {
            sections: Some(vec![GppSection::Usca, GppSection::Usnat]),
            opted_out: Some(opted_out),
        }),
        ..Default::default()
    };
    let mut c = stamped_page(&[("C0001", true), ("C0002", true), ("C0004", false)]);
    c.gpp = Some(GPP_OPTED_OUT.into());
    assert!(
        mismatches(
            &c,
            want(<GppOptOut as strum::VariantArray>::VARIANTS.to_vec())
        )
        .is_empty()
    );
    let f = mismatches(&c, want(vec![GppOptOut::Sale]));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].message.contains(
            "usnat: opted out expected [sale], signalled [sale, sharing, targeted_advertising]; \
             usca: opted out expected [sale], signalled [sale, sharing]"
        ),
        "{}",
        f[0].message
    );
    let f = mismatches(
        &c,
        Expect {
            gpp: Some(GppExpect {
                sections: Some(vec![GppSection::Usnat]),
                opted_out: None,
            }),
            ..Default::default()
        },
    );
    assert!(
        f[0].message
            .contains("sections: expected [usnat], signalled [usnat, usca]"),
        "{f:#?}"
    );
    // No GPP string while the spec judges one; a string that does not decode.
    c.gpp = None;
    assert!(
        mismatches(&c, Expect::default())[0]
            .message
            .contains("no GPP string")
    );
    c.gpp = Some("DBABrw~garbage~BUUAAACA.QA".into());
    assert!(
        mismatches(&c, Expect::default())[0]
            .message
            .contains("does not decode")
    );
    // A string without usnat or usca (tcfeuv2 and uspv1): the opt-outs are missing, not "none".
    c.gpp = Some("DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN".into());
    let f = mismatches(&c, Expect::default());
    assert!(
        f[0].message
            .contains("carries neither usnat nor usca (sections: [tcfeuv2, uspv1])"),
        "{f:#?}"
    );
}

/// Under cpra a GPP opt-out is an opt-out preference signal, judged like `gpc: true`: the
/// advertising destinations are blocked by default (not in a journey with phases).
#[test]
fn cpra_gpp_opt_out_blocks_advertising_destinations_like_gpc() {
    let s = shop(Regime::Cpra);
    let set = settings(json!({}));
    let fb = get(3, 1500, FB_PIXEL);
    let mut c = capture(vec![fb], true);
    c.gpp = Some(GPP_OPTED_OUT.into());
    let st = state(1, Expect::default());
    let decoded = decode(&c);
    let routed = route(&s, Some(&set), &c, &decoded);
    let gpp = crate::analysis::gpp::decode(GPP_OPTED_OUT).ok();
    assert_eq!(
        crate::analysis::verdict::effective_signalled(&s, &st, &routed, gpp.as_ref()).lines(),
        vec![
            "blocked: [Facebook Pixel, Support Chat] (regime cpra)",
            "opt-out signal: GPP usnat SaleOptOut, usnat SharingOptOut, usnat \
             TargetedAdvertisingOptOut, usca SaleOptOut, usca SharingOptOut (regime cpra)",
        ]
    );
    let f = run(&s, &st, &c, Some(&set));
    assert_eq!(
        ids(&f),
        vec![(CheckId::BlockedReceived, Some("Facebook Pixel".into()))]
    );
    assert!(f[0].message.contains("(regime cpra)"), "{}", f[0].message);
    // No opt-out signalled, another regime, or a journey: no default.
    c.gpp = Some(GPP_NO_OPT_OUT.into());
    assert!(run(&s, &st, &c, Some(&set)).is_empty());
    c.gpp = Some(GPP_OPTED_OUT.into());
    assert!(run(&shop(Regime::None), &st, &c, Some(&set)).is_empty());
    let mut journey = st.clone();
    journey.phases.insert("before".into(), Expect::default());
    assert!(
        crate::analysis::verdict::effective_signalled(&s, &journey, &routed, gpp.as_ref())
            .blocked
            .is_none()
    );
}
