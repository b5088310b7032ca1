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
    // Long: one hand-made capture and its assertions, read together.
    #[test]
    fn segment_docs_table() {
        let deliver =
            |stamp: &ConsentStamp, integ: Value, fb: &[&str], ga: &[&str], amp: &[&str]| {
                let integ = map(integ);
                let mut out = Vec::new();
                for (name, c) in [("facebook", fb), ("google-ads", ga), ("amplitude", amp)] {
                    if cloud_delivers(stamp, &integ, name, &cats(c)) {
                        out.push(name);
                    }
                }
                out
            };
        let all = vec!["facebook", "google-ads", "amplitude"];
        let fb_false_amp = json!({"facebook": true, "amplitude": false});
        // Row 1: no or empty consent object, no integrations → all destinations.
        assert_eq!(
            deliver(
                &ConsentStamp::Absent,
                json!({}),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            all
        );
        assert_eq!(
            deliver(
                &ConsentStamp::NoPreferences,
                json!({}),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            all
        );
        // Row 2: empty categoryPreferences → no mapped destination, unmapped ones still.
        assert_eq!(
            deliver(&prefs(&[]), json!({}), &["ad"], &["ad"], &[]),
            vec!["amplitude"]
        );
        // Row 3: no consent, {facebook: true, amplitude: false} → facebook (and the unlisted google-ads).
        assert_eq!(
            deliver(
                &ConsentStamp::Absent,
                fb_false_amp.clone(),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            vec!["facebook", "google-ads"]
        );
        // Row 4 (categoryPreferences: {} variant): mapped destinations get nothing, unmapped ones
        // follow the integrations object. (The doc's `consent: {}` variant of this row contradicts
        // row 1; consent-gates follows row 1, see docs/segment.md §3.4.)
        assert_eq!(
            deliver(&prefs(&[]), fb_false_amp.clone(), &["ad"], &[], &[]),
            vec!["google-ads"]
        );
        let ad_only = prefs(&[("ad", true), ("analytics", false)]);
        // Row 5: categories unmapped in Segment → all destinations.
        assert_eq!(deliver(&ad_only, json!({}), &[], &[], &[]), all);
        // Row 6: ad = facebook, google-ads → both ad destinations, no analytics.
        assert_eq!(
            deliver(&ad_only, json!({}), &["ad"], &["ad"], &["analytics"]),
            vec!["facebook", "google-ads"]
        );
        // Row 7: + {facebook: true, amplitude: false} → facebook and google-ads.
        assert_eq!(
            deliver(
                &ad_only,
                fb_false_amp.clone(),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            vec!["facebook", "google-ads"]
        );
        // Row 8: {facebook: false, amplitude: false} → only google-ads.
        assert_eq!(
            deliver(
                &ad_only,
                json!({"facebook": false, "amplitude": false}),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            vec!["google-ads"]
        );
        // Row 9: facebook mapped to ad + analytics → only google-ads.
        assert_eq!(
            deliver(
                &ad_only,
                fb_false_amp.clone(),
                &["ad", "analytics"],
                &["ad"],
                &["analytics"]
            ),
            vec!["google-ads"]
        );
        // Row 10: {ad: true, analytics: true} → google-ads and facebook, not amplitude (integrations).
        assert_eq!(
            deliver(
                &prefs(&[("ad", true), ("analytics", true)]),
                fb_false_amp.clone(),
                &["ad", "analytics"],
                &["ad"],
                &["analytics"]
            ),
            vec!["facebook", "google-ads"]
        );
        // Row 11: {ad: false, analytics: true} → nothing.
        assert!(
            deliver(
                &prefs(&[("ad", false), ("analytics", true)]),
                fb_false_amp,
                &["ad", "analytics"],
                &["ad"],
                &["analytics"]
            )
            .is_empty()
        );
    }
}
