//! What counts as personal data, for the `pii-leak` check and for the redactor alike.
//!
//! - an email address anywhere in a string (URL-decoded; `logo@2x.png`-like file names excluded);
//! - a phone number: `+` and 9–15 digits (E.164 or grouped: `+44 20 7946 0958`), a
//!   parenthesised area code (`(555) 123-4567`), or a grouped national number (`555-123-4567`,
//!   `030 1234 5678`, `06 12 34 56 78`). Bare digit runs count only under a phone-like key
//!   (`phone`, `tel`, `mobile`, …): elsewhere they are timestamps and ids. In payloads, candidates
//!   glued to letters, dots, dashes, slashes or colons (UUIDs, versions, IPs, dates, paths) never
//!   count; in free text ([`Context::Text`]) a number may follow `key=` or `tel:`;
//! - a field the spec names in `pii`: a bare name matches that key anywhere (case-insensitive); a
//!   dotted name matches a path ending with those keys. Empty values (`null`, `""`, `[]`, `{}`) do
//!   not count.
//!
//! Strings that hold JSON or a URL with a query are looked into (`context.page.url.query.email`).
//! A [`Finding`] names *where* personal data sits (`traits.email`, `query.em`,
//! `body.user_data.ph`), never the value; [`Scanner::values_in_json`] and
//! [`Scanner::values_in_request`] give the values themselves, for the redactor alone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use crate::capture::CapturedRequest;

use super::decode::percent_decode;

/// What kind of personal data (or secret) a value is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Email,
    Phone,
    /// A field named in the spec's `pii`.
    Declared(String),
    /// A Segment `userId`.
    UserId,
    /// A Segment `anonymousId`.
    AnonymousId,
    /// A Segment write key.
    WriteKey,
    /// A cookie value the visit saw.
    Cookie,
}

impl Kind {
    /// For failure messages: `email address`, `declared personal field `x``.
    pub(crate) fn describe(&self) -> String {
        match self {
            Kind::Email => "email address".into(),
            Kind::Phone => "phone number".into(),
            Kind::Declared(n) => format!("declared personal field `{n}`"),
            Kind::UserId => "user id".into(),
            Kind::AnonymousId => "anonymous id".into(),
            Kind::WriteKey => "write key".into(),
            Kind::Cookie => "cookie value".into(),
        }
    }

    /// The placeholder's word: `<email:1>`.
    pub(super) fn label(&self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Declared(_) => "personal",
            Kind::UserId => "user-id",
            Kind::AnonymousId => "anonymous-id",
            Kind::WriteKey => "write-key",
            Kind::Cookie => "cookie",
        }
    }

    /// Shortest value of this kind worth redacting: shorter ones (`1`, `yes`) would eat ordinary
    /// words and numbers of the text.
    pub(super) fn min_len(&self) -> usize {
        match self {
            Kind::UserId | Kind::AnonymousId => 3,
            Kind::Cookie => 6,
            _ => 4,
        }
    }

    /// Values replaced only where not glued to letters or digits (ids, cookie and declared values
    /// may be short or ordinary words); emails and phones are replaced wherever they occur.
    pub(super) fn bounded(&self) -> bool {
        matches!(
            self,
            Kind::UserId | Kind::AnonymousId | Kind::Cookie | Kind::Declared(_)
        )
    }
}

/// One place personal data sits in a payload. Never holds the value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub(crate) path: String,
    pub(crate) kind: Kind,
}

/// The one e-mail pattern: `local@host` (also `%40`-encoded), where the host may be cut short
/// (a description cut at a length keeps only part of an address: `jane.doe@exampl`). Whether a
/// token is a whole address is [`is_address`]'s question.
fn email_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9._+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")
            .expect("email pattern")
    })
}

/// Every e-mail-like token of `s` (see [`email_re`]), whole address or not, `%40` spelled `@`:
/// what the redactor removes.
pub(crate) fn email_tokens(s: &str) -> impl Iterator<Item = String> + '_ {
    email_re()
        .find_iter(s)
        .map(|m| m.as_str().replace("%40", "@"))
}

