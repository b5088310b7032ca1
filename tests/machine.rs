//! The machine never changes what a trial sees: the page's view of the pinned values (online,
//! locale, time zone, screen, CPU count) on whatever host runs the test, and nothing a trial leaves
//! behind (cookies, storage, cache, IndexedDB) reaches the next one. `scripts/check-netless` runs
//! the example specs and the fixtures again without a network interface, under another locale and
//! time zone and with proxy variables set.

use std::path::Path;

use consent_gates::capture::{Capture, PageEnvironment};

mod common;

const SPEC: &str = "tests/fixtures/machine/specs/machine-probe.yaml";

fn visit(state: &str) -> Capture {
    let v = common::visit_state(Path::new(SPEC), state);
    assert!(v.stop.is_none(), "{state}: {:?}", v.stop);
    v.capture
}

#[test]
fn the_page_sees_the_pinned_values_and_nothing_of_an_earlier_trial() {
    let writes = visit("writes");
    // The probe really leaves state behind in its own trial...
    assert!(
        writes.cookies.iter().any(|c| c.name == "cg_probe"),
        "{:?}",
        writes.cookies
    );
    assert!(
        writes.local_storage.iter().any(|k| k.key == "cg-probe"),
        "{:?}",
        writes.local_storage
    );
    // ...and the next trial, in the same browser, finds none of it.
    let reads = visit("reads");
    assert!(reads.cookies.is_empty(), "{:?}", reads.cookies);
    let keys: Vec<&str> = reads.local_storage.iter().map(|k| k.key.as_str()).collect();
    assert!(keys.is_empty(), "the reading trial saw: {keys:?}");

    for capture in [&writes, &reads] {
        assert_eq!(
            capture.environment,
            Some(PageEnvironment {
                online: true,
                locale: "en-US".into(),
                time_zone: "UTC".into(),
                screen: "1280x720".into(),
                scale: 1.0,
                cores: 8,
            }),
            "whatever this machine's interfaces, LANG, TZ, screen and CPUs"
        );
        assert!(capture.held_queues.is_empty());
    }
}
