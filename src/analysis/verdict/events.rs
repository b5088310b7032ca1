//! `expect.events`: Segment events a state must or must not send (checks `event-missing` and
//! `event-unexpected`). An item matches events by call type, event name, phase, consent stamp and
//! the presence or absence of field paths (never values), and bounds how many match. A failure
//! names the matcher, how many matched, what was seen instead (the events that came closest and
//! why each did not match) and when.

use crate::analysis::segment::{ConsentStamp, Decoded, SegmentEvent};
use crate::capture::Phase;
use crate::outcome::{CheckId, Failure};
use crate::spec::{EventExpectation, EventPhase, StampMatch};

use super::{Sourced, event_evidence, plural};

/// Near misses shown in a failure.
const SHOWN: usize = 5;

/// One failure per expectation whose count is out of bounds. `partial`: the visit stopped early,
/// so only upper bounds (`max`, `never`) are judged.
pub(super) fn check(
    expected: &[Sourced<EventExpectation>],
    decoded: &Decoded,
    partial: bool,
    when: impl Fn(Phase) -> &'static str,
) -> Vec<Failure> {
    let mut out = Vec::new();
    for x in expected {
        let x = &x.value;
        let matched: Vec<&SegmentEvent> = decoded
            .events
            .iter()
            .filter(|e| mismatch(x, e).is_none())
            .collect();
        let n = matched.len() as u32;
        let what = format!(
            "expect.events (line {}): {} {}",
            x.line,
            x.count_words(),
            x.describe()
        );
        if let Some(max) = x.max
            && n > max
        {
            let first = matched[0];
            out.push(Failure {
                check: CheckId::EventUnexpected,
                destination: None,
                message: format!(
                    "{what}, but {n} event{} matched; the first at {} ms, {}",
                    plural(matched.len()),
                    first.at_ms,
                    when(first.phase)
                ),
                evidence: matched.iter().map(|e| event_evidence(e)).collect(),
            });
        } else if n < x.min && !partial {
            let (near, instead) = seen_instead(x, decoded);
            out.push(Failure {
                check: CheckId::EventMissing,
                destination: None,
                message: format!(
                    "{what}, but {n} event{} matched; {instead}",
                    plural(matched.len())
                ),
                evidence: near.iter().map(|(e, _)| event_evidence(e)).collect(),
            });
        }
    }
    out
}

/// What came closest to an expectation no event met: events of the same call type and name,
/// each with why it missed; else every event of the call type. Returns the near misses and the
/// words for the failure.
fn seen_instead<'d>(
    x: &EventExpectation,
    decoded: &'d Decoded,
) -> (Vec<(&'d SegmentEvent, String)>, String) {
    let near: Vec<(&SegmentEvent, String)> = decoded
        .events
        .iter()
        .filter(|e| x.call.is_none_or(|c| c == e.call))
        .filter(|e| x.event.is_none() || e.name == x.event)
        .filter_map(|e| mismatch(x, e).map(|why| (e, why)))
        .collect();
    let instead = if near.is_empty() {
        match (&x.call, &x.event) {
            (Some(c), Some(_)) => {
                let names: Vec<String> = decoded
                    .events
                    .iter()
                    .filter(|e| e.call == *c)
                    .map(super::describe_event)
                    .collect();
                if names.is_empty() {
                    format!("no {} event was sent at all", c.as_str())
                } else {
                    let mut uniq = names.clone();
                    uniq.dedup();
                    format!("seen instead: {}", uniq.join(", "))
                }
            }
            _ => "nothing like it was sent".to_string(),
        }
    } else {
        let shown: Vec<String> = near
            .iter()
            .take(SHOWN)
            .map(|(e, why)| format!("{} at {} ms {}", super::describe_event(e), e.at_ms, why))
            .collect();
        format!(
            "seen instead: {}{}",
            shown.join("; "),
            if near.len() > SHOWN {
                format!("; and {} more", near.len() - SHOWN)
            } else {
                String::new()
            }
        )
    };
    (near, instead)
}

/// Why `e` does not match `x` (`None`: it matches), in words for "seen instead".
fn mismatch(x: &EventExpectation, e: &SegmentEvent) -> Option<String> {
    if x.call.is_some_and(|c| c != e.call) {
        return Some(format!("is a {} call", e.call.as_str()));
    }
    if x.event.is_some() && e.name != x.event {
        return Some(format!(
            "is named {}",
            e.name
                .as_deref()
                .map_or("nothing".to_string(), |n| format!("{n:?}"))
        ));
    }
    if let Some(p) = x.phase {
        let want = match p {
            EventPhase::Before => Phase::Before,
            EventPhase::After => Phase::After,
        };
        if e.phase != want {
            return Some(format!("was sent {} the decision", e.phase));
        }
    }
    match (&x.stamp, &e.consent) {
        (None, _) => {}
        (Some(StampMatch::Unstamped), ConsentStamp::Preferences(_)) => {
            return Some(format!("was stamped {}", e.consent));
        }
        (Some(StampMatch::Unstamped), _) => {}
        (Some(StampMatch::Categories(want)), ConsentStamp::Preferences(got)) => {
            let diffs: Vec<String> = want
                .iter()
                .filter(|(k, v)| got.get(*k) != Some(*v))
                .map(|(k, _)| {
                    format!(
                        "{k}={}",
                        got.get(k).map_or("nothing".to_string(), |g| g.to_string())
                    )
                })
                .collect();
            if !diffs.is_empty() {
                return Some(format!("was stamped {}", diffs.join(" ")));
            }
        }
        (Some(StampMatch::Categories(_)), other) => {
            return Some(format!("was stamped {other}"));
        }
    }
    if let Some(f) = x.has.iter().find(|f| !present(&e.payload, f)) {
        return Some(format!("has no {f}"));
    }
    if let Some(f) = x.lacks.iter().find(|f| present(&e.payload, f)) {
        return Some(format!("has {f}"));
    }
    None
}

/// Whether the dotted `path` names a non-null value in `payload`.
fn present(payload: &serde_json::Value, path: &str) -> bool {
    let mut v = payload;
    for seg in path.split('.') {
        match v.get(seg) {
            Some(next) => v = next,
            None => return false,
        }
    }
    !v.is_null()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Call;
    use serde_json::json;

    fn x(call: Option<Call>, event: Option<&str>) -> EventExpectation {
        EventExpectation {
            call,
            event: event.map(str::to_string),
            phase: None,
            stamp: None,
            has: Vec::new(),
            lacks: Vec::new(),
            min: 1,
            max: None,
            line: 1,
        }
    }

    #[test]
    fn field_paths_are_presence_only() {
        let p = json!({"properties": {"email": "", "n": null}, "traits": {}});
        assert!(present(&p, "properties.email"));
        assert!(!present(&p, "properties.n"));
        assert!(!present(&p, "traits.email"));
        assert!(!present(&p, "context.traits"));
    }

    #[test]
    fn count_words_read_as_bounds() {
        let mut e = x(Some(Call::Track), Some("A"));
        assert_eq!(e.count_words(), "at least 1");
        e.max = Some(1);
        assert_eq!(e.count_words(), "exactly 1");
        e.min = 0;
        e.max = Some(0);
        assert_eq!(e.count_words(), "never");
        e.max = Some(3);
        assert_eq!(e.count_words(), "at most 3");
        assert_eq!(e.describe(), "track \"A\"");
    }
}
