//! Osano's open-source cookieconsent 3.x (MIT, npm `cookieconsent`). DOM and API from its
//! `src/cookieconsent.js`: the popup `.cc-window` (hidden with `.cc-invisible`) with `.cc-allow`
//! (opt-in), `.cc-dismiss` (info and opt-out: "got it") and `.cc-deny`; after a choice a
//! `.cc-revoke` tab reopens it (`revokeChoice()`, on by default for the opt-in and opt-out types).
//! The choice is one value in the `cookieconsent_status` cookie (`allow`, `deny`, `dismiss`;
//! `hasConsented()` is `allow` or `dismiss`): the library has no categories, so every CMP name
//! follows that one switch except `necessary`, which is always accepted (map the site's necessary
//! category with `cmp: necessary`). Tested against the real library
//! (`tests/fixtures/cmp/osano-cookieconsent/site/`).

use super::{Adapter, Do};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "osano-cookieconsent",
    detect: "(window.cookieconsent && window.cookieconsent.initialise) || document.querySelector('.cc-window')",
    banner: "visible('.cc-window')",
    accept_all: Do::Click(".cc-window .cc-allow, .cc-window .cc-dismiss"),
    reject_all: Do::Click(".cc-window .cc-deny"),
    categories: None,
    reopen: Some(Do::Click(".cc-revoke")),
    choice: "const m = document.cookie.match(/(?:^|; )cookieconsent_status=([^;]*)/); \
             const status = m ? decodeURIComponent(m[1]) : ''; \
             if (!['allow', 'deny', 'dismiss'].includes(status)) return null; \
             const accepted = (name) => name === 'necessary' || status === 'allow' || status === 'dismiss';",
};
