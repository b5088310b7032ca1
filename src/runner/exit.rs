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

use crate::outcome::{CheckId, TrialResult, Verdict};

pub(crate) const PASS: u8 = 0;
pub(crate) const CHECK_FAILED: u8 = 1;
pub const INVALID_SPEC: u8 = 2;
pub const TRIAL_ERROR: u8 = 3;
pub(crate) const SNAPSHOT_CHANGED: u8 = 4;

/// The exit code of a run: what its `results` call for, else [`CHECK_FAILED`] when libtest saw
/// a failure the results do not show (`libtest_failed`).
pub(crate) fn code(results: &[TrialResult], libtest_failed: bool) -> ExitCode {
    ExitCode::from(code_number(results, libtest_failed))
}

/// [`code`] as a number.
fn code_number(results: &[TrialResult], libtest_failed: bool) -> u8 {
    match of_results(results) {
        PASS if libtest_failed => CHECK_FAILED,
        code => code,
    }
}

/// The exit code `results` call for, worst first.
fn of_results(r: &[TrialResult]) -> u8 {
    if r.iter()
        .flat_map(|t| &t.failures)
        .any(|f| f.check == CheckId::InvalidSpec)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Failure;

    fn errored(state: &str, check: CheckId) -> TrialResult {
        let failure = Failure {
            check,
            destination: None,
            message: "x".into(),
            evidence: Vec::new(),
        };
        TrialResult::new("s", state, vec![failure])
    }

    /// The code follows the failure's check, not the state's name: a user's state called `spec`
    /// that could not run is a trial error, not an invalid spec.
    #[test]
    fn invalid_spec_is_known_by_its_check() {
        assert_eq!(of_results(&[errored("spec", CheckId::Error)]), TRIAL_ERROR);
        assert_eq!(
            of_results(&[errored("spec", CheckId::InvalidSpec)]),
            INVALID_SPEC
        );
        assert_eq!(
            of_results(&[errored("other", CheckId::InvalidSpec)]),
            INVALID_SPEC
        );
    }
}
