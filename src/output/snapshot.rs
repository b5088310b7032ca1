//! Snapshots: what one trial saw, normalised so that a rerun gives the identical YAML, and
//! compared with the accepted copy through insta (`cargo insta review` works on them).
//!
//! Normalisation: no ids, timestamps, user agents, write keys or cookie values ever enter the
//! snapshot; lists are sorted; vendor requests are reduced to host and path. Library internals
//! whose presence depends on chance or on the moment the visit ended are left out (the capture,
//! and so every check, still has them): analytics-next's `persisted-queue:v1:…` localStorage keys
//! (written on `pagehide` only while its queue holds work, and a lock key that lives for one
//! call) and the number of Segment telemetry requests (sampled with `Math.random()` and flushed
//! on a 30 s timer).

use std::collections::BTreeSet;
use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::analysis::routing::Routing;
use crate::analysis::segment::Decoded;
use crate::analysis::verdict::describe_event;
use crate::capture::{Capture, Phase};
use crate::outcome::{Failure, SnapshotStatus, Verdict};
use crate::spec::{Mode, Spec, State};

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub(crate) spec: String,
    pub(crate) state: String,
    pub(crate) gpc: bool,
    /// The page's view of the values the browser pins (locale, time zone, screen, CPU count,
    /// online): the same on every machine; absent when the page could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) browser: Option<BrowserSeen>,
    pub(crate) steps: Vec<String>,
    /// Which clock the page settled on, and settles that never found it idle.
    pub(crate) settle: SettleSeen,
    /// Each effective expectation with where it came from: `collection: none (regime gdpr)`.
    pub(crate) expectations: Vec<String>,
    pub(crate) segment: SegmentSeen,
    pub(crate) events: Vec<EventRow>,
    pub(crate) destinations: IndexMap<String, DestinationRow>,
    /// A journey's phases in order (a state with `decision:` markers): each phase's events and
    /// the destinations that received data in it; absent for other states.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) phases: Vec<PhaseRow>,
    pub(crate) other_hosts: Vec<String>,
    /// Hosts the visitor left the site for through a step (a plain link or form carrying nothing
    /// that identifies them); absent when there were none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) left_for: Vec<String>,
    pub(crate) storage: Storage,
    /// What the CMP showed and recorded; absent when the spec names no CMP and the page gave no
    /// TCF or GPP string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cmp: Option<CmpSeen>,
    /// Warnings that are not failures (a spec key that had no effect, an exemption to check);
    /// absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
    pub(crate) verdict: Verdict,
    pub(crate) failures: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct SettleSeen {
    /// `controlled` (Playwright's clock, run forward while settling) or `real` (`timing.clock`).
    pub(crate) clock: String,
    /// Settles after which requests kept coming over many horizons of page time (a heartbeat).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) never_idle: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BrowserSeen {
    pub(crate) locale: String,
    pub(crate) time_zone: String,
    /// `1280x720 @1x`.
    pub(crate) screen: String,
    pub(crate) cores: u32,
    pub(crate) online: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SegmentSeen {
    /// analytics.js ran: loaded by URL, or recognised by its behaviour.
    pub(crate) library_loaded: bool,
    /// How a library the site bundles itself was recognised (no snippet load by URL); absent
    /// for a snippet load.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) recognised_by: Vec<String>,
    pub(crate) settings_fetched: bool,
    /// Destination code Segment loaded (classic slugs, action folders).
    pub(crate) destination_code: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct EventRow {
    pub(crate) phase: Phase,
    /// `track "Product Added"`.
    pub(crate) call: String,
    /// `absent`, `no-preferences`, `C0001=true C0002=false`, or `{} (all denied)`.
    pub(crate) consent: String,
    pub(crate) identified: bool,
    /// Cloud-mode destinations Segment's routing would deliver it to.
    pub(crate) reaches: Vec<String>,
}

/// One phase of a journey.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PhaseRow {
    /// `before`, or the decision's name.
    pub(crate) phase: String,
    /// The decision step (1-based); absent for `before`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) from_step: Option<usize>,
    /// `track "Product Added" · C0001=true C0002=false`, sorted.
    pub(crate) events: Vec<String>,
    /// Each declared destination: `received` or `nothing`, with its distinct evidence.
    pub(crate) destinations: IndexMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DestinationRow {
    pub(crate) mode: Mode,
    pub(crate) categories: Vec<String>,
    pub(crate) received: bool,
    /// The spec's reason when it declares the destination as needing no consent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exempt: Option<String>,
    /// Distinct evidence, sorted: `code /next-integrations/…`, `host www.facebook.com/tr/`, `event page`.
    pub(crate) evidence: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Storage {
    /// `name (domain)`.
    pub(crate) cookies: Vec<String>,
    /// `origin key`.
    pub(crate) local_storage: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CmpSeen {
    /// The spec's `cmp:` (an adapter, `auto` or `autoconsent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) adapter: Option<String>,
    /// The adapter whose CMP was found on the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detected: Option<String>,
    /// The autoconsent rule that acted (`cmp: autoconsent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) autoconsent_rule: Option<String>,
    /// The CMP's recorded choice by stamp category id (`None`: not decided or not readable).
    pub(crate) choice: Option<std::collections::BTreeMap<String, bool>>,
    /// The TCF TC string (timestamps zeroed) and the GPP string the page gave vendors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tcf: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gpp: Option<String>,
    /// The TC string decoded: the purposes (consent, legitimate interest), special features and
    /// vendors it signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tcf_decoded: Option<crate::analysis::tcf::TcfSignal>,
    /// The GPP string decoded: the sections it carries, and usnat and usca field by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gpp_decoded: Option<crate::analysis::gpp::GppSignal>,
}

/// The normalised snapshot of one trial.
pub fn build(
    spec: &Spec,
    state_name: &str,
    state: &State,
    capture: &Capture,
    analysis: &Analysis,
) -> Snapshot {
    let (decoded, routed, failures) = (&analysis.decoded, &analysis.routing, &analysis.failures);
    let destination_code: BTreeSet<String> = decoded.destination_code();
    let events = event_rows(decoded, routed);
    let destinations = destination_rows(spec, routed);
    let mut failure_rows: Vec<String> = failures.iter().map(Failure::label).collect();
    failure_rows.sort();
    failure_rows.dedup();
    Snapshot {
        spec: spec.name.clone(),
        state: state_name.to_string(),
        gpc: state.gpc,
        browser: capture.environment.as_ref().map(|e| BrowserSeen {
            locale: e.locale.clone(),
            time_zone: e.time_zone.clone(),
            screen: format!("{} @{}x", e.screen, e.scale),
            cores: e.cores,
            online: e.online,
        }),
        steps: state.steps.iter().map(|s| s.describe()).collect(),
        settle: SettleSeen {
            clock: capture.settling.clock.clone(),
            never_idle: capture.settling.never_idle.clone(),
        },
        expectations: analysis.effective.lines(),
        segment: SegmentSeen {
            library_loaded: analysis.library.loaded(),
            recognised_by: if analysis.library.bundled_by_site() {
                analysis.library.by_behaviour.clone()
            } else {
                Vec::new()
            },
            settings_fetched: decoded.settings_fetched,
            destination_code: destination_code.into_iter().collect(),
        },
        events,
        destinations,
        phases: if state.is_journey() {
            phase_rows(state, capture, analysis)
        } else {
            Vec::new()
        },
        other_hosts: routed.other_hosts.iter().cloned().collect(),
        left_for: routed
            .departures
            .iter()
            .map(|d| d.host.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        storage: storage(capture),
        cmp: cmp_seen(spec, capture),
        notes: analysis.notes.clone(),
        verdict: Verdict::of(failures),
        failures: failure_rows,
    }
}

/// Each Segment event with its consent stamp and the cloud destinations it reaches, sorted.
fn event_rows(decoded: &Decoded, routed: &Routing) -> Vec<EventRow> {
    let mut events: Vec<EventRow> = decoded
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| EventRow {
            phase: e.phase,
            call: describe_event(e),
            consent: e.consent.to_string(),
            identified: e.user_id.is_some() || e.has_traits,
            reaches: routed
                .event_destinations
                .get(i)
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    events.sort();
    events
}

/// What each destination received (normalised), with its mode and categories.
fn destination_rows(spec: &Spec, routed: &Routing) -> IndexMap<String, DestinationRow> {
    routed
        .destinations
        .iter()
        .map(|(name, o)| {
            let evidence: BTreeSet<String> = o.receptions.iter().map(|r| r.normalised()).collect();
            (
                name.clone(),
                DestinationRow {
                    mode: o.resolved.mode,
                    categories: o.resolved.categories.clone(),
                    received: !o.receptions.is_empty(),
                    exempt: spec.destinations.get(name).and_then(|d| d.exempt.clone()),
                    evidence: evidence.into_iter().collect(),
                },
            )
        })
        .collect()
}

/// The cookies and local storage keys the visit left (volatile keys left out).
fn storage(capture: &Capture) -> Storage {
    Storage {
        cookies: capture
            .cookies
            .iter()
            .map(|c| format!("{} ({})", c.name, c.domain))
            .collect(),
        local_storage: capture
            .local_storage
            .iter()
            .filter(|k| !is_volatile_key(&k.key))
            .map(|k| format!("{} {}", k.origin, k.key))
            .collect(),
    }
}

/// The CMP: its adapter, what it detected and recorded, and the TCF and GPP strings decoded.
fn cmp_seen(spec: &Spec, capture: &Capture) -> Option<CmpSeen> {
    (spec.cmp.is_some() || capture.tcf.is_some() || capture.gpp.is_some()).then(|| CmpSeen {
        adapter: spec.cmp.clone(),
        detected: capture.cmp_detected.clone(),
        autoconsent_rule: capture.autoconsent_rule.clone(),
        choice: capture.cmp_choice.clone(),
        tcf: capture.tcf.clone(),
        gpp: capture.gpp.clone(),
        tcf_decoded: capture
            .tcf
            .as_deref()
            .and_then(|t| crate::analysis::tcf::decode(t).ok()),
        gpp_decoded: capture
            .gpp
            .as_deref()
            .and_then(|g| crate::analysis::gpp::decode(g).ok()),
    })
}

/// A journey's phases in order, each with its events and what each destination received.
fn phase_rows(state: &State, capture: &Capture, analysis: &Analysis) -> Vec<PhaseRow> {
    crate::analysis::verdict::journey::windows(state, capture)
        .into_iter()
        .map(|(name, w)| {
            let mut events: Vec<String> = analysis
                .decoded
                .events
                .iter()
                .filter(|e| w.contains(e.seq))
                .map(|e| format!("{} · {}", describe_event(e), e.consent))
                .collect();
            events.sort();
            let destinations = analysis
                .routing
                .destinations
                .iter()
                .map(|(d, o)| {
                    let seen: BTreeSet<String> = o
                        .receptions
                        .iter()
                        .filter(|r| w.contains(r.seq))
                        .map(|r| r.normalised())
                        .collect();
                    (d.clone(), seen.into_iter().collect())
                })
                .collect();
            PhaseRow {
                from_step: state
                    .decisions
                    .iter()
                    .find(|d| d.name.as_deref() == Some(name.as_str()))
                    .map(|d| d.step + 1),
                phase: name,
                events,
                destinations,
            }
        })
        .collect()
}

/// analytics-next's persisted queue (`persisted-queue:v1:<write key>:items`, `:seen`, `:lock`):
/// whether it is in localStorage depends on what was still queued when the page was left.
pub(crate) fn is_volatile_key(key: &str) -> bool {
    key.starts_with("persisted-queue:v1:")
}

impl Snapshot {
    /// Replaces personal data and secrets (emails, phone numbers, user ids, write keys, cookie
    /// values) in every free-text field by the redactor's stable placeholders. Spec, state,
    /// destination and category names are the spec's own words and stay.
    pub fn redact(&mut self, r: &mut crate::analysis::privacy::Redactor) {
        r.all(&mut self.steps);
        r.all(&mut self.settle.never_idle);
        r.all(&mut self.expectations);
        r.all(&mut self.segment.destination_code);
        for e in &mut self.events {
            e.call = r.text(&e.call);
        }
        self.events.sort();
        for d in self.destinations.values_mut() {
            r.all(&mut d.evidence);
            d.evidence.sort();
        }
        for p in &mut self.phases {
            r.all(&mut p.events);
            p.events.sort();
            for e in p.destinations.values_mut() {
                r.all(e);
                e.sort();
            }
        }
        r.all(&mut self.other_hosts);
        r.all(&mut self.storage.cookies);
        r.all(&mut self.storage.local_storage);
        r.all(&mut self.failures);
        r.all(&mut self.notes);
    }
}

/// The snapshot's name: `<spec>.<state>` (file `<spec>.<state>.snap`).
pub(crate) fn name(snapshot: &Snapshot) -> String {
    format!("{}.{}", snapshot.spec, snapshot.state)
}

/// Compares with the accepted snapshot in `dir` through insta. A difference is reported by insta
/// (diff on stdout, `.snap.new` for `cargo insta review` unless `CI` is set, or the file rewritten
/// under `INSTA_UPDATE=always`) and returned here; it never panics out.
///
/// The status comes from insta's comparison itself ([`Recording`]), not from whether the
/// assertion passed: under `INSTA_UPDATE=always` or `INSTA_FORCE_PASS` the assertion passes
/// while the snapshot is new or changed.
pub(crate) fn compare(snapshot: &Snapshot, dir: &Path) -> SnapshotStatus {
    let name = name(snapshot);
    let existed = dir.join(format!("{name}.snap")).is_file();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(absolute(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "consent-gates trial {}::{}",
        snapshot.spec, snapshot.state
    ));
    settings.set_comparator(Box::new(Recording));
    quiet_snapshot_panics();
    IN_COMPARE.with(|c| c.set(true));
    COMPARED.with(|c| c.set(None));
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_yaml_snapshot!(name.as_str(), snapshot));
    }));
    IN_COMPARE.with(|c| c.set(false));
    match COMPARED.with(|c| c.take()) {
        Some(true) => SnapshotStatus::Match,
        Some(false) => SnapshotStatus::Changed,
        // insta compares only against an accepted snapshot: there was none (under
        // `INSTA_UPDATE=always` it has just written one).
        None if !existed => SnapshotStatus::New,
        // An accepted snapshot insta could not compare with (unreadable): not a match.
        None => SnapshotStatus::Changed,
    }
}

thread_local! {
    static IN_COMPARE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// What [`Recording`] saw in this thread's last comparison.
    static COMPARED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// insta's own comparison, remembering its answer for [`compare`]. insta calls it only when an
/// accepted snapshot exists.
struct Recording;

impl insta::Comparator for Recording {
    fn matches(&self, reference: &insta::Snapshot, test: &insta::Snapshot) -> bool {
        let m = insta::DefaultComparator.matches(reference, test);
        COMPARED.with(|c| c.set(Some(m)));
        m
    }

    fn matches_fully(&self, reference: &insta::Snapshot, test: &insta::Snapshot) -> bool {
        let m = insta::DefaultComparator.matches_fully(reference, test);
        COMPARED.with(|c| c.set(Some(m)));
        m
    }

    fn dyn_clone(&self) -> Box<dyn insta::Comparator> {
        Box::new(Recording)
    }
}

/// insta reports a difference by printing the diff and then panicking (unless force-passed); the
/// panic is caught and recorded as [`SnapshotStatus::Changed`], so its message and backtrace
/// would only be noise. Other panics keep the previous hook.
fn quiet_snapshot_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_COMPARE.with(|c| c.get()) {
                previous(info);
            }
        }));
    });
}

fn absolute(dir: &Path) -> std::path::PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(dir))
            .unwrap_or_else(|_| dir.to_path_buf())
    }
}
