//! Every located error the spec parser gives for the bad specs in `tests/fixtures/bad-specs/`,
//! as a reviewed snapshot: the file:line:col, the caret, the "did you mean" and the help are the
//! parser's user interface, and must not regress silently.

use std::path::Path;

#[test]
fn bad_spec_errors_are_stable() {
    let dir = Path::new("tests/fixtures/bad-specs/specs");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("bad-specs folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    let mut checked = 0;
    for path in names {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_string();
        match consent_gates::spec::load(&path) {
            Ok(_) => assert_eq!(stem, "good", "{stem} should not parse"),
            Err(e) => {
                // Absolute paths differ per machine; the repository-relative form does not.
                let root = std::env::current_dir().expect("cwd");
                let root = root.display().to_string();
                let text = e
                    .render()
                    .replace(&format!("{root}/"), "")
                    .replace(&root, "<repository>");
                insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
                    insta::assert_snapshot!(format!("spec-error-{stem}"), text);
                });
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} bad specs were checked");
}
