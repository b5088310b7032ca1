//! Segment's server-side delivery rules for cloud-mode destinations: the consent stamp, then the
//! `integrations` object (Segment's "Consent in Segment Connections" documentation).

use serde_json::{Map, Value};

use crate::analysis::segment::decode::ConsentStamp;

/// Whether Segment's servers deliver an event with this stamp and `integrations` object to the
/// destination `name` mapped to `categories` (docs/segment.md §3.4):
/// - no consent object, or one without `categoryPreferences` → consent does not filter;
/// - no categories (unmapped) → every event;
/// - otherwise every category must be `true` (missing = false; `{}` = all false);
/// - then the `integrations` object: `<name>: false` disables, `All: false` disables unless
///   `<name>` is `true` or an object.
pub fn cloud_delivers(
    stamp: &ConsentStamp,
    integrations: &Map<String, Value>,
    name: &str,
    categories: &[String],
) -> bool {
    cloud_delivers_any(stamp, integrations, &[name], categories)
}

/// [`cloud_delivers`] for a destination known by several names (the first `integrations` key
/// found, in `names` order, decides).
pub fn cloud_delivers_any(
    stamp: &ConsentStamp,
    integrations: &Map<String, Value>,
    names: &[&str],
    categories: &[String],
) -> bool {
    consent_allows(stamp, categories) && integrations_allow(integrations, names)
}

fn consent_allows(stamp: &ConsentStamp, categories: &[String]) -> bool {
    match stamp {
        ConsentStamp::Absent | ConsentStamp::NoPreferences => true,
        ConsentStamp::Preferences(prefs) => categories
            .iter()
            .all(|c| prefs.get(c).copied().unwrap_or(false)),
    }
}

fn integration_enabled(v: &Value) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        // An options object (or any other value) enables the destination.
        _ => Some(true),
    }
}

