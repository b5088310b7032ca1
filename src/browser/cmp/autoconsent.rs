//! `cmp: autoconsent`: DuckDuckGo's autoconsent (`@duckduckgo/autoconsent`, MPL-2.0, pinned in
//! package.json) for banners no built-in adapter covers. Its Playwright bundle
//! (`dist/autoconsent.playwright.js`) talks through `window.autoconsentSendMessage` /
//! `window.autoconsentReceiveMessage` (its `docs/puppeteer.md`); here both ends live in the page:
//! a small bridge answers `init` with the configuration and the shipped rules
//! (`rules/rules.json`), and records which rule found a popup and how its opt-in or opt-out went.
//! Rules run in the page's main world (`isMainWorld`), cosmetic rules (which only hide a banner,
//! recording no choice) and heuristics are off. Only accept-all (`optIn`) and reject-all
//! (`optOut`) exist in autoconsent.

use std::path::{Path, PathBuf};

use crate::browser::edge::find_installed;

/// The installed package folder (see [`find_installed`]).
pub(crate) fn find(spec_dir: &Path) -> Option<PathBuf> {
    find_installed(
        spec_dir,
        "node_modules/@duckduckgo/autoconsent",
        &[BUNDLE, RULES],
    )
}

pub(crate) const BUNDLE: &str = "dist/autoconsent.playwright.js";
pub(crate) const RULES: &str = "rules/rules.json";

/// The page-side bridge, to evaluate before the bundle. `auto_action`: `optIn` or `optOut`.
pub(crate) fn bridge(rules_json: &str, auto_action: &str) -> String {
    format!(
        "(() => {{ const state = window.__consentGatesAutoconsent = {{ detected: null, found: null, result: null, error: null }}; \
           const config = {{ enabled: true, autoAction: '{auto_action}', disabledCmps: [], enablePrehide: false, \
             enableCosmeticRules: false, enableGeneratedRules: true, detectRetries: 20, isMainWorld: true, \
             prehideTimeout: 2000, enableHeuristicDetection: false, visualTest: false, \
             logs: {{ lifecycle: false, rulesteps: false, detectionsteps: false, evals: false, errors: false, messages: false, waits: false }} }}; \
           const rules = {rules_json}; \
           const reply = (m) => setTimeout(() => window.autoconsentReceiveMessage && window.autoconsentReceiveMessage(m), 0); \
           window.autoconsentSendMessage = (m) => {{ \
             if (!m || typeof m !== 'object') return; \
             switch (m.type) {{ \
               case 'init': reply({{ type: 'initResp', config, rules }}); break; \
               case 'eval': {{ let result = false; try {{ result = !!(0, eval)(m.code); }} catch (e) {{}} \
                 reply({{ type: 'evalResp', id: m.id, result }}); break; }} \
               case 'cmpDetected': state.detected = m.cmp; break; \
               case 'popupFound': state.found = m.cmp; break; \
               case 'optInResult': case 'optOutResult': state.result = {{ cmp: m.cmp, result: !!m.result }}; break; \
               case 'autoconsentError': state.error = String((m.details && (m.details.msg || m.details.message)) || 'error'); break; \
             }} }}; }})()"
    )
}

/// A JS expression: the bridge's state once a rule reported its result (or an error), else null.
pub(crate) const OUTCOME: &str = "(() => { const s = window.__consentGatesAutoconsent; \
     return s && (s.result || s.error) ? s : null; })()";

/// A JS expression: the bridge's state now.
pub(crate) const STATE: &str = "window.__consentGatesAutoconsent || null";

/// How many rules the shipped rule file holds (for messages).
pub(crate) fn rule_count(rules_json: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(rules_json)
        .ok()
        .and_then(|v| {
            v.get("autoconsent")
                .and_then(|a| a.as_array())
                .map(Vec::len)
        })
        .unwrap_or(0)
}
