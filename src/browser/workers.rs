//! The browser's own network log, per trial, and the requests of shared workers.
//!
//! Playwright routes what pages, frames, dedicated workers and service workers send, but not what
//! a `SharedWorker` sends: its `fetch()` and WebSockets bypass every route. A browser-level Chrome
//! DevTools Protocol session discovers every target of this trial's browser context (pages,
//! frames, workers of every kind), attaches to each and enables its Network domain. Shared
//! workers' requests and sockets are recorded from it. Everything the others report is a
//! witness: at the end of the visit, a request or socket the browser reported and the recorder
//! never saw is [`Unrecorded`] (check `unrecorded-traffic`).
//!
//! Requests the browser makes for a page rather than the page's code (its icon) are never routed
//! by Playwright; they are recorded from the report. CORS preflights (no payload; Playwright
//! answers some itself) are not cross-checked.
//!
//! What it cannot see: what a target sends between its creation and the attachment (the session
//! attaches while the first page loads; a worker that sends on its first line, before the page has
//! talked to it, may be missed), the hops of a redirect (the
//! edge answers every request offline, so there are none there), and requests Chromium makes for
//! itself rather than for a page (not in any target's Network domain). Shared workers' requests
//! are recorded but not answered: offline they meet the DNS rule and fail; online they leave.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use playwright_rs::protocol::CDPSession;
use playwright_rs::{Browser, BrowserContext, Page};
use serde_json::{Value, json};

use super::edge::Recorder;
use crate::capture::{Answer, CapturedRequest, Phase, Unrecorded};

/// Target types whose requests the browser's log witnesses.
const WATCHED: [&str; 5] = [
    "page",
    "iframe",
    "worker",
    "shared_worker",
    "service_worker",
];

/// Keeps the watch alive for the visit; [`Watch::stop`] ends it.
pub struct Watch {
    session: CDPSession,
    log: Arc<Log>,
}

#[derive(Default)]
struct Log {
    /// Attached session id → target id.
    sessions: Mutex<HashMap<String, String>>,
    /// Target id → type and current URL.
    targets: Mutex<HashMap<String, (String, String)>>,
    /// What the browser reported, in order.
    witnessed: Mutex<Vec<Witness>>,
}

struct Witness {
    request: Unrecorded,
    /// Already recorded from the browser's report (a shared worker's).
    recorded: bool,
    /// Sent by the browser for the page rather than by the page's code (its icon): Playwright
    /// never routes these, so they are recorded from the report instead of being an error.
    browser_own: bool,
}

