//! Personal data in payloads: email addresses, phone numbers and the spec's own `pii` fields.
//!
//! A finding names *where* personal data sits (`traits.email`, `query.em`, `body.user_data.ph`),
//! never the value. What counts:
//! - an email address anywhere in a string (URL-decoded; `logo@2x.png`-like file names excluded);
//! - a phone number: `+` and 9–15 digits (E.164 or grouped: `+44 20 7946 0958`), a
//!   parenthesised area code (`(555) 123-4567`), or a grouped national number (`555-123-4567`,
//!   `030 1234 5678`, `06 12 34 56 78`). Bare digit runs count only under a phone-like key
//!   (`phone`, `tel`, `mobile`, …): elsewhere they are timestamps and ids. Candidates glued to
//!   letters, dots, dashes, slashes or colons (UUIDs, versions, IPs, dates, paths) never count;
//! - a field the spec names in `pii`: a bare name matches that key anywhere (case-insensitive); a
//!   dotted name matches a path ending with those keys. Empty values (`null`, `""`, `[]`, `{}`) do
//!   not count.
//!
//! Strings that hold JSON or a URL with a query are looked into (`context.page.url.query.email`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use crate::analysis::routing::{self, ReceptionKind, Routing};
use crate::analysis::segment::{Decoded, SegmentEvent};
use crate::capture::{Capture, CapturedRequest, Phase};
use crate::spec::{Collection, DestinationSet, Spec, State};

use super::regime::Effective;
use super::{CheckId, Evidence, Failure};

/// What kind of personal data a finding is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Email,
    Phone,
    /// A field named in the spec's `pii`.
    Declared(String),
}

impl Kind {
    pub fn describe(&self) -> String {
        match self {
            Kind::Email => "email address".into(),
            Kind::Phone => "phone number".into(),
            Kind::Declared(n) => format!("declared personal field `{n}`"),
        }
    }
}

/// One place personal data sits in a payload. Never holds the value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub path: String,
    pub kind: Kind,
}

fn email_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")
            .expect("valid regex")
    })
}

fn phone_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Candidates only: each is then validated by `is_phone`.
    RE.get_or_init(|| Regex::new(r"\+?\(?\d[\d \-.()]{6,24}\d").expect("valid regex"))
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

