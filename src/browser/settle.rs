//! Settling: waiting until the page has done what an action set off, with a bound.
//!
//! With the controlled clock (the default, `timing.clock: controlled`) the page runs on
//! Playwright's clock, which is paused while settling: the network is drained (nothing in flight
//! in the page or at the edge), then the clock is run forward to the next timer due in any frame,
//! and again, until `horizon_ms` of page time have passed without a request. What a page does
//! within the horizon is therefore seen whatever the machine's load, in a fraction of the time,
//! and a request fired by a timer is followed by the timers its response schedules. Between
//! settles (steps, reading the CMP's choice) the clock runs in real time, so that banners,
//! adapters and `eval` steps behave as in any browser.
//!
//! With the real clock (`timing.clock: real`) the plain rule waits for `quiet_ms` without a new
//! request after the last action. The smart rule ends sooner: after only `min_quiet_ms` of network
//! silence, it asks the page whether anything is still pending (a fetch or XHR in flight, or a
//! timer due within `quiet_ms`, which is how analytics.js, CMPs and vendor tags schedule their next
//! request). When the page says idle, the wait is over; otherwise the plain rule applies.
//!
//! Either way `settle_max_ms` bounds the wall time of one settle, and running out is reported.

use std::time::Duration;

use playwright_rs::Page;

use super::edge::{self, Recorder};

/// Installed in every frame before its scripts run (both probes share it): counts the page's
/// pending work — fetches, XHRs, and loads of inserted scripts, images, frames and stylesheets
/// (which load outside fetch/XHR), `new Image().src` beacons included — as
/// `window.__consentGatesPending` (`count`, `begin()`, `end()`, `watch(f)`: `f` runs on every
/// change). A fetch or XHR that throws synchronously is not pending.
const PENDING_COUNTER: &str = r#"(() => {
  if (window.__consentGatesPending) return;
  let count = 0;
  const watchers = [];
  const changed = () => watchers.forEach(w => w());
  const P = window.__consentGatesPending = {
    get count() { return count; },
    begin() { count++; },
    end() { count--; changed(); },
    watch(f) { watchers.push(f); },
  };
  P.track = (start) => {
    P.begin();
    let p;
    try { p = start(); } catch (e) { P.end(); throw e; }
    p.then(P.end, P.end);
    return p;
  };
  if (window.fetch) {
    const f = window.fetch;
    window.fetch = function (...args) { return P.track(() => f.apply(this, args)); };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    P.begin();
    this.addEventListener('loadend', P.end, { once: true });
    try { return send.apply(this, args); } catch (e) { P.end(); throw e; }
  };
  const watch = (el) => {
    if (!el || el.__cgWatched || !(el.src || el.href)) return;
    const tag = el.tagName;
    if (tag !== 'SCRIPT' && tag !== 'IMG' && tag !== 'IFRAME' && !(tag === 'LINK' && el.rel === 'stylesheet')) return;
    if (tag === 'IMG' && el.complete) return;
    el.__cgWatched = true;
    P.begin();
    let finished = false;
    const finish = () => { if (!finished) { finished = true; P.end(); } };
    el.addEventListener('load', finish, { once: true });
    el.addEventListener('error', finish, { once: true });
  };
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      watch(n);
      if (n.querySelectorAll) n.querySelectorAll('script[src],img[src],iframe[src],link[rel=stylesheet]').forEach(watch);
    }
  }).observe(document, { childList: true, subtree: true });
  const srcDesc = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
  if (srcDesc && srcDesc.set) {
    Object.defineProperty(HTMLImageElement.prototype, 'src', {
      ...srcDesc,
      set(v) { srcDesc.set.call(this, v); if (!this.isConnected) { this.__cgWatched = false; watch(this); } },
    });
  }
  document.addEventListener('readystatechange', changed);
})();"#;

