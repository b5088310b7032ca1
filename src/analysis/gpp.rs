//! IAB GPP strings, decoded with the `iab_gpp` crate: what the page signalled to vendors in the US
//! National (`usnat`, section 7) and California (`usca`, section 8) sections, for the snapshot and
//! for judging (`verdict::gpp`, and the `cpra` regime's opt-out default in `verdict::regime`).
//! Other sections are named, not decoded.

use std::str::FromStr;

use iab_gpp::sections::us_common::{Consent, MspaMode, Notice, OptOut};
use iab_gpp::sections::{SectionId, usca, usnat};
use iab_gpp::v1::GPPString;
use indexmap::IndexMap;
use num_traits::ToPrimitive;
use serde::Serialize;

use strum::VariantArray;

use crate::spec::Word;
use crate::spec::signals::{GppOptOut, GppSection};

/// What a GPP string says: its sections, and usnat and usca field by field (the IAB's field
/// names, each value as its number and meaning, e.g. `SaleOptOut: 1 (opted out)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GppSignal {
    /// Every section the string carries, by the IAB's name, in the string's order.
    pub(crate) sections: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usnat: Option<IndexMap<&'static str, FieldValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usca: Option<IndexMap<&'static str, FieldValue>>,
    /// The raw opt-out values (0 not applicable, 1 opted out, 2 did not opt out) per section,
    /// for judging, usnat's then usca's, each in [`GppOptOut`]'s order; a section without the
    /// field (usca has no targeted advertising) has no entry.
    #[serde(skip)]
    opt_outs: Vec<(GppSection, GppOptOut, u8)>,
}

/// One field's value as the snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A 2-bit field: its number and what it means (`1 (opted out)`).
    Coded(String),
    /// A list of 2-bit values (sensitive data categories, known-child consents) on one line
    /// (`[0, 0, 2]`), so that a change shows as one changed line of the snapshot.
    List(String),
    Number(u8),
    Flag(bool),
}

