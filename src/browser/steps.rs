//! Steps of a state, each bounded by `timing.step_ms`.
//!
//! The decision instant is when the decision lands: the press on the control (mouse down, after
//! the pointer has moved onto it and what hovering set off has settled), the CMP API call, or the
//! start of any other step. Traffic the pointer's approach causes belongs before it.

use std::time::Duration;

use playwright_rs::{Page, WaitForOptions, WaitForState};

use super::edge::Recorder;
use super::settle;
use crate::browser::cmp::{self, Act};
use crate::spec::{CmpAction, Spec, Step, Timing};

/// Where a step marks the decision instant: `Some` for a step that is a decision (the first sets
/// the state's decision instant, each starts its phase), with the settle bounds to wait out what
/// hovering its control set off; `None` for the others.
#[derive(Clone, Copy)]
pub(super) struct Decision<'a> {
    pub(crate) recorder: Option<&'a Recorder>,
    /// The controlled clock (when the spec runs on it): what hovering set off is settled on page
    /// time, `quiet` of it without a request, timers run forward; else `quiet` of real time.
    pub(crate) clock: Option<&'a tokio::sync::Mutex<settle::PageClock>>,
    pub(crate) quiet: Duration,
    pub(crate) min_quiet: Duration,
    pub(crate) settle_max: Duration,
}

impl Decision<'_> {
    /// A step (or part of one) that is not the decision.
    pub(super) fn none() -> Self {
        Decision {
            recorder: None,
            clock: None,
            quiet: Duration::ZERO,
            min_quiet: Duration::ZERO,
            settle_max: Duration::ZERO,
        }
    }

    /// The pointer is on the control: let what hovering set off land before the press.
    async fn hovered(&self, page: &Page) {
        let Some(r) = self.recorder else {
            return;
        };
        r.touch();
        match self.clock {
            Some(clock) => {
                let mut clock = clock.lock().await;
                // However it ended, the press comes next: a page that never goes quiet (a
                // session recorder) is pressed after `settle_max`, as on the real clock.
                let _ = settle::settle_controlled(page, r, &mut clock, self.quiet, self.settle_max)
                    .await;
                clock.resume(self.settle_max).await;
            }
            None => settle::settle(page, r, self.quiet, self.min_quiet, self.settle_max).await,
        }
    }

    /// The decision lands now: the state's decision instant (the first decision's) and the
    /// start of this decision's phase.
    fn lands(&self) {
        if let Some(r) = self.recorder {
            r.mark_decision();
            r.land_phase();
        }
    }
}

/// What `cmp:` steps learnt during one visit (recorded in the capture).
#[derive(Debug, Clone, Default)]
pub(super) struct CmpState {
    /// The adapter `cmp: auto` detected.
    pub(crate) detected: Option<String>,
    /// The autoconsent rule that carried out a `cmp: autoconsent` step.
    pub(crate) autoconsent_rule: Option<String>,
    /// On the controlled clock, the adapter's banner must be gone once the step has settled:
    /// checked then, in page time, rather than within `step_ms` of wall time.
    pub(crate) banner_check: Option<BannerCheck>,
}

/// A condition on the page that must hold after a step settled, and what a miss says.
#[derive(Debug, Clone)]
pub(super) struct BannerCheck {
    condition: String,
    miss: String,
}

impl BannerCheck {
    /// Waits (bounded by `ms`) until the condition holds; `NoMatch` when it never did. Called once
    /// the step has settled, with the clock running again: the CMP's timers have run by then (page
    /// time was run forward to the horizon), so the bound only covers what the clock does not
    /// control, such as a CSS transition hiding the banner.
    pub(super) async fn verify(&self, page: &Page, ms: u64) -> Result<(), StepError> {
        match wait_condition(page, &self.condition, ms).await {
            Err(StepError::NoMatch(_)) => Err(StepError::NoMatch(self.miss.clone())),
            other => other,
        }
    }
}

