//! The documentation a user has after cloning the repository stays true and self-contained:
//! `docs/spec.md` documents exactly the keys of the spec's JSON Schema (the parser's own types), each
//! with a type, a default and an example; and the Markdown files link only to files that exist in
//! the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use consent_gates::spec;
use serde_json::Value;

const SPEC_DOC: &str = "docs/spec.md";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every key the schema accepts, as `docs/spec.md` writes it (`states.<name>.steps[].click`), with
/// the JSON pointer of its definition (for messages).
fn schema_keys(schema: &Value) -> BTreeMap<String, String> {
    fn walk(
        node: &Value,
        pointer: &str,
        path: &str,
        schema: &Value,
        seen: &mut Vec<String>,
        out: &mut BTreeMap<String, String>,
    ) {
        if let Some(target) = node.get("$ref").and_then(Value::as_str) {
            let target = target.trim_start_matches('#').to_string();
            // A definition that contains itself would loop forever; none does today.
            if seen.contains(&target) {
                return;
            }
            if let Some(def) = schema.pointer(&target) {
                seen.push(target.clone());
                walk(def, &target, path, schema, seen, out);
                seen.pop();
            }
            return;
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            for (i, alt) in node
                .get(combinator)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let p = format!("{pointer}/{combinator}/{i}");
                walk(alt, &p, path, schema, seen, out);
            }
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (key, sub) in props {
                let key_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let p = format!("{pointer}/properties/{key}");
                out.insert(key_path.clone(), p.clone());
                walk(sub, &p, &key_path, schema, seen, out);
            }
        }
        if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
            let p = format!("{pointer}/additionalProperties");
            walk(values, &p, &format!("{path}.<name>"), schema, seen, out);
        }
        if let Some(items) = node.get("items").filter(|v| v.is_object()) {
            let p = format!("{pointer}/items");
            walk(items, &p, &format!("{path}[]"), schema, seen, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(schema, "", "", schema, &mut Vec::new(), &mut out);
    out
}

/// The words a key accepts (`enum`/`const` strings reachable from its schema without entering a
/// nested object or list), so that the doc lists every one.
fn words(node: &Value, schema: &Value, out: &mut Vec<String>) {
    if let Some(target) = node.get("$ref").and_then(Value::as_str) {
        if let Some(def) = schema.pointer(target.trim_start_matches('#')) {
            words(def, schema, out);
        }
        return;
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        for alt in node
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            words(alt, schema, out);
        }
    }
    let listed = node
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    out.extend(
        listed
            .chain(node.get("const"))
            .filter_map(Value::as_str)
            .map(str::to_string),
    );
}

/// One key section of `docs/spec.md`: a heading naming one or more keys in backticks.
struct Section {
    keys: Vec<String>,
    /// 1-based line of the heading.
    line: usize,
    body: String,
}

fn is_key_path(s: &str) -> bool {
    let re =
        regex::Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*(\.(<name>|[A-Za-z_][A-Za-z0-9_]*)|\[\])*$")
            .expect("key path pattern");
    re.is_match(s)
}

fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut current: Option<Section> = None;
    let mut in_code = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && line.starts_with('#') {
            if let Some(s) = current.take() {
                out.push(s);
            }
            let keys: Vec<String> = line
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|k| is_key_path(k))
                .map(str::to_string)
                .collect();
            if !keys.is_empty() {
                current = Some(Section {
                    keys,
                    line: i + 1,
                    body: String::new(),
                });
            }
        } else if let Some(s) = &mut current {
            s.body.push_str(line);
            s.body.push('\n');
        }
    }
    out.extend(current);
    out
}

/// The YAML of the section's first ```yaml block.
fn example(body: &str) -> Option<&str> {
    let start = body.find("```yaml\n")? + "```yaml\n".len();
    let len = body[start..].find("```")?;
    Some(&body[start..start + len])
}

#[test]
fn spec_doc_documents_exactly_the_schema_keys() {
    let schema = spec::schema::spec_schema();
    let in_schema = schema_keys(&schema);
    let text = std::fs::read_to_string(root().join(SPEC_DOC)).expect("docs/spec.md");
    let sections = sections(&text);
    let mut documented: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for s in &sections {
        for key in &s.keys {
            if let Some(first) = documented.insert(key, s.line) {
                problems.push(format!(
                    "{SPEC_DOC}:{}: `{key}` is documented twice (also at line {first}); keep one section",
                    s.line
                ));
            }
        }
        let name = s.keys.join("`, `");
        for (label, what) in [
            ("- **Type:**", "its type"),
            ("- **Default:**", "its default"),
        ] {
            if !s.body.contains(label) {
                problems.push(format!(
                    "{SPEC_DOC}:{}: the section of `{name}` does not give {what}: add a line `{label} ...`",
                    s.line
                ));
            }
        }
        match example(&s.body) {
            None => problems.push(format!(
                "{SPEC_DOC}:{}: the section of `{name}` has no example: add a ```yaml block",
                s.line
            )),
            Some(yaml) => {
                if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(yaml) {
                    problems.push(format!(
                        "{SPEC_DOC}:{}: the example of `{name}` is not valid YAML: {e}",
                        s.line
                    ));
                }
            }
        }
    }
    for s in &sections {
        for key in &s.keys {
            let Some(node) = in_schema.get(key).and_then(|p| schema.pointer(p)) else {
                continue;
            };
            let mut accepted = Vec::new();
            words(node, &schema, &mut accepted);
            for word in accepted {
                if !s.body.contains(&format!("`{word}`")) {
                    problems.push(format!(
                        "{SPEC_DOC}:{}: the section of `{key}` does not mention `{word}`, a value \
                         the spec's JSON Schema accepts there: add it (in backticks) to its type",
                        s.line
                    ));
                }
            }
        }
    }
    for (key, pointer) in &in_schema {
        if !documented.contains_key(key.as_str()) {
            problems.push(format!(
                "{SPEC_DOC} does not document `{key}`, which the spec's JSON Schema has (at \
                 {pointer}): add a section headed ### `{key}` with its type, default and an example"
            ));
        }
    }
    for (key, line) in &documented {
        if !in_schema.contains_key(*key) {
            problems.push(format!(
                "{SPEC_DOC}:{line}: documents `{key}`, which the spec's JSON Schema does not have: \
                 remove the section or fix the key (the schema is generated from the parser's types \
                 in src/spec/; `consent-gates schema` prints it)"
            ));
        }
    }
    assert!(
        in_schema.len() > 40,
        "the schema walk found only {} keys: {in_schema:#?}",
        in_schema.len()
    );
    common::assert_no_problems(
        &format!("{SPEC_DOC} and the spec's JSON Schema disagree"),
        problems,
    );
}

