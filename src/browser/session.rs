//! Browser session: one fresh context per trial, the network edge, the steps, settling.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use playwright_rs::{Browser, BrowserContextOptions};

use super::backstop::{self, Backstop};
use super::edge::{self, EdgeConfig, Recorder};
use super::{pinned, settle, steps, visitor};
use crate::capture::{Capture, HeldQueue, PageEnvironment, StoredCookie, StoredKey, Unrecorded};
use crate::spec::{Spec, State};

pub(crate) use super::error::SessionError;
pub use super::launch::Shared;
use super::navigate::{goto, join_url};

/// Test and benchmark hook, a comma-separated list: `websocket` makes the recorder ignore
/// WebSockets, so that tests can prove the completeness check (`unrecorded-traffic`) catches a
/// channel the recorder misses; `network-layer` and `departure` leave out the network layer
/// behind the routes and the real unload, so that a benchmark can measure what they cost.
pub(crate) const RECORDER_IGNORE_ENV: &str = "CONSENT_GATES_RECORDER_IGNORE";

/// Whether [`RECORDER_IGNORE_ENV`] names `what`.
fn ignored(what: &str) -> bool {
    std::env::var(RECORDER_IGNORE_ENV).is_ok_and(|v| v.split(',').any(|w| w.trim() == what))
}

/// A step that found nothing to act on: the trial fails with `step-did-not-match`.
#[derive(Debug, Clone)]
pub struct StepMiss {
    /// 1-based.
    pub index: usize,
    pub step: String,
    pub detail: String,
}

/// Why a visit ended before its steps and pages were done.
#[derive(Debug, Clone)]
pub enum Stop {
    /// A step found nothing to act on (`step-did-not-match`).
    Miss(StepMiss),
    /// The visit could not go on (`error`): the site did not load, a step acted but the page then
    /// did not let it finish (it navigated and hung, a script threw), the browser died.
    Error(SessionError),
}

/// What one state's visit produced: everything recorded up to its end or to what stopped it.
#[derive(Debug)]
pub struct Visit {
    pub capture: Capture,
    /// `None`: every step and page ran.
    pub stop: Option<Stop>,
    /// Taken when [`EvidenceOptions::screenshots`] asks for them.
    pub screenshots: crate::outcome::Screenshots,
    /// The Playwright trace still recording, when [`EvidenceOptions::trace`] asked for one: the
    /// caller keeps or discards it once it has judged the visit.
    pub trace: Option<Trace>,
}

impl Visit {
    pub fn step_miss(&self) -> Option<&StepMiss> {
        match &self.stop {
            Some(Stop::Miss(m)) => Some(m),
            _ => None,
        }
    }
}

/// A visit's Playwright trace, still recording; its browser context stays open until
/// [`Trace::keep`] or [`Trace::discard`].
pub struct Trace {
    tracing: playwright_rs::protocol::Tracing,
    context: playwright_rs::BrowserContext,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trace")
    }
}

impl Trace {
    /// Saves the trace as `path` (the browser's server writes it) and closes the context. A trace
    /// that cannot be saved is simply missing: it must not change the trial's outcome.
    pub(crate) async fn keep(self, path: &std::path::Path) {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // The browser's server writes the file: a shared one may run in another folder.
        let p = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let options =
            playwright_rs::protocol::TracingStopOptions::default().path(p.display().to_string());
        let _ = self.tracing.stop(Some(options)).await;
        let _ = self.context.close().await;
    }

    /// Stops the trace without saving it (a passing trial) and closes the context.
    pub(crate) async fn discard(self) {
        let _ = self.tracing.stop(None).await;
        let _ = self.context.close().await;
    }
}

/// Settles a visit after each action, on the spec's clock, and logs how each settle ended.
struct Settler<'a> {
    recorder: &'a Arc<Recorder>,
    timing: crate::spec::Timing,
    /// Shared with a decision step, which settles what hovering its control set off.
    clock: Option<tokio::sync::Mutex<settle::PageClock>>,
    log: crate::capture::Settling,
}

impl<'a> Settler<'a> {
    fn new(recorder: &'a Arc<Recorder>, timing: crate::spec::Timing) -> Self {
        Settler {
            recorder,
            timing,
            clock: None,
            log: crate::capture::Settling {
                clock: timing.clock.as_str().to_string(),
                never_idle: Vec::new(),
            },
        }
    }