pub(super) enum StepError {
    /// The step's selector (or the adapter's banner) matched nothing within the bound.
    NoMatch(String),
    /// The step ran and failed (a script threw, a navigation failed).
    Failed(String),
}

pub(super) async fn run(
    page: &Page,
    spec: &Spec,
    step: &Step,
    timing: &Timing,
    cmp_state: &mut CmpState,
    decision: Decision<'_>,
) -> Result<(), StepError> {
    let ms = timing.step_ms as f64;
    if !matches!(step, Step::Click(_) | Step::Cmp(_)) {
        decision.lands();
    }
    match step {
        Step::Click(sel) => click(page, sel, ms, decision).await,
        Step::WaitFor(sel) => wait_visible(page, sel, ms).await,
        Step::Fill(pairs) => {
            for (sel, text) in pairs {
                wait_visible(page, sel, ms).await?;
                page.locator(sel.clone())
                    .first()
                    .fill(text, None)
                    .await
                    .map_err(|e| StepError::Failed(e.to_string()))?;
            }
            Ok(())
        }
        Step::Eval(js) => eval_bounded(page, js, timing.step_ms).await,
        Step::Visit(p) => {
            let url = super::navigate::join_url(&spec.site.url, p);
            super::navigate::goto(page, &url, timing.navigation_ms)
                .await
                .map_err(|e| StepError::Failed(e.to_string()))
        }
        Step::Cmp(action) => {
            let declared = spec.cmp.as_deref().unwrap_or("");
            match declared {
                cmp::AUTOCONSENT => {
                    decision.lands();
                    autoconsent(page, spec, action, timing, cmp_state).await
                }
                cmp::AUTO => {
                    let name = match &cmp_state.detected {
                        Some(n) => n.clone(),
                        None => detect(page, timing.step_ms).await?,
                    };
                    cmp_state.detected = Some(name.clone());
                    adapter_action(page, &name, action, spec, timing, cmp_state, decision).await
                }
                name => adapter_action(page, name, action, spec, timing, cmp_state, decision).await,
            }
        }
    }
}

fn action_name(action: &CmpAction) -> &'static str {
    match action {
        CmpAction::AcceptAll => "accept_all",
        CmpAction::RejectAll => "reject_all",
        CmpAction::Categories(_) => "categories",
        CmpAction::Reopen => "reopen",
    }
}

/// One adapter action: the banner must be there (the click target, or the banner and the API for a
/// scripted action), the action runs, and the banner must be gone afterwards.
async fn adapter_action(
    page: &Page,
    adapter: &str,
    action: &CmpAction,
    spec: &Spec,
    timing: &Timing,
    cmp_state: &mut CmpState,
    decision: Decision<'_>,
) -> Result<(), StepError> {
    let ms = timing.step_ms as f64;
    if *action == CmpAction::Reopen {
        return reopen(page, adapter, timing).await;
    }
    let plan = cmp::plan(adapter, action, spec).map_err(StepError::Failed)?;
    let miss = |e| adapter_miss(e, adapter, &plan.looked_for);
    if let Some(reopen) = &plan.reopen {
        reopen_if_decided(page, adapter, reopen, timing).await?;
    }
    match &plan.act {
        Act::Click(sel) => click(page, sel, ms, decision).await.map_err(miss)?,
        Act::ClickInFrame { frame, selector } => {
            let target = page.frame_locator(frame.as_str()).locator(selector.clone());
            let options = WaitForOptions::builder()
                .state(WaitForState::Visible)
                .timeout(ms)
                .build();
            target
                .first()
                .wait_for(options)
                .await
                .map_err(|e| classify(e, || format!("nothing visible matched {selector:?}")))
                .map_err(miss)?;
            let before = page.url();
            target
                .first()
                .hover(None)
                .await
                .map_err(|e| click_failed(page, &before, selector, e))
                .map_err(miss)?;
            press(page, &before, selector, ms, decision)
                .await
                .map_err(miss)?;
        }
        Act::Script { ready, script } => {
            wait_condition(page, ready, timing.step_ms)
                .await
                .map_err(miss)?;
            decision.lands();
            eval_bounded(page, script, timing.step_ms).await?;
        }
    }
    let closed = format!("!{}", plan.banner);
    if timing.clock == crate::spec::ClockMode::Controlled {
        // Closing may wait on the CMP's timers (an animation, a deferred save): judged once the
        // step has settled, after page time ran forward, not against wall time.
        cmp_state.banner_check = Some(BannerCheck {
            condition: closed,
            miss: format!(
                "the {adapter} adapter's {} ran, but its banner was still shown once the page \
                 had settled",
                action_name(action)
            ),
        });
        return Ok(());
    }
    match wait_condition(page, &closed, timing.step_ms).await {
        Err(StepError::NoMatch(_)) => Err(StepError::NoMatch(format!(
            "the {adapter} adapter's {} ran, but its banner was still shown {} ms later",
            action_name(action),
            timing.step_ms
        ))),
        other => other,
    }
}

