//! The network layer behind Playwright's routes: everything this trial's browser context sends
//! that no route answered passes here before it may reach the network.
//!
//! Playwright's context routes see what pages, frames and dedicated workers send, but not what a
//! `SharedWorker` sends, nor the beacons and keepalive fetches a page sends while it really
//! unloads (`pagehide`, `visibilitychange`, `unload` after the next document committed), nor the
//! icon the browser fetches for a page. A browser-level Chrome DevTools session intercepts
//! requests with the Fetch domain: a route that answered a request ends it before this layer, so
//! what arrives here is either a request a route let through to the network (already recorded:
//! passed on) or one that went past every route. Those are recorded like any other request
//! (`Initiator::Unrouted`) and answered the way the edge answers (offline: a served folder or the
//! sinkhole; online: the network).
//!
//! The browser is shared by concurrent trials: a request belongs to this trial when the target
//! that sent it (a page or worker: the event's `frameId`) lies in this trial's browser context.
//!
//! What it cannot see: WebSockets (the Fetch domain does not intercept them; pages' sockets are
//! routed, and the page's own report of sockets cross-checks them, see `session.rs`), and
//! requests of a frame that is not a target of its own (an iframe rendered in its page's process)
//! sent while that frame unloads: the browser names the frame, which names no context, so they
//! are passed on unrecorded (offline, the DNS rule refuses them).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use playwright_rs::protocol::CDPSession;
use playwright_rs::{Browser, BrowserContext, Page};
use serde_json::{Value, json};

use super::edge::{self, EdgeConfig, Recorder};
use crate::capture::{Answer, CapturedRequest, Initiator, Phase, TargetKind};

/// Keeps the interception alive for the visit; [`Backstop::stop`] ends it (the browser then
/// lets any request still paused here go on).
pub(crate) struct Backstop {
    session: CDPSession,
}

impl Backstop {
    pub(crate) async fn stop(self) {
        // The browser may already be gone; the visit's own result says more.
        let _ = self.session.detach().await;
    }
}

/// Who sent a request: the target behind a `frameId`, when it is one.
#[derive(Clone)]
struct Sender {
    context: String,
    kind: TargetKind,
}

