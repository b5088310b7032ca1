//! Browsers that live outside this process: a Playwright browser server shared by the test
//! processes of one run, or a remote one.
//!
//! - **Shared** (under cargo-nextest, which runs every trial in its own process, in a harness that
//!   called [`share_under_nextest`] — the harness does —, or anywhere with
//!   `CONSENT_GATES_SHARED_BROWSER=1`; `=0` turns it off): the first process of a run starts
//!   `scripts/browser-server.mjs` (Playwright's `chromium.launchServer`, detached in its own process
//!   group) and records its endpoint in `<target>/consent-gates-browser/<key>.json`, under a lock;
//!   the others connect to it. The key is the run (`NEXTEST_RUN_ID`) plus a hash of the launch
//!   configuration (Chromium path and flags). The server exits by itself once no client has been
//!   connected for a short idle period (`CONSENT_GATES_SHARED_BROWSER_IDLE_MS`, default 5000); an
//!   endpoint whose server is gone (dead process, refused connection) is replaced.
//! - **Remote** (`CONSENT_GATES_BROWSER_WS=<ws endpoint>`): connects to an existing Playwright
//!   server (`launchServer`, `playwright run-server`, Browserless, …). For `run-server`, whose
//!   client picks the browser (`?browser=chromium` in the URL), the launch options (our Chromium
//!   and flags) go in the `x-playwright-launch-options` header (the server needs `--unsafe` to
//!   accept them); `CONSENT_GATES_BROWSER_WS_LAUNCH=0` never sends them, `=1` always.
//!
//! Both connect over Playwright's WebSocket protocol directly, without starting a local driver.
//! Routing is per browser context, so a remote browser answers every request exactly as a local
//! one; Chromium flags such as `--host-resolver-rules` only apply where we choose the launch
//! options (our own launch, the shared server, `run-server` with the header).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use playwright_rs::Browser;
use playwright_rs::server::connection::{Connection, ConnectionExt};
use playwright_rs::server::transport::WebSocketTransport;

use super::chromium::{Sandbox, chromium_args, chromium_path, sandbox, warn_unsandboxed};
use super::error::{SETUP_COMMAND, SessionError};

/// `1`: share one browser server between processes even outside nextest.
pub(crate) const SHARED_ENV: &str = "CONSENT_GATES_SHARED_BROWSER";
/// How long the shared server waits without clients before it exits (milliseconds).
pub(crate) const IDLE_ENV: &str = "CONSENT_GATES_SHARED_BROWSER_IDLE_MS";
/// A remote Playwright server's WebSocket endpoint: connect to it instead of launching.
pub(crate) const REMOTE_ENV: &str = "CONSENT_GATES_BROWSER_WS";
/// `0`: never send launch options to the remote server; `1`: always; unset: when its URL has
/// `?browser=` (Playwright's `run-server`).
pub(crate) const REMOTE_LAUNCH_ENV: &str = "CONSENT_GATES_BROWSER_WS_LAUNCH";
/// The header in which Playwright's `run-server` takes the client's launch options.
pub(crate) const LAUNCH_OPTIONS_HEADER: &str = "x-playwright-launch-options";

/// The browser server script, run with `node --input-type=module -e`.
const SCRIPT: &str = include_str!("../../scripts/browser-server.mjs");
const DEFAULT_IDLE_MS: u64 = 5_000;
/// Bound on the WebSocket handshake plus Playwright's initialisation.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on a server's start (Node, then Chromium).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Set by [`share_under_nextest`].
static NEXTEST_SHARING: AtomicBool = AtomicBool::new(false);

/// Lets a run under cargo-nextest (`NEXTEST_RUN_ID` set) share one browser server between its
/// processes. The spec harness turns it on; the tool's own tests, which kill and inspect their
/// browser, stay on a browser of their own.
pub(crate) fn share_under_nextest() {
    NEXTEST_SHARING.store(true, Ordering::SeqCst);
}

/// Where the browser comes from, decided by the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Launched by this process through its own Playwright driver (`cargo test`).
    Local,
    /// A browser server shared by the processes of run `run`.
    Shared { run: String },
    /// A remote Playwright server.
    Remote { endpoint: String },
}

impl Source {
    pub(crate) fn from_env() -> Source {
        Source::from_vars(NEXTEST_SHARING.load(Ordering::SeqCst), |k| {
            std::env::var(k).ok()
        })
    }

