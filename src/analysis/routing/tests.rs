//! Tests of the whole routing pass (resolution, then attribution) over hand-made captures.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::*;
use crate::analysis::segment::decode;
use crate::analysis::segment::settings::CdnSettings;
use crate::analysis::verdict::tests::FB_PIXEL;
use crate::capture::{Capture, CapturedRequest, Phase};
use crate::spec::types::{Call, Destination, Mode, Regime, Spec};

/// The verdict tests' spec (gdpr, the shop's URL, no CMP) with a served static host and a page,
/// and no categories declared.
fn spec(dests: Vec<(&str, Destination)>) -> Spec {
    let mut spec = crate::analysis::verdict::tests::spec(Regime::Gdpr, dests);
    spec.site.serve = [(
        "https://static.shop.example".to_string(),
        PathBuf::from("x"),
    )]
    .into_iter()
    .collect();
    spec.site.pages = vec!["/product/1".into()];
    spec.categories = IndexMap::new();
    spec
}

fn req(seq: u64, method: &str, url: &str, body: Option<String>) -> CapturedRequest {
    CapturedRequest {
        seq,
        at_ms: seq * 100,
        phase: if seq >= 10 {
            Phase::After
        } else {
            Phase::Before
        },
        resource_type: "other".into(),
        ..CapturedRequest::sent(method, url, body.map(String::into_bytes))
    }
}

fn settings() -> CdnSettings {
    CdnSettings::from_value(&json!({
        "integrations": {
            "Segment.io": {"apiKey": "WK", "apiHost": "collect.shop-proxy.example/v1"},
            "Facebook Pixel": {"bundlingStatus": "bundled",
                               "versionSettings": {"componentTypes": ["browser"]},
                               "consentSettings": {"categories": ["C0004"]}},
            "Actions Amplitude": {"consentSettings": {"categories": ["C0002"]}},
            "Hotjar": {"versionSettings": {"componentTypes": ["browser"]}},
            "Webhooks": {"bundlingStatus": "unbundled"}
        },
        "remotePlugins": [
            {"name": "Amplitude (Actions)", "creationName": "Actions Amplitude",
             "url": "https://cdn.segment.com/next-integrations/actions/amplitude-plugins/1.js"},
            {"name": "Custom Thing (Actions)", "creationName": "Custom Thing",
             "url": "https://cdn.segment.com/next-integrations/actions/custom-thing/1.js"}
        ]
    }))
    .unwrap()
}

/// A destination's mode and where it came from.
fn mode_of(d: &Outcome) -> (Mode, ModeSource) {
    (d.resolved.mode, d.resolved.mode_source)
}

/// `names` declared by name alone.
fn declared<'a>(names: &[&'a str]) -> Vec<(&'a str, Destination)> {
    names.iter().map(|n| (*n, Destination::default())).collect()
}

/// A destination the catalog does not know, recognised by its host.
fn chat(categories: Option<Vec<String>>) -> (&'static str, Destination) {
    let hosts = vec!["chat.example.net".into()];
    let chat = Destination {
        hosts,
        categories,
        ..Default::default()
    };
    ("Support Chat", chat)
}

fn ev(kind: &str, stamp: Value) -> String {
    json!({"type": kind, "event": "E", "name": "N", "writeKey": "WK", "messageId": "m",
           "anonymousId": "a", "context": {"consent": stamp}})
    .to_string()
}

