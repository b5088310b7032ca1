//! IAB TCF v2 TC strings, decoded with the `lib_tcstring` crate: what the page signalled to
//! vendors, for the snapshot and for judging the Segment stamp against it (`verdict::tcf`).

use serde::Serialize;

/// What a TC string's core segment says (the fields consent-gates judges or shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TcfSignal {
    pub cmp_id: u16,
    /// Purposes with the visitor's consent.
    pub purposes_consent: Vec<u8>,
    /// Purposes the CMP signals on legitimate interest.
    pub purposes_legitimate_interest: Vec<u8>,
    /// Special features the visitor opted in to.
    pub special_features: Vec<u8>,
    /// Vendors with consent, and on legitimate interest.
    pub(crate) vendors_consent: Vec<u16>,
    pub(crate) vendors_legitimate_interest: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the TC string does not decode: {0}")]
pub struct TcfError(String);

/// Decodes `tc` (a TC string, its timestamps possibly zeroed). Lists are sorted and deduplicated.
pub fn decode(tc: &str) -> Result<TcfSignal, TcfError> {
    let m = lib_tcstring::TcModelV2::try_from(tc).map_err(|e| TcfError(e.to_string()))?;
    Ok(TcfSignal {
        cmp_id: m.cmp_id,
        purposes_consent: sorted(m.purposes_consent),
        purposes_legitimate_interest: sorted(m.purposes_li_transparency),
        special_features: sorted(m.special_feature_opt_ins),
        vendors_consent: sorted(m.vendors_consent),
        vendors_legitimate_interest: sorted(m.vendors_li_consent),
    })
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_purposes_and_special_features() {
        // The Sourcepoint imitation's accept-all string: CMP 6, purposes 1-10 with consent.
        let s = decode("CP1R2oAP1R2oAAGABBENBkEgAP_AAAAAADLIAAAAAAAA").expect("decodes");
        assert_eq!(s.cmp_id, 6);
        assert_eq!(s.purposes_consent, (1..=10).collect::<Vec<u8>>());
        let none = decode("CP1R2oAP1R2oAAGABBENBkEgAAAAAAAAADLIAAAAAAAA").expect("decodes");
        assert!(none.purposes_consent.is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode("not a tc string!").is_err());
        assert!(decode("").is_err());
    }
}