/// `cmp: reopen`: re-opens the CMP's preference centre through its documented API; the banner
/// (or preference layer) must then be shown. An adapter without such an API, or a CMP that is
/// not there, is `step-did-not-match`.
async fn reopen(page: &Page, adapter: &str, timing: &Timing) -> Result<(), StepError> {
    let Some((reopen, banner)) = cmp::reopen(adapter).map_err(StepError::Failed)? else {
        return Err(StepError::NoMatch(format!(
            "the {adapter} adapter has no documented way to re-open the CMP's preferences \
             (`cmp: reopen` works with {}); use `click:` steps on the site's own \
             \"cookie settings\" link",
            cmp::reopenable().join(", ")
        )));
    };
    reopen_act(page, &reopen.act, timing)
        .await
        .map_err(|e| match e {
            StepError::NoMatch(m) => StepError::NoMatch(format!(
                "the {adapter} adapter could not re-open the CMP's preferences: {m}"
            )),
            other => other,
        })?;
    match wait_condition(page, &banner, timing.step_ms).await {
        Err(StepError::NoMatch(_)) => Err(StepError::NoMatch(format!(
            "the {adapter} adapter re-opened the preferences, but no banner or preference layer \
             was shown within {} ms",
            timing.step_ms
        ))),
        other => other,
    }
}

/// `cmp: auto`: waits (bounded) until some adapter's CMP is on the page.
async fn detect(page: &Page, ms: u64) -> Result<String, StepError> {
    match wait_value(page, &cmp::detect::script(), ms).await? {
        Some(serde_json::Value::String(name)) => Ok(name),
        _ => Err(StepError::NoMatch(format!(
            "the auto adapter detected no CMP within {ms} ms (looked for the markers of {})",
            cmp::detect::names()
        ))),
    }
}