/// `s` with every e-mail-like token (see [`email_re`]) replaced by `with`.
pub(crate) fn replace_email_tokens(s: &str, with: &str) -> String {
    email_re().replace_all(s, with).into_owned()
}

/// The e-mail addresses of `s`: tokens whose host ends in a top-level domain and is not an asset
/// name (`logo@2x.png`).
pub(crate) fn emails(s: &str) -> impl Iterator<Item = String> + '_ {
    email_tokens(s).filter_map(|t| address(&t))
}

/// The address a token holds (up to its top-level domain), if it is one.
fn address(token: &str) -> Option<String> {
    let (local, host) = token.rsplit_once('@')?;
    let labels: Vec<&str> = host.split('.').collect();
    // The last label after the first that starts with two letters is the top-level domain (what
    // follows it, `-x` or digits, is not part of the address).
    let (i, tld) = labels.iter().enumerate().skip(1).rev().find_map(|(i, l)| {
        let n = l.chars().take_while(char::is_ascii_alphabetic).count();
        (n >= 2).then(|| (i, &l[..n.min(24)]))
    })?;
    let first = labels[0];
    // `logo@2x.png`, `icon@3x.webp`: asset names, not addresses.
    let asset = FILE_TLDS.contains(&tld.to_ascii_lowercase().as_str())
        || (first.len() >= 2
            && first.ends_with('x')
            && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit()));
    if asset {
        return None;
    }
    let mut domain = labels[..i].join(".");
    domain.push('.');
    domain.push_str(tld);
    Some(format!("{local}@{domain}"))
}

/// Phone number candidates: digits with `+ - . ( ) space`; each is then validated by [`is_phone`].
fn phone_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\+?\(?\d[\d \-.()]{6,24}\d").expect("phone pattern"))
}

/// File extensions that follow `@` in asset names (`logo@2x.png`), not mail domains.
const FILE_TLDS: [&str; 12] = [
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "js", "css", "map", "json", "ico",
];

const PHONE_KEYS: [&str; 10] = [
    "phone",
    "phonenumber",
    "tel",
    "telephone",
    "mobile",
    "mobilephone",
    "mobilenumber",
    "cell",
    "cellphone",
    "msisdn",
];

/// Where a phone number candidate sits, which decides what may touch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// A payload value (already split into keys and values): anything glued to the digits
    /// (`_-/:@#.+=`, letters) makes them something else.
    Value,
    /// Free text (messages, URLs, traces): a number may also follow `key=` or `tel:`.
    Text,
}

/// Characters that glue a digit run to something that is not a phone number.
fn glued(c: char, context: Context) -> bool {
    let glue = match context {
        Context::Value => "_-/:@#.+=",
        Context::Text => "_-/@#.+",
    };
    c.is_ascii_alphanumeric() || glue.contains(c)
}

/// The phone numbers of `s` (see the module docs).
pub(crate) fn phones(s: &str, context: Context) -> Vec<&str> {
    if s.chars().filter(char::is_ascii_digit).count() < 9 {
        return Vec::new();
    }
    phone_re()
        .find_iter(s)
        .filter(|m| {
            let before = s[..m.start()].chars().next_back();
            let mut after_chars = s[m.end()..].chars();
            // A sentence may end with a dot after the number; a version or IP continues with
            // a digit.
            let after_glued = match after_chars.next() {
                Some('.') => after_chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric()),
                Some(c) => glued(c, context),
                None => false,
            };
            !before.is_some_and(|c| glued(c, context)) && !after_glued && is_phone(m.as_str())
        })
        .map(|m| m.as_str().trim())
        .collect()
}

#[cfg(test)]
fn contains_phone(s: &str) -> bool {
    !phones(s, Context::Value).is_empty()
}

#[cfg(test)]
fn contains_email(s: &str) -> bool {
    emails(s).next().is_some()
}

/// Looks for personal data; built once per trial from the spec's `pii` list.
pub struct Scanner {
    /// Each declared name, split on dots and lower-cased.
    declared: Vec<(String, Vec<String>)>,
}

