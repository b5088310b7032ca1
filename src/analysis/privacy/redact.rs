//! Personal data and secrets never leave a trial raw: every string a trial reports (failure
//! messages, evidence, snapshot lines, errors) goes through a [`Redactor`] that replaces email
//! addresses, phone numbers, the spec's declared personal fields, Segment `userId`s and
//! `anonymousId`s, write keys and cookie values with stable placeholders: `<email:1>`,
//! `<phone:1>`, `<personal:1>`, `<user-id:1>`, `<anonymous-id:1>`, `<write-key>`, `<cookie:1>`.
//!
//! Stability: a trial's redactor is seeded from its capture ([`Redactor::for_trial`]) with every
//! value it can know in advance, each kind sorted, so the same traffic gives the same numbers on
//! every run; values only found while redacting (patterns in text) are numbered in the order they
//! are met, and the callers redact in a fixed order.
//!
//! Seeding uses the same detector as the `pii-leak` check ([`super::detect::Scanner`]), so every
//! value that check flags is known, in each spelling it travels in (URL-encoded once or twice, a
//! phone number's bare digits). Without seeding, the redactor recognises (in the text and in its
//! `%XX`-decoded form) emails and phone numbers as [`super::detect`] defines them, write keys in
//! Segment paths (`/analytics.js/v1/<key>/`, `/v1/projects/<key>/`) and `writeKey` fields or
//! parameters, `userId` / `anonymousId` / `ajs_user_id` / `ajs_anonymous_id` fields or
//! parameters, and the first argument of `identify(…)` in scripts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::analysis::segment::Decoded;
use crate::capture::{Capture, CapturedRequest};
use crate::outcome::Failure;

use super::decode::{percent_decode, percent_encode};
use super::detect::{self, Context, Kind, Scanner};

/// Replaces personal data and secrets in text by stable placeholders.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Raw value → placeholder.
    known: BTreeMap<String, String>,
    /// Known values replaced only where not glued to letters or digits (ids and cookie values,
    /// which may be short); pattern kinds (emails, phones) are replaced wherever they occur.
    bounded: BTreeSet<String>,
    /// Known values, longest first (the order they are replaced in).
    order: Vec<String>,
    /// Per placeholder word (`email`), how many values it numbered.
    counters: BTreeMap<&'static str, usize>,
}

/// Strings longer than this are cut before redaction (evidence and messages are short; this
/// bounds the work on hostile input).
const MAX_TEXT: usize = 64 * 1024;

impl Redactor {
    /// A redactor that knows nothing yet: patterns only.
    pub(crate) fn new() -> Self {
        Redactor::default()
    }

    /// A redactor seeded with what one trial's traffic holds: write keys, user and anonymous
    /// ids, and every value the `pii-leak` detector finds (emails, phone numbers, the fields
    /// `pii` declares) in event payloads and requests.
    pub fn for_trial(pii: &[String], capture: &Capture, decoded: &Decoded) -> Self {
        let mut r = Redactor::new();
        for wk in &decoded.write_keys {
            r.add(Kind::WriteKey, wk);
        }
        // Sorted by kind (user ids first), then value, as the findings below.
        let ids: BTreeSet<(Kind, &str)> = decoded
            .events
            .iter()
            .flat_map(|e| {
                [
                    (Kind::UserId, e.user_id.as_deref()),
                    (Kind::AnonymousId, e.anonymous_id.as_deref()),
                ]
            })
            .filter_map(|(kind, id)| Some((kind, id?)))
            .collect();
        for (kind, id) in ids {
            r.add(kind, id);
        }
        let scanner = Scanner::new(pii);
        // Sorted by kind, then value: the numbering does not depend on the traffic's order.
        let mut found: BTreeSet<(Kind, String)> = BTreeSet::new();
        for e in &decoded.events {
            found.extend(scanner.values_in_json(&e.payload));
        }
        for req in &capture.requests {
            found.extend(scanner.values_in_request(&bounded_request(req)));
        }
        for (kind, value) in found {
            r.add(kind, &value);
        }
        r
    }

