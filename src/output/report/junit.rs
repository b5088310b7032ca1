//! `junit.xml` for CI systems (GitLab, Jenkins, GitHub test reporters): one test suite per spec,
//! one test case per state (`classname` = spec, `name` = state), one `<failure>` per failed check
//! (`type` = the check id), `<error>` for a trial that could not run, and a `snapshot-changed` /
//! `snapshot-new` failure when only the snapshot differs (the trial fails under libtest too).
//! Properties carry the verdict and snapshot status apart. Written with `quick-junit`.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::results::Row;
use super::strip_urls_in;

/// The JUnit XML of `rows`.
pub fn render(rows: &[Row]) -> String {
    let mut report = Report::new("consent-gates");
    let mut suites: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        suites.entry(r.spec.as_str()).or_default().push(r);
    }
    let mut total = Duration::ZERO;
    for (spec, rows) in suites {
        let mut suite = TestSuite::new(spec);
        for r in rows {
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

fn status(r: &Row) -> TestCaseStatus {
    let details = |r: &Row| -> String {
        r.failures
            .iter()
            .map(|f| {
                let mut s = format!("[{}] {}", f.check, strip_urls_in(&f.message));
                for e in &f.evidence {
                    s.push_str(&format!(
                        "\n    - {} at {} ms, {} the decision",
                        strip_urls_in(&e.what),
                        e.at_ms,
                        e.phase
                    ));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let checks = |r: &Row| -> String {
        let mut ids: Vec<&str> = r.failures.iter().map(|f| f.check.as_str()).collect();
        ids.dedup();
        ids.join(", ")
    };
    match r.verdict.as_str() {
        "pass" => match r.snapshot.as_str() {
            "changed" | "new" => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type(format!("snapshot-{}", r.snapshot)).set_message(format!(
                    "the consent checks pass, but the snapshot is {} (review: cargo insta review)",
                    if r.snapshot == "new" { "new" } else { "changed" }
                ));
                s
            }
            _ => TestCaseStatus::success(),
        },
        "error" => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error")
                .set_message(
                    r.failures
                        .first()
                        .map(|f| strip_urls_in(f.message.lines().next().unwrap_or_default()))
                        .unwrap_or_else(|| "the trial could not run".into()),
                )
                .set_description(details(r));
            s
        }
        _ => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type(checks(r))
                .set_message(format!(
                    "{} check{} failed: {}",
                    r.failures.len(),
                    if r.failures.len() == 1 { "" } else { "s" },
                    checks(r)
                ))
                .set_description(details(r));
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::report::results::{EvidenceRow, FailureRow};

    fn row(state: &str, verdict: &str, snapshot: &str) -> Row {
        Row {
            spec: "shop".into(),
            state: state.into(),
            verdict: verdict.into(),
            failures: Vec::new(),
            snapshot: snapshot.into(),
            duration_ms: 1200,
            attempts: 1,
            flaky: false,
            trace: None,
        }
    }

    #[test]
    fn one_case_per_state_failures_typed_by_check() {
        let mut failing = row("reject-all", "fail", "match");
        failing.failures.push(FailureRow {
            check: "blocked-received".into(),
            destination: Some("Facebook Pixel".into()),
            message: "`Facebook Pixel` must be blocked".into(),
            evidence: vec![EvidenceRow {
                at_ms: 812,
                phase: "after".into(),
                what: "request to https://www.facebook.com/tr/?id=1&ev=PageView".into(),
            }],
        });
        let mut error = row("broken", "error", "skipped");
        error.failures.push(FailureRow {
            check: "error".into(),
            destination: None,
            message: "the site did not load".into(),
            evidence: Vec::new(),
        });
        let xml = render(&[
            row("accept-all", "pass", "match"),
            failing,
            error,
            row("no-choice", "pass", "changed"),
        ]);
        assert!(xml.contains(r#"<testsuite name="shop" tests="4""#), "{xml}");
        assert!(
            xml.contains(r#"<testcase name="reject-all" classname="shop""#),
            "{xml}"
        );
        assert!(xml.contains(r#"type="blocked-received""#), "{xml}");
        assert!(
            xml.contains("?id=…&amp;ev=…"),
            "query values stripped: {xml}"
        );
        assert!(!xml.contains("PageView"), "{xml}");
        assert!(
            xml.contains(r#"<error message="the site did not load" type="error""#),
            "{xml}"
        );
        assert!(xml.contains(r#"type="snapshot-changed""#), "{xml}");
        assert!(
            xml.contains(r#"failures="2""#) && xml.contains(r#"errors="1""#),
            "{xml}"
        );
    }
}
