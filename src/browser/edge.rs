//! The network edge: every request the page makes passes through one context-level route, which
//! records it and decides who answers it (a served folder, the pinned Segment build, the spec's
//! settings file, a local sinkhole, or the real network).

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use playwright_rs::{FulfillOptions, Route};
use tokio::sync::Notify;

use crate::analysis::privacy::percent_decode_strict;
use crate::analysis::segment::{self, RequestKind};
use crate::capture::{
    Answer, CapturedRequest, Initiator, Phase, SocketFrames, Unrecorded, url_host, url_path,
};
use crate::spec::{Library, Spec};

/// Bodies above this size are recorded truncated: enough for decoding, bounded in memory.
const MAX_BODY: usize = 5 * 1024 * 1024;

/// What the edge answers, derived once per trial from the spec.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Origin → folder.
    pub(crate) serve: Vec<(String, PathBuf)>,
    /// `dist/umd` of the pinned `@segment/analytics-next`, when the spec asks for it.
    pub(crate) segment_dist: Option<PathBuf>,
    /// The settings JSON to answer with.
    pub(crate) settings: Option<Arc<Vec<u8>>>,
    pub(crate) offline: bool,
    pub(crate) deliver: bool,
    /// The host of the site's first page: navigations to it are never answered with a stand-in.
    pub(crate) site_host: String,
    /// What the visit is doing now, so that a trial that runs out of time can say where.
    pub(crate) progress: Progress,
    /// Values the visit saw that must never be reported (cookie values).
    pub(crate) secrets: Secrets,
}

/// Values a visit saw that must never appear in results or snapshots (cookie values), for the
/// trial's [`crate::analysis::privacy::Redactor`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets(Arc<Mutex<std::collections::BTreeSet<String>>>);

impl Secrets {
    /// Remembers a cookie value (and its percent-decoded, unquoted spelling).
    pub(crate) fn cookie(&self, value: &str) {
        let mut set = lock(&self.0);
        set.insert(value.to_string());
        if let Some(decoded) = percent_decode_strict(value) {
            set.insert(decoded.trim_matches('"').to_string());
        }
    }

    /// Every value, sorted.
    pub(crate) fn values(&self) -> Vec<String> {
        lock(&self.0).iter().cloned().collect()
    }
}

/// What a visit is doing now (`loading https://shop.example/`, `step 2 (click "#accept")`): a
/// trial that runs out of time names it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress(Arc<Mutex<String>>);

impl Progress {
    pub(crate) fn set(&self, doing: impl Into<String>) {
        *lock(&self.0) = doing.into();
    }

    /// The last thing set; `starting the browser context` before anything was.
    pub(crate) fn get(&self) -> String {
        let doing = lock(&self.0).clone();
        if doing.is_empty() {
            "starting the browser context".to_string()
        } else {
            doing
        }
    }
}

impl EdgeConfig {
    pub fn from_spec(spec: &Spec, segment_dist: Option<PathBuf>) -> std::io::Result<Self> {
        let settings = match &spec.segment.settings {
            Some(p) => Some(Arc::new(std::fs::read(p)?)),
            None => None,
        };
        Ok(EdgeConfig::with_settings(spec, segment_dist, settings))
    }

    /// [`EdgeConfig::from_spec`] with the settings file's contents already read.
    pub(crate) fn with_settings(
        spec: &Spec,
        segment_dist: Option<PathBuf>,
        settings: Option<Arc<Vec<u8>>>,
    ) -> Self {
        EdgeConfig {
            serve: spec
                .site
                .serve
                .iter()
                .map(|(o, p)| (o.clone(), p.clone()))
                .collect(),
            segment_dist: (spec.segment.library == Library::Bundled)
                .then_some(segment_dist)
                .flatten(),
            settings,
            offline: spec.site.offline,
            deliver: spec.segment.deliver,
            site_host: url_host(&spec.site.url),
            progress: Progress::default(),
            secrets: Secrets::default(),
        }
    }
}