/// Starts intercepting for the context of `page`. `None` when the browser offers no DevTools
/// session (the caller reports that nothing backs the routes).
pub(crate) async fn start(
    browser: &Browser,
    context: &BrowserContext,
    page: &Page,
    config: Arc<EdgeConfig>,
    recorder: Arc<Recorder>,
) -> Option<Backstop> {
    let page_session = context.new_cdp_session(page).await.ok()?;
    let info = page_session.send("Target.getTargetInfo", None).await.ok();
    {
        let s = page_session.clone();
        tokio::spawn(async move {
            let _ = s.detach().await;
        });
    }
    let context_id = result(&info?)
        .pointer("/targetInfo/browserContextId")?
        .as_str()?
        .to_string();
    let session = browser.new_browser_cdp_session().await.ok()?;
    let senders: Arc<Mutex<HashMap<String, Option<Sender>>>> = Arc::default();
    {
        let s = session.clone();
        session.on("Fetch.requestPaused", move |e: Value| {
            // Counted from its arrival, in the browser's order: a request handled after the
            // departure marker that the page sent before it is still waited for.
            let held = recorder.hold();
            let s = s.clone();
            let senders = senders.clone();
            let context_id = context_id.clone();
            let config = config.clone();
            let recorder = recorder.clone();
            async move {
                let sender = sender_of(&s, &senders, e["frameId"].as_str()).await;
                let reply = match sender.filter(|t| t.context == context_id) {
                    Some(sender) => answer(&e, &sender, &config, &recorder).await,
                    None => None,
                };
                release(&s, &e, reply).await;
                drop(held);
                Ok(())
            }
        });
    }
    session
        .send(
            "Fetch.enable",
            Some(json!({"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})),
        )
        .await
        .ok()?;
    Some(Backstop { session })
}

/// Answers a paused request with `reply`, or lets it go on: every paused request must be one or
/// the other, or it would hang.
async fn release(session: &CDPSession, e: &Value, reply: Option<edge::Canned>) {
    let id = e["requestId"].as_str().unwrap_or_default();
    let _ = match reply {
        Some(canned) => {
            session
                .send(
                    "Fetch.fulfillRequest",
                    Some(json!({
                        "requestId": id,
                        "responseCode": canned.status,
                        "responseHeaders": canned.headers.iter()
                            .map(|(k, v)| json!({"name": k, "value": v}))
                            .collect::<Vec<_>>(),
                        "body": base64_encode(&canned.body),
                    })),
                )
                .await
        }
        None => {
            session
                .send("Fetch.continueRequest", Some(json!({"requestId": id})))
                .await
        }
    };
}

/// The target behind `frame_id` (cached): `None` for a frame that is no target of its own.
async fn sender_of(
    session: &CDPSession,
    cache: &Mutex<HashMap<String, Option<Sender>>>,
    frame_id: Option<&str>,
) -> Option<Sender> {
    let frame_id = frame_id?;
    if let Some(known) = lock(cache).get(frame_id) {
        return known.clone();
    }
    let info = session
        .send("Target.getTargetInfo", Some(json!({"targetId": frame_id})))
        .await
        .ok();
    let sender = info.and_then(|i| {
        let t = result(&i).get("targetInfo")?;
        Some(Sender {
            context: t["browserContextId"].as_str()?.to_string(),
            kind: TargetKind::of(t["type"].as_str().unwrap_or("")),
        })
    });
    lock(cache).insert(frame_id.to_string(), sender.clone());
    sender
}

/// For a request of this trial: `None` to let it go on (a route already recorded it and let it
/// through, or the edge sends it to the network), else the answer. Records what no route saw;
/// the departure marker is counted and answered, never recorded.
async fn answer(
    e: &Value,
    sender: &Sender,
    config: &EdgeConfig,
    recorder: &Recorder,
) -> Option<edge::Canned> {
    if recorder.is_departure(e["request"]["url"].as_str().unwrap_or("")) {
        return Some(edge::Canned {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        });
    }
    let req = request_of(e, sender)?;
    if recorder.claim_routed(&req.method, &req.url) {
        return None;
    }
    let (answer, canned) = edge::answer_unrouted(config, &req).await;
    recorder.record_unrouted(CapturedRequest { answer, ..req });
    canned
}

/// The request a `Fetch.requestPaused` event describes.
fn request_of(e: &Value, sender: &Sender) -> Option<CapturedRequest> {
    let r = &e["request"];
    let headers: BTreeMap<String, String> = r["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").into()))
                .collect()
        })
        .unwrap_or_default();
    Some(CapturedRequest {
        seq: 0,
        at_ms: 0,
        phase: Phase::Before,
        method: r["method"].as_str()?.to_string(),
        url: r["url"].as_str()?.to_string(),
        resource_type: e["resourceType"]
            .as_str()
            .unwrap_or("other")
            .to_ascii_lowercase(),
        headers,
        body: post_data(r),
        answer: Answer::Unrouted,
        initiator: Initiator::Unrouted {
            target: sender.kind,
        },
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

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The result of a CDP command as the Playwright channel returns it (wrapped in `result`).
fn result(v: &Value) -> &Value {
    v.get("result").unwrap_or(v)
}

/// A poisoned lock only means another handler panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_requests_become_requests() {
        let e = json!({"requestId": "1", "frameId": "F", "resourceType": "Ping",
            "request": {"method": "POST", "url": "https://v.example/x",
                "headers": {"Content-Type": "text/plain"},
                "postDataEntries": [{"bytes": "aGVs"}, {"bytes": "bG8="}]}});
        let sender = Sender {
            context: "C".into(),
            kind: TargetKind::Page,
        };
        let r = request_of(&e, &sender).unwrap();
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("POST", "https://v.example/x")
        );
        assert_eq!(r.resource_type, "ping");
        assert_eq!(r.body.as_deref(), Some(&b"hello"[..]));
        assert_eq!(
            r.headers.get("content-type").map(String::as_str),
            Some("text/plain")
        );
        assert_eq!(
            r.initiator,
            Initiator::Unrouted {
                target: TargetKind::Page
            }
        );
        assert!(request_of(&json!({"request": {}}), &sender).is_none());
    }
}
