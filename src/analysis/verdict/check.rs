//! Check ids and failures: the stable vocabulary of results.

use std::fmt;

use serde::Serialize;

use crate::capture::Phase;

/// A stable check id (docs/results.md, "Check ids").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    BlockedReceived,
    AllowedMissing,
    Collection,
    Calls,
    ConsentMismatch,
    UndeclaredDestination,
    UngatedDestination,
    UnstampedEvents,
    PiiLeak,
    UndecodableSegment,
    UnrecordedTraffic,
    StepDidNotMatch,
    Error,
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::BlockedReceived => "blocked-received",
            CheckId::AllowedMissing => "allowed-missing",
            CheckId::Collection => "collection",
            CheckId::Calls => "calls",
            CheckId::ConsentMismatch => "consent-mismatch",
            CheckId::UndeclaredDestination => "undeclared-destination",
            CheckId::UngatedDestination => "ungated-destination",
            CheckId::UnstampedEvents => "unstamped-events",
            CheckId::PiiLeak => "pii-leak",
            CheckId::UndecodableSegment => "undecodable-segment",
            CheckId::UnrecordedTraffic => "unrecorded-traffic",
            CheckId::StepDidNotMatch => "step-did-not-match",
            CheckId::Error => "error",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence: which request or event, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Milliseconds since the first navigation started.
    pub at_ms: u64,
    pub phase: Phase,
    /// `POST https://api.segment.io/v1/t (track "Order Completed")`, `GET https://…/fbevents.js`.
    pub what: String,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            Phase::Before => "before the decision",
            Phase::After => "after the decision",
        };
        write!(f, "{} at {} ms, {phase}", self.what, self.at_ms)
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub check: CheckId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    pub message: String,
    pub evidence: Vec<Evidence>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.check, self.message)?;
        for e in self.evidence.iter().take(5) {
            write!(f, "\n    - {e}")?;
        }
        if self.evidence.len() > 5 {
            write!(f, "\n    - … and {} more", self.evidence.len() - 5)?;
        }
        Ok(())
    }
}

/// A trial's outcome for the consent question (snapshots are judged apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }

    /// `error` when any failure is an error (or traffic the recorder could not account for: the
    /// trial's evidence is incomplete), else `fail` when any, else `pass`.
    pub fn of(failures: &[Failure]) -> Verdict {
        if failures
            .iter()
            .any(|f| matches!(f.check, CheckId::Error | CheckId::UnrecordedTraffic))
        {
            Verdict::Error
        } else if failures.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
}