    /// Before an action (a step, reading the CMP): the page's clock runs in real time.
    async fn act(&self) {
        if let Some(c) = &self.clock {
            c.lock()
                .await
                .resume(Duration::from_millis(self.timing.step_ms))
                .await;
        }
    }

    /// After `what` (`the first page loaded`, `step 1 (cmp reject_all)`): settles and logs. A
    /// settle that ran out of wall time, or lost control of the clock, stops the visit: what the
    /// page did later was not seen.
    async fn settle(&mut self, page: &playwright_rs::Page, what: &str) -> Result<(), Stop> {
        let t = self.timing;
        let max = Duration::from_millis(t.settle_max_ms);
        let Some(clock) = &self.clock else {
            let quiet = Duration::from_millis(t.quiet_ms);
            let min_quiet = Duration::from_millis(t.min_quiet_ms.unwrap_or(t.quiet_ms));
            settle::settle(page, self.recorder, quiet, min_quiet, max).await;
            return Ok(());
        };
        let horizon = Duration::from_millis(t.horizon_ms);
        let unwatched = match settle::settle_controlled(
            page,
            self.recorder,
            &mut *clock.lock().await,
            horizon,
            max,
        )
        .await
        {
            settle::Settled::Idle => return Ok(()),
            settle::Settled::NeverIdle { page_ms } => {
                self.log.never_idle.push(format!(
                    "after {what}: requests kept coming over {} s of page time",
                    page_ms / 1000
                ));
                return Ok(());
            }
            settle::Settled::OutOfTime { page_ms } => format!(
                "after {what}, timing.settle_max_ms ({} ms) ran out after {page_ms} ms of page \
                 time, before the page was idle for timing.horizon_ms ({} ms)",
                t.settle_max_ms, t.horizon_ms
            ),
            settle::Settled::Uncontrolled(why) => format!("after {what}, {why}"),
        };
        Err(Stop::Error(SessionError::Unwatched(unwatched)))
    }
}

/// Evidence a visit collects beside its capture, for the report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EvidenceOptions {
    /// A screenshot before the first step (after the page settled) and after the steps.
    pub(crate) screenshots: bool,
    /// Record a Playwright trace of the context (returned in [`Visit::trace`]).
    pub(crate) trace: bool,
}

/// Runs one state of a spec in a fresh context of `browser`, without evidence. A visit that
/// could not go on is an error here; a step that matched nothing is [`Visit::step_miss`].
pub async fn visit(
    browser: &Browser,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
) -> Result<Visit, SessionError> {
    let visit = visit_with(
        browser,
        spec,
        state,
        config,
        EvidenceOptions::default(),
        Recorder::new(),
    )
    .await?;
    match visit.stop {
        Some(Stop::Error(e)) => Err(e),
        _ => Ok(visit),
    }
}

/// [`visit`] collecting evidence (screenshots, a trace) into `recorder`, which the caller may
/// read even when it gives up waiting. `Err` only when no browser context could be opened;
/// anything that stops the visit later is [`Visit::stop`], beside what was recorded until then.
pub(crate) async fn visit_with(
    browser: &Browser,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
    evidence: EvidenceOptions,
    recorder: Arc<Recorder>,
) -> Result<Visit, SessionError> {
    // A fresh context per trial: no cookies, storage, cache, service workers or permissions of
    // another trial; machine-dependent inputs pinned.
    let mut options = pinned::context_options(BrowserContextOptions::builder());
    if state.gpc {
        let mut headers = HashMap::new();
        headers.insert("Sec-GPC".to_string(), "1".to_string());
        options = options.extra_http_headers(headers);
    }
    let context = browser.new_context_with_options(options.build()).await?;
    let tracing = if evidence.trace {
        start_tracing(&context).await
    } else {
        None
    };
    let mut visit = visit_in(
        browser,
        &context,
        spec,
        state,
        config,
        evidence.screenshots,
        recorder,
    )
    .await;
    match tracing {
        Some(tracing) => visit.trace = Some(Trace { tracing, context }),
        // Closing can fail when the browser died; the visit's own result says more.
        None => {
            let _ = context.close().await;
        }
    }
    Ok(visit)
}

