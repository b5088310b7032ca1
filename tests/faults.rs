//! Faults never break a run: a site that never answers, answers 500 or never finishes loading, a
//! page that throws, a trial that runs out of time, a Chromium that dies mid-run, a Ctrl-C. Each
//! running trial reports `error` naming what it was doing, and the remaining trials run.
//!
//! The sites are served by a small HTTP server on 127.0.0.1 started by each test (IP literals, so
//! no name is ever resolved); the pages are in `tests/fixtures/faults/pages`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

mod common;

use common::exited_within;

use common::result;
use consent_gates::browser::launch::descendant_pids;
use consent_gates::outcome::{CheckId, Verdict};

const PAGES: &str = "tests/fixtures/faults/pages";

/// Quick bounds: every fault is detected within a few seconds.
const TIMING: &str =
    "timing: {navigation_ms: 2500, step_ms: 1000, quiet_ms: 150, settle_max_ms: 10000}";

/// A local site whose paths misbehave on purpose.
struct FaultSite {
    port: u16,
    /// Sends once per `/ready` request (a page telling the test it is running).
    ready: mpsc::Receiver<()>,
}

fn start_site() -> FaultSite {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, ready) = mpsc::channel();
    let flaky = Arc::new(AtomicUsize::new(0));
    let pages: HashMap<&str, String> = ["plain", "throws", "wait", "leaves"]
        .into_iter()
        .map(|p| {
            let file = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(PAGES)
                .join(format!("{p}.html"));
            (p, std::fs::read_to_string(file).expect("fault page"))
        })
        .collect();
    let pages = Arc::new(pages);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (tx, flaky, pages) = (tx.clone(), flaky.clone(), pages.clone());
            std::thread::spawn(move || serve(stream, &tx, &flaky, &pages));
        }
    });
    FaultSite { port, ready }
}

fn serve(
    mut stream: TcpStream,
    ready: &mpsc::Sender<()>,
    flaky: &AtomicUsize,
    pages: &HashMap<&str, String>,
) {
    let mut buf = [0u8; 8192];
    let Ok(n) = stream.read(&mut buf) else { return };
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let answer = |stream: &mut TcpStream, status: &str, body: &str| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
             cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    };
    // Holds the connection open, answering nothing more, until the browser gives up.
    let hold = |stream: &mut TcpStream| {
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    };
    match path.as_str() {
        "/hang" => hold(&mut stream),
        "/partial" => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100000\r\n\r\n\
                 <html><body><h1>loading forever"
            );
            hold(&mut stream);
        }
        "/500" => answer(&mut stream, "500 Internal Server Error", "<h1>broken</h1>"),
        "/flaky" => {
            if flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                answer(&mut stream, "500 Internal Server Error", "<h1>once</h1>");
            } else {
                answer(&mut stream, "200 OK", &pages["plain"]);
            }
        }
        "/ready" => {
            let _ = ready.send(());
            answer(&mut stream, "200 OK", "ok");
        }
        p => match pages.get(p.trim_start_matches('/')) {
            Some(body) => answer(&mut stream, "200 OK", body),
            None => answer(&mut stream, "404 Not Found", "no"),
        },
    }
}

/// A spec folder (a repository of its own) holding `specs`.
fn spec_folder(specs: &[(&str, String)]) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
    let dir = tmp.path().join("specs");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in specs {
        std::fs::write(dir.join(format!("{name}.yaml")), text).unwrap();
    }
    let pattern = format!("{}/*.yaml", dir.display());
    (tmp, pattern)
}

fn site_spec(port: u16, path: &str, extra: &str, states: &str) -> String {
    format!("site: {{url: 'http://127.0.0.1:{port}{path}'}}\n{TIMING}\n{extra}\nstates:\n{states}")
}

fn message(r: &consent_gates::outcome::TrialResult) -> String {
    r.failures
        .iter()
        .map(|f| f.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Chromium browser processes (not their helpers) among this process's descendants.
fn chromium_browsers() -> Vec<u32> {
    descendant_pids(std::process::id())
        .into_iter()
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            cmd.contains("chrom") && !cmd.contains("--type=")
        })
        .collect()
}

