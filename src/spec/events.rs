//! Event expectations (`expect.events`): Segment events a state must or must not send, matched by
//! call type, event name, phase and consent stamp, and by the presence or absence of field names
//! (never their values), with a count.

use std::collections::BTreeMap;

use serde::Serialize;

use super::types::Call;

/// When an event was sent, relative to the state's decision.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema, strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
pub enum EventPhase {
    /// Before the decision step ran (in a state without steps: the whole visit).
    Before,
    /// From the decision step on.
    After,
}

/// The consent stamp an event must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StampMatch {
    /// `context.consent.categoryPreferences` holds each of these categories with this value
    /// (other categories may be present).
    Categories(BTreeMap<String, bool>),
    /// No `categoryPreferences` at all.
    Unstamped,
}

/// One `expect.events` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventExpectation {
    pub call: Option<Call>,
    /// Track `event`, page/screen `name`.
    pub event: Option<String>,
    pub phase: Option<EventPhase>,
    pub stamp: Option<StampMatch>,
    /// Dotted field paths every matching event carries (`properties.product_id`).
    pub has: Vec<String>,
    /// Dotted field paths no matching event carries (`traits.email`).
    pub lacks: Vec<String>,
    /// At least this many matching events.
    pub min: u32,
    /// At most this many (`never: true` is 0).
    pub max: Option<u32>,
    /// 1-based line of the item in the spec file.
    pub line: usize,
}

impl EventExpectation {
    /// The matcher in words: `track "Segment Consent Preference Updated" after the decision
    /// stamped C0002=true`.
    pub fn describe(&self) -> String {
        let mut out = match (&self.call, &self.event) {
            (Some(c), Some(e)) => format!("{} {e:?}", c.as_str()),
            (Some(c), None) => c.as_str().to_string(),
            (None, Some(e)) => format!("event {e:?}"),
            (None, None) => "any event".to_string(),
        };
        match self.phase {
            Some(EventPhase::Before) => out.push_str(" before the decision"),
            Some(EventPhase::After) => out.push_str(" after the decision"),
            None => {}
        }
        match &self.stamp {
            Some(StampMatch::Categories(c)) => {
                let s: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!(" stamped {}", s.join(" ")));
            }
            Some(StampMatch::Unstamped) => out.push_str(" unstamped"),
            None => {}
        }
        if !self.has.is_empty() {
            out.push_str(&format!(" with {}", self.has.join(", ")));
        }
        if !self.lacks.is_empty() {
            out.push_str(&format!(" without {}", self.lacks.join(", ")));
        }
        out
    }

    /// The count in words: `never`, `exactly 1`, `at least 1`, `1 to 3`.
    pub fn count_words(&self) -> String {
        match (self.min, self.max) {
            (_, Some(0)) => "never".to_string(),
            (a, Some(b)) if a == b => format!("exactly {a}"),
            (0, Some(b)) => format!("at most {b}"),
            (a, Some(b)) => format!("{a} to {b}"),
            (a, None) => format!("at least {a}"),
        }
    }
}
