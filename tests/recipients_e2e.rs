//! End-to-end tests of issue 12's fixtures (`tests/fixtures/recipients/`): every recipient is
//! accounted for. Each scenario is a defect page (its tag ignores the visitor's choice) and its
//! correct twin (`-gated`, the same tag asking the CMP first), run through the real harness
//! (Chromium, Segment, vanilla-cookieconsent): the defect fails with exactly the expected
//! (check, destination) pairs, the twin passes. The leaks are confirmed without consent-gates by
//! `tests/fixtures/recipients/confirm.mjs` (plain playwright-core).

mod common;

use common::{evidence, pairs};
use consent_gates::outcome::{CheckId, TimelineKind};

const SPECS: &str = "tests/fixtures/recipients/specs/*.yaml";
const FACEBOOK: &str = "Facebook Conversions Api Web";
const GA4_WEB: &str = "Google Analytics 4 Web";

/// Runs `<scenario>::<state>` and `<scenario>-gated::<state>`; asserts the defect fails with
/// exactly `expected` (one check on one destination), that some line of that check's evidence
/// `says` what the scenario's leak is, and that the twin passes.
fn defect_and_twin(
    scenario: &str,
    state: &str,
    expected: (CheckId, &str),
    says: impl Fn(&str) -> bool,
) {
    let defect = format!("recipients-{scenario}::{state}");
    let twin = format!("recipients-{scenario}-gated::{state}");
    let (results, _tmp) = common::judge(SPECS, |n| n == defect || n == twin);
    let d = common::result(&results, &defect).clone();
    let t = common::result(&results, &twin);
    let (check, destination) = expected;
    common::assert_fails_with(&d, &[common::pair(check, Some(destination))]);
    let ev = evidence(&d, check);
    assert!(ev.iter().any(|e| says(e)), "{defect}: {ev:#?}");
    common::assert_passes(t);
}

/// One test per scenario: [`defect_and_twin`] with the scenario, the state, the one failure
/// expected of the defect (check on destination) and what a line of its evidence says.
macro_rules! recipient_tests {
    ($(
        $(#[$doc:meta])*
        $name:ident: $scenario:literal, $state:literal => $check:ident on $destination:expr, $says:expr;
    )*) => {
        $(
            $(#[$doc])*
            #[test]
            fn $name() {
                defect_and_twin($scenario, $state, (CheckId::$check, $destination), $says);
            }
        )*
    };
}

recipient_tests! {
    /// A CNAME'd collector: Meta's pixel event sent to metrics.shop.example (a subdomain of the
    /// site) is recognised by its payload and judged as the Facebook destination.
    a_cnamed_collector_is_judged_as_its_vendor: "cname", "no-choice" => BlockedReceived on FACEBOOK,
        |e| e.contains("Meta pixel event sent to metrics.shop.example/tr/") && e.contains("first-party proxy");
    /// An unknown relay: a third-party host no destination claims receives the visitor's id in a
    /// state without a choice: unknown-recipient naming the host, the moment and what sent it (no
    /// "before the decision": the state has none).
    an_unknown_relay_host_fails_unknown_recipient: "relay", "no-choice" => UnknownRecipient on "px.trk-relay.example",
        |e| e.starts_with("POST px.trk-relay.example/collect (requested by the page: ping)") && e.ends_with(" ms");
    /// A server-side tag manager on a first-party host: GA4 measurement protocol hits to
    /// sgtm.shop.example are judged as the GA4 destination.
    a_server_side_tag_manager_on_a_first_party_host_is_judged_as_ga4: "sgtm", "no-choice" => BlockedReceived on GA4_WEB,
        |e| e.contains("GA4 measurement protocol hit (gtag.js) sent to sgtm.shop.example/g/collect") && e.contains("first-party proxy");
    /// A tag armed by the banner's answer (whatever it was) that fires on the first scroll: the
    /// visitor scrolls after "Reject all", and the Meta event is a leak after the decision.
    a_scroll_triggered_tag_leaks_after_reject: "scroll", "reject-all" => BlockedReceived on FACEBOOK,
        |e| e.contains("www.facebook.com/tr/") && e.ends_with("after the decision");
    /// The same with the first mouse move and a GA4 hit.
    a_mousemove_triggered_tag_leaks_after_reject: "mousemove", "reject-all" => BlockedReceived on GA4_WEB,
        |e| e.contains("region1.google-analytics.com") && e.ends_with("after the decision");
}

/// A correct site served from a vendor's own domain (www.criteo.com): its own requests are first
/// party, never the Criteo destination; every state passes.
#[test]
fn a_correct_site_on_a_vendors_own_domain_passes() {
    let (results, _tmp) = common::judge(SPECS, |n| n.starts_with("recipients-vendor-own::"));
    common::assert_all_pass(&results, 2);
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
    assert_eq!(
        pairs(d),
        [common::pair(CheckId::BlockedReceived, Some(REPLAY))].into(),
        "{d:#?}"
    );
    let ev = evidence(d, CheckId::BlockedReceived);
    assert!(
        ev.iter()
            .all(|e| e.contains("rec.replay.example/rec") && e.ends_with("after the decision")),
        "{ev:#?}"
    );
    common::assert_passes(common::result(&results, "replay-gated::reject-all"));
}

/// The decision instant is the press on the Decline button: what the pointer's approach to it set
/// off (the correct recorder sending while the visitor has not declined) sits before the decision
/// in the report's timeline, and nothing of the recorder's comes after it.
#[test]
fn the_decision_instant_is_the_press_not_the_pointers_approach() {
    let r = common::run_reported(
        "tests/fixtures/replay/specs/replay-gated.yaml",
        "reject-all",
    );
    common::assert_passes(&r);
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
