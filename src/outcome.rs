//! Layer 0, the outcome model: what a trial concluded ([`TrialResult`]: its [`Verdict`], the
//! [`Failure`]s of each [`CheckId`] with their [`Evidence`], its [`SnapshotStatus`]) and what the
//! HTML report shows of it ([`TrialEvidence`]). The analysis produces these, the runner collects
//! them, and every output (results.json, JUnit, HTML, the terminal table, the exit code) renders
//! the same `&[TrialResult]`; nothing downstream re-reads them as strings.
//!
//! The serde form of [`TrialResult`] is one entry of `results.json`: the words of each enum are
//! its documented values (`pass`, `changed`, `blocked-received`, …), and a file the tool wrote
//! deserialises back into the same values and re-serialises byte for byte.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use crate::capture::Phase;

/// A stable check id (docs/results.md, "Check ids"): `failures[].check` in results.json, the
/// `<failure type>` in JUnit.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum CheckId {
    BlockedReceived,
    AllowedMissing,
    Collection,
    Calls,
    ConsentMismatch,
    EventMissing,
    EventUnexpected,
    UndeclaredDestination,
    UngatedDestination,
    UnstampedEvents,
    PiiLeak,
    UnknownRecipient,
    EventsHeld,
    UndecodableSegment,
    UnrecordedTraffic,
    StepDidNotMatch,
    /// The spec file could not be read or parsed: none of its states ran.
    InvalidSpec,
    Error,
}

/// One piece of evidence: which request or event, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Milliseconds since the first navigation started.
    pub at_ms: u64,
    /// Before or after the decision; `None` in a state that has no decision (no steps), where
    /// the words would mean nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// `POST https://api.segment.io/v1/t (track "Order Completed")`, `GET https://…/fbevents.js`.
    pub what: String,
}

impl fmt::Display for Evidence {
    /// `GET https://…/fbevents.js at 812 ms, after the decision` (`at 812 ms` alone in a state
    /// without a decision).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} ms", self.what, self.at_ms)?;
        match self.phase {
            Some(p) => write!(f, ", {p} the decision"),
            None => Ok(()),
        }
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub check: CheckId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    pub message: String,
    pub evidence: Vec<Evidence>,
}

/// Evidence lines [`Failure`]'s plain `Display` shows before summarising the rest.
const EVIDENCE_SHOWN: usize = 5;

impl Failure {
    /// `blocked-received (Facebook Pixel)`, or the bare check when no destination is concerned:
    /// the one spelling of a failure in the snapshot, the verdict table and the HTML summary.
    pub fn label(&self) -> String {
        match &self.destination {
            Some(d) => format!("{} ({d})", self.check),
            None => self.check.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    /// `[check] message`, then one indented line per piece of evidence: the first five, or with
    /// `{:#}` all of them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.check, self.message)?;
        let shown = if f.alternate() {
            self.evidence.len()
        } else {
            EVIDENCE_SHOWN
        };
        for e in self.evidence.iter().take(shown) {
            write!(f, "\n    - {e}")?;
        }
        if self.evidence.len() > shown {
            write!(f, "\n    - … and {} more", self.evidence.len() - shown)?;
        }
        Ok(())
    }
}

/// A trial's outcome for the consent question (snapshots are judged apart).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    Error,
}

impl Verdict {
    /// `error` when any failure is an error (an invalid spec, or traffic the recorder could not
    /// account for: the trial's evidence is incomplete), else `fail` when any, else `pass`.
    pub fn of(failures: &[Failure]) -> Verdict {
        if failures.iter().any(|f| {
            matches!(
                f.check,
                CheckId::Error | CheckId::InvalidSpec | CheckId::UnrecordedTraffic
            )
        }) {
            Verdict::Error
        } else if failures.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
}

/// Whether the trial's snapshot matched the accepted one (recorded apart from the verdict).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum SnapshotStatus {
    Match,
    Changed,
    New,
    /// Not compared: the trial errored, or a step did not match.
    Skipped,
}

