//! The JSON Schema of the spec format: generated from the parser's types, committed as
//! `schema/spec.schema.json`, referenced by the example specs, and accepting every spec the tool
//! accepts. Regenerate the committed copy with `UPDATE_SCHEMA=1 cargo test --test schema`.
//! And the shape of `results.json`, which has no JSON Schema: [`results_json`].

use std::path::{Path, PathBuf};

use consent_gates::spec;

const COMMITTED: &str = "schema/spec.schema.json";
const HEADER: &str = "# yaml-language-server: $schema=../schema/spec.schema.json";

#[test]
fn committed_schema_is_up_to_date() {
    let generated = spec::schema::spec_schema_text();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{COMMITTED} is out of date with the spec types: run `UPDATE_SCHEMA=1 cargo test --test schema` and commit it"
    );
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&spec::schema::spec_schema())
        .expect("the schema is a valid JSON Schema")
}

fn yaml_files(pattern: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = glob::glob(pattern)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    v.sort();
    v
}

fn as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every spec the tool accepts (examples and fixtures) is valid under the schema.
#[test]
fn schema_accepts_every_spec_the_tool_accepts() {
    let v = validator();
    let mut checked = 0;
    for path in yaml_files("specs/**/*.yaml")
        .into_iter()
        .chain(yaml_files("tests/fixtures/**/specs/*.yaml"))
    {
        if spec::load(&path).is_err() {
            continue;
        }
        let errors: Vec<String> = v
            .iter_errors(&as_json(&path))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} specs checked");
}

/// The schema catches what editors should flag: misspelt keys, unknown values, malformed steps.
#[test]
fn schema_rejects_mistakes() {
    let v = validator();
    let base = "site: {url: 'https://x.example/'}\ncategories: {C0002: analytics}\n";
    for (bad, why) in [
        ("states: {s: {expect: {colection: none}}}", "misspelt key"),
        (
            "states: {s: {expect: {collection: some}}}",
            "unknown collection level",
        ),
        (
            "states: {s: {expect: {blocked: everything}}}",
            "blocked is all or a list",
        ),
        ("states: {s: {steps: [{clik: '#x'}]}}", "unknown step"),
        (
            "states: {s: {steps: [{click: '#a', eval: 'x'}]}}",
            "two actions in one step",
        ),
        (
            "states: {s: {steps: [{cmp: accept}]}}",
            "unknown CMP action",
        ),
        ("regime: eu", "unknown regime"),
        ("cmp: no-such-cmp", "unknown adapter"),
        ("categories: {C0002: marketing}", "unknown purpose"),
        ("destinations: {X: {mode: server}}", "unknown mode"),
    ] {
        let text = format!("{base}{bad}\n");
        let value: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert!(!v.is_valid(&value), "{why} must be rejected: {bad}");
    }
    let good = format!(
        "{base}cmp: klaro\nstates:\n  a: {{steps: [{{cmp: {{categories: [C0002]}}}}, {{fill: {{'#e': x}}}}], expect: {{allowed: all, calls: {{identify: none}}, consent: {{C0002: true}}}}}}\n"
    );
    let value: serde_json::Value = serde_yaml::from_str(&good).unwrap();
    assert!(v.is_valid(&value), "{good}");
}

/// Editors find the schema: every example spec names it on its first line.
#[test]
fn example_specs_reference_the_schema() {
    let specs = yaml_files("specs/*.yaml");
    assert!(!specs.is_empty());
    for path in specs {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next(),
            Some(HEADER),
            "{} must start with `{HEADER}`",
            path.display()
        );
    }
}

mod results_json {
    //! `results.json` keeps the shape docs/results.md documents: it is written
    //! from [`TrialResult`]s and read back into them, byte for byte.

    use std::collections::BTreeSet;

    use consent_gates::capture::Phase;
    use consent_gates::outcome::{
        CheckId, Evidence, Failure, SnapshotStatus, TrialResult, Verdict,
    };
    use serde::{Deserialize, Serialize};
    use serde_json::Value;
    use strum::VariantArray;

    /// The file's documented top level, spelled out here rather than borrowed from the writer.
    #[derive(Serialize, Deserialize)]
    struct File {
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
        trials: Vec<TrialResult>,
    }

    /// A trial of the shop that found `failures` (its verdict follows from them), its snapshot
    /// compared as `snapshot`.
    fn trial(state: &str, failures: Vec<Failure>, snapshot: SnapshotStatus) -> TrialResult {
        let mut t = TrialResult::new("shop", state, failures);
        (t.snapshot, t.duration_ms) = (snapshot, 1234);
        t
    }

    /// The `i`th failure of a trial, of `check`: every other one names a destination, and two in
    /// three show evidence, from before or after the decision.
    fn failure(i: usize, check: CheckId) -> Failure {
        let even = i.is_multiple_of(2);
        let evidence = Evidence {
            at_ms: 100 * i as u64,
            phase: Some(if even { Phase::After } else { Phase::Before }),
            what: format!("GET https://vendor.example/{check}"),
        };
        Failure {
            check,
            destination: even.then(|| "Facebook Pixel".to_string()),
            message: format!("the {check} check failed"),
            evidence: if i % 3 == 2 {
                Vec::new()
            } else {
                vec![evidence]
            },
        }
    }

    /// A failure of each check that gives a trial `verdict` (fail, or error).
    fn a_failure_of_every_check(verdict: Verdict) -> Vec<Failure> {
        CheckId::VARIANTS
            .iter()
            .filter(|&&check| Verdict::of(&[failure(0, check)]) == verdict)
            .enumerate()
            .map(|(i, &check)| failure(i, check))
            .collect()
    }

