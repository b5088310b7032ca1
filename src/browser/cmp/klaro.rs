//! klaro (BSD-3-Clause). DOM from its `src/components/*.js` (notice `.klaro .cookie-notice` with
//! `.cm-btn-success` / `.cm-btn-accept-all` and `.cn-decline`), API from its manager
//! (`getManager()`, `updateConsent`, `saveAndApplyConsents`, `confirmed`, `consents`). Tested
//! against the real library (the klaro-us example). Categories are klaro purposes: a service is on
//! when it is required or one of its purposes is accepted.

use super::{Act, Adapter, Do, Names};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "klaro",
    detect: "window.klaro || window.klaroConfig || document.querySelector('.klaro')",
    banner: "visible('.klaro .cookie-notice') || visible('.klaro .cookie-modal')",
    // The notice's accept button (`.cm-btn-success`, "accept all" whether or not it also has
    // `.cm-btn-accept-all`), and in the modal only "accept all": the modal's other
    // `.cm-btn-success` saves the current selection. klaro's modal shows "accept all" and
    // "decline" only before a choice is stored: after one, a change of mind is made with
    // `{categories: [...]}` (its API); `accept_all`/`reject_all` find no button
    // (step-did-not-match).
    accept_all: Do::Click(
        ".klaro .cookie-notice .cm-btn-success, .klaro .cookie-modal .cm-btn-accept-all",
    ),
    // `.cn-decline` in the notice and the modal alike.
    reject_all: Do::Click(".klaro .cn-decline"),
    categories: Some(categories),
    // `klaro.show(config, true)` opens its modal (src/klaro.js; the "privacy choices" link of
    // klaro's own examples does the same).
    reopen: Some(Do::Script {
        ready: "window.klaro && typeof window.klaro.show === 'function'",
        script: "window.klaro.show(window.klaroConfig, true);",
    }),
    // The manager's `confirmed` says whether a choice was stored; consents are per service, and a
    // purpose counts as accepted when any of its services is.
    choice: "const k = window.klaro; if (!k || !k.getManager) return null; \
             const m = k.getManager(); if (!m || !m.confirmed) return null; \
             const accepted = (name) => { \
               if (name in m.consents) return !!m.consents[name]; \
               const svcs = (m.config.services || []).filter(s => (s.purposes || []).includes(name)); \
               return svcs.length > 0 && svcs.some(s => !!m.consents[s.name]); };",
};

fn categories(on: &Names, _all: &Names) -> Act {
    Act::Script {
        ready: "window.klaro && window.klaro.getManager".into(),
        script: format!(
            "const m = window.klaro.getManager(); const on = new Set({on}); \
             for (const s of m.config.services) {{ const p = s.purposes || []; \
               m.updateConsent(s.name, s.required || on.has(s.name) || p.some(x => on.has(x))); }} \
             m.saveAndApplyConsents(); \
             document.querySelectorAll('.klaro .cookie-notice, .klaro .cookie-modal').forEach(e => e.remove());"
        ),
    }
}