impl SnapshotStatus {
    /// `changed` or `new`: the trial fails under libtest and JUnit although its checks may pass.
    pub fn differs(self) -> bool {
        matches!(self, SnapshotStatus::Changed | SnapshotStatus::New)
    }
}

/// One trial's outcome; its serde form is one entry of `results.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrialResult {
    pub spec: String,
    pub state: String,
    pub verdict: Verdict,
    pub failures: Vec<Failure>,
    pub snapshot: SnapshotStatus,
    pub duration_ms: u64,
    /// How many times the trial ran (1 + the retries `retries:` allowed and it needed).
    pub attempts: u32,
    /// It failed at first and passed on a retry.
    pub flaky: bool,
    /// The Playwright trace saved because the verdict is not `pass`
    /// (`npx playwright show-trace <file>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<PathBuf>,
    /// What the HTML report shows of this trial (timeline, screenshots); not in `results.json`.
    #[serde(skip)]
    pub evidence: Option<Box<TrialEvidence>>,
}

impl TrialResult {
    /// A trial of `spec`'s `state` that ran once and found `failures` (its verdict follows
    /// from them), with no snapshot compared, no trace and no evidence yet.
    pub fn new(spec: impl Into<String>, state: impl Into<String>, failures: Vec<Failure>) -> Self {
        TrialResult {
            spec: spec.into(),
            state: state.into(),
            verdict: Verdict::of(&failures),
            failures,
            snapshot: SnapshotStatus::Skipped,
            duration_ms: 0,
            attempts: 1,
            flaky: false,
            trace: None,
            evidence: None,
        }
    }

    /// `<spec>::<state>`, the trial's name.
    pub fn name(&self) -> String {
        format!("{}::{}", self.spec, self.state)
    }

    /// Passed and its snapshot did not differ: what libtest counts as passed.
    pub fn is_clean(&self) -> bool {
        self.verdict == Verdict::Pass && !self.snapshot.differs()
    }
}

impl fmt::Display for TrialResult {
    /// `shop::reject-all: fail`, then each failure and a snapshot difference on indented lines:
    /// what libtest prints for a trial that is not clean.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.verdict)?;
        for failure in &self.failures {
            write!(f, "\n  {failure}")?;
        }
        match self.snapshot {
            SnapshotStatus::Changed => write!(
                f,
                "\n  [snapshot] the snapshot differs from the accepted one (review: cargo insta review)"
            ),
            SnapshotStatus::New => write!(
                f,
                "\n  [snapshot] no accepted snapshot yet (review: cargo insta review)"
            ),
            SnapshotStatus::Match | SnapshotStatus::Skipped => Ok(()),
        }
    }
}

/// Screenshots taken during the visit (PNG bytes), kept in memory until the report is written.
#[derive(Debug, Clone, Default)]
pub struct Screenshots {
    /// After the page loaded and settled, before the first step (the banner as the visitor
    /// first sees it). In a state without steps: the page as the visit left it undecided.
    pub before: Option<Vec<u8>>,
    /// After the steps ran and the page settled.
    pub after: Option<Vec<u8>>,
}

/// What a timeline row is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum TimelineKind {
    /// The first step: the visitor's consent decision.
    Decision,
    /// Segment's library, settings or destination code loading.
    Segment,
    /// A Segment event reaching the tracking API.
    Event,
    /// A request to a declared destination's vendor.
    Vendor,
    /// A request to any other third-party host.
    ThirdParty,
    /// The visitor left the site through a step (a plain link or form): their choice, not data
    /// the site sent.
    Departure,
}

