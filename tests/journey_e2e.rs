//! End-to-end tests of the consent-journey spec language (issue 14) on real Chromium, the real
//! Segment library and the real CMP: consent-exempt destinations, analytics-next bundled from npm,
//! event expectations. Each test runs one trial through the real harness and asserts the exact set
//! of (check, destination) pairs that fail, or that it passes.

use std::collections::BTreeSet;

mod common;

use common::result;
use consent_gates::outcome::{CheckId, TrialResult, Verdict};

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

/// Runs the one trial `name` of `specs`; returns its result and the text of its snapshot.
fn run(specs: &str, name: &str) -> (TrialResult, String) {
    let (results, tmp) = common::judge(specs, |n| n == name);
    let r = result(&results, name).clone();
    let stem = name.replace("::", ".");
    let dir = tmp.path().join("snapshots");
    let snap = ["snap.new", "snap"]
        .iter()
        .find_map(|ext| std::fs::read_to_string(dir.join(format!("{stem}.{ext}"))).ok())
        .unwrap_or_default();
    (r, snap)
}

fn assert_passes(r: &TrialResult) {
    assert_eq!(r.verdict, Verdict::Pass, "{} must pass: {r:#}", r.name());
}

fn assert_fails_with(r: &TrialResult, expected: &[Pair]) {
    let expected: BTreeSet<Pair> = expected.iter().cloned().collect();
    assert_eq!(r.verdict, Verdict::Fail, "{} must fail: {r:#}", r.name());
    assert_eq!(
        pairs(r),
        expected,
        "{}: exactly these checks must fire (left: fired, right: expected): {r:#}",
        r.name()
    );
}

const EXEMPT: &str = "tests/fixtures/exempt/specs/*.yaml";
const SIFT: &str = "Sift";

/// `exempt`: after "Reject all" Segment still delivers every (all-denied) event to the unmapped
/// cloud destination Sift. Declared exempt with a reason, it is judged as always allowed: the
/// state passes, and the reason is in the snapshot and the report's expectations.
#[test]
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
#[test]
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
