//! The visitor browses: at each point where the page has settled, before and after the decision,
//! it moves the pointer across the page and scrolls through it with the mouse wheel and back, as
//! a person reading the page does. Tags that wait for the first scroll or mouse move fire then.
//! Browsing is never a choice: it clicks nothing, types nothing, and the decision instant is only
//! ever set by a step. `visitor: {scroll, pointer}` turns parts off for a page that breaks.

use std::time::Duration;

use playwright_rs::Page;
use playwright_rs::protocol::MouseOptions;

use crate::spec::Visitor;

/// Wheel turns at most, down then up: a long page is scrolled through in this many viewports.
const MAX_WHEELS: usize = 12;

/// Browses `page` as `visitor` says; each input is bounded by `bound`. What fails (a page that
/// navigated away, a closed page) only ends the browsing: it is not the visit's error.
pub(crate) async fn browse(page: &Page, visitor: Visitor, bound: Duration) {
    if !visitor.pointer && !visitor.scroll {
        return;
    }
    let Some((w, h)) = viewport(page, bound).await else {
        return;
    };
    let mouse = page.mouse();
    if visitor.pointer {
        // Corner to corner over the middle, one mousemove a leg: each is a round trip to the
        // renderer (about a frame), and a tag waiting for the pointer fires on the first.
        for (fx, fy) in [(0.2, 0.2), (0.8, 0.45), (0.5, 0.8), (0.3, 0.55)] {
            let options = MouseOptions::builder().steps(1).build();
            if !ok(bound, mouse.move_to(w * fx, h * fy, Some(options))).await {
                return;
            }
        }
    }
    if visitor.scroll {
        for _ in 0..MAX_WHEELS {
            if !ok(bound, mouse.wheel(0.0, h * 0.8)).await || at_bottom(page, bound).await {
                break;
            }
        }
        for _ in 0..MAX_WHEELS {
            if !ok(bound, mouse.wheel(0.0, -h * 0.8)).await || at_top(page, bound).await {
                break;
            }
        }
    }
}

async fn ok<T>(
    bound: Duration,
    f: impl std::future::Future<Output = playwright_rs::Result<T>>,
) -> bool {
    matches!(tokio::time::timeout(bound, f).await, Ok(Ok(_)))
}

async fn viewport(page: &Page, bound: Duration) -> Option<(f64, f64)> {
    let v = tokio::time::timeout(
        bound,
        page.evaluate::<(), (f64, f64)>("[window.innerWidth, window.innerHeight]", None),
    )
    .await
    .ok()?
    .ok()?;
    (v.0 > 0.0 && v.1 > 0.0).then_some(v)
}

async fn at_bottom(page: &Page, bound: Duration) -> bool {
    let script = "(() => { const e = document.scrollingElement || document.documentElement; \
                  return window.scrollY + window.innerHeight >= e.scrollHeight - 2; })()";
    flag(page, script, bound).await
}

async fn at_top(page: &Page, bound: Duration) -> bool {
    flag(page, "window.scrollY <= 0", bound).await
}

/// A page that does not answer counts as done.
async fn flag(page: &Page, script: &str, bound: Duration) -> bool {
    !matches!(
        tokio::time::timeout(bound, page.evaluate::<(), bool>(script, None)).await,
        Ok(Ok(false))
    )
}