/// A value a declared name may point at.
#[derive(Clone, Copy)]
enum Field<'v> {
    Json(&'v Value),
    Text(&'v str),
}

impl Scanner {
    pub fn new(pii: &[String]) -> Scanner {
        Scanner {
            declared: pii
                .iter()
                .map(|n| {
                    (
                        n.clone(),
                        n.split('.')
                            .filter(|s| !s.is_empty())
                            .map(str::to_ascii_lowercase)
                            .collect(),
                    )
                })
                .filter(|(_, segs): &(String, Vec<String>)| !segs.is_empty())
                .collect(),
        }
    }

    /// Findings in a JSON value, paths relative to it (`traits.email`). Sorted, one per path.
    pub fn scan_json(&self, v: &Value) -> Vec<Finding> {
        let mut out = Findings::default();
        self.json(v, "", &mut out, 0);
        out.into_vec()
    }

    /// Findings in a non-Segment request: `path`, `query.<name>`, `body…`, `headers.<name>`.
    pub(crate) fn scan_request(&self, req: &CapturedRequest) -> Vec<Finding> {
        let mut out = Findings::default();
        self.request(req, &mut out);
        out.into_vec()
    }

    /// The values behind [`Scanner::scan_json`]'s findings (the matched address or number; a
    /// declared field's string and number leaves), for the redactor.
    pub(crate) fn values_in_json(&self, v: &Value) -> BTreeSet<(Kind, String)> {
        let mut out = Findings::default();
        self.json(v, "", &mut out, 0);
        out.values
    }

    /// The values behind [`Scanner::scan_request`]'s findings, for the redactor.
    pub(crate) fn values_in_request(&self, req: &CapturedRequest) -> BTreeSet<(Kind, String)> {
        let mut out = Findings::default();
        self.request(req, &mut out);
        out.values
    }

    fn request(&self, req: &CapturedRequest, out: &mut Findings) {
        let (before_query, query) = match req.url.split_once('?') {
            Some((b, q)) => (b, Some(q.split('#').next().unwrap_or(q))),
            None => (req.url.split('#').next().unwrap_or(&req.url), None),
        };
        let path = crate::capture::url_path(before_query);
        self.text(&percent_decode(path), "path", None, out, 0);
        if let Some(q) = query {
            self.form(q, "query", out, 0);
        }
        if let Some(body) = req.body_text().filter(|b| !b.is_empty()) {
            self.body(&body, "body", out, 0);
        }
        for (name, value) in &req.headers {
            if name == "user-agent" || name.starts_with("sec-ch-ua") {
                continue;
            }
            let p = format!("headers.{name}");
            self.key(&p, Field::Text(value), out);
            self.text(value, &p, Some(name), out, 0);
        }
    }

    fn body(&self, body: &str, path: &str, out: &mut Findings, depth: usize) {
        let trimmed = body.trim_start();
        if (trimmed.starts_with('{') || trimmed.starts_with('['))
            && let Ok(v) = serde_json::from_str::<Value>(body)
        {
            self.json(&v, path, out, depth + 1);
            return;
        }
        // Form-encoded, possibly one record per line (beacon batches).
        let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
        if !lines.is_empty() && lines.iter().all(|l| looks_like_form(l)) {
            for l in lines {
                self.form(l, path, out, depth);
            }
            return;
        }
        self.text(&percent_decode(body), path, None, out, depth);
    }

    fn form(&self, q: &str, path: &str, out: &mut Findings, depth: usize) {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k);
            let v = percent_decode(v);
            let p = format!("{path}.{k}");
            self.key(&p, Field::Text(&v), out);
            self.text(&v, &p, Some(&k), out, depth);
        }
    }

    fn json(&self, v: &Value, path: &str, out: &mut Findings, depth: usize) {
        if depth > 64 {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    self.key(&p, Field::Json(child), out);
                    match child {
                        Value::String(s) => self.text(s, &p, Some(k), out, depth),
                        Value::Number(n) => self.bare_phone(&n.to_string(), &p, k, out),
                        _ => self.json(child, &p, out, depth + 1),
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    match child {
                        Value::String(s) => self.text(s, &p, None, out, depth),
                        _ => self.json(child, &p, out, depth + 1),
                    }
                }
            }
            Value::String(s) => self.text(s, path, None, out, depth),
            _ => {}
        }
    }

    /// A declared field name at `path`.
    fn key(&self, path: &str, value: Field, out: &mut Findings) {
        let present = match value {
            Field::Json(v) => !is_empty(v),
            Field::Text(s) => !s.is_empty(),
        };
        if !present || self.declared.is_empty() {
            return;
        }
        let segs = path_keys(path);
        for (name, want) in &self.declared {
            if segs.len() >= want.len() && segs[segs.len() - want.len()..] == want[..] {
                let kind = Kind::Declared(name.clone());
                out.add(path, kind.clone());
                match value {
                    Field::Json(v) => leaves(v, &mut |s| out.value(&kind, s), 0),
                    Field::Text(s) => out.value(&kind, s),
                }
            }
        }
    }

    /// A string value: emails, phones, and what it nests (JSON text, URL query).
    fn text(&self, s: &str, path: &str, key: Option<&str>, out: &mut Findings, depth: usize) {
        if s.is_empty() || depth > 64 {
            return;
        }
        let t = s.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && let Ok(v) = serde_json::from_str::<Value>(t)
        {
            self.json(&v, path, out, depth + 1);
            return;
        }
        // A URL (or path) with a query: the part before it here, each parameter under `.query`.
        let (head, query) = match s.split_once('?') {
            Some((head, q)) if !head.contains(char::is_whitespace) && q.contains('=') => {
                (head, Some(q.split('#').next().unwrap_or(q)))
            }
            _ => (s, None),
        };
        let decoded = if head.contains('%') {
            percent_decode(head)
        } else {
            head.to_string()
        };
        for e in emails(&decoded) {
            out.add(path, Kind::Email);
            out.value(&Kind::Email, &e);
        }
        let found = phones(&decoded, Context::Value);
        for p in &found {
            out.add(path, Kind::Phone);
            out.value(&Kind::Phone, p);
        }
        if found.is_empty()
            && let Some(k) = key
        {
            self.bare_phone(&decoded, path, k, out);
        }
        if let Some(q) = query {
            self.form(q, &format!("{path}.query"), out, depth + 1);
        }
    }

    /// A bare number under a phone-like key (`phone: "5551234567"`).
    fn bare_phone(&self, s: &str, path: &str, key: &str, out: &mut Findings) {
        let norm: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if !PHONE_KEYS.contains(&norm.as_str()) {
            return;
        }
        let t = s.trim();
        let digits = t.chars().filter(char::is_ascii_digit).count();
        if (9..=15).contains(&digits)
            && t.chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            out.add(path, Kind::Phone);
            out.value(&Kind::Phone, t);
        }
    }
}

