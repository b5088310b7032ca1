//! Browser session: one fresh context per trial, the network edge, the steps, settling.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use playwright_rs::{Browser, BrowserContextOptions};

use super::edge::{self, EdgeConfig, Recorder};
use super::{settle, steps, workers};
use crate::capture::{Capture, StoredCookie, StoredKey};
use crate::spec::{Spec, State};

pub use super::error::SessionError;
pub use super::launch::Shared;
use super::navigate::{goto, join_url};

/// Test hook: `websocket` makes the recorder ignore WebSockets, so that tests can prove the
/// completeness check (`unrecorded-traffic`) catches a channel the recorder misses.
pub const RECORDER_IGNORE_ENV: &str = "CONSENT_GATES_RECORDER_IGNORE";

/// How long the cross-check waits for routes still recording what the browser already reported.
const UNRECORDED_GRACE: Duration = Duration::from_secs(2);

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
    pub step_miss: Option<StepMiss>,
    /// Taken when [`EvidenceOptions::screenshots`] asks for them.
    pub screenshots: crate::output::report::Screenshots,
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
    let mut watch = None;
    let result = visit_in(
        browser,
        &context,
        spec,
        state,
        config,
        evidence.screenshots,
        &mut watch,
    )
    .await;
    if let Some(w) = watch {
        w.stop().await;
    }
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
    browser: &Browser,
    context: &playwright_rs::BrowserContext,
    spec: &Spec,
    state: &State,
    config: Arc<EdgeConfig>,
    screenshots: bool,
    watch: &mut Option<workers::Watch>,
) -> Result<Visit, SessionError> {
    let timing = spec.timing;
    let mut shots = crate::output::report::Screenshots::default();
    if state.gpc {
        context
            .add_init_script(
                "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', \
                 { get: () => true, configurable: true });",
            )
            .await?;
    }
    if timing.min_quiet_ms.is_some_and(|m| m < timing.quiet_ms) {
        context
            .add_init_script(&settle::idle_probe_script(timing.quiet_ms))
            .await?;
    }
    let progress = config.progress.clone();
    let secrets = config.secrets.clone();
    let recorder = Recorder::new();
    {
        let recorder = recorder.clone();
        let config = config.clone();
        context
            .route("**/*", move |route| {
                edge::handle(route, config.clone(), recorder.clone())
            })
            .await?;
    }
    // `CONSENT_GATES_RECORDER_IGNORE=websocket` leaves WebSockets unrouted: only for proving that
    // the browser's own log catches what the recorder misses (`unrecorded-traffic`).
    let ignore_sockets = std::env::var(RECORDER_IGNORE_ENV).is_ok_and(|v| v == "websocket");
    if !ignore_sockets {
        let recorder = recorder.clone();
        context
            .route_web_socket("**", move |ws| {
                edge::handle_socket(ws, config.clone(), recorder.clone())
            })
            .await?;
    }
    let page = context.new_page().await?;
    page.set_default_timeout(timing.step_ms as f64).await;
    page.set_default_navigation_timeout(timing.navigation_ms as f64)
        .await;

    let quiet = Duration::from_millis(timing.quiet_ms);
    // Smart settling only when the spec asks for it (`timing.min_quiet_ms`).
    let min_quiet = Duration::from_millis(timing.min_quiet_ms.unwrap_or(timing.quiet_ms));
    let settle_max = Duration::from_millis(timing.settle_max_ms);
    progress.set(format!("loading {}", spec.site.url));
    // Shared workers send past every route: the browser's own log reports their requests. Its
    // sessions attach while the first page loads, so that they add no latency to the trial
    // (workers start from the page, and a target that exists before the attachment is still
    // discovered and attached).
    let (attached, loaded) = tokio::join!(
        workers::watch(browser, context, &page, recorder.clone()),
        goto(&page, &spec.site.url, timing.navigation_ms)
    );
    *watch = attached;
    loaded?;
    recorder.touch();
    progress.set("settling after the first page loaded");
    settle::settle(&page, &recorder, quiet, min_quiet, settle_max).await;
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
            leave(&page, &recorder, quiet, min_quiet, settle_max).await;
        }
        progress.set(format!("running step {} ({})", i + 1, step.describe()));
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
        settle::settle(&page, &recorder, quiet, min_quiet, settle_max).await;
    }
    if screenshots && !state.steps.is_empty() {
        shots.after = screenshot(&page).await;
    }
    if step_miss.is_none() {
        for p in &spec.site.pages {
            let url = join_url(&spec.site.url, p);
            leave(&page, &recorder, quiet, min_quiet, settle_max).await;
            progress.set(format!("loading page {url}"));
            goto(&page, &url, timing.navigation_ms).await?;
            recorder.touch();
            settle::settle(&page, &recorder, quiet, min_quiet, settle_max).await;
        }
    }
    progress.set("leaving the page (flushing batched deliveries)");
    leave(&page, &recorder, quiet, min_quiet, settle_max).await;

    progress.set("cross-checking the recording with the browser's network log");
    let unrecorded = match watch.as_ref() {
        Some(w) => w.unaccounted(&recorder, UNRECORDED_GRACE).await,
        None => {
            let (at_ms, phase) = recorder.stamp();
            vec![crate::capture::Unrecorded {
                at_ms,
                phase,
                method: "*".into(),
                url: "(every request)".into(),
                initiator: "the browser offers no DevTools session, so nothing cross-checks the \
                            recording"
                    .into(),
            }]
        }
    };

    progress.set("reading the CMP's choice and the storage");
    let cmp = read_cmp(&page, spec, cmp_state).await;
    let (cookies, local_storage) = storage(context, &secrets).await?;
    Ok(Visit {
        capture: Capture {
            requests: recorder.requests(),
            sockets: recorder.sockets(),
            unrecorded,
            decision_at_ms: recorder.decision_at_ms(),
            cookies,
            local_storage,
            cmp_choice: cmp.choice,
            cmp_detected: cmp.detected,
            autoconsent_rule: cmp.autoconsent_rule,
            tcf: cmp.signals.tcf,
            gpp: cmp.signals.gpp,
        },
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
async fn leave(
    page: &playwright_rs::Page,
    recorder: &Recorder,
    quiet: Duration,
    min_quiet: Duration,
    max: Duration,
) {
    // A page that already navigated away or closed has nothing left to flush.
    let _ = page
        .evaluate_expression(
            "(() => { Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }); \
             Object.defineProperty(document, 'hidden', { value: true, configurable: true }); \
             document.dispatchEvent(new Event('visibilitychange')); \
             window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })); })()",
        )
        .await;
    recorder.touch();
    settle::settle(page, recorder, quiet, min_quiet, max).await;
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