/// Where the pinned `@segment/analytics-next` UMD build lives.
pub fn find_segment_dist(spec_dir: &Path) -> Option<PathBuf> {
    find_installed(
        spec_dir,
        "node_modules/@segment/analytics-next/dist/umd",
        &["standalone.js"],
    )
}

/// An installed npm folder `rel` (holding every file of `markers`): beside the spec or in one of
/// its ancestors, in the working directory, or in this crate's checkout.
pub(crate) fn find_installed(spec_dir: &Path, rel: &str, markers: &[&str]) -> Option<PathBuf> {
    let mut roots: Vec<PathBuf> = spec_dir.ancestors().map(Path::to_path_buf).collect();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots
        .into_iter()
        .map(|r| r.join(rel))
        .find(|d| markers.iter().all(|m| d.join(m).is_file()))
}

/// The shared log of one trial's requests.
pub(crate) struct Recorder {
    t0: Instant,
    decision: Mutex<Option<Instant>>,
    /// Where each decision step began.
    phases: Mutex<Vec<crate::capture::DecisionMark>>,
    /// The step (1-based) running or settling now: a top-level navigation then is its doing.
    step: Mutex<Option<usize>>,
    inner: Mutex<Log>,
    /// Requests routed to the edge and not yet answered.
    in_flight: std::sync::atomic::AtomicUsize,
    /// Signalled on every new request and every answer; settling waits on it.
    pub(crate) activity: Notify,
    /// How many departure markers ([`DEPARTED_URL`]) documents sent while unloading.
    departures: std::sync::atomic::AtomicU64,
}

/// The marker a top-level document sends from the last `unload` listener (see
/// [`DEPARTURE_SCRIPT`]): once it arrives, whatever the page's own unload handlers sent has been
/// handed to the network before it. Never recorded as the site's traffic.
pub(crate) const DEPARTED_URL: &str = "https://consent-gates.invalid/departed";

/// Installed in every page: on the first `pagehide`, a top-level document adds an `unload`
/// listener, which therefore runs after every `unload` listener the page added before leaving, and
/// sends the departure marker with `sendBeacon` (the same queue as the page's own beacons).
pub(crate) const DEPARTURE_SCRIPT: &str = "(() => { \
    if (window !== window.top || window.__consentGatesDeparture) return; \
    window.__consentGatesDeparture = true; \
    let armed = false; \
    addEventListener('pagehide', () => { \
        if (armed) return; armed = true; \
        addEventListener('unload', () => { \
            try { navigator.sendBeacon('https://consent-gates.invalid/departed'); } catch (e) {} \
        }); \
    }, true); })();";

/// Counts one request as in flight at the edge until dropped (answered, or the handler gave up).
pub(super) struct Held(Arc<Recorder>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.0.activity.notify_waiters();
    }
}

struct Log {
    requests: Vec<CapturedRequest>,
    sockets: BTreeMap<u64, SocketFrames>,
    /// Requests a route let through to the network that the backstop has seen go by.
    passed: std::collections::BTreeSet<u64>,
    /// WebSocket URLs the page reported opening (the cross-check of the socket route).
    socket_reports: Vec<(u64, Phase, String)>,
    last_activity: Instant,
}

