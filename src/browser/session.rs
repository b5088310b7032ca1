//! Browser session: one fresh context per trial, the network edge, the steps, settling.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use playwright_rs::{Browser, BrowserContextOptions};

use super::edge::{self, EdgeConfig, Recorder};
use super::{settle, steps};
use crate::capture::{Capture, StoredCookie, StoredKey};
use crate::spec::{Spec, State};

pub use super::error::SessionError;
pub use super::launch::Shared;
use super::navigate::{goto, join_url};

/// A step that found nothing to act on: the trial fails with `step-did-not-match`.
#[derive(Debug, Clone)]
pub struct StepMiss {
    /// 1-based.
    pub index: usize,
    pub step: String,
    pub detail: String,
}

/// What one state's visit produced.
#[derive(Debug, Clone)]
pub struct Visit {
    pub capture: Capture,
    /// Which clock the page settled on, and every settle that did not end idle.
    pub settle: SettleLog,
    pub step_miss: Option<StepMiss>,
    /// Taken when [`EvidenceOptions::screenshots`] asks for them.
    pub screenshots: crate::outcome::Screenshots,
}

/// How a visit's settles went.
#[derive(Debug, Clone, Default)]
pub struct SettleLog {
    /// `controlled` or `real` (`timing.clock`).
    pub clock: &'static str,
    /// Settles that found the page never idle over many horizons of page time: a property of the
    /// page, the same on every run (`after step 1 (cmp reject_all): …`).
    pub never_idle: Vec<String>,
    /// Settles that ran out of `settle_max_ms` of wall time, or could not control the clock: what
    /// the page did later was not seen. Depends on the machine, so reported beside the verdict.
    pub incomplete: Vec<String>,
}

/// Settles a visit after each action, on the spec's clock, and logs how each settle ended.
struct Settler<'a> {
    recorder: &'a Recorder,
    timing: crate::spec::Timing,
    clock: Option<settle::PageClock>,
    log: SettleLog,
}

impl Settler<'_> {
    /// Before an action (a step, reading the CMP): the page's clock runs in real time.
    async fn act(&mut self) {
        if let Some(c) = &mut self.clock {
            c.resume().await;
        }
    }

    /// After `what` (`the first page loaded`, `step 1 (cmp reject_all)`): settles and logs.
    async fn settle(&mut self, page: &playwright_rs::Page, what: &str) {
        let t = self.timing;
        let max = Duration::from_millis(t.settle_max_ms);
        let Some(clock) = &mut self.clock else {
            let quiet = Duration::from_millis(t.quiet_ms);
            let min_quiet = Duration::from_millis(t.min_quiet_ms.unwrap_or(t.quiet_ms));
            settle::settle(page, self.recorder, quiet, min_quiet, max).await;
            return;
        };
        let horizon = Duration::from_millis(t.horizon_ms);
        match settle::settle_controlled(page, self.recorder, clock, horizon, max).await {
            settle::Settled::Idle => {}
            settle::Settled::NeverIdle { page_ms } => self.log.never_idle.push(format!(
                "after {what}: requests kept coming over {} s of page time",
                page_ms / 1000
            )),
            settle::Settled::OutOfTime { page_ms } => self.log.incomplete.push(format!(
                "after {what}: timing.settle_max_ms ({} ms) ran out after {page_ms} ms of page \
                 time, before the page was idle for timing.horizon_ms ({} ms)",
                t.settle_max_ms, t.horizon_ms
            )),
            settle::Settled::Uncontrolled(why) => self.log.incomplete.push(format!(
                "after {what}: {why}; settled on the real clock instead"
            )),
        }
    }
}

/// Evidence a visit collects beside its capture, for the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvidenceOptions {
    /// A screenshot before the first step (after the page settled) and after the steps.
    pub screenshots: bool,
    /// Record a Playwright trace of the context (kept only where `keep_trace` says so).
    pub trace: bool,
}

/// Runs one state of a spec in a fresh context of `browser`.
pub async fn visit(
    browser: &Browser,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
) -> Result<Visit, SessionError> {
    visit_with(
        browser,
        spec,
        state,
        config,
        EvidenceOptions::default(),
        |_| None,
    )
    .await
}

/// [`visit`] collecting evidence: screenshots, and a Playwright trace saved to the path
/// `keep_trace` returns for the visit's outcome (`None`: discarded, as for a passing trial).
pub async fn visit_with(
    browser: &Browser,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
    evidence: EvidenceOptions,
    keep_trace: impl FnOnce(&Result<Visit, SessionError>) -> Option<std::path::PathBuf>,
) -> Result<Visit, SessionError> {
    let mut options = BrowserContextOptions::builder();
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
    let result = visit_in(&context, spec, state, config, evidence.screenshots).await;
    if let Some(tracing) = tracing {
        let path = keep_trace(&result);
        let options = path.as_ref().map(|p| {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            // The browser's server writes the file: a shared one may run in another folder.
            let p = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            playwright_rs::protocol::TracingStopOptions::default().path(p.display().to_string())
        });
        // A trace that cannot be saved must not change the trial's outcome.
        let _ = tracing.stop(options).await;
    }
    // Closing can fail when the browser died; the visit's own result says more.
    let _ = context.close().await;
    result
}

