//! Usercentrics (Browser UI v2, commercial, cannot load offline). Built from Usercentrics' public
//! documentation of `window.UC_UI`: `isInitialized()`, `acceptAllConsents()`, `denyAllConsents()`,
//! `acceptService(id)`, `rejectService(id)`, `closeCMP()`, `isConsentRequired()` and
//! `getServicesBaseInfo()` (`[{id, categorySlug, consent: {status}}]`); the UI renders in the open
//! shadow root of `#usercentrics-root` (buttons `[data-testid=uc-accept-all-button]`,
//! `[data-testid=uc-deny-all-button]`). Categories are category slugs (`essential`, `functional`,
//! `marketing`, ...): a category counts as accepted when any of its services is. Tested against an
//! imitation (`tests/fixtures/cmp/usercentrics/`).

use super::{Act, Adapter, Do, Names, sets};

const READY: &str = "window.UC_UI && window.UC_UI.isInitialized && window.UC_UI.isInitialized()";

pub(super) const ADAPTER: Adapter = Adapter {
    name: "usercentrics",
    detect: "window.UC_UI || document.querySelector('#usercentrics-root, #usercentrics-cmp-ui')",
    banner: "shadowVisible('#usercentrics-root', '[data-testid=uc-accept-all-button], [data-testid=uc-deny-all-button]')",
    accept_all: ui("await window.UC_UI.acceptAllConsents(); await window.UC_UI.closeCMP();"),
    reject_all: ui("await window.UC_UI.denyAllConsents(); await window.UC_UI.closeCMP();"),
    categories: Some(categories),
    reopen: None,
    choice: "const uc = window.UC_UI; if (!uc || !uc.getServicesBaseInfo) return null; \
             if (uc.isConsentRequired && uc.isConsentRequired()) return null; \
             const svcs = uc.getServicesBaseInfo() || []; \
             const accepted = (name) => svcs.some(s => s.categorySlug === name && s.consent && s.consent.status);",
};

/// A script through `window.UC_UI`, once it is initialised.
const fn ui(script: &'static str) -> Do {
    Do::Script {
        ready: READY,
        script,
    }
}

fn categories(on: &Names, all: &Names) -> Act {
    let sets = sets(on, all);
    Act::Script {
        ready: READY.into(),
        script: format!(
            "{sets} void all; for (const s of window.UC_UI.getServicesBaseInfo()) {{ \
               if (on.has(s.categorySlug)) await window.UC_UI.acceptService(s.id); \
               else if (s.categorySlug !== 'essential') await window.UC_UI.rejectService(s.id); }} \
             await window.UC_UI.closeCMP();"
        ),
    }
}