/// Findings keyed by path (one per path and kind), and the values behind them.
#[derive(Default)]
struct Findings {
    paths: BTreeMap<String, BTreeSet<Kind>>,
    values: BTreeSet<(Kind, String)>,
}

impl Findings {
    fn add(&mut self, path: &str, kind: Kind) {
        self.paths.entry(path.to_string()).or_default().insert(kind);
    }

    fn value(&mut self, kind: &Kind, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.values.insert((kind.clone(), value.to_string()));
        }
    }

    fn into_vec(self) -> Vec<Finding> {
        self.paths
            .into_iter()
            .flat_map(|(path, kinds)| {
                kinds.into_iter().map(move |kind| Finding {
                    path: path.clone(),
                    kind,
                })
            })
            .collect()
    }
}

/// Every string and number under `v`.
fn leaves(v: &Value, f: &mut impl FnMut(&str), depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::String(s) => f(s),
        Value::Number(n) => f(&n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, f, depth + 1)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, f, depth + 1)),
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The keys of a finding path, lower-cased, without array indices: `a.b[0].c` → `[a, b, c]`
/// (`ud[em]`, a bracketed name, stays whole).
fn path_keys(path: &str) -> Vec<String> {
    path.split('.')
        .map(|s| {
            let mut k = s;
            while let Some(open) = k.rfind('[') {
                let idx = &k[open + 1..];
                if idx.ends_with(']') && idx[..idx.len() - 1].chars().all(|c| c.is_ascii_digit()) {
                    k = &k[..open];
                } else {
                    break;
                }
            }
            k.to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn looks_like_form(line: &str) -> bool {
    line.contains('=') && !line.contains(char::is_whitespace)
}

/// Whether a candidate (digits with `+ - . ( ) space`) has a phone number's shape.
fn is_phone(c: &str) -> bool {
    let c = c.trim();
    let digits = c.chars().filter(char::is_ascii_digit).count();
    if !(9..=15).contains(&digits) {
        return false;
    }
    // Balanced, at most one pair of parentheses, before any other separator run.
    let opens = c.matches('(').count();
    if opens != c.matches(')').count() || opens > 1 {
        return false;
    }
    // No doubled separators (`1 - 2`, `..`) except `) ` and ` (`.
    let seps = |ch: char| " -.".contains(ch);
    let chars: Vec<char> = c.chars().collect();
    if chars.windows(2).any(|w| seps(w[0]) && seps(w[1])) {
        return false;
    }
    let groups: Vec<&str> = c
        .split(|ch: char| !ch.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let sep_kinds: std::collections::BTreeSet<char> = c.chars().filter(|ch| seps(*ch)).collect();
    if let Some(rest) = c.strip_prefix('+') {
        // International: country code starts with 1-9; groups of at most 5 digits once split
        // (E.164 unsplit is a single group).
        return rest.starts_with(|ch: char| ch.is_ascii_digit() && ch != '0')
            && (groups.len() == 1 || groups.iter().skip(1).all(|g| g.len() <= 8))
            && groups.len() <= 7
            && !(sep_kinds.contains(&'.') && sep_kinds.len() > 1);
    }
    if c.contains('+') {
        return false;
    }
    if opens == 1 {
        // `(555) 123-4567`, `(030) 1234 5678`: the area code comes first.
        let Some(inner) = c.strip_prefix('(').and_then(|r| r.split_once(')')) else {
            return false;
        };
        let area = inner.0;
        return (2..=5).contains(&area.len())
            && area.chars().all(|ch| ch.is_ascii_digit())
            && groups.len() >= 3
            && groups.iter().skip(1).all(|g| (2..=8).contains(&g.len()));
    }
    // National, grouped with one kind of separator.
    if groups.len() < 2 || sep_kinds.len() != 1 {
        return false;
    }
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    // North American 3-3-4.
    if lens == [3, 3, 4] {
        return true;
    }
    // Trunk prefix 0 (most of Europe, Asia, Oceania): `030 1234 5678`, `06 12 34 56 78`.
    groups[0].starts_with('0')
        && !groups[0].starts_with("00")
        && (2..=5).contains(&lens[0])
        && lens.iter().skip(1).all(|l| (2..=8).contains(l))
        && !sep_kinds.contains(&'.')
        || (groups[0].starts_with('0')
            && sep_kinds.contains(&'.')
            && lens.len() >= 4
            && lens.iter().all(|l| *l == 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(f: &[Finding]) -> Vec<String> {
        f.iter()
            .map(|f| format!("{} {}", f.path, f.kind.describe()))
            .collect()
    }

    #[test]
    fn phones_and_non_phones() {
        for yes in [
            "+4915112345678",
            "+44 20 7946 0958",
            "+1 (555) 123-4567",
            "+33 6 12 34 56 78",
            "(555) 123-4567",
            "555-123-4567",
            "555.123.4567",
            "030 1234 5678",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "0151 12345678",
            "call me at 555-123-4567.",
            "tel: +49 151 1234 5678",
        ] {
            assert!(contains_phone(yes), "should be a phone: {yes}");
        }
        for no in [
            "1700000000000",
            "2024-01-15T10:20:30.123Z",
            "2024-01-15 10:20:30",
            "5c3d9f1e-1234-4567-8901-234567890abc",
            "ajs-next-1700000000000-5c3d9f1e-1234-4567-8901-234567890abc",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36",
            "120.0.6099.109",
            "192.168.100.200",
            "1920 1080 24",
            "G-SHOP123",
            "order 123456789",
            "price 1 234 567.89",
            "/product/0123/456789012",
            "v=2&tid=G-123&_p=1700000000000",
            "1.2.3+build.456789012",
            "12345678901234567890",
            "0.123456789",
            "2024.01.15.1030",
        ] {
            assert!(!contains_phone(no), "should not be a phone: {no}");
        }
    }

    #[test]
    fn emails_and_non_emails() {
        assert!(contains_email("jane@example.com"));
        assert!(contains_email("Jane.Doe+shop@mail.example.co.uk"));
        assert!(contains_email(&percent_decode("jane%40example.com")));
        assert!(!contains_email("logo@2x.png"));
        assert!(!contains_email("/assets/icon@3x.webp"));
        assert!(!contains_email("@segment/analytics-next@1.70.0"));
        assert!(!contains_email("user@localhost"));
    }

    #[test]
    fn json_paths_never_values() {
        let s = Scanner::new(&["address".into(), "user_data.ln".into()]);
        let v = json!({
            "type": "identify",
            "userId": "u-1",
            "messageId": "ajs-next-1700000000000-5c3d9f1e-1234-4567-8901-234567890abc",
            "timestamp": "2024-01-15T10:20:30.123Z",
            "traits": {"email": "jane@example.com", "phone": "5551234567", "address": {"city": "X"},
                       "empty": {"address": ""}},
            "context": {"page": {"url": "https://shop.example/thanks?email=jane%40example.com&x=1"},
                        "userAgent": "Mozilla/5.0 Chrome/120.0.6099.109"},
            "properties": {"products": [{"contact": "+44 20 7946 0958"}],
                           "user_data": {"ln": "doe"}},
        });
        let f = s.scan_json(&v);
        assert_eq!(
            paths(&f),
            vec![
                "context.page.url.query.email email address",
                "properties.products[0].contact phone number",
                "properties.user_data.ln declared personal field `user_data.ln`",
                "traits.address declared personal field `address`",
                "traits.email email address",
                "traits.phone phone number",
            ]
        );
        let dump = format!("{f:?}");
        for secret in ["jane", "example.com", "5551234567", "7946", "doe"] {
            assert!(!dump.contains(secret), "{secret} leaked into {dump}");
        }
    }

    #[test]
    fn requests() {
        let s = Scanner::new(&["em".into()]);
        let req = CapturedRequest {
            seq: 1,
            at_ms: 1,
            phase: crate::capture::Phase::After,
            resource_type: "image".into(),
            headers: [
                (
                    "user-agent".to_string(),
                    "Mozilla/5.0 Chrome/120.0.6099.109".to_string(),
                ),
                ("x-contact".to_string(), "jane@example.com".to_string()),
            ]
            .into_iter()
            .collect(),
            ..CapturedRequest::sent(
                "POST",
                "https://www.facebook.com/tr/?id=1&ev=PageView&ud%5Bem%5D=abc123&ts=1700000000000&dl=https%3A%2F%2Fshop.example%2F%3Fmail%3Djane%2540example.com",
                Some("v=2&tid=G-1&ep.phone=%2B4915112345678\nv=2&em=&_p=1700000000000".into()),
            )
        };
        let f = s.scan_request(&req);
        assert_eq!(
            paths(&f),
            vec![
                "body.ep.phone phone number",
                "headers.x-contact email address",
                "query.dl.query.mail email address",
            ]
        );
        // `ud[em]` is not the key `em`; `em=` (empty) is not a value.
        let s = Scanner::new(&["ud[em]".into()]);
        assert!(
            paths(&s.scan_request(&req))
                .contains(&"query.ud[em] declared personal field `ud[em]`".to_string())
        );
    }
}