fn list(values: Vec<u8>) -> FieldValue {
    FieldValue::List(format!("{values:?}"))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the GPP string does not decode: {0}")]
pub struct GppError(String);

/// The value that means "opted out" in a GPP opt-out field.
const OPTED_OUT: u8 = 1;

impl GppSignal {
    /// The sections of usnat and usca this string carries.
    pub(crate) fn us_sections(&self) -> Vec<GppSection> {
        GppSection::VARIANTS
            .iter()
            .copied()
            .filter(|s| match s {
                GppSection::Usnat => self.usnat.is_some(),
                GppSection::Usca => self.usca.is_some(),
            })
            .collect()
    }

    /// The raw value of `opt_out` in `section` (`None`: no such section or field).
    pub(crate) fn opt_out(&self, section: GppSection, opt_out: GppOptOut) -> Option<u8> {
        self.opt_outs
            .iter()
            .find(|(s, o, _)| (*s, *o) == (section, opt_out))
            .map(|(_, _, v)| *v)
    }

    /// Every (section, opt-out) signalled as opted out (value 1), in a fixed order.
    pub fn opted_out(&self) -> Vec<(GppSection, GppOptOut)> {
        self.opt_outs
            .iter()
            .filter(|(_, _, v)| *v == OPTED_OUT)
            .map(|(s, o, _)| (*s, *o))
            .collect()
    }

    /// `usnat SaleOptOut, usca SharingOptOut`: the opt-outs signalled, for messages.
    pub(crate) fn describe_opted_out(&self) -> String {
        self.opted_out()
            .iter()
            .map(|(s, o)| format!("{} {}", s.word(), o.field()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Decodes `gpp`. The header must parse; usnat and usca, when present, must decode too (a section
/// that does not is an error: what it signals cannot be judged). Other sections are only named.
///
/// A page can hand over any string, and `iab_gpp` 0.1.2 adds Fibonacci-coded numbers without an
/// overflow check (the header's section ids: `DB0AA3WAS` panics in a debug build), so a panic
/// inside the crate is caught and becomes an error rather than ending the trial.
pub fn decode(gpp: &str) -> Result<GppSignal, GppError> {
    std::panic::catch_unwind(|| decode_unguarded(gpp)).unwrap_or_else(|_| {
        Err(GppError(
            "the decoder gave up on it (a number in it overflows)".into(),
        ))
    })
}

fn decode_unguarded(gpp: &str) -> Result<GppSignal, GppError> {
    let s = GPPString::from_str(gpp).map_err(|e| GppError(e.to_string()))?;
    let mut out = GppSignal {
        // strum's Display names the ids as the IAB does, in another case (`UsNat` → `usnat`).
        sections: s
            .section_ids()
            .map(|id| id.to_string().to_lowercase())
            .collect(),
        ..Default::default()
    };
    if s.section(SectionId::UsNat).is_some() {
        let section = s
            .decode::<usnat::UsNat>()
            .map_err(|e| GppError(format!("usnat: {e}")))?;
        out.usnat = Some(us_nat(&section, &mut out.opt_outs)?);
    }
    if s.section(SectionId::UsCa).is_some() {
        let section = s
            .decode::<usca::UsCa>()
            .map_err(|e| GppError(format!("usca: {e}")))?;
        out.usca = Some(us_ca(&section, &mut out.opt_outs));
    }
    Ok(out)
}

type Fields = IndexMap<&'static str, FieldValue>;

/// The fields usnat and usca both end with: the sensitive-data and known-child lists (`sensitive`,
/// `child`: their values), personal-data consent and the MSPA fields.
macro_rules! us_tail {
    ($f:expr, $c:expr, $sensitive:expr, $child:expr) => {
        $f.insert("SensitiveDataProcessing", list($sensitive.to_vec()));
        $f.insert("KnownChildSensitiveDataConsents", list($child.to_vec()));
        $f.insert("PersonalDataConsents", consent(&$c.personal_data_consent));
        $f.insert(
            "MspaCoveredTransaction",
            covered($c.mspa_covered_transaction),
        );
        $f.insert("MspaOptOutOptionMode", mspa(&$c.mspa_opt_out_option_mode));
        $f.insert(
            "MspaServiceProviderMode",
            mspa(&$c.mspa_service_provider_mode),
        );
    };
}

/// usnat's core fields. Versions 1 and 2 differ only in their lists: version 2 calls
/// `financial_data` `financial_account_data` and adds four sensitive-data categories, and has
/// three known-child consents where version 1 has two.
macro_rules! usnat_core {
    (
        $c:expr, $version:expr, $opt_outs:expr,
        financial: $financial:ident, more: [$($more:ident),*], child: [$($child:ident),*]
    ) => {{
        let c = $c;
        let mut f = Fields::new();
        f.insert("Version", FieldValue::Number($version));
        f.insert("SharingNotice", notice(&c.sharing_notice));
        f.insert("SaleOptOutNotice", notice(&c.sale_opt_out_notice));
        f.insert("SharingOptOutNotice", notice(&c.sharing_opt_out_notice));
        f.insert(
            "TargetedAdvertisingOptOutNotice",
            notice(&c.targeted_advertising_opt_out_notice),
        );
        f.insert(
            "SensitiveDataProcessingOptOutNotice",
            notice(&c.sensitive_data_processing_opt_out_notice),
        );
        f.insert(
            "SensitiveDataLimitUseNotice",
            notice(&c.sensitive_data_limit_use_notice),
        );
        let values = [
            (GppOptOut::Sale, &c.sale_opt_out),
            (GppOptOut::Sharing, &c.sharing_opt_out),
            (GppOptOut::TargetedAdvertising, &c.targeted_advertising_opt_out),
        ];
        insert_opt_outs(&mut f, $opt_outs, GppSection::Usnat, &values);
        let d = &c.sensitive_data_processing;
        let sensitive = [
            &d.racial_or_ethnic_origin,
            &d.religious_or_philosophical_beliefs,
            &d.health_data,
            &d.sex_life_or_sexual_orientation,
            &d.citizenship_or_immigration_status,
            &d.genetic_unique_identification,
            &d.biometric_unique_identification,
            &d.precise_geolocation_data,
            &d.identification_documents,
            &d.$financial,
            &d.union_membership,
            &d.mail_email_or_text_messages,
            $(&d.$more,)*
        ]
        .map(value);
        let k = &c.known_child_sensitive_data_consents;
        let child = [$(&k.$child),*].map(value);
        us_tail!(f, c, sensitive, child);
        f
    }};
}

/// A section's opt-out fields, for the snapshot (`f`) and for judging (`opt_outs`).
fn insert_opt_outs(
    f: &mut Fields,
    opt_outs: &mut Vec<(GppSection, GppOptOut, u8)>,
    section: GppSection,
    values: &[(GppOptOut, &OptOut)],
) {
    for &(o, v) in values {
        opt_outs.push((section, o, value(v)));
        f.insert(o.field(), opt_out(v));
    }
}

fn us_nat(
    s: &usnat::UsNat,
    opt_outs: &mut Vec<(GppSection, GppOptOut, u8)>,
) -> Result<Fields, GppError> {
    let mut f = match &s.core {
        usnat::Core::V1(c) => usnat_core!(
            c, 1, opt_outs,
            financial: financial_data, more: [], child: [from_13_to_16, under_13]
        ),
        usnat::Core::V2(c) => usnat_core!(
            c, 2, opt_outs,
            financial: financial_account_data,
            more: [
                general_health_data,
                crime_victim_status,
                national_origin,
                transgender_or_nonbinary_status
            ],
            child: [
                process_sensitive_data_from_13_to_16,
                process_sensitive_data_under_13,
                process_personal_data_from_16_to_17
            ]
        ),
        // The crate's enum may grow: a version it decodes that this code does not know.
        #[allow(unreachable_patterns)]
        _ => return Err(GppError("usnat: an unknown core version".into())),
    };
    if let Some(g) = s.gpc {
        f.insert("Gpc", FieldValue::Flag(g));
    }
    Ok(f)
}

fn us_ca(s: &usca::UsCa, opt_outs: &mut Vec<(GppSection, GppOptOut, u8)>) -> Fields {
    let c = &s.core;
    let mut f = Fields::new();
    f.insert("Version", FieldValue::Number(1));
    f.insert("SaleOptOutNotice", notice(&c.sale_opt_out_notice));
    f.insert("SharingOptOutNotice", notice(&c.sharing_opt_out_notice));
    f.insert(
        "SensitiveDataLimitUseNotice",
        notice(&c.sensitive_data_limit_use_notice),
    );
    let values = [
        (GppOptOut::Sale, &c.sale_opt_out),
        (GppOptOut::Sharing, &c.sharing_opt_out),
    ];
    insert_opt_outs(&mut f, opt_outs, GppSection::Usca, &values);
    let d = &c.sensitive_data_processing;
    let sensitive = [
        &d.identification_documents,
        &d.financial_data,
        &d.precise_geolocation,
        &d.origin_beliefs_or_union,
        &d.mail_email_or_text_messages,
        &d.genetic_data,
        &d.biometric_unique_identification,
        &d.health_data,
        &d.sex_life_or_sexual_orientation,
    ]
    .map(value);
    let k = &c.known_child_sensitive_data_consents;
    let child = [&k.sell_personal_information, &k.share_personal_information].map(value);
    us_tail!(f, c, sensitive, child);
    if let Some(g) = s.gpc {
        f.insert("Gpc", FieldValue::Flag(g));
    }
    f
}

fn coded(n: u8, meaning: &str) -> FieldValue {
    FieldValue::Coded(format!("{n} ({meaning})"))
}

/// A 2-bit field (0 is always "not applicable") as the snapshot shows it, with what each value
/// means: `1 (opted out)`.
fn two_bit(field: &impl ToPrimitive, meanings: [&str; 3]) -> FieldValue {
    let n = value(field);
    coded(n, meanings[usize::from(n)])
}

/// A 2-bit field's value: 0, 1 or 2.
fn value(field: &impl ToPrimitive) -> u8 {
    field.to_u8().unwrap_or(0)
}

fn notice(n: &Notice) -> FieldValue {
    two_bit(n, ["not applicable", "provided", "not provided"])
}

fn opt_out(o: &OptOut) -> FieldValue {
    two_bit(o, ["not applicable", "opted out", "did not opt out"])
}

fn consent(c: &Consent) -> FieldValue {
    two_bit(c, ["not applicable", "no consent", "consent"])
}

fn mspa(m: &MspaMode) -> FieldValue {
    two_bit(m, ["not applicable", "yes", "no"])
}

fn covered(yes: bool) -> FieldValue {
    if yes { coded(1, "yes") } else { coded(2, "no") }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Encoded by @iabgpp/cmpapi 3.2.0 (the fixture CMP's fields): notices provided, sale, sharing
    // and targeted advertising opted out (1) in usnat v2 and usca, Gpc true; and the same with no
    // opt-out (2), Gpc false.
    const OPTED_OUT_ALL: &str = "DBABrw~CVQVAAAAAACA.YA~BUUAAACA.YA";
    const NO_OPT_OUT: &str = "DBABrw~CVQqAAAAAACA.QA~BUoAAACA.QA";

    #[test]
    fn decodes_usnat_and_usca_field_by_field() {
        let s = decode(OPTED_OUT_ALL).expect("decodes");
        assert_eq!(s.sections, vec!["usnat", "usca"]);
        let nat = s.usnat.as_ref().expect("usnat");
        assert_eq!(nat["Version"], FieldValue::Number(2));
        assert_eq!(nat["SaleOptOut"], coded(1, "opted out"));
        assert_eq!(nat["TargetedAdvertisingOptOut"], coded(1, "opted out"));
        assert_eq!(nat["SaleOptOutNotice"], coded(1, "provided"));
        assert_eq!(nat["MspaCoveredTransaction"], coded(2, "no"));
        assert_eq!(nat["SensitiveDataProcessing"], list(vec![0; 16]));
        assert_eq!(nat["Gpc"], FieldValue::Flag(true));
        let ca = s.usca.as_ref().expect("usca");
        assert_eq!(ca["SharingOptOut"], coded(1, "opted out"));
        assert!(!ca.contains_key("TargetedAdvertisingOptOut"));
        assert_eq!(s.us_sections(), vec![GppSection::Usnat, GppSection::Usca]);
        assert_eq!(s.opted_out().len(), 5, "{:?}", s.opted_out());
        assert_eq!(
            s.describe_opted_out(),
            "usnat SaleOptOut, usnat SharingOptOut, usnat TargetedAdvertisingOptOut, \
             usca SaleOptOut, usca SharingOptOut"
        );
        assert_eq!(
            s.opt_out(GppSection::Usca, GppOptOut::TargetedAdvertising),
            None
        );

        let none = decode(NO_OPT_OUT).expect("decodes");
        assert!(none.opted_out().is_empty());
        assert_eq!(none.opt_out(GppSection::Usnat, GppOptOut::Sale), Some(2));
    }

    #[test]
    fn other_sections_are_named_only() {
        // The crate's own example: tcfeuv2 and uspv1.
        let s =
            decode("DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN").expect("decodes");
        assert_eq!(s.sections, vec!["tcfeuv2", "uspv1"]);
        assert!(s.usnat.is_none() && s.usca.is_none());
        assert!(s.opted_out().is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode("not a gpp string!").is_err());
        assert!(decode("").is_err());
        // A header naming usnat over a section that does not decode.
        assert!(decode("DBABrw~123~BUUAAACA.YA").is_err());
        // Found by the decoding properties (`analysis::tests`): the crate's header decoding
        // overflows (a panic in a debug build, caught).
        assert!(decode("DB0AA3WAS").is_err());
    }
}
