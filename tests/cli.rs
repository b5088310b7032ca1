//! The standalone `consent-gates` binary: test (positional specs, filters, progress, colour),
//! init (on the example shop, offline), explain, schema.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::assert_contains_all;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_consent-gates"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("CARGO_TERM_COLOR")
        .env_remove("CONSENT_GATES_SPECS");
    c
}

fn run(c: &mut Command) -> (Output, String, String) {
    let out = c.output().expect("run consent-gates");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn help_and_unknown_commands() {
    let (out, stdout, _) = run(bin().arg("--help"));
    assert!(out.status.success());
    assert_contains_all(
        &stdout,
        &[
            "consent-gates test",
            "consent-gates init",
            "consent-gates explain",
            "consent-gates schema",
        ],
    );
    let (out, _, stderr) = run(bin().arg("frobnicate"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("unrecognized subcommand 'frobnicate'"),
        "{stderr}"
    );
}

/// Every subcommand has its own help; `test --help` documents SPECS and the filter, not libtest's
/// generic options.
#[test]
fn every_subcommand_has_its_own_help() {
    let (out, stdout, stderr) = run(bin().args(["test", "--help"]));
    assert!(out.status.success(), "{stderr}");
    assert_contains_all(
        &stdout,
        &[
            "Usage: consent-gates test [OPTIONS] [SPECS]... [FILTER]",
            "SPECS: spec files",
            "FILTER: runs only the trials",
            "--snapshots <DIR>",
            "--exact",
            "--skip <NAME>",
        ],
    );
    assert!(
        !stdout.contains("Run benchmarks") && !stdout.contains("USAGE: [OPTIONS] [FILTER]"),
        "not libtest's generic help: {stdout}"
    );
    let (out, stdout, _) = run(bin().args(["init", "--help"]));
    assert!(out.status.success());
    assert_contains_all(
        &stdout,
        &[
            "Usage: consent-gates init [OPTIONS] <URL>",
            "--serve <ORIGIN=DIR>",
        ],
    );
    let (out, stdout, _) = run(bin().args(["help", "explain"]));
    assert!(out.status.success());
    assert!(
        stdout.contains("Usage: consent-gates explain <SPEC>..."),
        "{stdout}"
    );
}

/// A bad argument is named in the error, with exit code 2 and no browser started.
#[test]
fn errors_name_the_bad_argument() {
    for (args, named) in [
        (
            &["test", "--test-threads", "many"][..],
            "'many' for '--test-threads <N>'",
        ),
        (&["test", "--colour", "never"][..], "'--colour'"),
        (
            &["init", "ftp://shop.example/"][..],
            "`ftp://shop.example/` is not an http or https URL",
        ),
        (
            &["init", "https://shop.example/", "--library", "cdn"][..],
            "'cdn' for '--library <bundled|site>'",
        ),
        (
            &["init", "https://shop.example/", "--serve", "no-equals-sign"][..],
            "ORIGIN=DIR",
        ),
        (&["explain"][..], "<SPEC>"),
    ] {
        let (out, stdout, stderr) = run(bin().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains(named),
            "{args:?} must name {named}: {stderr}"
        );
    }
}

/// `init -o` checks that it can write the spec before it visits the site: a missing folder or a
/// folder given as the file fails at once (exit 2, usage), where a failed write after the visit
/// would exit 3.
#[test]
fn init_checks_its_output_before_visiting() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/cli-init");
    std::fs::create_dir_all(&base).unwrap();
    let missing = base.join("no-such-folder/shop.yaml");
    for (output, says) in [
        (&missing, "does not exist (create it first)"),
        (&base, "it is a folder"),
    ] {
        let init = ["init", "https://shop.example/", "--offline", "-o"];
        let (out, stdout, stderr) = run(bin().args(init).arg(output));
        assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    assert!(!missing.exists());
}

/// A snapshot that does not exist yet is reported `new` even when insta writes it straight away
/// (`INSTA_UPDATE=always`), and a differing one `changed`; the standalone binary never prints
/// insta's "Stopped on the first failure" (the run does not stop).
#[test]
fn snapshot_status_is_insta_comparison_whatever_insta_update_says() {
    let tmp = tempfile::tempdir().unwrap();
    let snapshots = tmp.path().join("snapshots");
    let test = |update: &str| {
        let out_dir = tmp.path().join(format!("out-{update}"));
        let (out, stdout, stderr) = run(bin()
            .args([
                "test",
                "specs/shop.yaml",
                "shop::no-choice",
                "--exact",
                "--snapshots",
            ])
            .arg(&snapshots)
            .env("CONSENT_GATES_OUT", &out_dir)
            .env("INSTA_UPDATE", update)
            .env_remove("CI")
            .env_remove("INSTA_FORCE_PASS"));
        let results: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("results.json")).unwrap()).unwrap();
        let snapshot = results["trials"][0]["snapshot"]
            .as_str()
            .unwrap()
            .to_string();
        (out.status.code(), snapshot, format!("{stdout}\n{stderr}"))
    };
    let (code, snapshot, output) = test("always");
    assert_eq!(snapshot, "new", "{output}");
    assert_eq!(code, Some(4), "only the snapshot differs: {output}");
    let file = snapshots.join("shop.no-choice.snap");
    let accepted = std::fs::read_to_string(&file).expect("INSTA_UPDATE=always wrote it");
    assert!(!output.contains("Stopped on the first failure"), "{output}");

    // Change the accepted copy: the visit now differs from it.
    std::fs::write(&file, accepted.replace("gpc: false", "gpc: true")).unwrap();
    let (code, snapshot, output) = test("no");
    assert_eq!((code, snapshot.as_str()), (Some(4), "changed"), "{output}");
    assert!(!output.contains("Stopped on the first failure"), "{output}");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let (out, stdout, _) = run(bin().arg("schema"));
    assert!(out.status.success());
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/spec.schema.json"),
    )
    .unwrap();
    assert_eq!(stdout, committed);
}

