//! End-to-end tests of the consent-journey spec language (issue 14) on real Chromium, the real
//! Segment library and the real CMP: consent-exempt destinations, analytics-next bundled from npm,
//! event expectations. Each test runs one trial through the real harness and asserts the exact set
//! of (check, destination) pairs that fail, or that it passes.

mod common;

use common::{assert_fails_with, assert_passes, pair, pairs};
use consent_gates::outcome::{CheckId, TrialResult};

/// A harness of its own: these tests read what each trial recorded from its snapshot in a
/// temporary folder, and under `CI` insta writes no new snapshot unless asked. `INSTA_UPDATE=new`
/// asks (a `.snap.new` beside nothing accepted); it is set here, before any thread exists, because
/// changing the environment is only sound while the process is single-threaded.
fn main() -> std::process::ExitCode {
    // SAFETY: no other thread has started yet.
    unsafe { std::env::set_var("INSTA_UPDATE", "new") };
    let args = libtest_mimic::Arguments::from_args();
    // Each test by its function's name.
    macro_rules! named {
        ($($test:ident),* $(,)?) => {
            vec![$((stringify!($test), $test as fn())),*]
        };
    }
    let tests: Vec<(&str, fn())> = named![
        an_exempt_destination_is_always_allowed_and_shows_its_reason,
        the_same_destination_without_exempt_is_ungated_and_blocked_received,
        an_event_that_must_never_be_sent_fails_event_unexpected,
        a_site_that_forgets_register_on_consent_changed_fails_event_missing,
        a_withdrawal_sends_the_consent_event_again_only_when_registered,
        analytics_next_bundled_from_npm_is_recognised_by_its_behaviour,
        a_withdrawal_on_the_opt_in_shop_is_judged_per_phase,
        a_withdrawal_on_a_shop_that_gates_per_event_passes,
        reopen_without_a_documented_api_is_step_did_not_match,
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

/// Runs the one trial `name` of `specs`; returns its result and the text of its snapshot.
fn run(specs: &str, name: &str) -> (TrialResult, String) {
    let (r, tmp) = common::run_one(specs, name);
    let stem = name.replace("::", ".");
    let dir = tmp.path().join("snapshots");
    let snap = ["snap.new", "snap"]
        .iter()
        .find_map(|ext| std::fs::read_to_string(dir.join(format!("{stem}.{ext}"))).ok())
        .unwrap_or_default();
    (r, snap)
}

const EXEMPT: &str = "tests/fixtures/exempt/specs/*.yaml";
const SIFT: &str = "Sift";

/// `exempt`: after "Reject all" Segment still delivers every (all-denied) event to the unmapped
/// cloud destination Sift. Declared exempt with a reason, it is judged as always allowed: the
/// state passes, and the reason is in the snapshot and the report's expectations.
fn an_exempt_destination_is_always_allowed_and_shows_its_reason() {
    let (r, snap) = run(EXEMPT, "shop-exempt::reject-all");
    assert_passes(&r);
    assert!(
        snap.contains("fraud prevention on checkout (legitimate interest"),
        "the snapshot shows the reason: {snap}"
    );
    assert!(
        snap.contains("received: true"),
        "Sift received the events: {snap}"
    );
    // The report's expectations list, from a trial run with report evidence.
    let r = common::run_reported("tests/fixtures/exempt/specs/shop-exempt.yaml", "reject-all");
    let ev = r.evidence.as_ref().expect("report evidence");
    assert!(
        ev.expectations
            .iter()
            .any(|e| e.starts_with("exempt: Sift: fraud prevention")),
        "the report lists the exemption: {:?}",
        ev.expectations
    );
}

/// The twin, as a v1 spec had to write it: Sift without `exempt` fails ungated-destination and
/// blocked-received.
fn the_same_destination_without_exempt_is_ungated_and_blocked_received() {
    let (r, _) = run(EXEMPT, "shop-exempt-missing::reject-all");
    assert_fails_with(
        &r,
        &[
            pair(CheckId::UngatedDestination, Some(SIFT)),
            pair(CheckId::BlockedReceived, Some(SIFT)),
        ],
    );
}

/// `expect.events` both ways on one site: an identify carrying `traits.email` after "Reject all"
/// fails event-unexpected naming the matcher and when; browsing on without it passes, its
/// `Product Added` counted once with the all-denied stamp.
fn an_event_that_must_never_be_sent_fails_event_unexpected() {
    let (r, _) = run(EXEMPT, "shop-exempt::reject-then-identify");
    assert_fails_with(&r, &[pair(CheckId::EventUnexpected, None)]);
    let f = &r.failures[0];
    assert!(
        f.message.contains("never identify with traits.email")
            && f.message.contains("after the decision"),
        "the message names the matcher and when: {}",
        f.message
    );
    assert_eq!(f.evidence.len(), 1, "{f}");
    let (twin, _) = run(EXEMPT, "shop-exempt::reject-then-browse");
    assert_passes(&twin);
}

const UNREGISTERED: &str = "tests/fixtures/consent-unregistered/specs/*.yaml";

/// `consent-unregistered`: the wrapper never gets `registerOnConsentChanged`, so consent-tools
/// never sends "Segment Consent Preference Updated": event-missing, and nothing else (the stamp
/// itself is read fresh on every event). The example shop, its correct twin, passes.
fn a_site_that_forgets_register_on_consent_changed_fails_event_missing() {
    let (r, _) = run(UNREGISTERED, "shop-unregistered::accept-all");
    assert_fails_with(&r, &[pair(CheckId::EventMissing, None)]);
    let m = &r.failures[0].message;
    assert!(
        m.contains("exactly 1 track \"Segment Consent Preference Updated\"")
            && m.contains("0 events matched")
            && m.contains("seen instead: track \"Product Viewed\""),
        "the message names the matcher and what was seen instead: {m}"
    );
    let (twin, _) = run(UNREGISTERED, "shop-registered::accept-all");
    assert_passes(&twin);
}

/// Withdrawal through the CMP's API: with the callback registered the wrapper sends the consent
/// event twice (accept, withdraw) and "Product Added" carries the withdrawn stamp; without it,
/// event-missing.
fn a_withdrawal_sends_the_consent_event_again_only_when_registered() {
    let (r, _) = run(UNREGISTERED, "shop-unregistered::accept-then-withdraw");
    assert_fails_with(&r, &[pair(CheckId::EventMissing, None)]);
    let (twin, _) = run(UNREGISTERED, "shop-registered::accept-then-withdraw");
    assert_passes(&twin);
}

/// `bundled-next`: analytics-next compiled into the site's own bundle from npm. The library is
/// recognised by its behaviour (settings fetch, the npm build's `context.library` on its events,
/// the loaded instance the site keeps in a global of its own naming), the snapshot says how, and
/// that `segment.library: bundled` had no effect.
fn analytics_next_bundled_from_npm_is_recognised_by_its_behaviour() {
    let (r, snap) = run(
        "tests/fixtures/bundled-next/specs/*.yaml",
        "shop-bundled::accept-all",
    );
    assert_passes(&r);
    common::assert_contains_all(
        &snap,
        &[
            "library_loaded: true",
            "recognised_by:\n    - settings fetch\n    - \"events from the npm build (npm:next)\"",
            "`segment.library: bundled` had no effect",
            // The instance the site exposes under its own name, once loaded.
            "page global window.shopAnalytics",
        ],
    );
}

const WITHDRAW: &str = "tests/fixtures/withdraw/specs/*.yaml";

/// A withdrawal journey on the unchanged example shop: the preferences re-open through
/// vanilla-cookieconsent's API and the withdrawal is made there. The consent event and the flipped
/// stamp are there (the phase's events and consent pass), but the device-mode destinations loaded
/// on the first decision keep receiving under the opt-in model: blocked-received for exactly those
/// two, in the `withdrawn` phase. The snapshot shows each phase in order.
fn a_withdrawal_on_the_opt_in_shop_is_judged_per_phase() {
    let (r, snap) = run(WITHDRAW, "shop-withdraw::accept-then-withdraw");
    assert_fails_with(
        &r,
        &[
            pair(CheckId::BlockedReceived, Some("Google Analytics 4 Web")),
            pair(
                CheckId::BlockedReceived,
                Some("Facebook Conversions Api Web"),
            ),
        ],
    );
    for f in &r.failures {
        assert!(
            f.message.contains("in phase `withdrawn` (from step 4"),
            "the message names the phase: {}",
            f.message
        );
    }
    let before = snap.find("- phase: before").expect("phase before");
    let accepted = snap.find("- phase: accepted").expect("phase accepted");
    let withdrawn = snap.find("- phase: withdrawn").expect("phase withdrawn");
    assert!(before < accepted && accepted < withdrawn, "{snap}");
    assert!(
        snap[withdrawn..].contains(
            "Segment Consent Preference Updated\\\" · C0001=true C0002=false C0004=false"
        ),
        "the withdrawn phase shows the consent event with the new stamp: {snap}"
    );
}

/// The correct twin: the same journey on the shop that gates its loaded device-mode destinations
/// per event by the consent stamp (analytics-next's `addDestinationMiddleware`). The withdrawn phase
/// passes; its snapshot shows the consent event with the new stamp and nothing reaching Google's or
/// Meta's code. Both outcomes are confirmed with the browser alone by
/// `tests/fixtures/withdraw/confirm.mjs [gated]`.
fn a_withdrawal_on_a_shop_that_gates_per_event_passes() {
    let (r, snap) = run(WITHDRAW, "shop-withdraw-gated::accept-then-withdraw");
    assert_passes(&r);
    let withdrawn = snap.find("- phase: withdrawn").expect("phase withdrawn");
    // Nothing reaches Google's or Meta's code; the consent event carries the new stamp.
    common::assert_contains_all(
        &snap[withdrawn..],
        &[
            "Google Analytics 4 Web: []",
            "Facebook Conversions Api Web: []",
            "Segment Consent Preference Updated\\\" · C0001=true C0002=false C0004=false",
        ],
    );
}

/// `cmp: reopen` where the adapter knows no documented way: step-did-not-match naming it.
fn reopen_without_a_documented_api_is_step_did_not_match() {
    let (r, _) = run(WITHDRAW, "onetrust-reopen::accept-then-reopen");
    assert_eq!(
        pairs(&r),
        [pair(CheckId::StepDidNotMatch, None)].into_iter().collect(),
        "{r:#}"
    );
    assert!(
        r.failures[0]
            .message
            .contains("onetrust adapter has no documented way"),
        "{}",
        r.failures[0].message
    );
}
