//! `analyse` on hand-made captures (the verdict tests' builders): one pass, no file, no browser;
//! the visitor's own navigations told apart from what the site sends.

use serde_json::json;

use super::*;
use crate::analysis::routing::ReceptionKind;
use crate::analysis::verdict::tests::{
    FB_PIXEL, REJECT, capture, event, get, ids, req, run, settings, shop, stamp, state,
};
use crate::capture::Initiator;
use crate::outcome::CheckId;
use crate::spec::types::{DestinationSet, Expect, Regime};

fn blocked_all() -> Expect {
    Expect {
        blocked: Some(DestinationSet::All),
        ..Default::default()
    }
}

/// `c` analysed as a visit of the shop under gdpr, in a state of two steps that blocks every
/// destination (no settings file).
fn blocking(c: &Capture) -> Analysis {
    let st = state(2, blocked_all());
    analyse(&shop(Regime::Gdpr), &st, c, Some(&settings(json!({}))))
}

/// A top-level navigation step 2 caused, after the decision.
fn step_navigation(seq: u64, method: &str, url: &str, body: Option<&str>) -> CapturedRequest {
    let mut r = req(seq, 1500, method, url, None);
    r.resource_type = "document".into();
    r.initiator = Initiator::StepNavigation { step: 2 };
    r.body = body.map(|b| b.as_bytes().to_vec());
    r
}

#[test]
fn one_pass_reads_no_file_and_agrees_with_the_verdict() {
    let mut s = shop(Regime::Gdpr);
    // A settings path that does not exist: analyse must only use the parsed settings it is given.
    s.segment.settings = Some("/nonexistent/settings.json".into());
    let st = state(1, blocked_all());
    let set = settings(json!({}));
    let c = capture(
        vec![
            get(0, 1200, FB_PIXEL),
            event(1, 1300, "track", stamp(&REJECT), json!({})),
        ],
        true,
    );
    let a = analyse(&s, &st, &c, Some(&set));
    assert_eq!(a.failures, run(&s, &st, &c, Some(&set)));
    assert!(ids(&a.failures).contains(&(CheckId::BlockedReceived, Some("Facebook Pixel".into()))));
    assert_eq!(a.decoded.events.len(), 1);
    assert_eq!(
        a.effective.lines(),
        vec![
            "blocked: all (spec)".to_string(),
            "pii: none before the decision (regime gdpr)".to_string()
        ],
        "the effective expectations are computed once and kept"
    );
}

#[test]
fn a_plain_link_the_visitor_follows_is_a_departure_not_a_reception() {
    let nav = step_navigation(
        0,
        "GET",
        "https://www.facebook.com/lumenshop?utm_source=shop",
        None,
    );
    let a = blocking(&capture(vec![nav.clone()], true));
    assert!(a.failures.is_empty(), "{:#?}", a.failures);
    assert_eq!(a.routing.departures.len(), 1);
    assert_eq!(a.routing.departures[0].host, "www.facebook.com");
    assert_eq!(a.routing.departures[0].step, 2);
    assert!(
        a.routing.destinations["Facebook Pixel"]
            .receptions
            .is_empty()
    );
    // The same request sent by the page itself (a beacon, a script redirect) is the site's doing.
    let mut sent = nav;
    sent.initiator = Initiator::Page;
    let a = blocking(&capture(vec![sent], true));
    assert_eq!(
        ids(&a.failures),
        vec![(CheckId::BlockedReceived, Some("Facebook Pixel".into()))]
    );
    assert!(a.routing.departures.is_empty());
}

#[test]
fn a_link_decorated_with_the_visitors_id_is_blocked_received_naming_the_parameter() {
    let vid = "v1a2b3c4d5e6";
    let nav = step_navigation(
        0,
        "GET",
        &format!(
            "https://www.facebook.com/sharer.php?u=https%3A%2F%2Fshop.example%2F&utm_source=shop&vid={vid}"
        ),
        None,
    );
    let mut c = capture(vec![nav], true);
    c.cookie_values = vec![vid.to_string(), "true".into()];
    let a = blocking(&c);
    assert_eq!(
        ids(&a.failures),
        vec![(CheckId::BlockedReceived, Some("Facebook Pixel".into()))]
    );
    let what: Vec<&str> = a.failures[0]
        .evidence
        .iter()
        .map(|e| e.what.as_str())
        .collect();
    assert_eq!(
        what,
        vec![
            "the visitor was sent to www.facebook.com/sharer.php by a step, carrying an identifier (vid)"
        ]
    );
    assert!(
        !format!("{:?}", a.failures).contains(vid),
        "never the value"
    );
    assert!(matches!(
        &a.routing.destinations["Facebook Pixel"].receptions[0].kind,
        ReceptionKind::Navigated { identifiers, .. } if identifiers == &["vid".to_string()]
    ));
}

#[test]
fn click_ids_and_segment_ids_identify_the_visitor() {
    let anonymous = "5c3d9f1e-1234-4567-8901-234567890abc";
    let c = capture(
        vec![
            event(0, 1100, "page", stamp(&REJECT), json!({})),
            step_navigation(
                1,
                "GET",
                &format!("https://www.facebook.com/x?FBCLID=IwAR0abc&ref=u-{anonymous}&lang=en"),
                None,
            ),
        ],
        true,
    );
    let a = blocking(&c);
    let carried: Vec<_> = a.routing.destinations["Facebook Pixel"]
        .receptions
        .iter()
        .filter_map(|r| match &r.kind {
            ReceptionKind::Navigated { identifiers, .. } => Some(identifiers.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(carried, vec![vec!["FBCLID".to_string(), "ref".to_string()]]);
}

#[test]
fn a_form_sending_an_email_to_a_vendor_is_blocked_received_and_pii_leak() {
    let c = capture(
        vec![step_navigation(
            0,
            "POST",
            "https://www.facebook.com/subscribe/post?u=lumen",
            Some("EMAIL=jane%40example.com&list=news"),
        )],
        true,
    );
    let a = blocking(&c);
    assert_eq!(
        ids(&a.failures),
        vec![
            (CheckId::BlockedReceived, Some("Facebook Pixel".into())),
            (CheckId::PiiLeak, Some("Facebook Pixel".into())),
        ]
    );
    let text = format!("{:?}", a.failures);
    assert!(text.contains("carrying an identifier (EMAIL)"), "{text}");
    assert!(
        !text.contains("jane@example.com") && !text.contains("jane%40"),
        "{text}"
    );
}

#[test]
fn an_interrupted_visit_is_judged_on_what_it_sent_but_nothing_is_missing() {
    let s = shop(Regime::Gdpr);
    let st = state(
        2,
        Expect {
            allowed: Some(DestinationSet::Some(vec!["Support Chat".into()])),
            blocked: Some(DestinationSet::Some(vec!["Facebook Pixel".into()])),
            ..Default::default()
        },
    );
    let mut c = capture(vec![get(0, 1200, FB_PIXEL)], true);
    let whole = analyse(&s, &st, &c, Some(&settings(json!({}))));
    assert_eq!(
        ids(&whole.failures),
        vec![
            (CheckId::BlockedReceived, Some("Facebook Pixel".into())),
            (CheckId::AllowedMissing, Some("Support Chat".into())),
        ]
    );
    c.interrupted = true;
    let part = analyse(&s, &st, &c, Some(&settings(json!({}))));
    assert_eq!(
        ids(&part.failures),
        vec![(CheckId::BlockedReceived, Some("Facebook Pixel".into()))]
    );
}
