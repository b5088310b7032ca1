//! What one trial recorded: every request the page made, when, and how it was answered.
//!
//! The session fills a [`Capture`]; everything downstream (Segment decoding, routing, verdicts,
//! snapshots) reads it and never talks to the browser.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a request sits relative to the visitor's consent decision (the first step of a state,
/// at the instant it lands: the press on its control, the CMP API call, or the step's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Sent before the first step ran (or in a state without steps: the whole visit).
    Before,
    /// Sent once the decision landed.
    After,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::After => "after",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the harness answered a request at the network edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// From a `site.serve` folder.
    Served,
    /// From the pinned npm build of `@segment/analytics-next`.
    SegmentLibrary,
    /// From the spec's `segment.settings` file.
    SegmentSettings,
    /// Recorded and answered locally with an empty response (offline sinkhole or Segment API).
    Sinkhole,
    /// Let through to the real network.
    Network,
    /// An offline top-level navigation away from the site, answered with a small stand-in page
    /// so that the step that left completes and the rest of the visit is judged.
    StandIn,
    /// Not answered by the harness (navigation of `data:` URLs and the like).
    Unrouted,
}

/// What made the browser send a request, as far as Playwright tells (resource type, frame) and
/// the session knows (which step was running).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Initiator {
    /// A subresource of a page (script, stylesheet, image, xhr/fetch, beacon/ping, …:
    /// `resource_type` says which), or a request whose frame Playwright did not name.
    #[default]
    Page,
    /// A document loaded into a frame inside the page (an iframe).
    Frame,
    /// A top-level document navigation that no step caused: the site's first page, `site.pages`,
    /// or a redirect the page made by itself.
    Navigation,
    /// A top-level document navigation made while step `step` (1-based) ran or settled: the
    /// visitor followed a link or sent a form (or a `visit` step).
    StepNavigation { step: usize },
    /// Sent past every Playwright route and recorded by the network layer behind them
    /// (`browser/backstop.rs`): by a shared or service worker, by a page while it really unloaded
    /// (beacons, keepalive fetches), or by the browser for a page (its icon). `target` is the
    /// kind of sender.
    Unrouted { target: TargetKind },
}

/// The kind of browser target that sent an unrouted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    Page,
    Iframe,
    Worker,
    SharedWorker,
    ServiceWorker,
    Other,
}

impl TargetKind {
    /// From the DevTools protocol's target type (`page`, `shared_worker`, ...).
    pub fn of(cdp_type: &str) -> TargetKind {
        match cdp_type {
            "page" => TargetKind::Page,
            "iframe" => TargetKind::Iframe,
            "worker" => TargetKind::Worker,
            "shared_worker" => TargetKind::SharedWorker,
            "service_worker" => TargetKind::ServiceWorker,
            _ => TargetKind::Other,
        }
    }
}

/// Where one decision step began in a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DecisionMark {
    /// The first request recorded from the decision on.
    pub first_seq: u64,
    /// Milliseconds since the trial's first navigation started.
    pub at_ms: u64,
}

/// One request as the browser issued it.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedRequest {
    /// Order in which the harness saw the request (stable tie-breaker).
    pub seq: u64,
    /// Milliseconds since the trial's first navigation started.
    pub at_ms: u64,
    pub phase: Phase,
    pub method: String,
    pub url: String,
    /// Playwright's resource type: document, script, xhr, fetch, image, ping, ...
    pub resource_type: String,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// Request body, byte for byte as the browser sent it (still compressed when it says
    /// `Content-Encoding`); [`CapturedRequest::content`] undoes the encoding.
    #[serde(serialize_with = "lossy_body")]
    pub body: Option<Vec<u8>>,
    pub answer: Answer,
    pub initiator: Initiator,
}

fn lossy_body<S: serde::Serializer>(body: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match body {
        Some(b) => s.serialize_some(&String::from_utf8_lossy(b)),
        None => s.serialize_none(),
    }
}

/// Decoded bodies larger than this are cut here: enough to read any Segment batch (Segment caps
/// one at 500 KB), and a bound against decompression bombs.
pub const MAX_CONTENT_BYTES: usize = 5 * 1024 * 1024;