// Long: one hand-made capture and its assertions, read together.
#[test]
fn device_mode_by_code_and_host() {
    let mut dests = declared(&["Facebook Pixel", "Google Analytics 4", "Google AdWords New"]);
    dests.push(chat(Some(vec!["C0003".into()])));
    let spec = spec(dests);
    let s = settings();
    let capture = Capture {
        requests: vec![
            req(
                1,
                "GET",
                "https://cdn.proxy.example/next-integrations/integrations/facebook-pixel/2.11.4/facebook-pixel.dynamic.js.gz",
                None,
            ),
            req(2, "GET", FB_PIXEL, None),
            req(
                3,
                "GET",
                "https://www.googletagmanager.com/gtag/js?id=G-123&l=ga4DataLayer",
                None,
            ),
            req(
                11,
                "POST",
                "https://region1.google-analytics.com/g/collect?v=2&tid=G-123",
                Some(String::new()),
            ),
            req(12, "GET", "https://widget.chat.example.net/w.js", None),
            req(13, "OPTIONS", "https://px.unknown-tracker.example/x", None),
        ],
        ..Default::default()
    };
    let d = decode(&capture);
    let r = route(&spec, Some(&s), &capture, &d);
    let fb = &r.destinations["Facebook Pixel"];
    assert_eq!(mode_of(fb), (Mode::Device, ModeSource::Settings));
    assert_eq!(fb.resolved.categories, vec!["C0004".to_string()]);
    assert_eq!(fb.resolved.categories_source, CategorySource::Settings);
    assert_eq!(fb.receptions.len(), 2);
    assert!(matches!(
        fb.receptions[0].kind,
        ReceptionKind::CodeLoaded { .. }
    ));
    assert!(
        matches!(&fb.receptions[1].kind, ReceptionKind::HostContacted { host, .. } if host == "connect.facebook.net")
    );

    let ga = &r.destinations["Google Analytics 4"];
    assert_eq!(mode_of(ga), (Mode::Device, ModeSource::Signature));
    assert_eq!(ga.resolved.categories_source, CategorySource::None);
    assert_eq!(
        ga.receptions.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![3, 11]
    );
    assert_eq!(ga.receptions[1].phase, Phase::After);
    // The shared gtag host went to GA4 only: its id says G-.
    assert!(!r.destinations["Google AdWords New"].received());

    let chat = &r.destinations["Support Chat"];
    assert_eq!(
        (chat.resolved.mode, chat.resolved.categories_source),
        (Mode::Device, CategorySource::Spec)
    );
    assert_eq!(chat.receptions.len(), 1);
    // Preflights are ignored everywhere.
    assert!(r.other_hosts.is_empty(), "{:?}", r.other_hosts);
}

#[test]
fn cloud_routing_and_event_destinations() {
    let spec = spec(vec![
        ("Actions Amplitude", Destination::default()),
        (
            "Mixpanel",
            Destination {
                mode: Some(Mode::Cloud),
                categories: Some(vec!["C0002".into(), "C0004".into()]),
                ..Default::default()
            },
        ),
        ("Webhooks", Destination::default()),
        ("Facebook Pixel", Destination::default()),
    ]);
    let s = settings();
    let capture = Capture {
        requests: vec![
            req(1, "POST", "https://collect.shop-proxy.example/v1/p", Some(ev("page", json!(null)))),
            req(
                11,
                "POST",
                "https://collect.shop-proxy.example/v1/t",
                Some(ev("track", json!({"categoryPreferences": {"C0002": true, "C0004": false}}))),
            ),
            req(
                12,
                "POST",
                "https://collect.shop-proxy.example/v1/b",
                Some(
                    json!({"writeKey": "WK", "batch": [
                        {"type": "track", "event": "X", "messageId": "m2",
                         "context": {"consent": {"categoryPreferences": {"C0002": true, "C0004": true}}},
                         "integrations": {"Webhooks": false}}
                    ]})
                    .to_string(),
                ),
            ),
        ],
        ..Default::default()
    };
    let d = decode(&capture);
    assert_eq!(d.events.len(), 3);
    let r = route(&spec, Some(&s), &capture, &d);
    let amp = &r.destinations["Actions Amplitude"];
    assert_eq!(mode_of(amp), (Mode::Cloud, ModeSource::Catalog));
    assert_eq!(amp.resolved.categories, vec!["C0002".to_string()]);
    let wh = &r.destinations["Webhooks"];
    assert_eq!(
        (
            wh.resolved.mode,
            wh.resolved.mode_source,
            wh.resolved.categories_source
        ),
        (Mode::Cloud, ModeSource::Default, CategorySource::None)
    );
    let routes: Vec<Vec<&str>> = r
        .event_destinations
        .iter()
        .map(|e| e.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        routes,
        vec![
            vec!["Actions Amplitude", "Mixpanel", "Webhooks"],
            vec!["Actions Amplitude", "Webhooks"],
            vec!["Actions Amplitude", "Mixpanel"],
        ]
    );
    // Device-mode destinations never get cloud copies.
    assert!(!r.destinations["Facebook Pixel"].received());
    assert_eq!(amp.receptions[2].normalised(), "after: event track \"X\"");
    assert!(matches!(
        &amp.receptions[2].kind,
        ReceptionKind::Event { event: 2, call: Call::Track, name: Some(n) } if n == "X"
    ));
    // Segment's own (proxied) host is not "other".
    assert!(r.other_hosts.is_empty());
}

