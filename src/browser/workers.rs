//! Requests of shared workers. Playwright routes what pages, frames, dedicated workers and service
//! workers send, but not what a `SharedWorker` sends: its `fetch()` and WebSockets bypass every
//! route. This watcher closes that gap through the Chrome DevTools Protocol: a browser-level
//! session discovers the shared workers of this trial's browser context, attaches to each and
//! records the requests and WebSocket handshakes its Network domain reports.
//!
//! What it cannot do: answer them (offline they meet the DNS rule and fail; online they leave,
//! recorded), and see what a worker sends in the moment between its start and the attachment (a
//! worker that sends on its first line, before the page has even talked to it).

use std::collections::BTreeMap;
use std::sync::Arc;

use playwright_rs::protocol::CDPSession;
use playwright_rs::{Browser, BrowserContext, Page};
use serde_json::{Value, json};

use super::edge::Recorder;
use crate::capture::{Answer, CapturedRequest, Phase};

/// Keeps the watch alive for the visit; [`Watch::stop`] ends it.
pub struct Watch {
    session: CDPSession,
}

impl Watch {
    pub async fn stop(self) {
        // The browser may already be gone; the visit's own result says more.
        let _ = self.session.detach().await;
    }
}

/// Starts watching the shared workers of `context` (whose first page is `page`). `None` when the
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
    {
        let s = session.clone();
        session.on("Target.targetCreated", move |e: Value| {
            let s = s.clone();
            let context_id = context_id.clone();
            async move {
                let t = &e["targetInfo"];
                if t["type"] == "shared_worker" && t["browserContextId"] == context_id.as_str() {
                    let attached = s
                        .send(
                            "Target.attachToTarget",
                            Some(json!({"targetId": t["targetId"], "flatten": false})),
                        )
                        .await?;
                    if let Some(id) = result(&attached)["sessionId"].as_str() {
                        let message = json!({"id": 1, "method": "Network.enable", "params": {}});
                        s.send(
                            "Target.sendMessageToTarget",
                            Some(json!({"sessionId": id, "message": message.to_string()})),
                        )
                        .await?;
                    }
                }
                Ok(())
            }
        });
    }
    session.on("Target.receivedMessageFromTarget", move |e: Value| {
        let recorder = recorder.clone();
        async move {
            if let Some(req) = e["message"]
                .as_str()
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
                .and_then(|m| request_of(&m))
            {
                recorder.record_external(req);
            }
            Ok(())
        }
    });
    session
        .send("Target.setDiscoverTargets", Some(json!({"discover": true})))
        .await
        .ok()?;
    Some(Watch { session })
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