/// `cmp: autoconsent`: runs autoconsent's opt-in or opt-out in the page and records its rule.
async fn autoconsent(
    page: &Page,
    spec: &Spec,
    action: &CmpAction,
    timing: &Timing,
    cmp_state: &mut CmpState,
) -> Result<(), StepError> {
    let auto_action = autoconsent_action(action)?;
    let rules = inject_autoconsent(page, spec, auto_action).await?;
    let Some(outcome) = wait_value(page, cmp::autoconsent::OUTCOME, timing.step_ms).await? else {
        return Err(autoconsent_unfinished(page, &rules, auto_action, timing.step_ms).await);
    };
    let rule = outcome
        .pointer("/result/cmp")
        .or_else(|| outcome.get("found"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    cmp_state.autoconsent_rule = rule.clone();
    let rule = rule.unwrap_or_else(|| "?".into());
    match outcome.pointer("/result/result").and_then(|v| v.as_bool()) {
        Some(true) => Ok(()),
        Some(false) => Err(StepError::NoMatch(format!(
            "the autoconsent adapter's rule `{rule}` found the banner but its {auto_action} failed"
        ))),
        None => Err(StepError::NoMatch(format!(
            "the autoconsent adapter stopped with an error: {}",
            outcome.get("error").and_then(|v| v.as_str()).unwrap_or("?")
        ))),
    }
}

/// autoconsent's name for `action`: it only opts in or out.
fn autoconsent_action(action: &CmpAction) -> Result<&'static str, StepError> {
    match action {
        CmpAction::AcceptAll => Ok("optIn"),
        CmpAction::RejectAll => Ok("optOut"),
        CmpAction::Reopen => Err(StepError::NoMatch(
            "the autoconsent adapter has no way to re-open a CMP's preferences (autoconsent \
             only opts in or out); name the CMP's own adapter or use `click:` steps"
                .into(),
        )),
        CmpAction::Categories(_) => Err(StepError::Failed(
            "the autoconsent adapter only accepts or rejects all (autoconsent has no custom \
             choices); name the CMP's own adapter or use `click:` steps"
                .into(),
        )),
    }
}

/// Runs the installed autoconsent bundle in the page, told to `auto_action`; returns its rules.
async fn inject_autoconsent(
    page: &Page,
    spec: &Spec,
    auto_action: &str,
) -> Result<String, StepError> {
    let spec_dir = spec.path.parent().unwrap_or(std::path::Path::new("."));
    let dir = cmp::autoconsent::find(spec_dir).ok_or_else(|| {
        StepError::Failed(format!(
            "@duckduckgo/autoconsent is not installed: run `{}`",
            super::error::SETUP_COMMAND
        ))
    })?;
    let read = |rel: &str| {
        std::fs::read_to_string(dir.join(rel))
            .map_err(|e| StepError::Failed(format!("cannot read {}: {e}", dir.join(rel).display())))
    };
    let bundle = read(cmp::autoconsent::BUNDLE)?;
    let rules = read(cmp::autoconsent::RULES)?;
    page.evaluate_expression(&cmp::autoconsent::bridge(&rules, auto_action))
        .await
        .map_err(|e| StepError::Failed(e.to_string()))?;
    page.evaluate_expression(&bundle)
        .await
        .map_err(|e| StepError::Failed(e.to_string()))?;
    Ok(rules)
}

/// autoconsent gave no outcome within `ms`: whether a rule found the banner says which miss.
async fn autoconsent_unfinished(page: &Page, rules: &str, auto_action: &str, ms: u64) -> StepError {
    let state = page
        .evaluate::<(), serde_json::Value>(cmp::autoconsent::STATE, None)
        .await
        .unwrap_or_default();
    StepError::NoMatch(match state.get("found").and_then(|v| v.as_str()) {
        Some(rule) => format!(
            "the autoconsent adapter's rule `{rule}` found the banner but did not finish its \
             {auto_action} within {ms} ms"
        ),
        None => format!(
            "the autoconsent adapter found no banner: none of its {} rules matched a visible \
             popup within {ms} ms",
            cmp::autoconsent::rule_count(rules)
        ),
    })
}

/// Change of mind: a visitor who has already decided (the banner is gone and the CMP holds a
/// choice) reopens the CMP the way it documents; a CMP still undecided is left alone, so that a
/// banner that never showed still fails the action.
async fn reopen_if_decided(
    page: &Page,
    adapter: &str,
    reopen: &cmp::Reopen,
    timing: &Timing,
) -> Result<(), StepError> {
    let decided = page
        .evaluate::<(), bool>(&reopen.when, None)
        .await
        .unwrap_or(false);
    if !decided {
        return Ok(());
    }
    let failed = |e: StepError| match e {
        StepError::NoMatch(m) => StepError::NoMatch(format!(
            "the {adapter} adapter could not reopen the CMP to change the choice: {m}"
        )),
        other => other,
    };
    reopen_act(page, &reopen.act, timing).await.map_err(failed)
}

/// Carries out an adapter's way of re-opening its CMP. Reopening is the approach to the choice,
/// not the choice: no decision instant here.
async fn reopen_act(page: &Page, act: &Act, timing: &Timing) -> Result<(), StepError> {
    match act {
        Act::Click(sel) => click(page, sel, timing.step_ms as f64, Decision::none()).await,
        Act::Script { ready, script } => {
            wait_condition(page, ready, timing.step_ms).await?;
            eval_bounded(page, script, timing.step_ms).await
        }
        Act::ClickInFrame { .. } => Err(StepError::Failed(
            "re-opening a CMP inside a frame is not supported".into(),
        )),
    }
}

fn adapter_miss(e: StepError, adapter: &str, looked_for: &str) -> StepError {
    match e {
        StepError::NoMatch(_) => StepError::NoMatch(format!(
            "the {adapter} adapter found no banner: nothing matched {looked_for:?}"
        )),
        other => other,
    }
}

/// A click as a visitor makes it: the pointer moves onto the target (Playwright's actionability
/// checks: visible, stable, receiving events), then presses and releases where it is. The press
/// is the decision instant.
async fn click(page: &Page, sel: &str, ms: f64, decision: Decision<'_>) -> Result<(), StepError> {
    wait_visible(page, sel, ms).await?;
    let before = page.url();
    page.locator(sel)
        .first()
        .hover(None)
        .await
        .map_err(|e| click_failed(page, &before, sel, e))?;
    press(page, &before, sel, ms, decision).await
}

/// Presses and releases the mouse where the pointer is (on the control), marking the decision
/// instant at the press. Bounded by `ms`: a navigation the press started that never completes is
/// the page not letting the step finish, as Playwright's own click reports it.
async fn press(
    page: &Page,
    before: &str,
    sel: &str,
    ms: f64,
    decision: Decision<'_>,
) -> Result<(), StepError> {
    decision.hovered(page).await;
    decision.lands();
    let mouse = page.mouse();
    let bound = Duration::from_millis(ms as u64);
    let hung = || {
        StepError::Failed(format!(
            "the click on {sel:?} ran, but the page did not let it finish: a navigation it \
             started never completed within {ms} ms, or the page hung"
        ))
    };
    tokio::time::timeout(bound, mouse.down(None))
        .await
        .map_err(|_| hung())?
        .map_err(|e| click_failed(page, before, sel, e))?;
    tokio::time::timeout(bound, mouse.up(None))
        .await
        .map_err(|_| hung())?
        .map_err(|e| click_failed(page, before, sel, e))?;
    // Playwright runs a script only once a navigation the press started has committed (or was
    // given up): a page that cannot run one within the bound never let the step finish.
    match tokio::time::timeout(bound, page.evaluate_expression("0")).await {
        Err(_) => Err(hung()),
        Ok(_) => Ok(()),
    }
}

/// A click on a visible target that did not complete: either the target could not take the
/// click (covered, disabled, moving: in effect nothing clickable matched, `NoMatch`), or the
/// click happened and the page then did something the step could not wait out (`Failed`, naming
/// it: it navigated and the new page did not load in time, or it hung).
fn click_failed(page: &Page, before: &str, sel: &str, e: playwright_rs::Error) -> StepError {
    let text = e.to_string();
    // Playwright's actionability checks, which run before it clicks.
    const NOT_CLICKABLE: [&str; 5] = [
        "intercepts pointer events",
        "element is not visible",
        "element is not enabled",
        "element is not stable",
        "outside of the viewport",
    ];
    if NOT_CLICKABLE.iter().any(|m| text.contains(m)) {
        return StepError::NoMatch(format!("{sel:?} could not be clicked: {text}"));
    }
    // Playwright's message ends with its own stack and call log: the first line says what failed.
    let what = text.lines().next().unwrap_or(&text).trim();
    let now = page.url();
    if now != before {
        StepError::Failed(format!(
            "the click on {sel:?} ran and the page then navigated to {}, which did not finish \
             loading ({what})",
            strip_query(&now)
        ))
    } else {
        StepError::Failed(format!(
            "the click on {sel:?} ran, but the page did not let it finish: a navigation it \
             started never completed, or the page hung ({what})"
        ))
    }
}

/// A URL without its query and fragment (their values may identify the visitor).
fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

async fn wait_visible(page: &Page, sel: &str, ms: f64) -> Result<(), StepError> {
    let options = WaitForOptions::builder()
        .state(WaitForState::Visible)
        .timeout(ms)
        .build();
    page.locator(sel)
        .first()
        .wait_for(options)
        .await
        .map_err(|e| {
            classify(e, || {
                format!("nothing visible matched {sel:?} within {ms} ms")
            })
        })
}

/// Waits until the JS expression gives something other than null (bounded); `None` when it never
/// did.
async fn wait_value(
    page: &Page,
    expression: &str,
    ms: u64,
) -> Result<Option<serde_json::Value>, StepError> {
    let script = format!(
        "new Promise(resolve => {{ const end = Date.now() + {ms}; \
         const tick = () => {{ let v = null; try {{ v = ({expression}); }} catch (e) {{}} \
         if (v !== null && v !== undefined) resolve(v); else if (Date.now() > end) resolve(null); \
         else setTimeout(tick, 50); }}; tick(); }})"
    );
    match page.evaluate::<(), serde_json::Value>(&script, None).await {
        Ok(serde_json::Value::Null) => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(StepError::Failed(e.to_string())),
    }
}

/// Waits until the JS condition is truthy, bounded.
async fn wait_condition(page: &Page, condition: &str, ms: u64) -> Result<(), StepError> {
    let script = format!(
        "new Promise(resolve => {{ const end = Date.now() + {ms}; \
         const tick = () => {{ let ok = false; try {{ ok = !!({condition}); }} catch (e) {{}} \
         if (ok) resolve(true); else if (Date.now() > end) resolve(false); \
         else requestAnimationFrame(tick); }}; tick(); }})"
    );
    match page.evaluate::<(), bool>(&script, None).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(StepError::NoMatch(format!(
            "{condition:?} did not hold within {ms} ms"
        ))),
        Err(e) => Err(StepError::Failed(e.to_string())),
    }
}

