//! End-to-end tests of the defect fixtures under `tests/fixtures/<defect>/`: each is a deliberately
//! broken site (or settings) with a spec that expects the correct behaviour. Each test runs one trial
//! (one spec, one state) through the real harness (Chromium, Segment, CMP) and asserts the exact set
//! of (check, destination) pairs that fail: the right checks fire, on the right destination, and
//! nothing else does.

use std::collections::BTreeSet;
use std::path::PathBuf;

mod common;

use common::{assert_evidence_names, fails_with, pair};
use consent_gates::outcome::{CheckId, TimelineKind, TrialResult, Verdict};

/// What was seen (`what`) in the evidence of the failures of `check` on `destination`.
fn evidence_of(r: &TrialResult, check: CheckId, destination: Option<&str>) -> Vec<String> {
    r.failures
        .iter()
        .filter(|f| f.check == check && f.destination.as_deref() == destination)
        .flat_map(|f| f.evidence.iter().map(|e| e.what.clone()))
        .collect()
}

/// The failure messages of `check`.
fn messages_of(r: &TrialResult, check: CheckId) -> Vec<&str> {
    r.failures
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.message.as_str())
        .collect()
}

/// Asserts that one failure message of `check` contains every one of `needles`.
fn assert_a_message_names(r: &TrialResult, check: CheckId, needles: &[&str]) {
    let messages = messages_of(r, check);
    assert!(
        messages
            .iter()
            .any(|m| needles.iter().all(|n| m.contains(n))),
        "a {check} message names {needles:?}: {messages:?}"
    );
}

/// Asserts that `value` appears nowhere in `what` (a result or a failure, as debug-printed).
fn assert_never_shows(what: &impl std::fmt::Debug, value: &str) {
    let text = format!("{what:?}");
    assert!(!text.contains(value), "never the value {value:?}: {text}");
}

const FACEBOOK: &str = "Facebook Conversions Api Web";
const GA4_WEB: &str = "Google Analytics 4 Web";
const AMPLITUDE: &str = "Actions Amplitude";
const TIKTOK: &str = "TikTok Pixel";
const MAILCHIMP: &str = "Mailchimp";

