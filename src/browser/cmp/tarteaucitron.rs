//! tarteaucitron.js (Amauri Champeaux, MIT, npm `tarteaucitronjs`). DOM and API from its
//! `tarteaucitron.js`: the alert `#tarteaucitronAlertBig` with `#tarteaucitronPersonalize2`
//! ("accept all", `respondAll(true)`) and `#tarteaucitronAllDenied2` ("deny all"), the panel
//! `#tarteaucitron`; `tarteaucitron.job` lists the services the site runs, `services[key].type` their
//! kind (`analytic`, `ads`, ...), `userInterface.respond(element, status)` answers one service,
//! `userInterface.openAlert()` shows the alert again, and the choice is stored per service in the
//! `tarteaucitron` cookie (`!key=true|false|wait`). Categories are service keys or service types: a
//! type counts as accepted when one of its services is. Tested against the real library
//! (`tests/fixtures/cmp/tarteaucitron/site/`).

use super::{Act, Adapter, Do, Names};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "tarteaucitron",
    detect: "window.tarteaucitron || document.querySelector('#tarteaucitronRoot')",
    banner: "visible('#tarteaucitronAlertBig') || visible('#tarteaucitron')",
    accept_all: Do::Click("#tarteaucitronAlertBig #tarteaucitronPersonalize2"),
    reject_all: Do::Click("#tarteaucitronAlertBig #tarteaucitronAllDenied2"),
    categories: Some(categories),
    reopen: Some(Do::Script {
        ready: "window.tarteaucitron && window.tarteaucitron.userInterface",
        script: "window.tarteaucitron.userInterface.openAlert();",
    }),
    // Decided once every service the site runs has a true/false answer in the cookie.
    choice: "const t = window.tarteaucitron; if (!t || !t.job || !t.cookie || t.job.length === 0) return null; \
             const c = t.cookie.read(); \
             const answer = (k) => { const m = c.match(new RegExp('!' + k + '=(true|false)')); return m ? m[1] === 'true' : null; }; \
             if (t.job.some(k => answer(k) === null)) return null; \
             const accepted = (name) => t.job.some(k => (k === name || (t.services[k] && t.services[k].type === name)) && answer(k));",
};

fn categories(on: &Names, _all: &Names) -> Act {
    Act::Script {
        ready:
            "window.tarteaucitron && window.tarteaucitron.job && window.tarteaucitron.userInterface"
                .into(),
        script: format!(
            "const t = window.tarteaucitron; const on = new Set({on}); \
             for (const k of t.job) {{ const s = t.services[k] || {{}}; const want = on.has(k) || on.has(s.type); \
               const el = document.getElementById(k + (want ? 'Allowed' : 'Denied')); \
               if (el) t.userInterface.respond(el, want); }} \
             t.userInterface.closeAlert();"
        ),
    }
}
