//! Finding and configuring the browser: where Chromium and the Playwright driver are, the flags
//! Chromium runs with, and the driver version check. Shared by [`super::launch`] (a browser per
//! process) and [`super::server`] (one browser server per nextest run).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::{SETUP_COMMAND, SessionError};

/// Where Debian installs Chromium; `CONSENT_GATES_CHROMIUM` overrides it.
pub(crate) const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's headless shell (package `chromium-headless-shell`, the same Chromium build without the
/// desktop browser around it): what Playwright itself runs for a headless browser, and about half
/// the CPU per visit of the full browser in headless mode (BENCHMARKS.md). Preferred when present.
const DEBIAN_HEADLESS_SHELL: &str = "/usr/lib/chromium/chromium-headless-shell";
/// The binary behind Debian's `/usr/bin/chromium` launcher, which adds flags from the machine's
/// `/etc/chromium.d/` (extensions, GPU and shared-memory settings): launched directly when present.
const DEBIAN_CHROMIUM_BINARY: &str = "/usr/lib/chromium/chromium";
/// Extra Chromium flags, split like a POSIX shell splits words, so that a flag holding spaces can
/// be quoted (`'--host-resolver-rules=MAP * ~NOTFOUND'`; diagnostics such as `--log-net-log=<file>`).
pub(crate) const EXTRA_ARGS_ENV: &str = "CONSENT_GATES_CHROMIUM_ARGS";

/// Chromium flags for a hermetic, visitor-like browser. The sandbox is not among them: see
/// [`sandbox`]. An unbalanced quote in [`EXTRA_ARGS_ENV`] is a set-up error naming the variable.
pub(crate) fn chromium_args(offline_only: bool) -> Result<Vec<String>, SessionError> {
    let extra = std::env::var(EXTRA_ARGS_ENV).unwrap_or_default();
    chromium_args_with(offline_only, &extra)
}

/// [`chromium_args`] with `extra` as the value of [`EXTRA_ARGS_ENV`].
fn chromium_args_with(offline_only: bool, extra: &str) -> Result<Vec<String>, SessionError> {
    let extra = shell_words::split(extra).map_err(|e| {
        SessionError::Setup(format!(
            "{EXTRA_ARGS_ENV} cannot be split into flags ({e}): quote a flag holding spaces \
             like a shell would, e.g. '--host-resolver-rules=MAP * ~NOTFOUND'"
        ))
    })?;
    let mut args: Vec<String> = [
        // The browser's own language (the context pins the page's locale on top).
        "--lang=en-US",
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
    // Chromium on Linux takes its proxy from http_proxy, https_proxy, all_proxy (or the desktop's
    // settings): the machine's, not the spec's. A proxy given in the extra flags is deliberate.
    if !extra.iter().any(|a| a.starts_with("--proxy-")) {
        args.push("--no-proxy-server".to_string());
    }
    args.extend(extra);
    Ok(args)
}

/// Whether Chromium runs with its sandbox, decided once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sandbox {
    On,
    /// Off, and why.
    Off(String),
}

impl Sandbox {
    pub(crate) fn is_on(&self) -> bool {
        *self == Sandbox::On
    }
}

/// Chromium keeps its sandbox wherever the machine allows it: not as root (Chromium refuses to
/// sandbox root), and with unprivileged user namespaces (Chromium's namespace sandbox) or its setuid
/// helper beside the binary. Probed once per process.
pub(crate) fn sandbox() -> &'static Sandbox {
    static DECISION: OnceLock<Sandbox> = OnceLock::new();
    DECISION.get_or_init(|| {
        // SAFETY: geteuid(2) has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return Sandbox::Off("this user is root, and Chromium refuses to sandbox root".into());
        }
        if user_namespaces_available() || setuid_helper(&chromium_path()) {
            Sandbox::On
        } else {
            Sandbox::Off(
                "this machine allows no unprivileged user namespaces and Chromium has no setuid \
                 chrome-sandbox helper"
                    .into(),
            )
        }
    })
}

