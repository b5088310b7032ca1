//! Bad input never breaks a run: a folder of broken specs beside a good one gives one located
//! `<spec>::spec` error per broken spec while the good spec's trial runs; and the parsers (spec,
//! Segment decoder, request classifier, redactor) survive any input (bounded proptest smoke runs;
//! the open-ended fuzzing lives in `fuzz/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;

use consent_gates::analysis::privacy::redact;
use consent_gates::analysis::segment;
use consent_gates::capture::{Capture, CapturedRequest};
use consent_gates::outcome::{CheckId, Verdict};
use consent_gates::spec;
use proptest::prelude::*;

const BAD_SPECS: &str = "tests/fixtures/bad-specs/specs";

/// Every file under `dir`, with its size (to prove a run wrote nothing there).
fn listing(dir: &Path) -> BTreeSet<(PathBuf, u64)> {
    common::files_under(dir)
        .into_iter()
        .map(|p| {
            let len = std::fs::metadata(&p).map_or(0, |m| m.len());
            (p, len)
        })
        .collect()
}

#[test]
fn each_bad_spec_gives_one_located_error_and_the_good_spec_runs() {
    // spec stem → (line of the error, words the message must hold)
    let expected: BTreeMap<&str, (usize, &[&str])> = [
        ("malformed-yaml", (10, &["malformed-yaml.yaml:"][..])),
        ("wrong-type", (9, &["gpc", "boolean"][..])),
        (
            "unknown-key",
            (9, &["colection", "did you mean `collection`"][..]),
        ),
        (
            "unknown-destination",
            (
                9,
                &["unknown destination `Google Analytics 4`", "did you mean"][..],
            ),
        ),
        ("unknown-category", (12, &["unknown category `C0003`"][..])),
        ("no-expectations", (8, &["has no expectations"][..])),
        (
            "duplicate-states",
            (10, &["duplicate key `a`", "line 8"][..]),
        ),
        (
            "missing-serve-folder",
            (3, &["does not exist", "no-such-folder"][..]),
        ),
        (
            "missing-settings",
            (4, &["does not exist", "no-such-settings.json"][..]),
        ),
        ("settings-not-json", (4, &["not valid JSON"][..])),
        (
            "invalid-selector",
            (10, &["invalid selector in step 1", "never closed"][..]),
        ),
        ("site-not-http", (2, &["http(s) URL"][..])),
        (
            "outside-repository",
            (3, &["outside the spec's repository"][..]),
        ),
    ]
    .into_iter()
    .collect();

    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad-specs");
    let before = listing(&folder);
    let (results, _tmp) = common::judge(&format!("{BAD_SPECS}/*.yaml"), |_| true);
    assert_eq!(
        listing(&folder),
        before,
        "a run writes nothing beside the specs"
    );

    let good = common::result(&results, "good::plain-visit");
    assert_eq!(
        good.verdict,
        Verdict::Pass,
        "the good spec's trial runs: {good:#?}"
    );

    for (stem, (line, words)) in &expected {
        let mine: Vec<_> = results.iter().filter(|r| r.spec == *stem).collect();
        assert_eq!(mine.len(), 1, "{stem}: exactly one trial: {mine:#?}");
        let r = mine[0];
        assert_eq!(r.state, "spec", "{stem}: the trial is `{stem}::spec`");
        assert_eq!(r.verdict, Verdict::Error, "{stem}: {r:#?}");
        assert_eq!(r.failures.len(), 1, "{stem}: {r:#?}");
        assert_eq!(r.failures[0].check, CheckId::InvalidSpec);
        let message = &r.failures[0].message;
        let located = format!("{stem}.yaml:{line}:");
        assert!(
            message.contains(&located),
            "{stem}: names file:line:column `{located}<col>`:\n{message}"
        );
        let col = message
            .split(&located)
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|c| c.parse::<usize>().ok());
        assert!(col.is_some_and(|c| c > 0), "{stem}: a column: {message}");
        for w in *words {
            assert!(message.contains(w), "{stem}: mentions {w:?}:\n{message}");
        }
        if *stem != "malformed-yaml" {
            assert!(
                message.contains("help:"),
                "{stem}: says what to do:\n{message}"
            );
        }
    }
    assert_eq!(
        results.len(),
        expected.len() + 1,
        "nothing else ran: {:?}",
        results.iter().map(|r| r.name()).collect::<Vec<_>>()
    );
}

#[allow(clippy::result_large_err)] // one error per spec file
fn parse(text: &str) -> Result<spec::Spec, spec::SpecError> {
    spec::parse_str(text, Path::new("specs/t.yaml"))
}

fn with_step(step: &str) -> String {
    format!(
        "site: {{url: 'https://a.example/'}}\nstates:\n  s:\n    steps:\n      - {step}\n    \
         expect: {{collection: none}}\n"
    )
}