/// Looks for personal data; built once per trial from the spec's `pii` list.
pub struct Scanner {
    /// Each declared name, split on dots and lower-cased.
    declared: Vec<(String, Vec<String>)>,
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
    pub fn scan_request(&self, req: &CapturedRequest) -> Vec<Finding> {
        let mut out = Findings::default();
        let (before_query, query) = match req.url.split_once('?') {
            Some((b, q)) => (b, Some(q.split('#').next().unwrap_or(q))),
            None => (req.url.split('#').next().unwrap_or(&req.url), None),
        };
        let path = crate::capture::url_path(before_query);
        self.text(&percent_decode(path), "path", None, &mut out, 0);
        if let Some(q) = query {
            self.form(q, "query", &mut out, 0);
        }
        if let Some(body) = req.body_text().filter(|b| !b.is_empty()) {
            self.body(&body, "body", &mut out, 0);
        }
        for (name, value) in &req.headers {
            if name == "user-agent" || name.starts_with("sec-ch-ua") {
                continue;
            }
            let p = format!("headers.{name}");
            self.key(&p, !value.is_empty(), &mut out);
            self.text(value, &p, Some(name), &mut out, 0);
        }
        out.into_vec()
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
            self.key(&p, !v.is_empty(), out);
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
                    self.key(&p, !is_empty(child), out);
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
    fn key(&self, path: &str, present: bool, out: &mut Findings) {
        if !present || self.declared.is_empty() {
            return;
        }
        let segs = path_keys(path);
        for (name, want) in &self.declared {
            if segs.len() >= want.len() && segs[segs.len() - want.len()..] == want[..] {
                out.add(path, Kind::Declared(name.clone()));
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
        if contains_email(&decoded) {
            out.add(path, Kind::Email);
        }
        if contains_phone(&decoded) {
            out.add(path, Kind::Phone);
        } else if let Some(k) = key {
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
        }
    }
}

/// Findings keyed by path (one per path and kind).
#[derive(Default)]
struct Findings(BTreeMap<String, std::collections::BTreeSet<Kind>>);

impl Findings {
    fn add(&mut self, path: &str, kind: Kind) {
        self.0.entry(path.to_string()).or_default().insert(kind);
    }

    fn into_vec(self) -> Vec<Finding> {
        self.0
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

/// `%XX` decoding (a `+` stays a `+`: it may be the start of an international number, or part of
/// an email's local part). Invalid escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn contains_email(s: &str) -> bool {
    if !s.contains('@') {
        return false;
    }
    email_re().find_iter(s).any(|m| {
        let text = m.as_str();
        let Some((_, domain)) = text.rsplit_once('@') else {
            return false;
        };
        let tld = domain.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        let first = domain.split('.').next().unwrap_or("");
        // `logo@2x.png`, `icon@3x.webp`: asset names, not addresses.
        let asset = FILE_TLDS.contains(&tld.as_str())
            || (first.len() >= 2
                && first.ends_with('x')
                && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit()));
        !asset
    })
}

/// Characters that glue a digit run to something that is not a phone number.
fn glued(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-/:@#.+=".contains(c)
}

fn contains_phone(s: &str) -> bool {
    if s.chars().filter(char::is_ascii_digit).count() < 9 {
        return false;
    }
    phone_re().find_iter(s).any(|m| {
        let before = s[..m.start()].chars().next_back();
        let after_str = &s[m.end()..];
        let mut after_chars = after_str.chars();
        let after = after_chars.next();
        // A sentence may end with a dot after the number; a version or IP continues with a digit.
        let after_glued = match after {
            Some('.') => after_chars
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric()),
            Some(c) => glued(c),
            None => false,
        };
        !before.is_some_and(glued) && !after_glued && is_phone(m.as_str())
    })
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

/// Why a payload with personal data is a leak.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    Blocked(String),
    CollectionNone(String),
    BeforeDecision(String),
}

impl Reason {
    fn describe(&self, label: &str) -> String {
        match self {
            Reason::Blocked(note) => format!("`{label}` is blocked in this state{note}"),
            Reason::CollectionNone(note) => {
                format!("no event may reach Segment in this state{note}")
            }
            Reason::BeforeDecision(src) => format!(
                "it was sent before the visitor decided ({src}: no personal data may leave the \
                 page before consent)"
            ),
        }
    }
}

#[derive(Default)]
struct Group {
    destination: Option<String>,
    reasons: std::collections::BTreeSet<Reason>,
    kinds: std::collections::BTreeSet<String>,
    evidence: Vec<Evidence>,
}

/// `pii-leak`: personal data (see the module docs) found in
/// - a Segment event routed (cloud) to a destination blocked in this state, within the judging
///   window, or any event at all when `collection: none` applies;
/// - a request to a blocked destination's hosts within the judging window (for `blocked: all`,
///   undeclared destinations too);
/// - under gdpr, any Segment event or third-party request (destination, undeclared destination or
///   other host) sent before the decision.
///
/// One failure per recipient (a destination, `Segment`, or an unknown host); each evidence line
/// names the payload, when it was sent and the field paths, never the values. A payload is
/// reported once per recipient even when several reasons apply.
pub fn check(
    spec: &Spec,
    state: &State,
    eff: &Effective,
    capture: &Capture,
    decoded: &Decoded,
    routed: &Routing,
) -> Vec<Failure> {
    let scanner = Scanner::new(&spec.pii);
    let in_window = |phase: Phase| state.steps.is_empty() || phase == Phase::After;
    let blocked = |name: &str| eff.blocked.as_ref().is_some_and(|b| b.value.contains(name));
    let blocked_all = eff
        .blocked
        .as_ref()
        .is_some_and(|b| b.value == DestinationSet::All);
    let blocked_note = eff
        .blocked
        .as_ref()
        .map_or(String::new(), |b| b.origin_note());
    let before = eff.pii_before_decision.map(|s| s.to_string());
    let collection_none = eff
        .collection
        .as_ref()
        .filter(|c| c.value == Collection::None);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut add = |label: &str,
                   destination: Option<&str>,
                   reason: Reason,
                   findings: &[Finding],
                   ev: Evidence| {
        let g = groups.entry(label.to_string()).or_default();
        g.destination = destination.map(str::to_string);
        g.reasons.insert(reason);
        g.kinds.extend(findings.iter().map(|f| f.kind.describe()));
        if !g.evidence.contains(&ev) {
            g.evidence.push(ev);
        }
    };

    for (i, e) in decoded.events.iter().enumerate() {
        let findings = scanner.scan_json(&e.payload);
        if findings.is_empty() {
            continue;
        }
        let ev = event_evidence(e, &findings);
        let dests: Vec<&String> = routed
            .event_destinations
            .get(i)
            .into_iter()
            .flatten()
            .filter(|d| blocked(d) && in_window(e.phase))
            .collect();
        for d in &dests {
            add(
                d,
                Some(d),
                Reason::Blocked(blocked_note.clone()),
                &findings,
                ev.clone(),
            );
        }
        if !dests.is_empty() {
            continue;
        }
        if let Some(c) = collection_none {
            add(
                "Segment",
                None,
                Reason::CollectionNone(c.origin_note()),
                &findings,
                ev,
            );
        } else if let Some(src) = &before
            && e.phase == Phase::Before
        {
            add(
                "Segment",
                None,
                Reason::BeforeDecision(src.clone()),
                &findings,
                ev,
            );
        }
    }

    let request = |seq: u64| capture.requests.iter().find(|r| r.seq == seq);
    let mut judge_request =
        |label: &str, destination: Option<&str>, is_blocked: bool, req: &CapturedRequest| {
            let reason = if is_blocked && in_window(req.phase) {
                Reason::Blocked(blocked_note.clone())
            } else if let Some(src) = &before
                && req.phase == Phase::Before
            {
                Reason::BeforeDecision(src.clone())
            } else {
                return;
            };
            let findings = scanner.scan_request(req);
            if !findings.is_empty() {
                add(
                    label,
                    destination,
                    reason,
                    &findings,
                    request_evidence(req, &findings),
                );
            }
        };
    for (name, o) in &routed.destinations {
        let mut seen = std::collections::BTreeSet::new();
        for r in &o.receptions {
            if let ReceptionKind::HostContacted { .. } | ReceptionKind::SocketOpened { .. } = r.kind
                && seen.insert(r.seq)
                && let Some(req) = request(r.seq)
            {
                judge_request(name, Some(name), blocked(name), req);
            }
        }
    }
    for u in &routed.undeclared {
        for e in &u.evidence {
            if let routing::Evidence::HostContacted { seq, .. } = e
                && let Some(req) = request(*seq)
            {
                judge_request(&u.name, Some(&u.name), blocked_all, req);
            }
        }
    }
    if before.is_some() {
        for req in &capture.requests {
            let host = req.host();
            if req.phase == Phase::Before
                && !req.method.eq_ignore_ascii_case("OPTIONS")
                && routed.other_hosts.contains(&host)
            {
                judge_request(&host, None, false, req);
            }
        }
    }

    groups
        .into_iter()
        .map(|(label, g)| {
            let reasons: Vec<String> = g.reasons.iter().map(|r| r.describe(&label)).collect();
            let kinds: Vec<String> = g.kinds.into_iter().collect();
            let quote = if g.destination.is_some() { "`" } else { "" };
            Failure {
                check: CheckId::PiiLeak,
                destination: g.destination,
                message: format!(
                    "personal data ({}) reached {}{label}{}: {}; keep personal fields out of what \
                     is sent there until the visitor consents",
                    kinds.join(", "),
                    quote,
                    quote,
                    reasons.join("; ")
                ),
                evidence: g.evidence,
            }
        })
        .collect()
}

fn field_list(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} ({})", f.path, f.kind.describe()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An event, described without any value: the event name is left out when it holds the data.
fn event_evidence(e: &SegmentEvent, findings: &[Finding]) -> Evidence {
    let named_field =
        |f: &Finding| f.path == "event" || f.path == "name" || f.path.starts_with("event.");
    let what = if findings.iter().any(named_field) {
        e.call.as_str().to_string()
    } else {
        super::describe_event(e)
    };
    Evidence {
        at_ms: e.at_ms,
        phase: e.phase,
        what: format!(
            "{what} sent to {}{}: {}",
            e.host,
            e.path,
            field_list(findings)
        ),
    }
}

/// A request, described without any value: the path is left out when it holds the data.
fn request_evidence(req: &CapturedRequest, findings: &[Finding]) -> Evidence {
    let path = if findings.iter().any(|f| f.path == "path") {
        " (path withheld)".to_string()
    } else {
        req.path().to_string()
    };
    Evidence {
        at_ms: req.at_ms,
        phase: req.phase,
        what: format!(
            "{} {}{path}: {}",
            req.method,
            req.host(),
            field_list(findings)
        ),
    }
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
            method: "POST".into(),
            url: "https://www.facebook.com/tr/?id=1&ev=PageView&ud%5Bem%5D=abc123&ts=1700000000000&dl=https%3A%2F%2Fshop.example%2F%3Fmail%3Djane%2540example.com".into(),
            resource_type: "image".into(),
            headers: [
                ("user-agent".to_string(), "Mozilla/5.0 Chrome/120.0.6099.109".to_string()),
                ("x-contact".to_string(), "jane@example.com".to_string()),
            ]
            .into_iter()
            .collect(),
            body: Some("v=2&tid=G-1&ep.phone=%2B4915112345678\nv=2&em=&_p=1700000000000".as_bytes().to_vec()),
            answer: crate::capture::Answer::Sinkhole,
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