/// The real clock's smart rule: installed in every page before its scripts run, it also counts
/// timers due within the quiet period, and exposes `__consentGatesIdle(ms)`, a promise that
/// resolves `true` as soon as nothing is pending (and the document has loaded), `false` after `ms`.
pub(crate) fn idle_probe_script(quiet_ms: u64) -> String {
    let idle = r#"(() => {
  if (window.__consentGatesIdle) return;
  const P = window.__consentGatesPending;
  const SHORT = QUIET_MS;
  const setT = window.setTimeout.bind(window), clearT = window.clearTimeout.bind(window);
  const waiters = [];
  const wake = () => {
    if (P.count === 0 && document.readyState === 'complete') waiters.splice(0).forEach(w => w());
  };
  P.watch(() => queueMicrotask(wake));
  const timers = new Set();
  window.setTimeout = function (fn, ms, ...rest) {
    if (typeof fn !== 'function' || !(Number(ms) <= SHORT)) return setT(fn, ms, ...rest);
    P.begin();
    const id = setT((...args) => { if (timers.delete(id)) { try { fn(...args); } finally { P.end(); } } }, ms, ...rest);
    timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) {
    if (timers.delete(id)) P.end();
    return clearT(id);
  };
  window.__consentGatesIdle = (ms) => new Promise(resolve => {
    if (P.count === 0 && document.readyState === 'complete') return resolve(true);
    waiters.push(() => resolve(true));
    setT(() => resolve(false), ms);
  });
})();"#;
    format!(
        "{PENDING_COUNTER}\n{}",
        idle.replace("QUIET_MS", &quiet_ms.to_string())
    )
}

/// Settles after an action on `page`: the smart rule, falling back to the plain one.
pub(crate) async fn settle(
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

// ---------------------------------------------------------------------------------------------
// The controlled clock.

/// After this many single-timer steps in one settle (a page animating with
/// `requestAnimationFrame`, or polling every few milliseconds), each step runs at least
/// [`COARSE_STEP_MS`] of page time: timers still fire in order, but the network is drained only
/// between steps. A function of the page's behaviour, not of timing.
const FINE_STEPS: u32 = 200;
const COARSE_STEP_MS: u64 = 1_000;
/// When Playwright's clock does not say when its next timer is due: fixed steps of page time.
const BLIND_STEP_MS: u64 = 250;
/// A settle that has run this many horizons of page time with requests still coming ends:
/// the page is never idle (a heartbeat), which the snapshot records.
const MAX_HORIZONS: u64 = 10;

/// How one settle ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    /// No request for a whole horizon of page time (or, on the real clock, `quiet_ms`).
    Idle,
    /// Requests kept coming over [`MAX_HORIZONS`] horizons of page time; a property of the page.
    NeverIdle { page_ms: u64 },
    /// `settle_max_ms` of wall time ran out first, after `page_ms` of page time.
    OutOfTime { page_ms: u64 },
    /// The clock could not be controlled (the page closed, a navigation raced the clock); the
    /// settle fell back to the real clock's quiet rule.
    Uncontrolled(String),
}

/// Playwright's clock in one browser context: installed before the first page, paused while
/// settling, running in real time otherwise.
pub(crate) struct PageClock {
    clock: playwright_rs::protocol::Clock,
    /// Page time (ms since the epoch) while paused, or when it was last resumed.
    at: u64,
    running_since: Option<std::time::Instant>,
}

impl PageClock {
    /// Installs the clock at the current wall time (so that cookie lifetimes and dates stay
    /// realistic) and pauses it: the first page loads with no timer run.
    pub(crate) async fn install(
        context: &playwright_rs::BrowserContext,
    ) -> Result<Self, playwright_rs::Error> {
        let clock = context.clock();
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        clock
            .install(playwright_rs::protocol::ClockInstallOptions::default().time(start))
            .await?;
        clock.pause_at(start).await?;
        Ok(PageClock {
            clock,
            at: start,
            running_since: None,
        })
    }

    /// Lets page time flow with real time (for steps and reads).
    /// Bounded by `bound`: a page stuck in a navigation does not answer.
    pub(crate) async fn resume(&mut self, bound: Duration) {
        if self.running_since.is_some() {
            return;
        }
        // Taken before resuming, so that page time never runs ahead of the estimate in `pause`.
        self.running_since = Some(std::time::Instant::now());
        // A page that closed (or hangs) has no clock to run; the next pause says so.
        let _ = tokio::time::timeout(bound, self.clock.resume()).await;
    }

