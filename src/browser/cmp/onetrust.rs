//! OneTrust (commercial; its script cannot load offline). Built from OneTrust's public developer
//! documentation: banner `#onetrust-banner-sdk` with `#onetrust-accept-btn-handler` and
//! `#onetrust-reject-all-handler`; `window.OneTrust` with `UpdateConsent("Category", "C0002:1")`,
//! `Close()` and `IsAlertBoxClosed()`; `window.OnetrustActiveGroups` (",C0001,C0002,") lists the
//! active groups. Categories are OneTrust group ids (C0001 strictly necessary, C0002 performance,
//! C0003 functional, C0004 targeting, C0005 social media). Tested against an imitation of that
//! surface (`tests/fixtures/cmp/onetrust/`).

use super::{Act, Adapter, Do, Names, sets};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "onetrust",
    detect: "window.OneTrust || window.Optanon || document.querySelector('#onetrust-consent-sdk, #onetrust-banner-sdk')",
    banner: "visible('#onetrust-banner-sdk') || visible('#onetrust-pc-sdk')",
    accept_all: Do::Click("#onetrust-accept-btn-handler"),
    reject_all: Do::Click("#onetrust-reject-all-handler"),
    categories: Some(categories),
    reopen: None,
    choice: "const ot = window.OneTrust; \
             if (!ot || !ot.IsAlertBoxClosed || !ot.IsAlertBoxClosed()) return null; \
             const groups = String(window.OnetrustActiveGroups || '').split(',').filter(Boolean); \
             const accepted = (name) => groups.includes(name);",
};

fn categories(on: &Names, all: &Names) -> Act {
    let sets = sets(on, all);
    Act::Script {
        ready: "window.OneTrust && typeof window.OneTrust.UpdateConsent === 'function'".into(),
        script: format!(
            "{sets} for (const g of all) window.OneTrust.UpdateConsent('Category', g + ':' + (on.has(g) ? 1 : 0)); \
             window.OneTrust.Close();"
        ),
    }
}
