//! End-to-end tests of the harness itself: real Chromium, real Segment, real CMP, the example shop
//! and deliberately broken copies of it. Each asserts which checks fire, and where.

use std::path::PathBuf;

mod common;

use common::result;
use consent_gates::outcome::TrialResult;
use consent_gates::outcome::{CheckId, Verdict};
use consent_gates::runner::harness::{self, Options, Summary};
use libtest_mimic::Arguments;

/// Runs the harness over `specs`; snapshots go to a temporary folder unless `snapshots` names one.
fn run_with(
    specs: &str,
    filter: Option<&str>,
    snapshots: Option<&str>,
) -> (Summary, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    // The nested run's libtest output goes to a file, apart from this test's own.
    let mut args = vec![
        "e2e".to_string(),
        "--quiet".into(),
        "--logfile".into(),
        tmp.path().join("libtest.log").display().to_string(),
    ];
    if let Some(f) = filter {
        args.push(f.to_string());
        args.push("--exact".into());
    }
    let options = Options {
        specs: specs.into(),
        snapshots: Some(snapshots.map_or_else(|| tmp.path().join("snapshots"), PathBuf::from)),
        table: false,
        out: Some(tmp.path().join("out")),
    };
    (harness::run(&Arguments::from_iter(args), &options), tmp)
}

fn run(specs: &str, filter: Option<&str>) -> (Vec<TrialResult>, tempfile::TempDir) {
    common::judge(specs, |n| filter.is_none_or(|f| f == n))
}

fn checks(r: &TrialResult) -> Vec<(CheckId, Option<String>)> {
    r.failures
        .iter()
        .map(|f| (f.check, f.destination.clone()))
        .collect()
}

#[test]
fn ungated_destination_is_caught_on_reject_all() {
    let (results, _tmp) = run(
        "tests/fixtures/ungated/specs/*.yaml",
        Some("shop-ungated::reject-all"),
    );
    let r = result(&results, "shop-ungated::reject-all");
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    let blocked: Vec<_> = checks(r)
        .into_iter()
        .filter(|(c, _)| *c == CheckId::BlockedReceived)
        .collect();
    assert_eq!(
        blocked,
        vec![(
            CheckId::BlockedReceived,
            Some("Facebook Conversions Api Web".to_string())
        )],
        "exactly the ungated destination is named: {r:#?}"
    );
    let evidence = &r
        .failures
        .iter()
        .find(|f| f.check == CheckId::BlockedReceived)
        .unwrap()
        .evidence;
    assert!(
        evidence.iter().any(|e| e.what.contains("facebook")),
        "evidence names the Facebook request: {evidence:?}"
    );
}

/// A second run of the shop (the `specs` test is the first) must reproduce the committed snapshots.
#[test]
fn shop_example_passes_with_identical_snapshots() {
    let (summary, tmp) = run_with("specs/shop.yaml", None, Some("snapshots"));
    assert_eq!(summary.results.len(), 4);
    for r in &summary.results {
        assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    }
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("out/results.json")).expect("results.json written"),
    )
    .expect("results.json is JSON");
    let trials = json["trials"].as_array().expect("trials");
    assert_eq!(trials.len(), 4);
    assert!(
        trials
            .iter()
            .all(|t| t["verdict"] == "pass" && t["snapshot"] == "match")
    );
}

#[test]
fn invalid_spec_fails_alone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let specs = tmp.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(
        specs.join("broken.yaml"),
        "site:\n  url: https://x.example/\nstates:\n  s:\n    expect: {colection: none}\n",
    )
    .unwrap();
    let pattern = format!("{}/*.yaml", specs.display());
    let (results, _tmp) = run(&pattern, None);
    let r = result(&results, "broken::spec");
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.failures[0].check,
        consent_gates::outcome::CheckId::InvalidSpec
    );
    let message = &r.failures[0].message;
    assert!(
        message.contains("broken.yaml:5"),
        "names file and line: {message}"
    );
    assert!(
        message.contains("collection"),
        "suggests the right key: {message}"
    );
}

#[test]
fn step_that_matches_nothing_fails_naming_the_step() {
    let (results, _tmp) = run("tests/fixtures/step-miss/specs/*.yaml", None);
    let r = result(&results, "shop-step-miss::stale-selector");
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    assert_eq!(checks(r), vec![(CheckId::StepDidNotMatch, None)]);
    let message = &r.failures[0].message;
    assert!(
        message.contains("step 1") && message.contains("#onetrust-accept-btn-handler"),
        "names the step and its selector: {message}"
    );
}
