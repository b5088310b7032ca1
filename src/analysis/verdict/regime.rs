//! Regimes: the defaults a legal regime adds to a state's expectations (docs/spec.md, `regime`; legal background in docs/segment.md §7).
//!
//! - `gdpr`: a state without steps (the visitor has not decided) defaults to `collection: none`
//!   and `blocked: all`; and the `pii-leak` check also covers every payload sent before the
//!   decision, in every state.
//! - `cpra`: a `gpc: true` state defaults to blocking every destination whose categories include
//!   one with purpose `advertising` (sale/sharing for cross-context advertising must stop on an
//!   opt-out preference signal). An opt-out of sale, sharing or targeted advertising in the IAB
//!   GPP string the page gave vendors (usnat or usca, read at the end of the state) is the same
//!   signal and gets the same default, except in a journey (phases), where one string read at
//!   the end cannot say from when it held.
//!
//! The spec's own value always wins, key by key. A regime `blocked` default never contradicts the
//! spec's own `allowed`: destinations the spec allows are left out of it.

use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::gpp::{self, GppSignal};
use crate::analysis::routing::Resolves;
use crate::capture::Capture;
use crate::spec::{
    Call, Collection, DestinationSet, EventExpectation, Purpose, Regime, Spec, State, Word,
};

/// Where an effective expectation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The state's own `expect`.
    Spec,
    /// A default of the spec's `regime`.
    Regime(Regime),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Spec => f.write_str("spec"),
            Source::Regime(r) => write!(f, "regime {}", r.word()),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub(crate) fn spec(value: T) -> Self {
        Sourced {
            value,
            source: Source::Spec,
        }
    }

    /// ` (regime gdpr)` for a regime default, empty for the spec's own value: for messages.
    pub(crate) fn origin_note(&self) -> String {
        match self.source {
            Source::Spec => String::new(),
            Source::Regime(_) => format!(" ({})", self.source),
        }
    }
}

/// The expectations a state is judged by: its own, completed by the regime's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Effective {
    pub allowed: Option<Sourced<DestinationSet>>,
    pub blocked: Option<Sourced<DestinationSet>>,
    pub(crate) collection: Option<Sourced<Collection>>,
    pub(crate) calls: BTreeMap<Call, Sourced<Collection>>,
    pub(crate) consent: Option<Sourced<BTreeMap<String, bool>>>,
    /// `pii-leak` also covers every payload sent before the decision (gdpr).
    pub(crate) pii_before_decision: Option<Source>,
    /// Destinations the spec declares as needing no consent, with the reason (never blocked).
    pub(crate) exempt: Vec<(String, String)>,
    /// Segment events expected, from the spec.
    pub(crate) events: Vec<Sourced<EventExpectation>>,
    /// Things the spec says that may not mean what it wants (an exempt advertising destination).
    pub warnings: Vec<String>,
    /// A journey's expectations per phase, as lines (`phase withdrawn: blocked: all (spec)`).
    pub(crate) phase_lines: Vec<String>,
    /// The GPP opt-outs that made `cpra` judge the state as under an opt-out preference signal
    /// (`usnat SaleOptOut, …`); absent when none did.
    pub(crate) gpp_opt_out: Option<Sourced<String>>,
}

/// The effective expectations of `state` before a visit (no GPP string known): `explain`.
pub fn effective(spec: &Spec, state: &State, resolved: &impl Resolves) -> Effective {
    effective_signalled(spec, state, resolved, None)
}

/// The effective expectations of `state` after a visit: an opt-out in the GPP string the page gave
/// vendors is an opt-out signal under `cpra` (a string that does not decode signals nothing here;
/// the GPP check reports it).
pub fn effective_of_visit(
    spec: &Spec,
    state: &State,
    resolved: &impl Resolves,
    capture: &Capture,
) -> Effective {
    let signal = capture.gpp.as_deref().and_then(|g| gpp::decode(g).ok());
    effective_signalled(spec, state, resolved, signal.as_ref())
}

/// The effective expectations of `state`, given the GPP string the page gave vendors (decoded;
/// `None` when there was none or it did not decode). Destination categories (for `cpra`) are the
/// resolved ones (spec, else settings); a destination not resolved falls back to the spec's.
pub fn effective_signalled(
    spec: &Spec,
    state: &State,
    resolved: &impl Resolves,
    gpp: Option<&GppSignal>,
) -> Effective {
    let expect = &state.expect;
    let mut eff = Effective {
        allowed: expect.allowed.clone().map(Sourced::spec),
        blocked: expect.blocked.clone().map(Sourced::spec),
        collection: expect.collection.map(Sourced::spec),
        calls: expect
            .calls
            .iter()
            .map(|(c, l)| (*c, Sourced::spec(*l)))
            .collect(),
        consent: expect.consent.clone().map(Sourced::spec),
        pii_before_decision: None,
        exempt: super::exempt::exempted(spec),
        events: expect.events.iter().cloned().map(Sourced::spec).collect(),
        warnings: super::exempt::warnings(spec, resolved),
        phase_lines: Vec::new(),
        gpp_opt_out: None,
    };
    if !state.phases.is_empty() {
        eff.phase_lines = phase_lines(spec, state, resolved);
    }
    match spec.regime {
        Regime::None => {}
        Regime::Gdpr => gdpr_defaults(&mut eff, spec, state),
        Regime::Cpra => cpra_defaults(&mut eff, spec, state, resolved, gpp),
    }
    eff
}

