//! `unknown-recipient`: in a state that blocks something, every third-party host that received a
//! request must be accounted for: a declared destination (by the catalog, the spec's `hosts:` or
//! a payload signature), Segment, the site itself, or a host `site.allow_hosts` allows. Anything
//! else is data leaving for a recipient no expectation covers (an unknown relay, a tag nobody
//! declared). Strict by default under `regime: gdpr`; under the other regimes the check runs
//! once the spec writes `site.allow_hosts` (even empty).

use std::collections::BTreeMap;

use crate::analysis::routing::{Routing, UnknownRequest};
use crate::capture::Phase;
use crate::outcome::{CheckId, Evidence, Failure};
use crate::spec::{Collection, DestinationSet, Regime, Spec, State};

use super::Effective;

/// Whether the check judges this spec at all: gdpr, or an `allow_hosts` written.
pub fn judged(spec: &Spec) -> bool {
    spec.regime == Regime::Gdpr || spec.site.allow_hosts.is_some()
}

/// Whether the state blocks something: a destination, or all collection.
fn blocks_something(eff: &Effective) -> bool {
    let blocked = eff.blocked.as_ref().is_some_and(|b| match &b.value {
        DestinationSet::All => true,
        DestinationSet::Some(v) => !v.is_empty(),
    });
    blocked
        || eff
            .collection
            .as_ref()
            .is_some_and(|c| c.value == Collection::None)
}

/// One failure per unaccounted third-party host, in host order. The window is `blocked`'s: the
/// whole visit in a state without steps, from the decision on in a state with steps.
pub(super) fn unknown(
    spec: &Spec,
    state: &State,
    eff: &Effective,
    routed: &Routing,
) -> Vec<Failure> {
    if !judged(spec) || !blocks_something(eff) {
        return Vec::new();
    }
    let allow = spec.site.allow_hosts.as_ref();
    let in_window = |p: Phase| state.steps.is_empty() || p == Phase::After;
    let mut by_host: BTreeMap<&str, Vec<&UnknownRequest>> = BTreeMap::new();
    for u in routed.unknown.iter().filter(|u| in_window(u.phase)) {
        if allow.is_some_and(|a| a.matches(&u.host)) {
            continue;
        }
        by_host.entry(u.host.as_str()).or_default().push(u);
    }
    let why = if spec.site.allow_hosts.is_some() {
        "and `site.allow_hosts` does not allow it"
    } else {
        "and the spec writes no `site.allow_hosts` (strict under regime gdpr)"
    };
    by_host
        .into_iter()
        .map(|(host, reqs)| Failure {
            check: CheckId::UnknownRecipient,
            destination: Some(host.to_string()),
            message: format!(
                "`{host}` is a third-party host that received {} request{} in a state that blocks \
                 data, but no declared destination claims it {why}: declare the destination it \
                 feeds (`hosts: [{host}]`), or add it to `site.allow_hosts` if it receives \
                 nothing personal",
                reqs.len(),
                if reqs.len() == 1 { "" } else { "s" },
            ),
            evidence: reqs
                .iter()
                .map(|u| Evidence {
                    at_ms: u.at_ms,
                    phase: Some(u.phase),
                    what: u.describe(),
                })
                .collect(),
        })
        .collect()
}
