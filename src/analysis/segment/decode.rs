//! Classify recorded requests and decode Segment events, batches and telemetry.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::capture::{Capture, CapturedRequest, Phase};
use crate::spec::types::{Call, Word};

/// Bodies larger than this are not parsed; a Segment-looking request carrying one is recorded as
/// malformed. (Segment itself caps a batch at 500 KB.)
pub const MAX_BODY_BYTES: usize = crate::capture::MAX_CONTENT_BYTES;

/// What a request loads from Segment's CDN (or a proxy of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum LoadKind {
    /// `/analytics.js/v1/<writeKey>/(platform/)?analytics(.min|.classic)?.js`
    Library { write_key: Option<String> },
    /// `/v1/projects/<writeKey>/settings`
    Settings { write_key: String },
    /// `/analytics-next/bundles/…` (webpack chunks of analytics-next)
    Chunk,
    /// `/next-integrations/integrations/<slug>/…` (classic device-mode destination code). The
    /// slug is as requested: base64 when the settings ask for `obfuscate`.
    ClassicDestination { slug: String },
    /// `/next-integrations/actions/<dir>/…` (action destination code, from `remotePlugins`).
    ActionDestination { dir: String },
}

/// What one recorded request is, as far as Segment is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum RequestKind {
    Load(LoadKind),
    /// One event: `…/v1/{t,p,i,g,a,s}` (analytics.js 2.0 and 1.0) or `/v1/{track,page,…}` (HTTP API).
    Event {
        call: Call,
    },
    /// `…/v1/b` (analytics-next batching) or `/v1/batch`, `/v1/import` (HTTP API) with `{batch: [...]}`.
    Batch,
    /// `…/v1/m` with `{series: [...]}`: library metrics, not collection.
    Telemetry,
    /// CORS preflight (`OPTIONS`): carries no data, ignored.
    Preflight,
    /// A request to Segment's API hosts, or to a Segment API path (`/v1/<t|p|i|g|a|s|b|m|batch|…>`)
    /// on any host, whose payload could not be decoded: judged by `undecodable-segment`.
    Malformed {
        reason: String,
    },
    Other,
}

impl RequestKind {
    /// Whether the request is Segment's own traffic (library, settings, API), preflights excluded.
    pub(crate) fn is_segment(&self) -> bool {
        !matches!(self, RequestKind::Other | RequestKind::Preflight)
    }
}

/// A request that loaded Segment code or settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryLoad {
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    pub(crate) phase: Phase,
    pub(crate) host: String,
    pub(crate) path: String,
    #[serde(flatten)]
    pub(crate) kind: LoadKind,
}

/// Where an event stands on consent (docs/segment.md §3.4). Segment's servers route an event
/// without `categoryPreferences` to every destination; an event with them only to destinations
/// whose categories are all `true` (and to unmapped destinations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentStamp {
    /// No `context.consent` at all (or not an object).
    Absent,
    /// `context.consent` is present but has no `categoryPreferences` object (`consent: {}` included).
    NoPreferences,
    /// `context.consent.categoryPreferences`; values other than `true` count as `false`. An empty map
    /// means "every category denied".
    Preferences(BTreeMap<String, bool>),
}

impl ConsentStamp {
    /// The category preferences, when the event carries them.
    pub(crate) fn preferences(&self) -> Option<&BTreeMap<String, bool>> {
        match self {
            ConsentStamp::Preferences(p) => Some(p),
            _ => None,
        }
    }

    /// Read the stamp of one event object.
    pub(crate) fn of_event(event: &Value) -> ConsentStamp {
        let Some(consent) = event
            .get("context")
            .and_then(|c| c.get("consent"))
            .and_then(Value::as_object)
        else {
            return ConsentStamp::Absent;
        };
        match consent
            .get("categoryPreferences")
            .and_then(Value::as_object)
        {
            None => ConsentStamp::NoPreferences,
            Some(prefs) => ConsentStamp::Preferences(
                prefs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_bool() == Some(true)))
                    .collect(),
            ),
        }
    }
}

impl std::fmt::Display for ConsentStamp {
    /// The one spelling of a stamp (snapshot, report timeline): `absent`, `no-preferences`,
    /// `C0001=true C0002=false`, and `{} (all denied)` for an empty `categoryPreferences`, which
    /// Segment reads as every category denied and which must not look like no stamp at all.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsentStamp::Absent => f.write_str("absent"),
            ConsentStamp::NoPreferences => f.write_str("no-preferences"),
            ConsentStamp::Preferences(p) if p.is_empty() => f.write_str("{} (all denied)"),
            ConsentStamp::Preferences(p) => {
                for (i, (k, v)) in p.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                Ok(())
            }
        }
    }
}