    /// Learns `value` as personal data of `kind` (ignored when too short or already known).
    pub(crate) fn add(&mut self, kind: Kind, value: &str) -> Option<String> {
        let value = value.trim();
        if value.chars().count() < kind.min_len() || is_placeholder(value) {
            return None;
        }
        if let Some(p) = self.known.get(value) {
            return Some(p.clone());
        }
        let placeholder = if kind == Kind::WriteKey {
            "<write-key>".to_string()
        } else {
            let n = self.counters.entry(kind.label()).or_insert(0);
            *n += 1;
            format!("<{}:{n}>", kind.label())
        };
        self.known.insert(value.to_string(), placeholder.clone());
        if kind.bounded() {
            self.bounded.insert(value.to_string());
        }
        let pos = self.order.partition_point(|k| {
            k.len() > value.len() || (k.len() == value.len() && k.as_str() < value)
        });
        self.order.insert(pos, value.to_string());
        // Other spellings of the same value (URL-encoded once or twice, a phone number's bare
        // digits) get the same placeholder.
        for other in spellings(&kind, value) {
            if self.known.contains_key(&other) {
                continue;
            }
            self.known.insert(other.clone(), placeholder.clone());
            let pos = self.order.partition_point(|k| {
                k.len() > other.len() || (k.len() == other.len() && *k < other)
            });
            self.order.insert(pos, other);
        }
        Some(placeholder)
    }

    /// `text` with every known value and every recognised pattern replaced.
    pub(crate) fn text(&mut self, text: &str) -> String {
        let mut out = text[..floor_char_boundary(text, MAX_TEXT)].to_string();
        if out.len() < text.len() {
            out.push('…');
        }
        self.replace_all(out)
    }

    /// Like [`Redactor::text`], without the length cap: for whole files (traces).
    pub(crate) fn whole(&mut self, text: &str) -> String {
        self.replace_all(text.to_string())
    }

    fn replace_all(&mut self, mut out: String) -> String {
        // Patterns first teach the redactor new values; then every known value is replaced.
        for (re, kind) in captured_patterns() {
            let found: Vec<String> = re
                .captures_iter(&out)
                .filter_map(|c| c.get(1).map(|m| m.as_str().to_string()))
                .collect();
            for v in found {
                self.add(kind.clone(), &v);
            }
        }
        // Emails and phone numbers as the detector sees them: in the `%XX`-decoded text (their
        // encoded spellings are learnt with them), and emails in the text as it is too: a `%XX`
        // glued to an address (`%4aaa@…`) decodes into a different address than the one shown.
        let plain = percent_decode(&out);
        let emails: Vec<String> = detect::email_tokens(&plain)
            .chain(detect::email_tokens(&out))
            .collect();
        for e in emails {
            self.add(Kind::Email, &e);
        }
        let phones: Vec<String> = detect::phones(&plain, Context::Text)
            .into_iter()
            .map(str::to_string)
            .collect();
        for p in phones {
            self.add(Kind::Phone, &p);
        }
        for raw in &self.order {
            if !out.contains(raw.as_str()) {
                continue;
            }
            out = if self.bounded.contains(raw) {
                replace_bounded(&out, raw, &self.known[raw])
            } else {
                out.replace(raw.as_str(), &self.known[raw])
            };
        }
        out
    }

    /// Redacts a failure's message, destination and evidence in place.
    pub fn failure(&mut self, f: &mut Failure) {
        f.message = self.text(&f.message);
        if let Some(d) = &f.destination {
            f.destination = Some(self.text(d));
        }
        for e in &mut f.evidence {
            e.what = self.text(&e.what);
        }
    }

