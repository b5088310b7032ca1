//! End-to-end tests of the defect fixtures under `tests/fixtures/<defect>/`: each is a deliberately
//! broken site (or settings) with a spec that expects the correct behaviour. Each test runs one trial
//! (one spec, one state) through the real harness (Chromium, Segment, CMP) and asserts the exact set
//! of (check, destination) pairs that fail: the right checks fire, on the right destination, and
//! nothing else does.

use std::collections::BTreeSet;
use std::path::PathBuf;

mod common;

use common::result;
use consent_gates::browser::session::Shared;
use consent_gates::outcome::{CheckId, TimelineKind, TrialResult, Verdict};
use consent_gates::runner::trial::{self, EvidenceOptions};

/// Runs the single trial `name` of the specs matching `specs` (fixtures have no committed
/// snapshots).
fn run_one(specs: &str, name: &str) -> (Vec<TrialResult>, tempfile::TempDir) {
    common::judge(specs, |n| n == name)
}

type Pair = (CheckId, Option<String>);

fn pairs(r: &TrialResult) -> BTreeSet<Pair> {
    r.failures
        .iter()
        .map(|f| (f.check, f.destination.clone()))
        .collect()
}

fn pair(check: CheckId, destination: Option<&str>) -> Pair {
    (check, destination.map(str::to_string))
}

/// Runs `name` from `specs` and asserts that it fails with exactly `expected`.
fn assert_fails_with(specs: &str, name: &str, expected: &[Pair]) -> TrialResult {
    let (results, _tmp) = run_one(specs, name);
    let r = result(&results, name).clone();
    let expected: BTreeSet<Pair> = expected.iter().cloned().collect();
    assert_eq!(r.verdict, Verdict::Fail, "{name} must fail: {r:#?}");
    assert_eq!(
        pairs(&r),
        expected,
        "{name}: exactly these checks must fire (left: fired, right: expected): {r:#?}"
    );
    r
}

fn evidence_of(r: &TrialResult, check: CheckId, destination: Option<&str>) -> Vec<String> {
    r.failures
        .iter()
        .filter(|f| f.check == check && f.destination.as_deref() == destination)
        .flat_map(|f| f.evidence.iter().map(|e| e.what.clone()))
        .collect()
}

const FACEBOOK: &str = "Facebook Conversions Api Web";
const GA4_WEB: &str = "Google Analytics 4 Web";
const AMPLITUDE: &str = "Actions Amplitude";
const TIKTOK: &str = "TikTok Pixel";
const MAILCHIMP: &str = "Mailchimp";
const OUTBOUND: &str = "tests/fixtures/outbound/specs/*.yaml";

/// `ungated`: Facebook has no consent category and consentSettings says there are unmapped
/// destinations. After "Reject all" consent-tools still loads Facebook (ungated-destination,
/// blocked-received), and because an unmapped destination exists Segment does not disable itself: the
/// reject-all events reach Segment, stamped all-false (collection).
#[test]
fn ungated_fires_ungated_destination_blocked_received_and_collection() {
    let r = assert_fails_with(
        "tests/fixtures/ungated/specs/*.yaml",
        "shop-ungated::reject-all",
        &[
            pair(CheckId::UngatedDestination, Some(FACEBOOK)),
            pair(CheckId::BlockedReceived, Some(FACEBOOK)),
            pair(CheckId::Collection, None),
        ],
    );
    let evidence = evidence_of(&r, CheckId::BlockedReceived, Some(FACEBOOK));
    assert!(
        evidence.iter().any(|e| e.contains("facebook")),
        "evidence names the Facebook request: {evidence:?}"
    );
}

