//! Termly (commercial, cannot load offline). Built from Termly's public documentation: banner in
//! `#termly-code-snippet-support` with `[data-tid=banner-accept]` and `[data-tid=banner-decline]`;
//! `Termly.getConsentState()` → `{essential, performance, analytics, advertising,
//! social_networking, unclassified}`. Termly documents no call to set single categories, so the
//! adapter offers accept-all and reject-all only; a choice counts as recorded once the banner is
//! gone. Tested against an imitation (`tests/fixtures/cmp/termly/`).

use super::{Adapter, Do};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "termly",
    detect: "window.Termly || document.querySelector('#termly-code-snippet-support')",
    banner: "visible('[data-tid=banner-accept]') || visible('[data-tid=banner-decline]')",
    accept_all: Do::Click("[data-tid=banner-accept]"),
    reject_all: Do::Click("[data-tid=banner-decline]"),
    categories: None,
    reopen: None,
    choice: "const t = window.Termly; if (!t || !t.getConsentState) return null; \
             if (visible('[data-tid=banner-accept]')) return null; \
             const c = t.getConsentState() || {}; const accepted = (name) => !!c[name];",
};