/// One Segment event (a batch contributes one per element).
#[derive(Debug, Clone, Serialize)]
pub struct SegmentEvent {
    /// `seq` of the request that carried it.
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    pub(crate) phase: Phase,
    pub(crate) host: String,
    pub(crate) path: String,
    /// Carried in a batch (`/v1/b`, `/v1/batch`).
    pub(crate) batched: bool,
    pub(crate) call: Call,
    /// Track `event`, page/screen `name`.
    pub(crate) name: Option<String>,
    pub(crate) consent: ConsentStamp,
    pub(crate) integrations: Map<String, Value>,
    pub(crate) user_id: Option<String>,
    pub(crate) anonymous_id: Option<String>,
    /// Non-empty `traits` or `context.traits`.
    pub(crate) has_traits: bool,
    pub(crate) message_id: Option<String>,
    pub(crate) write_key: Option<String>,
    /// The full event object (for PII checks).
    pub(crate) payload: Value,
}

/// A Segment-looking request (or batch element) that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Malformed {
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    pub(crate) phase: Phase,
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) reason: String,
}

/// Everything Segment-related in one capture, in request order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Decoded {
    pub(crate) library_loads: Vec<LibraryLoad>,
    pub settings_fetched: bool,
    /// Write keys seen in library/settings paths and event bodies.
    pub(crate) write_keys: BTreeSet<String>,
    pub events: Vec<SegmentEvent>,
    /// Number of telemetry (`/v1/m`) requests.
    pub(crate) telemetry: usize,
    pub(crate) malformed: Vec<Malformed>,
    /// Page globals holding a loaded analytics.js instance ([`Capture::segment_globals`]).
    pub(crate) globals: Vec<String>,
}

impl Decoded {
    /// Destination code Segment loaded, as `integrations/<slug>` (classic) and `actions/<dir>`.
    pub fn destination_code(&self) -> BTreeSet<String> {
        self.library_loads
            .iter()
            .filter_map(|l| match &l.kind {
                LoadKind::ClassicDestination { slug } => Some(format!("integrations/{slug}")),
                LoadKind::ActionDestination { dir } => Some(format!("actions/{dir}")),
                _ => None,
            })
            .collect()
    }
}

/// Classify one request by its path and body shape (any host).
pub fn classify(req: &CapturedRequest) -> RequestKind {
    classify_parsed(req).0
}

/// Decode every request of a capture, in request order.
pub fn decode(capture: &Capture) -> Decoded {
    let mut out = Decoded {
        globals: capture.segment_globals.clone(),
        ..Decoded::default()
    };
    let mut reqs: Vec<&CapturedRequest> = capture.requests.iter().collect();
    reqs.sort_by_key(|r| (r.at_ms, r.seq));
    for req in reqs {
        let (kind, body) = classify_parsed(req);
        let at = At {
            req,
            host: req.host(),
            path: req.path().to_string(),
        };
        match kind {
            RequestKind::Load(load) => out.add_load(&at, load),
            RequestKind::Event { call } => {
                if let Some(body) = body {
                    let basic_wk = basic_auth_write_key(req);
                    let ev = event_from(
                        req,
                        &at.host,
                        &at.path,
                        body,
                        Some(call),
                        false,
                        basic_wk.as_deref(),
                    );
                    out.add_event(&at, ev, None);
                }
            }
            RequestKind::Batch => out.add_batch(&at, body),
            RequestKind::Telemetry => out.telemetry += 1,
            RequestKind::Malformed { reason } => out.malformed.push(at.malformed(reason)),
            RequestKind::Preflight | RequestKind::Other => {}
        }
    }
    out
}

/// The request being decoded, with its host and path.
struct At<'a> {
    req: &'a CapturedRequest,
    host: String,
    path: String,
}

impl At<'_> {
    fn malformed(&self, reason: String) -> Malformed {
        Malformed {
            seq: self.req.seq,
            at_ms: self.req.at_ms,
            phase: self.req.phase,
            host: self.host.clone(),
            path: self.path.clone(),
            reason,
        }
    }
}

impl Decoded {
    /// A load of Segment's library, settings or destination code (and the write key it names).
    fn add_load(&mut self, at: &At, load: LoadKind) {
        match &load {
            LoadKind::Settings { write_key } => {
                self.settings_fetched = true;
                self.write_keys.insert(write_key.clone());
            }
            LoadKind::Library {
                write_key: Some(wk),
            } => {
                self.write_keys.insert(wk.clone());
            }
            _ => {}
        }
        self.library_loads.push(LibraryLoad {
            seq: at.req.seq,
            at_ms: at.req.at_ms,
            phase: at.req.phase,
            host: at.host.clone(),
            path: at.path.clone(),
            kind: load,
        });
    }

