//! End-to-end tests of what a run leaves for people and CI: the HTML evidence report (checked in
//! a real headless Chromium), Playwright traces of failing trials only, JUnit XML and
//! results.json.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use consent_gates::browser::session::Shared;
use consent_gates::runner::harness::{self, Options};
use libtest_mimic::Arguments;
use serde_json::Value;

struct Run {
    _tmp: tempfile::TempDir,
    out: PathBuf,
}

/// One harness run shared by the tests of this file: the broken "ungated" shop (its trials fail,
/// one of them leaks an e-mail address to the ungated destination) and the passing shop.
fn run() -> &'static Run {
    static RUN: std::sync::OnceLock<Run> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("out");
        let options = Options {
            specs: harness::join_patterns(&["tests/fixtures/ungated/specs/*.yaml", "specs/shop.yaml"]),
            snapshots: Some(tmp.path().join("snapshots")),
            table: false,
            out: Some(out.clone()),
        };
        // The nested run's own libtest output (its trials fail by design) goes to a file, so that
        // this test's log does not show a "FAILED" summary that is not this test's.
        let log = tmp.path().join("libtest.log");
        let args = Arguments::from_iter([
            "report_e2e",
            "--quiet",
            "--skip",
            "accept-all",
            "--skip",
            "analytics-only",
            "--logfile",
            &log.display().to_string(),
        ]);
        let summary = harness::run(&args, &options);
        let names: Vec<String> = summary.results.iter().map(|r| r.name()).collect();
        assert_eq!(
            names.len(),
            5,
            "shop × {{no-choice, reject-all}} + shop-ungated × {{no-choice, reject-all, reject-then-signup}}: {names:?}"
        );
        Run { _tmp: tmp, out }
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn traces_are_kept_for_failing_trials_only() {
    let traces = run().out.join("traces");
    let zip = traces.join("shop-ungated-reject-all.zip");
    let bytes = std::fs::read(&zip).expect("a failing trial leaves its trace");
    assert!(bytes.starts_with(b"PK"), "the trace is a zip archive");
    assert!(
        !traces.join("shop-reject-all.zip").exists() && !traces.join("shop-no-choice.zip").exists(),
        "passing trials leave no trace"
    );
    let results: Value = serde_json::from_str(&read(&run().out.join("results.json"))).unwrap();
    let trials = results["trials"].as_array().unwrap();
    let trial = |name: &str| {
        trials
            .iter()
            .find(|t| {
                format!(
                    "{}::{}",
                    t["spec"].as_str().unwrap(),
                    t["state"].as_str().unwrap()
                ) == name
            })
            .unwrap_or_else(|| panic!("{name} in results.json"))
    };
    assert!(
        trial("shop-ungated::reject-all")["trace"]
            .as_str()
            .unwrap()
            .ends_with("shop-ungated-reject-all.zip")
    );
    assert!(trial("shop::reject-all").get("trace").is_none());
    assert_eq!(trial("shop::reject-all")["verdict"], "pass");
}

#[test]
fn junit_has_one_case_per_state_and_a_failure_per_check() {
    let xml = read(&run().out.join("junit.xml"));
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="shop""#)
            && xml.contains(r#"<testsuite name="shop-ungated""#)
    );
    assert!(
        xml.contains(r#"<testcase name="reject-all" classname="shop-ungated""#),
        "{xml}"
    );
    assert!(xml.contains("blocked-received"), "{xml}");
    assert!(!xml.contains("jane"), "no personal data in JUnit: {xml}");
}

/// What the page shows, read in the browser.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    rows: Vec<(String, String, String)>,
    summary: String,
    failing_checks: Vec<String>,
    evidence_items: usize,
    timeline_kinds: Vec<String>,
    images: Vec<(String, u32)>,
    trace_href: Option<String>,
    pii_text: String,
    body_text: String,
}

const READ_PAGE: &str = r#"() => {
  const section = document.getElementById('trial-shop-ungated-reject-all');
  const signup = document.getElementById('trial-shop-ungated-reject-then-signup');
  return {
    rows: [...document.querySelectorAll('#verdicts tbody tr')].map(tr =>
      [tr.dataset.trial, tr.dataset.verdict, tr.cells[4].innerText]),
    summary: document.getElementById('summary').innerText,
    failingChecks: [...section.querySelectorAll('.failure')].map(f => f.dataset.check),
    evidenceItems: section.querySelectorAll('.failure[data-check=blocked-received] .evidence li').length,
    timelineKinds: [...section.querySelectorAll('.timeline tbody td.kind')].map(td => td.innerText),
    images: [...section.querySelectorAll('.shots img')].map(img => [img.alt, img.naturalWidth]),
    traceHref: section.querySelector('.trace a')?.getAttribute('href') ?? null,
    piiText: [...signup.querySelectorAll('.failure[data-check=pii-leak]')].map(f => f.innerText).join('\n'),
    bodyText: document.body.innerText,
  };
}"#;