#[test]
fn undeclared_and_other_hosts() {
    let spec = spec(declared(&["Facebook Pixel"]));
    let s = settings();
    let capture = Capture {
        requests: vec![
            req(1, "GET", "https://shop.example/", None),
            req(2, "GET", "https://static.shop.example/app.js", None),
            req(
                3,
                "GET",
                "https://cdn.segment.com/analytics.js/v1/WK/analytics.min.js",
                None,
            ),
            req(
                4,
                "GET",
                "https://cdn.segment.com/next-integrations/actions/custom-thing/1.js",
                None,
            ),
            req(
                5,
                "GET",
                "https://cdn.segment.com/next-integrations/integrations/hotjar/latest/hotjar.dynamic.js.gz",
                None,
            ),
            req(6, "GET", "https://static.hotjar.com/c/hotjar-1.js", None),
            req(7, "GET", "https://bat.bing.com/bat.js", None),
            req(8, "GET", "https://fonts.example-cdn.net/font.woff", None),
            req(9, "GET", "data:image/png;base64,AAAA", None),
            req(
                10,
                "POST",
                "https://api.segment.io/v1/m",
                Some(r#"{"series":[]}"#.into()),
            ),
            req(14, "GET", "https://www.facebook.com/tr?id=1", None),
        ],
        ..Default::default()
    };
    let d = decode(&capture);
    let r = route(&spec, Some(&s), &capture, &d);
    let names: Vec<&str> = r.undeclared.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Actions Amplitude",
            "Bing Ads",
            "Custom Thing",
            "Hotjar",
            "Webhooks"
        ]
    );
    let hotjar = r.undeclared.iter().find(|u| u.name == "Hotjar").unwrap();
    assert_eq!(hotjar.catalog.as_deref(), Some("hotjar"));
    assert_eq!(hotjar.evidence.len(), 3, "{:?}", hotjar.evidence);
    let custom = r
        .undeclared
        .iter()
        .find(|u| u.name == "Custom Thing")
        .unwrap();
    assert!(
        custom
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::CodeLoaded { seq: 4, .. }))
    );
    let bing = r.undeclared.iter().find(|u| u.name == "Bing Ads").unwrap();
    assert_eq!(
        bing.evidence,
        vec![Evidence::HostContacted {
            seq: 7,
            host: "bat.bing.com".into()
        }]
    );
    assert_eq!(
        r.other_hosts.iter().collect::<Vec<_>>(),
        vec!["fonts.example-cdn.net"]
    );
    assert_eq!(r.destinations["Facebook Pixel"].receptions.len(), 1);
}

#[test]
fn without_settings_and_aliases() {
    // A spec may name an action destination by its display name; settings use creationName.
    let spec = spec(declared(&["Amplitude (Actions)"]));
    let s = settings();
    let capture = Capture {
        requests: vec![req(
            1,
            "GET",
            "https://cdn.segment.com/next-integrations/actions/amplitude-plugins/1.js",
            None,
        )],
        ..Default::default()
    };
    let d = decode(&capture);
    let r = route(&spec, Some(&s), &capture, &d);
    let amp = &r.destinations["Amplitude (Actions)"];
    assert_eq!(amp.resolved.categories, vec!["C0002".to_string()]);
    assert_eq!(amp.receptions.len(), 1);
    assert!(!r.undeclared.iter().any(|u| u.name == "Actions Amplitude"));

    let r = route(&spec, None, &capture, &d);
    assert_eq!(
        r.destinations["Amplitude (Actions)"]
            .resolved
            .categories_source,
        CategorySource::None
    );
    assert_eq!(r.destinations["Amplitude (Actions)"].receptions.len(), 1);
    assert!(r.undeclared.is_empty());
}

