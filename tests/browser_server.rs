//! Browsers outside the test process: the browser server shared by the processes of one run
//! (cargo-nextest) and a remote Playwright `run-server` (`CONSENT_GATES_BROWSER_WS`).
//!
//! `Shared` reads its environment once per process, so each trial runs in a child process: this
//! test binary re-executed with the ignored test [`child_trial`] selected.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use consent_gates::browser::launch::descendant_pids;
use consent_gates::outcome::Verdict;

mod common;

use common::exited_within;

/// Set in the children: what they are for.
const CHILD_ENV: &str = "CONSENT_GATES_TEST_CHILD";

/// Runs `shop::reject-all` in this process; only in a child started by [`run_child`].
#[test]
#[ignore = "run in a child process by the other tests of this file"]
fn child_trial() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let (results, _snapshots) = common::judge("specs/shop.yaml", |n| n == "shop::reject-all");
    let r = common::result(&results, "shop::reject-all");
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.failures);
}

/// This binary, re-run with only [`child_trial`], in the crate folder, with `env` added.
fn run_child(env: &[(&str, &str)]) {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.args(["child_trial", "--exact", "--ignored", "--nocapture"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(CHILD_ENV, "1")
        .env_remove("CONSENT_GATES_BROWSER_WS")
        .env_remove("CONSENT_GATES_SHARED_BROWSER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the child");
    assert!(
        out.status.success(),
        "the child trial failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("the endpoint file")).expect("json")
}

/// Waits until the server `pid` and the processes under it (Chromium) have exited by themselves.
fn assert_ends_alone(pid: u32) {
    let under = descendant_pids(pid);
    assert!(
        under.iter().any(|p| comm(*p).contains("chrom")),
        "Chromium runs under the shared server: {:?}",
        under.iter().map(|p| comm(*p)).collect::<Vec<_>>()
    );
    assert!(
        exited_within(pid, Duration::from_secs(30)),
        "the shared server {pid} did not exit after its idle period"
    );
    let left: Vec<(u32, String)> = under
        .iter()
        .filter(|p| !exited_within(**p, Duration::from_secs(10)))
        .map(|p| (*p, comm(*p)))
        .collect();
    assert!(
        left.is_empty(),
        "left behind by the shared server: {left:?}"
    );
}

#[test]
fn processes_of_one_run_share_one_browser_server_that_ends_alone() {
    let run = format!("browser-server-test-{}", std::process::id());
    let env = [
        ("NEXTEST_RUN_ID", run.as_str()),
        ("CONSENT_GATES_SHARED_BROWSER", "1"),
        ("CONSENT_GATES_SHARED_BROWSER_IDLE_MS", "4000"),
    ];
    // specs/shop.yaml is offline: the key of a server launched for offline specs.
    let path = consent_gates::browser::server::record_path(&run, true).expect("record path");
    std::fs::create_dir_all(path.parent().unwrap()).expect("state folder");
    // A stale endpoint: its server is gone (a process that has exited and been reaped).
    let mut gone = Command::new("true").spawn().expect("spawn true");
    let gone_pid = gone.id();
    gone.wait().expect("wait");
    let stale =
        serde_json::json!({"run": run, "pid": gone_pid, "ws_endpoint": "ws://127.0.0.1:9/gone"});
    std::fs::write(&path, stale.to_string()).expect("write the stale endpoint");

    run_child(&env);
    let first = read_json(&path);
    assert_ne!(first, stale, "the stale endpoint was replaced");
    let pid = first["pid"].as_u64().expect("pid") as u32;
    run_child(&env);
    assert_eq!(
        first,
        read_json(&path),
        "the second process reused the first's server"
    );
    let log = std::fs::read_to_string(path.with_extension("log")).expect("server log");
    assert_eq!(log.matches("listening on").count(), 1, "one launch:\n{log}");
    assert_eq!(
        log.matches("client connected").count(),
        2,
        "two clients:\n{log}"
    );
    assert_ends_alone(pid);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("log"));
}

/// A free TCP port on the loopback interface.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn a_remote_run_server_runs_a_trial() {
    use std::os::unix::process::CommandExt;
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.playwright-driver");
    let port = free_port();
    let mut server = Command::new(driver.join("node"))
        .arg(driver.join("package/cli.js"))
        .args([
            "run-server",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        // Lets the client choose the executable and flags (x-playwright-launch-options).
        .arg("--unsafe")
        .env("DEBUG", "pw:server")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start playwright run-server");
    let stderr = server.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("run-server listens");
        if line.contains("Listening at") {
            break;
        }
    }
    let endpoint = format!("ws://127.0.0.1:{port}/?browser=chromium");
    let under = std::panic::catch_unwind(|| {
        run_child(&[("CONSENT_GATES_BROWSER_WS", endpoint.as_str())]);
    });
    // run-server has no clean stop for a scripted caller (SIGTERM only closes its browsers, SIGINT
    // is ignored): kill its process group; Chromium, in a group of its own, exits when its pipe to
    // the server closes (and the server already closed the browser when our client left).
    let browsers = descendant_pids(server.id());
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(-(server.id() as libc::pid_t), libc::SIGKILL) };
    let _ = server.wait();
    let left: Vec<u32> = browsers
        .iter()
        .copied()
        .filter(|p| !exited_within(*p, Duration::from_secs(10)))
        .collect();
    let log = reader.join().expect("log");
    if let Err(panic) = under {
        std::panic::resume_unwind(panic);
    }
    assert!(left.is_empty(), "processes left by run-server: {left:?}");
    assert!(
        log.contains("serving connection: /?browser=chromium")
            && log.contains("engaged launch mode for \"chromium\""),
        "run-server served our connection:\n{log}"
    );
}