/// A journey's phase expectations, one line each.
fn phase_lines(spec: &Spec, state: &State, resolved: &impl Resolves) -> Vec<String> {
    let mut lines = Vec::new();
    // Phase expectations are the spec's own: no regime default completes them.
    let plain = Spec {
        regime: Regime::None,
        destinations: IndexMap::new(),
        ..spec.clone()
    };
    for (phase, expect) in &state.phases {
        let one = State {
            expect: expect.clone(),
            ..Default::default()
        };
        for line in effective(&plain, &one, resolved).lines() {
            lines.push(format!("phase {phase}: {line}"));
        }
    }
    lines
}

/// gdpr: no personal data before the decision; with no steps, no collection and everything
/// blocked that the spec does not allow.
fn gdpr_defaults(eff: &mut Effective, spec: &Spec, state: &State) {
    let expect = &state.expect;
    let by = |r: Regime| Source::Regime(r);
    // What a gdpr default blocks: everything, less what the spec allows.
    let not_allowed = || -> Option<DestinationSet> {
        match &expect.allowed {
            None => Some(DestinationSet::All),
            Some(DestinationSet::All) => None,
            Some(DestinationSet::Some(allowed)) => Some(DestinationSet::Some(
                spec.destinations
                    .keys()
                    .filter(|n| !allowed.contains(n))
                    .filter(|n| !super::exempt::is_exempt(spec, n))
                    .cloned()
                    .collect(),
            )),
        }
    };
    eff.pii_before_decision = Some(by(Regime::Gdpr));
    if state.steps.is_empty() {
        if eff.collection.is_none() {
            eff.collection = Some(Sourced {
                value: Collection::None,
                source: by(Regime::Gdpr),
            });
        }
        if eff.blocked.is_none()
            && let Some(set) = not_allowed()
        {
            eff.blocked = Some(Sourced {
                value: set,
                source: by(Regime::Gdpr),
            });
        }
    }
}

/// cpra: under GPC or a GPP opt-out, the advertising destinations the spec does not allow are
/// blocked.
fn cpra_defaults(
    eff: &mut Effective,
    spec: &Spec,
    state: &State,
    resolved: &impl Resolves,
    gpp: Option<&GppSignal>,
) {
    let expect = &state.expect;
    let by = |r: Regime| Source::Regime(r);
    // An opt-out in the GPP string is an opt-out preference signal like GPC; a journey's
    // phases say themselves what each phase blocks.
    let gpp_opt_out = gpp
        .filter(|g| state.phases.is_empty() && !g.opted_out().is_empty())
        .map(GppSignal::describe_opted_out);
    if let Some(what) = &gpp_opt_out {
        eff.gpp_opt_out = Some(Sourced {
            value: what.clone(),
            source: by(Regime::Cpra),
        });
    }
    if (state.gpc || gpp_opt_out.is_some()) && eff.blocked.is_none() {
        let advertising = |name: &str| -> bool {
            let cats: Vec<String> = match resolved.resolved(name) {
                Some(d) => d.categories.clone(),
                None => spec
                    .destinations
                    .get(name)
                    .and_then(|d| d.categories.clone())
                    .unwrap_or_default(),
            };
            cats.iter().any(|c| {
                spec.categories
                    .get(c)
                    .is_some_and(|k| k.purpose == Purpose::Advertising)
            })
        };
        // Always an explicit list: `all` would also cover undeclared destinations.
        let set = match &expect.allowed {
            Some(DestinationSet::All) => None,
            allowed => Some(DestinationSet::Some(
                spec.destinations
                    .keys()
                    .filter(|n| advertising(n))
                    .filter(|n| !super::exempt::is_exempt(spec, n))
                    .filter(|n| !allowed.as_ref().is_some_and(|a| a.contains(n)))
                    .cloned()
                    .collect(),
            )),
        };
        if let Some(set) = set {
            eff.blocked = Some(Sourced {
                value: set,
                source: by(Regime::Cpra),
            });
        }
    }
}

impl Effective {
    /// One line per effective expectation with its source, in a fixed order (allowed, blocked,
    /// collection, calls by call type, consent, pii): `collection: none (regime gdpr)`.
    pub fn lines(&self) -> Vec<String> {
        let set = |s: &DestinationSet| match s {
            DestinationSet::All => "all".to_string(),
            DestinationSet::Some(v) => format!("[{}]", v.join(", ")),
        };
        let mut out = Vec::new();
        if let Some(a) = &self.allowed {
            out.push(format!("allowed: {} ({})", set(&a.value), a.source));
        }
        if let Some(b) = &self.blocked {
            out.push(format!("blocked: {} ({})", set(&b.value), b.source));
        }
        if let Some(c) = &self.collection {
            out.push(format!(
                "collection: {} ({})",
                collection_name(c.value),
                c.source
            ));
        }
        for (call, level) in &self.calls {
            out.push(format!(
                "calls.{}: {} ({})",
                call.as_str(),
                collection_name(level.value),
                level.source
            ));
        }
        if let Some(c) = &self.consent {
            let stamp: Vec<String> = c.value.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push(format!("consent: {} ({})", stamp.join(" "), c.source));
        }
        if let Some(s) = &self.pii_before_decision {
            out.push(format!("pii: none before the decision ({s})"));
        }
        for e in &self.events {
            out.push(format!(
                "events: {}: {} ({})",
                e.value.describe(),
                e.value.count_words(),
                e.source
            ));
        }
        for (name, reason) in &self.exempt {
            out.push(format!("exempt: {name}: {reason} (spec)"));
        }
        if let Some(g) = &self.gpp_opt_out {
            out.push(format!("opt-out signal: GPP {} ({})", g.value, g.source));
        }
        out.extend(self.phase_lines.iter().cloned());
        out
    }
}

pub(crate) fn collection_name(c: Collection) -> &'static str {
    match c {
        Collection::None => "none",
        Collection::Anonymous => "anonymous",
        Collection::Any => "any",
    }
}
