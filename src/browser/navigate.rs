//! Page navigation shared by the session (the first load, the visitor leaving) and the steps
//! (`visit`).

use std::time::Duration;

use playwright_rs::{GotoOptions, WaitUntil};

use super::error::SessionError;

/// Loads `url` and waits for its `load` event; an HTTP error status is a failed navigation.
pub(super) async fn goto(
    page: &playwright_rs::Page,
    url: &str,
    timeout_ms: u64,
) -> Result<(), SessionError> {
    let options = GotoOptions::new()
        .timeout(Duration::from_millis(timeout_ms))
        .wait_until(WaitUntil::Load);
    match page.goto(url, options).await {
        Ok(Some(resp)) if resp.status() >= 400 => Err(SessionError::Navigation {
            url: url.to_string(),
            message: format!("HTTP {}", resp.status()),
        }),
        Ok(_) => Ok(()),
        Err(e) => Err(SessionError::Navigation {
            url: url.to_string(),
            message: e.to_string(),
        }),
    }
}

/// `p` resolved against the site URL: absolute URLs stay, `/path` replaces the path.
pub(super) fn join_url(base: &str, p: &str) -> String {
    if p.starts_with("http://") || p.starts_with("https://") {
        return p.to_string();
    }
    let origin_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|s| base[s..].find('/').map(|j| s + j))
        .unwrap_or(base.len());
    let origin = &base[..origin_end];
    if p.starts_with('/') {
        format!("{origin}{p}")
    } else {
        format!("{origin}/{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::join_url;

    #[test]
    fn joins() {
        assert_eq!(
            join_url("https://a.example/", "/p/1"),
            "https://a.example/p/1"
        );
        assert_eq!(join_url("https://a.example", "p"), "https://a.example/p");
        assert_eq!(
            join_url("https://a.example/x/y", "https://b.example/"),
            "https://b.example/"
        );
    }
}