    /// One decoded event, or why it is malformed (`element`: its index in a batch).
    fn add_event(&mut self, at: &At, ev: Result<SegmentEvent, String>, element: Option<usize>) {
        match ev {
            Ok(ev) => {
                if let Some(wk) = &ev.write_key {
                    self.write_keys.insert(wk.clone());
                }
                self.events.push(ev);
            }
            Err(reason) => {
                let reason = match element {
                    Some(i) => format!("batch element {i}: {reason}"),
                    None => reason,
                };
                self.malformed.push(at.malformed(reason));
            }
        }
    }

    /// A batch: each element an event, with the envelope's write key.
    fn add_batch(&mut self, at: &At, body: Option<Value>) {
        let Some(Value::Object(mut envelope)) = body else {
            return;
        };
        let envelope_wk = envelope
            .get("writeKey")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| basic_auth_write_key(at.req));
        let Some(Value::Array(items)) = envelope.remove("batch") else {
            return;
        };
        for (i, item) in items.into_iter().enumerate() {
            let ev = event_from(
                at.req,
                &at.host,
                &at.path,
                item,
                None,
                true,
                envelope_wk.as_deref(),
            );
            self.add_event(at, ev, Some(i));
        }
    }
}

/// Call letters analytics.js uses as the last path segment (`ctx.event.type.charAt(0)`).
fn call_from_letter(seg: &str) -> Option<Call> {
    Some(match seg {
        "t" => Call::Track,
        "p" => Call::Page,
        "i" => Call::Identify,
        "g" => Call::Group,
        "a" => Call::Alias,
        "s" => Call::Screen,
        _ => return None,
    })
}

/// Call type from a body `type` or an HTTP API path word.
fn call_from_word(word: &str) -> Option<Call> {
    Call::from_word(word)
}

/// Path segments, empty ones dropped (`//v1/t/` → `["v1", "t"]`).
fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The Segment CDN load a URL path stands for (library, settings, chunk, destination code).
pub(crate) fn load_kind_of_path(path: &str) -> Option<LoadKind> {
    load_kind(&segments(path))
}

fn load_kind(segs: &[&str]) -> Option<LoadKind> {
    // /analytics.js/v1/<wk>/(platform/)?analytics(.min|.classic)?.js
    if let Some(i) = segs.iter().position(|s| *s == "analytics.js")
        && segs.get(i + 1) == Some(&"v1")
        && let Some(wk) = segs.get(i + 2)
    {
        let rest = &segs[i + 3..];
        let file = match rest {
            [f] => Some(*f),
            ["platform", f] => Some(*f),
            _ => None,
        };
        if let Some(f) = file
            && matches!(
                f,
                "analytics.js" | "analytics.min.js" | "analytics.classic.js"
            )
        {
            return Some(LoadKind::Library {
                write_key: Some((*wk).to_string()),
            });
        }
    }
    // /v1/projects/<wk>/settings
    if let Some(i) = segs.iter().position(|s| *s == "projects")
        && i >= 1
        && segs[i - 1] == "v1"
        && segs.len() == i + 3
        && segs[i + 2] == "settings"
    {
        return Some(LoadKind::Settings {
            write_key: segs[i + 1].to_string(),
        });
    }
    for w in segs.windows(2) {
        if w == ["analytics-next", "bundles"] {
            return Some(LoadKind::Chunk);
        }
    }
    for w in segs.windows(3) {
        if w[0] == "next-integrations" {
            match w[1] {
                "integrations" => {
                    return Some(LoadKind::ClassicDestination {
                        slug: w[2].to_string(),
                    });
                }
                "actions" => {
                    return Some(LoadKind::ActionDestination {
                        dir: w[2].to_string(),
                    });
                }
                _ => {}
            }
        }
    }
    None
}

/// Whether a body object looks like one Segment event.
fn is_event_shape(obj: &Map<String, Value>) -> bool {
    obj.contains_key("writeKey")
        || (obj.get("type").is_some_and(Value::is_string)
            && (obj.contains_key("messageId") || obj.contains_key("anonymousId")))
}

/// Whether `host` is one of Segment's own API hosts (`api.segment.io`,
/// `events.eu1.segmentapis.com`, …). Anything sent there that cannot be decoded is reported.
pub(crate) fn is_segment_api_host(host: &str) -> bool {
    ["segment.io", "segmentapis.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// The write key of an `Authorization: Basic base64(writeKey:)` header (Segment's HTTP API).
fn basic_auth_write_key(req: &CapturedRequest) -> Option<String> {
    use base64::Engine as _;
    let value = req.headers.get("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let wk = text.split(':').next().unwrap_or("");
    (!wk.is_empty()).then(|| wk.to_string())
}

/// The value of query parameter `name`, percent-decoded (`+` as space).
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode_lossy(&v.replace('+', " ")))
    })
}