/// One test per defect trial: runs `trial` of `tests/fixtures/<fixture>/specs/*.yaml` and asserts
/// that it fails with exactly the listed (check, destination) pairs, then what the closure asserts
/// of the result.
macro_rules! defect_tests {
    (@destination) => { None };
    (@destination $destination:expr) => { Some($destination) };
    ($(
        $(#[$doc:meta])*
        $name:ident: $fixture:literal, $trial:literal
            => [$($check:ident $(on $destination:expr)?),+] $(, |$r:ident| $then:block)?;
    )*) => {
        $(
            $(#[$doc])*
            #[test]
            fn $name() {
                let _result = fails_with(
                    concat!("tests/fixtures/", $fixture, "/specs/*.yaml"),
                    $trial,
                    &[$(pair(CheckId::$check, defect_tests!(@destination $($destination)?))),+],
                );
                $(let $r = &_result; $then)?
            }
        )*
    };
}

defect_tests! {
    /// `ungated`: Facebook has no consent category and consentSettings says there are unmapped
    /// destinations. After "Reject all" consent-tools still loads Facebook (ungated-destination,
    /// blocked-received), and because an unmapped destination exists Segment does not disable itself: the
    /// reject-all events reach Segment, stamped all-false (collection).
    ungated_fires_ungated_destination_blocked_received_and_collection: "ungated", "shop-ungated::reject-all"
        => [UngatedDestination on FACEBOOK, BlockedReceived on FACEBOOK, Collection],
        |r| { assert_evidence_names(r, CheckId::BlockedReceived, "facebook") };

    /// `collection-before-optin`: the wrapper loads Segment at once and counts "not decided" as analytics
    /// accepted. Before any choice, events reach Segment (collection) and the analytics destinations
    /// receive data (the gdpr no-choice state blocks them all); Facebook (advertising, still false)
    /// does not.
    collection_before_optin_fires_collection_on_no_choice: "collection-before-optin", "shop-soft-optin::no-choice"
        => [Collection, BlockedReceived on GA4_WEB, BlockedReceived on AMPLITUDE],
        |r| { assert_evidence_names(r, CheckId::Collection, "api.segment.io/v1/") };

    /// `unstamped`: Segment is gated by the site's own code and never stamped. In analytics-only the
    /// browser side is right (Facebook stays off), but the events carry no consent object.
    unstamped_fires_unstamped_events_on_analytics_only: "unstamped", "shop-unstamped::analytics-only"
        => [UnstampedEvents];

    /// `wrong-mapping`: analytics and advertising swapped in the CMP → Segment mapping. In
    /// analytics-only the stamp contradicts the banner's recorded choice (consent-mismatch; the state
    /// has no expect.consent, so only the CMP comparison can catch it), and everything decided from the stamp is inverted: Facebook loads
    /// (blocked-received), Google Analytics 4 Web never loads and Segment's servers route nothing to
    /// Actions Amplitude (allowed-missing).
    wrong_mapping_fires_consent_mismatch_on_analytics_only: "wrong-mapping", "shop-wrong-mapping::analytics-only"
        => [ConsentMismatch, BlockedReceived on FACEBOOK, AllowedMissing on GA4_WEB, AllowedMissing on AMPLITUDE],
        |r| {
            // The stamp is judged against the banner's recorded choice, both swapped categories named.
            assert_a_message_names(r, CheckId::ConsentMismatch, &["CMP recorded C0002=true", "CMP recorded C0004=false"]);
        };

    /// `gpc-ignored`: the klaro site ignores Global Privacy Control. Under cpra the gpc state (no steps,
    /// no explicit `blocked`) blocks advertising destinations by default: TikTok Pixel is caught; the
    /// analytics destinations are allowed.
    gpc_ignored_fires_blocked_received_for_the_advertising_destination: "gpc-ignored", "klaro-us-gpc-ignored::gpc"
        => [BlockedReceived on TIKTOK],
        |r| { assert_evidence_names(r, CheckId::BlockedReceived, "tiktok") };

    /// `tcf-stamp`: a TCF v2.2 site (real `@iabtcf/cmpapi` + `@iabtcf/core`) stamps advertising from
    /// purpose 2's legitimate interest. After "Reject all" the TC string signals no consent to purposes
    /// 1, 3, 4, yet Segment stamps C0004: true and TikTok receives data: `consent-mismatch` names the
    /// purposes, and `blocked-received` the destination. Its correct twin is `cmp-tcf::reject-all`.
    tcf_stamp_fires_consent_mismatch_against_the_tc_string: "tcf-stamp", "tcf-stamp::reject-all"
        => [ConsentMismatch, BlockedReceived on TIKTOK],
        |r| {
            // The stamp is judged against the TC string's purposes.
            assert_a_message_names(r, CheckId::ConsentMismatch, &["no consent to purposes [1, 3, 4]", "stamped C0004=true"]);
        };

    /// `gpp-stamp`: a US site (real `@iabgpp/cmpapi`, usnat and usca) stamps advertising from usnat's
    /// SaleOptOut read as a yes/no flag. After "Do not sell or share" the GPP string signals the
    /// opt-outs, yet Segment stamps C0004: true and TikTok receives data: `consent-mismatch` names the
    /// opt-outs, and `blocked-received` the destination, blocked by the `cpra` default that the GPP
    /// opt-out brings (the spec lists no `blocked`). Its correct twin is `cmp-gpp::opt-out`.
    gpp_stamp_fires_consent_mismatch_against_the_gpp_string_and_cpra_blocks_tiktok: "gpp-stamp", "gpp-stamp::opt-out"
        => [ConsentMismatch, BlockedReceived on TIKTOK],
        |r| {
            // The stamp is judged against the GPP opt-outs.
            assert_a_message_names(r, CheckId::ConsentMismatch, &["an opt-out (usnat SaleOptOut", "so C0004=false, but Segment stamped C0004=true"]);
            let blocked = messages_of(r, CheckId::BlockedReceived);
            assert!(blocked.iter().all(|m| m.contains("(regime cpra)")), "TikTok is blocked by the cpra default: {blocked:?}");
        };

    /// `identify-after-reject`: Segment keeps sending after "Reject all" (unmapped destinations), and the
    /// page identifies the visitor with an email address. The identify reaching Segment is `calls`; no
    /// declared destination receives the email (stamp all-false, no destination code), so no pii-leak.
    identify_after_reject_fires_calls_only: "identify-after-reject", "shop-identify-after-reject::identify-after-reject"
        => [Calls],
        |r| { assert_evidence_names(r, CheckId::Calls, "identify") };

    /// The proxy-batch example with a wrong expectation (`collection: none` after "Accept all"): the
    /// failure proves batched events to a first-party proxy host are decoded as Segment collection.
    proxied_batches_are_decoded_as_collection: "proxy-batch-probe", "proxy-batch-probe::accept-all"
        => [Collection],
        |r| {
            let evidence = evidence_of(r, CheckId::Collection, None);
            assert!(
                !evidence.is_empty()
                    && evidence.iter().all(|e| e.contains("collect.proxy-shop.example/v1/b") && e.contains("(batch)")),
                "every event went to the proxy in a batch: {evidence:?}"
            );
            assert!(
                evidence.iter().any(|e| e.contains("Segment Consent Preference Updated")),
                "the consent change is among the batched events: {evidence:?}"
            );
        };

    /// `ungated`, state `reject-then-signup`: after "Reject all" the visitor signs up with an email; the
    /// ungated Facebook destination is loaded anyway and its vendor request carries the email. Evidence
    /// names the field path, never the address.
    ungated_signup_fires_pii_leak_without_showing_the_value: "ungated", "shop-ungated::reject-then-signup"
        => [UngatedDestination on FACEBOOK, BlockedReceived on FACEBOOK, PiiLeak on FACEBOOK],
        |r| {
            let leak = r.failures.iter().find(|f| f.check == CheckId::PiiLeak).expect("pii-leak");
            assert_never_shows(leak, "jane@example.com");
            assert!(!leak.evidence.is_empty(), "evidence names where: {leak:?}");
        };

    /// `undeclared`: the shop's spec without Facebook; the settings and the network show it.
    undeclared_fires_undeclared_destination_naming_it: "undeclared", "shop-undeclared::accept-all"
        => [UndeclaredDestination on FACEBOOK],
        |r| {
            let message = &r.failures[0].message;
            assert!(message.contains("add `Facebook Conversions Api Web: {}`"), "says what to add: {message}");
        };

    /// `events-held`: the soft opt-in shop of `collection-before-optin` on a page that believes it is
    /// offline (as Chromium tells every page on a machine without a network interface). analytics-next
    /// keeps the events it would send before any choice in its queue: Segment's API sees nothing, and
    /// no-choice must fail events-held naming the queue and the count, not pass as "nothing sent" (its
    /// online twin fails `collection`, above). Google Analytics 4 (device mode) still loads.
    events_held_fires_when_the_page_believes_it_is_offline: "events-held", "shop-offline::no-choice"
        => [EventsHeld, BlockedReceived on GA4_WEB],
        |r| {
            let evidence = evidence_of(r, CheckId::EventsHeld, None);
            assert!(
                evidence.iter().any(|e| e.contains("navigator.onLine === false")),
                "events-held says the page believed it was offline: {evidence:?}"
            );
            assert!(
                evidence.iter().any(|e| {
                    let n: String = e.chars().take_while(char::is_ascii_digit).collect();
                    n.parse::<usize>().is_ok_and(|n| n > 0)
                        && e.contains("persisted-queue:v1:<write-key>:dest-Segment.io:items")
                }),
                "events-held names the queue and how many events it held: {evidence:?}"
            );
        };

    /// `outbound`, share-after-reject: the share link the site decorated with the visitor's id
    /// (cookie `lumen_vid`) is the site's leak: blocked-received for Facebook, the evidence naming the
    /// parameter, never its value.
    a_link_decorated_with_the_visitors_id_fails_blocked_received_naming_the_parameter: "outbound", "shop-outbound::share-after-reject"
        => [BlockedReceived on FACEBOOK],
        |r| {
            assert_eq!(
                evidence_of(r, CheckId::BlockedReceived, Some(FACEBOOK)),
                vec!["the visitor was sent to www.facebook.com/sharer/sharer.php by a step, carrying an identifier (vid)"]
            );
            assert_never_shows(r, "vid=v");
        };

    /// `outbound`, newsletter-after-reject: a step fills the newsletter form and submits it; the form
    /// posts the e-mail address to the mailing-list vendor: blocked-received and pii-leak, and the
    /// step completes (the offline edge answers the vendor's page).
    a_form_posting_an_email_to_a_vendor_fails_blocked_received_and_pii_leak: "outbound", "shop-outbound::newsletter-after-reject"
        => [BlockedReceived on MAILCHIMP, PiiLeak on MAILCHIMP],
        |r| {
            let evidence = evidence_of(r, CheckId::BlockedReceived, Some(MAILCHIMP));
            assert!(
                evidence.len() == 1 && evidence[0].contains("carrying an identifier (EMAIL)"),
                "names the form field: {evidence:?}"
            );
            assert_never_shows(r, "jane@example.com");
        };

    /// `outbound`, share-then-stale-step: a step that matches nothing after the leak (the visitor is
    /// on Facebook's page by then) fails the trial with step-did-not-match, and the leak recorded
    /// before it is still judged and reported beside it.
    a_step_that_misses_after_a_leak_does_not_hide_it: "outbound", "shop-outbound::share-then-stale-step"
        => [StepDidNotMatch, BlockedReceived on FACEBOOK],
        |r| {
            assert_eq!(r.failures[0].check, CheckId::StepDidNotMatch, "what stopped the visit comes first");
            assert!(r.failures[0].message.contains("step 3"), "{r:#?}");
        };
}

/// The fixtures stay apart from the example specs: none of them is under `specs/`.
#[test]
fn fixture_specs_are_not_example_specs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("specs")).expect("specs/") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        for fixture in [
            "ungated",
            "soft-optin",
            "unstamped",
            "wrong-mapping",
            "gpc-ignored",
            "identify-after-reject",
            "probe",
            "outbound",
            "tcf-stamp",
            "gpp-stamp",
        ] {
            assert!(
                !name.contains(fixture),
                "specs/{name} looks like a defect fixture; keep those under tests/fixtures/"
            );
        }
    }
}