#[test]
fn explain_shows_states_expectations_and_their_sources() {
    let (out, stdout, stderr) =
        run(bin().args(["explain", "specs/shop.yaml", "specs/klaro-us.yaml"]));
    assert!(out.status.success(), "{stderr}");
    assert_contains_all(
        &stdout,
        &[
            "shop (specs/shop.yaml): trials shop::<state>",
            "Google Analytics 4 Web",
            // Categories from the settings file, and from the spec.
            "(from settings)",
            "categories C0002 (from spec)",
            "state reject-all",
            "1. cmp reject_all   <- the decision",
            "blocked: all (spec)",
            // The regime's defaults.
            "pii: none before the decision (regime gdpr)",
            // klaro-us: the cpra default on the GPC state, naming the advertising destination.
            "state gpc",
            "blocked: [TikTok Pixel] (regime cpra)",
        ],
    );

    let (out, _, stderr) = run(bin().args(["explain", "tests/fixtures/no-such.yaml"]));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

/// `init` on the example shop, offline: every destination of the settings listed, what the
/// network showed after accepting, TODOs, a `no-choice` state; the result is a valid spec.
#[test]
fn init_writes_a_valid_starting_spec_for_the_example_shop() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/cli-init/specs");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("shop-init.yaml");
    let _ = std::fs::remove_file(&file);
    let shop = "examples/sites/shop";
    let (out, _, stderr) = run(bin().args([
        "init",
        "https://shop.example/",
        "-o",
        file.to_str().unwrap(),
        "--offline",
        "--library",
        "bundled",
        "--settings",
        &format!("{shop}/settings.json"),
        "--serve",
        &format!("https://shop.example={shop}/www"),
        "--serve",
        &format!("https://cdn.segment.com={shop}/segment-cdn"),
        "--serve",
        &format!("https://www.googletagmanager.com={shop}/vendors/www.googletagmanager.com"),
        "--serve",
        &format!("https://connect.facebook.net={shop}/vendors/connect.facebook.net"),
    ]));
    assert!(out.status.success(), "{stderr}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=../../../schema/spec.schema.json\n"),
        "{text}"
    );
    assert_contains_all(
        &text,
        &[
            "  url: \"https://shop.example/\"",
            "\"https://shop.example\": ../../../examples/sites/shop/www",
            // The CMP is detected.
            "cmp: vanilla-cookieconsent",
            "  Google Analytics 4 Web: {}  # TODO: categories: the settings gate it by [C0002]",
            "  Facebook Conversions Api Web: {}  # TODO",
            // The network after accepting.
            "host connect.facebook.net",
            "  C0004: advertising",
            "  no-choice:",
            // The CMP can be re-opened: init proposes the change-of-mind journey.
            "  # accept-then-withdraw:",
            "#     - cmp: reopen",
        ],
    );
    // And it says how the library was recognised.
    assert!(
        text.contains(
            "analytics.js not loaded before any choice, loaded (snippet) after accepting all"
        ) || text.contains("analytics.js loaded"),
        "{text}"
    );
    let spec = consent_gates::spec::load(&file).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(spec.destinations.len(), 2);
    assert_eq!(spec.cmp.as_deref(), Some("vanilla-cookieconsent"));
}

