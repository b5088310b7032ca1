//! Why a visit could not run. Every module of the browser layer returns these.

/// The command that installs everything a run needs (named in every set-up error).
pub const SETUP_COMMAND: &str = "./scripts/setup";

/// Why a trial could not run (verdict `error`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// Chromium or the driver is missing or broken; the message says which command fixes it.
    #[error("{0}")]
    Setup(String),
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("the site did not load: {url}: {message}")]
    Navigation { url: String, message: String },
    #[error("step {index} ({step}) failed: {message}")]
    Step {
        index: usize,
        step: String,
        message: String,
    },
    /// A settle ran out of `timing.settle_max_ms` of wall time (or lost control of the page's
    /// clock): what the page did later was not seen, so the visit cannot be judged whole.
    #[error(
        "the visit was not watched to the end: {0}; raise timing.settle_max_ms (a safety net \
         for a slow machine) or lower timing.horizon_ms"
    )]
    Unwatched(String),
    #[error("browser: {0}")]
    Browser(String),
}

impl From<playwright_rs::Error> for SessionError {
    fn from(e: playwright_rs::Error) -> Self {
        SessionError::Browser(e.to_string())
    }
}