async fn visit_in(
    browser: &Browser,
    context: &playwright_rs::BrowserContext,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
    screenshots: bool,
    recorder: Arc<Recorder>,
) -> Visit {
    let secrets = config.secrets.clone();
    let progress = config.progress.clone();
    let mut shots = crate::outcome::Screenshots::default();
    let mut cmp_state = steps::CmpState::default();
    let mut network_layer = NetworkLayer::NotStarted;
    let mut settler = Settler::new(&recorder, spec.timing);
    let stop = run_visit(
        NetworkSlot {
            browser,
            context,
            layer: &mut network_layer,
        },
        spec,
        state,
        config,
        &mut settler,
        screenshots.then_some(&mut shots),
        &mut cmp_state,
    )
    .await
    .err();
    recorder.set_step(None);
    // Whatever stopped the visit, what it recorded is judged. The CMP's final choice only
    // matters for a visit that got to its end; the cookies (identifiers to recognise, values to
    // redact) always do. Each read is bounded: a page stuck in a navigation answers nothing.
    let bound = Duration::from_millis(spec.timing.step_ms);
    let mut capture = Capture {
        interrupted: stop.is_some(),
        ended_at_ms: recorder.elapsed_ms(),
        ..Capture::default()
    };
    let browser_alive = !matches!(stop, Some(Stop::Error(SessionError::Browser(_))));
    if browser_alive && let Some(page) = context.pages().into_iter().next() {
        read_page_end(
            &page,
            spec,
            &settler,
            stop.is_none(),
            cmp_state,
            &mut capture,
        )
        .await;
    }
    if browser_alive
        && !ignored("departure")
        && let Some(page) = context.pages().into_iter().next()
    {
        progress.set("leaving the page for real (pagehide, visibilitychange, unload)");
        depart(&page, &recorder, &spec.timing).await;
    }
    // The storage once the page is gone: nothing of the site's runs any more to change it.
    if browser_alive
        && let Ok(Ok(stored)) = tokio::time::timeout(bound, storage(context, &secrets)).await
    {
        capture.cookies = stored.cookies;
        capture.local_storage = stored.local_storage;
        capture.held_queues = stored.held_queues;
    }
    capture.settling = settler.log;
    // Requests the reads above provoked belong to the visit too.
    recorder.fill(&mut capture);
    network_layer.finish(&mut capture).await;
    capture.cookie_values = secrets.values();
    Visit {
        capture,
        stop,
        screenshots: shots,
        trace: None,
    }
}

