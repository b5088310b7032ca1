//! End-to-end tests of issue 12's fixtures (`tests/fixtures/recipients/`): every recipient is
//! accounted for. Each scenario is a defect page (its tag ignores the visitor's choice) and its
//! correct twin (`-gated`, the same tag asking the CMP first), run through the real harness
//! (Chromium, Segment, vanilla-cookieconsent): the defect fails with exactly the expected
//! (check, destination) pairs, the twin passes. The leaks are confirmed without consent-gates by
//! `tests/fixtures/recipients/confirm.mjs` (plain playwright-core).

use std::collections::BTreeSet;

mod common;

use consent_gates::browser::session::Shared;
use consent_gates::outcome::{CheckId, TimelineKind, TrialResult, Verdict};
use consent_gates::runner::trial;

const SPECS: &str = "tests/fixtures/recipients/specs/*.yaml";
const FACEBOOK: &str = "Facebook Conversions Api Web";
const GA4_WEB: &str = "Google Analytics 4 Web";

type Pair = (CheckId, Option<String>);

fn pairs(r: &TrialResult) -> BTreeSet<Pair> {
    r.failures
        .iter()
        .map(|f| (f.check, f.destination.clone()))
        .collect()
}

/// Runs `<scenario>::<state>` and `<scenario>-gated::<state>`; asserts the defect fails with
/// exactly `expected` and the twin passes; returns the defect's result.
fn defect_and_twin(scenario: &str, state: &str, expected: &[(CheckId, &str)]) -> TrialResult {
    let defect = format!("recipients-{scenario}::{state}");
    let twin = format!("recipients-{scenario}-gated::{state}");
    let (results, _tmp) = common::judge(SPECS, |n| n == defect || n == twin);
    let d = common::result(&results, &defect).clone();
    let t = common::result(&results, &twin);
    let expected: BTreeSet<Pair> = expected
        .iter()
        .map(|(c, d)| (*c, Some(d.to_string())))
        .collect();
    assert_eq!(d.verdict, Verdict::Fail, "{defect} must fail: {d:#?}");
    assert_eq!(
        pairs(&d),
        expected,
        "{defect}: exactly these checks (left: fired, right: expected): {d:#?}"
    );
    assert_eq!(t.verdict, Verdict::Pass, "{twin} must pass: {t:#?}");
    d
}

fn evidence(r: &TrialResult, check: CheckId) -> Vec<String> {
    r.failures
        .iter()
        .filter(|f| f.check == check)
        .flat_map(|f| f.evidence.iter().map(|e| e.to_string()))
        .collect()
}

/// A CNAME'd collector: Meta's pixel event sent to metrics.shop.example (a subdomain of the
/// site) is recognised by its payload and judged as the Facebook destination.
#[test]
fn a_cnamed_collector_is_judged_as_its_vendor() {
    let r = defect_and_twin(
        "cname",
        "no-choice",
        &[(CheckId::BlockedReceived, FACEBOOK)],
    );
    let ev = evidence(&r, CheckId::BlockedReceived);
    assert!(
        ev.iter().any(
            |e| e.contains("Meta pixel event sent to metrics.shop.example/tr/")
                && e.contains("first-party proxy")
        ),
        "{ev:#?}"
    );
}

/// An unknown relay: a third-party host no destination claims receives the visitor's id in a
/// state without a choice: unknown-recipient naming the host, the moment and what sent it (no
/// "before the decision": the state has none).
#[test]
fn an_unknown_relay_host_fails_unknown_recipient() {
    let r = defect_and_twin(
        "relay",
        "no-choice",
        &[(CheckId::UnknownRecipient, "px.trk-relay.example")],
    );
    let ev = evidence(&r, CheckId::UnknownRecipient);
    assert!(
        ev.iter().any(|e| e
            .starts_with("POST px.trk-relay.example/collect (requested by the page: ping)")
            && e.ends_with(" ms")),
        "{ev:#?}"
    );
}

/// A server-side tag manager on a first-party host: GA4 measurement protocol hits to
/// sgtm.shop.example are judged as the GA4 destination.
#[test]
fn a_server_side_tag_manager_on_a_first_party_host_is_judged_as_ga4() {
    let r = defect_and_twin("sgtm", "no-choice", &[(CheckId::BlockedReceived, GA4_WEB)]);
    let ev = evidence(&r, CheckId::BlockedReceived);
    assert!(
        ev.iter().any(|e| e.contains(
            "GA4 measurement protocol hit (gtag.js) sent to sgtm.shop.example/g/collect"
        ) && e.contains("first-party proxy")),
        "{ev:#?}"
    );
}