#[test]
fn resolution_alone_gives_what_routing_settles_on() {
    let mut dests = declared(&["Facebook Pixel", "Actions Amplitude", "Webhooks"]);
    dests.push(chat(None));
    let spec = spec(dests);
    let s = settings();
    let resolution = resolve(&spec, Some(&s));
    let undeclared: Vec<&str> = resolution.undeclared().map(|u| u.name.as_str()).collect();
    assert_eq!(undeclared, vec!["Custom Thing", "Hotjar"]);
    let resolved = resolution.destinations.clone();
    let capture = Capture {
        requests: vec![req(1, "GET", FB_PIXEL, None)],
        ..Default::default()
    };
    let routed = attribute(resolution, &capture, &decode(&capture));
    let settled: IndexMap<String, Resolved> = routed
        .destinations
        .iter()
        .map(|(n, o)| (n.clone(), o.resolved.clone()))
        .collect();
    assert_eq!(settled, resolved);
    assert_eq!(resolved["Support Chat"].mode_source, ModeSource::Signature);
    assert_eq!(routed.resolved("Webhooks"), Some(&resolved["Webhooks"]));
    assert!(routed.destinations["Facebook Pixel"].received());
}

#[test]
fn first_party_wins_and_payload_signatures_name_the_vendor() {
    let spec = spec(declared(&["Google Analytics 4", "Facebook Pixel"]));
    let mut own = spec.clone();
    own.site.url = "https://www.facebook.com/".into();
    let capture = Capture {
        requests: vec![
            // A server-side tag manager on a subdomain of the site: GA4 by its hits.
            req(
                10,
                "POST",
                "https://sgtm.shop.example/g/collect?v=2&tid=G-SHOP1&cid=1.2&en=page_view",
                None,
            ),
            // A CNAME'd collector: Meta's pixel event on a first-party host.
            req(
                11,
                "GET",
                "https://metrics.shop.example/tr/?id=123&ev=PageView",
                None,
            ),
            // First party, nothing recognisable: the site's own.
            req(12, "GET", "https://metrics.shop.example/app.js", None),
            // An unknown relay carrying a TikTok pixel event: an undeclared vendor.
            req(
                13,
                "POST",
                "https://px.trk-relay.example/e",
                Some(r#"{"event":"Pageview","context":{"pixel":{"code":"C1"}}}"#.into()),
            ),
            // An unknown relay carrying nothing known: an unknown recipient.
            req(14, "GET", "https://px.trk-relay.example/p.gif?u=1", None),
        ],
        ..Default::default()
    };
    let d = decode(&capture);
    let r = route(&spec, None, &capture, &d);
    let ga4 = &r.destinations["Google Analytics 4"].receptions;
    assert_eq!(ga4.len(), 1, "{ga4:?}");
    assert!(
        ga4[0].describe().contains("first-party proxy"),
        "{}",
        ga4[0].describe()
    );
    assert_eq!(
        ga4[0].normalised(),
        "after: GA4 measurement protocol hit (gtag.js) on host sgtm.shop.example (first-party proxy)"
    );
    let meta = &r.destinations["Facebook Pixel"].receptions;
    assert_eq!(meta.len(), 1, "{meta:?}");
    let names: Vec<&str> = r.undeclared.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, vec!["TikTok Pixel"]);
    assert!(matches!(
        &r.undeclared[0].evidence[0],
        Evidence::Payload {
            first_party: false,
            ..
        }
    ));
    assert_eq!(
        r.other_hosts.iter().collect::<Vec<_>>(),
        vec!["px.trk-relay.example"]
    );
    assert_eq!(r.unknown.len(), 1);
    assert_eq!(r.unknown[0].seq, 14);
    assert!(r.unknown[0].carries);

    // A site on a vendor's own domain: its own requests are not the vendor's.
    let capture = Capture {
        requests: vec![
            req(10, "GET", "https://www.facebook.com/app.js", None),
            req(11, "GET", "https://static.facebook.com/img.png", None),
        ],
        ..Default::default()
    };
    let d = decode(&capture);
    let r = route(&own, None, &capture, &d);
    assert!(r.destinations["Facebook Pixel"].receptions.is_empty());
    assert!(r.undeclared.is_empty() && r.other_hosts.is_empty());

    // Hosts the spec declares first-party.
    own.site.url = "https://shop.example/".into();
    own.site.first_party = crate::spec::HostGlobs::new(vec!["*.facebook.com".into()]).unwrap();
    let r = route(&own, None, &capture, &d);
    assert!(r.destinations["Facebook Pixel"].receptions.is_empty());
}