/// `collection-before-optin`: the wrapper loads Segment at once and counts "not decided" as analytics
/// accepted. Before any choice, events reach Segment (collection) and the analytics destinations
/// receive data (the gdpr no-choice state blocks them all); Facebook (advertising, still false)
/// does not.
#[test]
fn collection_before_optin_fires_collection_on_no_choice() {
    let r = assert_fails_with(
        "tests/fixtures/collection-before-optin/specs/*.yaml",
        "shop-soft-optin::no-choice",
        &[
            pair(CheckId::Collection, None),
            pair(CheckId::BlockedReceived, Some(GA4_WEB)),
            pair(CheckId::BlockedReceived, Some(AMPLITUDE)),
        ],
    );
    let evidence = evidence_of(&r, CheckId::Collection, None);
    assert!(
        evidence.iter().any(|e| e.contains("api.segment.io/v1/")),
        "collection evidence names the Segment requests: {evidence:?}"
    );
}

/// `unstamped`: Segment is gated by the site's own code and never stamped. In analytics-only the
/// browser side is right (Facebook stays off), but the events carry no consent object.
#[test]
fn unstamped_fires_unstamped_events_on_analytics_only() {
    assert_fails_with(
        "tests/fixtures/unstamped/specs/*.yaml",
        "shop-unstamped::analytics-only",
        &[pair(CheckId::UnstampedEvents, None)],
    );
}

/// `wrong-mapping`: analytics and advertising swapped in the CMP → Segment mapping. In
/// analytics-only the stamp contradicts the banner's recorded choice (consent-mismatch; the state
/// has no expect.consent, so only the CMP comparison can catch it), and everything decided from the stamp is inverted: Facebook loads
/// (blocked-received), Google Analytics 4 Web never loads and Segment's servers route nothing to
/// Actions Amplitude (allowed-missing).
#[test]
fn wrong_mapping_fires_consent_mismatch_on_analytics_only() {
    let r = assert_fails_with(
        "tests/fixtures/wrong-mapping/specs/*.yaml",
        "shop-wrong-mapping::analytics-only",
        &[
            pair(CheckId::ConsentMismatch, None),
            pair(CheckId::BlockedReceived, Some(FACEBOOK)),
            pair(CheckId::AllowedMissing, Some(GA4_WEB)),
            pair(CheckId::AllowedMissing, Some(AMPLITUDE)),
        ],
    );
    let messages: Vec<&str> = r
        .failures
        .iter()
        .filter(|f| f.check == CheckId::ConsentMismatch)
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages.iter().any(
            |m| m.contains("CMP recorded C0002=true") && m.contains("CMP recorded C0004=false")
        ),
        "the stamp is judged against the banner's recorded choice, both swapped categories named: {messages:?}"
    );
}

/// `gpc-ignored`: the klaro site ignores Global Privacy Control. Under cpra the gpc state (no steps,
/// no explicit `blocked`) blocks advertising destinations by default: TikTok Pixel is caught; the
/// analytics destinations are allowed.
#[test]
fn gpc_ignored_fires_blocked_received_for_the_advertising_destination() {
    let r = assert_fails_with(
        "tests/fixtures/gpc-ignored/specs/*.yaml",
        "klaro-us-gpc-ignored::gpc",
        &[pair(CheckId::BlockedReceived, Some(TIKTOK))],
    );
    let evidence = evidence_of(&r, CheckId::BlockedReceived, Some(TIKTOK));
    assert!(
        evidence.iter().any(|e| e.contains("tiktok")),
        "evidence names the TikTok requests: {evidence:?}"
    );
}

/// `tcf-stamp`: a TCF v2.2 site (real `@iabtcf/cmpapi` + `@iabtcf/core`) stamps advertising from
/// purpose 2's legitimate interest. After "Reject all" the TC string signals no consent to purposes
/// 1, 3, 4, yet Segment stamps C0004: true and TikTok receives data: `consent-mismatch` names the
/// purposes, and `blocked-received` the destination. Its correct twin is `cmp-tcf::reject-all`.
#[test]
fn tcf_stamp_fires_consent_mismatch_against_the_tc_string() {
    let r = assert_fails_with(
        "tests/fixtures/tcf-stamp/specs/*.yaml",
        "tcf-stamp::reject-all",
        &[
            pair(CheckId::ConsentMismatch, None),
            pair(CheckId::BlockedReceived, Some(TIKTOK)),
        ],
    );
    let messages: Vec<&str> = r
        .failures
        .iter()
        .filter(|f| f.check == CheckId::ConsentMismatch)
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("no consent to purposes [1, 3, 4]")
                && m.contains("stamped C0004=true")),
        "the stamp is judged against the TC string's purposes: {messages:?}"
    );
}