/// A tag armed by the banner's answer (whatever it was) that fires on the first scroll: the
/// visitor scrolls after "Reject all", and the Meta event is a leak after the decision.
#[test]
fn a_scroll_triggered_tag_leaks_after_reject() {
    let r = defect_and_twin(
        "scroll",
        "reject-all",
        &[(CheckId::BlockedReceived, FACEBOOK)],
    );
    let ev = evidence(&r, CheckId::BlockedReceived);
    assert!(
        ev.iter()
            .any(|e| e.contains("www.facebook.com/tr/") && e.ends_with("after the decision")),
        "{ev:#?}"
    );
}

/// The same with the first mouse move and a GA4 hit.
#[test]
fn a_mousemove_triggered_tag_leaks_after_reject() {
    let r = defect_and_twin(
        "mousemove",
        "reject-all",
        &[(CheckId::BlockedReceived, GA4_WEB)],
    );
    let ev = evidence(&r, CheckId::BlockedReceived);
    assert!(
        ev.iter().any(
            |e| e.contains("region1.google-analytics.com") && e.ends_with("after the decision")
        ),
        "{ev:#?}"
    );
}

/// A correct site served from a vendor's own domain (www.criteo.com): its own requests are first
/// party, never the Criteo destination; every state passes.
#[test]
fn a_correct_site_on_a_vendors_own_domain_passes() {
    let (results, _tmp) = common::judge(SPECS, |n| n.starts_with("recipients-vendor-own::"));
    assert_eq!(results.len(), 2);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {r:#?}", r.name());
    }
}

const REPLAY: &str = "Session Replay";

/// An opt-out (cpra) site with a session recorder that sends on pointer moves. The defect keeps
/// recording after "Decline": the visitor moves the pointer after the decision and the recorder
/// still sends (blocked-received). The twin stops on the rejection and passes.
#[test]
fn a_recorder_that_ignores_decline_fails_and_one_that_stops_passes() {
    let (results, _tmp) = common::judge("tests/fixtures/replay/specs/*.yaml", |n| {
        n.ends_with("::reject-all")
    });
    let d = common::result(&results, "replay::reject-all");
    let expected: BTreeSet<Pair> = [(CheckId::BlockedReceived, Some(REPLAY.to_string()))]
        .into_iter()
        .collect();
    assert_eq!(pairs(d), expected, "{d:#?}");
    let ev = evidence(d, CheckId::BlockedReceived);
    assert!(
        ev.iter()
            .all(|e| e.contains("rec.replay.example/rec") && e.ends_with("after the decision")),
        "{ev:#?}"
    );
    let t = common::result(&results, "replay-gated::reject-all");
    assert_eq!(t.verdict, Verdict::Pass, "{t:#?}");
}

/// The decision instant is the press on the Decline button: what the pointer's approach to it set
/// off (the correct recorder sending while the visitor has not declined) sits before the decision
/// in the report's timeline, and nothing of the recorder's comes after it.
#[test]
fn the_decision_instant_is_the_press_not_the_pointers_approach() {
    let spec = consent_gates::spec::load(std::path::Path::new(
        "tests/fixtures/replay/specs/replay-gated.yaml",
    ))
    .unwrap_or_else(|e| panic!("{e:?}"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = trial::EvidenceOptions {
        report: true,
        screenshots: false,
        traces: None,
    };
    let r = trial::run_with(Shared::get(true), &spec, "reject-all", tmp.path(), &options);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let timeline = &r.evidence.as_ref().expect("report evidence").timeline;
    let decision = timeline
        .iter()
        .position(|e| e.kind == TimelineKind::Decision)
        .unwrap_or_else(|| panic!("the timeline shows the decision: {timeline:#?}"));
    let replay: Vec<usize> = timeline
        .iter()
        .enumerate()
        .filter(|(_, e)| e.destination.as_deref() == Some(REPLAY))
        .map(|(i, _)| i)
        .collect();
    assert!(
        !replay.is_empty(),
        "the recorder sent while the visitor browsed before deciding: {timeline:#?}"
    );
    assert!(
        replay.iter().all(|&i| i < decision),
        "every recorder request comes before the press: {timeline:#?}"
    );
}