/// One test, run in order: the faults share this process's browser, and one of them kills it.
#[test]
fn faults_give_an_error_each_and_the_run_goes_on() {
    let site = start_site();
    let port = site.port;
    let expect = "  s:\n    expect: {collection: none}\n";
    let (_tmp, pattern) = spec_folder(&[
        ("never-answers", site_spec(port, "/hang", "", expect)),
        ("answers-500", site_spec(port, "/500", "", expect)),
        ("never-loads", site_spec(port, "/partial", "", expect)),
        (
            "page-throws",
            site_spec(
                port,
                "/throws",
                "",
                "  s:\n    expect: {collection: none}\n  eval-throws:\n    steps: [{eval: \"null.boom()\"}]\n    expect: {collection: none}\n",
            ),
        ),
        (
            "out-of-time",
            // The visitor's browsing is off: the bound must run out in the step, not before it.
            site_spec(
                port,
                "/plain",
                "visitor: {scroll: false, pointer: false}",
                "  s:\n    steps: [{wait_for: '#never-there'}]\n    expect: {collection: none}\n",
            )
            // Room for the first page on a loaded machine (the recording starts before it); the
            // wait then runs the trial out of time inside the step.
            .replace("step_ms: 1000", "step_ms: 60000, trial_ms: 12000"),
        ),
        (
            "click-hangs",
            site_spec(
                port,
                "/leaves",
                "",
                "  s:\n    steps: [{click: '#away'}]\n    expect: {collection: none}\n",
            )
            // Time for the link to show on a busy machine; the click then waits as long.
            .replace("step_ms: 1000", "step_ms: 4000"),
        ),
        ("flaky", site_spec(port, "/flaky", "retries: 2", expect)),
        ("steady", site_spec(port, "/plain", "", expect)),
    ]);
    let started = Instant::now();
    let (results, _snaps) = common::judge(&pattern, |_| true);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "faults are detected quickly"
    );

    let error_naming = |name: &str, words: &[&str]| {
        let r = result(&results, name);
        assert_eq!(r.verdict, Verdict::Error, "{name}: {r:#?}");
        assert!(r.failures.iter().all(|f| f.check == CheckId::Error));
        let m = message(r);
        for w in words {
            assert!(m.contains(w), "{name}: the error mentions {w:?}: {m}");
        }
    };
    error_naming(
        "never-answers::s",
        &["did not load", &format!("127.0.0.1:{port}/hang")],
    );
    error_naming("answers-500::s", &["did not load", "HTTP 500"]);
    error_naming("never-loads::s", &["did not load", "/partial"]);
    error_naming("page-throws::eval-throws", &["step 1", "eval", "threw"]);
    // The link was there and clicked: not a step that matched nothing, but what the page did.
    error_naming(
        "click-hangs::s",
        &["step 1", "\"#away\" ran", "never completed"],
    );
    error_naming(
        "out-of-time::s",
        &["12000 ms", "running step 1 (wait_for \"#never-there\")"],
    );
    // A page whose own scripts throw is judged like any other page.
    assert_eq!(
        result(&results, "page-throws::s").verdict,
        Verdict::Pass,
        "{:#?}",
        result(&results, "page-throws::s")
    );
    let flaky = result(&results, "flaky::s");
    assert_eq!(flaky.verdict, Verdict::Pass, "{flaky:#?}");
    assert!(flaky.flaky && flaky.attempts == 2, "{flaky:#?}");
    let steady = result(&results, "steady::s");
    assert!(steady.verdict == Verdict::Pass && !steady.flaky && steady.attempts == 1);

    // Chromium dies mid-run: the running trial errors, the browser is relaunched, the next runs.
    while site.ready.try_recv().is_ok() {}
    let (_tmp2, pattern) = spec_folder(&[(
        "dies",
        site_spec(
            port,
            "/wait",
            "",
            "  a-killed:\n    steps: [{wait_for: '#never-there'}]\n    expect: {collection: none}\n  b-after:\n    expect: {collection: none}\n",
        )
        .replace("step_ms: 1000", "step_ms: 30000, trial_ms: 40000"),
    )]);
    let ready = site.ready;
    let killer = std::thread::spawn(move || {
        ready
            .recv_timeout(Duration::from_secs(30))
            .expect("the page said it is running");
        let browsers = chromium_browsers();
        assert!(!browsers.is_empty(), "a Chromium runs");
        for pid in &browsers {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
        }
        browsers
    });
    let started = Instant::now();
    let results = consent_gates::runner::harness::judge(
        &consent_gates::runner::harness::Options {
            specs: pattern,
            snapshots: Some(_tmp2.path().join("snapshots")),
            table: false,
            out: None,
        },
        |_| true,
        1,
    );
    let killed = killer.join().expect("killer");
    let a = result(&results, "dies::a-killed");
    assert_eq!(a.verdict, Verdict::Error, "{a:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the dead browser is noticed at once, not at the step's 30 s bound"
    );
    let b = result(&results, "dies::b-after");
    assert_eq!(
        b.verdict,
        Verdict::Pass,
        "the browser was relaunched: {b:#?}"
    );
    let now = chromium_browsers();
    assert!(
        !now.is_empty() && now.iter().all(|p| !killed.contains(p)),
        "a new Chromium: {killed:?} → {now:?}"
    );
}

#[test]
fn ctrl_c_leaves_no_chromium_or_driver_behind() {
    use std::os::unix::process::CommandExt;

    let site = start_site();
    let (tmp, pattern) = spec_folder(&[(
        "interrupted",
        site_spec(
            site.port,
            "/wait",
            "",
            "  s:\n    steps: [{wait_for: '#never-there'}]\n    expect: {collection: none}\n",
        )
        .replace("step_ms: 1000", "step_ms: 60000, trial_ms: 90000"),
    )]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_consent-gates"))
        .args(["test", "--specs", &pattern, "--snapshots"])
        .arg(tmp.path().join("snapshots"))
        .env("CONSENT_GATES_OUT", tmp.path().join("out"))
        .env("CI", "true")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        // Its own process group, as a shell job would be (and so our group gets no signal).
        .process_group(0)
        .spawn()
        .expect("spawn consent-gates");
    site.ready
        .recv_timeout(Duration::from_secs(60))
        .expect("the trial is running");
    let descendants = descendant_pids(child.id());
    let names: Vec<String> = descendants
        .iter()
        .map(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("node")) && names.iter().any(|n| n.contains("chrom")),
        "driver and Chromium run under the child: {names:?}"
    );
    // Ctrl-C in a terminal signals the foreground process group.
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGINT) };
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the run stops on Ctrl-C");
    let status = waiter.join().unwrap().expect("status");
    assert!(!status.success(), "an interrupted run does not pass");
    let left: Vec<(u32, String)> = descendants
        .iter()
        .zip(&names)
        .filter(|(pid, _)| !exited_within(**pid, Duration::from_secs(5)))
        .map(|(pid, n)| (*pid, n.trim().to_string()))
        .collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
}
