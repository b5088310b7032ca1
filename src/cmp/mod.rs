//! Built-in CMP adapters: one word in a spec drives a banner.
//!
//! Each adapter turns a [`CmpAction`] into concrete browser work: a selector to click or a script
//! calling the CMP's documented JavaScript API. Selectors and APIs come from the CMPs' own sources
//! (vanilla-cookieconsent v3 `src/core/modals/*.js`; klaro `src/components/*.js`).

use crate::spec::{CmpAction, Spec};

/// What the session must do for one adapter action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Click the first element matching this selector.
    Click(String),
    /// Wait for `ready` (a selector or a JS condition), then run `script`.
    Script { ready: String, script: String },
}

/// Adapter names the spec accepts.
pub const ADAPTERS: &[&str] = &["vanilla-cookieconsent", "klaro"];

/// The plan for `action` under `adapter`, or why there is none.
pub fn plan(adapter: &str, action: &CmpAction, spec: &Spec) -> Result<Plan, String> {
    match (adapter, action) {
        ("vanilla-cookieconsent", CmpAction::AcceptAll) => {
            Ok(Plan::Click("#cc-main .cm__btn[data-role=all]".into()))
        }
        ("vanilla-cookieconsent", CmpAction::RejectAll) => {
            Ok(Plan::Click("#cc-main .cm__btn[data-role=necessary]".into()))
        }
        ("vanilla-cookieconsent", CmpAction::Categories(ids)) => Ok(Plan::Script {
            ready: "window.CookieConsent && document.querySelector('#cc-main .cm__btn')".into(),
            script: format!(
                "window.CookieConsent.acceptCategory({})",
                js_names(&cmp_names(ids, spec))
            ),
        }),
        ("klaro", CmpAction::AcceptAll) => Ok(Plan::Click(
            ".klaro .cm-btn-success, .klaro .cm-btn-accept-all".into(),
        )),
        ("klaro", CmpAction::RejectAll) => Ok(Plan::Click(".klaro .cn-decline".into())),
        ("klaro", CmpAction::Categories(ids)) => Ok(Plan::Script {
            ready: "window.klaro && window.klaro.getManager && document.querySelector('.klaro .cookie-notice, .klaro .cookie-modal')".into(),
            script: format!(
                "(() => {{ const m = window.klaro.getManager(); const on = new Set({}); \
                 for (const s of m.config.services) {{ const p = s.purposes || []; \
                 m.updateConsent(s.name, s.required || on.has(s.name) || p.some(x => on.has(x))); }} \
                 m.saveAndApplyConsents(); \
                 document.querySelectorAll('.klaro .cookie-notice, .klaro .cookie-modal').forEach(e => e.remove()); }})()",
                js_names(&cmp_names(ids, spec))
            ),
        }),
        _ => Err(format!(
            "no built-in CMP adapter named `{adapter}` (known: {})",
            ADAPTERS.join(", ")
        )),
    }
}

/// The CMP's own names for stamp category ids (the long form `cmp:` when given, else the
/// purpose name, which is what the open-source CMPs call their categories by default).
fn cmp_names(ids: &[String], spec: &Spec) -> Vec<String> {
    ids.iter()
        .map(|id| match spec.categories.get(id) {
            Some(c) => c.cmp.clone().unwrap_or_else(|| id.clone()),
            None => id.clone(),
        })
        .collect()
}

fn js_names(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "[]".into())
}

/// A script returning the CMP's recorded choice as `{stampCategoryId: bool}`, or `null` when the
/// visitor has not decided. Category ids are mapped from the CMP's names through the spec.
pub fn read_choice_script(adapter: &str, spec: &Spec) -> Option<String> {
    let mapping: Vec<(String, String)> = spec
        .categories
        .iter()
        .map(|(id, c)| (id.clone(), c.cmp.clone().unwrap_or_else(|| id.clone())))
        .collect();
    let mapping = serde_json::to_string(&mapping).ok()?;
    let body = match adapter {
        // vanilla-cookieconsent v3: validConsent() is false until the visitor decided.
        "vanilla-cookieconsent" => {
            "const cc = window.CookieConsent; \
             if (!cc || !cc.validConsent || !cc.validConsent()) return null; \
             const accepted = (name) => cc.acceptedCategory(name);"
        }
        // klaro: the manager's `confirmed` says whether a choice was stored; consents are per
        // service, and a purpose counts as accepted when any of its services is.
        "klaro" => {
            "const k = window.klaro; if (!k || !k.getManager) return null; \
             const m = k.getManager(); if (!m || !m.confirmed) return null; \
             const accepted = (name) => { \
               if (name in m.consents) return !!m.consents[name]; \
               const svcs = (m.config.services || []).filter(s => (s.purposes || []).includes(name)); \
               return svcs.length > 0 && svcs.some(s => !!m.consents[s.name]); };"
        }
        _ => return None,
    };
    Some(format!(
        "(() => {{ try {{ {body} const out = {{}}; \
         for (const [id, name] of {mapping}) out[id] = !!accepted(name); return out; }} \
         catch (e) {{ return null; }} }})()"
    ))
}
