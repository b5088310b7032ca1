//! klaro (BSD-3-Clause). DOM from its `src/components/*.js` (notice `.klaro .cookie-notice` with
//! `.cm-btn-success` / `.cm-btn-accept-all` and `.cn-decline`), API from its manager
//! (`getManager()`, `updateConsent`, `saveAndApplyConsents`, `confirmed`, `consents`). Tested
//! against the real library (the klaro-us example). Categories are klaro purposes: a service is on
//! when it is required or one of its purposes is accepted.

use super::{Act, Adapter, Do, Names};

pub const ADAPTER: Adapter = Adapter {
    name: "klaro",
    detect: "window.klaro || window.klaroConfig || document.querySelector('.klaro')",
    banner: "visible('.klaro .cookie-notice') || visible('.klaro .cookie-modal')",
    accept_all: Do::Click(".klaro .cm-btn-success, .klaro .cm-btn-accept-all"),
    reject_all: Do::Click(".klaro .cn-decline"),
    categories: Some(categories),
    // klaro.show() opens its modal, whose buttons differ from the notice's: not offered yet.
    reopen: None,
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
