//! Is analytics.js (analytics-next) running on the page? Recognised by what it does, not only by
//! the URL of a snippet load: a site that bundles `@segment/analytics-next` from npm
//! (`AnalyticsBrowser.load`, the modern set-up) never requests `/analytics.js/v1/…`, but it still
//! fetches its CDN settings (`/v1/projects/<writeKey>/settings`), may load its chunks
//! (`/analytics-next/bundles/…`), and stamps every event with `context.library`
//! (`{name: "analytics.js", version: "npm:next-<v>"}` for the npm build, `"next-<v>"` for the
//! snippet's web build: analytics-next's env-enrichment plugin). A library that sent nothing
//! (settings inlined, every event held) still shows itself as a page global holding an
//! initialised instance.

use serde::Serialize;

use super::decode::{Decoded, LoadKind};
use crate::spec::{Library, Spec};

/// How the library showed itself in one visit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LibrarySeen {
    /// Loaded by a snippet: a request for `/analytics.js/v1/<writeKey>/analytics(.min).js`.
    pub(crate) by_url: bool,
    /// What else showed it, in a fixed order: `settings fetch`, `analytics-next chunks`,
    /// `events from the npm build (npm:next)`, `events from the web build (next)`,
    /// `page global window.<name>`.
    pub(crate) by_behaviour: Vec<String>,
}

impl LibrarySeen {
    /// Whether analytics.js ran, by any sign.
    pub fn loaded(&self) -> bool {
        self.by_url || !self.by_behaviour.is_empty()
    }

    /// In words (`init`, the report): `loaded (snippet)`, `loaded (bundled in the site's own code,
    /// recognised by settings fetch, …)` or `not loaded`.
    pub fn describe(&self) -> String {
        if self.by_url {
            "loaded (snippet)".to_string()
        } else if self.loaded() {
            format!(
                "loaded (bundled in the site's own code, recognised by {})",
                self.by_behaviour.join(", ")
            )
        } else {
            "not loaded".to_string()
        }
    }

    /// Recognised only by behaviour (a bundled build): the snapshot then says how.
    pub fn bundled_by_site(&self) -> bool {
        !self.by_url && !self.by_behaviour.is_empty()
    }
}

/// The library's signs in a decoded visit.
pub fn recognise(decoded: &Decoded) -> LibrarySeen {
    let has = |f: fn(&LoadKind) -> bool| decoded.library_loads.iter().any(|l| f(&l.kind));
    let version = |prefix: &str| {
        decoded.events.iter().any(|e| {
            let lib = e.payload.get("context").and_then(|c| c.get("library"));
            lib.and_then(|l| l.get("name")).and_then(|n| n.as_str()) == Some("analytics.js")
                && lib
                    .and_then(|l| l.get("version"))
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| v.starts_with(prefix))
        })
    };
    let mut by_behaviour = Vec::new();
    if decoded.settings_fetched {
        by_behaviour.push("settings fetch".to_string());
    }
    if has(|k| matches!(k, LoadKind::Chunk)) {
        by_behaviour.push("analytics-next chunks".to_string());
    }
    if version("npm:next-") {
        by_behaviour.push("events from the npm build (npm:next)".to_string());
    }
    if version("next-") {
        by_behaviour.push("events from the web build (next)".to_string());
    }
    for g in &decoded.globals {
        by_behaviour.push(format!("page global window.{g}"));
    }
    LibrarySeen {
        by_url: has(|k| matches!(k, LoadKind::Library { .. })),
        by_behaviour,
    }
}

/// Spec keys that had no effect in this visit, in words: `segment.library: bundled` answers
/// only snippet loads of analytics.js by URL, and `segment.settings` only a settings fetch.
pub(crate) fn ineffective_keys(spec: &Spec, seen: &LibrarySeen, decoded: &Decoded) -> Vec<String> {
    let mut out = Vec::new();
    if spec.segment.library == Library::Bundled && seen.bundled_by_site() {
        out.push(format!(
            "`segment.library: bundled` had no effect: the site runs analytics-next from its own \
             bundle (recognised by {}) and never requested analytics.js by URL, so the pinned \
             build answered nothing",
            seen.by_behaviour.join(", ")
        ));
    }
    if spec.segment.settings.is_some() && seen.loaded() && !decoded.settings_fetched {
        out.push(
            "`segment.settings` had no effect: analytics.js ran but never fetched its settings \
             (settings passed inline, e.g. `cdnSettings`), so the file answered nothing"
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library that sent nothing still shows itself by the loaded instance a page global holds;
    /// without one (nor any other sign) it is not loaded.
    #[test]
    fn a_page_global_alone_recognises_the_library() {
        assert!(!recognise(&Decoded::default()).loaded());
        let seen = recognise(&Decoded {
            globals: vec!["shopAnalytics".into()],
            ..Decoded::default()
        });
        assert!(seen.loaded() && seen.bundled_by_site());
        assert_eq!(seen.by_behaviour, vec!["page global window.shopAnalytics"]);
    }
}