fn percent_decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON object a Pixel API `data` parameter carries (base64, standard or URL-safe, padded or
/// not): `GET /v1/pixel/<call>?data=<base64 JSON>`.
fn pixel_data(data: &str) -> Option<Value> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let trimmed = data.trim().trim_end_matches('=');
    let bytes = STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

/// What the last path segments suggest (only a hint: the body decides).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PathShape {
    Event(Call),
    Batch,
    Telemetry,
}

fn path_shape(segs: &[&str]) -> Option<PathShape> {
    let last = *segs.last()?;
    let after_v1 = segs.len() >= 2 && segs[segs.len() - 2] == "v1";
    let after_pixel = segs.len() >= 2 && segs[segs.len() - 2] == "pixel";
    if let Some(call) = call_from_letter(last) {
        Some(PathShape::Event(call))
    } else if (after_v1 || after_pixel)
        && let Some(call) = call_from_word(last)
    {
        Some(PathShape::Event(call))
    } else if last == "b" || (after_v1 && (last == "batch" || last == "import")) {
        Some(PathShape::Batch)
    } else if last == "m" {
        Some(PathShape::Telemetry)
    } else {
        None
    }
}

/// Classify, returning the parsed payload when it was parsed (events and batches).
///
/// Segment traffic is recognised by what it carries, on any host, path and method: a JSON body
/// (any content type, `sendBeacon`'s `text/plain` included, after undoing `Content-Encoding`)
/// shaped like one event or a batch, or a Pixel API `data` parameter. The path only breaks ties
/// (the call of an event without `type`). A request that cannot be decoded is `Malformed` when it
/// went to Segment's API hosts or to a `/v1/<call>` path (a proxy of the API); elsewhere it is
/// someone else's traffic.
fn classify_parsed(req: &CapturedRequest) -> (RequestKind, Option<Value>) {
    if req.method.eq_ignore_ascii_case("OPTIONS") {
        return (RequestKind::Preflight, None);
    }
    let segs = segments(req.path());
    if let Some(load) = load_kind(&segs) {
        return (RequestKind::Load(load), None);
    }
    let hint = path_shape(&segs);
    let after_v1 = segs.len() >= 2 && segs[segs.len() - 2] == "v1";
    let cx = Shapes {
        suspect: is_segment_api_host(&req.host()) || (after_v1 && hint.is_some()),
        hinted_call: match hint {
            Some(PathShape::Event(c)) => Some(c),
            _ => None,
        },
    };
    let basic_wk = basic_auth_write_key(req);

    // The Pixel API: the event rides base64-encoded in the query.
    if let Some(data) = query_param(&req.url, "data")
        && let Some(value) = pixel_data(&data)
        && let Some(obj) = value.as_object()
        && is_event_shape(obj)
    {
        return cx.event(value, "Pixel API `data`");
    }

    let content = match req.content() {
        Ok(c) => c,
        Err(e) => return cx.bad(format!("body could not be read: {e}")),
    };
    let body = match content.as_deref() {
        None | Some([]) => {
            // A bare GET of a `/v1/t` path on some site carries nothing; on Segment's API hosts
            // and in a POST to such a path, nothing is still not a Segment payload.
            let reason = if req.body.is_none() {
                "no body and no Pixel API `data` parameter"
            } else {
                "empty body"
            };
            if is_segment_api_host(&req.host()) || req.method.eq_ignore_ascii_case("POST") {
                return cx.bad(reason.into());
            }
            return (RequestKind::Other, None);
        }
        Some(b) if b.len() >= MAX_BODY_BYTES => {
            return cx.bad(format!(
                "body of {}{} bytes exceeds the {} byte limit",
                if b.len() == MAX_BODY_BYTES {
                    "at least "
                } else {
                    ""
                },
                b.len(),
                MAX_BODY_BYTES
            ));
        }
        Some(b) => b,
    };
    cx.body(body, hint, basic_wk.as_deref())
}

/// What a request's path says about it, for reading its body.
struct Shapes {
    /// Sent to Segment's API hosts or a `/v1/<call>` path: undecodable means malformed.
    suspect: bool,
    /// The call the path names.
    hinted_call: Option<Call>,
}

impl Shapes {
    fn bad(&self, reason: String) -> (RequestKind, Option<Value>) {
        if self.suspect {
            (RequestKind::Malformed { reason }, None)
        } else {
            (RequestKind::Other, None)
        }
    }