/// The visit itself: first page, steps, pages, leaving. `Err` says what stopped it. Kept as one
/// function (over 80 lines) because it is one sequence a reader follows top to bottom, sharing
/// the same bounds and settling at every turn.
async fn run_visit(
    network: NetworkSlot<'_>,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
    settler: &mut Settler<'_>,
    mut shots: Option<&mut crate::outcome::Screenshots>,
    cmp_state: &mut steps::CmpState,
) -> Result<(), Stop> {
    let context = network.context;
    let timing = spec.timing;
    let recorder = settler.recorder;
    let browser_error = |e: playwright_rs::Error| Stop::Error(e.into());
    // One init script (one round trip): the machine pins, then what the spec asks for.
    let mut init = pinned::init_script();
    if state.gpc {
        init.push_str(
            "\nObject.defineProperty(Navigator.prototype, 'globalPrivacyControl', \
             { get: () => true, configurable: true });",
        );
    }
    if !ignored("departure") {
        init.push('\n');
        init.push_str(edge::DEPARTURE_SCRIPT);
    }
    // The clock before the scripts, so that the drain probe sees the page's (controlled) timers.
    match timing.clock {
        crate::spec::ClockMode::Controlled => {
            settler.clock = Some(tokio::sync::Mutex::new(
                settle::PageClock::install(context)
                    .await
                    .map_err(browser_error)?,
            ));
            init.push('\n');
            init.push_str(&settle::drain_probe_script());
        }
        crate::spec::ClockMode::Real => {
            if timing.min_quiet_ms.is_some_and(|m| m < timing.quiet_ms) {
                init.push('\n');
                init.push_str(&settle::idle_probe_script(timing.quiet_ms));
            }
        }
    }
    context
        .add_init_script(&init)
        .await
        .map_err(browser_error)?;
    let progress = config.progress.clone();
    // `CONSENT_GATES_RECORDER_IGNORE=websocket` leaves WebSockets unrouted: only for proving that
    // the page's own report of its sockets catches what the recorder misses.
    edge::install(context, &config, recorder, !ignored("websocket"))
        .await
        .map_err(browser_error)?;
    let page = context.new_page().await.map_err(browser_error)?;
    {
        let recorder = recorder.clone();
        page.on_websocket(move |ws| {
            recorder.socket_reported(ws.url());
            async { Ok(()) }
        })
        .await
        .map_err(browser_error)?;
    }
    // What goes past the routes (shared workers, beacons of a real unload) meets the network
    // layer behind them; started before the first navigation so that nothing precedes it.
    if !ignored("network-layer") {
        *network.layer = match backstop::start(
            network.browser,
            context,
            &page,
            config.clone(),
            recorder.clone(),
        )
        .await
        {
            Some(b) => NetworkLayer::Running(b),
            None => NetworkLayer::Failed,
        };
    }
    page.set_default_timeout(timing.step_ms as f64).await;
    page.set_default_navigation_timeout(timing.navigation_ms as f64)
        .await;

    progress.set(format!("loading {}", spec.site.url));
    goto(&page, &spec.site.url, timing.navigation_ms)
        .await
        .map_err(Stop::Error)?;
    recorder.touch();
    progress.set("settling after the first page loaded");
    settler.settle(&page, "the first page loaded").await?;
    browse(&page, spec, settler, "the first page").await?;
    if let Some(shots) = shots.as_deref_mut() {
        shots.before = screenshot(&page).await;
    }

    for (i, step) in state.steps.iter().enumerate() {
        // The decision is the state's first decision step (the first `cmp` step, else the
        // first step, unless `decision:` markers say otherwise); every decision starts a phase.
        // Marked here, at the step's start, so that a step that never lands still has its
        // phase; the step moves the mark to when the decision lands (the press on the control,
        // after hovering settled; see `steps`), the first decision's instant with it.
        let is_decision = state.decisions.iter().any(|d| d.step == i);
        if is_decision {
            recorder.mark_phase();
        }
        if matches!(step, crate::spec::Step::Visit(_)) {
            leave(&page, settler, "leaving before the step").await?;
        }
        progress.set(format!("running step {} ({})", i + 1, step.describe()));
        // A top-level navigation from now until the step has settled is the step's doing.
        recorder.set_step(Some(i + 1));
        settler.act().await;
        let decision = steps::Decision {
            recorder: is_decision.then_some(&**recorder),
            clock: settler.clock.as_ref(),
            quiet: Duration::from_millis(timing.quiet_ms),
            min_quiet: Duration::from_millis(timing.min_quiet_ms.unwrap_or(timing.quiet_ms)),
            // What hovering sets off is waited for at most a step's bound: a page that never
            // goes quiet (polling, a session recorder) must not hold the press for settle_max_ms.
            settle_max: Duration::from_millis(timing.step_ms.min(timing.settle_max_ms)),
        };
        let outcome = steps::run(&page, spec, step, &timing, cmp_state, decision).await;
        if outcome.is_ok() {
            recorder.touch();
            progress.set(format!(
                "settling after step {} ({})",
                i + 1,
                step.describe()
            ));
            let settled = settler
                .settle(&page, &format!("step {} ({})", i + 1, step.describe()))
                .await;
            recorder.set_step(None);
            settled?;
            browse(&page, spec, settler, &format!("step {}", i + 1)).await?;
        }
        recorder.set_step(None);
        let outcome = match (outcome, cmp_state.banner_check.take()) {
            (Ok(()), Some(check)) => {
                settler.act().await;
                check.verify(&page, timing.step_ms).await
            }
            (outcome, _) => outcome,
        };
        let stop = match outcome {
            Ok(()) => continue,
            Err(steps::StepError::NoMatch(detail)) => Stop::Miss(StepMiss {
                index: i + 1,
                step: step.describe(),
                detail,
            }),
            Err(steps::StepError::Failed(message)) => Stop::Error(SessionError::Step {
                index: i + 1,
                step: step.describe(),
                message,
            }),
        };
        if let Some(shots) = shots.as_deref_mut() {
            shots.after = screenshot(&page).await;
        }
        // What the page queued before the step stopped it is still delivered, and judged.
        progress.set("leaving the page (flushing batched deliveries)");
        // The step's own stop says more than a settle that ran out after it.
        let _ = leave(&page, settler, "leaving the page").await;
        return Err(stop);
    }
    if let Some(shots) = shots
        && !state.steps.is_empty()
    {
        shots.after = screenshot(&page).await;
    }
    for p in &spec.site.pages {
        let url = join_url(&spec.site.url, p);
        leave(&page, settler, "leaving the page").await?;
        progress.set(format!("loading page {url}"));
        goto(&page, &url, timing.navigation_ms)
            .await
            .map_err(Stop::Error)?;
        recorder.touch();
        settler.settle(&page, &format!("page {p} loaded")).await?;
        browse(&page, spec, settler, &format!("page {p}")).await?;
    }
    progress.set("leaving the page (flushing batched deliveries)");
    leave(&page, settler, "leaving the page").await?;
    progress.set("reading the storage and the CMP's choice");
    Ok(())
}

