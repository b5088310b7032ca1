//! Payload signatures: how a vendor's requests look whatever host receives them (a first-party
//! proxy, a CNAME'd collector, a server-side tag manager, an unknown relay). Each catalog entry
//! may list some under `payload:` in `destinations.yaml`; the vendors' public documentation each
//! one follows is cited beside it. Segment's own bodies are not here: the Segment decoder
//! (`segment::decode::classify`) already recognises them on any host.

use std::collections::BTreeMap;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::analysis::privacy::percent_decode;
use crate::capture::CapturedRequest;

/// One signature, as the catalog file writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadSignature {
    /// What it recognises, for evidence: `GA4 measurement protocol hit`.
    pub(crate) what: String,
    /// The request path ends with this (a trailing `/` on the request is ignored).
    #[serde(default)]
    pub(crate) path: Option<String>,
    /// Parameters the query string or a form-encoded body carries: name → value glob (`*`: any
    /// value, present).
    #[serde(default)]
    pub(crate) params: BTreeMap<String, String>,
    /// Fields a JSON body carries: dotted path → value glob (`*`: any value, present).
    #[serde(default)]
    pub(crate) json: BTreeMap<String, String>,
    /// The vendor's public documentation of this wire format.
    pub(crate) doc: String,
}

impl PayloadSignature {
    /// Checks the signature is usable: it says something (`params` or `json`) and every value
    /// is a valid glob.
    #[cfg(test)]
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.params.is_empty() && self.json.is_empty() {
            return Err(format!("`{}` names no params or json fields", self.what));
        }
        for v in self.params.values().chain(self.json.values()) {
            glob(v).map_err(|e| format!("`{}`: {v:?} is not a glob: {e}", self.what))?;
        }
        Ok(())
    }

    /// Whether `req` carries this signature.
    pub(crate) fn matches(&self, req: &CapturedRequest) -> bool {
        if let Some(p) = &self.path {
            let path = req.path();
            let path = path.split(['?', '#']).next().unwrap_or(path);
            let path = path.strip_suffix('/').unwrap_or(path);
            let want = p.strip_suffix('/').unwrap_or(p);
            if !path.ends_with(want) {
                return false;
            }
        }
        if !self.params.is_empty() {
            let query = req.url.split_once('?').map_or("", |(_, q)| q);
            let query = query.split('#').next().unwrap_or(query);
            let body = req.body_text().unwrap_or_default();
            // GA4 batches several hits in one body, one query string per line.
            let in_query = all_match(&self.params, &form_pairs(query));
            let in_body = || {
                let shared = form_pairs(query);
                body.lines().any(|line| {
                    let mut pairs = shared.clone();
                    pairs.extend(form_pairs(line));
                    all_match(&self.params, &pairs)
                })
            };
            if !in_query && !in_body() {
                return false;
            }
        }
        if !self.json.is_empty() {
            let Some(value) = req
                .body_text()
                .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            else {
                return false;
            };
            let ok = self.json.iter().all(|(path, pattern)| {
                lookup(&value, path).is_some_and(|v| value_matches(v, pattern))
            });
            if !ok {
                return false;
            }
        }
        true
    }
}

fn glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    Glob::new(pattern).map(|g| g.compile_matcher())
}

/// Name → value pairs of a query string or form body line (later values win).
fn form_pairs(s: &str) -> BTreeMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn all_match(want: &BTreeMap<String, String>, got: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(k, pattern)| {
        got.get(k)
            .is_some_and(|v| !v.is_empty() && glob(pattern).is_ok_and(|g| g.is_match(v)))
    })
}

/// A dotted path into a JSON value; an array step looks into its first element.
fn lookup<'v>(value: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(value, |v, key| {
        let v = match v {
            serde_json::Value::Array(items) => items.first()?,
            other => other,
        };
        v.get(key)
    })
}

fn value_matches(v: &serde_json::Value, pattern: &str) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.is_empty() && glob(pattern).is_ok_and(|g| g.is_match(s)),
        _ => pattern == "*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Phase;

    fn req(method: &str, url: &str, body: Option<&str>) -> CapturedRequest {
        CapturedRequest {
            phase: Phase::After,
            ..CapturedRequest::sent(method, url, body.map(|b| b.as_bytes().to_vec()))
        }
    }

    fn sig(yaml: &str) -> PayloadSignature {
        let s: PayloadSignature = serde_yaml::from_str(yaml).unwrap();
        s.validate().unwrap();
        s
    }

    #[test]
    fn ga4_hits_in_query_or_body_lines() {
        let s = sig("{what: GA4, path: /g/collect, params: {v: '2', tid: 'G-*', en: '*'}, doc: x}");
        // In the query, or one of the body's lines.
        for (url, body) in [
            (
                "https://sgtm.shop.example/g/collect?v=2&tid=G-ABC&cid=1&en=page_view",
                None,
            ),
            (
                "https://sgtm.shop.example/g/collect?v=2&tid=G-ABC&cid=1",
                Some("en=scroll&_et=1\nen=click"),
            ),
        ] {
            assert!(s.matches(&req("POST", url, body)), "{url}");
        }
        // Universal Analytics, a GA4 hit without event, another path.
        for url in [
            "https://x.example/g/collect?v=2&tid=UA-1&en=a",
            "https://x.example/g/collect?v=2&tid=G-1",
            "https://x.example/collect?v=2&tid=G-1&en=a",
        ] {
            assert!(!s.matches(&req("GET", url, None)), "{url}");
        }
    }

    #[test]
    fn meta_pixel_and_json_bodies() {
        let meta = sig("{what: Meta, path: /tr, params: {id: '*', ev: '*'}, doc: x}");
        assert!(meta.matches(&req(
            "GET",
            "https://m.shop.example/tr/?id=1&ev=PageView",
            None
        )));
        assert!(!meta.matches(&req("GET", "https://m.shop.example/tr/?id=1", None)));
        let tiktok = sig("{what: TikTok, json: {event: '*', context.pixel.code: '*'}, doc: x}");
        let body = r#"{"event":"Pageview","context":{"pixel":{"code":"C1"}}}"#;
        assert!(tiktok.matches(&req("POST", "https://t.example/api/v2/pixel", Some(body))));
        assert!(!tiktok.matches(&req(
            "POST",
            "https://t.example/p",
            Some(r#"{"event":"x"}"#)
        )));
        assert!(!tiktok.matches(&req("POST", "https://t.example/p", Some("event=x"))));
        let api = sig("{what: API, json: {event_source_id: '*', data.event: '*'}, doc: x}");
        let body =
            r#"{"event_source":"web","event_source_id":"C1","data":[{"event":"ViewContent"}]}"#;
        assert!(api.matches(&req("POST", "https://t.example/e", Some(body))));
    }

    #[test]
    fn a_signature_must_say_something() {
        let s: PayloadSignature = serde_yaml::from_str("{what: x, path: /a, doc: y}").unwrap();
        assert!(s.validate().is_err());
    }
}