impl Recorder {
    pub(crate) fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Recorder {
            t0: now,
            decision: Mutex::new(None),
            phases: Mutex::new(Vec::new()),
            step: Mutex::new(None),
            inner: Mutex::new(Log {
                requests: Vec::new(),
                sockets: BTreeMap::new(),
                passed: std::collections::BTreeSet::new(),
                socket_reports: Vec::new(),
                last_activity: now,
            }),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            activity: Notify::new(),
            departures: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Counts a request as in flight from the moment its event arrived (in the order the browser
    /// sent them) until the returned guard is dropped.
    pub(super) fn hold(self: &Arc<Self>) -> Held {
        self.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Held(self.clone())
    }

    /// Whether `url` is the departure marker; counts it (it is not the site's traffic).
    pub(super) fn is_departure(&self, url: &str) -> bool {
        if url != DEPARTED_URL {
            return false;
        }
        self.departures
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.activity.notify_waiters();
        true
    }

    /// How many departure markers arrived so far.
    pub(crate) fn departures(&self) -> u64 {
        self.departures.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests routed to the edge and not yet answered.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many requests were recorded so far.
    pub(crate) fn request_count(&self) -> usize {
        lock(&self.inner).requests.len()
    }

    fn ms_since_start(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.t0).as_millis()).unwrap_or(u64::MAX)
    }

    /// Marks a decision step (every one of a journey, the first included) as starting now.
    pub(crate) fn mark_phase(&self) {
        let mark = self.mark_now();
        lock(&self.phases).push(mark);
    }

    /// The latest decision step's decision lands now: its phase starts here rather than at the
    /// step's start (traffic the pointer's approach caused belongs to the phase before).
    pub(crate) fn land_phase(&self) {
        let mark = self.mark_now();
        if let Some(last) = lock(&self.phases).last_mut() {
            *last = mark;
        }
    }

    fn mark_now(&self) -> crate::capture::DecisionMark {
        let now = Instant::now();
        let first_seq = lock(&self.inner).requests.len() as u64;
        crate::capture::DecisionMark {
            first_seq,
            at_ms: self.ms_since_start(now),
        }
    }

    pub(crate) fn decision_marks(&self) -> Vec<crate::capture::DecisionMark> {
        lock(&self.phases).clone()
    }

    /// Marks the consent decision (the first decision step) as happening now; later calls (the
    /// journey's later decisions) leave it.
    pub(crate) fn mark_decision(&self) {
        let mut d = lock(&self.decision);
        if d.is_none() {
            *d = Some(Instant::now());
        }
    }

    /// Milliseconds since the trial's first navigation started.
    pub(crate) fn elapsed_ms(&self) -> u64 {
        self.ms_since_start(Instant::now())
    }

    /// Marks step `step` (1-based) as running, or none (`None`).
    pub(crate) fn set_step(&self, step: Option<usize>) {
        *lock(&self.step) = step;
    }

    fn step(&self) -> Option<usize> {
        *lock(&self.step)
    }

    pub(crate) fn decision_at_ms(&self) -> Option<u64> {
        lock(&self.decision).map(|d| self.ms_since_start(d))
    }

    /// Counts an action (step, navigation) as activity, so settling measures quiet from it.
    pub(crate) fn touch(&self) {
        lock(&self.inner).last_activity = Instant::now();
        self.activity.notify_waiters();
    }

    pub(crate) fn last_activity(&self) -> Instant {
        lock(&self.inner).last_activity
    }

    /// Records `req` and returns its `seq`.
    fn record(&self, mut req: CapturedRequest) -> u64 {
        let now = Instant::now();
        req.at_ms = self.ms_since_start(now);
        req.phase = match *lock(&self.decision) {
            Some(d) if now >= d => Phase::After,
            _ => Phase::Before,
        };
        let mut log = lock(&self.inner);
        let seq = log.requests.len() as u64;
        req.seq = seq;
        log.requests.push(req);
        log.last_activity = now;
        drop(log);
        self.activity.notify_waiters();
        seq
    }

    /// Whether `method url` is a request a route recorded and let through to the network that
    /// the backstop has not seen go by yet; marks it seen.
    pub(super) fn claim_routed(&self, method: &str, url: &str) -> bool {
        let mut log = lock(&self.inner);
        let found = log
            .requests
            .iter()
            .find(|r| {
                r.answer == Answer::Network
                    && r.url == url
                    && r.method.eq_ignore_ascii_case(method)
                    && !log.passed.contains(&r.seq)
            })
            .map(|r| r.seq);
        match found {
            Some(seq) => log.passed.insert(seq),
            None => false,
        }
    }

    /// Records a request that went past every route (see `backstop.rs`).
    pub(super) fn record_unrouted(&self, req: CapturedRequest) {
        self.record(req);
    }

    /// Notes that the page reported opening a WebSocket to `url`.
    pub(super) fn socket_reported(&self, url: &str) {
        let now = Instant::now();
        let phase = match *lock(&self.decision) {
            Some(d) if now >= d => Phase::After,
            _ => Phase::Before,
        };
        let at = self.ms_since_start(now);
        lock(&self.inner)
            .socket_reports
            .push((at, phase, url.to_string()));
    }

    /// WebSockets the page reported that the socket route never recorded.
    pub(crate) fn unrecorded_sockets(&self) -> Vec<Unrecorded> {
        let log = lock(&self.inner);
        let mut out: Vec<Unrecorded> = Vec::new();
        for (at_ms, phase, url) in &log.socket_reports {
            let recorded = log.requests.iter().any(|r| r.is_socket() && &r.url == url);
            if !recorded && !out.iter().any(|u| &u.url == url) {
                out.push(Unrecorded {
                    at_ms: *at_ms,
                    phase: *phase,
                    method: "GET".into(),
                    url: url.clone(),
                    initiator: "a WebSocket the page opened".into(),
                });
            }
        }
        out
    }

    /// Counts one frame the page sent on the WebSocket whose handshake is `seq`. Frames do not
    /// count as activity for settling: a socket's heartbeat would keep every settle from quiet.
    fn socket_frame(&self, seq: u64, len: usize) {
        let mut log = lock(&self.inner);
        let f = log.sockets.entry(seq).or_insert_with(|| SocketFrames {
            seq,
            ..SocketFrames::default()
        });
        f.sent += 1;
        f.sent_bytes += len as u64;
    }

    /// Hands what was recorded to `capture`: requests, socket frames, the sockets no route saw
    /// and the decision marks.
    pub(crate) fn fill(&self, capture: &mut crate::capture::Capture) {
        capture.requests = self.requests();
        capture.sockets = self.sockets();
        capture.unrecorded = self.unrecorded_sockets();
        capture.decision_at_ms = self.decision_at_ms();
        capture.decisions = self.decision_marks();
    }

    pub(crate) fn requests(&self) -> Vec<CapturedRequest> {
        lock(&self.inner).requests.clone()
    }

    /// Frame counts of every WebSocket that sent something, by handshake `seq`.
    pub(crate) fn sockets(&self) -> Vec<SocketFrames> {
        lock(&self.inner).sockets.values().cloned().collect()
    }
}

/// A poisoned lock only means another handler panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The decision for one request.
enum Reply {
    Body {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
        answer: Answer,
    },
    Network,
}

/// Routes every request of `context` (and, with `sockets`, every WebSocket) through the edge.
pub(crate) async fn install(
    context: &playwright_rs::BrowserContext,
    config: &Arc<EdgeConfig>,
    recorder: &Arc<Recorder>,
    sockets: bool,
) -> playwright_rs::Result<()> {
    let (c, r) = (config.clone(), recorder.clone());
    context
        .route("**/*", move |route| handle(route, c.clone(), r.clone()))
        .await?;
    if sockets {
        let (c, r) = (config.clone(), recorder.clone());
        context
            .route_web_socket("**", move |ws| handle_socket(ws, c.clone(), r.clone()))
            .await?;
    }
    Ok(())
}

/// Handles one routed request: record, decide, answer. Never panics (a panic would hang the
/// request until the driver's timeout).
pub(crate) async fn handle(
    route: Route,
    config: Arc<EdgeConfig>,
    recorder: Arc<Recorder>,
) -> playwright_rs::Result<()> {
    let _in_flight = recorder.hold();
    let request = route.request();
    let url = request.url().to_string();
    if recorder.is_departure(&url) {
        let options = FulfillOptions::builder().status(204).build();
        return route.fulfill(options).await;
    }
    let method = request.method().to_string();
    let resource_type = request.resource_type().to_string();
    let headers: BTreeMap<String, String> = request
        .headers()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    // Bytes as sent: a compressed or binary body must not be mangled before decoding.
    let body = request.post_data_buffer().map(|mut b| {
        b.truncate(MAX_BODY);
        b
    });
    let origin = headers.get("origin").cloned();
    let initiator = if resource_type == "document" {
        match request.frame() {
            Some(f) if f.parent_frame().is_none() => match recorder.step() {
                Some(step) => Initiator::StepNavigation { step },
                None => Initiator::Navigation,
            },
            Some(_) => Initiator::Frame,
            // Unknown frame: judged like any other request.
            None => Initiator::Page,
        }
    } else {
        Initiator::Page
    };
    let captured = CapturedRequest {
        seq: 0,
        at_ms: 0,
        phase: Phase::Before,
        method,
        url,
        resource_type,
        headers,
        body,
        answer: Answer::Unrouted,
        initiator,
    };
    let reply = decide(&config, &captured).await;
    recorder.record(CapturedRequest {
        answer: match &reply {
            Reply::Body { answer, .. } => answer.clone(),
            Reply::Network => Answer::Network,
        },
        ..captured
    });
    match reply {
        Reply::Network => route.continue_(None).await,
        Reply::Body {
            status,
            content_type,
            body,
            ..
        } => {
            let h = canned_headers(content_type, origin);
            let options = FulfillOptions::builder()
                .status(status)
                .headers(h)
                .body(body)
                .build();
            route.fulfill(options).await
        }
    }
}

/// The headers of a canned answer.
fn canned_headers(content_type: &str, origin: Option<String>) -> HashMap<String, String> {
    let mut h = HashMap::new();
    h.insert("content-type".to_string(), content_type.to_string());
    // Canned answers to cross-origin fetches need CORS; credentialed ones need the origin.
    match origin {
        Some(o) if o != "null" => {
            h.insert("access-control-allow-origin".into(), o);
            h.insert("access-control-allow-credentials".into(), "true".into());
        }
        _ => {
            h.insert("access-control-allow-origin".into(), "*".into());
        }
    }
    h.insert("access-control-allow-headers".into(), "*".into());
    h.insert(
        "access-control-allow-methods".into(),
        "GET, POST, OPTIONS".into(),
    );
    h.insert("cache-control".into(), "no-store".into());
    h
}

/// A canned answer for a request no route saw (see `backstop.rs`).
pub(super) struct Canned {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// How the edge answers a request that went past every route: the answer to record, and the
/// canned reply (`None`: it goes on to the network).
pub(super) async fn answer_unrouted(
    config: &EdgeConfig,
    request: &CapturedRequest,
) -> (Answer, Option<Canned>) {
    match decide(config, request).await {
        Reply::Network => (Answer::Network, None),
        Reply::Body {
            status,
            content_type,
            body,
            answer,
        } => {
            let mut headers: Vec<(String, String)> =
                canned_headers(content_type, request.headers.get("origin").cloned())
                    .into_iter()
                    .collect();
            headers.sort();
            (
                answer,
                Some(Canned {
                    status,
                    headers,
                    body,
                }),
            )
        }
    }
}

/// Handles one WebSocket the page opens (context-level WebSocket routing): records the handshake
/// like a request and counts the frames the page sends. Offline, the socket is answered locally
/// (Playwright opens it against nothing: the page sees an open socket whose frames go nowhere);
/// otherwise it is connected to the real server.
pub(crate) async fn handle_socket(
    ws: playwright_rs::protocol::WebSocketRoute,
    config: Arc<EdgeConfig>,
    recorder: Arc<Recorder>,
) -> playwright_rs::Result<()> {
    let protocols = ws.protocols();
    let mut headers = BTreeMap::new();
    if !protocols.is_empty() {
        headers.insert("sec-websocket-protocol".to_string(), protocols.join(", "));
    }
    let seq = recorder.record(CapturedRequest {
        seq: 0,
        at_ms: 0,
        phase: Phase::Before,
        method: "GET".into(),
        url: ws.url().to_string(),
        resource_type: "websocket".into(),
        headers,
        body: None,
        answer: if config.offline {
            Answer::Sinkhole
        } else {
            Answer::Network
        },
        initiator: Initiator::Page,
    });
    if config.offline {
        let recorder = recorder.clone();
        ws.on_message(move |message| {
            recorder.socket_frame(seq, message.len());
            Box::pin(async { Ok(()) })
        })
        .await
    } else {
        // A message handler would stop Playwright forwarding frames: online sockets are recorded
        // by their handshake only.
        ws.connect_to_server().await
    }
}

async fn decide(config: &EdgeConfig, request: &CapturedRequest) -> Reply {
    let (method, url) = (request.method.as_str(), request.url.as_str());
    let path = url_path(url);
    if method == "OPTIONS" {
        return sinkhole(204);
    }
    if let Some(dist) = &config.segment_dist
        && let Some(file) = segment_library_file(path)
    {
        return match tokio::fs::read(dist.join(file)).await {
            Ok(body) => Reply::Body {
                status: 200,
                content_type: "application/javascript",
                body,
                answer: Answer::SegmentLibrary,
            },
            Err(_) => not_found(Answer::SegmentLibrary),
        };
    }
    if let Some(settings) = &config.settings
        && is_settings_path(path)
    {
        return Reply::Body {
            status: 200,
            content_type: "application/json",
            body: settings.as_ref().clone(),
            answer: Answer::SegmentSettings,
        };
    }
    if let Some(folder) = served_folder(config, url) {
        return serve_file(folder, path, &request.resource_type).await;
    }
    // Segment's tracking API on any host (proxies are common), recognised by path and body.
    if !config.deliver
        && matches!(
            segment::classify(request),
            RequestKind::Event { .. }
                | RequestKind::Batch
                | RequestKind::Telemetry
                | RequestKind::Malformed { .. }
        )
    {
        return Reply::Body {
            status: 200,
            content_type: "application/json",
            body: br#"{"success":true}"#.to_vec(),
            answer: Answer::Sinkhole,
        };
    }
    let web = url.starts_with("http://") || url.starts_with("https://");
    if config.offline
        && web
        && matches!(
            request.initiator,
            Initiator::Navigation | Initiator::StepNavigation { .. }
        )
        && request.host() != config.site_host
    {
        return stand_in(&request.host());
    }
    if config.offline || !web {
        return sinkhole(204);
    }
    Reply::Network
}

fn sinkhole(status: u16) -> Reply {
    Reply::Body {
        status,
        content_type: "text/plain",
        body: Vec::new(),
        answer: Answer::Sinkhole,
    }
}

/// A page that loads, for an offline top-level navigation away from the site (a link to a social
/// network, a form sent to a vendor): the vendor's real page cannot exist offline, and an empty
/// answer would leave the step waiting for a navigation that never commits. No subresource (not
/// even a favicon), so the stand-in adds nothing to the capture.
fn stand_in(host: &str) -> Reply {
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    Reply::Body {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
             <title>{host}</title></head><body><p>{host}: answered offline by consent-gates \
             (the visitor left the site).</p></body></html>"
        )
        .into_bytes(),
        answer: Answer::StandIn,
    }
}

fn not_found(answer: Answer) -> Reply {
    Reply::Body {
        status: 404,
        content_type: "text/plain",
        body: b"not found".to_vec(),
        answer,
    }
}

/// The file of the npm build that answers a Segment CDN library path.
fn segment_library_file(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("analytics.js"), Some("v1"), Some(_wk), Some(file), None)
            if file.starts_with("analytics") && file.ends_with(".js") =>
        {
            Some("standalone.js".to_string())
        }
        (Some("analytics-next"), Some("bundles"), Some(file), None, None)
            if !file.contains("..") && !file.is_empty() =>
        {
            Some(file.to_string())
        }
        _ => None,
    }
}

