//! Cookiebot (Usercentrics A/S; commercial, cannot load offline). Built from Cookiebot's public
//! developer documentation: dialog `#CybotCookiebotDialog` with
//! `#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll` and
//! `#CybotCookiebotDialogBodyButtonDecline`; `window.Cookiebot` with `consent.{necessary,
//! preferences, statistics, marketing}`, `hasResponse`, `submitCustomConsent(preferences,
//! statistics, marketing)` and `hide()`. Categories are Cookiebot's names `preferences`,
//! `statistics`, `marketing`: map them with `C0002: {purpose: analytics, cmp: statistics}`.
//! Tested against an imitation (`tests/fixtures/cmp/cookiebot/`).

use super::{Act, Adapter, Do, Names, sets};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "cookiebot",
    detect: "window.Cookiebot || document.querySelector('#CybotCookiebotDialog, script#Cookiebot')",
    banner: "visible('#CybotCookiebotDialog')",
    accept_all: Do::Click("#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll"),
    reject_all: Do::Click("#CybotCookiebotDialogBodyButtonDecline"),
    categories: Some(categories),
    reopen: None,
    choice: "const cb = window.Cookiebot; if (!cb || !cb.hasResponse || !cb.consent) return null; \
             const accepted = (name) => !!cb.consent[name];",
};

fn categories(on: &Names, all: &Names) -> Act {
    let sets = sets(on, all);
    Act::Script {
        ready: "window.Cookiebot && typeof window.Cookiebot.submitCustomConsent === 'function'"
            .into(),
        script: format!(
            "{sets} void all; window.Cookiebot.submitCustomConsent(on.has('preferences'), on.has('statistics'), on.has('marketing')); \
             if (window.Cookiebot.hide) window.Cookiebot.hide();"
        ),
    }
}