    fn from_vars(under_nextest: bool, var: impl Fn(&str) -> Option<String>) -> Source {
        if let Some(endpoint) = var(REMOTE_ENV).filter(|v| !v.trim().is_empty()) {
            return Source::Remote {
                endpoint: endpoint.trim().to_string(),
            };
        }
        let run = var("NEXTEST_RUN_ID").filter(|v| !v.is_empty());
        let auto = under_nextest && run.is_some();
        match var(SHARED_ENV).as_deref() {
            Some("0") => Source::Local,
            Some("1") => Source::Shared {
                run: run.unwrap_or_else(|| "manual".into()),
            },
            _ if auto => Source::Shared {
                run: run.unwrap_or_default(),
            },
            _ => Source::Local,
        }
    }
}

/// A browser reached over a WebSocket, and whether that connection is still open (playwright-rs
/// does not mark the browser disconnected when the socket closes).
#[derive(Clone)]
pub(crate) struct Connected {
    pub(crate) browser: Browser,
    open: Arc<AtomicBool>,
}

impl Connected {
    pub(crate) fn is_connected(&self) -> bool {
        self.open.load(Ordering::SeqCst) && self.browser.is_connected()
    }
}

/// Connects to the Playwright server at `endpoint` over its WebSocket protocol and returns the
/// browser it serves (a `launchServer` browser, or the one `run-server` launches for this
/// connection), without a local driver. Call inside the runtime that will use the browser.
pub(crate) async fn connect(
    endpoint: &str,
    headers: Option<HashMap<String, String>>,
) -> Result<Connected, SessionError> {
    let failed = |e: String| SessionError::Setup(format!("cannot connect to {endpoint}: {e}"));
    let (transport, messages) = tokio::time::timeout(
        CONNECT_TIMEOUT,
        WebSocketTransport::connect(endpoint, headers),
    )
    .await
    .map_err(|_| failed(format!("no answer within {CONNECT_TIMEOUT:?}")))?
    .map_err(|e| failed(e.to_string()))?;
    let (sender, receiver) = transport.into_parts();
    let connection = Arc::new(Connection::new(sender, receiver, messages));
    let open = Arc::new(AtomicBool::new(true));
    {
        let (connection, open) = (connection.clone(), open.clone());
        tokio::spawn(async move {
            connection.run().await;
            open.store(false, Ordering::SeqCst);
        });
    }
    let playwright = tokio::time::timeout(CONNECT_TIMEOUT, connection.initialize_playwright())
        .await
        .map_err(|_| failed(format!("no Playwright greeting within {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| failed(e.to_string()))?;
    let guid = playwright.initializer()["preLaunchedBrowser"]["guid"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| {
            failed(
                "the server offers no browser (for `playwright run-server`, add `?browser=chromium` \
                 to the URL)"
                    .into(),
            )
        })?;
    let browser = connection
        .get_typed::<Browser>(&guid)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(Connected { browser, open })
}

/// The launch options a remote server gets in [`LAUNCH_OPTIONS_HEADER`]: our Chromium and flags.
pub(crate) fn launch_options(offline_only: bool) -> Result<serde_json::Value, SessionError> {
    Ok(serde_json::json!({
        "executablePath": chromium_path().display().to_string(),
        "args": chromium_args(offline_only)?,
        "headless": true,
        "chromiumSandbox": false,
    }))
}

/// Whether to send [`launch_options`] to `endpoint` (see [`REMOTE_LAUNCH_ENV`]).
pub(crate) fn sends_launch_options(endpoint: &str, setting: Option<&str>) -> bool {
    match setting {
        Some("0") => false,
        Some("1") => true,
        _ => endpoint
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|kv| kv.starts_with("browser="))),
    }
}

/// Connects to the remote server of [`REMOTE_ENV`].
pub(crate) async fn connect_remote(
    endpoint: &str,
    offline_only: bool,
) -> Result<Connected, SessionError> {
    let setting = std::env::var(REMOTE_LAUNCH_ENV).ok();
    let headers = if sends_launch_options(endpoint, setting.as_deref()) {
        Some(HashMap::from([(
            LAUNCH_OPTIONS_HEADER.to_string(),
            launch_options(offline_only)?.to_string(),
        )]))
    } else {
        None
    };
    connect(endpoint, headers).await
}

/// What the shared server's endpoint file records.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    run: String,
    pid: u32,
    ws_endpoint: String,
}

/// The folder of the shared servers' endpoint, lock and log files.
pub(crate) fn state_dir() -> PathBuf {
    crate::paths::target_dir().join("consent-gates-browser")
}

