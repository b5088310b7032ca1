//! End-to-end tests of what the recorder sees (issue "nothing leaves unseen"): each channel has a
//! fixture site under `tests/fixtures/` that leaks after "Reject" (the trial fails with exactly the
//! expected checks) and a correct twin that does not (the trial passes).

use std::collections::BTreeSet;

mod common;

use consent_gates::outcome::TrialResult;
use consent_gates::outcome::{CheckId, Verdict};

type Pair = (CheckId, Option<String>);

fn pairs(r: &TrialResult) -> BTreeSet<Pair> {
    r.failures
        .iter()
        .map(|f| (f.check, f.destination.clone()))
        .collect()
}

/// Runs the trials of `specs` whose names `select` accepts.
fn run(specs: &str, select: impl Fn(&str) -> bool) -> Vec<TrialResult> {
    common::judge(specs, select).0
}

fn evidence(r: &TrialResult, check: CheckId) -> Vec<String> {
    r.failures
        .iter()
        .filter(|f| f.check == check)
        .flat_map(|f| f.evidence.iter().map(|e| e.what.clone()))
        .collect()
}

const SHAPES_LEAKY: &str = "tests/fixtures/segment-shapes/specs/shapes-leaky.yaml";
const SHAPES_CORRECT: &str = "tests/fixtures/segment-shapes/specs/shapes-correct.yaml";

/// Segment traffic that does not look like analytics.js — a batch to a first-party path, a
/// sendBeacon, the Pixel API, a gzip body — is decoded as collection wherever it goes; bytes to
/// Segment's API that are no Segment payload are `undecodable-segment`.
#[test]
fn segment_is_recognised_by_what_it_carries() {
    let results = run(SHAPES_LEAKY, |_| true);
    let expect: [(&str, CheckId, &str); 5] = [
        (
            "collect-path",
            CheckId::Collection,
            "shapes.example/collect/x",
        ),
        (
            "beacon",
            CheckId::Collection,
            "shapes.example/collect/beacon",
        ),
        (
            "pixel",
            CheckId::Collection,
            "api.segment.io/v1/pixel/track",
        ),
        ("gzip", CheckId::Collection, "shapes.example/collect/gz"),
        ("opaque", CheckId::UndecodableSegment, "api.segment.io/v1/b"),
    ];
    for (state, check, where_) in expect {
        let r = common::result(&results, &format!("shapes-leaky::{state}"));
        assert_eq!(r.verdict, Verdict::Fail, "{state} must fail: {r:#?}");
        assert_eq!(
            pairs(r),
            BTreeSet::from([(check, None)]),
            "{state}: exactly {check} fires: {r:#?}"
        );
        let ev = evidence(r, check);
        assert!(
            ev.iter().any(|e| e.contains(where_)),
            "{state}: evidence names {where_}: {ev:?}"
        );
    }
}

/// The twin checks consent before sending: every channel stays silent after "Reject".
#[test]
fn segment_shapes_twin_passes() {
    let results = run(SHAPES_CORRECT, |_| true);
    assert_eq!(results.len(), 5);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {r:#?}", r.name());
    }
}
