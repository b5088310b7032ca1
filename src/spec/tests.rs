//! Unit tests for spec parsing and validation (no browser, no network).

use std::path::{Path, PathBuf};

use super::*;

const DESIGN_EXAMPLE: &str = include_str!("../../tests/fixtures/specs/design-example.yaml");

/// A fresh folder under the system temp dir, unique per test.
fn scratch(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("consent-gates-spec-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A repository root: specs may only read files inside their repository.
    std::fs::create_dir_all(dir.join(".git")).expect("temp dir");
    dir
}

fn err(text: &str) -> SpecError {
    match parse_str(text, Path::new("specs/t.yaml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

fn ok(text: &str) -> Spec {
    match parse_str(text, Path::new("specs/t.yaml")) {
        Ok(s) => s,
        Err(e) => panic!("unexpected error:\n{e}"),
    }
}

fn at(e: &SpecError) -> (usize, usize) {
    (e.line, e.column)
}

/// A valid spec with `{states}` (and optionally more) appended.
fn base(rest: &str) -> String {
    format!(
        "\
site:
  url: https://shop.example/
categories:
  C0001: necessary
  C0002: analytics
destinations:
  Google Analytics 4: {{}}
  Facebook Pixel: {{}}
{rest}"
    )
}
// Line numbers in `base`: `destinations` entries end on line 8; `rest` starts on line 9.

#[test]
fn design_example_parses() {
    let dir = scratch("design");
    let specs = dir.join("specs");
    let shop = dir.join("examples/sites/shop");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::create_dir_all(&shop).unwrap();
    std::fs::write(shop.join("settings.json"), r#"{"integrations": {}}"#).unwrap();
    let file = specs.join("design-example.yaml");
    std::fs::write(&file, DESIGN_EXAMPLE).unwrap();

    let spec = load(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.name, "design-example");
    assert_eq!(spec.path, file);
    assert_eq!(spec.site.url, "https://shop.example/");
    assert_eq!(
        spec.site.serve.get("https://shop.example"),
        Some(&specs.join("../examples/sites/shop"))
    );
    assert!(spec.site.offline);
    assert_eq!(spec.site.pages, vec!["/product/1".to_string()]);
    assert_eq!(
        spec.segment.settings,
        Some(specs.join("../examples/sites/shop/settings.json"))
    );
    assert_eq!(spec.segment.library, Library::Bundled);
    assert!(!spec.segment.deliver);
    assert_eq!(spec.regime, Regime::Gdpr);
    let cats: Vec<(&str, Purpose)> = spec
        .categories
        .iter()
        .map(|(k, c)| (k.as_str(), c.purpose))
        .collect();
    assert_eq!(
        cats,
        vec![
            ("C0001", Purpose::Necessary),
            ("C0002", Purpose::Analytics),
            ("C0004", Purpose::Advertising)
        ]
    );
    assert!(spec.categories.values().all(|c| c.cmp.is_none()));
    assert_eq!(spec.cmp.as_deref(), Some("vanilla-cookieconsent"));
    let names: Vec<&str> = spec.destinations.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Google Analytics 4",
            "Facebook Pixel",
            "Actions Amplitude",
            "Support Chat"
        ]
    );
    assert_eq!(
        spec.destinations["Google Analytics 4"],
        Destination::default()
    );
    assert_eq!(
        spec.destinations["Actions Amplitude"],
        Destination {
            mode: Some(Mode::Cloud),
            categories: Some(vec!["C0002".into()]),
            hosts: vec![],
            exempt: None,
        }
    );
    assert_eq!(
        spec.destinations["Support Chat"],
        Destination {
            mode: None,
            categories: Some(vec!["C0002".into()]),
            hosts: vec!["chat.example.net".into()],
            exempt: None,
        }
    );

    let states: Vec<(&str, usize)> = spec
        .states
        .iter()
        .map(|(k, s)| (k.as_str(), s.line))
        .collect();
    assert_eq!(
        states,
        [
            ("no-choice", 24),
            ("reject-all", 28),
            ("accept-all", 34),
            ("analytics-only", 37),
            ("gpc", 42),
            ("identified-after-reject", 45)
        ]
    );
    let s = &spec.states["no-choice"];
    assert!(s.steps.is_empty() && !s.gpc);
    assert_eq!(s.expect.collection, Some(Collection::None));
    assert_eq!(s.expect.blocked, Some(DestinationSet::All));
    assert_eq!(s.expect.allowed, None);

    let s = &spec.states["reject-all"];
    assert_eq!(
        s.steps,
        vec![Step::Click("#cc-main [data-role=necessary]".into())]
    );
    let consent = s.expect.consent.as_ref().unwrap();
    assert_eq!(consent.get("C0002"), Some(&false));
    assert_eq!(consent.get("C0004"), Some(&false));
    assert_eq!(consent.len(), 2);

    let s = &spec.states["accept-all"];
    assert_eq!(s.steps, vec![Step::Cmp(CmpAction::AcceptAll)]);
    assert_eq!(s.expect.allowed, Some(DestinationSet::All));

    let s = &spec.states["analytics-only"];
    assert_eq!(
        s.steps,
        vec![Step::Cmp(CmpAction::Categories(vec!["C0002".into()]))]
    );
    assert_eq!(
        s.expect.allowed,
        Some(DestinationSet::Some(vec![
            "Google Analytics 4".into(),
            "Actions Amplitude".into()
        ]))
    );
    assert_eq!(
        s.expect.blocked,
        Some(DestinationSet::Some(vec!["Facebook Pixel".into()]))
    );

    let s = &spec.states["gpc"];
    assert!(s.gpc);
    assert!(s.steps.is_empty());

    let s = &spec.states["identified-after-reject"];
    assert_eq!(
        s.steps,
        vec![
            Step::Click("#cc-main [data-role=necessary]".into()),
            Step::Eval(r#"analytics.identify("user-42", {email: "jane@example.com"})"#.into()),
        ]
    );
    assert_eq!(s.expect.calls.len(), 1);
    assert_eq!(s.expect.calls.get(&Call::Identify), Some(&Collection::None));
    assert_eq!(spec.timing, Timing::default());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn design_example_reports_missing_folders_with_lines() {
    // Parsed where it lies, the relative folders do not exist: both are reported at once.
    let e = parse_str(
        DESIGN_EXAMPLE,
        Path::new("/nonexistent/specs/design-example.yaml"),
    )
    .unwrap_err();
    assert_eq!(e.count(), 2, "{e}");
    assert_eq!(at(&e), (5, 27));
    assert!(
        e.message
            .starts_with("folder `../examples/sites/shop` does not exist"),
        "{}",
        e.message
    );
    assert_eq!(
        e.help.as_deref(),
        Some("relative paths are resolved against the spec file's folder `/nonexistent/specs`")
    );
    assert_eq!(at(&e.others[0]), (9, 13));
    assert!(
        e.others[0]
            .message
            .starts_with("file `../examples/sites/shop/settings.json` does not exist")
    );
}

#[test]
fn display_has_snippet_and_caret() {
    let text = base(
        "\
states:
  reject-all:
    expect:
      colection: none
",
    );
    let e = err(&text);
    assert_eq!(
        e.to_string(),
        "\
error: unknown key `colection` in state `reject-all` expect
  --> specs/t.yaml:12:7
   |
12 |       colection: none
   |       ^^^^^^^^^
   = help: did you mean `collection`?"
    );
    assert_eq!(e.width, 9);
    assert_eq!(e.source_line.as_deref(), Some("      colection: none"));
}

#[test]
fn unknown_top_level_key_lists_allowed_keys() {
    let e = err(&base("states: {a: {expect: {blocked: all}}}\nzzz: 1\n"));
    assert_eq!(at(&e), (10, 1));
    assert_eq!(e.message, "unknown top-level key `zzz`");
    let help = e.help.unwrap();
    assert!(
        help.starts_with("allowed keys: `site`, `segment`"),
        "{help}"
    );
}

#[test]
fn unknown_key_in_flow_mapping_and_destination() {
    let e = err(&base(
        "states: {a: {expect: {blocked: all, alowed: all}}}\n",
    ));
    assert_eq!(at(&e), (9, 37));
    assert_eq!(e.message, "unknown key `alowed` in state `a` expect");
    assert_eq!(e.help.as_deref(), Some("did you mean `allowed`?"));

    let e = err(
        "site: {url: https://x.example/}\ndestinations:\n  Facebook Pixel: {categorys: [C1]}\nstates: {a: {expect: {blocked: all}}}\n",
    );
    assert_eq!(at(&e), (3, 20));
    assert_eq!(
        e.message,
        "unknown key `categorys` in destination `Facebook Pixel`"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `categories`?"));
}

#[test]
fn wrong_type_names_the_key() {
    let e = err(&base(
        "states:\n  a:\n    gpc: yes\n    expect: {blocked: all}\n",
    ));
    assert_eq!(at(&e), (11, 10));
    assert_eq!(
        e.message,
        "wrong type for state `a` gpc: expected a boolean, found string \"yes\""
    );
    assert_eq!(e.help.as_deref(), Some("write `true` or `false`"));
}

#[test]
fn syntax_error_has_position() {
    let e = err("site: {url: https://x.example/\nstates: [\n");
    assert!(e.line >= 1 && e.column >= 1);
    assert!(!e.message.contains(" at line "), "{}", e.message);
}

#[test]
fn missing_site_is_reported() {
    let e = err("states: {a: {expect: {blocked: all}}}\n");
    assert_eq!(at(&e), (1, 1));
    assert_eq!(e.message, "missing top-level key `site`");
}

#[test]
fn duplicate_state_names() {
    let e = err(&base(
        "states:\n  a:\n    expect: {blocked: all}\n  a:\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (12, 3));
    assert_eq!(e.message, "duplicate key `a` in `states`");
    assert_eq!(
        e.help.as_deref(),
        Some("first written on line 10; state names must be unique; rename one")
    );
}

#[test]
fn no_states() {
    let e = err(&base("states: {}\n"));
    assert_eq!(at(&e), (9, 1));
    assert_eq!(e.message, "the spec has no states");
    let e = err("site: {url: https://x.example/}\n");
    assert_eq!(at(&e), (1, 1));
    assert_eq!(e.message, "the spec has no states");
}

#[test]
fn state_without_expectations() {
    let e = err(&base("states:\n  a:\n    gpc: true\n"));
    assert_eq!(at(&e), (10, 3));
    assert_eq!(e.message, "state `a` has no expectations");
    assert!(
        e.help
            .unwrap()
            .starts_with("a state with no expectations tests nothing")
    );

    let e = err(&base("states:\n  a:\n    expect: {}\n"));
    assert_eq!(at(&e), (11, 5));
    assert_eq!(e.message, "state `a` has no expectations");

    let e = err(&base("states:\n  a:\n"));
    assert_eq!(at(&e), (10, 3));
}

#[test]
fn unknown_destination_in_expect() {
    let e = err(&base(
        "states:\n  a:\n    expect:\n      allowed: [Google Analytics 4]\n      blocked: [Facebok Pixel]\n",
    ));
    assert_eq!(at(&e), (13, 17));
    assert_eq!(e.width, 13);
    assert_eq!(
        e.message,
        "unknown destination `Facebok Pixel` in state `a` expect.blocked"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `Facebook Pixel`?"));

    let e = err(&base("states: {a: {expect: {allowed: [Hotjar]}}}\n"));
    assert_eq!(at(&e), (9, 33));
    assert_eq!(
        e.help.as_deref(),
        Some("declared destinations: `Google Analytics 4`, `Facebook Pixel`")
    );
}

#[test]
fn allowed_and_blocked_overlap() {
    let e = err(&base(
        "states:\n  a:\n    expect: {allowed: [Facebook Pixel], blocked: [Google Analytics 4, Facebook Pixel]}\n",
    ));
    assert_eq!(
        e.message,
        "`Facebook Pixel` is both allowed and blocked in state `a`"
    );
    assert_eq!(at(&e), (11, 71));

    let e = err(&base(
        "states:\n  a:\n    expect: {allowed: all, blocked: all}\n",
    ));
    assert_eq!(e.message, "`all` is both allowed and blocked in state `a`");
    assert_eq!(at(&e), (11, 37));
}

#[test]
fn unknown_categories() {
    // consent
    let e = err(&base(
        "states:\n  a:\n    expect:\n      consent: {C0003: false}\n",
    ));
    assert_eq!(at(&e), (12, 17));
    assert_eq!(
        e.message,
        "unknown category `C0003` in state `a` expect.consent"
    );
    assert!(e.help.unwrap().starts_with("did you mean `C000"));
    // destination categories
    let e = err(
        "site: {url: https://x.example/}\ncategories: {C0001: necessary, Stats: analytics}\ndestinations:\n  Hotjar: {categories: [stat]}\nstates: {a: {expect: {blocked: all}}}\n",
    );
    assert_eq!(at(&e), (4, 25));
    assert_eq!(
        e.message,
        "unknown category `stat` in destination `Hotjar` categories"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `Stats`?"));
    // cmp step categories
    let e = err(&base(
        "cmp: klaro\nstates:\n  a:\n    steps: [{cmp: {categories: [C0001, X9]}}]\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (12, 40));
    assert_eq!(
        e.message,
        "unknown category `X9` in state `a` step 1 cmp.categories"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("declared categories: `C0001`, `C0002`")
    );
    // With no categories declared, any id goes.
    let s = ok(
        "site: {url: https://x.example/}\ndestinations: {A: {categories: [x]}}\nstates: {a: {expect: {consent: {y: true}}}}\n",
    );
    assert_eq!(s.destinations["A"].categories, Some(vec!["x".to_string()]));
}

#[test]
fn cmp_steps_need_an_adapter() {
    let e = err(&base(
        "states:\n  a:\n    steps:\n      - cmp: accept_all\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (12, 9));
    assert_eq!(
        e.message,
        "step 1 of state `a` is a `cmp:` step but the spec names no CMP adapter"
    );
    assert!(e.help.unwrap().contains("`vanilla-cookieconsent`, `klaro`"));

    let e = err(&base(
        "cmp: vanilla-cookieconsnt\nstates: {a: {expect: {allowed: all}}}\n",
    ));
    assert_eq!(at(&e), (9, 6));
    assert_eq!(e.message, "unknown CMP adapter `vanilla-cookieconsnt`");
    assert_eq!(
        e.help.as_deref(),
        Some("did you mean `vanilla-cookieconsent`?")
    );

    let e = err(&base(
        "cmp: klaro\nstates: {a: {steps: [{cmp: acept_all}], expect: {allowed: all}}}\n",
    ));
    assert_eq!(at(&e), (10, 28));
    assert_eq!(
        e.message,
        "unknown CMP action `acept_all` in state `a` step 1"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `accept_all`?"));
}

#[test]
fn step_shapes() {
    let e = err(&base(
        "states:\n  a:\n    steps:\n      - click: \"#a\"\n        eval: x()\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (12, 9));
    assert_eq!(
        e.message,
        "step 1 of state `a` has 2 keys (`click`, `eval`); a step has exactly one"
    );

    let e = err(&base(
        "states:\n  a:\n    steps: [{}]\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (11, 13));
    assert_eq!(e.message, "step 1 of state `a` is empty");

    let e = err(&base(
        "states:\n  a:\n    steps:\n      - click: \"#a\"\n      - wait-for: \"#b\"\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (13, 9));
    assert_eq!(e.width, 8);
    assert_eq!(e.message, "unknown step `wait-for` in step 2 of state `a`");
    assert_eq!(e.help.as_deref(), Some("did you mean `wait_for`?"));

    let e = err(&base(
        "states:\n  a:\n    steps:\n      - \"#a\"\n    expect: {allowed: all}\n",
    ));
    assert_eq!(e.line, 12);
    assert!(e.help.unwrap().contains("one-key mapping"));
}

#[test]
fn empty_selector() {
    let e = err(&base(
        "states:\n  a:\n    steps:\n      - click: \"\"\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (12, 16));
    assert_eq!(e.message, "empty selector in step 1 of state `a`");
    let e = err(&base(
        "states:\n  a:\n    steps:\n      - fill: {\"\": x}\n    expect: {allowed: all}\n",
    ));
    assert_eq!(at(&e), (12, 16));
    assert_eq!(e.message, "empty selector in `fill` of step 1 of state `a`");
}

#[test]
fn every_step_form() {
    let s = ok(&base(
        "\
cmp: klaro
states:
  a:
    gpc: false
    steps:
      - click: '#accept'
      - cmp: reject_all
      - cmp: {categories: [C0002]}
      - eval: window.x = 1
      - visit: /cart
      - wait_for: .done
      - fill: {'#email': jane@example.com, '#age': 42, '#name': Jane}
    expect: {collection: anonymous, calls: {track: any, page: none}}
",
    ));
    let st = &s.states["a"];
    assert_eq!(
        st.steps,
        vec![
            Step::Click("#accept".into()),
            Step::Cmp(CmpAction::RejectAll),
            Step::Cmp(CmpAction::Categories(vec!["C0002".into()])),
            Step::Eval("window.x = 1".into()),
            Step::Visit("/cart".into()),
            Step::WaitFor(".done".into()),
            Step::Fill(vec![
                ("#email".into(), "jane@example.com".into()),
                ("#age".into(), "42".into()),
                ("#name".into(), "Jane".into()),
            ]),
        ]
    );
    assert_eq!(st.line, 11);
    assert_eq!(st.expect.collection, Some(Collection::Anonymous));
    assert_eq!(st.expect.calls.get(&Call::Track), Some(&Collection::Any));
    assert_eq!(st.expect.calls.get(&Call::Page), Some(&Collection::None));
}

#[test]
fn enum_values_get_suggestions() {
    let e = err(&base(
        "regime: gdp\nstates: {a: {expect: {allowed: all}}}\n",
    ));
    assert_eq!(at(&e), (9, 9));
    assert_eq!(e.message, "unknown regime `gdp`");
    assert_eq!(e.help.as_deref(), Some("did you mean `gdpr`?"));

    let e = err(&base("states: {a: {expect: {collection: nothing}}}\n"));
    assert_eq!(
        e.message,
        "unknown collection level `nothing` in state `a` expect"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("expected one of `none`, `anonymous`, `any`")
    );

    let e = err(&base("states: {a: {expect: {calls: {identity: none}}}}\n"));
    assert_eq!(at(&e), (9, 31));
    assert_eq!(
        e.message,
        "unknown call type `identity` in state `a` expect.calls"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `identify`?"));

    let e = err(
        "site: {url: https://x.example/}\ncategories:\n  C1: analytic\nstates: {a: {expect: {blocked: all}}}\n",
    );
    assert_eq!(at(&e), (3, 7));
    assert_eq!(e.message, "unknown purpose `analytic` for category `C1`");
}

#[test]
fn categories_long_form_and_destination_forms() {
    let s = ok("\
site: {url: http://localhost:8080/}
categories:
  C0002: {purpose: analytics, cmp: statistics}
  C0001: necessary
destinations:
  A: ~
  B:
  C: {mode: device, hosts: [Chat.Example.net]}
states: {a: {expect: {blocked: [A, C]}}}
");
    assert_eq!(
        s.categories["C0002"],
        Category {
            purpose: Purpose::Analytics,
            cmp: Some("statistics".into())
        }
    );
    assert_eq!(s.destinations["A"], Destination::default());
    assert_eq!(s.destinations["B"], Destination::default());
    assert_eq!(s.destinations["C"].mode, Some(Mode::Device));
    assert_eq!(
        s.destinations["C"].hosts,
        vec!["chat.example.net".to_string()]
    );
    assert_eq!(s.regime, Regime::None);
    assert_eq!(s.segment.library, Library::Site);
    assert!(!s.segment.deliver && !s.site.offline);

    let e = err(
        "site: {url: https://x.example/}\ncategories:\n  C1: {purpose: analytics, cpm: x}\nstates: {a: {expect: {blocked: all}}}\n",
    );
    assert_eq!(at(&e), (3, 28));
    assert_eq!(e.message, "unknown key `cpm` in category `C1`");
    assert_eq!(e.help.as_deref(), Some("did you mean `cmp`?"));
}

#[test]
fn site_url_and_serve() {
    let e = err(&base("states: {a: {expect: {blocked: all}}}\n")
        .replace("https://shop.example/", "shop.example"));
    assert_eq!(at(&e), (2, 8));
    assert!(
        e.message
            .starts_with("`site.url` must be an absolute http(s) URL")
    );

    let dir = scratch("serve");
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("file.txt"), "x").unwrap();
    let spec_path = dir.join("s.yaml");
    let text = "\
site:
  url: https://shop.example/
  serve:
    HTTPS://Shop.Example:443/: site
    http://cdn.example:8080: ./site
states: {a: {expect: {blocked: all}}}
";
    let s = parse_str(text, &spec_path).unwrap_or_else(|e| panic!("{e}"));
    let origins: Vec<&str> = s.site.serve.keys().map(String::as_str).collect();
    assert_eq!(origins, ["https://shop.example", "http://cdn.example:8080"]);
    assert_eq!(s.site.serve[0], dir.join("site"));

    let bad = "\
site:
  url: https://shop.example/
  serve:
    https://shop.example/shop: site
    https://a.example: file.txt
    https://b.example: nowhere
states: {a: {expect: {blocked: all}}}
";
    let e = parse_str(bad, &spec_path).unwrap_err();
    assert_eq!(e.count(), 3, "{e}");
    assert_eq!(at(&e), (4, 5));
    assert_eq!(e.width, 25);
    assert!(e.message.contains("has a path"), "{}", e.message);
    assert_eq!(at(&e.others[0]), (5, 24));
    assert!(
        e.others[0]
            .message
            .starts_with("`file.txt` is not a folder")
    );
    assert_eq!(at(&e.others[1]), (6, 24));
    assert!(
        e.others[1]
            .message
            .starts_with("folder `nowhere` does not exist")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_file_must_be_json() {
    let dir = scratch("settings");
    std::fs::write(dir.join("bad.json"), "{\"integrations\": ").unwrap();
    let text = "\
site: {url: https://shop.example/}
segment:
  settings: bad.json
states: {a: {expect: {blocked: all}}}
";
    let e = parse_str(text, &dir.join("s.yaml")).unwrap_err();
    assert_eq!(at(&e), (3, 13));
    assert!(
        e.message
            .contains("bad.json`: not valid JSON: EOF while parsing"),
        "{}",
        e.message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn timing_overrides_defaults() {
    let s = ok(&base(
        "timing: {quiet_ms: 250}\nstates: {a: {expect: {blocked: all}}}\n",
    ));
    assert_eq!(
        s.timing,
        Timing {
            quiet_ms: 250,
            ..Timing::default()
        }
    );
    let e = err(&base(
        "timing:\n  step_ms: 0\nstates: {a: {expect: {blocked: all}}}\n",
    ));
    assert_eq!(at(&e), (10, 12));
    let e = err(&base(
        "timing:\n  quiet: 1\nstates: {a: {expect: {blocked: all}}}\n",
    ));
    assert_eq!(e.help.as_deref(), Some("did you mean `quiet_ms`?"));
}

#[test]
fn timing_clock_and_horizon() {
    assert_eq!(Timing::default().clock, ClockMode::Controlled);
    let s = ok(&base(
        "timing: {clock: real, horizon_ms: 5000}\nstates: {a: {expect: {blocked: all}}}\n",
    ));
    assert_eq!(s.timing.clock, ClockMode::Real);
    assert_eq!(s.timing.horizon_ms, 5000);
    let e = err(&base(
        "timing:\n  clock: wall\nstates: {a: {expect: {blocked: all}}}\n",
    ));
    assert_eq!(at(&e), (10, 10));
    assert!(
        e.message.contains("unknown timing.clock `wall`"),
        "{}",
        e.message
    );
    assert!(
        e.help.as_deref().is_some_and(|h| h.contains("controlled")),
        "{:?}",
        e.help
    );
    let e = err(&base(
        "timing:\n  horizon_ms: 0\nstates: {a: {expect: {blocked: all}}}\n",
    ));
    assert!(e.message.contains("horizon_ms"), "{}", e.message);
}

#[test]
fn several_problems_are_all_reported() {
    let e = err(&base(
        "\
states:
  a:
    expect: {allowed: [Nope]}
  b:
    steps: [{click: ''}]
    expect: {consent: {C9: true}}
",
    ));
    assert_eq!(e.count(), 3, "{e}");
    assert_eq!(at(&e), (11, 24));
    assert_eq!(at(&e.others[0]), (13, 21));
    assert_eq!(at(&e.others[1]), (14, 24));
    let shown = e.to_string();
    assert!(
        shown.ends_with("error: 3 problems in specs/t.yaml"),
        "{shown}"
    );
    assert_eq!(shown.matches("\nerror: ").count(), 3);
}

#[test]
fn deliver_conflicts_with_offline() {
    let e = err(
        "site: {url: https://x.example/, offline: true}\nsegment: {deliver: true}\nstates: {a: {expect: {blocked: all}}}\n",
    );
    assert_eq!(at(&e), (2, 20));
    assert_eq!(
        e.message,
        "`segment.deliver: true` cannot forward anything in an offline run"
    );
}

#[test]
fn unreadable_file() {
    let e = load(Path::new("/nonexistent/spec.yaml")).unwrap_err();
    assert_eq!(at(&e), (0, 0));
    assert!(e.message.starts_with("cannot read spec file"));
    assert!(e.to_string().contains(" --> /nonexistent/spec.yaml"));
}

#[test]
fn empty_and_odd_documents() {
    assert_eq!(err("").message, "the spec is empty");
    assert_eq!(err("# nothing\n").message, "the spec is empty");
    assert!(
        err("- a\n- b\n")
            .message
            .starts_with("a spec must be a mapping")
    );
}

#[test]
fn no_panic_on_truncated_or_mangled_text() {
    let text = DESIGN_EXAMPLE;
    let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(7).collect();
    for i in cuts {
        let _ = parse_str(&text[..i], Path::new("specs/t.yaml"));
        let mangled = format!("{}\t: ]{{\n{}", &text[..i], &text[i..]);
        let _ = parse_str(&mangled, Path::new("specs/t.yaml"));
    }
}

#[test]
fn allow_hosts_first_party_and_visitor() {
    let states = "states:\n  s:\n    expect: {collection: none}\n";
    let s = ok(&base(states));
    assert!(s.site.allow_hosts.is_none());
    assert!(s.site.first_party.is_empty());
    assert_eq!(s.visitor, Visitor::default());
    let text = format!(
        "site:\n  url: https://shop.example/\n  allow_hosts: [fonts.gstatic.com, \"*.cdn.example\"]\n  \
         first_party: [\"*.shop-cdn.example\"]\nvisitor: {{scroll: false}}\n{states}"
    );
    let s = ok(&text);
    let allow = s.site.allow_hosts.as_ref().unwrap();
    assert!(allow.matches("a.cdn.example") && allow.matches("fonts.gstatic.com"));
    assert!(s.site.first_party.matches("img.shop-cdn.example"));
    assert_eq!(
        s.visitor,
        Visitor {
            scroll: false,
            pointer: true
        }
    );
    let e = err(&format!(
        "site:\n  url: https://shop.example/\n  allow_hosts: [ok.example, https://bad.example/x]\n{states}"
    ));
    assert!(e.message.contains("`site.allow_hosts` entry 2"), "{e}");
    assert_eq!(e.line, 3, "{e}");
    let e = err(&format!(
        "site:\n  url: https://shop.example/\nvisitor: {{scrol: false}}\n{states}"
    ));
    assert!(e.message.contains("scrol"), "{e}");
}

#[test]
fn tcf_purposes_and_expectations_parse() {
    let s = ok(&base(
        "tcf:\n  C0002: [1, 8, 9]\nstates:\n  s:\n    steps: [{click: '#ok'}]\n    expect:\n      tcf: {consent: [1, 8, 9], legitimate_interest: [], special_features: [2]}\n",
    ));
    assert_eq!(s.tcf.get("C0002"), Some(&vec![1, 8, 9]));
    let t = s.states["s"].expect.tcf.clone().expect("expect.tcf");
    assert_eq!(t.consent, Some(vec![1, 8, 9]));
    assert_eq!(t.legitimate_interest, Some(vec![]));
    assert_eq!(t.special_features, Some(vec![2]));
}

#[test]
fn tcf_numbers_out_of_range_and_unknown_categories_are_errors() {
    let e = err(&base(
        "tcf:\n  C0002: [1, 12]\nstates:\n  s: {expect: {collection: any}}\n",
    ));
    assert!(e.to_string().contains("TCF v2.2 has no purpose 12"), "{e}");
    let e = err(&base(
        "tcf:\n  C0009: [1]\nstates:\n  s: {expect: {collection: any}}\n",
    ));
    assert!(e.to_string().contains("unknown category `C0009`"), "{e}");
    let e = err(&base(
        "states:\n  s: {expect: {tcf: {special_features: [3]}}}\n",
    ));
    assert!(
        e.to_string().contains("TCF v2.2 has no special feature 3"),
        "{e}"
    );
}

#[test]
fn gpp_opt_outs_and_expectations_parse() {
    use super::signals::{GppOptOut, GppSection};
    let s = ok(&base(
        "gpp:\n  C0002: [sale, sharing, targeted_advertising]\nstates:\n  s:\n    steps: [{click: '#ok'}]\n    expect:\n      gpp: {sections: [usnat, usca], opted_out: [sale]}\n",
    ));
    assert_eq!(
        s.gpp.get("C0002"),
        Some(&<GppOptOut as strum::VariantArray>::VARIANTS.to_vec())
    );
    let g = s.states["s"].expect.gpp.clone().expect("expect.gpp");
    assert_eq!(g.sections, Some(vec![GppSection::Usnat, GppSection::Usca]));
    assert_eq!(g.opted_out, Some(vec![GppOptOut::Sale]));
    // `expect.gpp` alone is an expectation.
    let s = ok(&base("states:\n  s: {expect: {gpp: {opted_out: []}}}\n"));
    assert_eq!(
        s.states["s"].expect.gpp.clone().and_then(|g| g.opted_out),
        Some(vec![])
    );
}

#[test]
fn gpp_unknown_words_categories_and_phases_are_errors() {
    let e = err(&base(
        "gpp:\n  C0009: [sale]\nstates:\n  s: {expect: {collection: any}}\n",
    ));
    assert!(e.to_string().contains("unknown category `C0009`"), "{e}");
    let e = err(&base(
        "gpp:\n  C0002: []\nstates:\n  s: {expect: {collection: any}}\n",
    ));
    assert!(
        e.to_string().contains("`gpp.C0002` lists no opt-outs"),
        "{e}"
    );
    let e = err(&base(
        "states:\n  s: {expect: {gpp: {opted_out: [sell]}}}\n",
    ));
    assert!(e.to_string().contains("sell"), "{e}");
    let e = err(&base(
        "states:\n  s:\n    steps: [{decision: d}, {click: '#ok'}]\n    phases:\n      d: {gpp: {opted_out: []}}\n",
    ));
    assert!(
        e.to_string().contains("`gpp` cannot be judged per phase"),
        "{e}"
    );
}
