//! The IAB TCF signal judged (`consent-mismatch`): a state's `expect.tcf` against the purposes and
//! special features the page's TC string signals, and Segment's consent stamp against the purposes
//! each category stands for under the spec's `tcf:` (a category is signalled as accepted when
//! every one of its purposes has consent). Both need the visit's end (the TC string is read then),
//! so an interrupted visit is not judged here.

use crate::analysis::segment::Decoded;
use crate::analysis::tcf::{self, TcfSignal};
use crate::capture::Capture;
use crate::outcome::Failure;
use crate::spec::{Spec, State};

pub(super) fn judge(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
) -> Vec<Failure> {
    let expect = state.expect.tcf.as_ref();
    let mapped = !spec.tcf.is_empty() && !state.steps.is_empty();
    if (expect.is_none() && !mapped) || capture.interrupted {
        return Vec::new();
    }
    let signal = match capture.tcf.as_deref().map(tcf::decode) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return vec![super::consent_mismatch(format!("expect.tcf / tcf: {e}"))],
        None => {
            return vec![super::consent_mismatch(
                "the page gave vendors no TC string (no `__tcfapi`, or `getTCData` did not answer \
                 with one), so the TCF signal the spec judges is missing"
                    .into(),
            )];
        }
    };
    let mut out = Vec::new();
    if let Some(e) = expect {
        let diffs: Vec<String> = [
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
        .collect();
        if !diffs.is_empty() {
            out.push(super::consent_mismatch(format!(
                "the TC string disagrees with expect.tcf ({})",
                diffs.join("; ")
            )));
        }
    }
    if mapped {
        out.extend(stamp_against_signal(spec, decoded, &signal));
    }
    out
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
            super::signal_diff("TC string", cat, signalled, last.get(cat).copied(), || {
                if signalled {
                    format!("consent to all of purposes {purposes:?}")
                } else {
                    format!("no consent to purposes {missing:?}")
                }
            })
        })
        .collect();
    super::signal_mismatch("TC string", diffs, &run, false)
}

fn sorted(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
