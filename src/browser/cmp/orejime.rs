//! orejime 3.x (Boscop, BSD-3-Clause). DOM from its standard theme's components (banner
//! `.orejime-Banner` with `.orejime-Banner-saveButton` (accept) and `.orejime-Banner-declineButton`,
//! modal `.orejime-Modal`), API from its README's "API" section: `window.orejime` with `manager`
//! (`getConsent(purposeId)`, `setConsent(purposeId, bool)`, `clearConsents()` "reopens the banner",
//! `isDirty()` while consents still need the visitor's answer) and `config.purposes` (possibly
//! grouped under `{purposes: [...]}`). Categories are orejime purpose ids. Tested against the real
//! library (`tests/fixtures/cmp/orejime/site/`).

use super::{Act, Adapter, Do, Names};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "orejime",
    detect: "window.orejime || window.loadOrejime || document.querySelector('.orejime-Root')",
    banner: "visible('.orejime-Banner') || visible('.orejime-Modal')",
    accept_all: Do::Click(".orejime-Banner .orejime-Banner-saveButton"),
    reject_all: Do::Click(".orejime-Banner .orejime-Banner-declineButton"),
    categories: Some(categories),
    reopen: Some(Do::Script {
        ready: "window.orejime && window.orejime.manager",
        script: "window.orejime.manager.clearConsents();",
    }),
    choice: "const o = window.orejime; if (!o || !o.manager || o.manager.isDirty()) return null; \
             const accepted = (name) => !!o.manager.getConsent(name);",
};

fn categories(on: &Names, _all: &Names) -> Act {
    Act::Script {
        ready: "window.orejime && window.orejime.manager && window.orejime.config".into(),
        script: format!(
            "const o = window.orejime; const on = new Set({on}); \
             const flat = (ps) => ps.flatMap(p => Array.isArray(p.purposes) ? flat(p.purposes) : [p]); \
             for (const p of flat(o.config.purposes)) \
               o.manager.setConsent(p.id, !!(p.isMandatory || p.isExempt || on.has(p.id)));"
        ),
    }
}