#[test]
fn html_report_shows_verdicts_timeline_screenshots_and_evidence_in_chromium() {
    let index = run().out.join("report/index.html");
    let raw = read(&index);
    if let Some(i) = raw.find("jane") {
        panic!(
            "no personal data anywhere in the page source: …{}…",
            &raw[i.saturating_sub(300)..(i + 100).min(raw.len())]
        );
    }
    let url = format!("file://{}", index.canonicalize().unwrap().display());

    let shared = Shared::get(true);
    let browser = shared.browser().expect("Chromium (run ./scripts/setup)");
    let requests: Arc<Mutex<Vec<String>>> = Arc::default();
    let shown: Shown = shared.runtime().block_on(async {
        let context = browser.new_context().await.expect("context");
        let page = context.new_page().await.expect("page");
        let seen = requests.clone();
        page.on_request(move |req| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(req.url().to_string());
                Ok(())
            }
        })
        .await
        .expect("request listener");
        page.goto(&url, None).await.expect("the report loads");
        let shown = page
            .evaluate::<(), Shown>(READ_PAGE, None)
            .await
            .expect("read the page");
        let _ = context.close().await;
        shown
    });

    // One row per site and state, with its verdict and failing checks.
    let row = |name: &str| {
        shown
            .rows
            .iter()
            .find(|r| r.0 == name)
            .unwrap_or_else(|| panic!("row {name} in {:?}", shown.rows))
    };
    assert_eq!(shown.rows.len(), 5, "{:?}", shown.rows);
    assert_eq!(row("shop::reject-all").1, "pass");
    assert_eq!(row("shop::no-choice").2, "none");
    assert_eq!(row("shop-ungated::reject-all").1, "fail");
    assert!(
        row("shop-ungated::reject-all")
            .2
            .contains("blocked-received (Facebook Conversions Api Web)")
    );
    assert!(
        shown.summary.contains("5 trials: 2 passed, 3 failed"),
        "{}",
        shown.summary
    );

    // The failing state: its checks with evidence, timeline, screenshots, trace link.
    assert!(
        shown.failing_checks.iter().any(|c| c == "blocked-received"),
        "{:?}",
        shown.failing_checks
    );
    assert!(
        shown
            .failing_checks
            .iter()
            .any(|c| c == "ungated-destination"),
        "{:?}",
        shown.failing_checks
    );
    assert!(
        shown.evidence_items > 0,
        "blocked-received names its evidence"
    );
    for kind in ["decision", "segment", "vendor"] {
        assert!(
            shown.timeline_kinds.iter().any(|k| k == kind),
            "timeline has a {kind} row: {:?}",
            shown.timeline_kinds
        );
    }
    assert_eq!(shown.images.len(), 2, "{:?}", shown.images);
    assert!(
        shown.images.iter().all(|(_, width)| *width > 0),
        "both screenshots load from files next to the report: {:?}",
        shown.images
    );
    assert_eq!(
        shown.trace_href.as_deref(),
        Some("../traces/shop-ungated-reject-all.zip")
    );

    // How Segment's library showed itself, per trial (the shop loads it by the snippet).
    assert!(
        raw.contains("<p class=\"library\">Segment's library: loaded (snippet)</p>"),
        "the report says how Segment's library showed itself"
    );

    // Personal data: the leak is named by its field path, never its value.
    assert!(shown.pii_text.contains("email"), "{}", shown.pii_text);
    assert!(!shown.body_text.contains("jane@example.com"));
    assert!(
        !shown.body_text.contains("example.com?"),
        "no raw query strings"
    );

    // Self-contained: nothing but the page and its screenshots was requested.
    let requests = requests.lock().unwrap();
    assert!(
        requests.iter().all(|u| u.starts_with("file://")),
        "the report loads nothing from the network: {requests:?}"
    );
    assert!(requests.iter().any(|u| u.ends_with(".png")), "{requests:?}");
}
