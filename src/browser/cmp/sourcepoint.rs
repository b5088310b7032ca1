//! Sourcepoint, TCF message (commercial, cannot load offline). Built from Sourcepoint's public
//! documentation: the first-layer message renders in an iframe `iframe[id^=sp_message_iframe_]`
//! (inside `div[id^=sp_message_container_]`) whose buttons carry the choice type as a class
//! (`sp_choice_type_11` accept all, `sp_choice_type_13` reject all); `window._sp_` holds the
//! configuration; the choice is read through the IAB TCF API (`__tcfapi('getTCData', 2, cb)`), so
//! categories are TCF purpose numbers (`1` … `11`). Custom choices live in the privacy manager
//! (another frame), so the adapter offers accept-all and reject-all only. Tested against an
//! imitation (`tests/fixtures/cmp/sourcepoint/`).

use super::{Adapter, Do};

/// A first-layer button, by its choice type's class.
const fn choice(selector: &'static str) -> Do {
    Do::ClickInFrame {
        frame: "iframe[id^=sp_message_iframe_]",
        selector,
    }
}

pub(super) const ADAPTER: Adapter = Adapter {
    name: "sourcepoint",
    detect: "window._sp_ || window._sp_queue || document.querySelector('iframe[id^=sp_message_iframe_], div[id^=sp_message_container_]')",
    banner: "visible('iframe[id^=sp_message_iframe_]')",
    accept_all: choice(".sp_choice_type_11"),
    reject_all: choice(".sp_choice_type_13"),
    categories: None,
    reopen: None,
    choice: super::TCF_CHOICE,
};