/// The visitor browses (scrolls, moves the pointer: never a choice, see `visitor`) at a settled
/// point, and the page settles again on what that set off.
async fn browse(
    page: &playwright_rs::Page,
    spec: &Spec,
    settler: &mut Settler<'_>,
    after: &str,
) -> Result<(), Stop> {
    if !(spec.visitor.scroll || spec.visitor.pointer) || !on_site(&page.url(), spec) {
        return Ok(());
    }
    settler.act().await;
    visitor::browse(
        page,
        spec.visitor,
        Duration::from_millis(spec.timing.step_ms),
    )
    .await;
    settler.recorder.touch();
    settler
        .settle(page, &format!("the visitor browsed ({after})"))
        .await
}

/// The page is the site's (its URL's or a web page's host, or a subdomain): a visitor a step sent
/// elsewhere (a vendor's form target, a shared link) has left, and does not browse there.
fn on_site(url: &str, spec: &Spec) -> bool {
    let here = crate::capture::url_host(url);
    spec.site
        .own_hosts()
        .iter()
        .any(|site| crate::analysis::catalog::host_matches(&here, site))
}

/// Starts a Playwright trace of `context` (screenshots and DOM snapshots); `None` when tracing is
/// unavailable, which only costs the trace.
async fn start_tracing(
    context: &playwright_rs::BrowserContext,
) -> Option<playwright_rs::protocol::Tracing> {
    let tracing = context.tracing().await.ok()?;
    let options = playwright_rs::protocol::TracingStartOptions::default()
        .screenshots(true)
        .snapshots(true);
    tracing.start(options).await.ok()?;
    Some(tracing)
}

/// A viewport screenshot (PNG) for the report; `None` when the page cannot take one.
async fn screenshot(page: &playwright_rs::Page) -> Option<Vec<u8>> {
    page.screenshot(None).await.ok()
}

struct CmpRead {
    choice: Option<std::collections::BTreeMap<String, bool>>,
    detected: Option<String>,
    autoconsent_rule: Option<String>,
    signals: super::cmp::signals::Signals,
}

/// What the page itself says at the end of the visit, each read bounded by `step_ms` (a page stuck
/// in a navigation answers nothing): its pinned environment, the globals holding analytics.js and,
/// for a visit that got to its end (`finished`), the CMP's answers — read while the page is still
/// there, with the clock running (they may need the page's timers).
async fn read_page_end(
    page: &playwright_rs::Page,
    spec: &Spec,
    settler: &Settler<'_>,
    finished: bool,
    cmp_state: steps::CmpState,
    capture: &mut Capture,
) {
    let bound = Duration::from_millis(spec.timing.step_ms);
    let environment = page.evaluate::<(), PageEnvironment>(pinned::ENVIRONMENT_SCRIPT, None);
    if let Ok(environment) = tokio::time::timeout(bound, environment).await {
        capture.environment = environment.ok();
    }
    let globals = page.evaluate::<(), Vec<String>>(SEGMENT_GLOBALS_SCRIPT, None);
    if let Ok(Ok(globals)) = tokio::time::timeout(bound, globals).await {
        capture.segment_globals = globals;
    }
    if !finished {
        return;
    }
    settler.act().await;
    if let Ok(cmp) = tokio::time::timeout(bound, read_cmp(page, spec, cmp_state)).await {
        capture.cmp_choice = cmp.choice;
        capture.cmp_detected = cmp.detected;
        capture.autoconsent_rule = cmp.autoconsent_rule;
        capture.tcf = cmp.signals.tcf;
        capture.gpp = cmp.signals.gpp;
    }
}