fn is_settings_path(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(parts.as_slice(), ["v1", "projects", _, "settings"])
}

fn served_folder<'a>(config: &'a EdgeConfig, url: &str) -> Option<&'a Path> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = url[..scheme_end + auth_end].to_ascii_lowercase();
    config
        .serve
        .iter()
        .find(|(o, _)| *o == origin)
        .map(|(_, p)| p.as_path())
}

async fn serve_file(folder: &Path, path: &str, resource_type: &str) -> Reply {
    let Some(rel) = safe_relative(path) else {
        return not_found(Answer::Served);
    };
    let mut file = folder.join(&rel);
    if path.ends_with('/') || tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_dir()) {
        file = file.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(body) => Reply::Body {
            status: 200,
            content_type: content_type(&file, resource_type),
            body,
            answer: Answer::Served,
        },
        Err(_) => not_found(Answer::Served),
    }
}

/// The URL path as a relative file path, refusing anything that would leave the folder.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_strict(path.trim_start_matches('/'))?;
    let rel = PathBuf::from(decoded);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(rel)
}

fn content_type(file: &Path, resource_type: &str) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs" | "gz") => "application/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain",
        _ if resource_type == "script" => "application/javascript",
        _ => "application/octet-stream",
    }
}

/// Waits until a departure marker beyond the first `before` arrived; `false` after `bound`.
pub(crate) async fn await_departure(recorder: &Recorder, before: u64, bound: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        let notified = recorder.activity.notified();
        if recorder.departures() > before {
            return true;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return recorder.departures() > before;
        }
    }
}