/// Whether this process may create the namespaces Chromium's sandbox uses (user, PID, network), tried
/// in a forked child.
fn user_namespaces_available() -> bool {
    // SAFETY: the child makes only async-signal-safe calls (unshare, _exit) before exiting; the
    // parent reaps it.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            let ok = libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWPID | libc::CLONE_NEWNET);
            libc::_exit(if ok == 0 { 0 } else { 1 });
        }
        if pid < 0 {
            return false;
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0) == pid
            && libc::WIFEXITED(status)
            && libc::WEXITSTATUS(status) == 0
    }
}

/// Whether `chrome-sandbox` beside the real binary is root-owned and setuid (older set-ups).
fn setuid_helper(chromium: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let real = std::fs::canonicalize(chromium).unwrap_or_else(|_| chromium.to_path_buf());
    real.parent()
        .map(|d| d.join("chrome-sandbox"))
        .and_then(|h| std::fs::metadata(h).ok())
        .is_some_and(|m| m.uid() == 0 && m.mode() & 0o4000 != 0)
}

/// Says once per process, on stderr, that Chromium runs without its sandbox and why; loudly when
/// the run visits live sites (a spec with `offline: false`), whose scripts nobody reviewed.
pub(crate) fn warn_unsandboxed(why: &str, offline_only: bool) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if offline_only {
            eprintln!(
                "consent-gates: Chromium runs without its sandbox: {why} (every site in this run is \
                 answered locally)"
            );
        } else {
            eprintln!(
                "consent-gates: WARNING: CHROMIUM RUNS WITHOUT ITS SANDBOX while visiting live sites \
                 (a spec has `offline: false`): {why}. A page script that exploits a Chromium bug \
                 gets this user's rights on this machine. Run as an unprivileged user on a machine \
                 with user namespaces, or in a throwaway container."
            );
        }
    });
}

/// Path of the Chromium binary to drive: `CONSENT_GATES_CHROMIUM`, else Debian's headless shell,
/// else Debian's Chromium — the binaries themselves rather than their launcher scripts (which add
/// the machine's `/etc/chromium.d` flags).
pub(crate) fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CONSENT_GATES_CHROMIUM") {
        return PathBuf::from(p);
    }
    [DEBIAN_HEADLESS_SHELL, DEBIAN_CHROMIUM_BINARY]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), Path::to_path_buf)
}

/// The driver folder the set-up script lays out, when `PLAYWRIGHT_DRIVER_PATH` is not set (a
/// test binary run by hand does not get `.cargo/config.toml`'s `[env]`).
pub(crate) fn default_driver_dir() -> Option<PathBuf> {
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
pub(crate) fn check_driver_version(driver: &Path) -> Result<(), SessionError> {
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

#[cfg(test)]
mod tests {
    use super::chromium_args_with;

    #[test]
    fn flags_pin_language_and_proxy_and_leave_the_sandbox_alone() {
        let args = chromium_args_with(true, "--log-net-log=n.json").unwrap();
        assert!(args.contains(&"--lang=en-US".to_string()));
        assert!(args.contains(&"--no-proxy-server".to_string()), "{args:?}");
        assert!(args.contains(&"--host-resolver-rules=MAP * ~NOTFOUND".to_string()));
        assert_eq!(
            args.last().map(String::as_str),
            Some("--log-net-log=n.json")
        );
        assert!(!args.iter().any(|a| a.contains("sandbox")), "{args:?}");
        // A proxy given on purpose wins over the pin.
        let args = chromium_args_with(false, "--proxy-server=http://proxy:3128").unwrap();
        assert!(!args.contains(&"--no-proxy-server".to_string()), "{args:?}");
        assert!(!args.iter().any(|a| a.starts_with("--host-resolver-rules")));
    }

    #[test]
    fn extra_flags_split_like_a_shell() {
        let args = chromium_args_with(
            false,
            r#"--log-net-log=/tmp/n.json '--host-resolver-rules=MAP * ~NOTFOUND' --a="b c""#,
        )
        .unwrap();
        assert!(args.ends_with(&[
            "--log-net-log=/tmp/n.json".to_string(),
            "--host-resolver-rules=MAP * ~NOTFOUND".to_string(),
            "--a=b c".to_string(),
        ]));
        let e = chromium_args_with(false, "'--unbalanced")
            .unwrap_err()
            .to_string();
        assert!(e.contains("CONSENT_GATES_CHROMIUM_ARGS"), "{e}");
    }
}
