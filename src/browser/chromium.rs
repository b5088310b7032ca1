//! Finding and configuring the browser: where Chromium and the Playwright driver are, the flags
//! Chromium runs with, and the driver version check. Shared by [`super::launch`] (a browser per
//! process) and [`super::server`] (one browser server per nextest run).

use std::path::{Path, PathBuf};

use super::error::{SETUP_COMMAND, SessionError};

/// Where Debian installs Chromium; `CONSENT_GATES_CHROMIUM` overrides it.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Extra Chromium flags, split like a POSIX shell splits words, so that a flag holding spaces can
/// be quoted (`'--host-resolver-rules=MAP * ~NOTFOUND'`; diagnostics such as `--log-net-log=<file>`).
pub const EXTRA_ARGS_ENV: &str = "CONSENT_GATES_CHROMIUM_ARGS";

/// Chromium flags for a hermetic, visitor-like browser, with those of [`EXTRA_ARGS_ENV`]; an
/// unbalanced quote there is a set-up error naming the variable.
pub fn chromium_args(offline_only: bool) -> Result<Vec<String>, SessionError> {
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
    if let Ok(extra) = std::env::var(EXTRA_ARGS_ENV) {
        args.extend(split_args(&extra)?);
    }
    Ok(args)
}

/// Splits the value of [`EXTRA_ARGS_ENV`] like a shell: white space separates flags, quotes and
/// backslashes keep it inside one.
pub fn split_args(value: &str) -> Result<Vec<String>, SessionError> {
    shell_words::split(value).map_err(|e| {
        SessionError::Setup(format!(
            "{EXTRA_ARGS_ENV} cannot be split into flags ({e}): quote a flag holding spaces \
             like a shell would, e.g. '--host-resolver-rules=MAP * ~NOTFOUND'"
        ))
    })
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
    use super::split_args;

    #[test]
    fn extra_args_split_like_a_shell() {
        assert_eq!(
            split_args(
                r#"--log-net-log=/tmp/n.json '--host-resolver-rules=MAP * ~NOTFOUND' --a="b c""#
            )
            .unwrap(),
            [
                "--log-net-log=/tmp/n.json",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--a=b c"
            ]
        );
        assert!(split_args("").unwrap().is_empty());
        let e = split_args("'--unbalanced").unwrap_err().to_string();
        assert!(e.contains("CONSENT_GATES_CHROMIUM_ARGS"), "{e}");
    }
}
