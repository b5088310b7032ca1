//! Changing one's mind (`cmp: reopen`): how each CMP lets a visitor re-open its preference centre
//! after a first choice, through the CMP's documented API. Kept apart from the adapters' data so
//! that an adapter without such an API needs no entry: `cmp: reopen` then fails
//! `step-did-not-match` naming the adapter. The next `cmp` step chooses again in the re-opened
//! layer (the adapters' `accept_all`/`reject_all` selectors cover it).
//!
//! - vanilla-cookieconsent v3: `CookieConsent.showPreferences()` (its `src/core/api.js`; the
//!   preferences modal `#cc-main .pm`, buttons `.pm__btn[data-role=all|necessary|save]`).
//! - klaro: `klaro.show(config, true)` opens its consent modal (its `src/klaro.js`; the
//!   "privacy choices" link of klaro's own examples does the same), decline `.cn-decline`.

/// `(ready, script)`: a JS condition that the API is there, and the statement re-opening the
/// preference centre; `None` when the adapter knows no documented way.
pub fn reopen(adapter: &str) -> Option<(&'static str, &'static str)> {
    match adapter {
        "vanilla-cookieconsent" => Some((
            "window.CookieConsent && typeof window.CookieConsent.showPreferences === 'function'",
            "window.CookieConsent.showPreferences();",
        )),
        "klaro" => Some((
            "window.klaro && typeof window.klaro.show === 'function'",
            "window.klaro.show(window.klaroConfig, true);",
        )),
        _ => None,
    }
}