/// Waits until no request is in flight at the edge; `false` when `deadline` came first.
pub(crate) async fn drained(recorder: &Recorder, deadline: tokio::time::Instant) -> bool {
    loop {
        let notified = recorder.activity.notified();
        if recorder.in_flight() == 0 {
            return true;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return recorder.in_flight() == 0;
        }
    }
}

/// Waits until no request has arrived for `quiet` since the last activity, or `max` has passed.
pub(crate) async fn settle(recorder: &Recorder, quiet: Duration, max: Duration) {
    let deadline = tokio::time::Instant::now() + max;
    loop {
        let notified = recorder.activity.notified();
        let quiet_until = tokio::time::Instant::from_std(recorder.last_activity() + quiet);
        if quiet_until <= tokio::time::Instant::now() {
            return;
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep_until(quiet_until.min(deadline)) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_departure_marker_is_counted_never_recorded() {
        let r = Recorder::new();
        assert!(!r.is_departure("https://consent-gates.invalid/departed?x"));
        assert!(!r.is_departure("https://shop.example/"));
        assert_eq!(r.departures(), 0);
        assert!(r.is_departure(DEPARTED_URL));
        assert_eq!((r.departures(), r.request_count()), (1, 0));
        assert!(DEPARTURE_SCRIPT.contains(DEPARTED_URL));
        let held = r.hold();
        assert_eq!(r.in_flight(), 1);
        drop(held);
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn library_paths() {
        assert_eq!(
            segment_library_file("/analytics.js/v1/WK/analytics.min.js").as_deref(),
            Some("standalone.js")
        );
        assert_eq!(
            segment_library_file("/analytics-next/bundles/ajs-destination.bundle.1.js").as_deref(),
            Some("ajs-destination.bundle.1.js")
        );
        assert_eq!(segment_library_file("/analytics-next/bundles/../x"), None);
        assert!(is_settings_path("/v1/projects/WK/settings"));
        assert!(!is_settings_path("/v1/projects/WK/other"));
    }

    /// `deliver: false` is a guarantee: whatever else the spec says (offline or not, bundled
    /// library or not, settings or not, even a served folder missing), a tracking call, batch,
    /// telemetry or unreadable Segment-looking POST on any host is answered locally.
    #[test]
    fn tracking_calls_never_leave_without_deliver() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let event = r#"{"type":"track","event":"x","messageId":"m","writeKey":"wk"}"#;
        let calls = [
            ("https://api.segment.io/v1/t", Some(event.to_string())),
            (
                "https://api.segment.io/v1/p",
                Some(event.replace("track", "page")),
            ),
            (
                "https://api.segment.io/v1/i",
                Some(event.replace("track", "identify")),
            ),
            (
                "https://events.eu1.segmentapis.com/v1/t",
                Some(event.to_string()),
            ),
            (
                "https://proxy.shop.example/seg/v1/t",
                Some(event.to_string()),
            ),
            ("https://api.segment.io/v1/track", Some(event.to_string())),
            (
                "https://api.segment.io/v1/b",
                Some(format!(r#"{{"batch":[{event}],"writeKey":"wk"}}"#)),
            ),
            (
                "https://api.segment.io/v1/batch",
                Some(format!(r#"{{"batch":[{event}]}}"#)),
            ),
            (
                "https://api.segment.io/v1/m",
                Some(r#"{"series":[]}"#.to_string()),
            ),
            ("https://api.segment.io/v1/t", Some("not json".to_string())),
            ("https://api.segment.io/v1/t", None),
        ];
        for offline in [false, true] {
            for dist in [None, Some(PathBuf::from("/nonexistent"))] {
                for settings in [None, Some(Arc::new(b"{}".to_vec()))] {
                    for serve in [
                        vec![],
                        vec![(
                            "https://shop.example".to_string(),
                            PathBuf::from("/nonexistent"),
                        )],
                    ] {
                        let config = EdgeConfig {
                            serve,
                            segment_dist: dist.clone(),
                            settings: settings.clone(),
                            offline,
                            deliver: false,
                            site_host: "shop.example".into(),
                            progress: Progress::default(),
                            secrets: Secrets::default(),
                        };
                        for (url, body) in &calls {
                            let req = CapturedRequest {
                                seq: 0,
                                at_ms: 0,
                                phase: Phase::Before,
                                method: "POST".into(),
                                url: url.to_string(),
                                resource_type: "fetch".into(),
                                headers: BTreeMap::new(),
                                body: body.as_ref().map(|b| b.as_bytes().to_vec()),
                                answer: Answer::Unrouted,
                                initiator: Initiator::Page,
                            };
                            let reply = rt.block_on(decide(&config, &req));
                            assert!(
                                matches!(
                                    reply,
                                    Reply::Body {
                                        answer: Answer::Sinkhole,
                                        ..
                                    }
                                ),
                                "{url} {body:?} must be answered locally (offline {offline})"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Offline, a top-level navigation away from the site gets a page that loads; frames,
    /// subresources and the site's own missing pages keep the empty answer; online, the network.
    #[test]
    fn offline_navigations_away_from_the_site_get_a_stand_in_page() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let config = |offline| EdgeConfig {
            serve: vec![],
            segment_dist: None,
            settings: None,
            offline,
            deliver: false,
            site_host: "shop.example".into(),
            progress: Progress::default(),
            secrets: Secrets::default(),
        };
        let answer = |offline, url: &str, initiator| {
            let req = CapturedRequest {
                seq: 0,
                at_ms: 0,
                phase: Phase::After,
                method: "GET".into(),
                url: url.into(),
                resource_type: "document".into(),
                headers: BTreeMap::new(),
                body: None,
                answer: Answer::Unrouted,
                initiator,
            };
            match rt.block_on(decide(&config(offline), &req)) {
                Reply::Body { answer, body, .. } => Some((answer, body.len())),
                Reply::Network => None,
            }
        };
        let fb = "https://www.facebook.com/lumenshop";
        let step = Initiator::StepNavigation { step: 2 };
        assert!(matches!(answer(true, fb, step), Some((Answer::StandIn, n)) if n > 0));
        assert!(matches!(
            answer(true, fb, Initiator::Navigation),
            Some((Answer::StandIn, _))
        ));
        for other in [Initiator::Frame, Initiator::Page] {
            assert_eq!(answer(true, fb, other), Some((Answer::Sinkhole, 0)));
        }
        assert_eq!(
            answer(true, "https://shop.example/missing", step),
            Some((Answer::Sinkhole, 0))
        );
        assert_eq!(answer(false, fb, step), None);
    }

    #[test]
    fn served_paths_stay_inside() {
        assert_eq!(safe_relative("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_relative("/a/../../etc/passwd"), None);
        assert_eq!(safe_relative("/%2e%2e/x"), None);
    }
}
