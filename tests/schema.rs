//! The JSON Schema of the spec format: generated from the parser's types, committed as
//! `schema/spec.schema.json`, referenced by the example specs, and accepting every spec the tool
//! accepts. Regenerate the committed copy with `UPDATE_SCHEMA=1 cargo test --test schema`.

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