    /// One trial of every verdict and snapshot status, a failure of every check (with and without
    /// destination and evidence), a trace, a flaky retry.
    fn every_kind() -> Vec<TrialResult> {
        let failures = a_failure_of_every_check(Verdict::Fail);
        let mut failing = trial("reject-all", failures, SnapshotStatus::Changed);
        failing.trace = Some("target/consent-gates/traces/shop-reject-all.zip".into());
        let errors = a_failure_of_every_check(Verdict::Error);
        let error = trial("broken", errors, SnapshotStatus::Skipped);
        let mut flaky = trial("accept-all", Vec::new(), SnapshotStatus::New);
        (flaky.attempts, flaky.flaky) = (2, true);
        let trials = vec![
            trial("no-choice", Vec::new(), SnapshotStatus::Match),
            failing,
            error,
            flaky,
        ];
        let verdicts: Vec<Verdict> = trials.iter().map(|t| t.verdict).collect();
        assert_eq!(
            verdicts,
            [Verdict::Pass, Verdict::Fail, Verdict::Error, Verdict::Pass],
            "every verdict"
        );
        trials
    }

    fn keys(v: &Value) -> BTreeSet<&str> {
        v.as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect()
    }

    fn subset(v: &Value, required: &[&str], optional: &[&str]) {
        let k = keys(v);
        for r in required {
            assert!(k.contains(r), "`{r}` missing in {v}");
        }
        for key in &k {
            assert!(
                required.contains(key) || optional.contains(key),
                "undocumented key `{key}` in {v}"
            );
        }
    }

    #[test]
    fn written_results_round_trip_through_trial_results_byte_for_byte() {
        let tmp = tempfile::tempdir().unwrap();
        let written = consent_gates::output::report::write_run(tmp.path(), &every_kind()).unwrap();
        let bytes = std::fs::read(&written.results).unwrap();

        let file: File =
            serde_json::from_slice(&bytes).expect("results.json reads as TrialResults");
        assert_eq!(file.version, 1);
        let names: Vec<String> = file.trials.iter().map(TrialResult::name).collect();
        assert_eq!(
            names,
            [
                "shop::accept-all",
                "shop::broken",
                "shop::no-choice",
                "shop::reject-all"
            ],
            "sorted by trial name"
        );
        let reject = &file.trials[3];
        assert_eq!(reject.verdict, Verdict::Fail);
        assert_eq!(reject.snapshot, SnapshotStatus::Changed);
        assert_eq!(reject.failures, every_kind()[1].failures);
        assert!(file.trials[0].flaky && file.trials[0].attempts == 2);
        let again = serde_json::to_vec_pretty(&file).unwrap();
        assert!(
            again == bytes,
            "re-serialised differently:\n{}\n---\n{}",
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(&again)
        );

        // The documented keys and words, nothing else.
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        subset(&json, &["version", "trials"], &["run_id"]);
        for t in json["trials"].as_array().unwrap() {
            subset(
                t,
                &[
                    "spec",
                    "state",
                    "verdict",
                    "failures",
                    "snapshot",
                    "duration_ms",
                    "attempts",
                    "flaky",
                ],
                &["trace"],
            );
            assert!(["pass", "fail", "error"].contains(&t["verdict"].as_str().unwrap()));
            assert!(
                ["match", "changed", "new", "skipped"].contains(&t["snapshot"].as_str().unwrap())
            );
            for f in t["failures"].as_array().unwrap() {
                subset(f, &["check", "message", "evidence"], &["destination"]);
                for e in f["evidence"].as_array().unwrap() {
                    subset(e, &["at_ms", "phase", "what"], &[]);
                    assert!(["before", "after"].contains(&e["phase"].as_str().unwrap()));
                }
            }
        }
        assert_eq!(
            json["trials"][3]["failures"][0]["check"],
            "blocked-received"
        );
        assert!(
            json["trials"][3]["failures"][1]
                .get("destination")
                .is_none()
        );
    }

    /// A results.json as earlier versions wrote it (keys in alphabetical order) still reads.
    #[test]
    fn results_in_the_documented_shape_read_as_trial_results() {
        let text = r#"{
  "version": 1,
  "run_id": "3f0c",
  "trials": [
    {
      "attempts": 1,
      "duration_ms": 9,
      "failures": [
        {
          "check": "blocked-received",
          "destination": "Facebook Pixel",
          "evidence": [{"at_ms": 812, "phase": "after", "what": "GET https://connect.facebook.net/"}],
          "message": "`Facebook Pixel` must be blocked"
        }
      ],
      "flaky": false,
      "snapshot": "match",
      "spec": "shop",
      "state": "reject-all",
      "trace": "traces/shop-reject-all.zip",
      "verdict": "fail"
    }
  ]
}"#;
        let file: File = serde_json::from_str(text).unwrap();
        let t = &file.trials[0];
        assert_eq!(t.name(), "shop::reject-all");
        assert_eq!(t.verdict, Verdict::Fail);
        assert_eq!(t.failures[0].check, CheckId::BlockedReceived);
        assert_eq!(t.failures[0].evidence[0].phase, Some(Phase::After));
        assert_eq!(t.failures[0].label(), "blocked-received (Facebook Pixel)");
        assert!(t.trace.is_some());
        assert_eq!(file.run_id.as_deref(), Some("3f0c"));
    }
}