    /// Pauses the clock a little ahead of where real time took it (Playwright pauses at an
    /// absolute time, which must not lie in the page's past).
    /// `deadline` bounds the wall time: a page stuck in a navigation does not answer.
    ///
    /// The estimate is this side's count of page time; a document that replaced the page while
    /// the clock ran can be ahead of it (Playwright replays the clock's history into each new
    /// document). When the pause lands in the page's past, the page's own clock (`Date.now()`,
    /// the installed fake) says where it is, and the next attempt starts from there.
    async fn pause(&mut self, page: &Page, deadline: tokio::time::Instant) -> Result<(), String> {
        let Some(since) = self.running_since else {
            return Ok(());
        };
        let mut margin = 50;
        let mut last = String::new();
        let mut floor = 0u64;
        for _ in 0..5 {
            let target = (self.at + since.elapsed().as_millis() as u64).max(floor) + margin;
            let Ok(paused) = tokio::time::timeout_at(deadline, self.clock.pause_at(target)).await
            else {
                return Err("the page clock did not answer (pause) before the bound".to_string());
            };
            match paused {
                Ok(()) => {
                    self.at = target;
                    self.running_since = None;
                    return Ok(());
                }
                Err(e) if is_page_error(&e) => {
                    // A timer of the page threw while the clock caught up: paused all the same.
                    self.at = target;
                    self.running_since = None;
                    return Ok(());
                }
                Err(e) => {
                    last = e.to_string();
                    margin *= 4;
                    if last.contains("fast-forward to the past")
                        && let Ok(Ok(now)) = tokio::time::timeout_at(
                            deadline,
                            page.evaluate::<(), f64>("Date.now()", None),
                        )
                        .await
                    {
                        floor = now as u64;
                    }
                }
            }
        }
        Err(format!("the page clock could not be paused: {last}"))
    }

    /// Runs page time forward by `ms`, firing every timer due on the way.
    async fn run(&mut self, ms: u64, deadline: tokio::time::Instant) -> Result<(), String> {
        let Ok(ran) = tokio::time::timeout_at(deadline, self.clock.fast_forward(ms)).await else {
            return Err("the page clock did not answer (run) before the bound".to_string());
        };
        match ran {
            Ok(()) => {}
            // The page's own timer threw: the clock still moved on, as a browser would.
            Err(e) if is_page_error(&e) => {}
            Err(e) => return Err(format!("the page clock could not run: {e}")),
        }
        self.at += ms;
        Ok(())
    }
}

/// An error thrown by the page's own code inside a timer the clock ran (not a clock failure).
fn is_page_error(e: &playwright_rs::Error) -> bool {
    let m = e.to_string();
    !(m.contains("fast-forward to the past")
        || m.contains("closed")
        || m.contains("Target")
        || m.contains("not installed")
        || m.to_ascii_lowercase().contains("timeout"))
}

/// The controlled clock's probe: installed in every frame after Playwright's clock, it also
/// counts reading a response's body (it arrives after the headers, when fetch resolves), and
/// exposes `__consentGatesDrained()`, a promise that resolves once nothing is pending and the
/// document has loaded, held over a few real tasks (a MessageChannel, which the paused clock does
/// not hold back) so that a response handler starting the next request is seen.
pub(crate) fn drain_probe_script() -> String {
    let drained = r#"(() => {
  if (window.__consentGatesDrained) return;
  const P = window.__consentGatesPending;
  let wake = null;
  const channel = new MessageChannel();
  let queued = [];
  channel.port1.onmessage = () => { const q = queued; queued = []; q.forEach(f => f()); };
  const nextTask = (f) => { queued.push(f); channel.port2.postMessage(0); };
  P.watch(() => { if (wake) { const w = wake; wake = null; nextTask(w); } });
  if (window.Response) {
    for (const m of ['json', 'text', 'arrayBuffer', 'blob', 'formData']) {
      const read = Response.prototype[m];
      if (typeof read !== 'function') continue;
      Response.prototype[m] = function (...args) { return P.track(() => read.apply(this, args)); };
    }
  }
  window.__consentGatesDrained = () => new Promise(resolve => {
    let calm = 0;
    const check = () => {
      if (P.count <= 0 && document.readyState === 'complete') {
        if (++calm >= 3) return resolve(true);
        nextTask(check);
      } else {
        calm = 0;
        wake = check;
      }
    };
    check();
  });
})();"#;
    format!("{PENDING_COUNTER}\n{drained}")
}

/// Drains one frame, then reads its clock: page time now and when its next timer is due.
const FRAME_STATE: &str = r#"(async () => {
  if (window.__consentGatesDrained) await window.__consentGatesDrained();
  const c = globalThis.__pwClock && globalThis.__pwClock.controller;
  if (!c) return { now: null, next: null, known: false };
  const now = c.now();
  if (typeof c._firstTimer !== 'function' || typeof c.performanceNow !== 'function')
    return { now, next: null, known: false };
  const t = c._firstTimer();
  return { now, next: t ? now + (t.callAt - c.performanceNow()) : null, known: true };
})()"#;