    /// One event: its call is its `type`, else the call its path names; `what` says where it was.
    fn event(&self, value: Value, what: &str) -> (RequestKind, Option<Value>) {
        let call = value
            .get("type")
            .and_then(Value::as_str)
            .and_then(call_from_word)
            .or(self.hinted_call);
        match call {
            Some(call) => (RequestKind::Event { call }, Some(value)),
            None => self.bad(format!("{what} has no known `type`")),
        }
    }

    /// A JSON body: a batch, Segment's telemetry, one event, or none of these.
    fn body(
        &self,
        body: &[u8],
        hint: Option<PathShape>,
        basic_wk: Option<&str>,
    ) -> (RequestKind, Option<Value>) {
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return self.bad(format!("body is not JSON: {e}")),
        };
        let Some(obj) = value.as_object() else {
            return self.bad("body is not a JSON object".into());
        };
        if let Some(items) = obj.get("batch").and_then(Value::as_array) {
            let segment_like = hint == Some(PathShape::Batch)
                || self.suspect
                || obj.contains_key("writeKey")
                || basic_wk.is_some()
                || items
                    .iter()
                    .any(|i| i.as_object().is_some_and(is_event_shape));
            if segment_like {
                return (RequestKind::Batch, Some(value));
            }
        }
        if obj.get("series").is_some_and(Value::is_array)
            && (hint == Some(PathShape::Telemetry) || self.suspect)
        {
            return (RequestKind::Telemetry, None);
        }
        // The HTTP API sends the write key as Basic auth and may leave out `type` (the path says
        // it).
        let has_id = obj.contains_key("userId") || obj.contains_key("anonymousId");
        if is_event_shape(obj) || (basic_wk.is_some() && has_id) {
            return self.event(value, "event");
        }
        self.bad("body is neither a Segment event nor a batch".into())
    }
}

/// A string or number id as a string (`userId` may be numeric in hand-written calls).
fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn non_empty_object(v: Option<&Value>) -> bool {
    v.and_then(Value::as_object).is_some_and(|o| !o.is_empty())
}

