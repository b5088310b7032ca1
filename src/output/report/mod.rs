//! What every run leaves behind, for people and for CI, all under [`output_dir`]
//! (`target/consent-gates/` by default):
//!
//! | file | module | for |
//! |---|---|---|
//! | `results.json` | [`results`] | tools: one [`crate::outcome::TrialResult`] per trial (docs/results.md) |
//! | `junit.xml` | [`junit`] | CI systems: one test case per trial, one failure per failed check |
//! | `report/index.html` | [`html`] | reviewers: verdicts, timelines, screenshots, failing checks with evidence |
//! | `report/trials/*.json`, `report/screenshots/*` | [`evidence`] | what the HTML report is built from |
//! | `traces/<spec>-<state>.zip` | [`crate::runner::trial`] | a Playwright trace of every trial that did not pass |
//!
//! Under cargo-nextest every trial runs in its own process; processes of one run (same
//! `NEXTEST_RUN_ID`) merge into the same files under a lock ([`write_run`]).
//!
//! Nothing here shows raw personal data: payload values never leave the trial, and every URL goes
//! through [`strip_query_values`] (query keys kept, values dropped) before it is written.

pub mod color;
pub mod evidence;
pub(crate) mod html;
pub(crate) mod junit;
pub(crate) mod results;
mod table;

pub use results::{write_results, write_run};
pub(crate) use table::verdict_table_colored;

/// `url` with every query value and the fragment dropped (keys kept), user info removed and
/// e-mail addresses masked: `https://x.example/p?uid=42&ev=Lead#t` →
/// `https://x.example/p?uid=…&ev=…#…`. The one place the report turns a recorded URL into text.
pub fn strip_query_values(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, _)) => (b, true),
        None => (url, false),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    // Drop `user:password@` from the authority.
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let auth_end = rest.find('/').unwrap_or(rest.len());
            let (auth, path) = rest.split_at(auth_end);
            let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
            format!("{scheme}://{auth}{path}")
        }
        None => base.to_string(),
    };
    let mut out = mask_emails(&base);
    if let Some(q) = query {
        let keys: Vec<String> = q
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let key = kv.split_once('=').map_or(kv, |(k, _)| k);
                if kv.contains('=') {
                    format!("{}=…", mask_emails(key))
                } else {
                    mask_emails(key)
                }
            })
            .collect();
        out.push('?');
        out.push_str(&keys.join("&"));
    }
    if fragment {
        out.push_str("#…");
    }
    out
}

/// A step as the report shows it: `eval` code keeps its shape but not the strings and numbers
/// it passes (they may be personal data: `analytics.identify("u-42", {email: …})`).
pub fn step_text(step: &str) -> String {
    static LITERAL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let Some(code) = step.strip_prefix("eval ") else {
        return strip_urls_in(step);
    };
    let re = LITERAL.get_or_init(|| {
        regex::Regex::new(r#"\\"(?:[^"\\]|\\[^"])*(?:\\"|"$|$)|'[^']*'?|\b\d{3,}\b"#)
            .expect("literal pattern is valid")
    });
    format!("eval {}", strip_urls_in(&re.replace_all(code, "…")))
}

/// Every `http(s)://…` URL inside free text (failure messages, evidence) through
/// [`strip_query_values`].
pub fn strip_urls_in(text: &str) -> String {
    static URL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = URL.get_or_init(|| {
        regex::Regex::new(r#"https?://[^\s"'<>)\]]+"#).expect("URL pattern is valid")
    });
    let replaced = re.replace_all(text, |c: &regex::Captures| strip_query_values(&c[0]));
    mask_emails(&replaced)
}

/// Every e-mail-like token (the privacy detector's one pattern) as `[email]`.
fn mask_emails(text: &str) -> String {
    crate::analysis::privacy::detect::replace_email_tokens(text, "[email]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_dropped_keys_kept() {
        assert_eq!(
            strip_query_values("https://www.facebook.com/tr/?id=123&ev=PageView&noscript"),
            "https://www.facebook.com/tr/?id=…&ev=…&noscript"
        );
        assert_eq!(
            strip_query_values("https://u:secret@x.example/a?email=jane%40example.com#tok=1"),
            "https://x.example/a?email=…#…"
        );
        assert_eq!(
            strip_query_values("https://x.example/u/jane@example.com/"),
            "https://x.example/u/[email]/"
        );
        assert_eq!(
            strip_query_values("https://x.example/"),
            "https://x.example/"
        );
    }

    #[test]
    fn urls_inside_text_are_stripped() {
        let text = "GET https://t.example/p?uid=42 at 3 ms, mail jane@example.com";
        assert_eq!(
            strip_urls_in(text),
            "GET https://t.example/p?uid=… at 3 ms, mail [email]"
        );
    }

    #[test]
    fn eval_steps_lose_their_literals() {
        let step = format!(
            "eval {:?}",
            r#"analytics.identify("user-42", {email: "jane@example.com", n: 5551234})"#
        );
        assert_eq!(
            step_text(&step),
            r#"eval "analytics.identify(…, {email: …, n: …})""#
        );
        let cut = "eval \"analytics.track(\\\"Signup\\\", {email: \\\"jane@example.c\"";
        assert_eq!(step_text(cut), "eval \"analytics.track(…, {email: …");
        assert_eq!(step_text("click \"#accept\""), "click \"#accept\"");
    }
}