/// `outbound`, follow-after-reject: after "Reject all" the visitor clicks a plain "Follow us on
/// Facebook" link. Their own choice, not the site's leak: the trial passes (the navigation to a
/// Facebook host is not data received), and the report's timeline says where they went.
#[test]
fn a_plain_outbound_link_the_visitor_follows_passes_and_shows_as_leaving() {
    let r = common::run_reported(
        "tests/fixtures/outbound/specs/shop-outbound.yaml",
        "follow-after-reject",
    );
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let timeline = &r.evidence.as_ref().expect("report evidence").timeline;
    let left: Vec<&str> = timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Departure)
        .map(|e| e.what.as_str())
        .collect();
    assert_eq!(
        left,
        vec!["the visitor left for www.facebook.com (step 2)"],
        "{timeline:#?}"
    );
    assert!(
        !timeline.iter().any(|e| e.kind == TimelineKind::Vendor),
        "no vendor received anything: {timeline:#?}"
    );
}

/// Runs `late-tags::<state>` and asserts that it fails with exactly blocked-received for Facebook,
/// its evidence naming each of `beacons` (the timers that sent them: `load-3s`, `decision-25s`)
/// and no other.
fn late_tags_report(state: &str, beacons: &[&str]) {
    let r = fails_with(
        "tests/fixtures/late-tags/specs/late-tags.yaml",
        &format!("late-tags::{state}"),
        &[pair(CheckId::BlockedReceived, Some(FACEBOOK))],
    );
    let evidence = evidence_of(&r, CheckId::BlockedReceived, Some(FACEBOOK));
    let reported: BTreeSet<&str> = evidence
        .iter()
        .filter_map(|e| e.split("/tr/late-").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(reported, beacons.iter().copied().collect(), "{r:#?}");
}

/// `late-tags`: a vendor tag sends beacons to Meta 3 s, 8 s and 25 s after load, whatever the
/// choice. In no-choice each of the three is reported (blocked-received), though the visit never
/// waits 25 s of wall time: the controlled clock runs page time forward.
#[test]
fn late_tags_after_load_are_each_reported() {
    late_tags_report("no-choice", &["load-3s", "load-8s", "load-25s"]);
}

/// `late-tags`, reject-all: the three beacons the tag sends 3 s, 8 s and 25 s after the reject are
/// each reported; the load beacons came before the decision, which a state with steps does not
/// judge for blocked destinations.
#[test]
fn late_tags_after_the_decision_are_each_reported() {
    late_tags_report(
        "reject-all",
        &["decision-3s", "decision-8s", "decision-25s"],
    );
}

/// The correct twin of `late-tags`: the same waiting tag asks the CMP before each beacon. Nothing
/// is reported before a choice or after a reject, and after accept-all everything passes.
#[test]
fn late_tags_gated_twin_passes_every_state() {
    let (results, _tmp) = common::judge(
        "tests/fixtures/late-tags/specs/late-tags-gated.yaml",
        |_| true,
    );
    common::assert_all_pass(&results, 3);
}
