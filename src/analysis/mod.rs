//! Layer 1, analysis: pure functions over a [`crate::capture::Capture`]. [`segment`] decodes the
//! Segment traffic, [`catalog`] names destinations, [`routing`] says which destination received
//! what, [`verdict`] judges it against the spec, [`privacy`] says what personal data is and keeps
//! it out of every artefact; [`analyse()`] runs them all once over one visit. Nothing here touches
//! the browser or writes files.

pub use analyse::{Analysis, analyse};

pub(crate) mod analyse;
pub(crate) mod catalog;
pub mod gpp;
pub mod privacy;
pub mod routing;
pub mod segment;
pub mod tcf;
pub mod verdict;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        // The same inputs every run (a red build names a change, not a draw).
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(20_261_202),
            ..ProptestConfig::default()
        })]
        // A page can hand over any string as its TC or GPP string: decoding never panics.
        #[test]
        fn any_string_decodes_or_errs(s in "\\PC{0,200}") {
            let _ = super::tcf::decode(&s);
            let _ = super::gpp::decode(&s);
        }

        #[test]
        fn any_tc_string_shape_decodes_or_errs(s in "[A-Za-z0-9_-]{0,300}(\\.[A-Za-z0-9_-]{0,40}){0,3}") {
            let _ = super::tcf::decode(&s);
        }

        #[test]
        fn any_gpp_string_shape_decodes_or_errs(s in "D[A-Za-z0-9_-]{0,20}(~[A-Za-z0-9_-]{0,30}(\\.[A-Za-z0-9_-]{0,8})?){0,4}") {
            let _ = super::gpp::decode(&s);
        }
    }
}
