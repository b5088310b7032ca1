//! Steps of a state, each bounded by `timing.step_ms`.

use playwright_rs::{Page, WaitForOptions, WaitForState};

use crate::cmp::{self, Plan};
use crate::spec::{Spec, Step, Timing};

pub enum StepError {
    /// The step's selector (or the adapter's banner) matched nothing within the bound.
    NoMatch(String),
    /// The step ran and failed (a script threw, a navigation failed).
    Failed(String),
}

pub async fn run(page: &Page, spec: &Spec, step: &Step, timing: &Timing) -> Result<(), StepError> {
    let ms = timing.step_ms as f64;
    match step {
        Step::Click(sel) => click(page, sel, ms).await,
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
            let url = super::join_url(&spec.site.url, p);
            super::goto(page, &url, timing.navigation_ms)
                .await
                .map_err(|e| StepError::Failed(e.to_string()))
        }
        Step::Cmp(action) => {
            let adapter = spec.cmp.as_deref().unwrap_or("");
            match cmp::plan(adapter, action, spec).map_err(StepError::Failed)? {
                Plan::Click(sel) => click(page, &sel, ms)
                    .await
                    .map_err(|e| adapter_miss(e, adapter, &sel)),
                Plan::Script { ready, script } => {
                    wait_condition(page, &ready, timing.step_ms)
                        .await
                        .map_err(|e| adapter_miss(e, adapter, &ready))?;
                    eval_bounded(page, &script, timing.step_ms).await
                }
            }
        }
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

async fn click(page: &Page, sel: &str, ms: f64) -> Result<(), StepError> {
    wait_visible(page, sel, ms).await?;
    page.locator(sel)
        .first()
        .click(None)
        .await
        .map_err(|e| StepError::NoMatch(format!("{sel:?} could not be clicked: {e}")))
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
