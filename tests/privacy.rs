//! Property: every value that `pii-leak` flags is removed by redaction from every artefact a trial
//! leaves (snapshot, failure messages and evidence, the report's evidence), whatever the e-mail
//! address or phone number and whichever way the page sent it (event payload, event name, page
//! URL, vendor query and path, form body; raw or URL-encoded).

mod common;

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;

use consent_gates::analysis;
use consent_gates::analysis::privacy::{Redactor, Scanner, percent_encode};
use consent_gates::capture::{Capture, CapturedRequest, Phase};
use consent_gates::outcome::{CheckId, Failure, TrialEvidence};
use consent_gates::output::{report, snapshot};
use consent_gates::spec;

const SPEC: &str = "\
site: {url: 'https://shop.example/'}
regime: gdpr
pii: [loyalty_card]
categories:
  C0004: {purpose: advertising}
destinations:
  Facebook Pixel: {categories: [C0004]}
  Webhooks: {mode: cloud, categories: [C0004]}
states:
  reject-all:
    steps: [{click: '#reject'}]
    expect: {collection: none, blocked: all}
";

fn request(
    seq: u64,
    phase: Phase,
    method: &str,
    url: String,
    body: Option<String>,
) -> CapturedRequest {
    CapturedRequest {
        seq,
        at_ms: seq * 100,
        phase,
        ..CapturedRequest::sent(method, url, body.map(String::into_bytes))
    }
}

/// A visit that sends `email`, `phone` and the declared `card` every way a page does.
fn capture(email: &str, phone: &str, card: &str) -> Capture {
    let (e, p) = (percent_encode(email), percent_encode(phone));
    let event = |kind: &str, name: &str| {
        json!({
            "type": kind, "event": name, "writeKey": "shopWK123", "messageId": "m-1",
            "anonymousId": "anon-123", "userId": "visitor-8472",
            "traits": {"email": email, "phone": phone, "loyalty_card": card},
            "properties": {"contact": format!("mail {email} or call {phone}")},
            "context": {
                "consent": {"categoryPreferences": {"C0004": false}},
                "page": {"url": format!("https://shop.example/u/{e}?tel={p}&mail={e}")}
            }
        })
        .to_string()
    };
    Capture {
        requests: vec![
            request(
                1,
                Phase::Before,
                "GET",
                "https://shop.example/".into(),
                None,
            ),
            request(
                2,
                Phase::Before,
                "POST",
                "https://api.segment.io/v1/t".into(),
                Some(event("track", &format!("Signed up {email} {phone} {card}"))),
            ),
            request(
                11,
                Phase::After,
                "GET",
                format!("https://www.facebook.com/tr/u/{email}/{p}/?ud%5Bem%5D={e}&ph={p}"),
                None,
            ),
            request(
                12,
                Phase::After,
                "POST",
                "https://api.segment.io/v1/i".into(),
                Some(event("identify", "")),
            ),
            request(
                3,
                Phase::Before,
                "POST",
                "https://px.tracker.example/collect".into(),
                Some(format!("em={e}&ph={p}&card={card}")),
            ),
        ],
        ..Default::default()
    }
}

/// Everything a trial writes about itself as one text, before and after the trial's redaction.
fn artefacts(spec: &spec::Spec, capture: &Capture) -> (String, String, Vec<Failure>) {
    let state = &spec.states["reject-all"];
    let analysis = analysis::analyse(spec, state, capture, None);
    let mut failures = analysis.failures.clone();
    let mut snap = snapshot::build(spec, "reject-all", state, capture, &analysis);
    let mut evidence = report::evidence::build(
        spec,
        state,
        capture,
        &analysis.decoded,
        &analysis.routing,
        analysis.effective.lines(),
    );
    let text = |snap: &snapshot::Snapshot, failures: &[Failure], evidence: &TrialEvidence| {
        format!(
            "{}\n{}\n{}",
            serde_yaml::to_string(snap).expect("snapshot yaml"),
            serde_json::to_string(failures).expect("failures json"),
            serde_json::to_string(evidence).expect("evidence json"),
        )
    };
    let raw = text(&snap, &failures, &evidence);
    let mut r = Redactor::for_trial(&spec.pii, capture, &analysis.decoded);
    snap.redact(&mut r);
    for f in &mut failures {
        r.failure(f);
    }
    evidence.redact(&mut r);
    (raw, text(&snap, &failures, &evidence), failures)
}

fn flagged(value: &str) -> bool {
    !Scanner::new(&[])
        .scan_json(&json!({ "note": value }))
        .is_empty()
}

fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\+[1-9][0-9] [1-9][0-9]{1,3} [0-9]{3,4} [0-9]{4}",
        "\\+[1-9][0-9]{9,12}",
        "\\([2-9][0-9]{2}\\) [0-9]{3}-[0-9]{4}",
        "[2-9][0-9]{2}-[0-9]{3}-[0-9]{4}",
        "0[1-9][0-9] [0-9]{4} [0-9]{4}",
        "0[1-9] [0-9]{2} [0-9]{2} [0-9]{2} [0-9]{2}",
    ]
}

fn email() -> impl Strategy<Value = String> {
    "[a-z]{1,8}(\\.[a-z]{1,8})?(\\+[a-z]{1,4})?@[a-z]{2,10}\\.(com|org|co\\.uk|example)"
}

proptest! {
    #![proptest_config(common::proptest_config(48))]

    #[test]
    fn every_flagged_value_is_redacted_everywhere(
        email in email(),
        phone in phone(),
        card in "[A-Z]{2}[0-9]{6,10}",
    ) {
        prop_assume!(flagged(&email) && flagged(&phone));
        let spec = spec::parse_str(SPEC, Path::new("specs/t.yaml")).expect("spec");
        let (raw, text, failures) = artefacts(&spec, &capture(&email, &phone, &card));
        // The artefacts carry every value before redaction (the property is not empty) ...
        for v in [&email, &phone, &card] {
            prop_assert!(raw.contains(v.as_str()), "{v:?} not in the artefacts:\n{raw}");
        }
        // ... pii-leak flags them ...
        let pii = failures
            .iter()
            .filter(|f| f.check == CheckId::PiiLeak)
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("\n");
        prop_assert!(pii.contains("email address") && pii.contains("phone number"), "{pii}");
        prop_assert!(pii.contains("loyalty_card"), "{pii}");
        // ... and after redaction the artefacts show placeholders where they were.
        prop_assert!(text.contains("<email:"), "{text}");
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        for raw in [
            email.clone(),
            percent_encode(&email),
            email.replace('@', "%40"),
            phone.clone(),
            percent_encode(&phone),
            digits,
            card.clone(),
        ] {
            prop_assert!(!text.contains(&raw), "{raw:?} survived redaction:\n{text}");
        }
    }
}