/// `gpp-stamp`: a US site (real `@iabgpp/cmpapi`, usnat and usca) stamps advertising from usnat's
/// SaleOptOut read as a yes/no flag. After "Do not sell or share" the GPP string signals the
/// opt-outs, yet Segment stamps C0004: true and TikTok receives data: `consent-mismatch` names the
/// opt-outs, and `blocked-received` the destination, blocked by the `cpra` default that the GPP
/// opt-out brings (the spec lists no `blocked`). Its correct twin is `cmp-gpp::opt-out`.
#[test]
fn gpp_stamp_fires_consent_mismatch_against_the_gpp_string_and_cpra_blocks_tiktok() {
    let r = assert_fails_with(
        "tests/fixtures/gpp-stamp/specs/*.yaml",
        "gpp-stamp::opt-out",
        &[
            pair(CheckId::ConsentMismatch, None),
            pair(CheckId::BlockedReceived, Some(TIKTOK)),
        ],
    );
    let message = |check: CheckId| -> Vec<&str> {
        r.failures
            .iter()
            .filter(|f| f.check == check)
            .map(|f| f.message.as_str())
            .collect()
    };
    let mismatch = message(CheckId::ConsentMismatch);
    assert!(
        mismatch
            .iter()
            .any(|m| m.contains("an opt-out (usnat SaleOptOut")
                && m.contains("so C0004=false, but Segment stamped C0004=true")),
        "the stamp is judged against the GPP opt-outs: {mismatch:?}"
    );
    let blocked = message(CheckId::BlockedReceived);
    assert!(
        blocked.iter().all(|m| m.contains("(regime cpra)")),
        "TikTok is blocked by the cpra default: {blocked:?}"
    );
}

/// `identify-after-reject`: Segment keeps sending after "Reject all" (unmapped destinations), and the
/// page identifies the visitor with an email address. The identify reaching Segment is `calls`; no
/// declared destination receives the email (stamp all-false, no destination code), so no pii-leak.
#[test]
fn identify_after_reject_fires_calls_only() {
    let r = assert_fails_with(
        "tests/fixtures/identify-after-reject/specs/*.yaml",
        "shop-identify-after-reject::identify-after-reject",
        &[pair(CheckId::Calls, None)],
    );
    let evidence = evidence_of(&r, CheckId::Calls, None);
    assert!(
        evidence.iter().any(|e| e.contains("identify")),
        "evidence names the identify call: {evidence:?}"
    );
}

/// The proxy-batch example with a wrong expectation (`collection: none` after "Accept all"): the
/// failure proves batched events to a first-party proxy host are decoded as Segment collection.
#[test]
fn proxied_batches_are_decoded_as_collection() {
    let r = assert_fails_with(
        "tests/fixtures/proxy-batch-probe/specs/*.yaml",
        "proxy-batch-probe::accept-all",
        &[pair(CheckId::Collection, None)],
    );
    let evidence = evidence_of(&r, CheckId::Collection, None);
    assert!(
        !evidence.is_empty()
            && evidence
                .iter()
                .all(|e| e.contains("collect.proxy-shop.example/v1/b") && e.contains("(batch)")),
        "every event went to the proxy in a batch: {evidence:?}"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("Segment Consent Preference Updated")),
        "the consent change is among the batched events: {evidence:?}"
    );
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

