//! Built-in CMP adapters: one word in a spec drives a banner.
//!
//! Each adapter (one file per CMP) describes, as data, how to find its CMP on a page, how to tell
//! that its banner is shown, how to carry out `accept_all`, `reject_all` and (where the CMP lets a
//! visitor pick categories) `{categories: [...]}`, and how to read the CMP's recorded choice. The
//! open-source adapters follow the libraries' own sources; the commercial ones follow each vendor's
//! public documentation of its DOM ids and JavaScript API (their scripts cannot load offline, so
//! the tool's own tests drive small imitations of that documented surface).
//!
//! Beside the named adapters, `cmp: auto` detects the CMP on the page ([`detect`]) and uses its
//! adapter, and `cmp: autoconsent` drives DuckDuckGo's autoconsent rules ([`autoconsent`]) for
//! banners no adapter covers. [`signals`] reads the IAB TCF and GPP strings a page exposes.

pub(crate) mod autoconsent;
mod cookiebot;
pub(crate) mod detect;
mod didomi;
mod ketch;
mod klaro;
mod onetrust;
mod orejime;
mod osano;
mod osano_cookieconsent;
mod quantcast;
pub mod signals;
mod sourcepoint;
mod tarteaucitron;
mod termly;
mod trustarc;
mod usercentrics;
mod vanilla_cookieconsent;

use crate::spec::{CmpAction, Spec};

pub use crate::spec::cmp_names::{ADAPTERS, AUTO, AUTOCONSENT};

/// Every built-in adapter, in detection order (the more specific markers first).
pub const ALL: &[&Adapter] = &[
    &onetrust::ADAPTER,
    &cookiebot::ADAPTER,
    &didomi::ADAPTER,
    &usercentrics::ADAPTER,
    &trustarc::ADAPTER,
    &osano::ADAPTER,
    &termly::ADAPTER,
    &ketch::ADAPTER,
    &sourcepoint::ADAPTER,
    &quantcast::ADAPTER,
    &vanilla_cookieconsent::ADAPTER,
    &klaro::ADAPTER,
    &orejime::ADAPTER,
    &tarteaucitron::ADAPTER,
    &osano_cookieconsent::ADAPTER,
];

/// One CMP, as data. Every JavaScript snippet may use the helpers of [`PRELUDE`].
pub struct Adapter {
    pub name: &'static str,
    /// JS expression, truthy when the CMP is on the page (globals or DOM markers).
    pub detect: &'static str,
    /// JS expression, truthy while the CMP's banner (or its preference layer) is shown.
    pub banner: &'static str,
    pub accept_all: Do,
    pub reject_all: Do,
    /// Where the CMP lets a visitor pick categories: the script for `(accepted, all)` CMP names.
    pub categories: Option<fn(&Names, &Names) -> Act>,
    /// How a visitor who has decided reopens the CMP to change their mind (its documented "show
    /// preferences" call or link), after which `accept_all`, `reject_all` and `categories` work
    /// again; `None` where the CMP documents none that this adapter's actions can follow.
    pub reopen: Option<Do>,
    /// JS statements: `return null` while the visitor has not decided, else define
    /// `accepted(name)` (may be async) for a CMP category name.
    pub choice: &'static str,
}

/// CMP category names, as a JSON array literal for scripts.
pub type Names = str;

/// How an adapter carries out `accept_all` or `reject_all` (static data; see [`Act`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Do {
    Click(&'static str),
    ClickInFrame {
        frame: &'static str,
        selector: &'static str,
    },
    Script {
        ready: &'static str,
        script: &'static str,
    },
}

impl Do {
    fn act(self) -> Act {
        match self {
            Do::Click(s) => Act::Click(s.into()),
            Do::ClickInFrame { frame, selector } => Act::ClickInFrame {
                frame: frame.into(),
                selector: selector.into(),
            },
            Do::Script { ready, script } => Act::Script {
                ready: ready.into(),
                script: script.into(),
            },
        }
    }
}

/// How an adapter carries out an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Click the first visible element matching this selector.
    Click(String),
    /// Click `selector` inside the iframe matching `frame`.
    ClickInFrame { frame: String, selector: String },
    /// Wait for `ready` (a JS condition; the banner must be shown too), then run `script`.
    Script { ready: String, script: String },
}

