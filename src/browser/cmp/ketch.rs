//! Ketch (commercial, cannot load offline). Built from Ketch's public documentation of its Smart
//! Tag: the experience renders in `#lanyard_root`, the banner `#ketch-banner` with
//! `#ketch-banner-button-primary` (accept) and a "Reject All" button; `ketch('getConsent', cb)` →
//! `{purposes: {analytics: true, ...}}`. Setting purposes through `ketch('setConsent', ...)` leaves
//! the banner open, so the adapter offers accept-all and reject-all only; a choice counts as
//! recorded once the banner is gone. Tested against an imitation (`tests/fixtures/cmp/ketch/`).

use super::{Adapter, Do};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "ketch",
    detect: "typeof window.ketch === 'function' || document.querySelector('#lanyard_root, #ketch-banner')",
    banner: "visible('#ketch-banner') || visible('#lanyard_root [role=dialog]')",
    accept_all: Do::Click("#ketch-banner-button-primary"),
    reject_all: Do::Click("#ketch-banner button[aria-label^='Reject' i]"),
    categories: None,
    reopen: None,
    choice: "if (typeof window.ketch !== 'function') return null; \
             if (visible('#ketch-banner') || visible('#lanyard_root [role=dialog]')) return null; \
             const c = await new Promise((resolve) => { setTimeout(() => resolve(null), 1000); \
               window.ketch('getConsent', resolve); }); \
             if (!c || !c.purposes) return null; \
             const accepted = (name) => { const v = c.purposes[name]; return v === true || v === 'granted'; };",
};