/// `ungated`, state `reject-then-signup`: after "Reject all" the visitor signs up with an email; the
/// ungated Facebook destination is loaded anyway and its vendor request carries the email. Evidence
/// names the field path, never the address.
#[test]
fn ungated_signup_fires_pii_leak_without_showing_the_value() {
    let r = assert_fails_with(
        "tests/fixtures/ungated/specs/*.yaml",
        "shop-ungated::reject-then-signup",
        &[
            pair(CheckId::UngatedDestination, Some(FACEBOOK)),
            pair(CheckId::BlockedReceived, Some(FACEBOOK)),
            pair(CheckId::PiiLeak, Some(FACEBOOK)),
        ],
    );
    let leak = r
        .failures
        .iter()
        .find(|f| f.check == CheckId::PiiLeak)
        .expect("pii-leak");
    let text = format!("{leak:?}");
    assert!(
        !text.contains("jane@example.com"),
        "the value never appears: {text}"
    );
    assert!(!leak.evidence.is_empty(), "evidence names where: {leak:?}");
}

/// `undeclared`: the shop's spec without Facebook; the settings and the network show it.
#[test]
fn undeclared_fires_undeclared_destination_naming_it() {
    let r = assert_fails_with(
        "tests/fixtures/undeclared/specs/*.yaml",
        "shop-undeclared::accept-all",
        &[pair(CheckId::UndeclaredDestination, Some(FACEBOOK))],
    );
    let message = &r.failures[0].message;
    assert!(
        message.contains("add `Facebook Conversions Api Web: {}`"),
        "says what to add: {message}"
    );
}

/// `events-held`: the soft opt-in shop of `collection-before-optin` on a page that believes it is
/// offline (as Chromium tells every page on a machine without a network interface). analytics-next
/// keeps the events it would send before any choice in its queue: Segment's API sees nothing, and
/// no-choice must fail events-held naming the queue and the count, not pass as "nothing sent" (its
/// online twin fails `collection`, above). Google Analytics 4 (device mode) still loads.
#[test]
fn events_held_fires_when_the_page_believes_it_is_offline() {
    let r = assert_fails_with(
        "tests/fixtures/events-held/specs/*.yaml",
        "shop-offline::no-choice",
        &[
            pair(CheckId::EventsHeld, None),
            pair(CheckId::BlockedReceived, Some(GA4_WEB)),
        ],
    );
    let evidence = evidence_of(&r, CheckId::EventsHeld, None);
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("navigator.onLine === false")),
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
}