    /// Redacts every string of a list in place.
    pub(crate) fn all(&mut self, items: &mut [String]) {
        for s in items {
            *s = self.text(s);
        }
    }
}

/// `text` redacted with patterns only (no seeded values).
pub fn text(text: &str) -> String {
    Redactor::new().text(text)
}

fn is_placeholder(v: &str) -> bool {
    v.starts_with('<') && v.ends_with('>')
}

/// Replaces `raw` by `with` where it is not glued to letters or digits on a side where `raw`
/// itself starts or ends with one (so `user-4` does not eat `user-42`).
fn replace_bounded(text: &str, raw: &str, with: &str) -> String {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let starts_word = raw
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ends_word = raw
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(raw) {
        let before = rest[..i].chars().last().or(out.chars().last());
        let after = rest[i + raw.len()..].chars().next();
        let ok = !((starts_word && glued(before)) || (ends_word && glued(after)));
        out.push_str(&rest[..i]);
        out.push_str(if ok { with } else { raw });
        rest = &rest[i + raw.len()..];
    }
    out.push_str(rest);
    out
}

/// The request with its URL and body cut to a bound: they are recorded up to megabytes, and
/// seeding must stay cheap on hostile input.
fn bounded_request(req: &CapturedRequest) -> std::borrow::Cow<'_, CapturedRequest> {
    let max = 4 * MAX_TEXT;
    let long_body = req.body.as_ref().is_some_and(|b| b.len() > max);
    if req.url.len() <= max && !long_body {
        return std::borrow::Cow::Borrowed(req);
    }
    let mut r = req.clone();
    r.url.truncate(floor_char_boundary(&r.url, max));
    if let Some(b) = &mut r.body {
        b.truncate(max);
    }
    std::borrow::Cow::Owned(r)
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Spellings of `value` other than itself that carry the same personal data: URL-encoded once
/// or twice (whole, or only its `@`), and a phone number's bare digits.
fn spellings(kind: &Kind, value: &str) -> Vec<String> {
    if !matches!(kind, Kind::Email | Kind::Phone | Kind::Declared(_)) {
        return Vec::new();
    }
    let once = percent_encode(value);
    let mut out = vec![percent_encode(&once), once];
    if value.contains('@') {
        out.push(value.replace('@', "%40"));
        out.push(value.replace('@', "%2540"));
    }
    if *kind == Kind::Phone {
        // As a form writes it (`+` for a space), and the bare digits.
        out.push(percent_encode(value).replace("%20", "+"));
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 9 {
            out.push(digits);
        }
    }
    out.retain(|o| o != value);
    out.sort();
    out.dedup();
    out
}

