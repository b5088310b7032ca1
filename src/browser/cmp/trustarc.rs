//! TrustArc (commercial, cannot load offline). Built from TrustArc's public documentation of its
//! banner (`#truste-consent-track` with `#truste-consent-button` and `#truste-consent-required`)
//! and of its Consent Manager API (`truste.cma.callApi('getGDPRConsentDecision', domain)` →
//! `{consentDecision: [1, 2, 3], source: 'asserted' | 'implied'}`), and from TrustArc's own Segment
//! integration (`trustarc-segment-wrapper`, `src/lib/trustarc-api.ts`): buckets are numbered from
//! 1 (`1` required, `2` functional, `3` advertising; `[0]` is no decision), the domain is
//! `truste.eu.bindMap.domain`, and the wrapper names Segment categories `ta-1` … `ta-n` after the
//! buckets (`bindMap.categoryCount` of them). Categories are bucket numbers (`"2"`) or the
//! wrapper's names (`ta-2`), so a spec written with the wrapper's names needs no `cmp:` mapping.
//! Its preference manager is a cross-origin frame, so the adapter offers accept-all and reject-all
//! only. Tested against an imitation (`tests/fixtures/cmp/trustarc/`).

use super::{Adapter, Do};

pub(super) const ADAPTER: Adapter = Adapter {
    name: "trustarc",
    detect: "window.truste || document.querySelector('#truste-consent-track, #teconsent')",
    banner: "visible('#truste-consent-track')",
    accept_all: Do::Click("#truste-consent-button"),
    reject_all: Do::Click("#truste-consent-required"),
    categories: None,
    // Reopening is the `#teconsent` link's preference manager, a cross-origin frame: not offered.
    reopen: None,
    choice: "const t = window.truste; if (!t || !t.cma || !t.cma.callApi) return null; \
             const domain = (t.eu && t.eu.bindMap && t.eu.bindMap.domain) || location.hostname; \
             const d = t.cma.callApi('getGDPRConsentDecision', domain); \
             if (!d || d.source !== 'asserted') return null; \
             const got = (d.consentDecision || []).map(String).filter(b => b !== '0'); \
             if (got.length === 0) return null; \
             const bucket = (name) => String(name).replace(/^ta-/, ''); \
             const accepted = (name) => got.includes(bucket(name));",
};
