//! Containment: personal data never reaches results, reports or snapshots raw; an offline run
//! resolves no name and opens no connection; a spec cannot make the harness read outside its
//! repository. (That `deliver: false` answers every tracking call locally in every mode is proved
//! on the edge's own decision: `session::edge::tests::tracking_calls_never_leave_without_deliver`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use consent_gates::spec;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_consent-gates"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    c
}

/// Every file under `dir`, as text (lossy).
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    common::files_under(dir)
        .into_iter()
        .map(|p| {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
            (p, text)
        })
        .collect()
}

/// The entries of a zip file, as text (lossy), named `<zip>/<entry>`.
fn zip_entries(path: &Path) -> Vec<(PathBuf, String)> {
    use std::io::Read;
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(path).expect("open zip")).expect("a zip archive");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("zip entry");
            let name = path.join(entry.name().map(|n| n.into_owned()).unwrap_or_default());
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read zip entry");
            (name, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

#[test]
fn personal_data_never_reaches_results_report_or_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, snaps) = (tmp.path().join("out"), tmp.path().join("snapshots"));
    let run = bin()
        .args([
            "test",
            "--specs",
            "tests/fixtures/pii-redaction/specs/*.yaml",
            "--snapshots",
        ])
        .arg(&snaps)
        .env("CONSENT_GATES_OUT", &out)
        // Write the snapshot so that it can be searched (CI mode would write nothing).
        .env_remove("CI")
        .env("INSTA_UPDATE", "always")
        .output()
        .expect("run consent-gates");
    let stderr = String::from_utf8_lossy(&run.stderr);

    let results = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    let json: serde_json::Value = serde_json::from_str(&results).unwrap();
    let trial = &json["trials"][0];
    assert_eq!(trial["verdict"], "fail", "{results}\n{stderr}");
    let checks: Vec<&str> = trial["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert!(
        checks.contains(&"collection") && checks.contains(&"calls"),
        "the fixture produces evidence: {checks:?}"
    );

    let snapshot = files(&snaps);
    assert!(
        snapshot
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("pii-redaction.identified")),
        "the snapshot was written: {snapshot:?}"
    );
    // The failing trial keeps a Playwright trace: every text entry inside the zip counts too.
    let traces: Vec<(PathBuf, String)> = files(&out)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "zip"))
        .flat_map(|(p, _)| zip_entries(&p))
        .collect();
    assert!(!traces.is_empty(), "the failing trial kept a trace");
    let written: Vec<(PathBuf, String)> = files(&out)
        .into_iter()
        .chain(snapshot)
        .chain(traces)
        .collect();
    let raw = [
        "jane.doe@",
        "jane.doe%40",
        "visitor-84",
        "7946 0958",
        "442079460958",
        "shopWK123",
        "Zq8sessionCookieValue77",
    ];
    for (path, text) in &written {
        for r in raw {
            if let Some(i) = text.find(r) {
                let around: String = text[i.saturating_sub(120)..].chars().take(200).collect();
                panic!("{} holds the raw value {r:?}: …{around}…", path.display());
            }
        }
    }
    // The evidence is still there, with stable placeholders instead of the values.
    let all: String = written.iter().map(|(_, t)| t.as_str()).collect();
    for placeholder in ["<email:", "<phone:"] {
        assert!(
            all.contains(placeholder) || all.contains(&placeholder.replace('<', "&lt;")),
            "{placeholder}N> stands in for the value somewhere"
        );
    }
}

/// Net-log event types that mean a name was really looked up or a connection really attempted.
/// (Chromium's IPv6 reachability probe `connect`s a UDP socket, which sends nothing; the offline
/// resolver rule answers every look-up as "not found" without a DNS job.)
const NETWORK_USE: &[&str] = &[
    "HOST_RESOLVER_MANAGER_JOB",
    "HOST_RESOLVER_DNS_TASK",
    "HOST_RESOLVER_SYSTEM_TASK",
    "HOST_RESOLVER_MANAGER_DNS_TASK",
    "TCP_CONNECT",
    "TCP_CONNECT_ATTEMPT",
    "UDP_BYTES_SENT",
    "SOCKET_BYTES_SENT",
    "SSL_CONNECT",
];

