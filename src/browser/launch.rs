//! One Chromium per process, launched on first use and shared by every trial.
//!
//! playwright-rs objects are bound to the tokio runtime that created them, so the runtime and the
//! browser live together in one process-wide [`Shared`] value. Under cargo-nextest (one process
//! per trial) the processes of a run share one browser server instead, and
//! `CONSENT_GATES_BROWSER_WS` connects to a remote one: see [`super::server`].

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use playwright_rs::{Browser, LaunchOptions, Playwright};

use super::chromium::{
    Sandbox, check_driver_version, chromium_args, chromium_path, sandbox, warn_unsandboxed,
};
use super::error::{SETUP_COMMAND, SessionError};
use super::server::{self, Connected, Source};

/// How long the driver gets to close Chromium cleanly before its processes are killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The process-wide runtime and browser.
pub struct Shared {
    runtime: tokio::runtime::Runtime,
    browser: Mutex<Slot>,
    offline_only: bool,
}

/// The state of the shared browser.
enum Slot {
    NotLaunched,
    /// Launched by this process through its own driver.
    Up {
        playwright: Box<Playwright>,
        browser: Browser,
    },
    /// Reached over a WebSocket: the run's shared browser server, or a remote one.
    Connected(Connected),
    /// A failed launch is remembered and reported to every later trial, not retried per trial.
    Failed(SessionError),
}

impl Slot {
    fn browser(&self) -> Option<Browser> {
        match self {
            Slot::Up { browser, .. } => Some(browser.clone()),
            Slot::Connected(c) => Some(c.browser.clone()),
            Slot::NotLaunched | Slot::Failed(_) => None,
        }
    }
}

static SHARED: OnceLock<Shared> = OnceLock::new();

impl Shared {
    /// The process-wide instance. `offline_only` (all specs offline) is fixed by the first call:
    /// it decides whether Chromium may resolve host names at all.
    pub fn get(offline_only: bool) -> &'static Shared {
        SHARED.get_or_init(|| {
            let shared = Shared {
                runtime: tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("cannot start the tokio runtime: {e}")),
                browser: Mutex::new(Slot::NotLaunched),
                offline_only,
            };
            shared.runtime.spawn(clean_up_on_interrupt());
            shared
        })
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// The shared browser, launched on first call and relaunched when it has died or
    /// disconnected (the trial that was using it reports `error`; the next ones get a fresh
    /// browser). A failed launch is remembered and reported to every trial instead of being
    /// retried per trial.
    pub fn browser(&self) -> Result<Browser, SessionError> {
        let mut slot = self.browser.lock().unwrap_or_else(|p| p.into_inner());
        match &*slot {
            Slot::Up { browser, .. } if browser.is_connected() => return Ok(browser.clone()),
            Slot::Connected(c) if c.is_connected() => return Ok(c.browser.clone()),
            Slot::Failed(e) => return Err(e.clone()),
            _ => {}
        }
        if let Slot::Up { playwright, .. } = std::mem::replace(&mut *slot, Slot::NotLaunched) {
            // The browser died (crash, killed, closed): stop its driver before relaunching.
            self.runtime.block_on(async {
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, playwright.shutdown()).await;
            });
            let _guard = self.runtime.enter();
            drop(playwright);
        }
        let launched = match Source::from_env() {
            Source::Local => {
                self.runtime
                    .block_on(launch(self.offline_only))
                    .map(|(playwright, browser)| Slot::Up {
                        playwright: Box::new(playwright),
                        browser,
                    })
            }
            Source::Shared { run } => {
                server::shared(&self.runtime, &run, self.offline_only).map(Slot::Connected)
            }
            Source::Remote { endpoint } => self
                .runtime
                .block_on(server::connect_remote(&endpoint, self.offline_only))
                .map(Slot::Connected),
        };
        match launched {
            Ok(up) => {
                let browser = up.browser();
                *slot = up;
                browser.ok_or_else(|| SessionError::Browser("no browser".into()))
            }
            Err(e) => {
                *slot = Slot::Failed(e.clone());
                Err(e)
            }
        }
    }
}

/// On Ctrl-C (SIGINT), leaves no Chromium or driver process behind: asks the driver to close the
/// browser (bounded), kills whatever of this process's descendants remain, and exits with 130.
async fn clean_up_on_interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    let descendants = descendant_pids(std::process::id());
    // A trial thread holding the lock (launching) must not stall the clean-up: kill instead.
    let running = SHARED.get().and_then(|shared| {
        let mut slot = shared.browser.try_lock().ok()?;
        match std::mem::replace(&mut *slot, Slot::NotLaunched) {
            Slot::Up { playwright, .. } => Some(playwright),
            other => {
                *slot = other;
                None
            }
        }
    });
    if let Some(playwright) = running {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, playwright.shutdown()).await;
        // Its server is already shut down: dropping does not block.
        drop(playwright);
    }
    kill_all(&descendants);
    std::process::exit(130);
}

/// SIGKILLs `pids` that still exist (Chromium puts itself in its own process group, so the
/// group of each is killed as well when it leads one).
fn kill_all(pids: &[u32]) {
    for &pid in pids {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            continue;
        };
        // SAFETY: kill(2) and getpgid(2) have no memory-safety preconditions.
        unsafe {
            if libc::getpgid(pid) == pid {
                libc::kill(-pid, libc::SIGKILL);
            }
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Every live descendant of `root` (children first-found order), read from `/proc`; empty where
/// `/proc` is not available.
pub fn descendant_pids(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_pid(pid)?)))
        .collect();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

/// The parent of `pid` from `/proc/<pid>/stat` (the field after the parenthesised command).
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

async fn launch(offline_only: bool) -> Result<(Playwright, Browser), SessionError> {
    let chromium = chromium_path();
    if !chromium.is_file() {
        return Err(SessionError::Setup(format!(
            "Chromium not found at {}: run `{SETUP_COMMAND}` (it installs Debian's chromium-headless-shell), \
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
    let args = chromium_args(offline_only)?;
    let options = |sandboxed: bool| {
        LaunchOptions::new()
            .executable_path(chromium.display().to_string())
            .headless(true)
            .chromium_sandbox(sandboxed)
            .args(args.clone())
    };
    let failed = |e: playwright_rs::Error| {
        SessionError::Setup(format!(
            "cannot launch Chromium at {}: {e}; run `{SETUP_COMMAND}`",
            chromium.display()
        ))
    };
    let browser = match sandbox() {
        Sandbox::On => match playwright
            .chromium()
            .launch_with_options(options(true))
            .await
        {
            Ok(browser) => browser,
            // The probe said yes but Chromium disagrees (a security module forbidding what the
            // namespaces need, say): run without, and say so.
            Err(e) if e.to_string().to_lowercase().contains("sandbox") => {
                let browser = playwright
                    .chromium()
                    .launch_with_options(options(false))
                    .await
                    .map_err(failed)?;
                warn_unsandboxed(
                    "Chromium could not start with its sandbox on this machine",
                    offline_only,
                );
                browser
            }
            Err(e) => return Err(failed(e)),
        },
        Sandbox::Off(why) => {
            warn_unsandboxed(why, offline_only);
            playwright
                .chromium()
                .launch_with_options(options(false))
                .await
                .map_err(failed)?
        }
    };
    Ok((playwright, browser))
}