impl CapturedRequest {
    /// A request made by hand rather than recorded (the unit and property tests' captures): a
    /// `fetch` from the page, the first of the visit, before the decision, answered by the
    /// sinkhole. Callers change what differs with struct update syntax.
    pub fn sent(method: &str, url: impl Into<String>, body: Option<Vec<u8>>) -> CapturedRequest {
        CapturedRequest {
            seq: 0,
            at_ms: 0,
            phase: Phase::Before,
            method: method.into(),
            url: url.into(),
            resource_type: "fetch".into(),
            headers: BTreeMap::new(),
            body,
            answer: Answer::Sinkhole,
            initiator: Initiator::Page,
        }
    }

    /// Host of the URL, lower-cased, without port; empty when the URL has none.
    pub fn host(&self) -> String {
        url_host(&self.url)
    }

    /// Path of the URL without query or fragment ("/" when empty).
    pub fn path(&self) -> &str {
        url_path(&self.url)
    }

    /// Whether this is a WebSocket handshake (its frames are in [`Capture::sockets`]).
    pub fn is_socket(&self) -> bool {
        self.resource_type == "websocket"
    }

    /// The body with its `Content-Encoding` (gzip, deflate, br, in the order applied) undone and
    /// cut at [`MAX_CONTENT_BYTES`]; `Ok(None)` without a body, `Err` naming the encoding that
    /// could not be undone.
    pub fn content(&self) -> Result<Option<Cow<'_, [u8]>>, String> {
        let Some(body) = self.body.as_deref() else {
            return Ok(None);
        };
        let encodings: Vec<String> = self
            .headers
            .get("content-encoding")
            .map(|v| {
                v.split(',')
                    .map(|e| e.trim().to_ascii_lowercase())
                    .filter(|e| !e.is_empty() && e != "identity")
                    .collect()
            })
            .unwrap_or_default();
        let mut data = Cow::Borrowed(body);
        // Encodings are listed in the order they were applied: undo the last first.
        for enc in encodings.iter().rev() {
            data = Cow::Owned(decompress(enc, &data)?);
        }
        Ok(Some(data))
    }

    /// The decoded body as text (invalid UTF-8 replaced); when the encoding cannot be undone, the
    /// raw body so that nothing is hidden.
    pub fn body_text(&self) -> Option<String> {
        match self.content() {
            Ok(c) => c.map(|b| String::from_utf8_lossy(&b).into_owned()),
            Err(_) => self
                .body
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// Undoes one content coding, reading at most [`MAX_CONTENT_BYTES`].
fn decompress(encoding: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let limit = MAX_CONTENT_BYTES as u64;
    let mut out = Vec::new();
    let read = |r: &mut dyn Read, out: &mut Vec<u8>| r.take(limit).read_to_end(out).map(|_| ());
    let result = match encoding {
        "gzip" | "x-gzip" => read(&mut flate2::read::MultiGzDecoder::new(data), &mut out),
        // HTTP's "deflate" is zlib-wrapped; some clients send raw deflate.
        "deflate" => read(&mut flate2::read::ZlibDecoder::new(data), &mut out).or_else(|_| {
            out.clear();
            read(&mut flate2::read::DeflateDecoder::new(data), &mut out)
        }),
        "br" => read(
            &mut brotli_decompressor::Decompressor::new(data, 4096),
            &mut out,
        ),
        other => return Err(format!("unknown Content-Encoding `{other}`")),
    };
    result
        .map(|()| out)
        .map_err(|e| format!("Content-Encoding `{encoding}` could not be undone: {e}"))
}

/// HTTP(S) and WebSocket URLs: what can reach a vendor (not a path, `data:` or `about:`).
pub fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    ["http://", "https://", "ws://", "wss://"]
        .iter()
        .any(|s| lower.starts_with(s))
}

/// Host part of `url`, lower-cased and without port.
pub fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    host.to_ascii_lowercase()
}

/// Path part of `url` ("/" when empty), without query or fragment.
pub fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = match rest.find('/') {
        Some(i) => &rest[i..],
        None => "/",
    };
    let end = path.find(['?', '#']).unwrap_or(path.len());
    if end == 0 { "/" } else { &path[..end] }
}