/// The words of results.json: `as_str` and `Display` both give the strum name, which
/// `words_match_their_serde_names` keeps equal to the serde name.
macro_rules! words {
    ($($word:ty),*) => {$(
        impl $word {
            /// The word as results.json writes it.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl fmt::Display for $word {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

words!(CheckId, Verdict, SnapshotStatus, TimelineKind);

/// One row of a trial's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Milliseconds since the first navigation started.
    pub at_ms: u64,
    pub phase: Phase,
    pub kind: TimelineKind,
    /// `track "Order Completed"`, `GET https://connect.facebook.net/en_US/fbevents.js`.
    pub what: String,
    /// The declared destination concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Consent stamp and routing of an event: `consent C0002=true; reaches Actions Amplitude`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Everything the HTML report shows of one trial besides its result (stored as
/// `report/trials/<stem>.json`, so that processes of one nextest run share one report).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrialEvidence {
    /// The spec file, as given.
    pub spec_file: String,
    /// The site's first page (query values stripped).
    pub url: String,
    pub gpc: bool,
    /// Step descriptions, in order.
    pub steps: Vec<String>,
    /// Effective expectations with their source: `blocked: all (regime gdpr)`.
    pub expectations: Vec<String>,
    /// Whether and how Segment's library showed itself: `loaded (snippet)`, `loaded (bundled in
    /// the site's own code, recognised by …)`, `not loaded`.
    #[serde(default)]
    pub library: String,
    pub decision_at_ms: Option<u64>,
    pub timeline: Vec<TimelineEntry>,
    /// Screenshot files, relative to the report folder, once written.
    pub screenshot_before: Option<String>,
    pub screenshot_after: Option<String>,
    /// Screenshot bytes until the report writes them.
    #[serde(skip)]
    pub screenshots: Screenshots,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` (JUnit, HTML, the table) and serde (results.json) spell every word alike.
    #[test]
    fn words_match_their_serde_names() {
        fn check<T: Serialize + fmt::Display + VariantArray>() {
            for v in T::VARIANTS {
                let serde = serde_json::to_value(v).unwrap();
                assert_eq!(Some(v.to_string().as_str()), serde.as_str());
            }
        }
        check::<CheckId>();
        check::<Verdict>();
        check::<SnapshotStatus>();
        check::<TimelineKind>();
    }

    fn failure(destination: Option<&str>, evidence: usize) -> Failure {
        Failure {
            check: CheckId::BlockedReceived,
            destination: destination.map(str::to_string),
            message: "must be blocked".into(),
            evidence: (0..evidence as u64)
                .map(|i| Evidence {
                    at_ms: i,
                    phase: Some(Phase::After),
                    what: format!("GET https://v.example/{i}"),
                })
                .collect(),
        }
    }

    #[test]
    fn a_failure_reads_as_check_destination_and_evidence() {
        assert_eq!(
            failure(Some("Facebook Pixel"), 0).label(),
            "blocked-received (Facebook Pixel)"
        );
        assert_eq!(failure(None, 0).label(), "blocked-received");
        let seven = failure(None, 7);
        let short = seven.to_string();
        assert!(short.starts_with("[blocked-received] must be blocked\n    - GET https://v.example/0 at 0 ms, after the decision"), "{short}");
        assert!(short.ends_with("\n    - … and 2 more"), "{short}");
        let full = format!("{seven:#}");
        assert_eq!(full.lines().count(), 8, "{full}");
        assert!(!full.contains("more"), "{full}");
    }

    #[test]
    fn a_result_reads_as_its_libtest_message() {
        let mut r = TrialResult {
            snapshot: SnapshotStatus::New,
            ..TrialResult::new("shop", "reject-all", vec![failure(Some("FB"), 1)])
        };
        assert_eq!(
            r.to_string(),
            "shop::reject-all: fail\n  [blocked-received] must be blocked\n    - GET https://v.example/0 at 0 ms, after the decision\n  [snapshot] no accepted snapshot yet (review: cargo insta review)"
        );
        assert!(!r.is_clean());
        r.verdict = Verdict::Pass;
        r.failures.clear();
        r.snapshot = SnapshotStatus::Match;
        assert!(r.is_clean());
    }
}
