//! One Chromium per process, launched on first use and shared by every trial.
//!
//! playwright-rs objects are bound to the tokio runtime that created them, so the runtime and the
//! browser live together in one process-wide [`Shared`] value.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use playwright_rs::{Browser, LaunchOptions, Playwright};

use super::SessionError;

/// Where Debian installs Chromium; `CONSENT_GATES_CHROMIUM` overrides it.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// The command that installs everything a run needs.
pub const SETUP_COMMAND: &str = "./scripts/setup";

/// The process-wide runtime and browser.
pub struct Shared {
    runtime: tokio::runtime::Runtime,
    browser: OnceLock<Result<(Playwright, Browser), SessionError>>,
    offline_only: bool,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

impl Shared {
    /// The process-wide instance. `offline_only` (all specs offline) is fixed by the first call:
    /// it decides whether Chromium may resolve host names at all.
    pub fn get(offline_only: bool) -> &'static Shared {
        SHARED.get_or_init(|| Shared {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("cannot start the tokio runtime: {e}")),
            browser: OnceLock::new(),
            offline_only,
        })
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// The shared browser, launched on first call. A failed launch is remembered and reported to
    /// every trial instead of being retried per trial.
    pub fn browser(&self) -> Result<Browser, SessionError> {
        let launched = self
            .browser
            .get_or_init(|| self.runtime.block_on(launch(self.offline_only)));
        match launched {
            Ok((_, browser)) => Ok(browser.clone()),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Chromium flags for a hermetic, visitor-like browser.
pub fn chromium_args(offline_only: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "--no-sandbox",
        // Without this, navigator.webdriver is true and CMPs hide their banners from "bots".
        "--disable-blink-features=AutomationControlled",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-gpu",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if offline_only {
        // Routing answers every request, but Chromium would still send DNS look-ups.
        args.push("--host-resolver-rules=MAP * ~NOTFOUND".to_string());
    }
    args
}

/// Path of the Chromium binary to drive.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CONSENT_GATES_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM))
}

/// The driver folder the set-up script lays out, when `PLAYWRIGHT_DRIVER_PATH` is not set (a
/// test binary run by hand does not get `.cargo/config.toml`'s `[env]`).
pub fn default_driver_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::current_dir()
            .ok()
            .map(|d| d.join("node_modules/.playwright-driver")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.playwright-driver")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("package/cli.js").is_file())
}

/// The npm `playwright-core` must be exactly the version playwright-rs speaks to.
fn check_driver_version(driver: &Path) -> Result<(), SessionError> {
    let manifest = driver.join("package/package.json");
    let text = std::fs::read_to_string(&manifest).map_err(|e| SessionError::Io {
        path: manifest.display().to_string(),
        message: e.to_string(),
    })?;
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("version")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    if version != playwright_rs::PLAYWRIGHT_VERSION {
        return Err(SessionError::Setup(format!(
            "the Playwright driver at {} is playwright-core {version}, but playwright-rs needs \
             exactly {}: pin it in package.json and run `{SETUP_COMMAND}`",
            driver.display(),
            playwright_rs::PLAYWRIGHT_VERSION
        )));
    }
    Ok(())
}

async fn launch(offline_only: bool) -> Result<(Playwright, Browser), SessionError> {
    let chromium = chromium_path();
    if !chromium.is_file() {
        return Err(SessionError::Setup(format!(
            "Chromium not found at {}: run `{SETUP_COMMAND}` (it installs Debian's chromium), \
             or set CONSENT_GATES_CHROMIUM to a Chromium binary",
            chromium.display()
        )));
    }
    let driver = std::env::var_os("PLAYWRIGHT_DRIVER_PATH").map(PathBuf::from);
    match &driver {
        Some(d) if !d.join("package/cli.js").is_file() => {
            return Err(SessionError::Setup(format!(
                "PLAYWRIGHT_DRIVER_PATH={} holds no package/cli.js: run `{SETUP_COMMAND}`",
                d.display()
            )));
        }
        Some(d) => check_driver_version(d)?,
        None => {
            return Err(SessionError::Setup(format!(
                "the Playwright driver was not found: run `{SETUP_COMMAND}`, then run through \
                 cargo (which sets PLAYWRIGHT_DRIVER_PATH from .cargo/config.toml), or set \
                 PLAYWRIGHT_DRIVER_PATH=<repo>/node_modules/.playwright-driver"
            )));
        }
    }
    let playwright = Playwright::launch().await.map_err(|e| {
        SessionError::Setup(format!(
            "cannot start the Playwright driver: {e}; run `{SETUP_COMMAND}`"
        ))
    })?;
    let options = LaunchOptions::new()
        .executable_path(chromium.display().to_string())
        .headless(true)
        .chromium_sandbox(false)
        .args(chromium_args(offline_only));
    let browser = playwright
        .chromium()
        .launch_with_options(options)
        .await
        .map_err(|e| {
            SessionError::Setup(format!(
                "cannot launch Chromium at {}: {e}; run `{SETUP_COMMAND}`",
                chromium.display()
            ))
        })?;
    Ok((playwright, browser))
}