impl Watch {
    /// What the browser reported and the recorder did not record. Waits (bounded by `grace`)
    /// for routes still recording: the browser may report a request before its route ran.
    pub async fn unaccounted(&self, recorder: &Recorder, grace: Duration) -> Vec<Unrecorded> {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let notified = recorder.activity.notified();
            let missing: Vec<(Unrecorded, bool)> = {
                let w = self.log.witnessed.lock().unwrap_or_else(|p| p.into_inner());
                let mut seen = std::collections::BTreeSet::new();
                w.iter()
                    .filter(|w| !w.recorded)
                    .filter(|w| !recorder.saw(&w.request.method, &w.request.url))
                    .filter(|w| seen.insert((w.request.method.clone(), w.request.url.clone())))
                    .map(|w| (w.request.clone(), w.browser_own))
                    .collect()
            };
            if missing.is_empty() || tokio::time::Instant::now() >= deadline {
                let mut unrecorded = Vec::new();
                for (u, browser_own) in missing {
                    if browser_own {
                        recorder.record_external_at(
                            CapturedRequest {
                                seq: 0,
                                at_ms: 0,
                                phase: Phase::Before,
                                method: u.method,
                                url: u.url,
                                resource_type: "other".into(),
                                headers: BTreeMap::new(),
                                body: None,
                                answer: Answer::Unrouted,
                            },
                            u.at_ms,
                            u.phase,
                        );
                    } else {
                        unrecorded.push(u);
                    }
                }
                return unrecorded;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    pub async fn stop(self) {
        // The browser may already be gone; the visit's own result says more.
        let _ = self.session.detach().await;
    }
}

/// Starts watching every target of `context` (whose first page is `page`). `None` when the
/// browser offers no CDP session (not Chromium, or a remote server that refuses it).
pub async fn watch(
    browser: &Browser,
    context: &BrowserContext,
    page: &Page,
    recorder: Arc<Recorder>,
) -> Option<Watch> {
    let page_session = context.new_cdp_session(page).await.ok()?;
    let info = page_session.send("Target.getTargetInfo", None).await.ok();
    let _ = page_session.detach().await;
    let context_id = result(&info?)
        .pointer("/targetInfo/browserContextId")?
        .as_str()?
        .to_string();
    let session = browser.new_browser_cdp_session().await.ok()?;
    let log = Arc::new(Log::default());
    {
        let s = session.clone();
        let log = log.clone();
        session.on("Target.targetCreated", move |e: Value| {
            let s = s.clone();
            let log = log.clone();
            let context_id = context_id.clone();
            async move {
                let t = &e["targetInfo"];
                let kind = t["type"].as_str().unwrap_or("");
                if !WATCHED.contains(&kind) || t["browserContextId"] != context_id.as_str() {
                    return Ok(());
                }
                let attached = s
                    .send(
                        "Target.attachToTarget",
                        Some(json!({"targetId": t["targetId"], "flatten": false})),
                    )
                    .await?;
                let target_id = t["targetId"].as_str().unwrap_or("").to_string();
                log.targets
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(
                        target_id.clone(),
                        (
                            kind.to_string(),
                            t["url"].as_str().unwrap_or("").to_string(),
                        ),
                    );
                if let Some(id) = result(&attached)["sessionId"].as_str() {
                    log.sessions
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id.to_string(), target_id);
                    let message = json!({"id": 1, "method": "Network.enable", "params": {}});
                    s.send(
                        "Target.sendMessageToTarget",
                        Some(json!({"sessionId": id, "message": message.to_string()})),
                    )
                    .await?;
                }
                Ok(())
            }
        });
    }
    {
        // A page is attached at about:blank; initiators name where it went since.
        let log = log.clone();
        session.on("Target.targetInfoChanged", move |e: Value| {
            let log = log.clone();
            async move {
                let t = &e["targetInfo"];
                if let (Some(id), Some(url)) = (t["targetId"].as_str(), t["url"].as_str())
                    && let Some(entry) = log
                        .targets
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(id)
                {
                    entry.1 = url.to_string();
                }
                Ok(())
            }
        });
    }
    {
        let log = log.clone();
        session.on("Target.receivedMessageFromTarget", move |e: Value| {
            let recorder = recorder.clone();
            let log = log.clone();
            async move {
                let Some(message) = e["message"]
                    .as_str()
                    .and_then(|m| serde_json::from_str::<Value>(m).ok())
                else {
                    return Ok(());
                };
                let Some(req) = request_of(&message) else {
                    return Ok(());
                };
                let target = log
                    .sessions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(e["sessionId"].as_str().unwrap_or(""))
                    .cloned()
                    .unwrap_or_default();
                let (kind, url) = log
                    .targets
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&target)
                    .cloned()
                    .unwrap_or_default();
                let shared = kind == "shared_worker";
                let initiator = match message
                    .pointer("/params/initiator/type")
                    .and_then(Value::as_str)
                {
                    Some(how) => format!("{kind} {url} ({how})"),
                    None => format!("{kind} {url}"),
                };
                let (at_ms, phase) = recorder.stamp();
                let witness = Unrecorded {
                    at_ms,
                    phase,
                    method: req.method.clone(),
                    url: req.url.clone(),
                    initiator,
                };
                // Only web traffic can reach a vendor; a redirect hop continues a recorded one.
                let web = ["http://", "https://", "ws://", "wss://"]
                    .iter()
                    .any(|p| req.url.starts_with(p));
                let redirect = message.pointer("/params/redirectResponse").is_some();
                // A CORS preflight carries no payload, and Playwright answers some itself
                // without routing them; the request it clears is recorded.
                let preflight =
                    message.pointer("/params/initiator/type") == Some(&json!("preflight"));
                if shared {
                    recorder.record_external(req);
                }
                let browser_own = message.pointer("/params/type") == Some(&json!("Other"))
                    && message.pointer("/params/initiator/type") == Some(&json!("other"))
                    && kind == "page";
                if web && !redirect && !preflight {
                    log.witnessed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(Witness {
                            request: witness,
                            recorded: shared,
                            browser_own,
                        });
                }
                Ok(())
            }
        });
    }
    session
        .send("Target.setDiscoverTargets", Some(json!({"discover": true})))
        .await
        .ok()?;
    Some(Watch { session, log })
}