/// `outbound`, follow-after-reject: after "Reject all" the visitor clicks a plain "Follow us on
/// Facebook" link. Their own choice, not the site's leak: the trial passes (the navigation to a
/// Facebook host is not data received), and the report's timeline says where they went.
#[test]
fn a_plain_outbound_link_the_visitor_follows_passes_and_shows_as_leaving() {
    let spec = consent_gates::spec::load(std::path::Path::new(
        "tests/fixtures/outbound/specs/shop-outbound.yaml",
    ))
    .unwrap_or_else(|e| panic!("{e:?}"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = EvidenceOptions {
        report: true,
        screenshots: false,
        traces: None,
    };
    let r = trial::run_with(
        Shared::get(true),
        &spec,
        "follow-after-reject",
        tmp.path(),
        &options,
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

/// `outbound`, share-after-reject: the share link the site decorated with the visitor's id
/// (cookie `lumen_vid`) is the site's leak: blocked-received for Facebook, the evidence naming the
/// parameter, never its value.
#[test]
fn a_link_decorated_with_the_visitors_id_fails_blocked_received_naming_the_parameter() {
    let r = assert_fails_with(
        OUTBOUND,
        "shop-outbound::share-after-reject",
        &[pair(CheckId::BlockedReceived, Some(FACEBOOK))],
    );
    let evidence = evidence_of(&r, CheckId::BlockedReceived, Some(FACEBOOK));
    assert_eq!(
        evidence,
        vec![
            "the visitor was sent to www.facebook.com/sharer/sharer.php by a step, carrying an \
             identifier (vid)"
        ]
    );
    let text = format!("{r:?}");
    assert!(!text.contains("vid=v"), "never the value: {text}");
}

/// `outbound`, newsletter-after-reject: a step fills the newsletter form and submits it; the form
/// posts the e-mail address to the mailing-list vendor: blocked-received and pii-leak, and the
/// step completes (the offline edge answers the vendor's page).
#[test]
fn a_form_posting_an_email_to_a_vendor_fails_blocked_received_and_pii_leak() {
    let r = assert_fails_with(
        OUTBOUND,
        "shop-outbound::newsletter-after-reject",
        &[
            pair(CheckId::BlockedReceived, Some(MAILCHIMP)),
            pair(CheckId::PiiLeak, Some(MAILCHIMP)),
        ],
    );
    let evidence = evidence_of(&r, CheckId::BlockedReceived, Some(MAILCHIMP));
    assert!(
        evidence.len() == 1 && evidence[0].contains("carrying an identifier (EMAIL)"),
        "names the form field: {evidence:?}"
    );
    let text = format!("{r:?}");
    assert!(
        !text.contains("jane@example.com"),
        "never the value: {text}"
    );
}

/// `outbound`, share-then-stale-step: a step that matches nothing after the leak (the visitor is
/// on Facebook's page by then) fails the trial with step-did-not-match, and the leak recorded
/// before it is still judged and reported beside it.
#[test]
fn a_step_that_misses_after_a_leak_does_not_hide_it() {
    let r = assert_fails_with(
        OUTBOUND,
        "shop-outbound::share-then-stale-step",
        &[
            pair(CheckId::StepDidNotMatch, None),
            pair(CheckId::BlockedReceived, Some(FACEBOOK)),
        ],
    );
    assert_eq!(
        r.failures[0].check,
        CheckId::StepDidNotMatch,
        "what stopped the visit comes first"
    );
    assert!(r.failures[0].message.contains("step 3"), "{r:#?}");
}

/// The beacons of `late-tags` that reached Facebook in `r`, by the timer that sent them
/// (`load-3s`, `decision-25s`), from the blocked-received evidence.
fn late_beacons(r: &TrialResult) -> BTreeSet<String> {
    evidence_of(r, CheckId::BlockedReceived, Some(FACEBOOK))
        .iter()
        .filter_map(|e| e.split("/tr/late-").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `late-tags`: a vendor tag sends beacons to Meta 3 s, 8 s and 25 s after load, whatever the
/// choice. In no-choice each of the three is reported (blocked-received), though the visit never
/// waits 25 s of wall time: the controlled clock runs page time forward.
#[test]
fn late_tags_after_load_are_each_reported() {
    let r = assert_fails_with(
        "tests/fixtures/late-tags/specs/late-tags.yaml",
        "late-tags::no-choice",
        &[pair(CheckId::BlockedReceived, Some(FACEBOOK))],
    );
    assert_eq!(
        late_beacons(&r),
        set(&["load-3s", "load-8s", "load-25s"]),
        "{r:#?}"
    );
}

/// `late-tags`, reject-all: the three beacons the tag sends 3 s, 8 s and 25 s after the reject are
/// each reported; the load beacons came before the decision, which a state with steps does not
/// judge for blocked destinations.
#[test]
fn late_tags_after_the_decision_are_each_reported() {
    let r = assert_fails_with(
        "tests/fixtures/late-tags/specs/late-tags.yaml",
        "late-tags::reject-all",
        &[pair(CheckId::BlockedReceived, Some(FACEBOOK))],
    );
    assert_eq!(
        late_beacons(&r),
        set(&["decision-3s", "decision-8s", "decision-25s"]),
        "{r:#?}"
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
    assert_eq!(results.len(), 3, "{results:#?}");
    for r in &results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {r:#?}", r.name());
    }
}