/// The window properties that hold a loaded analytics.js: an initialised `Analytics` (the
/// snippet's `window.analytics`, classic analytics.js too: methods, a `VERSION`, `initialized`) or
/// an npm `AnalyticsBrowser` whose instance has loaded. The snippet's stub (a queue array with no
/// `VERSION`) is not one. Reading a property can run a getter; one that throws is skipped.
const SEGMENT_GLOBALS_SCRIPT: &str = "(() => { \
    const loaded = (a) => a !== null && typeof a === 'object' && typeof a.track === 'function' \
        && typeof a.identify === 'function' && typeof a.VERSION === 'string' && a.initialized === true; \
    const found = []; \
    for (const key of Object.getOwnPropertyNames(window)) { \
        try { \
            const v = window[key]; \
            if (v === window || v === null || typeof v !== 'object') continue; \
            if (loaded(v) || loaded(v.instance)) found.push(key); \
        } catch (e) { continue; } \
    } \
    return found.sort(); })()";

/// At the end of the visit: which CMP is on the page (when the spec names one), its recorded
/// choice (through the named or detected adapter) and the TCF / GPP strings (bounded).
async fn read_cmp(page: &playwright_rs::Page, spec: &Spec, state: steps::CmpState) -> CmpRead {
    let detected = match (&state.detected, &spec.cmp) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(_)) => page
            .evaluate::<(), Option<String>>(&super::cmp::detect::script(), None)
            .await
            .ok()
            .flatten(),
        (None, None) => None,
    };
    let reader = match spec.cmp.as_deref() {
        Some(super::cmp::AUTO | super::cmp::AUTOCONSENT) => detected.as_deref(),
        other => other,
    };
    let choice = match reader.and_then(|a| super::cmp::read_choice_script(a, spec)) {
        Some(script) => page
            .evaluate::<(), Option<std::collections::BTreeMap<String, bool>>>(&script, None)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let signals = page
        .evaluate::<(), super::cmp::signals::Signals>(&super::cmp::signals::script(1_000), None)
        .await
        .unwrap_or_default();
    let signals = super::cmp::signals::Signals {
        tcf: signals
            .tcf
            .map(|t| super::cmp::signals::normalise_tc_string(&t)),
        gpp: signals.gpp,
    };
    CmpRead {
        choice,
        detected,
        autoconsent_rule: state.autoconsent_rule,
        signals,
    }
}

/// Where the visit runs: the browser and its context, and the slot of the network layer (started
/// by the visit, stopped by the caller).
struct NetworkSlot<'a> {
    browser: &'a Browser,
    context: &'a playwright_rs::BrowserContext,
    layer: &'a mut NetworkLayer,
}

/// The network layer behind the routes, for one visit.
enum NetworkLayer {
    NotStarted,
    Running(Backstop),
    /// The browser offered no DevTools session: reported as unrecorded traffic.
    Failed,
}

impl NetworkLayer {
    /// Stops the layer at the end of the visit; one that could not start is unrecorded traffic.
    async fn finish(self, capture: &mut Capture) {
        match self {
            NetworkLayer::Running(b) => b.stop().await,
            NetworkLayer::Failed => capture.unrecorded.push(Unrecorded {
                at_ms: 0,
                phase: crate::capture::Phase::Before,
                method: "*".into(),
                url: "(whatever no route saw)".into(),
                initiator: "the browser offers no DevTools session, so nothing records what goes \
                            past Playwright's routes (shared workers, beacons sent while unloading)"
                    .into(),
            }),
            NetworkLayer::NotStarted => {}
        }
    }
}

