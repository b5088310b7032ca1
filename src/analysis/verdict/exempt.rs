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
pub fn exempted(spec: &Spec) -> Vec<(String, String)> {
    spec.destinations
        .iter()
        .filter_map(|(n, d)| d.exempt.clone().map(|r| (n.clone(), r)))
        .collect()
}

/// Warnings about exemptions: one the catalog classes as advertising, and one Segment gates
/// anyway because the settings map it to consent categories.
pub fn warnings(spec: &Spec, resolved: &impl Resolves) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in exempted(spec) {
        let Some(r) = resolved.resolved(&name) else {
            continue;
        };
        if let Some(entry) = r.catalog.as_deref().and_then(|id| Catalog::builtin().by_id(id))
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