async fn visit_in(
    context: &playwright_rs::BrowserContext,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
    screenshots: bool,
) -> Result<Visit, SessionError> {
    let timing = spec.timing;
    let mut shots = crate::outcome::Screenshots::default();
    if state.gpc {
        context
            .add_init_script(
                "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', \
                 { get: () => true, configurable: true });",
            )
            .await?;
    }
    // The clock first, so that the probe below sees the page's (controlled) timers.
    let clock = match timing.clock {
        crate::spec::ClockMode::Controlled => {
            let clock = settle::PageClock::install(context).await?;
            context.add_init_script(settle::DRAIN_PROBE).await?;
            Some(clock)
        }
        crate::spec::ClockMode::Real => {
            if timing.min_quiet_ms.is_some_and(|m| m < timing.quiet_ms) {
                context
                    .add_init_script(&settle::idle_probe_script(timing.quiet_ms))
                    .await?;
            }
            None
        }
    };
    let progress = config.progress.clone();
    let secrets = config.secrets.clone();
    let recorder = Recorder::new();
    {
        let recorder = recorder.clone();
        context
            .route("**/*", move |route| {
                edge::handle(route, config.clone(), recorder.clone())
            })
            .await?;
    }
    let page = context.new_page().await?;
    page.set_default_timeout(timing.step_ms as f64).await;
    page.set_default_navigation_timeout(timing.navigation_ms as f64)
        .await;

    let mut settler = Settler {
        recorder: &recorder,
        timing,
        clock,
        log: SettleLog {
            clock: timing.clock.as_str(),
            ..SettleLog::default()
        },
    };
    progress.set(format!("loading {}", spec.site.url));
    goto(&page, &spec.site.url, timing.navigation_ms).await?;
    recorder.touch();
    progress.set("settling after the first page loaded");
    settler.settle(&page, "the first page loaded").await;
    if screenshots {
        shots.before = screenshot(&page).await;
    }

    let mut step_miss = None;
    let mut cmp_state = steps::CmpState::default();
    for (i, step) in state.steps.iter().enumerate() {
        if i == 0 {
            recorder.mark_decision();
        }
        if matches!(step, crate::spec::Step::Visit(_)) {
            leave(&page, &mut settler, "leaving before the step").await;
        }
        progress.set(format!("running step {} ({})", i + 1, step.describe()));
        settler.act().await;
        match steps::run(&page, spec, step, &timing, &mut cmp_state).await {
            Ok(()) => {}
            Err(steps::StepError::NoMatch(detail)) => {
                step_miss = Some(StepMiss {
                    index: i + 1,
                    step: step.describe(),
                    detail,
                });
                break;
            }
            Err(steps::StepError::Failed(message)) => {
                return Err(SessionError::Step {
                    index: i + 1,
                    step: step.describe(),
                    message,
                });
            }
        }
        recorder.touch();
        progress.set(format!(
            "settling after step {} ({})",
            i + 1,
            step.describe()
        ));
        settler
            .settle(&page, &format!("step {} ({})", i + 1, step.describe()))
            .await;
    }
    if screenshots && !state.steps.is_empty() {
        shots.after = screenshot(&page).await;
    }
    if step_miss.is_none() {
        for p in &spec.site.pages {
            let url = join_url(&spec.site.url, p);
            leave(&page, &mut settler, "leaving the page").await;
            progress.set(format!("loading page {url}"));
            goto(&page, &url, timing.navigation_ms).await?;
            recorder.touch();
            settler.settle(&page, &format!("page {p} loaded")).await;
        }
    }
    progress.set("leaving the page (flushing batched deliveries)");
    leave(&page, &mut settler, "leaving the page").await;

    progress.set("reading the storage and the CMP's choice");
    // Storage while the clock stands still; the CMP's answers may need its timers.
    let (cookies, local_storage) = storage(context, &secrets).await?;
    settler.act().await;
    let cmp = read_cmp(&page, spec, cmp_state).await;
    Ok(Visit {
        capture: Capture {
            requests: recorder.requests(),
            decision_at_ms: recorder.decision_at_ms(),
            cookies,
            local_storage,
            cmp_choice: cmp.choice,
            cmp_detected: cmp.detected,
            autoconsent_rule: cmp.autoconsent_rule,
            tcf: cmp.signals.tcf,
            gpp: cmp.signals.gpp,
        },
        settle: settler.log,
        step_miss,
        screenshots: shots,
    })
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

/// The visitor leaves the page: batched and keepalive deliveries flush on these events. Done
/// before every navigation as well as at the end, because Playwright neither routes nor reports
/// the keepalive fetches a page sends while it is really unloading.
async fn leave(page: &playwright_rs::Page, settler: &mut Settler<'_>, what: &str) {
    // A page that already navigated away or closed has nothing left to flush.
    let _ = page
        .evaluate_expression(
            "(() => { Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }); \
             Object.defineProperty(document, 'hidden', { value: true, configurable: true }); \
             document.dispatchEvent(new Event('visibilitychange')); \
             window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })); })()",
        )
        .await;
    settler.recorder.touch();
    settler.settle(page, what).await;
}

async fn storage(
    context: &playwright_rs::BrowserContext,
    secrets: &edge::Secrets,
) -> Result<(Vec<StoredCookie>, Vec<StoredKey>), SessionError> {
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
    Ok((cookies, keys))
}
