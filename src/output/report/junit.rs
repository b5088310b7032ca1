//! `junit.xml` for CI systems (GitLab, Jenkins, GitHub test reporters): one test suite per spec,
//! one test case per state (`classname` = spec, `name` = state), one `<failure>` per failed check
//! (`type` = the check id), `<error>` for a trial that could not run, and a `snapshot-changed` /
//! `snapshot-new` failure when only the snapshot differs (the trial fails under libtest too).
//! Properties carry the verdict and snapshot status apart. Written with `quick-junit`.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::strip_urls_in;
use crate::outcome::{SnapshotStatus, TrialResult, Verdict};

/// The JUnit XML of `results`.
pub(crate) fn render(results: &[TrialResult]) -> String {
    let mut report = Report::new("consent-gates");
    let mut suites: BTreeMap<&str, Vec<&TrialResult>> = BTreeMap::new();
    for r in results {
        suites.entry(r.spec.as_str()).or_default().push(r);
    }
    let mut total = Duration::ZERO;
    for (spec, results) in suites {
        let mut suite = TestSuite::new(spec);
        for r in results {
            let time = Duration::from_millis(r.duration_ms);
            total += time;
            let mut case = TestCase::new(r.state.as_str(), status(r));
            case.set_classname(spec)
                .set_time(time)
                .add_property(("verdict", r.verdict.as_str()))
                .add_property(("snapshot", r.snapshot.as_str()));
            if r.flaky {
                case.add_property((
                    "flaky",
                    format!("passed on attempt {}", r.attempts).as_str(),
                ));
            }
            if let Some(t) = &r.trace {
                case.add_property(("trace", t.display().to_string().as_str()));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.set_time(total);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot serialise the JUnit report: {e} -->\n"))
}

fn status(r: &TrialResult) -> TestCaseStatus {
    // Every failure with all its evidence, URLs and e-mail addresses stripped.
    let details = || -> String {
        r.failures
            .iter()
            .map(|f| strip_urls_in(&format!("{f:#}")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let checks = || -> String {
        let mut ids: Vec<&str> = r.failures.iter().map(|f| f.check.as_str()).collect();
        ids.dedup();
        ids.join(", ")
    };
    match r.verdict {
        Verdict::Pass => match r.snapshot {
            SnapshotStatus::Changed | SnapshotStatus::New => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type(format!("snapshot-{}", r.snapshot))
                    .set_message(format!(
                        "the consent checks pass, but the snapshot is {} (review: cargo insta review)",
                        r.snapshot
                    ));
                s
            }
            SnapshotStatus::Match | SnapshotStatus::Skipped => TestCaseStatus::success(),
        },
        Verdict::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error")
                .set_message(
                    r.failures
                        .first()
                        .map(|f| strip_urls_in(f.message.lines().next().unwrap_or_default()))
                        .unwrap_or_else(|| "the trial could not run".into()),
                )
                .set_description(details());
            s
        }
        Verdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type(checks())
                .set_message(format!(
                    "{} check{} failed: {}",
                    r.failures.len(),
                    if r.failures.len() == 1 { "" } else { "s" },
                    checks()
                ))
                .set_description(details());
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Phase;
    use crate::outcome::{CheckId, Evidence, Failure};

    fn result(state: &str, verdict: Verdict, snapshot: SnapshotStatus) -> TrialResult {
        TrialResult {
            verdict,
            snapshot,
            duration_ms: 1200,
            ..TrialResult::new("shop", state, Vec::new())
        }
    }

    #[test]
    fn one_case_per_state_failures_typed_by_check() {
        let mut failing = result("reject-all", Verdict::Fail, SnapshotStatus::Match);
        failing.failures.push(Failure {
            check: CheckId::BlockedReceived,
            destination: Some("Facebook Pixel".into()),
            message: "`Facebook Pixel` must be blocked".into(),
            evidence: vec![Evidence {
                at_ms: 812,
                phase: Some(Phase::After),
                what: "request to https://www.facebook.com/tr/?id=1&ev=PageView".into(),
            }],
        });
        let mut error = result("broken", Verdict::Error, SnapshotStatus::Skipped);
        error.failures.push(Failure {
            check: CheckId::Error,
            destination: None,
            message: "the site did not load".into(),
            evidence: Vec::new(),
        });
        let xml = render(&[
            result("accept-all", Verdict::Pass, SnapshotStatus::Match),
            failing,
            error,
            result("no-choice", Verdict::Pass, SnapshotStatus::Changed),
            result("gpc", Verdict::Pass, SnapshotStatus::New),
        ]);
        assert!(xml.contains(r#"<testsuite name="shop" tests="5""#), "{xml}");
        assert!(
            xml.contains(r#"<testcase name="reject-all" classname="shop""#),
            "{xml}"
        );
        assert!(xml.contains(r#"type="blocked-received""#), "{xml}");
        assert!(
            xml.contains("?id=…&amp;ev=… at 812 ms, after the decision"),
            "query values stripped, evidence with its time and phase: {xml}"
        );
        assert!(!xml.contains("PageView"), "{xml}");
        assert!(
            xml.contains(r#"<error message="the site did not load" type="error""#),
            "{xml}"
        );
        assert!(xml.contains(r#"type="snapshot-changed""#), "{xml}");
        assert!(
            xml.contains(r#"type="snapshot-new""#) && xml.contains("the snapshot is new"),
            "{xml}"
        );
        assert!(
            xml.contains(r#"failures="3""#) && xml.contains(r#"errors="1""#),
            "{xml}"
        );
    }
}