/// What the session must do for one adapter action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub adapter: &'static str,
    pub act: Act,
    /// JS expression, truthy while the banner is shown: it must be shown before a scripted
    /// action and gone after any action.
    pub banner: String,
    /// What the action looks for, for a message when nothing matched.
    pub looked_for: String,
    /// Change of mind: when `when` holds (the banner is not shown and the CMP has a recorded
    /// choice), `act` reopens the CMP before the action.
    pub reopen: Option<Reopen>,
}

/// Reopening a CMP whose visitor already decided, so that a later action changes the choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopen {
    /// JS expression (a promise of a boolean): the banner is hidden and a choice is recorded.
    pub when: String,
    pub act: Act,
}

/// The adapter called `name` (not `auto` or `autoconsent`).
pub fn adapter(name: &str) -> Option<&'static Adapter> {
    ALL.iter().copied().find(|a| a.name == name)
}

/// The plan for `action` under the adapter `name`, or why there is none.
pub fn plan(name: &str, action: &CmpAction, spec: &Spec) -> Result<Plan, String> {
    let a = adapter(name).ok_or_else(|| {
        format!(
            "no built-in CMP adapter named `{name}` (known: {})",
            ADAPTERS.join(", ")
        )
    })?;
    let act = match action {
        CmpAction::Reopen => {
            return Err(format!(
                "`cmp: reopen` is not an adapter action of {name}: the session re-opens the \
                 preference centre itself (cmp::reopen)"
            ));
        }
        CmpAction::AcceptAll => a.accept_all.act(),
        CmpAction::RejectAll => a.reject_all.act(),
        CmpAction::Categories(ids) => {
            let build = a.categories.ok_or_else(|| {
                format!(
                    "the {name} adapter cannot pick categories ({name} offers no documented way to); \
                     use `accept_all`, `reject_all` or `click:` steps"
                )
            })?;
            let all: Vec<String> = spec.categories.keys().cloned().collect();
            build(
                &js_names(&cmp_names(ids, spec)),
                &js_names(&cmp_names(&all, spec)),
            )
        }
    };
    // A scripted action needs its banner shown first (an action that finds no banner must fail),
    // and runs with the prelude's helpers in scope.
    let looked_for = match &act {
        Act::Click(sel) => format!("{sel:?}"),
        Act::ClickInFrame { frame, selector } => format!("{selector:?} inside {frame:?}"),
        Act::Script { ready, .. } => format!("its API ({ready}) and its banner ({})", a.banner),
    };
    let act = match act {
        Act::Script { ready, script } => Act::Script {
            ready: with_prelude(&format!("({ready}) && ({})", a.banner)),
            script: format!("(async () => {{ {PRELUDE} {script} }})()"),
        },
        other => other,
    };
    Ok(Plan {
        adapter: a.name,
        act,
        banner: with_prelude(a.banner),
        looked_for,
        reopen: reopen_of(a),
    })
}

/// How the adapter `name` re-opens its CMP (the `cmp: reopen` step and every change of mind), with
/// its banner expression; `Ok(None)` when the CMP documents no way this adapter can follow.
pub fn reopen(name: &str) -> Result<Option<(Reopen, String)>, String> {
    let a = adapter(name).ok_or_else(|| format!("no built-in CMP adapter named `{name}`"))?;
    Ok(reopen_of(a).map(|r| (r, with_prelude(a.banner))))
}

/// The adapters that can re-open their CMP.
pub fn reopenable() -> Vec<&'static str> {
    ALL.iter()
        .filter(|a| a.reopen.is_some())
        .map(|a| a.name)
        .collect()
}

fn reopen_of(a: &Adapter) -> Option<Reopen> {
    a.reopen.map(|r| {
        let choice = a.choice;
        let banner = a.banner;
        Reopen {
            when: format!(
                "(async () => {{ {PRELUDE} try {{ if ({banner}) return false; {choice} void accepted; return true; }} \
                 catch (e) {{ return false; }} }})()"
            ),
            act: match r.act() {
                Act::Script { ready, script } => Act::Script {
                    ready: with_prelude(&ready),
                    script: format!("(async () => {{ {PRELUDE} {script} }})()"),
                },
                other => other,
            },
        }
    })
}