/// What one WebSocket carried from the page, by the `seq` of its handshake (recorded as a
/// [`CapturedRequest`] with resource type `websocket`). Counts and sizes only: frame values may be
/// personal data and are never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SocketFrames {
    pub seq: u64,
    /// Frames the page sent.
    pub sent: u64,
    /// Their total size as Playwright hands them over (text, or base64 for binary frames).
    pub sent_bytes: u64,
}

/// A request or WebSocket the browser reported for this trial that the recorder never saw: it
/// went past every route and the network layer, so nothing judged it (check
/// `unrecorded-traffic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unrecorded {
    pub at_ms: u64,
    pub phase: Phase,
    pub method: String,
    pub url: String,
    /// Who sent it, in words.
    pub initiator: String,
}

/// A cookie the page left behind (values are never kept: they may be personal data).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StoredCookie {
    pub name: String,
    pub domain: String,
}

/// A `localStorage` key the page left behind, by origin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StoredKey {
    pub origin: String,
    pub key: String,
}

/// A queue analytics-next persisted to `localStorage` (`persisted-queue:v1:<name>:items`) that
/// still held events when the state ended. Only the key's name and the events' `messageId`s are
/// kept, never their contents.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct HeldQueue {
    pub origin: String,
    /// The queue's name: `<writeKey>:dest-Segment.io`, `<writeKey>:event-queue`,
    /// `<writeKey>:dest-<Destination>`.
    pub name: String,
    /// The `messageId` of each held event (`None` where it had none).
    pub message_ids: Vec<Option<String>>,
}

impl HeldQueue {
    /// The `localStorage` key analytics-next stores the queue's items under.
    pub fn key(&self) -> String {
        format!("{QUEUE_KEY_PREFIX}{}{QUEUE_KEY_SUFFIX}", self.name)
    }

    /// The queue's name from a `localStorage` key, when the key is a persisted queue's items.
    pub fn name_of(key: &str) -> Option<&str> {
        key.strip_prefix(QUEUE_KEY_PREFIX)?
            .strip_suffix(QUEUE_KEY_SUFFIX)
    }
}

const QUEUE_KEY_PREFIX: &str = "persisted-queue:v1:";
const QUEUE_KEY_SUFFIX: &str = ":items";