/// Patterns whose first group is a value of a known kind.
fn captured_patterns() -> &'static [(Regex, Kind)] {
    static RE: OnceLock<Vec<(Regex, Kind)>> = OnceLock::new();
    RE.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("redaction pattern");
        vec![
            (re(r"/analytics\.js/v1/([^/?#\s]+)/"), Kind::WriteKey),
            (re(r"/v1/projects/([^/?#\s]+)"), Kind::WriteKey),
            (
                re(r#"(?i)(?:^|[^A-Za-z0-9_])\\?"?write_?key\\?"?\s*[:=]\s*\\?"?([^"&\s,;}\\]+)"#),
                Kind::WriteKey,
            ),
            (
                re(r#"(?i)(?:^|[^A-Za-z0-9_])\\?"?(?:user_?id|ajs_user_id|uid)\\?"?\s*[:=]\s*\\?"?([^"&\s,;}\\]+)"#),
                Kind::UserId,
            ),
            (
                re(r#"(?i)(?:^|[^A-Za-z0-9_])\\?"?(?:anonymous_?id|ajs_anonymous_id)\\?"?\s*[:=]\s*\\?"?([^"&\s,;}\\]+)"#),
                Kind::AnonymousId,
            ),
            (
                re(r#"identify\(\s*\\?["'`]([^"'`\\]+)\\?["'`]"#),
                Kind::UserId,
            ),
        ]
    })
}

/// Rewrites a Playwright trace (a zip of JSON-lines and resources) in place with every text entry
/// redacted; images stay as they are (they are pixels, not text: see the README on screenshots).
pub fn trace_file(path: &std::path::Path, redactor: &mut Redactor) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(path)?).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("zip.tmp");
    let mut out = zip::ZipWriter::new(std::fs::File::create(&tmp)?);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(std::io::Error::other)?;
        let name = entry.name().map_err(std::io::Error::other)?.into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        let is_image = [".png", ".jpeg", ".jpg", ".webp", ".gif"]
            .iter()
            .any(|ext| name.ends_with(ext));
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(text) if !is_image => redactor.whole(text).into_bytes(),
            _ => bytes,
        };
        out.start_file(name, options)
            .map_err(std::io::Error::other)?;
        out.write_all(&bytes)?;
    }
    out.finish().map_err(std::io::Error::other)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_numbered_placeholders() {
        let mut r = Redactor::new();
        let s = r.text(
            "GET https://t.example/c?em=jane.doe%40example.com&uid=user-8472&ph=%2B442079460958 \
             and jane.doe@example.com, call +44 20 7946 0958 or (555) 123-4567",
        );
        assert!(!s.contains("jane"), "{s}");
        assert!(!s.contains("8472"), "{s}");
        assert!(!s.contains("7946"), "{s}");
        assert!(!s.contains("123-4567"), "{s}");
        assert!(s.contains("<email:1>") && !s.contains("<email:2>"), "{s}");
        assert!(s.contains("<user-id:1>"), "{s}");
    }

    /// Found by the property test: `%4a` decodes to `J`, so the decoded text holds another
    /// address than the one the raw text shows; both are redacted.
    #[test]
    fn an_escape_glued_to_an_address_hides_neither() {
        let s = text("%4aaa@mail.example and %4Aaa@mail.example");
        assert!(!s.contains("aa@mail.example"), "{s}");
    }

    #[test]
    fn write_keys_in_paths_and_bodies() {
        let s = text(
            "settings from cdn.segment.com/v1/projects/AbCdEf123456/settings; \
             /analytics.js/v1/AbCdEf123456/analytics.min.js {\"writeKey\":\"AbCdEf123456\"}",
        );
        assert!(!s.contains("AbCdEf123456"), "{s}");
        assert_eq!(s.matches("<write-key>").count(), 3, "{s}");
    }

    #[test]
    fn eval_scripts_and_json() {
        let s = text(r#"eval "analytics.identify(\"user-42\", {email: \"a.b@c.example\"})""#);
        assert!(
            !s.contains("user-42") && !s.contains("a.b@c.example"),
            "{s}"
        );
        let s = text(r#"{"userId":"u-777","anonymousId":"0b7c-11"}"#);
        assert!(!s.contains("u-777") && !s.contains("0b7c-11"), "{s}");
    }

    #[test]
    fn seeded_values_are_stable_and_bounded() {
        let mut r = Redactor::new();
        r.add(Kind::UserId, "user-4");
        r.add(Kind::Cookie, "s3cr3t-cookie-value");
        assert_eq!(r.text("user-4 user-42"), "<user-id:1> user-42");
        assert_eq!(r.text("sid=s3cr3t-cookie-value"), "sid=<cookie:1>");
        // Short values would eat ordinary text.
        assert_eq!(r.add(Kind::UserId, "1"), None);
        assert_eq!(r.text("step 1"), "step 1");
        // Nothing ordinary is touched.
        let plain = "request to www.facebook.com/tr/ at 1234 ms (127.0.0.1, v1.2.3, 2024-05-01)";
        assert_eq!(r.text(plain), plain);
        assert_eq!(r.text("guid=abcdef"), "guid=abcdef");
    }
}
