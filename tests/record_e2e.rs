//! End-to-end tests of what the recorder sees (issue "nothing leaves unseen"): each channel has a
//! fixture site under `tests/fixtures/` that leaks after "Reject" (the trial fails with exactly the
//! expected checks) and a correct twin that does not (the trial passes).

mod common;

use common::{evidence, pair};
use consent_gates::outcome::{CheckId, TrialResult};

/// Runs the trials of `specs` whose names `select` accepts.
fn run(specs: &str, select: impl Fn(&str) -> bool) -> Vec<TrialResult> {
    common::judge(specs, select).0
}

/// Asserts that `r` fails with exactly blocked-received on each of `destinations`, the evidence
/// naming each of `seen`.
fn assert_blocked_received(r: &TrialResult, destinations: &[&str], seen: &[&str]) {
    let expected: Vec<_> = destinations
        .iter()
        .map(|d| pair(CheckId::BlockedReceived, Some(d)))
        .collect();
    common::assert_fails_with(r, &expected);
    for what in seen {
        common::assert_evidence_names(r, CheckId::BlockedReceived, what);
    }
}

const SHAPES_LEAKY: &str = "tests/fixtures/segment-shapes/specs/shapes-leaky.yaml";

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
        common::assert_fails_with(r, &[(check, None)]);
        common::assert_evidence_names(r, check, where_);
    }
}

const SOCKETS_LEAKY: &str = "tests/fixtures/sockets/specs/sockets-leaky.yaml";
const CHAT: &str = "Support Chat";
const FEED: &str = "Live Feed";

/// A chat vendor reached only over a WebSocket and a feed only over EventSource, both opened
/// after "Reject": each is `blocked-received`, the socket's evidence counting frames, no values.
#[test]
fn websocket_and_eventsource_after_reject_are_blocked_received() {
    let (r, _tmp) = common::run_one(SOCKETS_LEAKY, "sockets-leaky::reject-all");
    // The EventSource stream is named.
    assert_blocked_received(&r, &[CHAT, FEED], &["request to feed.example.net/stream"]);
    let ev = evidence(&r, CheckId::BlockedReceived);
    assert!(
        ev.iter()
            .any(|e| e.starts_with("WebSocket to chat.example.net/socket (")),
        "the socket is named as a WebSocket: {ev:?}"
    );
    let text = format!("{r:?}");
    assert!(!text.contains("hello"), "frame values never appear: {text}");
}

const WORKER_LEAKY: &str = "tests/fixtures/shared-worker/specs/shared-worker-leaky.yaml";

/// A SharedWorker's fetch after "Reject" (which no Playwright route sees) is recorded by the
/// network layer behind the routes and judged: `blocked-received`.
#[test]
fn shared_worker_fetch_after_reject_is_blocked_received() {
    let (r, _tmp) = common::run_one(WORKER_LEAKY, "shared-worker-leaky::reject-all");
    assert_blocked_received(
        &r,
        &["Worker Analytics"],
        &["collect.worker-vendor.example/v1/hit"],
    );
}

const UNLOAD_LEAKY: &str = "tests/fixtures/unload/specs/unload-leaky.yaml";

/// An exit tracker whose pagehide / visibilitychange handler checks `event.isTrusted` sends a
/// beacon and a keepalive fetch when the visitor really leaves: at the end of the state and at a
/// `visit` step. After "Reject" both are `blocked-received`.
#[test]
fn beacons_of_a_real_unload_after_reject_are_blocked_received() {
    let results = run(UNLOAD_LEAKY, |n| n != "unload-leaky::accept-all");
    for state in ["reject-all", "visit-after-reject"] {
        let r = common::result(&results, &format!("unload-leaky::{state}"));
        assert_blocked_received(
            r,
            &["Exit Analytics"],
            &[
                "exit.vendor.example/beacon",
                "exit.vendor.example/keepalive",
            ],
        );
    }
}

/// One test per correct twin: the `count` trials of its spec each pass.
macro_rules! twin_tests {
    ($($(#[$doc:meta])* $name:ident: $spec:literal, $count:literal;)*) => {
        $(
            $(#[$doc])*
            #[test]
            fn $name() {
                common::assert_all_pass(&run($spec, |_| true), $count);
            }
        )*
    };
}

twin_tests! {
    /// The twin checks consent before sending: every channel stays silent after "Reject".
    segment_shapes_twin_passes: "tests/fixtures/segment-shapes/specs/shapes-correct.yaml", 5;
    /// The twin opens chat and feed only after "Accept": reject passes, and accept passes too — a
    /// vendor reached only over a WebSocket or EventSource has received something (`allowed`).
    sockets_twin_passes_both_ways: "tests/fixtures/sockets/specs/sockets-correct.yaml", 2;
    /// The twin's worker sends only after "Accept": reject passes, and accept passes because the
    /// worker's request counts as reception.
    shared_worker_twin_passes_both_ways: "tests/fixtures/shared-worker/specs/shared-worker-correct.yaml", 2;
    /// The twin sends only after "Accept": both reject states pass, and accept passes because what
    /// the real unload sent counts as reception.
    unload_twin_passes_every_way: "tests/fixtures/unload/specs/unload-correct.yaml", 3;
}