/// What the page reported about its environment at the end of the visit: the values the launch
/// and context options pin (`crate::browser::pinned`), read back from the page.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PageEnvironment {
    /// `navigator.onLine`.
    pub online: bool,
    /// `navigator.language`.
    pub locale: String,
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone`.
    pub time_zone: String,
    /// `screen.width` x `screen.height`.
    pub screen: String,
    /// `devicePixelRatio`.
    pub scale: f64,
    /// `navigator.hardwareConcurrency`.
    pub cores: u32,
}

/// How a visit's settles went: properties of the page, the same on every run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settling {
    /// `controlled` (Playwright's clock, run forward while settling) or `real` (`timing.clock`).
    pub clock: String,
    /// Settles after which requests kept coming over many horizons of page time (a heartbeat):
    /// `after step 1 (cmp reject_all): …`.
    pub never_idle: Vec<String>,
}

/// Everything one trial recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Capture {
    /// In the order the harness saw them, WebSocket handshakes included.
    pub requests: Vec<CapturedRequest>,
    /// Frame counts of each WebSocket, by handshake `seq`.
    pub sockets: Vec<SocketFrames>,
    /// What the browser reported and the recorder did not see (judged by `unrecorded-traffic`).
    pub unrecorded: Vec<Unrecorded>,
    /// When the first step started (ms since navigation), `None` for a state without steps.
    pub decision_at_ms: Option<u64>,
    /// Where each decision of the state began, in order (the first is the decision): the
    /// requests with `seq >= first_seq` were sent from it on. Only the decisions the visit
    /// reached.
    pub decisions: Vec<DecisionMark>,
    pub cookies: Vec<StoredCookie>,
    pub local_storage: Vec<StoredKey>,
    /// The CMP's own recorded choice at the end of the visit, by stamp category id, read through
    /// the spec's CMP adapter (`None`: no adapter, or the CMP has no recorded choice).
    pub cmp_choice: Option<BTreeMap<String, bool>>,
    /// The built-in adapter whose CMP was found on the page (`cmp: auto` acted through it; for a
    /// named adapter it is read at the end of the visit). `None`: no `cmp:`, or nothing found.
    pub cmp_detected: Option<String>,
    /// The `@duckduckgo/autoconsent` rule that carried out a `cmp: autoconsent` step.
    pub autoconsent_rule: Option<String>,
    /// The IAB TCF v2 TC string the page gave vendors at the end of the visit (its timestamps
    /// zeroed), when it has a `__tcfapi` that answered.
    pub tcf: Option<String>,
    /// The IAB GPP string, when the page has a `__gpp` that answered.
    pub gpp: Option<String>,
    /// analytics-next queues that still held events at the end of the visit.
    pub held_queues: Vec<HeldQueue>,
    /// Page globals (window properties) holding a loaded analytics.js instance at the end of
    /// the visit, sorted: `analytics` for the snippet's, any other name a site gave its own.
    pub segment_globals: Vec<String>,
    /// The page's own view of its environment at the end of the visit (`None`: it could not be
    /// read, e.g. the page had closed).
    pub environment: Option<PageEnvironment>,
    /// When the visit ended (the storage was read), in milliseconds since the first navigation.
    pub ended_at_ms: u64,
    /// Which clock the page settled on, and the settles that never found it idle.
    pub settling: Settling,
    /// The visit stopped before its steps (and pages) were done: a step missed or failed, the
    /// site did not load, the trial ran out of time. What it recorded up to then is still judged,
    /// but nothing can be said to be missing.
    pub interrupted: bool,
    /// Values of the cookies the visit left (and their decoded spellings), in memory only: they
    /// recognise identifiers sent elsewhere and are redacted from every artefact. Never serialised.
    #[serde(skip)]
    pub cookie_values: Vec<String>,
}

impl Capture {
    /// The frames of the WebSocket whose handshake is request `seq`.
    pub fn socket(&self, seq: u64) -> Option<&SocketFrames> {
        self.sockets.iter().find(|s| s.seq == seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn with_body(encoding: Option<&str>, body: Vec<u8>) -> CapturedRequest {
        CapturedRequest {
            headers: encoding
                .map(|e| ("content-encoding".to_string(), e.to_string()))
                .into_iter()
                .collect(),
            ..CapturedRequest::sent("POST", "https://x.example/collect", Some(body))
        }
    }

    #[test]
    fn content_undoes_gzip_deflate_and_brotli() {
        let text = br#"{"batch":[]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zl.write_all(text).unwrap();
        let zl = zl.finish().unwrap();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(text).unwrap();
        let raw = raw.finish().unwrap();
        let mut br = Vec::new();
        brotli::BrotliCompress(
            &mut &text[..],
            &mut br,
            &brotli::enc::BrotliEncoderParams::default(),
        )
        .unwrap();
        for (enc, body) in [
            ("gzip", gz.clone()),
            ("GZIP", gz.clone()),
            ("deflate", zl),
            ("deflate", raw),
            ("br", br),
        ] {
            let r = with_body(Some(enc), body);
            assert_eq!(r.content().unwrap().as_deref(), Some(&text[..]), "{enc}");
            assert_eq!(r.body_text().as_deref(), Some(r#"{"batch":[]}"#));
        }
        let r = with_body(Some("gzip"), b"not gzip".to_vec());
        assert!(r.content().unwrap_err().contains("gzip"));
        assert_eq!(r.body_text().as_deref(), Some("not gzip"));
        let r = with_body(Some("zstd-unknown"), b"x".to_vec());
        assert!(r.content().is_err());
        let r = with_body(Some("identity"), b"x".to_vec());
        assert_eq!(r.content().unwrap().as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn content_is_bounded() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'a'; MAX_CONTENT_BYTES + 10]).unwrap();
        let r = with_body(Some("gzip"), gz.finish().unwrap());
        assert_eq!(r.content().unwrap().unwrap().len(), MAX_CONTENT_BYTES);
    }

    #[test]
    fn host_and_path() {
        assert_eq!(
            url_host("https://API.segment.io:443/v1/t?x=1"),
            "api.segment.io"
        );
        assert_eq!(url_path("https://api.segment.io/v1/t?x=1"), "/v1/t");
        assert_eq!(url_path("https://shop.example"), "/");
        assert_eq!(url_path("https://shop.example?x"), "/");
        assert_eq!(url_host("https://u:p@[::1]:8080/x"), "[::1]");
    }
}