/// `test` takes spec paths as positional arguments beside a trial filter, reports progress on
/// stderr and colours the table after CARGO_TERM_COLOR.
#[test]
fn test_command_runs_positional_specs_with_progress_and_colour() {
    let out_dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(bin()
        .args(["test", "specs/shop.yaml", "shop::no-choice", "--exact"])
        .env("CONSENT_GATES_OUT", out_dir.path())
        .env("CARGO_TERM_COLOR", "always"));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("[1/1]") && stderr.contains("shop::no-choice"),
        "{stderr}"
    );
    assert!(
        stdout.contains("\x1b[32mpass"),
        "coloured verdict: {stdout}"
    );
    assert!(stdout.contains("shop::no-choice"), "{stdout}");
    for f in ["results.json", "junit.xml", "report/index.html"] {
        assert!(out_dir.path().join(f).is_file(), "{f}");
    }

    let (out, stdout, _) = run(bin()
        .args(["test", "specs/shop.yaml", "--list", "--color", "never"])
        .env("CONSENT_GATES_OUT", out_dir.path()));
    assert!(out.status.success());
    assert_eq!(stdout.matches(": test").count(), 4, "{stdout}");
    assert!(
        !stdout.contains("klaro-us"),
        "only the named spec: {stdout}"
    );
}

/// The nextest configuration: a CI profile with JUnit, retries only for live-site trials (the
/// `live-*.yaml` naming convention), a slow-test timeout and a group bounding browsers.
#[test]
fn nextest_config_has_a_ci_profile() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".config/nextest.toml"))
            .unwrap();
    let config: toml::Table = toml::from_str(&text).expect(".config/nextest.toml is TOML");
    let groups = config["test-groups"].as_table().unwrap();
    assert!(groups["browser"]["max-threads"].as_integer().unwrap() >= 1);
    let ci = config["profile"]["ci"].as_table().unwrap();
    assert_eq!(
        ci["retries"].as_integer(),
        Some(0),
        "hermetic trials are never retried"
    );
    assert_eq!(ci["junit"]["path"].as_str(), Some("junit.xml"));
    assert!(ci["slow-timeout"]["terminate-after"].as_integer().is_some());
    let overrides = ci["overrides"].as_array().unwrap();
    let live = overrides
        .iter()
        .find(|o| {
            o["filter"]
                .as_str()
                .is_some_and(|f| f.contains("test(/^live-/)"))
        })
        .expect("a retry override for live-site trials");
    assert!(live["retries"]["count"].as_integer().unwrap() > 0);
    let default_overrides = config["profile"]["default"]["overrides"]
        .as_array()
        .unwrap();
    let browser = default_overrides
        .iter()
        .find(|o| o["test-group"].as_str() == Some("browser"))
        .and_then(|o| o["filter"].as_str())
        .expect("an override putting browser tests in the `browser` group");
    // The group takes every test binary but those excluded by name: each excluded one exists and
    // starts no browser.
    let (all, excluded) = browser
        .split_once("& !(")
        .expect("`kind(test) & !(binary(..) | ..)`");
    assert_eq!(all.trim(), "kind(test)");
    for name in excluded.split("binary(").skip(1) {
        let name = name.split(')').next().unwrap();
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/{name}.rs"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for browser_use in [
            "Shared::get",
            "common::judge",
            "visit_state",
            "CARGO_BIN_EXE",
        ] {
            assert!(
                !text.contains(browser_use),
                "tests/{name}.rs uses {browser_use}: it drives Chromium, so it belongs in the browser group"
            );
        }
    }
}
