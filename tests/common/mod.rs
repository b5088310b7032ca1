//! Helpers shared by the end-to-end test files.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use consent_gates::outcome::{CheckId, TrialResult, Verdict};
use consent_gates::runner::harness::{self, Options};

/// Runs, quietly, the trials of `specs` that `select` accepts; snapshots go to a temporary
/// folder (kept alive by the returned guard).
pub fn judge(specs: &str, select: impl Fn(&str) -> bool) -> (Vec<TrialResult>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = Options {
        specs: specs.into(),
        snapshots: Some(tmp.path().join("snapshots")),
        table: false,
        out: None,
    };
    (harness::judge(&options, select, 2), tmp)
}

/// The trial called `name`, or a panic listing those that ran.
pub fn result<'a>(results: &'a [TrialResult], name: &str) -> &'a TrialResult {
    results
        .iter()
        .find(|r| r.name() == name)
        .unwrap_or_else(|| {
            panic!(
                "no trial {name} in {:?}",
                results.iter().map(TrialResult::name).collect::<Vec<_>>()
            )
        })
}

/// Runs, quietly, the one trial `name` of `specs`; its snapshot is in the returned folder's
/// `snapshots/`.
pub fn run_one(specs: &str, name: &str) -> (TrialResult, tempfile::TempDir) {
    let (results, tmp) = judge(specs, |n| n == name);
    (result(&results, name).clone(), tmp)
}

/// A failure as the end-to-end tests compare them: its check and the destination it names.
pub type Pair = (CheckId, Option<String>);

/// The (check, destination) pairs that fail in `r`.
pub fn pairs(r: &TrialResult) -> BTreeSet<Pair> {
    r.failures
        .iter()
        .map(|f| (f.check, f.destination.clone()))
        .collect()
}

pub fn pair(check: CheckId, destination: Option<&str>) -> Pair {
    (check, destination.map(str::to_string))
}

/// Asserts that `r` fails with exactly `expected`: the right checks fire, on the right
/// destination, and nothing else does.
pub fn assert_fails_with(r: &TrialResult, expected: &[Pair]) {
    let expected: BTreeSet<Pair> = expected.iter().cloned().collect();
    assert_eq!(r.verdict, Verdict::Fail, "{} must fail: {r:#?}", r.name());
    assert_eq!(
        pairs(r),
        expected,
        "{}: exactly these checks must fire (left: fired, right: expected): {r:#?}",
        r.name()
    );
}

/// Runs the one trial `name` of `specs` and asserts that it fails with exactly `expected`.
pub fn fails_with(specs: &str, name: &str, expected: &[Pair]) -> TrialResult {
    let (r, _tmp) = run_one(specs, name);
    assert_fails_with(&r, expected);
    r
}

pub fn assert_passes(r: &TrialResult) {
    assert_eq!(r.verdict, Verdict::Pass, "{} must pass: {r:#?}", r.name());
}

/// Asserts that `count` trials ran and every one passed (a correct twin).
pub fn assert_all_pass(results: &[TrialResult], count: usize) {
    assert_eq!(results.len(), count, "{results:#?}");
    results.iter().for_each(assert_passes);
}

/// The evidence of `r`'s failures of `check` (any destination), each as the report prints it:
/// what was seen, when, and before or after the decision.
pub fn evidence(r: &TrialResult, check: CheckId) -> Vec<String> {
    r.failures
        .iter()
        .filter(|f| f.check == check)
        .flat_map(|f| f.evidence.iter().map(|e| e.to_string()))
        .collect()
}

/// Asserts that some line of the evidence of `check` contains `needle`.
pub fn assert_evidence_names(r: &TrialResult, check: CheckId, needle: &str) {
    let ev = evidence(r, check);
    assert!(
        ev.iter().any(|e| e.contains(needle)),
        "{}: the {check} evidence names {needle}: {ev:#?}",
        r.name()
    );
}

/// Runs `state` of the spec at `path` as one trial with the report's evidence (the timeline, the
/// expectations), which the harness keeps only for the HTML report.
pub fn run_reported(path: &str, state: &str) -> TrialResult {
    use consent_gates::browser::session::Shared;
    use consent_gates::runner::trial::{self, EvidenceOptions};
    let spec = consent_gates::spec::load(Path::new(path)).unwrap_or_else(|e| panic!("{e:?}"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = EvidenceOptions {
        report: true,
        screenshots: false,
        traces: None,
    };
    trial::run_with(Shared::get(true), &spec, state, tmp.path(), &options)
}

/// Asserts that `text` contains every one of `needles`, naming the first that is missing.
pub fn assert_contains_all(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
}

/// Asserts that a check over the repository found no `problems`, else lists them, one a line,
/// under `what` (what they are and how to fix them).
pub fn assert_no_problems<S: AsRef<str>>(what: &str, problems: impl IntoIterator<Item = S>) {
    let problems: Vec<S> = problems.into_iter().collect();
    let lines: Vec<&str> = problems.iter().map(AsRef::as_ref).collect();
    assert!(lines.is_empty(), "{what}:\n  {}", lines.join("\n  "));
}

/// Every file below `dir` (recursively), in no particular order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Waits (bounded) until `pid` has exited; true when it has. Uses a pidfd, which becomes readable
/// when the process exits.
pub fn exited_within(pid: u32, bound: Duration) -> bool {
    // SAFETY: pidfd_open(2) and poll(2) get valid arguments; the fd is closed below.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) as i32;
        if fd < 0 {
            return true; // ESRCH: already gone
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let n = libc::poll(&mut p, 1, bound.as_millis() as i32);
        libc::close(fd);
        if n > 0 {
            return true;
        }
    }
    // A zombie (exited, not yet reaped by its new parent) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

/// Visits `state` of the spec at `path` once, through the library's own session (no harness, no
/// judging), with the pinned Segment build when the spec's folder has it; bounded at 90 s.
pub fn visit_state(path: &Path, state: &str) -> consent_gates::browser::session::Visit {
    let spec = consent_gates::spec::load(path).unwrap_or_else(|e| panic!("{e:?}"));
    visit_spec(&spec, path, state)
}

/// [`visit_state`] of a spec already loaded (and perhaps changed) from `path`.
pub fn visit_spec(
    spec: &consent_gates::spec::Spec,
    path: &Path,
    state: &str,
) -> consent_gates::browser::session::Visit {
    use consent_gates::browser::edge;
    use consent_gates::browser::session::{self, Shared};
    let shared = Shared::get(true);
    let browser = shared.browser().expect("browser");
    let dist = edge::find_segment_dist(path.parent().expect("folder"));
    let config = edge::EdgeConfig::from_spec(spec, dist).expect("edge config");
    let st = spec.states.get(state).expect("state");
    shared
        .runtime()
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(90),
                session::visit(&browser, spec, st, std::sync::Arc::new(config)),
            )
            .await
        })
        .expect("the visit is bounded")
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The property tests' configuration: `cases` cases from a fixed seed, so that CI runs the same
/// inputs every time (a red build names a change, not a draw). `PROPTEST_RNG_SEED=<n>` explores
/// other inputs; a failure found that way becomes a unit test.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let mut config = proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(20_261_202);
    }
    config
}