#[test]
fn offline_run_resolves_no_name_and_opens_no_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let netlog = tmp.path().join("net.json");
    let run = bin()
        .args([
            "test",
            "--specs",
            "specs/shop.yaml",
            "--snapshots",
            "snapshots",
            "shop::accept-all",
            "--exact",
        ])
        .env("CONSENT_GATES_OUT", tmp.path().join("out"))
        .env("CI", "true")
        .env("CONSENT_GATES_TRACE", "0")
        .env(
            "CONSENT_GATES_CHROMIUM_ARGS",
            format!("--log-net-log={}", netlog.display()),
        )
        .output()
        .expect("run consent-gates");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let log = std::fs::read_to_string(&netlog).expect("net-log written");
    // The constants table maps event type names to numbers; events follow one per line (the file
    // may miss its closing brackets when Chromium is stopped).
    let split = log.find("\"events\"").expect("net-log events");
    let head = format!("{}}}", log[..split].trim_end().trim_end_matches(','));
    let constants: serde_json::Value = serde_json::from_str(&head).expect("net-log constants");
    let names: BTreeMap<u64, String> = constants["constants"]["logEventTypes"]
        .as_object()
        .expect("event types")
        .iter()
        .filter_map(|(k, v)| Some((v.as_u64()?, k.clone())))
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in log[split..].lines().skip(1) {
        let line = line.trim().trim_end_matches(',');
        if let Ok(e) = serde_json::from_str::<serde_json::Value>(line)
            && let Some(t) = e["type"].as_u64()
        {
            *counts
                .entry(names.get(&t).cloned().unwrap_or_default())
                .or_default() += 1;
        }
    }
    assert!(
        counts.get("URL_REQUEST_START_JOB").is_some_and(|n| *n > 0) || counts.len() > 20,
        "the log recorded the run: {counts:?}"
    );
    let used: Vec<(&String, &usize)> = counts
        .iter()
        .filter(|(name, _)| NETWORK_USE.contains(&name.as_str()))
        .collect();
    assert!(used.is_empty(), "an offline run used the network: {used:?}");
}

/// A repository with a spec folder, an outside folder beside it, and `extra` files.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::create_dir_all(root.join("site")).unwrap();
    std::fs::write(root.join("settings.json"), "{}").unwrap();
    std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/settings.json"), "{}").unwrap();
    (tmp, root)
}

#[allow(clippy::result_large_err)] // one error per spec file
fn load(root: &Path, text: &str) -> Result<spec::Spec, spec::SpecError> {
    let path = root.join("specs/t.yaml");
    std::fs::write(&path, text).unwrap();
    spec::load(&path)
}

fn with_paths(serve: &str, settings: &str) -> String {
    format!(
        "site:\n  url: https://a.example/\n  serve: {{https://a.example: {serve}}}\nsegment:\n  \
         settings: {settings}\nstates:\n  s:\n    expect: {{collection: none}}\n"
    )
}

#[test]
fn spec_paths_stay_inside_the_repository() {
    let (tmp, root) = repo();
    assert!(load(&root, &with_paths("../site", "../settings.json")).is_ok());

    // `..` out of the repository, absolute paths, and symbolic links pointing out.
    std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("link")).unwrap();
    for (serve, settings) in [
        ("../../outside", "../../outside/settings.json"),
        ("/etc", "/etc/hostname"),
        ("../link", "../link/settings.json"),
    ] {
        let e = load(&root, &with_paths(serve, settings)).expect_err(serve);
        assert_eq!(e.count(), 2, "both paths: {e}");
        let lines: Vec<usize> = e.all().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5], "each names its line: {e}");
        for one in e.all() {
            assert!(one.message.contains("outside the spec's repository"), "{e}");
            assert!(one.column > 0);
        }
        let shown = e.to_string();
        assert!(shown.contains("t.yaml:3:"), "{shown}");
    }

    // Without a `.git` above it, the repository is the spec's folder.
    std::fs::remove_dir_all(root.join(".git")).unwrap();
    let e = load(&root, &with_paths("../site", "../settings.json")).expect_err("no repository");
    assert!(e.message.contains("outside the spec's repository"), "{e}");
}
