//! Settling: waiting until the page has done what an action set off, with a bound.
//!
//! The plain rule waits for `quiet_ms` without a new request after the last action. The smart rule
//! ends sooner: after only `min_quiet_ms` of network silence, it asks the page whether anything is
//! still pending (a fetch or XHR in flight, or a timer due within `quiet_ms`, which is how
//! analytics.js, CMPs and vendor tags schedule their next request). When the page says idle, the
//! wait is over; otherwise the plain rule applies. Either way `settle_max_ms` bounds it.

use std::time::Duration;

use playwright_rs::Page;

use super::edge::{self, Recorder};

/// Installed in every page before its scripts run: counts pending fetches, XHRs and timers due
/// within the quiet period, and exposes `__consentGatesIdle(ms)`, a promise that resolves `true`
/// as soon as nothing is pending (and the document has loaded), `false` after `ms`.
pub fn idle_probe_script(quiet_ms: u64) -> String {
    format!(
        r#"(() => {{
  if (window.__consentGatesIdle) return;
  const SHORT = {quiet_ms};
  const setT = window.setTimeout.bind(window), clearT = window.clearTimeout.bind(window);
  let pending = 0;
  const waiters = [];
  const settle = () => {{ pending--; queueMicrotask(wake); }};
  const wake = () => {{
    if (pending === 0 && document.readyState === 'complete') waiters.splice(0).forEach(w => w());
  }};
  const timers = new Set();
  window.setTimeout = function (fn, ms, ...rest) {{
    if (typeof fn !== 'function' || !(Number(ms) <= SHORT)) return setT(fn, ms, ...rest);
    pending++;
    const id = setT((...args) => {{ if (timers.delete(id)) {{ try {{ fn(...args); }} finally {{ settle(); }} }} }}, ms, ...rest);
    timers.add(id);
    return id;
  }};
  window.clearTimeout = function (id) {{
    if (timers.delete(id)) settle();
    return clearT(id);
  }};
  if (window.fetch) {{
    const f = window.fetch;
    window.fetch = function (...args) {{
      pending++;
      const p = f.apply(this, args);
      p.then(settle, settle);
      return p;
    }};
  }}
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {{
    pending++;
    this.addEventListener('loadend', settle, {{ once: true }});
    try {{ return send.apply(this, args); }} catch (e) {{ settle(); throw e; }}
  }};
  // Scripts, images and frames inserted by page code load outside fetch/XHR: count them until
  // their load or error event.
  const watch = (el) => {{
    if (!el || el.__cgWatched || !(el.src || el.href)) return;
    const tag = el.tagName;
    if (tag !== 'SCRIPT' && tag !== 'IMG' && tag !== 'IFRAME' && !(tag === 'LINK' && el.rel === 'stylesheet')) return;
    if (tag === 'IMG' && el.complete) return;
    el.__cgWatched = true;
    pending++;
    let done = false;
    const finish = () => {{ if (!done) {{ done = true; settle(); }} }};
    el.addEventListener('load', finish, {{ once: true }});
    el.addEventListener('error', finish, {{ once: true }});
  }};
  new MutationObserver((records) => {{
    for (const r of records) for (const n of r.addedNodes) {{
      if (n.nodeType !== 1) continue;
      watch(n);
      if (n.querySelectorAll) n.querySelectorAll('script[src],img[src],iframe[src],link[rel=stylesheet]').forEach(watch);
    }}
  }}).observe(document, {{ childList: true, subtree: true }});
  // `new Image().src = …` beacons never enter the document.
  const srcDesc = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
  if (srcDesc && srcDesc.set) {{
    Object.defineProperty(HTMLImageElement.prototype, 'src', {{
      ...srcDesc,
      set(v) {{ srcDesc.set.call(this, v); if (!this.isConnected) {{ this.__cgWatched = false; watch(this); }} }},
    }});
  }}
  document.addEventListener('readystatechange', wake);
  window.__consentGatesIdle = (ms) => new Promise(resolve => {{
    if (pending === 0 && document.readyState === 'complete') return resolve(true);
    waiters.push(() => resolve(true));
    setT(() => resolve(false), ms);
  }});
}})();"#
    )
}

/// Settles after an action on `page`: the smart rule, falling back to the plain one.
pub async fn settle(
    page: &Page,
    recorder: &Recorder,
    quiet: Duration,
    min_quiet: Duration,
    max: Duration,
) {
    if min_quiet >= quiet {
        return edge::settle(recorder, quiet, max).await;
    }
    let started = tokio::time::Instant::now();
    let deadline = started + max;
    loop {
        edge::settle(
            recorder,
            min_quiet,
            deadline.saturating_duration_since(tokio::time::Instant::now()),
        )
        .await;
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return;
        }
        let silent_for = now
            .into_std()
            .saturating_duration_since(recorder.last_activity());
        if silent_for >= quiet {
            return;
        }
        let wait_ms = (quiet - silent_for).as_millis().max(1);
        let probe = format!(
            "window.__consentGatesIdle ? window.__consentGatesIdle({wait_ms}) : Promise.resolve(false)"
        );
        // A page that navigated or closed cannot answer: fall back to the plain rule.
        let idle = page
            .evaluate::<(), bool>(&probe, None)
            .await
            .unwrap_or(false);
        let quiet_since_probe = recorder.last_activity() + min_quiet <= std::time::Instant::now();
        if idle && quiet_since_probe {
            return;
        }
        if !idle {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            return edge::settle(recorder, quiet, remaining).await;
        }
    }
}