fn event_from(
    req: &CapturedRequest,
    host: &str,
    path: &str,
    payload: Value,
    path_call: Option<Call>,
    batched: bool,
    envelope_write_key: Option<&str>,
) -> Result<SegmentEvent, String> {
    let Some(obj) = payload.as_object() else {
        return Err("event is not a JSON object".into());
    };
    let body_call = obj
        .get("type")
        .and_then(Value::as_str)
        .and_then(call_from_word);
    let call = body_call
        .or(path_call)
        .ok_or_else(|| "event has no known `type`".to_string())?;
    let name = match call {
        Call::Track => obj.get("event"),
        Call::Page | Call::Screen => obj.get("name"),
        _ => None,
    }
    .and_then(Value::as_str)
    .map(str::to_string);
    let context = obj.get("context");
    Ok(SegmentEvent {
        seq: req.seq,
        at_ms: req.at_ms,
        phase: req.phase,
        host: host.to_string(),
        path: path.to_string(),
        batched,
        call,
        name,
        consent: ConsentStamp::of_event(&payload),
        integrations: obj
            .get("integrations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        user_id: id_string(obj.get("userId")),
        anonymous_id: id_string(obj.get("anonymousId")),
        has_traits: non_empty_object(obj.get("traits"))
            || non_empty_object(context.and_then(|c| c.get("traits"))),
        message_id: id_string(obj.get("messageId")),
        write_key: obj
            .get("writeKey")
            .and_then(Value::as_str)
            .or(envelope_write_key)
            .map(str::to_string),
        payload,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn req(seq: u64, method: &str, url: &str, body: Option<&str>) -> CapturedRequest {
        CapturedRequest {
            seq,
            at_ms: seq * 10,
            resource_type: if method == "GET" { "script" } else { "fetch" }.into(),
            ..CapturedRequest::sent(method, url, body.map(|b| b.as_bytes().to_vec()))
        }
    }

    /// One spelling of every stamp; an empty `categoryPreferences` (all denied) never reads as
    /// an empty string.
    #[test]
    fn stamps_read_as_one_text() {
        let stamp =
            |consent: Value| ConsentStamp::of_event(&json!({"context": {"consent": consent}}));
        assert_eq!(ConsentStamp::of_event(&json!({})).to_string(), "absent");
        assert_eq!(stamp(json!({})).to_string(), "no-preferences");
        assert_eq!(
            stamp(json!({"categoryPreferences": {}})).to_string(),
            "{} (all denied)"
        );
        assert_eq!(
            stamp(json!({"categoryPreferences": {"C0002": true, "C0001": "yes"}})).to_string(),
            "C0001=false C0002=true"
        );
    }

    fn kind(method: &str, url: &str, body: Option<&str>) -> RequestKind {
        classify(&req(1, method, url, body))
    }

    fn track_body() -> String {
        json!({
            "type": "track", "event": "Order Completed", "messageId": "ajs-next-1", "anonymousId": "anon-1",
            "writeKey": "WK123", "integrations": {"Segment.io": true},
            "context": {"consent": {"categoryPreferences": {"C0001": true, "C0002": false, "C0003": "yes"}}}
        })
        .to_string()
    }

    #[test]
    fn loads_by_path_on_any_host() {
        let lib = |wk: &str| {
            RequestKind::Load(LoadKind::Library {
                write_key: Some(wk.into()),
            })
        };
        assert_eq!(
            kind(
                "GET",
                "https://cdn.segment.com/analytics.js/v1/WK123/analytics.min.js",
                None
            ),
            lib("WK123")
        );
        assert_eq!(
            kind(
                "GET",
                "https://cdn-proxy.example.test/analytics.js/v1/WK9/analytics.classic.js?x=1",
                None
            ),
            lib("WK9")
        );
        assert_eq!(
            kind(
                "GET",
                "https://p.example/analytics.js/v1/WK9/platform/analytics.js",
                None
            ),
            lib("WK9")
        );
        assert_eq!(
            kind(
                "GET",
                "https://p.example/analytics.js/v1/WK9/other.js",
                None
            ),
            RequestKind::Other
        );
        assert_eq!(
            kind("GET", "https://p.example/v1/projects/WK9/settings?x", None),
            RequestKind::Load(LoadKind::Settings {
                write_key: "WK9".into()
            })
        );
        assert_eq!(
            kind(
                "GET",
                "https://p.example/analytics-next/bundles/ajs-destination.bundle.abc.js",
                None
            ),
            RequestKind::Load(LoadKind::Chunk)
        );
        assert_eq!(
            kind(
                "GET",
                "https://p.example/next-integrations/integrations/facebook-pixel/2.11.4/facebook-pixel.dynamic.js.gz",
                None
            ),
            RequestKind::Load(LoadKind::ClassicDestination {
                slug: "facebook-pixel".into()
            })
        );
        assert_eq!(
            kind(
                "GET",
                "https://p.example/next-integrations/actions/amplitude-plugins/676.js",
                None
            ),
            RequestKind::Load(LoadKind::ActionDestination {
                dir: "amplitude-plugins".into()
            })
        );
    }

    #[test]
    fn events_by_path_and_body_shape() {
        let body = track_body();
        assert_eq!(
            kind("POST", "https://collect.example.test/v1/t", Some(&body)),
            RequestKind::Event { call: Call::Track }
        );
        // Classic 1.0 / proxy without /v1: the body decides, its `type` over the path letter.
        assert_eq!(
            kind("POST", "https://collect.example.test/p", Some(&body)),
            RequestKind::Event { call: Call::Track }
        );
        assert_eq!(
            kind("POST", "https://site.example/t", Some(r#"{"foo":1}"#)),
            RequestKind::Other
        );
        assert_eq!(
            kind("POST", "https://site.example/t", Some("x=1")),
            RequestKind::Other
        );
        // HTTP API words name the call of a body without `type`.
        assert_eq!(
            kind(
                "POST",
                "https://api.segment.io/v1/identify",
                Some(r#"{"writeKey":"W","userId":"u"}"#)
            ),
            RequestKind::Event {
                call: Call::Identify
            }
        );
        // The body decides, not the path: a track body to `/identify` is a track.
        assert_eq!(
            kind("POST", "https://site.example/identify", Some(&body)),
            RequestKind::Event { call: Call::Track }
        );
        // Nothing to decode on Segment's own API host is a finding.
        assert!(matches!(
            kind("GET", "https://api.segment.io/v1/t", None),
            RequestKind::Malformed { .. }
        ));
        assert_eq!(
            kind("GET", "https://site.example/v1/t", None),
            RequestKind::Other
        );
        assert_eq!(
            kind(
                "POST",
                "https://x.example/v1/b",
                Some(r#"{"writeKey":"W","batch":[]}"#)
            ),
            RequestKind::Batch
        );
        assert_eq!(
            kind(
                "POST",
                "https://x.example/v1/batch",
                Some(r#"{"batch":[]}"#)
            ),
            RequestKind::Batch
        );
        assert_eq!(
            kind("POST", "https://x.example/b", Some(r#"{"batch":[]}"#)),
            RequestKind::Batch
        );
        assert_eq!(
            kind("POST", "https://x.example/v1/m", Some(r#"{"series":[]}"#)),
            RequestKind::Telemetry
        );
        assert_eq!(
            kind("OPTIONS", "https://api.segment.io/v1/t", None),
            RequestKind::Preflight
        );
    }

    fn with_headers(mut r: CapturedRequest, headers: &[(&str, &str)]) -> CapturedRequest {
        for (k, v) in headers {
            r.headers.insert(k.to_string(), v.to_string());
        }
        r
    }

    #[test]
    fn segment_by_content_on_any_path_and_method() {
        let batch = json!({"writeKey": "WK", "batch": [
            {"type": "track", "event": "E", "messageId": "m1", "anonymousId": "a"}]})
        .to_string();
        // A first-party collector path, POST or PUT, and a beacon (text/plain).
        for (method, url) in [
            ("POST", "https://shop.example/collect/x"),
            ("PUT", "https://shop.example/anything"),
            ("POST", "https://shop.example/"),
        ] {
            let r = with_headers(
                req(1, method, url, Some(&batch)),
                &[("content-type", "text/plain;charset=UTF-8")],
            );
            assert_eq!(classify(&r), RequestKind::Batch, "{method} {url}");
        }
        // A single call without a writeKey but with Basic auth (the HTTP API).
        let call = json!({"userId": "u1", "event": "E"}).to_string();
        let basic = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "WKB:")
        );
        let r = with_headers(
            req(2, "POST", "https://first.example/v1/track", Some(&call)),
            &[("authorization", basic.as_str())],
        );
        assert_eq!(classify(&r), RequestKind::Event { call: Call::Track });
        let d = decode(&Capture {
            requests: vec![r],
            ..Default::default()
        });
        assert_eq!(d.events[0].write_key.as_deref(), Some("WKB"));
        // Other JSON elsewhere is someone else's.
        assert_eq!(
            kind(
                "POST",
                "https://shop.example/collect",
                Some(r#"{"batch":[1]}"#)
            ),
            RequestKind::Other
        );
        assert_eq!(
            kind("POST", "https://shop.example/api", Some(r#"{"type":"x"}"#)),
            RequestKind::Other
        );
    }

    #[test]
    fn pixel_api_data_parameter() {
        use base64::Engine as _;
        let ev = json!({"writeKey": "WKP", "type": "track", "event": "Pixel", "userId": "u"});
        let data = base64::engine::general_purpose::STANDARD.encode(ev.to_string());
        let url = format!("https://api.segment.io/v1/pixel/track?data={data}");
        assert_eq!(
            kind("GET", &url, None),
            RequestKind::Event { call: Call::Track }
        );
        let d = decode(&Capture {
            requests: vec![req(1, "GET", &url, None)],
            ..Default::default()
        });
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].name.as_deref(), Some("Pixel"));
        assert_eq!(d.events[0].write_key.as_deref(), Some("WKP"));
        // URL-safe, unpadded, percent-encoded, on a proxy; the path names the call.
        let ev = json!({"writeKey": "WKP", "userId": "u", "traits": {"a": "??>>"}});
        let data = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ev.to_string());
        let url = format!("https://p.example/v1/pixel/identify?x=1&data={data}");
        assert_eq!(
            kind("GET", &url, None),
            RequestKind::Event {
                call: Call::Identify
            }
        );
        // Garbage `data` to Segment's API host is a finding, on a site it is nothing.
        assert!(matches!(
            kind(
                "GET",
                "https://api.segment.io/v1/pixel/track?data=%%%",
                None
            ),
            RequestKind::Malformed { .. }
        ));
        assert_eq!(
            kind("GET", "https://shop.example/search?data=abc", None),
            RequestKind::Other
        );
    }

    #[test]
    fn compressed_bodies_are_decoded_and_broken_ones_reported() {
        use std::io::Write;
        let batch = json!({"writeKey": "WK", "batch": [
            {"type": "page", "messageId": "m1", "anonymousId": "a"}]})
        .to_string();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(batch.as_bytes()).unwrap();
        let mut r = req(1, "POST", "https://shop.example/collect/x", None);
        r.body = Some(gz.finish().unwrap());
        let r = with_headers(r, &[("content-encoding", "gzip")]);
        assert_eq!(classify(&r), RequestKind::Batch);
        let d = decode(&Capture {
            requests: vec![r],
            ..Default::default()
        });
        assert_eq!(d.events.len(), 1);
        // Segment's EU host with a body that says gzip but is not.
        let r = with_headers(
            req(
                2,
                "POST",
                "https://events.eu1.segmentapis.com/v1/b",
                Some("xx"),
            ),
            &[("content-encoding", "gzip")],
        );
        assert!(matches!(
            classify(&r),
            RequestKind::Malformed { reason } if reason.contains("gzip")
        ));
        // Binary junk to the API host.
        let mut r = req(3, "POST", "https://api.segment.io/v1/b", None);
        r.body = Some(vec![0xff, 0x00, 0x80]);
        assert!(matches!(classify(&r), RequestKind::Malformed { .. }));
    }

    #[test]
    fn malformed_and_huge_bodies_do_not_panic() {
        assert!(matches!(
            kind("POST", "https://api.segment.io/v1/t", Some("{not json")),
            RequestKind::Malformed { .. }
        ));
        assert!(matches!(
            kind("POST", "https://api.segment.io/v1/t", None),
            RequestKind::Malformed { .. }
        ));
        let huge = format!("{{\"writeKey\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            kind("POST", "https://api.segment.io/v1/t", Some(&huge)),
            RequestKind::Malformed { reason } if reason.contains("exceeds")
        ));
        let deep = "[".repeat(100_000);
        assert!(matches!(
            kind("POST", "https://api.segment.io/v1/b", Some(&deep)),
            RequestKind::Malformed { .. }
        ));
        let capture = Capture {
            requests: vec![
                req(1, "POST", "https://api.segment.io/v1/t", Some("{not json")),
                req(
                    2,
                    "POST",
                    "https://api.segment.io/v1/t",
                    Some(r#"{"writeKey":"W","type":42}"#),
                ),
            ],
            ..Default::default()
        };
        let d = decode(&capture);
        // The second falls back to the path letter.
        assert_eq!(d.malformed.len(), 1);
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].call, Call::Track);
    }

    // Long: one hand-made capture and its assertions, read together.
    #[test]
    fn decodes_events_batches_and_stamps() {
        let batch = json!({
            "writeKey": "WKB", "sentAt": "x",
            "batch": [
                {"type": "page", "name": "Home", "messageId": "m1", "anonymousId": "a1"},
                {"type": "identify", "userId": 42, "traits": {"email": "jane@example.com"},
                 "messageId": "m2", "context": {"consent": {}}},
                "garbage",
                {"type": "track", "event": "E", "messageId": "m3",
                 "context": {"consent": {"categoryPreferences": {}}, "traits": {}}}
            ]
        })
        .to_string();
        let capture = Capture {
            requests: vec![
                req(
                    1,
                    "GET",
                    "https://cdn.example/analytics.js/v1/WK123/analytics.min.js",
                    None,
                ),
                req(
                    2,
                    "GET",
                    "https://cdn.example/v1/projects/WK123/settings",
                    None,
                ),
                req(3, "OPTIONS", "https://api.segment.io/v1/t", None),
                req(
                    4,
                    "POST",
                    "https://events.proxy.example/v1/t?x=1",
                    Some(&track_body()),
                ),
                req(5, "POST", "https://events.proxy.example/v1/b", Some(&batch)),
                req(
                    6,
                    "POST",
                    "https://events.proxy.example/v1/m",
                    Some(r#"{"series":[{}]}"#),
                ),
            ],
            ..Default::default()
        };
        let d = decode(&capture);
        assert!(d.settings_fetched);
        assert_eq!(d.library_loads.len(), 2);
        assert_eq!(d.telemetry, 1);
        assert_eq!(
            d.write_keys.iter().cloned().collect::<Vec<_>>(),
            vec!["WK123".to_string(), "WKB".to_string()]
        );
        assert_eq!(d.events.len(), 4);
        assert_eq!(d.malformed.len(), 1);
        assert!(d.malformed[0].reason.starts_with("batch element 2"));

        let t = &d.events[0];
        assert_eq!(
            (t.call, t.name.as_deref(), t.batched),
            (Call::Track, Some("Order Completed"), false)
        );
        assert_eq!(t.host, "events.proxy.example");
        assert_eq!(t.integrations.get("Segment.io"), Some(&json!(true)));
        let prefs = t.consent.preferences().unwrap();
        assert_eq!(prefs.get("C0001"), Some(&true));
        assert_eq!(prefs.get("C0003"), Some(&false));
        assert_eq!(t.anonymous_id.as_deref(), Some("anon-1"));

        let p = &d.events[1];
        assert_eq!(
            (p.call, p.name.as_deref(), p.batched),
            (Call::Page, Some("Home"), true)
        );
        assert_eq!(p.consent, ConsentStamp::Absent);
        assert_eq!(p.write_key.as_deref(), Some("WKB"));
        assert!(!p.has_traits);

        let i = &d.events[2];
        assert_eq!(i.call, Call::Identify);
        assert_eq!(i.user_id.as_deref(), Some("42"));
        assert!(i.has_traits);
        assert_eq!(i.consent, ConsentStamp::NoPreferences);

        let e = &d.events[3];
        assert_eq!(e.consent, ConsentStamp::Preferences(BTreeMap::new()));
        assert!(!e.has_traits);
    }
}
