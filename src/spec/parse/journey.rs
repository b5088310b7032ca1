//! The parts of a state that describe a consent journey beyond v1: consent-exempt destinations
//! (`destinations.<name>.exempt`) and event expectations (`expect.events`). Kept apart from the
//! v1 parser so that every v1 spec reads exactly as before.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_yaml::Value;

use super::super::locate::{Seg, segs};
use super::super::types::{
    Call, Category, Decision, Destination, DestinationSet, EventExpectation, EventPhase, Expect,
    StampMatch, Step, Word,
};
use super::{Cx, RawExpect, kind_of, unknown_help};

/// One `expect.events` item as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvent {
    /// Segment call type: `page`, `identify`, `track`, `group`, `alias`, `screen`.
    #[schemars(with = "Option<crate::spec::Call>")]
    call: Option<String>,
    /// Track event name, or page/screen name.
    event: Option<String>,
    /// `before` or `after` the decision.
    #[schemars(with = "Option<EventPhase>")]
    phase: Option<String>,
    /// `{C0002: true}` (these categories with these values) or `unstamped`.
    #[schemars(with = "Option<super::super::schema_shapes::StampSchema>")]
    stamp: Option<Value>,
    /// Field paths every matching event carries (`properties.product_id`).
    has: Option<Vec<String>>,
    /// Field paths no matching event carries (`traits.email`).
    lacks: Option<Vec<String>>,
    /// Exactly this many matching events.
    count: Option<u32>,
    /// At least this many.
    min: Option<u32>,
    /// At most this many.
    max: Option<u32>,
    /// `true`: no matching event at all.
    never: Option<bool>,
}

/// The phase before a state's first decision, in `phases:`.
pub(crate) const BEFORE: &str = "before";