/// Helpers every adapter snippet may use: `visible(selector, root?)` (some match is rendered and
/// not hidden), `shadowVisible(host, selector)` (the same inside an open shadow root) and
/// `tcData(ms)` (the IAB TCF v2 `getTCData` answer, or null within `ms`).
pub const PRELUDE: &str = "const visible = (sel, root) => { for (const e of (root || document).querySelectorAll(sel)) { \
     const r = e.getBoundingClientRect(); const s = getComputedStyle(e); \
     if (r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && Number(s.opacity) > 0) return true; } \
     return false; }; \
   const shadowVisible = (host, sel) => { const h = document.querySelector(host); \
     return !!(h && h.shadowRoot && visible(sel, h.shadowRoot)); }; \
   const tcData = (ms) => new Promise((resolve) => { if (typeof window.__tcfapi !== 'function') return resolve(null); \
     setTimeout(() => resolve(null), ms); \
     try { window.__tcfapi('getTCData', 2, (d, ok) => resolve(ok ? d : null)); } catch (e) { resolve(null); } });";

/// `expr` as a self-contained boolean expression with the [`PRELUDE`] helpers in scope.
pub fn with_prelude(expr: &str) -> String {
    format!("(() => {{ {PRELUDE} try {{ return !!({expr}); }} catch (e) {{ return false; }} }})()")
}

/// The CMP's own names for stamp category ids (the long form `cmp:` when given, else the id).
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
pub fn read_choice_script(adapter_name: &str, spec: &Spec) -> Option<String> {
    let a = adapter(adapter_name)?;
    let mapping: Vec<(String, String)> = spec
        .categories
        .iter()
        .map(|(id, c)| (id.clone(), c.cmp.clone().unwrap_or_else(|| id.clone())))
        .collect();
    let mapping = serde_json::to_string(&mapping).ok()?;
    let body = a.choice;
    Some(format!(
        "(async () => {{ try {{ {PRELUDE} {body} const out = {{}}; \
         for (const [id, name] of {mapping}) out[id] = !!(await accepted(name)); return out; }} \
         catch (e) {{ return null; }} }})()"
    ))
}

/// The recorded choice of a TCF CMP: the visitor decided once `getTCData` reports
/// `useractioncomplete` (or `tcloaded`, a stored choice) with a TC string; categories are TCF
/// purpose numbers.
pub const TCF_CHOICE: &str = "const d = await tcData(1000); \
     if (!d || !d.tcString || !['useractioncomplete', 'tcloaded'].includes(d.eventStatus)) return null; \
     const consents = (d.purpose && d.purpose.consents) || {}; \
     const accepted = (name) => !!consents[name];";

/// The JS category script shape most adapters share: `on` and `all` as `Set`s of CMP names.
fn sets(on: &Names, all: &Names) -> String {
    format!("const on = new Set({on}); const all = new Set({all});")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_adapter_is_listed_once_and_named_in_adapters() {
        let mut seen = std::collections::BTreeSet::new();
        for a in ALL {
            assert!(seen.insert(a.name), "{} twice", a.name);
            assert!(ADAPTERS.contains(&a.name), "{} not in ADAPTERS", a.name);
        }
        assert_eq!(ADAPTERS.len(), ALL.len() + 2);
    }

    #[test]
    fn unknown_adapter_and_unsupported_categories_say_why() {
        let spec = crate::spec::parse_str(
            "site: {url: https://a.example/}\ncategories: {C0002: analytics}\ncmp: trustarc\nstates: {s: {expect: {collection: any}}}\n",
            std::path::Path::new("x.yaml"),
        )
        .expect("spec");
        let e = plan("nope", &CmpAction::AcceptAll, &spec).unwrap_err();
        assert!(e.contains("known: onetrust"), "{e}");
        let c0002 = CmpAction::Categories(vec!["C0002".into()]);
        let e = plan("trustarc", &c0002, &spec).unwrap_err();
        assert!(e.contains("cannot pick categories"), "{e}");
        let p = plan("onetrust", &c0002, &spec).unwrap();
        match p.act {
            Act::Script { script, .. } => assert!(script.contains("[\"C0002\"]"), "{script}"),
            other => panic!("{other:?}"),
        }
    }
}
