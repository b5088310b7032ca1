//! The IAB TCF signal judged (`consent-mismatch`): a state's `expect.tcf` against the purposes and
//! special features the page's TC string signals, and Segment's consent stamp against the purposes
//! each category stands for under the spec's `tcf:` (a category is signalled as accepted when
//! every one of its purposes has consent). Both need the visit's end (the TC string is read then),
//! so an interrupted visit is not judged here.

use crate::analysis::segment::Decoded;
use crate::analysis::tcf::{self, TcfSignal};
use crate::capture::Capture;
use crate::outcome::Failure;
use crate::spec::signals::TcfExpect;
use crate::spec::{Spec, State};

const SIGNAL: super::Signal = super::Signal {
    string: "TC string",
    name: "TCF",
    api: "__tcfapi",
    command: "getTCData",
    expect_key: "expect.tcf",
    map_key: "tcf",
};

pub(super) fn judge(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
) -> Vec<Failure> {
    let expected = state.expect.tcf.as_ref();
    let mapped = !spec.tcf.is_empty() && !state.steps.is_empty();
    SIGNAL.judge(
        capture,
        capture.tcf.as_deref(),
        tcf::decode,
        expected.map(|e| move |signal: &TcfSignal| against_expectation(e, signal)),
        mapped.then_some(|signal: &TcfSignal| stamp_against_signal(spec, decoded, signal)),
    )
}

/// `expect.tcf`: each list given against the one the TC string signals.
fn against_expectation(e: &TcfExpect, signal: &TcfSignal) -> Vec<String> {
    [
        ("consent", &e.consent, &signal.purposes_consent),
        (
            "legitimate_interest",
            &e.legitimate_interest,
            &signal.purposes_legitimate_interest,
        ),
        (
            "special_features",
            &e.special_features,
            &signal.special_features,
        ),
    ]
    .into_iter()
    .filter_map(|(field, want, got)| {
        let want = sorted(want.as_ref()?);
        (want != *got).then(|| format!("{field}: expected {want:?}, signalled {got:?}"))
    })
    .collect()
}

/// The final stamp (the run of identical stamps that ends the visit, as for the CMP's own choice)
/// against the categories the TC string signals.
fn stamp_against_signal(spec: &Spec, decoded: &Decoded, signal: &TcfSignal) -> Option<Failure> {
    SIGNAL.stamp_against(decoded, false, &spec.tcf, |purposes| {
        let missing: Vec<u8> = purposes
            .iter()
            .copied()
            .filter(|p| !signal.purposes_consent.contains(p))
            .collect();
        if missing.is_empty() {
            (true, format!("consent to all of purposes {purposes:?}"))
        } else {
            (false, format!("no consent to purposes {missing:?}"))
        }
    })
}

fn sorted(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