/// Connects to the browser server shared by the processes of `run`, starting it when it is not
/// running (or its endpoint is stale). Everything happens under an exclusive lock on the folder's
/// `lock` file, so one process starts the server and the others connect to it.
pub(crate) fn shared(
    runtime: &tokio::runtime::Runtime,
    run: &str,
    offline_only: bool,
) -> Result<Connected, SessionError> {
    let dir = state_dir();
    let io = |path: &Path, e: std::io::Error| SessionError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let config = ServerConfig::new(offline_only)?;
    let key = key(run, &config);
    // One lock for every key: the folder's clean-up happens under it too.
    let lock_path = dir.join("lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| io(&lock_path, e))?;
    // The holder's work is bounded (connect, or start + connect), and the lock is released when
    // its process dies.
    lock.lock().map_err(|e| io(&lock_path, e))?;
    let record_path = dir.join(format!("{key}.json"));
    if let Some(record) = read_record(&record_path)
        && record.run == run
        && alive(record.pid)
        && let Ok(connected) = runtime.block_on(connect(&record.ws_endpoint, None))
    {
        return Ok(connected);
    }
    remove_stale(&dir, &key);
    let log_path = dir.join(format!("{key}.log"));
    let record = start(&config, run, &log_path)?;
    let text = serde_json::to_string(&record).unwrap_or_default();
    let tmp = dir.join(format!("{key}.json.tmp"));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &record_path))
        .map_err(|e| io(&record_path, e))?;
    runtime.block_on(connect(&record.ws_endpoint, None))
}

/// The file naming the shared server of `run` (for this process's Chromium and flags): JSON with
/// `run`, `pid` and `ws_endpoint`; `.log` beside it is the server's log.
pub fn record_path(run: &str, offline_only: bool) -> Result<PathBuf, SessionError> {
    let config = ServerConfig::new(offline_only)?;
    Ok(state_dir().join(format!("{}.json", key(run, &config))))
}

fn key(run: &str, config: &ServerConfig) -> String {
    format!("{}-{:016x}", file_safe(run), config.fingerprint())
}

/// What the browser server script gets.
#[derive(Debug, serde::Serialize)]
struct ServerConfig {
    #[serde(skip)]
    node: PathBuf,
    package: PathBuf,
    #[serde(rename = "executablePath")]
    executable_path: PathBuf,
    args: Vec<String>,
    /// Chromium's sandbox, where this machine allows it (the script falls back to none when
    /// Chromium cannot start with it).
    #[serde(rename = "chromiumSandbox")]
    chromium_sandbox: bool,
    #[serde(rename = "idleMs")]
    idle_ms: u64,
    #[serde(skip)]
    offline_only: bool,
}

impl ServerConfig {
    fn new(offline_only: bool) -> Result<ServerConfig, SessionError> {
        let driver = std::env::var_os("PLAYWRIGHT_DRIVER_PATH")
            .map(PathBuf::from)
            .or_else(super::chromium::default_driver_dir)
            .ok_or_else(|| {
                SessionError::Setup(format!(
                    "the Playwright driver (for the shared browser server) was not found: run \
                     `{SETUP_COMMAND}`, or set PLAYWRIGHT_DRIVER_PATH=<repo>/node_modules/.playwright-driver"
                ))
            })?;
        super::chromium::check_driver_version(&driver)?;
        let chromium = chromium_path();
        if !chromium.is_file() {
            return Err(SessionError::Setup(format!(
                "Chromium not found at {}: run `{SETUP_COMMAND}`, or set CONSENT_GATES_CHROMIUM",
                chromium.display()
            )));
        }
        let node = driver.join("node");
        Ok(ServerConfig {
            node: if node.exists() { node } else { "node".into() },
            package: std::path::absolute(driver.join("package"))
                .unwrap_or_else(|_| driver.join("package")),
            executable_path: chromium,
            args: chromium_args(offline_only)?,
            chromium_sandbox: sandbox().is_on(),
            offline_only,
            idle_ms: std::env::var(IDLE_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_IDLE_MS),
        })
    }