impl Cx<'_> {
    /// `rest` under the expectations being read ([`Cx::expect_at`]).
    pub(super) fn at(&self, rest: Vec<Seg>) -> Vec<Seg> {
        let mut p = self.expect_at.clone();
        p.extend(rest);
        p
    }

    /// A state's steps without their `decision: NAME` markers, and its decisions: each marker
    /// names the step after it; without markers, the first `cmp` step (else the first step) is
    /// the one unnamed decision.
    pub(super) fn steps_and_decisions(
        &mut self,
        state: &str,
        raw: Vec<IndexMap<String, Value>>,
        categories: &IndexMap<String, Category>,
        cmp_declared: bool,
    ) -> (Vec<Step>, Vec<Decision>) {
        let mut steps = Vec::new();
        let mut decisions: Vec<Decision> = Vec::new();
        let mut pending: Option<(usize, String)> = None;
        for (i, step) in raw.into_iter().enumerate() {
            if step.len() == 1
                && let Some(v) = step.get("decision")
            {
                if let Some(name) = self.decision_marker(state, i, v, pending.is_some(), &decisions)
                {
                    pending = Some((i, name));
                }
                continue;
            }
            if let Some(s) = self.step(state, i, step, categories, cmp_declared) {
                steps.push(s);
                if let Some((_, name)) = pending.take() {
                    decisions.push(Decision {
                        step: steps.len() - 1,
                        name: Some(name),
                    });
                }
            }
        }
        if let Some((i, name)) = pending {
            self.key_err(
                &segs!["states", state, "steps", i, "decision"],
                format!("decision `{name}` in state `{state}` is not followed by a step"),
                Some("put the marker just before the step that makes the decision".into()),
            );
        }
        if decisions.is_empty() && !steps.is_empty() {
            let step = steps
                .iter()
                .position(|s| matches!(s, Step::Cmp(_)))
                .unwrap_or(0);
            decisions.push(Decision { step, name: None });
        }
        (steps, decisions)
    }

    /// A `decision: NAME` marker in step `i`: its name, or `None` when it has none. `pending`:
    /// the step before was a marker too.
    fn decision_marker(
        &mut self,
        state: &str,
        i: usize,
        v: &Value,
        pending: bool,
        decisions: &[Decision],
    ) -> Option<String> {
        let p = segs!["states", state, "steps", i, "decision"];
        let name = match v {
            Value::String(n) if !n.trim().is_empty() => n.trim().to_string(),
            other => {
                self.value_err(
                    &p,
                    format!(
                        "`decision` in step {} of state `{state}` needs a phase name, found {}",
                        i + 1,
                        kind_of(other)
                    ),
                    Some("write `- decision: withdrawn` before the step that decides".into()),
                );
                return None;
            }
        };
        if name == BEFORE {
            self.value_err(
                &p,
                format!("`{BEFORE}` names what comes before the first decision"),
                Some("give the decision another name, e.g. `accepted`".into()),
            );
        }
        if pending {
            self.key_err(
                &p,
                format!("two `decision:` markers in a row in state `{state}`"),
                Some("a marker names the one step after it".into()),
            );
        }
        if decisions
            .iter()
            .any(|d| d.name.as_deref() == Some(name.as_str()))
        {
            self.value_err(
                &p,
                format!("decision `{name}` is named twice in state `{state}`"),
                Some("each phase of a journey has its own name".into()),
            );
        }
        Some(name)
    }

    /// `phases.<name>`: expectations per named decision.
    pub(super) fn phases(
        &mut self,
        state: &str,
        raw: IndexMap<String, RawExpect>,
        decisions: &[Decision],
        categories: &IndexMap<String, Category>,
        destinations: &IndexMap<String, Destination>,
    ) -> IndexMap<String, Expect> {
        let mut names: Vec<&str> = decisions.iter().filter_map(|d| d.name.as_deref()).collect();
        if !decisions.is_empty() {
            // Before the first decision.
            names.push(BEFORE);
        }
        let mut out = IndexMap::new();
        for (phase, expect) in raw {
            let p = segs!["states", state, "phases", &phase];
            if !names.contains(&phase.as_str()) {
                self.key_err(
                    &p,
                    format!("phase `{phase}` of state `{state}` names no decision"),
                    Some(if names.is_empty() {
                        "mark the step that decides with `- decision: NAME` just before it".into()
                    } else {
                        unknown_help(&phase, &names, "decisions of this state:")
                    }),
                );
                continue;
            }
            if expect.tcf.is_some() {
                // The TC string is read once, at the end of the visit: only a state can judge it.
                self.key_err(
                    &segs!["states", state, "phases", &phase, "tcf"],
                    format!("`tcf` cannot be judged per phase (phase `{phase}` of state `{state}`)"),
                    Some("the TC string is read at the end of the state: move it to the state's `expect.tcf`".into()),
                );
            }
            if expect.gpp.is_some() {
                // Like the TC string, the GPP string is read once, at the end of the visit.
                self.key_err(
                    &segs!["states", state, "phases", &phase, "gpp"],
                    format!("`gpp` cannot be judged per phase (phase `{phase}` of state `{state}`)"),
                    Some("the GPP string is read at the end of the state: move it to the state's `expect.gpp`".into()),
                );
            }
            self.expect_at = p;
            let e = self.expect(state, Some(expect), categories, destinations);
            out.insert(phase, e);
        }
        out
    }

    /// `destinations.<name>.exempt`: a non-empty reason, and no consent categories beside it.
    pub(super) fn exempt(
        &mut self,
        name: &str,
        reason: Option<String>,
        categories: Option<&Vec<String>>,
    ) -> Option<String> {
        let reason = reason?;
        let p = segs!["destinations", name, "exempt"];
        if reason.trim().is_empty() {
            self.value_err(
                &p,
                format!("`exempt` of destination `{name}` needs a reason"),
                Some(
                    "say why it needs no consent, e.g. `exempt: fraud prevention (strictly \
                     necessary)`; the reason is shown in snapshots and the report"
                        .into(),
                ),
            );
            return None;
        }
        if categories.is_some_and(|c| !c.is_empty()) {
            self.key_err(
                &p,
                format!("destination `{name}` is exempt from consent but also lists `categories`"),
                Some(
                    "an exempt destination needs no consent category: remove `categories` or \
                     `exempt`"
                        .into(),
                ),
            );
        }
        Some(reason.trim().to_string())
    }

    /// An exempt destination is never blocked: naming one in `expect.blocked` is a mistake.
    pub(super) fn check_not_exempt(
        &mut self,
        state: &str,
        blocked: &DestinationSet,
        exempt: &BTreeMap<&str, &str>,
    ) {
        let DestinationSet::Some(names) = blocked else {
            return;
        };
        for (i, n) in names.iter().enumerate() {
            if let Some(reason) = exempt.get(n.as_str()) {
                self.value_err(
                    &self.at(segs!["blocked", i]),
                    format!("`{n}` is exempt from consent ({reason}) and cannot be blocked in state `{state}`"),
                    Some("remove it from `blocked`, or drop its `exempt`".into()),
                );
            }
        }
    }

    /// `expect.events`, validated.
    pub(super) fn events(
        &mut self,
        state: &str,
        raw: Vec<RawEvent>,
        categories: &IndexMap<String, Category>,
    ) -> Vec<EventExpectation> {
        let mut out = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            out.extend(self.event(state, i, r, categories));
        }
        out
    }

    /// One `expect.events` item, or `None` after reporting what is wrong with it.
    fn event(
        &mut self,
        state: &str,
        i: usize,
        mut r: RawEvent,
        categories: &IndexMap<String, Category>,
    ) -> Option<EventExpectation> {
        let p = self.at(segs!["events", i]);
        let line = self.locate(&p, false).line;
        let key = |k: &str| {
            let mut kp = p.clone();
            kp.push(Seg::Key(k.to_string()));
            kp
        };
        let mut ok = true;
        let call = match &r.call {
            None => None,
            Some(c) => self.event_call(&key("call"), state, c, &mut ok),
        };
        let phase = match &r.phase {
            None => None,
            Some(w) => {
                let v = self.pick::<EventPhase>(&key("phase"), "phase", w);
                ok &= v.is_some();
                v
            }
        };
        let stamp = match r.stamp.take() {
            None => None,
            Some(v) => self.event_stamp(&key("stamp"), v, categories, &mut ok),
        };
        let has = self.field_paths(&key("has"), r.has.take(), &mut ok);
        let lacks = self.field_paths(&key("lacks"), r.lacks.take(), &mut ok);
        let (min, max) = self.event_counts(&p, state, i, &r, &mut ok);
        ok.then_some(EventExpectation {
            call,
            event: r.event,
            phase,
            stamp,
            has,
            lacks,
            min,
            max,
            line,
        })
    }

    /// The counts of an `expect.events` item (`count`, `never`, `min`/`max`) as (min, max);
    /// `ok` turns false when they contradict each other.
    fn event_counts(
        &mut self,
        p: &[Seg],
        state: &str,
        i: usize,
        r: &RawEvent,
        ok: &mut bool,
    ) -> (u32, Option<u32>) {
        let key = |k: &str| {
            let mut kp = p.to_vec();
            kp.push(Seg::Key(k.to_string()));
            kp
        };
        let never = r.never == Some(true);
        let (min, max) = match (r.count, r.min, r.max, never) {
            (None, None, None, false) => (1, None),
            (None, None, None, true) => (0, Some(0)),
            (Some(n), None, None, false) => (n, Some(n)),
            (None, min, max, false) => (min.unwrap_or(0), max),
            _ => {
                *ok = false;
                self.value_err(
                    p,
                    format!(
                        "item {} of state `{state}` expect.events mixes its counts",
                        i + 1
                    ),
                    Some(
                        "give one of `count: N`, `never: true`, or `min:`/`max:` (default: \
                         at least 1)"
                            .into(),
                    ),
                );
                (1, None)
            }
        };
        if let Some(max) = max
            && min > max
        {
            *ok = false;
            self.value_err(
                &key("min"),
                format!("`min: {min}` is more than `max: {max}`"),
                None,
            );
        }
        if r.never == Some(false) {
            *ok = false;
            self.value_err(
                &key("never"),
                "`never: false` says nothing".into(),
                Some("drop it; an item without a count means at least 1".into()),
            );
        }
        (min, max)
    }

    /// `call:` of an `expect.events` item; `ok` turns false on an unknown word.
    fn event_call(&mut self, kp: &[Seg], state: &str, c: &str, ok: &mut bool) -> Option<Call> {
        match Call::from_word(c) {
            Some(c) => Some(c),
            None => {
                let help = super::word_help::<Call>(c, "call types:");
                self.value_err(
                    kp,
                    format!("unknown call type `{c}` in state `{state}` expect.events"),
                    Some(help),
                );
                *ok = false;
                None
            }
        }
    }

    /// `stamp:` of an `expect.events` item: `unstamped` or category → true/false.
    fn event_stamp(
        &mut self,
        sp: &[Seg],
        value: Value,
        categories: &IndexMap<String, Category>,
        ok: &mut bool,
    ) -> Option<StampMatch> {
        match value {
            Value::String(s) if s == "unstamped" => Some(StampMatch::Unstamped),
            Value::Mapping(m) => {
                let mut cats = BTreeMap::new();
                for (k, v) in m {
                    match (k, v) {
                        (Value::String(id), Value::Bool(b)) => {
                            let mut cp = sp.to_vec();
                            cp.push(Seg::Key(id.clone()));
                            self.check_category(&cp, &id, categories, true);
                            cats.insert(id, b);
                        }
                        (_, other) => {
                            *ok = false;
                            self.value_err(
                                sp,
                                format!(
                                    "`stamp` values are `true` or `false`, found {}",
                                    kind_of(&other)
                                ),
                                Some("write `stamp: {C0002: true}`".into()),
                            );
                        }
                    }
                }
                Some(StampMatch::Categories(cats))
            }
            other => {
                *ok = false;
                self.value_err(
                    sp,
                    format!(
                        "`stamp` must be a mapping of category to true/false or `unstamped`, found {}",
                        kind_of(&other)
                    ),
                    Some("write `stamp: {C0002: true}` or `stamp: unstamped`".into()),
                );
                None
            }
        }
    }

    /// `has:`/`lacks:` of an `expect.events` item: dotted field paths.
    fn field_paths(&mut self, wp: &[Seg], v: Option<Vec<String>>, ok: &mut bool) -> Vec<String> {
        let v = v.unwrap_or_default();
        for (j, f) in v.iter().enumerate() {
            if f.trim().is_empty() || f.split('.').any(str::is_empty) {
                let mut fp = wp.to_vec();
                fp.push(Seg::Index(j));
                self.value_err(
                    &fp,
                    format!("`{f}` is not a field path"),
                    Some(
                        "write a dotted path into the event, e.g. `properties.product_id` \
                         or `traits.email`"
                            .into(),
                    ),
                );
                *ok = false;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::{Call, EventPhase, StampMatch, parse_str};

    const HEAD: &str =
        "site: {url: https://a.example/}\ncategories: {C0002: analytics, C0004: advertising}\n";

    fn parse(rest: &str) -> Result<crate::spec::Spec, String> {
        parse_str(&format!("{HEAD}{rest}"), Path::new("t.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn exempt_needs_a_reason_and_no_categories_and_is_never_blocked() {
        let s = parse(
            "destinations: {Sift: {mode: cloud, exempt: \" fraud \"}, GA: {}}\n\
             states: {a: {expect: {blocked: all, allowed: [Sift]}}}\n",
        )
        .expect("valid");
        assert_eq!(s.destinations["Sift"].exempt.as_deref(), Some("fraud"));
        let e = parse(
            "destinations: {Sift: {exempt: \"\"}}\nstates: {a: {expect: {collection: any}}}\n",
        )
        .unwrap_err();
        assert!(e.contains("needs a reason"), "{e}");
        let e = parse(
            "destinations: {Sift: {exempt: fraud, categories: [C0002]}}\n\
             states: {a: {expect: {collection: any}}}\n",
        )
        .unwrap_err();
        assert!(e.contains("also lists `categories`"), "{e}");
        let e = parse(
            "destinations: {Sift: {exempt: fraud}}\nstates: {a: {expect: {blocked: [Sift]}}}\n",
        )
        .unwrap_err();
        assert!(e.contains("cannot be blocked"), "{e}");
    }

    #[test]
    fn events_read_with_their_counts() {
        let s = parse(
            "states:\n  a:\n    expect:\n      events:\n\
             \x20       - {call: track, event: X, phase: after, stamp: {C0002: true}, count: 2, has: [properties.id]}\n\
             \x20       - {call: identify, never: true}\n\
             \x20       - {stamp: unstamped, min: 0, max: 3, lacks: [traits.email]}\n\
             \x20       - {event: Y}\n",
        )
        .expect("valid");
        let ev = &s.states["a"].expect.events;
        assert_eq!(ev.len(), 4);
        assert_eq!(ev[0].call, Some(Call::Track));
        assert_eq!(ev[0].phase, Some(EventPhase::After));
        assert_eq!((ev[0].min, ev[0].max), (2, Some(2)));
        assert!(matches!(&ev[0].stamp, Some(StampMatch::Categories(c)) if c["C0002"]));
        assert_eq!((ev[1].min, ev[1].max), (0, Some(0)));
        assert_eq!(ev[2].stamp, Some(StampMatch::Unstamped));
        assert_eq!((ev[2].min, ev[2].max), (0, Some(3)));
        assert_eq!((ev[3].min, ev[3].max), (1, None));
        assert_eq!(ev[0].line, 7);
    }

    #[test]
    fn bad_event_items_are_located_errors() {
        for (item, want) in [
            ("{call: trak}", "unknown call type `trak`"),
            ("{count: 1, never: true}", "mixes its counts"),
            ("{min: 3, max: 1}", "is more than"),
            ("{never: false}", "says nothing"),
            ("{stamp: {C0009: true}}", "unknown category `C0009`"),
            ("{stamp: yes}", "`stamp` must be"),
            ("{has: [\"a..b\"]}", "not a field path"),
            ("{phase: during}", "unknown phase `during`"),
            ("{colour: red}", "unknown key `colour`"),
        ] {
            let e = parse(&format!(
                "states: {{a: {{expect: {{events: [{item}]}}}}}}\n"
            ))
            .expect_err(item);
            assert!(e.contains(want), "{item}: {e}");
            assert!(e.contains("t.yaml:"), "{item}: located: {e}");
        }
    }
}
