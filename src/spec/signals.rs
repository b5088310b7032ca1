//! Spec keys for the IAB signals a page gives vendors: the top-level `tcf:` (which TCF purposes
//! each Segment consent category stands for) and a state's `expect.tcf` (the purposes and special
//! features the TC string must signal). Kept apart from the other spec keys: they judge the TCF
//! signal, not Segment's behaviour.

use serde::{Deserialize, Serialize};

/// TCF v2.2 defines purposes 1 to 11 and special features 1 and 2.
pub const TCF_PURPOSES: std::ops::RangeInclusive<u8> = 1..=11;
pub const TCF_SPECIAL_FEATURES: std::ops::RangeInclusive<u8> = 1..=2;

/// `expect.tcf`: what the TC string the page gives vendors must signal after the state's steps.
/// Each list, when given, must equal the decoded one exactly (order and repeats do not matter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcfExpect {
    /// Purposes with the visitor's consent.
    pub consent: Option<Vec<u8>>,
    /// Purposes the CMP signals on legitimate interest (not objected to).
    pub legitimate_interest: Option<Vec<u8>>,
    /// Special features the visitor opted in to.
    pub special_features: Option<Vec<u8>>,
}

impl TcfExpect {
    /// Every (field, number) outside the range TCF v2.2 defines.
    pub fn out_of_range(&self) -> Vec<(&'static str, usize, u8)> {
        let mut bad = Vec::new();
        let lists = [
            ("consent", &self.consent, &TCF_PURPOSES),
            (
                "legitimate_interest",
                &self.legitimate_interest,
                &TCF_PURPOSES,
            ),
            (
                "special_features",
                &self.special_features,
                &TCF_SPECIAL_FEATURES,
            ),
        ];
        for (field, list, range) in lists {
            for (i, n) in list.iter().flatten().enumerate() {
                if !range.contains(n) {
                    bad.push((field, i, *n));
                }
            }
        }
        bad
    }
}