    /// FNV-1a of what makes two servers interchangeable (stable across builds, unlike
    /// `DefaultHasher`).
    fn fingerprint(&self) -> u64 {
        let text = format!(
            "{}\0{}\0{}\0{}",
            self.package.display(),
            self.executable_path.display(),
            self.args.join("\0"),
            self.chromium_sandbox
        );
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// Starts the server script detached (own process group, no inherited stdout/stderr: nextest
/// would wait on them) and reads the endpoint it prints.
fn start(config: &ServerConfig, run: &str, log_path: &Path) -> Result<Record, SessionError> {
    use std::os::unix::process::CommandExt;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(|e| SessionError::Io {
            path: log_path.display().to_string(),
            message: e.to_string(),
        })?;
    let config_json = serde_json::to_string(config).unwrap_or_default();
    let mut child = Command::new(&config.node)
        .args(["--input-type=module", "-e", SCRIPT])
        .env("CONSENT_GATES_BROWSER_SERVER_CONFIG", config_json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .process_group(0)
        .spawn()
        .map_err(|e| {
            SessionError::Setup(format!(
                "cannot start the shared browser server with {}: {e}; run `{SETUP_COMMAND}`",
                config.node.display()
            ))
        })?;
    let stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if let Some(out) = stdout {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_default();
    let (Some(ws), Some(pid)) = (
        answer["wsEndpoint"].as_str(),
        answer["pid"].as_u64().and_then(|p| u32::try_from(p).ok()),
    ) else {
        kill_group(child.id());
        let _ = child.wait();
        let why = answer["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("no endpoint within {START_TIMEOUT:?}"));
        return Err(SessionError::Setup(format!(
            "the shared browser server did not start: {why} (log: {}); run `{SETUP_COMMAND}`, or \
             set {SHARED_ENV}=0 to launch Chromium in every process",
            log_path.display()
        )));
    };
    match sandbox() {
        Sandbox::Off(why) => warn_unsandboxed(why, config.offline_only),
        Sandbox::On if answer["sandboxed"] == serde_json::Value::Bool(false) => {
            warn_unsandboxed(
                "Chromium could not start with its sandbox on this machine",
                config.offline_only,
            );
        }
        Sandbox::On => {}
    }
    // Reap it when it exits (it usually outlives this process, then init does).
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(Record {
        run: run.to_string(),
        pid,
        ws_endpoint: ws.to_string(),
    })
}

fn read_record(path: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Whether `pid` is a running process (not a zombie).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Removes endpoint and log files of other keys whose server is gone (earlier runs).
fn remove_stale(dir: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem == keep || path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        if read_record(&path).is_none_or(|r| !alive(r.pid)) {
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(path.with_extension("log"));
        }
    }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// `run` reduced to characters safe in a file name.
fn file_safe(run: &str) -> String {
    run.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(vars: &[(&str, &str)]) -> Source {
        source_in(true, vars)
    }

    fn source_in(harness: bool, vars: &[(&str, &str)]) -> Source {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Source::from_vars(harness, |k| vars.get(k).cloned())
    }

    #[test]
    fn source_follows_the_environment() {
        assert_eq!(source(&[]), Source::Local);
        assert_eq!(
            source(&[("NEXTEST_RUN_ID", "r1")]),
            Source::Shared { run: "r1".into() }
        );
        assert_eq!(
            source(&[("NEXTEST_RUN_ID", "r1"), (SHARED_ENV, "0")]),
            Source::Local
        );
        // Outside the spec harness, nextest alone does not share.
        assert_eq!(source_in(false, &[("NEXTEST_RUN_ID", "r1")]), Source::Local);
        assert_eq!(
            source_in(false, &[("NEXTEST_RUN_ID", "r1"), (SHARED_ENV, "1")]),
            Source::Shared { run: "r1".into() }
        );
        assert_eq!(
            source(&[(SHARED_ENV, "1")]),
            Source::Shared {
                run: "manual".into()
            }
        );
        assert_eq!(
            source(&[("NEXTEST_RUN_ID", "r1"), (REMOTE_ENV, "ws://h:1/")]),
            Source::Remote {
                endpoint: "ws://h:1/".into()
            }
        );
    }

    #[test]
    fn launch_options_go_to_run_server_urls() {
        assert!(sends_launch_options(
            "ws://127.0.0.1:3000/?browser=chromium",
            None
        ));
        assert!(!sends_launch_options("ws://127.0.0.1:3000/abc", None));
        assert!(!sends_launch_options(
            "ws://127.0.0.1:3000/?browser=chromium",
            Some("0")
        ));
        assert!(sends_launch_options("wss://fleet/x?token=t", Some("1")));
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("a1b2-c3/../x"), "a1b2-c3____x");
    }
}