/// The visitor leaves for real at the end of the visit: a navigation to `about:blank` makes the
/// browser fire the real `beforeunload`, `visibilitychange`, `pagehide` and `unload` (handlers
/// that check `event.isTrusted` ignore [`leave`]'s synthetic ones); what they send goes past the
/// routes to the network layer, which records it. The page's last `unload` listener sends the
/// departure marker after the page's own ([`edge::DEPARTURE_SCRIPT`]): once it has arrived and
/// nothing is in flight, everything the unload sent is recorded. A page that sends no marker
/// (the browser kept it in its back/forward cache, or it never ran the script) falls back to
/// `quiet_ms` without a request. Bounded by the navigation timeout and `settle_max_ms`.
async fn depart(page: &playwright_rs::Page, recorder: &Recorder, timing: &crate::spec::Timing) {
    let before = recorder.departures();
    let options = playwright_rs::GotoOptions::new()
        .timeout(Duration::from_millis(timing.navigation_ms))
        .wait_until(playwright_rs::WaitUntil::Load);
    let _ = tokio::time::timeout(
        Duration::from_millis(timing.navigation_ms),
        page.goto("about:blank", options),
    )
    .await;
    recorder.touch();
    let quiet = Duration::from_millis(timing.quiet_ms);
    let max = Duration::from_millis(timing.settle_max_ms);
    if edge::await_departure(recorder, before, quiet).await {
        // Bounded: what is still in flight at the deadline is recorded all the same.
        edge::drained(recorder, tokio::time::Instant::now() + max).await;
    } else {
        edge::settle(recorder, quiet, max).await;
    }
}

/// The visitor leaves the page: batched and keepalive deliveries flush on these events. Done
/// before every navigation as well as at the end, because Playwright neither routes nor reports
/// the keepalive fetches a page sends while it is really unloading.
async fn leave(
    page: &playwright_rs::Page,
    settler: &mut Settler<'_>,
    what: &str,
) -> Result<(), Stop> {
    let max = Duration::from_millis(settler.timing.step_ms);
    // A page that already navigated away or closed has nothing left to flush; one stuck in a
    // navigation does not answer (bounded).
    let _ = tokio::time::timeout(
        max,
        page.evaluate_expression(
            "(() => { Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }); \
             Object.defineProperty(document, 'hidden', { value: true, configurable: true }); \
             document.dispatchEvent(new Event('visibilitychange')); \
             window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })); })()",
        ),
    )
    .await;
    settler.recorder.touch();
    settler.settle(page, what).await
}

/// What the context stored at the end of the visit.
struct Stored {
    cookies: Vec<StoredCookie>,
    local_storage: Vec<StoredKey>,
    held_queues: Vec<HeldQueue>,
}

async fn storage(
    context: &playwright_rs::BrowserContext,
    secrets: &edge::Secrets,
) -> Result<Stored, SessionError> {
    let state = context.storage_state(None).await?;
    // Cookie values never enter a capture; the trial's redactor still needs to know them.
    for c in &state.cookies {
        secrets.cookie(&c.value);
    }
    let mut cookies: Vec<StoredCookie> = state
        .cookies
        .iter()
        .map(|c| StoredCookie {
            name: c.name.clone(),
            domain: c.domain.clone(),
        })
        .collect();
    cookies.sort();
    cookies.dedup();
    let mut keys: Vec<StoredKey> = state
        .origins
        .iter()
        .flat_map(|o| {
            o.local_storage.iter().map(|kv| StoredKey {
                origin: o.origin.clone(),
                key: kv.name.clone(),
            })
        })
        .collect();
    keys.sort();
    keys.dedup();
    let mut held_queues: Vec<HeldQueue> = state
        .origins
        .iter()
        .flat_map(|o| {
            o.local_storage.iter().filter_map(|kv| {
                let name = HeldQueue::name_of(&kv.name)?;
                let message_ids = queued_message_ids(&kv.value);
                (!message_ids.is_empty()).then(|| HeldQueue {
                    origin: o.origin.clone(),
                    name: name.to_string(),
                    message_ids,
                })
            })
        })
        .collect();
    held_queues.sort();
    Ok(Stored {
        cookies,
        local_storage: keys,
        held_queues,
    })
}

/// The `messageId` of every item of a persisted analytics-next queue (a JSON array of contexts,
/// `{"id", "event": {"messageId", ...}}`); empty when the value is not such an array.
fn queued_message_ids(value: &str) -> Vec<Option<String>> {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.pointer("/event/messageId")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::queued_message_ids;

    #[test]
    fn reads_queued_message_ids() {
        let items =
            r#"[{"id":"c1","event":{"type":"track","messageId":"ajs-1"}},{"id":"c2","event":{}}]"#;
        assert_eq!(
            queued_message_ids(items),
            vec![Some("ajs-1".to_string()), None]
        );
        assert!(queued_message_ids("[]").is_empty());
        assert!(queued_message_ids("not json").is_empty());
        assert!(queued_message_ids(r#"{"a":1}"#).is_empty());
    }
}