fn integrations_allow(integrations: &Map<String, Value>, names: &[&str]) -> bool {
    names
        .iter()
        .find_map(|n| integrations.get(*n).and_then(integration_enabled))
        .or_else(|| integrations.get("All").and_then(integration_enabled))
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prefs(pairs: &[(&str, bool)]) -> ConsentStamp {
        ConsentStamp::Preferences(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn cats(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn consent_rules() {
        let none = Map::new();
        let ad = cats(&["ad"]);
        // No consent object / consent without categoryPreferences: every destination.
        assert!(cloud_delivers(&ConsentStamp::Absent, &none, "FB", &ad));
        assert!(cloud_delivers(
            &ConsentStamp::NoPreferences,
            &none,
            "FB",
            &ad
        ));
        // Unmapped destination: every stamped event, even with everything denied.
        assert!(cloud_delivers(&prefs(&[("ad", false)]), &none, "FB", &[]));
        assert!(cloud_delivers(&prefs(&[]), &none, "FB", &[]));
        // Mapped: the category must be true; missing = false; {} = all false.
        assert!(cloud_delivers(&prefs(&[("ad", true)]), &none, "FB", &ad));
        assert!(!cloud_delivers(&prefs(&[("ad", false)]), &none, "FB", &ad));
        assert!(!cloud_delivers(
            &prefs(&[("analytics", true)]),
            &none,
            "FB",
            &ad
        ));
        assert!(!cloud_delivers(&prefs(&[]), &none, "FB", &ad));
        // Several categories: all must be true.
        let two = cats(&["ad", "analytics"]);
        assert!(cloud_delivers(
            &prefs(&[("ad", true), ("analytics", true)]),
            &none,
            "FB",
            &two
        ));
        assert!(!cloud_delivers(
            &prefs(&[("ad", true), ("analytics", false)]),
            &none,
            "FB",
            &two
        ));
    }

    #[test]
    fn integrations_rules() {
        let s = ConsentStamp::Absent;
        assert!(!cloud_delivers(&s, &map(json!({"FB": false})), "FB", &[]));
        assert!(cloud_delivers(&s, &map(json!({"Other": false})), "FB", &[]));
        assert!(!cloud_delivers(&s, &map(json!({"All": false})), "FB", &[]));
        assert!(cloud_delivers(
            &s,
            &map(json!({"All": false, "FB": true})),
            "FB",
            &[]
        ));
        assert!(cloud_delivers(
            &s,
            &map(json!({"All": false, "FB": {"opt": 1}})),
            "FB",
            &[]
        ));
        assert!(!cloud_delivers(
            &s,
            &map(json!({"All": true, "FB": false})),
            "FB",
            &[]
        ));
        assert!(cloud_delivers(&s, &map(json!({"FB": null})), "FB", &[]));
        // Keys are case-sensitive.
        assert!(cloud_delivers(&s, &map(json!({"fb": false})), "FB", &[]));
        // Consent first: the integrations object cannot re-enable a denied category.
        assert!(!cloud_delivers(
            &prefs(&[("ad", false)]),
            &map(json!({"FB": true})),
            "FB",
            &cats(&["ad"])
        ));
        // Aliases: the first key found decides.
        assert!(!cloud_delivers_any(
            &s,
            &map(json!({"Amplitude (Actions)": false})),
            &["Actions Amplitude", "Amplitude (Actions)"],
            &[]
        ));
    }

    /// docs/segment.md §3.4, the table in segment-docs
    /// `privacy/consent-management/consent-in-segment-connections.md` ("Reconcile consent object and
    /// integrations object conflicts"). Destinations: facebook, google-ads (ad), amplitude.
    #[test]
    fn segment_docs_table() {
        // Each destination's categories in Segment: facebook, google-ads, amplitude.
        type Mapping = [&'static [&'static str]; 3];
        const USUAL: Mapping = [&["ad"], &["ad"], &["analytics"]];
        const FB_BOTH: Mapping = [&["ad", "analytics"], &["ad"], &["analytics"]];
        let deliver = |stamp: &ConsentStamp, integ: Value, mapping: Mapping| {
            let integ = map(integ);
            let names = ["facebook", "google-ads", "amplitude"];
            names
                .into_iter()
                .zip(mapping)
                .filter(|(name, c)| cloud_delivers(stamp, &integ, name, &cats(c)))
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        };
        let all = vec!["facebook", "google-ads", "amplitude"];
        let fb_false_amp = json!({"facebook": true, "amplitude": false});
        // Row 1: no or empty consent object, no integrations → all destinations.
        assert_eq!(deliver(&ConsentStamp::Absent, json!({}), USUAL), all);
        assert_eq!(deliver(&ConsentStamp::NoPreferences, json!({}), USUAL), all);
        // Row 2: empty categoryPreferences → no mapped destination, unmapped ones still.
        let amplitude_unmapped: Mapping = [&["ad"], &["ad"], &[]];
        assert_eq!(
            deliver(&prefs(&[]), json!({}), amplitude_unmapped),
            ["amplitude"]
        );
        // Row 3: no consent, {facebook: true, amplitude: false} → facebook (and the unlisted google-ads).
        let fb_and_ga = ["facebook", "google-ads"];
        assert_eq!(
            deliver(&ConsentStamp::Absent, fb_false_amp.clone(), USUAL),
            fb_and_ga
        );
        // Row 4 (categoryPreferences: {} variant): mapped destinations get nothing, unmapped ones
        // follow the integrations object. (The doc's `consent: {}` variant of this row contradicts
        // row 1; consent-gates follows row 1, see docs/segment.md §3.4.)
        let fb_only_mapped: Mapping = [&["ad"], &[], &[]];
        assert_eq!(
            deliver(&prefs(&[]), fb_false_amp.clone(), fb_only_mapped),
            ["google-ads"]
        );
        let ad_only = prefs(&[("ad", true), ("analytics", false)]);
        // Row 5: categories unmapped in Segment → all destinations.
        assert_eq!(deliver(&ad_only, json!({}), [&[], &[], &[]]), all);
        // Row 6: ad = facebook, google-ads → both ad destinations, no analytics.
        assert_eq!(deliver(&ad_only, json!({}), USUAL), fb_and_ga);
        // Row 7: + {facebook: true, amplitude: false} → facebook and google-ads.
        assert_eq!(deliver(&ad_only, fb_false_amp.clone(), USUAL), fb_and_ga);
        // Row 8: {facebook: false, amplitude: false} → only google-ads.
        let both_false = json!({"facebook": false, "amplitude": false});
        assert_eq!(deliver(&ad_only, both_false, USUAL), ["google-ads"]);
        // Row 9: facebook mapped to ad + analytics → only google-ads.
        assert_eq!(
            deliver(&ad_only, fb_false_amp.clone(), FB_BOTH),
            ["google-ads"]
        );
        // Row 10: {ad: true, analytics: true} → google-ads and facebook, not amplitude (integrations).
        let both = prefs(&[("ad", true), ("analytics", true)]);
        assert_eq!(deliver(&both, fb_false_amp.clone(), FB_BOTH), fb_and_ga);
        // Row 11: {ad: false, analytics: true} → nothing.
        let analytics_only = prefs(&[("ad", false), ("analytics", true)]);
        assert!(deliver(&analytics_only, fb_false_amp, FB_BOTH).is_empty());
    }
}
