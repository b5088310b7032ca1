//! TrustArc (commercial, cannot load offline). Built from TrustArc's public documentation of its
//! banner (`#truste-consent-track` with `#truste-consent-button` and `#truste-consent-required`)
//! and of its Consent Manager API (`truste.cma.callApi('getGDPRConsentDecision', domain)` →
//! `{consentDecision: [0, 1, 2], source: 'asserted' | 'implied'}`). Categories are TrustArc's
//! buckets `0` (required), `1` (functional), `2` (advertising); its preference manager is a
//! cross-origin frame, so the adapter offers accept-all and reject-all only. Tested against an
//! imitation (`tests/fixtures/cmp/trustarc/`).

use super::{Adapter, Do};

pub const ADAPTER: Adapter = Adapter {
    name: "trustarc",
    detect: "window.truste || document.querySelector('#truste-consent-track, #teconsent')",
    banner: "visible('#truste-consent-track')",
    accept_all: Do::Click("#truste-consent-button"),
    reject_all: Do::Click("#truste-consent-required"),
    categories: None,
    choice: "const t = window.truste; if (!t || !t.cma || !t.cma.callApi) return null; \
             const d = t.cma.callApi('getGDPRConsentDecision', location.hostname); \
             if (!d || d.source !== 'asserted') return null; \
             const got = (d.consentDecision || []).map(String); \
             const accepted = (name) => got.includes(String(name));",
};
