//! Didomi (commercial, cannot load offline). Built from Didomi's public developer documentation:
//! host `#didomi-host`, notice `#didomi-notice` with `#didomi-notice-agree-button`; `window.Didomi`
//! with `setUserAgreeToAll()`, `setUserDisagreeToAll()`, `setUserStatus({purposes: {consent:
//! {enabled, disabled}}, ...})`, `getUserStatus()` (`purposes.global.enabled`),
//! `shouldConsentBeCollected()` and `notice.hide()`. Reject-all uses the API because many notices
//! have no disagree button. Categories are Didomi purpose ids (`cookies`, `analytics`, custom ids).
//! Tested against an imitation (`tests/fixtures/cmp/didomi/`).

use super::{Act, Adapter, Do, Names, sets};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "didomi",
    detect: "window.Didomi || document.querySelector('#didomi-host')",
    banner: "visible('#didomi-notice') || visible('#didomi-popup')",
    accept_all: Do::Click("#didomi-notice-agree-button"),
    reject_all: Do::Script {
        ready: "window.Didomi && typeof window.Didomi.setUserDisagreeToAll === 'function'",
        script: "window.Didomi.setUserDisagreeToAll(); \
                 if (window.Didomi.notice && window.Didomi.notice.hide) window.Didomi.notice.hide();",
    },
    categories: Some(categories),
    reopen: None,
    choice: "const d = window.Didomi; if (!d || !d.getUserStatus) return null; \
             if (d.shouldConsentBeCollected && d.shouldConsentBeCollected()) return null; \
             const p = d.getUserStatus().purposes || {}; const g = p.global || p.consent || {}; \
             const en = g.enabled || []; const accepted = (name) => en.includes(name);",
};

fn categories(on: &Names, all: &Names) -> Act {
    let sets = sets(on, all);
    Act::Script {
        ready: "window.Didomi && typeof window.Didomi.setUserStatus === 'function'".into(),
        script: format!(
            "{sets} const now = new Date().toISOString(); \
             window.Didomi.setUserStatus({{ \
               purposes: {{ consent: {{ enabled: [...on], disabled: [...all].filter(p => !on.has(p)) }} }}, \
               vendors: {{ consent: {{ enabled: [], disabled: [] }} }}, \
               created: now, updated: now, source: {{ type: 'integration', domain: location.hostname }}, action: 'webpage' }}); \
             if (window.Didomi.notice && window.Didomi.notice.hide) window.Didomi.notice.hide();"
        ),
    }
}
