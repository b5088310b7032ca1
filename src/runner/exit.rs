//! The one place that maps a run's outcome to a process exit code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | every trial passed and every snapshot matched |
//! | 1 | a consent check failed |
//! | 2 | a spec is invalid |
//! | 3 | a trial could not run (browser, site, set-up) |
//! | 4 | only snapshots differ |

use std::process::ExitCode;

use crate::outcome::{TrialResult, Verdict};
use crate::runner::harness::Summary;

pub const PASS: u8 = 0;
pub const CHECK_FAILED: u8 = 1;
pub const INVALID_SPEC: u8 = 2;
pub const TRIAL_ERROR: u8 = 3;
pub const SNAPSHOT_CHANGED: u8 = 4;

pub fn code(summary: &Summary) -> ExitCode {
    ExitCode::from(code_number(summary))
}

pub fn code_number(summary: &Summary) -> u8 {
    match of_results(&summary.results) {
        PASS if summary.conclusion.has_failed() => CHECK_FAILED,
        code => code,
    }
}

/// The exit code `results` call for, worst first.
pub fn of_results(r: &[TrialResult]) -> u8 {
    if r.iter()
        .any(|t| t.state == "spec" && t.verdict == Verdict::Error)
    {
        INVALID_SPEC
    } else if r.iter().any(|t| t.verdict == Verdict::Error) {
        TRIAL_ERROR
    } else if r.iter().any(|t| t.verdict == Verdict::Fail) {
        CHECK_FAILED
    } else if r.iter().any(|t| t.snapshot.differs()) {
        SNAPSHOT_CHANGED
    } else {
        PASS
    }
}
