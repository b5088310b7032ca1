//! Osano (commercial, cannot load offline). Built from Osano's public documentation: dialog
//! `.osano-cm-dialog` (hidden with `.osano-cm-dialog--hidden`) inside `.osano-cm-window`, buttons
//! `.osano-cm-accept-all` and `.osano-cm-denyAll`; `Osano.cm.getConsent()` →
//! `{ESSENTIAL, ANALYTICS, MARKETING, PERSONALIZATION: 'ACCEPT' | 'DENY'}`; the stored choice lives
//! in the `osano_consentmanager` cookie. Osano documents no call to set single categories, so the
//! adapter offers accept-all and reject-all only. Tested against an imitation
//! (`tests/fixtures/cmp/osano/`).

use super::{Adapter, Do};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "osano",
    detect: "window.Osano || document.querySelector('.osano-cm-window')",
    banner: "visible('.osano-cm-dialog:not(.osano-cm-dialog--hidden)')",
    accept_all: Do::Click(".osano-cm-dialog .osano-cm-accept-all"),
    reject_all: Do::Click(".osano-cm-dialog .osano-cm-denyAll"),
    categories: None,
    reopen: None,
    choice: "const o = window.Osano; if (!o || !o.cm || !o.cm.getConsent) return null; \
             if (!document.cookie.split('; ').some(c => c.startsWith('osano_consentmanager='))) return null; \
             const c = o.cm.getConsent() || {}; const accepted = (name) => c[name] === 'ACCEPT';",
};
