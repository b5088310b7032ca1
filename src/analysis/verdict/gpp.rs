//! The IAB GPP signal judged (`consent-mismatch`): a state's `expect.gpp` against the sections and
//! opt-outs the page's GPP string signals (usnat, usca), and Segment's consent stamp against the
//! spec's `gpp:` (a category is signalled as off when any section opts out of one of its
//! opt-outs, on otherwise). Both need the visit's end (the GPP string is read then), so an
//! interrupted visit is not judged here. Under `cpra` the same opt-outs also block the advertising
//! destinations (`regime.rs`), as GPC does.

use crate::analysis::gpp::{self, GppSignal};
use crate::analysis::segment::Decoded;
use crate::capture::Capture;
use crate::outcome::Failure;
use strum::VariantArray;

use crate::spec::Word;
use crate::spec::signals::{GppExpect, GppOptOut};
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
    let expected = state.expect.gpp.as_ref();
    let mapped = !spec.gpp.is_empty();
    SIGNAL.judge(
        capture,
        capture.gpp.as_deref(),
        gpp::decode,
        expected.map(|e| move |signal: &GppSignal| against_expectation(e, signal)),
        mapped.then_some(|signal: &GppSignal| {
            if signal.us_sections().is_empty() {
                // No US section: the string says nothing about sale or sharing, not "no opt-out".
                return Some(super::consent_mismatch(format!(
                    "gpp: the GPP string carries neither usnat nor usca (sections: {}), so the \
                     opt-outs the stamp is judged against are missing",
                    names(signal.sections.iter().cloned())
                )));
            }
            stamp_against_signal(spec, state, decoded, signal)
        }),
    )
}

/// `expect.gpp`: the US sections carried, and per section the opt-outs it has a field for. Both
/// are listed in declaration order, each once, whatever order the spec wrote them in.
fn against_expectation(e: &GppExpect, signal: &GppSignal) -> Vec<String> {
    let mut diffs = Vec::new();
    let carried = signal.us_sections();
    if let Some(want) = &e.sections {
        let want = in_order(|s| want.contains(s));
        if want != carried {
            diffs.push(format!(
                "sections: expected {}, signalled {}",
                words(&want),
                words(&carried)
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
        for section in carried {
            let has = |o: &GppOptOut| signal.opt_out(section, *o).is_some();
            let expected = in_order(|o| want.contains(o) && has(o));
            let got = in_order(|o| signal.opt_out(section, *o) == Some(1));
            if expected != got {
                diffs.push(format!(
                    "{}: opted out expected {}, signalled {}",
                    section.word(),
                    words(&expected),
                    words(&got)
                ));
            }
        }
    }
    diffs
}

/// The values of a closed set that `keep` keeps, in declaration order.
fn in_order<T: Copy + VariantArray>(keep: impl Fn(&T) -> bool) -> Vec<T> {
    T::VARIANTS.iter().copied().filter(|v| keep(v)).collect()
}

/// The final stamp (the run of identical stamps that ends the visit, as for the CMP's own choice
/// and TCF) against the categories the GPP string switches off.
fn stamp_against_signal(
    spec: &Spec,
    state: &State,
    decoded: &Decoded,
    signal: &GppSignal,
) -> Option<Failure> {
    SIGNAL.stamp_against(decoded, state.steps.is_empty(), &spec.gpp, |opt_outs| {
        let signalled: Vec<String> = signal
            .opted_out()
            .into_iter()
            .filter(|(_, o)| opt_outs.contains(o))
            .map(|(s, o)| format!("{} {}", s.word(), o.field()))
            .collect();
        if signalled.is_empty() {
            (true, format!("no opt-out of {}", words(opt_outs)))
        } else {
            (false, format!("an opt-out ({})", signalled.join(", ")))
        }
    })
}

/// `[usnat, usca]`.
fn names(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// `[sale, sharing]`: spec words.
fn words(items: &[impl Word]) -> String {
    names(items.iter().map(|i| i.word()))
}