/// The result of a CDP command as the Playwright channel returns it (wrapped in `result`).
fn result(v: &Value) -> &Value {
    v.get("result").unwrap_or(v)
}

/// The request (or WebSocket handshake) a worker's Network event reports.
fn request_of(message: &Value) -> Option<CapturedRequest> {
    let params = &message["params"];
    let (method, url, resource_type, headers, body) = match message["method"].as_str()? {
        "Network.requestWillBeSent" => {
            let r = &params["request"];
            let headers: BTreeMap<String, String> = r["headers"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").into()))
                        .collect()
                })
                .unwrap_or_default();
            (
                r["method"].as_str()?.to_string(),
                r["url"].as_str()?.to_string(),
                params["type"]
                    .as_str()
                    .unwrap_or("other")
                    .to_ascii_lowercase(),
                headers,
                post_data(r),
            )
        }
        "Network.webSocketCreated" => (
            "GET".to_string(),
            params["url"].as_str()?.to_string(),
            "websocket".to_string(),
            BTreeMap::new(),
            None,
        ),
        _ => return None,
    };
    Some(CapturedRequest {
        seq: 0,
        at_ms: 0,
        phase: Phase::Before,
        method,
        url,
        resource_type,
        headers,
        body,
        // Sent past every route: offline the DNS rule refuses it, online it left.
        answer: Answer::Unrouted,
    })
}

/// The body bytes: `postDataEntries` (base64) when Chromium gives them, else `postData`.
fn post_data(request: &Value) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if let Some(entries) = request["postDataEntries"].as_array() {
        let mut out = Vec::new();
        for e in entries {
            if let Some(b) = e["bytes"].as_str() {
                out.extend(base64::engine::general_purpose::STANDARD.decode(b).ok()?);
            }
        }
        return Some(out);
    }
    request["postData"].as_str().map(|s| s.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_events_become_requests() {
        let m = json!({"method": "Network.requestWillBeSent", "params": {"type": "Fetch",
            "request": {"method": "POST", "url": "https://v.example/x",
                "headers": {"Content-Type": "text/plain"},
                "postDataEntries": [{"bytes": "aGVs"}, {"bytes": "bG8="}]}}});
        let r = request_of(&m).unwrap();
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("POST", "https://v.example/x")
        );
        assert_eq!(r.resource_type, "fetch");
        assert_eq!(r.body.as_deref(), Some(&b"hello"[..]));
        assert_eq!(
            r.headers.get("content-type").map(String::as_str),
            Some("text/plain")
        );
        let m =
            json!({"method": "Network.webSocketCreated", "params": {"url": "wss://c.example/s"}});
        assert!(request_of(&m).unwrap().is_socket());
        assert!(request_of(&json!({"method": "Network.loadingFinished"})).is_none());
    }
}
