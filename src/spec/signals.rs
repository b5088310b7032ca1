//! Spec keys for the IAB signals a page gives vendors: the top-level `tcf:` (which TCF purposes
//! each Segment consent category stands for) and a state's `expect.tcf` (the purposes and special
//! features the TC string must signal); the top-level `gpp:` (which GPP opt-outs switch a Segment
//! category off) and a state's `expect.gpp` (the sections and opt-outs the GPP string must
//! signal). Kept apart from the other spec keys: they judge the IAB signals, not Segment's
//! behaviour.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::VariantArray;

/// TCF v2.2 defines purposes 1 to 11 and special features 1 and 2.
pub(crate) const TCF_PURPOSES: std::ops::RangeInclusive<u8> = 1..=11;
pub(crate) const TCF_SPECIAL_FEATURES: std::ops::RangeInclusive<u8> = 1..=2;

/// `expect.tcf`: what the TC string the page gives vendors must signal after the state's steps.
/// Each list, when given, must equal the decoded one exactly (order and repeats do not matter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcfExpect {
    /// Purposes with the visitor's consent.
    pub(crate) consent: Option<Vec<u8>>,
    /// Purposes the CMP signals on legitimate interest (not objected to).
    pub(crate) legitimate_interest: Option<Vec<u8>>,
    /// Special features the visitor opted in to.
    pub(crate) special_features: Option<Vec<u8>>,
}

impl TcfExpect {
    /// Every (field, number) outside the range TCF v2.2 defines.
    pub(crate) fn out_of_range(&self) -> Vec<(&'static str, usize, u8)> {
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

// Both GPP enums: the spec word is the serde name (`crate::spec::Word`), and the declaration
// order is the order messages list them in. (Doc comments are the JSON Schema's descriptions.)

/// An opt-out the IAB GPP US sections signal (usnat `SaleOptOut`, `SharingOptOut`,
/// `TargetedAdvertisingOptOut`; usca has the first two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum GppOptOut {
    /// Sale of personal information (`SaleOptOut`).
    Sale,
    /// Sharing for cross-context behavioural advertising (`SharingOptOut`).
    Sharing,
    /// Targeted advertising (`TargetedAdvertisingOptOut`, usnat only).
    TargetedAdvertising,
}

impl GppOptOut {
    /// The IAB field that carries it.
    pub(crate) fn field(self) -> &'static str {
        match self {
            GppOptOut::Sale => "SaleOptOut",
            GppOptOut::Sharing => "SharingOptOut",
            GppOptOut::TargetedAdvertising => "TargetedAdvertisingOptOut",
        }
    }
}

/// The GPP sections consent-gates decodes and judges: US National (id 7) and California (id 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum GppSection {
    /// US National (section id 7).
    Usnat,
    /// California (section id 8).
    Usca,
}

/// `expect.gpp`: what the GPP string the page gives vendors must signal after the state's steps.
/// Each list, when given, must equal the decoded one exactly (order and repeats do not matter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GppExpect {
    /// The US sections (usnat, usca) the string must carry.
    pub(crate) sections: Option<Vec<GppSection>>,
    /// The opt-outs the string must signal (value 1) in every one of usnat and usca it carries that
    /// has the field; every opt-out not listed must not be signalled.
    pub(crate) opted_out: Option<Vec<GppOptOut>>,
}