/// Runs `js` as an expression (or, when it is not one, as statements), awaiting a returned promise
/// only up to `ms`: analytics calls return promises that may never settle when consent disables
/// Segment, and that is not an error.
async fn eval_bounded(page: &Page, js: &str, ms: u64) -> Result<(), StepError> {
    let wrap = |body: String| {
        format!(
            "Promise.race([Promise.resolve().then(async () => {body}), \
             new Promise(r => setTimeout(r, {ms}))]).then(() => null)"
        )
    };
    let as_expression = wrap(format!("(\n{js}\n)"));
    match page
        .evaluate::<(), serde_json::Value>(&as_expression, None)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("SyntaxError") => {
            let as_statements = wrap(format!("{{\n{js}\n}}"));
            page.evaluate::<(), serde_json::Value>(&as_statements, None)
                .await
                .map(|_| ())
                .map_err(|e| StepError::Failed(format!("the script threw: {e}")))
        }
        Err(e) => Err(StepError::Failed(format!("the script threw: {e}"))),
    }
}

fn classify(e: playwright_rs::Error, miss: impl FnOnce() -> String) -> StepError {
    match e {
        playwright_rs::Error::Timeout(_) => StepError::NoMatch(miss()),
        other if other.to_string().to_ascii_lowercase().contains("timeout") => {
            StepError::NoMatch(miss())
        }
        other => StepError::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoconsent_only_opts_in_or_out_and_says_so_in_one_line() {
        assert!(matches!(
            autoconsent_action(&CmpAction::AcceptAll),
            Ok("optIn")
        ));
        assert!(matches!(
            autoconsent_action(&CmpAction::RejectAll),
            Ok("optOut")
        ));
        for action in [CmpAction::Reopen, CmpAction::Categories(Default::default())] {
            let (Err(StepError::NoMatch(m)) | Err(StepError::Failed(m))) =
                autoconsent_action(&action)
            else {
                panic!("autoconsent cannot do this action");
            };
            assert!(m.contains("`click:` steps") && !m.contains("  "), "{m}");
        }
    }
}
