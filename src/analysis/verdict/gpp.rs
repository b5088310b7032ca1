//! The IAB GPP signal judged (`consent-mismatch`): a state's `expect.gpp` against the sections and
//! opt-outs the page's GPP string signals (usnat, usca), and Segment's consent stamp against the
//! spec's `gpp:` (a category is signalled as off when any section opts out of one of its
//! opt-outs, on otherwise). Both need the visit's end (the GPP string is read then), so an
//! interrupted visit is not judged here. Under `cpra` the same opt-outs also block the advertising
//! destinations (`regime.rs`), as GPC does.

use std::collections::BTreeSet;

use crate::analysis::gpp::{self, GppSignal};
use crate::analysis::segment::Decoded;
use crate::capture::Capture;
use crate::outcome::Failure;
use crate::spec::signals::{GppExpect, GppOptOut, GppSection};
use crate::spec::{Spec, State};

const SIGNAL: super::Signal = super::Signal {
    string: "GPP string",
    name: "GPP",
    api: "__gpp",
    command: "ping",
    expect_key: "expect.gpp",
    map_key: "gpp",
};

pub(super) fn judge(
    spec: &Spec,
    state: &State,
    capture: &Capture,
    decoded: &Decoded,
) -> Vec<Failure> {
    let expect = state.expect.gpp.as_ref();
    let mapped = !spec.gpp.is_empty();
    let raw = capture.gpp.as_deref();
    SIGNAL.judge(
        expect.is_some() || mapped,
        capture,
        raw,
        gpp::decode,
        |signal| {
            let mut out = Vec::new();
            if let Some(e) = expect {
                out.extend(SIGNAL.disagreement(against_expectation(e, &signal)));
            }
            if mapped && signal.us_sections().is_empty() {
                // No US section: the string says nothing about sale or sharing, not "no opt-out".
                out.push(super::consent_mismatch(format!(
                    "gpp: the GPP string carries neither usnat nor usca (sections: {}), so the \
                 opt-outs the stamp is judged against are missing",
                    names(signal.sections.iter().map(String::as_str))
                )));
            } else if mapped {
                out.extend(stamp_against_signal(spec, state, decoded, &signal));
            }
            out
        },
    )
}

/// `expect.gpp`: the US sections carried, and per section the opt-outs it has a field for.
fn against_expectation(e: &GppExpect, signal: &GppSignal) -> Vec<String> {
    let mut diffs = Vec::new();
    let carried = signal.us_sections();
    if let Some(want) = &e.sections {
        let want: BTreeSet<GppSection> = want.iter().copied().collect();
        let got: BTreeSet<GppSection> = carried.iter().copied().collect();
        if want != got {
            diffs.push(format!(
                "sections: expected {}, signalled {}",
                names(want.iter().map(|s| s.name())),
                names(got.iter().map(|s| s.name()))
            ));
        }
    }
    if let Some(want) = &e.opted_out {
        if carried.is_empty() {
            diffs.push(
                "opted_out: the string carries neither usnat nor usca, so it signals no opt-out"
                    .into(),
            );
        }
        let want: BTreeSet<GppOptOut> = want.iter().copied().collect();
        for section in carried {
            let has = |o: &GppOptOut| signal.opt_out(section, *o).is_some();
            let expected: Vec<&str> = want.iter().filter(|o| has(o)).map(|o| o.word()).collect();
            let got: Vec<&str> = GppOptOut::ALL
                .iter()
                .filter(|o| signal.opt_out(section, **o) == Some(1))
                .map(|o| o.word())
                .collect();
            if expected != got {
                diffs.push(format!(
                    "{}: opted out expected {}, signalled {}",
                    section.name(),
                    names(expected.into_iter()),
                    names(got.into_iter())
                ));
            }
        }
    }
    diffs
}

/// The final stamp (the run of identical stamps that ends the visit, as for the CMP's own choice
/// and TCF) against the categories the GPP string switches off.
fn stamp_against_signal(
    spec: &Spec,
    state: &State,
    decoded: &Decoded,
    signal: &GppSignal,
) -> Option<Failure> {
    let whole_visit = state.steps.is_empty();
    let (run, last) = super::final_stamp(decoded, whole_visit)?;
    let diffs: Vec<String> = spec
        .gpp
        .iter()
        .filter_map(|(cat, opt_outs)| {
            let signalled: Vec<String> = signal
                .opted_out()
                .into_iter()
                .filter(|(_, o)| opt_outs.contains(o))
                .map(|(s, o)| format!("{} {}", s.name(), o.field()))
                .collect();
            let on = signalled.is_empty();
            SIGNAL.diff(cat, on, last.get(cat).copied(), || {
                if on {
                    format!("no opt-out of {}", names(opt_outs.iter().map(|o| o.word())))
                } else {
                    format!("an opt-out ({})", signalled.join(", "))
                }
            })
        })
        .collect();
    SIGNAL.stamp_mismatch(diffs, &run, whole_visit)
}

/// `[usnat, usca]`.
fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}
