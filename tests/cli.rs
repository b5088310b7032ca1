//! The standalone `consent-gates` binary: test (positional specs, filters, progress, colour),
//! init (on the example shop, offline), explain, schema.

use std::path::Path;
use std::process::{Command, Output};

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
    for cmd in [
        "consent-gates test",
        "consent-gates init",
        "consent-gates explain",
        "consent-gates schema",
    ] {
        assert!(stdout.contains(cmd), "{stdout}");
    }
    let (out, _, stderr) = run(bin().arg("frobnicate"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("unknown command `frobnicate`"));
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
    assert!(
        stdout.contains("shop (specs/shop.yaml): trials shop::<state>"),
        "{stdout}"
    );
    assert!(stdout.contains("Google Analytics 4 Web"), "{stdout}");
    assert!(
        stdout.contains("(from settings)"),
        "categories from the settings file: {stdout}"
    );
    assert!(stdout.contains("categories C0002 (from spec)"), "{stdout}");
    assert!(stdout.contains("state reject-all"), "{stdout}");
    assert!(
        stdout.contains("1. cmp reject_all   <- the decision"),
        "{stdout}"
    );
    assert!(stdout.contains("blocked: all (spec)"), "{stdout}");
    assert!(
        stdout.contains("pii: none before the decision (regime gdpr)"),
        "regime defaults shown: {stdout}"
    );
    // klaro-us: the cpra default on the GPC state, naming the advertising destination.
    assert!(stdout.contains("state gpc"), "{stdout}");
    assert!(
        stdout.contains("blocked: [TikTok Pixel] (regime cpra)"),
        "{stdout}"
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
    assert!(text.contains("  url: \"https://shop.example/\""), "{text}");
    assert!(
        text.contains("\"https://shop.example\": ../../../examples/sites/shop/www"),
        "{text}"
    );
    assert!(
        text.contains("cmp: vanilla-cookieconsent"),
        "the CMP is detected: {text}"
    );
    assert!(
        text.contains(
            "  Google Analytics 4 Web: {}  # TODO: categories: the settings gate it by [C0002]"
        ),
        "{text}"
    );
    assert!(
        text.contains("  Facebook Conversions Api Web: {}  # TODO"),
        "{text}"
    );
    assert!(
        text.contains("host connect.facebook.net"),
        "the network after accepting: {text}"
    );
    assert!(text.contains("  C0004: advertising"), "{text}");
    assert!(text.contains("  no-choice:"), "{text}");
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
    assert!(
        default_overrides
            .iter()
            .any(|o| o["test-group"].as_str() == Some("browser")
                && o["filter"].as_str().unwrap().contains("binary(specs)"))
    );
}
