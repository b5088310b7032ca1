//! vanilla-cookieconsent v3 (orestbida, MIT). DOM from its `src/core/modals/*.js` (root `#cc-main`,
//! consent-modal buttons `.cm__btn[data-role=all|necessary]`), API from its `src/core/api.js`
//! (`acceptCategory`, `acceptedCategory`, `validConsent`, `hide`, `hidePreferences`). Tested
//! against the real library (the example shop).

use super::{Act, Adapter, Do, Names};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "vanilla-cookieconsent",
    detect: "window.CookieConsent || document.querySelector('#cc-main')",
    banner: "visible('#cc-main .cm') || visible('#cc-main .pm')",
    // The preferences modal's buttons too: after `cmp: reopen` the choice is made there (the
    // hidden consent modal stays in the DOM, so only a visible match counts).
    accept_all: Do::Click(
        "#cc-main .cm__btn[data-role=all]:visible, #cc-main .pm__btn[data-role=all]:visible",
    ),
    reject_all: Do::Click(
        "#cc-main .cm__btn[data-role=necessary]:visible, \
         #cc-main .pm__btn[data-role=necessary]:visible",
    ),
    categories: Some(categories),
    // `showPreferences()` opens the preferences modal (its `src/core/api.js`), whose buttons the
    // actions click.
    reopen: Some(Do::Script {
        ready: "window.CookieConsent && typeof window.CookieConsent.showPreferences === 'function'",
        script: "window.CookieConsent.showPreferences();",
    }),
    // validConsent() is false until the visitor decided.
    choice: "const cc = window.CookieConsent; \
             if (!cc || !cc.validConsent || !cc.validConsent()) return null; \
             const accepted = (name) => cc.acceptedCategory(name);",
};

fn categories(on: &Names, _all: &Names) -> Act {
    Act::Script {
        ready: "window.CookieConsent && window.CookieConsent.acceptCategory".into(),
        script: format!(
            "const cc = window.CookieConsent; cc.acceptCategory({on}); cc.hide(); cc.hidePreferences();"
        ),
    }
}
