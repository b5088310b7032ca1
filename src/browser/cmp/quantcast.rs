//! Quantcast Choice / InMobi Choice, TCF (commercial, cannot load offline). Built from the public
//! documentation of its UI (`#qc-cmp2-container`, `#qc-cmp2-ui`, first-layer buttons in
//! `.qc-cmp2-summary-buttons`: `mode=primary` agrees, the `mode=secondary` "Disagree" / "Reject
//! all" button refuses) and of the IAB TCF API it implements (`__tcfapi('getTCData', 2, cb)`), so
//! categories are TCF purpose numbers (`1` … `11`). Custom choices live on a second layer of
//! per-purpose toggles, so the adapter offers accept-all and reject-all only. Tested against an
//! imitation (`tests/fixtures/cmp/quantcast/`).

use super::{Adapter, Do};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "quantcast",
    detect: "document.querySelector('#qc-cmp2-container, #qc-cmp2-ui')",
    banner: "visible('#qc-cmp2-ui')",
    accept_all: Do::Click("#qc-cmp2-ui .qc-cmp2-summary-buttons button[mode=primary]"),
    reject_all: Do::Click(
        "#qc-cmp2-ui .qc-cmp2-summary-buttons button[mode=secondary]:text-matches('disagree|reject', 'i')",
    ),
    categories: None,
    reopen: None,
    choice: super::TCF_CHOICE,
};