/// The walk reads the schema's shapes: maps, lists, one-of steps and references.
#[test]
fn schema_keys_are_written_as_the_doc_writes_them() {
    let keys = schema_keys(&spec::schema::spec_schema());
    for key in [
        "site.url",
        "categories.<name>.cmp",
        "destinations.<name>.mode",
        "states.<name>.steps[].cmp.categories",
        "states.<name>.expect.calls.identify",
        "timing.step_ms",
        "retries",
    ] {
        assert!(keys.contains_key(key), "{key} missing from {keys:#?}");
    }
    assert_eq!(keys["site.url"], "/definitions/RawSite/properties/url");
}

/// Markdown files shipped with the repository.
fn markdown_files() -> Vec<PathBuf> {
    let root = root();
    let mut files: Vec<PathBuf> = ["*.md", "docs/**/*.md", "tests/fixtures/**/*.md"]
        .iter()
        .flat_map(|p| glob::glob(&root.join(p).to_string_lossy()).expect("glob"))
        .filter_map(Result::ok)
        .collect();
    files.sort();
    files
}

/// Relative link targets of a Markdown text (`[text](target)`), with their 1-based lines.
fn links(text: &str) -> Vec<(usize, String)> {
    let re = regex::Regex::new(r"\]\(([^)\s]+)\)").expect("link pattern");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for c in re.captures_iter(line) {
            let target = c[1].to_string();
            if target.starts_with('#') || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            out.push((i + 1, target));
        }
    }
    out
}

/// A user who clones the repository has nothing else: the docs link only to files in it, and
/// name no file or folder that is not in it.
#[test]
fn markdown_docs_link_only_inside_the_repository() {
    let root = root();
    let real_root = root.canonicalize().expect("repository root");
    let mut problems = Vec::new();
    let files = markdown_files();
    assert!(
        files.iter().any(|f| f.ends_with("README.md"))
            && files.iter().any(|f| f.ends_with("spec.md")),
        "{files:?}"
    );
    for file in &files {
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(file).expect("markdown file");
        for (line, target) in links(&text) {
            let path = target.split('#').next().unwrap_or_default();
            let resolved = file.parent().unwrap_or(Path::new(".")).join(path);
            match resolved.canonicalize() {
                Ok(real) if real.starts_with(&real_root) => {}
                Ok(_) => problems.push(format!(
                    "{shown}:{line}: links `{target}`, outside the repository"
                )),
                Err(_) => problems.push(format!(
                    "{shown}:{line}: links `{target}`, which does not exist"
                )),
            }
        }
        for (i, line) in text.lines().enumerate() {
            for outside in [
                concat!("../sha", "red"),
                concat!("DESIGN", ".md"),
                concat!("research", "/"),
            ] {
                if line.contains(outside) {
                    problems.push(format!(
                        "{shown}:{}: names `{outside}`, which is not in the repository",
                        i + 1
                    ));
                }
            }
        }
    }
    common::assert_no_problems("Markdown files point outside the repository", problems);
}

/// Source, data and script files name no file outside the repository and no folder of the machine
/// they were written on (comments included: a comment that cites a missing file misleads).
#[test]
fn sources_cite_only_files_in_the_repository() {
    let root = root();
    let mut problems = Vec::new();
    let patterns = [
        "src/**/*.rs",
        "src/**/*.yaml",
        "tests/*.rs",
        "scripts/*",
        "bench/*",
        "examples/sites/*/src/*.js",
        "examples/sites/*/pages.mjs",
        "examples/sites/*/destinations/*.js",
        "examples/common/*",
        "schema/*.json",
        ".ci/*",
    ];
    // Spelled in pieces so that this file does not trip its own check.
    let outside = [
        format!("{}{}", "../sha", "red"),
        format!("{}{}", "DESIGN", ".md"),
        format!("{}{}", "research/", "segment"),
        format!("{}{}", "/work", "/"),
        format!("{}{}", "/root", "/"),
    ];
    for pattern in patterns {
        for file in glob::glob(&root.join(pattern).to_string_lossy())
            .expect("glob")
            .filter_map(Result::ok)
        {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            for (i, line) in text.lines().enumerate() {
                for o in &outside {
                    if line.contains(o.as_str()) {
                        problems.push(format!("{shown}:{}: names `{o}`", i + 1));
                    }
                }
            }
        }
    }
    common::assert_no_problems(
        "files cite what a user who clones the repository does not have (point to docs/ instead)",
        problems,
    );
}