#[derive(Debug, Clone, Copy, serde::Deserialize)]
struct FrameState {
    now: Option<f64>,
    next: Option<f64>,
    known: bool,
}

/// When the next timer of any frame is due (page ms), once every frame and the edge are drained.
/// `Err` when the wall deadline passed first.
enum NextTimer {
    At(u64),
    None,
    Unknown,
}

async fn drain(
    page: &Page,
    recorder: &Recorder,
    deadline: tokio::time::Instant,
) -> Result<NextTimer, ()> {
    loop {
        let before = recorder.request_count();
        let frames = page.frames().await.unwrap_or_default();
        let mut next: Option<u64> = None;
        let mut known = true;
        for frame in &frames {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let state = tokio::time::timeout(remaining, frame.evaluate::<()>(FRAME_STATE, None))
                .await
                .map_err(|_| ())?;
            // A frame that navigated or went away has nothing to drain.
            let Some(state) = state
                .ok()
                .and_then(|v| serde_json::from_value::<FrameState>(v).ok())
            else {
                continue;
            };
            if state.now.is_none() {
                continue;
            }
            known &= state.known;
            if let Some(t) = state.next {
                let t = t.max(0.0).ceil() as u64;
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        // Requests still at the edge, or new ones since the frames reported: drain again.
        if !edge::drained(recorder, deadline).await {
            return Err(());
        }
        if recorder.request_count() == before {
            return Ok(match (known, next) {
                (false, _) => NextTimer::Unknown,
                (true, Some(t)) => NextTimer::At(t),
                (true, None) => NextTimer::None,
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(());
        }
    }
}

/// Settles on the controlled clock: pauses it, then runs it forward timer by timer with the
/// network drained in between until `horizon` of page time passed without a request.
pub(crate) async fn settle_controlled(
    page: &Page,
    recorder: &Recorder,
    clock: &mut PageClock,
    horizon: Duration,
    max: Duration,
) -> Settled {
    let deadline = tokio::time::Instant::now() + max;
    if let Err(e) = clock.pause(page, deadline).await {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        edge::settle(recorder, Duration::from_millis(500), remaining).await;
        return Settled::Uncontrolled(e);
    }
    let horizon = horizon.as_millis() as u64;
    let start = clock.at;
    let mut last_activity = clock.at;
    let mut seen = recorder.request_count();
    let mut steps = 0u32;
    // Page time before the last run forward, and whether that run fired a timer.
    let mut before_run = clock.at;
    let mut ran_timer = false;
    loop {
        let next = match drain(page, recorder, deadline).await {
            Ok(n) => n,
            Err(()) => {
                return Settled::OutOfTime {
                    page_ms: clock.at - start,
                };
            }
        };
        let count = recorder.request_count();
        if count != seen {
            seen = count;
            // A request that shows up after a run that fired no timer was set off before it (a
            // beacon still on its way to the edge, a handler that ran late on a loaded machine):
            // it counts from where the clock stood, so the horizon does not depend on when the
            // machine got round to it.
            last_activity = if ran_timer { clock.at } else { before_run };
        }
        let quiet_until = last_activity + horizon;
        if clock.at >= quiet_until {
            return Settled::Idle;
        }
        if clock.at - start >= horizon * MAX_HORIZONS {
            return Settled::NeverIdle {
                page_ms: clock.at - start,
            };
        }
        let (mut target, timer) = match next {
            NextTimer::At(t) if t <= quiet_until => (t.max(clock.at), true),
            NextTimer::At(_) | NextTimer::None => (quiet_until, false),
            NextTimer::Unknown => ((clock.at + BLIND_STEP_MS).min(quiet_until), true),
        };
        if steps >= FINE_STEPS {
            target = target.max((clock.at + COARSE_STEP_MS).min(quiet_until));
        }
        before_run = clock.at;
        ran_timer = timer;
        steps += 1;
        if tokio::time::Instant::now() >= deadline {
            return Settled::OutOfTime {
                page_ms: clock.at - start,
            };
        }
        if let Err(e) = clock.run(target - clock.at, deadline).await {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            edge::settle(recorder, Duration::from_millis(500), remaining).await;
            return Settled::Uncontrolled(e);
        }
    }
}
