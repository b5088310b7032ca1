//! Consent-exempt destinations (`destinations.<name>.exempt: <reason>`): a destination the site
//! runs without consent on purpose (fraud prevention, security, a strictly necessary service).
//! Segment lets a destination run unmapped (docs/segment.md §3.3: no categories → every event);
//! the spec says so with a reason instead of inventing a category. Such a destination is judged
//! as always allowed: never blocked (by the spec, a regime default or `blocked: all`) and never
//! `ungated-destination`. Exempting one the catalog classes as advertising still warns: consent
//! law rarely treats advertising as strictly necessary.

use crate::analysis::catalog::Catalog;
use crate::analysis::routing::{CategorySource, Resolves};
use crate::spec::Spec;

/// Whether the spec declares `name` as needing no consent.
pub fn is_exempt(spec: &Spec, name: &str) -> bool {
    spec.destinations
        .get(name)
        .is_some_and(|d| d.exempt.is_some())
}

/// Each exempt destination with its reason, in spec order.
pub(crate) fn exempted(spec: &Spec) -> Vec<(String, String)> {
    spec.destinations
        .iter()
        .filter_map(|(n, d)| d.exempt.clone().map(|r| (n.clone(), r)))
        .collect()
}

/// Warnings about exemptions: one the catalog classes as advertising, and one Segment gates
/// anyway because the settings map it to consent categories.
pub(crate) fn warnings(spec: &Spec, resolved: &impl Resolves) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in exempted(spec) {
        let Some(r) = resolved.resolved(&name) else {
            continue;
        };
        if let Some(entry) = r
            .catalog
            .as_deref()
            .and_then(|id| Catalog::builtin().by_id(id))
            && entry.purpose_hint == "advertising"
        {
            out.push(format!(
                "`{name}` is declared exempt from consent, but the built-in catalog classes it as \
                 advertising ({}): advertising is rarely strictly necessary; check the reason",
                entry.display
            ));
        }
        if r.categories_source == CategorySource::Settings && !r.categories.is_empty() {
            out.push(format!(
                "`{name}` is declared exempt from consent, but the settings map it to {}: \
                 Segment's consent wrapper still gates it by those categories",
                r.categories.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::routing;
    use crate::analysis::verdict::tests::spec;
    use crate::spec::{Destination, Regime};

    fn exempt(reason: &str) -> Destination {
        Destination {
            exempt: Some(reason.into()),
            ..Default::default()
        }
    }

    #[test]
    fn exempting_advertising_warns_and_exempt_is_never_blocked_by_a_regime() {
        let s = spec(
            Regime::Gdpr,
            vec![
                ("Google AdWords New", exempt("conversion tracking")),
                ("Sift", exempt("fraud prevention")),
                ("Mixpanel", Destination::default()),
            ],
        );
        let r = routing::resolve(&s, None);
        let w = warnings(&s, &r);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("`Google AdWords New`") && w[0].contains("advertising"));
        assert!(is_exempt(&s, "Sift") && !is_exempt(&s, "Mixpanel"));
        let state = crate::spec::State {
            expect: crate::spec::Expect {
                allowed: Some(crate::spec::DestinationSet::Some(vec!["Mixpanel".into()])),
                ..Default::default()
            },
            ..Default::default()
        };
        let eff = crate::analysis::verdict::effective(&s, &state, &r);
        assert_eq!(
            eff.blocked.clone().map(|b| b.value),
            Some(crate::spec::DestinationSet::Some(vec![])),
            "gdpr's no-choice default blocks everything not allowed, less the exempt"
        );
        assert!(
            eff.lines()
                .iter()
                .any(|l| l == "exempt: Sift: fraud prevention (spec)")
        );
    }
}
