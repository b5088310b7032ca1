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
    let expect = state.expect.tcf.as_ref();
    let mapped = !spec.tcf.is_empty() && !state.steps.is_empty();
    let raw = capture.tcf.as_deref();
    SIGNAL.judge(
        expect.is_some() || mapped,
        capture,
        raw,
        tcf::decode,
        |signal| {
            let mut out = Vec::new();
            if let Some(e) = expect {
                out.extend(SIGNAL.disagreement(against_expectation(e, &signal)));
            }
            if mapped {
                out.extend(stamp_against_signal(spec, decoded, &signal));
            }
            out
        },
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
    let (run, last) = super::final_stamp(decoded, false)?;
    let diffs: Vec<String> = spec
        .tcf
        .iter()
        .filter_map(|(cat, purposes)| {
            let missing: Vec<u8> = purposes
                .iter()
                .copied()
                .filter(|p| !signal.purposes_consent.contains(p))
                .collect();
            let signalled = missing.is_empty();
            SIGNAL.diff(cat, signalled, last.get(cat).copied(), || {
                if signalled {
                    format!("consent to all of purposes {purposes:?}")
                } else {
                    format!("no consent to purposes {missing:?}")
                }
            })
        })
        .collect();
    SIGNAL.stamp_mismatch(diffs, &run, false)
}

fn sorted(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