#[test]
fn selectors_are_checked_at_parse_time() {
    for good in [
        r##"click: "#accept""##,
        r##"click: "button.primary, a[href='/x'] > span""##,
        r##"click: "text=Accept all""##,
        r##"click: "role=button[name=\"Accept\"]""##,
        r##"click: "#cc-main >> text=Reject""##,
        r##"click: "//button[@id='x']""##,
        r##"wait_for: "div:has-text(\"Cookies (3)\")""##,
        r##"fill: {"input[name=email]": "a"}"##,
    ] {
        assert!(
            parse(&with_step(good)).is_ok(),
            "{good}: {:?}",
            parse(&with_step(good)).err()
        );
    }
    for (bad, why) in [
        (
            r##"click: "#cc-main [data-role=necessary""##,
            "never closed",
        ),
        (r##"click: "button)""##, "closes nothing"),
        (r##"click: "> button""##, "starts with the combinator"),
        (r##"click: "div >""##, "ends with the combinator"),
        (r##"click: "a,,b""##, "empty item"),
        (r##"click: "#""##, "not followed by a name"),
        (r##"click: "#123""##, "cannot start with a digit"),
        (r##"wait_for: "a[title='x]""##, "never closed"),
        (r##"click: "#a >> ""##, "empty part"),
        (r##"fill: {"input[name=email": "a"}"##, "never closed"),
    ] {
        let e = parse(&with_step(bad)).expect_err(bad);
        assert!(e.message.contains(why), "{bad}: {}", e.message);
        assert_eq!(e.line, 5, "{bad}: points at the step");
    }
}

#[test]
fn retries_and_trial_bound_are_spec_keys() {
    let s = parse(
        "site: {url: 'https://a.example/'}\nretries: 2\ntiming: {trial_ms: 4000}\nstates:\n  s:\n    \
         expect: {collection: none}\n",
    )
    .unwrap();
    assert_eq!(s.retries, 2);
    assert_eq!(s.timing.trial_ms, Some(4000));
    let e = parse(
        "site: {url: 'https://a.example/'}\nretries: 99\nstates:\n  s:\n    expect: {collection: none}\n",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 10), "{e}");
    let e = parse(
        "site: {url: 'https://a.example/'}\ntiming: {trial_ms: 0}\nstates:\n  s:\n    expect: {collection: none}\n",
    )
    .unwrap_err();
    assert!(e.message.contains("trial_ms"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Property tests: no panic and bounded work on any input.

const SPEC_SEED: &str = include_str!("fixtures/bad-specs/specs/good.yaml");

fn request(method: &str, url: String, body: Option<String>) -> CapturedRequest {
    CapturedRequest::sent(method, url, body.map(String::into_bytes))
}

/// JSON-ish bodies: real event and batch shapes with arbitrary values mixed in.
fn body_strategy() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z@.+ 0-9]{0,12}".prop_map(|s| format!("{s:?}")),
        Just("true".to_string()),
    ];
    let value = leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("type".to_string()),
                        Just("writeKey".to_string()),
                        Just("batch".to_string()),
                        Just("context".to_string()),
                        Just("consent".to_string()),
                        Just("categoryPreferences".to_string()),
                        Just("userId".to_string()),
                        Just("series".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("{k:?}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        ]
    });
    prop_oneof![
        value,
        any::<String>(),
        Just(
            r#"{"batch":[{"type":"track","event":"x","messageId":"m"},1,null],"writeKey":"k"}"#
                .to_string()
        ),
    ]
}

proptest! {
    #![proptest_config(common::proptest_config(128))]

    #[test]
    fn spec_parser_never_panics_on_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn spec_parser_never_panics_on_mutated_specs(cut in 0usize..400, insert in "[ :\\-\\[\\]{}\"'#\n\ta-z0-9]{0,8}") {
        let mut text = SPEC_SEED.to_string();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % SPEC_SEED.chars().count()).unwrap_or(0);
        text.insert_str(at, &insert);
        let _ = parse(&text);
        text.truncate(at);
        let _ = parse(&text);
    }

    #[test]
    fn classifier_and_decoder_never_panic(
        method in prop_oneof![Just("POST".to_string()), Just("GET".to_string()), Just("OPTIONS".to_string()), "[A-Z]{0,7}"],
        host in prop_oneof![Just("api.segment.io".to_string()), Just("cdn.segment.com".to_string()), "[a-z.]{0,12}"],
        path in prop_oneof![
            Just("/v1/t".to_string()), Just("/v1/b".to_string()), Just("/v1/m".to_string()),
            Just("/v1/batch".to_string()), Just("/v1/projects/wk/settings".to_string()),
            Just("/analytics.js/v1/wk/analytics.min.js".to_string()),
            Just("/next-integrations/actions/x/y.js".to_string()),
            "(/[a-z0-9.%]{0,6}){0,6}",
        ],
        query in "(\\?[a-z=&%@.]{0,20})?",
        body in prop::option::of(body_strategy()),
    ) {
        let req = request(&method, format!("https://{host}{path}{query}"), body);
        let _ = segment::classify(&req);
        let capture = Capture { requests: vec![req], ..Capture::default() };
        let decoded = segment::decode(&capture);
        let _ = redact::Redactor::for_trial(&[], &capture, &decoded);
    }

    #[test]
    fn redactor_never_panics_and_leaves_no_email(prefix in any::<String>(), user in "[a-z]{3,8}", suffix in any::<String>()) {
        let email = format!("{user}@mail.example");
        let text = format!("{prefix}{email}{suffix}");
        let out = redact::text(&text);
        if text.len() < 60_000 {
            prop_assert!(!out.contains(&email), "{out}");
        }
    }
}

#[test]
fn huge_and_deep_bodies_are_bounded() {
    // A body over the decoder's limit, and a deeply nested one: classified without panicking or
    // parsing the whole thing.
    let huge = format!(
        "{{\"writeKey\":\"k\",\"type\":\"track\",\"pad\":\"{}\"}}",
        "x".repeat(segment::MAX_BODY_BYTES + 10)
    );
    let req = request("POST", "https://api.segment.io/v1/t".into(), Some(huge));
    assert!(matches!(
        segment::classify(&req),
        segment::RequestKind::Malformed { .. }
    ));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let req = request("POST", "https://api.segment.io/v1/b".into(), Some(deep));
    let capture = Capture {
        requests: vec![req],
        ..Capture::default()
    };
    let decoded = segment::decode(&capture);
    assert!(decoded.events.is_empty());
    let long = "a@b.example ".repeat(100_000);
    assert!(redact::text(&long).len() < long.len());
}
