//! `report/index.html`: the evidence report people read. One self-contained page (inline CSS, no
//! script, a Content-Security-Policy that forbids any network load), screenshots as files next to
//! it (`screenshots/`).
//!
//! What it shows: a summary table with one row per spec × state (verdict, snapshot status, failing
//! checks); then per trial its steps, effective expectations (with their source), the screenshots
//! before and after the decision, the failing checks with their evidence, a link to the
//! Playwright trace when one was saved, and a timeline of the decision, Segment's loading and
//! events, and every vendor and third-party request.
//!
//! Every text goes through [`super::strip_urls_in`] (query values and e-mail addresses dropped)
//! and is HTML-escaped; payload values are never part of the input.

use std::collections::BTreeMap;
use std::path::Path;

use super::strip_urls_in;
use crate::outcome::{TrialEvidence, TrialResult, Verdict};
use crate::paths::file_stem;

const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 16px 24px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #d0d7de; }
main { padding: 16px 24px 48px; max-width: 1400px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eaeef2; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.verdict { display: inline-block; border-radius: 10px; padding: 0 8px; color: #fff; font-weight: 600; }
.verdict-pass { background: var(--pass); } .verdict-fail { background: var(--fail); } .verdict-error { background: var(--error); }
.snapshot-changed, .snapshot-new { color: var(--error); font-weight: 600; }
section.trial { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 20px 0; padding: 12px 16px; }
section.trial h2 { margin: 0 0 8px; font-size: 17px; }
.meta { color: var(--muted); }
.shots { display: flex; gap: 16px; flex-wrap: wrap; }
.shots figure { margin: 0; flex: 1 1 380px; max-width: 640px; }
.shots img { width: 100%; border: 1px solid var(--line); }
.shots figcaption { color: var(--muted); font-size: 12px; }
.failure { border-left: 4px solid var(--fail); background: #fff5f5; padding: 6px 10px; margin: 6px 0; }
.failure.check-error { border-color: var(--error); background: #fff8e6; }
.failure ul { margin: 4px 0 0; padding-left: 20px; }
.timeline td.at { text-align: right; white-space: nowrap; }
.timeline tr.kind-decision td { background: #ddf4ff; font-weight: 600; }
.timeline tr.kind-event td.kind { color: #8250df; }
.timeline tr.kind-vendor td.kind { color: var(--fail); }
.timeline tr.phase-before td.at { color: var(--muted); }
.none { color: var(--muted); font-style: italic; }
"#;

/// HTML-escapes `text` after dropping query values and e-mail addresses from it.
fn text(s: &str) -> String {
    escape(&strip_urls_in(s))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The anchor id of a trial: `trial-shop-reject-all`.
pub(crate) fn anchor(spec: &str, state: &str) -> String {
    format!("trial-{}", file_stem(spec, state))
}

/// The whole page. `report_dir` is where it will be written (trace links are made relative to it).
pub(crate) fn render(
    rows: &[TrialResult],
    evidence: &BTreeMap<String, TrialEvidence>,
    report_dir: &Path,
) -> String {
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src 'self' file: data:; style-src 'unsafe-inline'\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>consent-gates report</title>\n<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<header>\n<h1>consent-gates evidence report</h1>\n");
    h.push_str(&format!(
        "<p id=\"summary\">{} trial{}: {} passed, {} failed, {} could not run</p>\n</header>\n<main>\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Error),
    ));

    // Summary table.
    h.push_str("<h2>Verdicts</h2>\n<table id=\"verdicts\">\n<thead><tr><th>site (spec)</th><th>state</th><th>verdict</th><th>snapshot</th><th>failing checks</th></tr></thead>\n<tbody>\n");
    for r in rows {
        let mut checks: Vec<String> = r.failures.iter().map(|f| f.label()).collect();
        checks.dedup();
        h.push_str(&format!(
            "<tr data-trial=\"{name}\" data-verdict=\"{v}\"><td>{spec}</td><td><a href=\"#{anchor}\">{state}</a></td>\
             <td><span class=\"verdict verdict-{v}\">{v}</span></td><td class=\"snapshot-{snap}\">{snap}</td><td>{checks}</td></tr>\n",
            name = text(&r.name()),
            v = r.verdict,
            spec = text(&r.spec),
            anchor = anchor(&r.spec, &r.state),
            state = text(&r.state),
            snap = r.snapshot,
            checks = if checks.is_empty() {
                "<span class=\"none\">none</span>".to_string()
            } else {
                text(&checks.join(", "))
            },
        ));
    }
    h.push_str("</tbody>\n</table>\n");

    for r in rows {
        trial_section(&mut h, r, evidence.get(&r.name()), report_dir);
    }
    h.push_str(
        "<p class=\"meta\">Payload values are never shown; URLs are shown without query values \
         (keys kept). Traces open with <code>npx playwright show-trace FILE</code> or at \
         trace.playwright.dev.</p>\n</main>\n</body>\n</html>\n",
    );
    h
}

/// One trial: its heading, what it did and expected, its failures and trace, then the visit's
/// screenshots and timeline.
fn trial_section(h: &mut String, r: &TrialResult, ev: Option<&TrialEvidence>, report_dir: &Path) {
    trial_heading(h, r, ev);
    if let Some(ev) = ev {
        trial_plan(h, ev);
    }
    failures(h, r);
    if let Some(trace) = &r.trace {
        trace_link(h, trace, report_dir);
    }
    let Some(ev) = ev else {
        h.push_str("<p class=\"none\">no visit evidence (the trial did not reach the browser, or evidence was off)</p>\n</section>\n");
        return;
    };
    screenshots(h, ev);
    timeline(h, ev);
    h.push_str("</section>\n");
}

/// The section's opening, the trial's name and verdict, and where and how long it ran.
fn trial_heading(h: &mut String, r: &TrialResult, ev: Option<&TrialEvidence>) {
    h.push_str(&format!(
        "<section class=\"trial\" id=\"{}\" data-trial=\"{}\" data-verdict=\"{}\">\n",
        anchor(&r.spec, &r.state),
        text(&r.name()),
        r.verdict
    ));
    h.push_str(&format!(
        "<h2>{} <span class=\"verdict verdict-{v}\">{v}</span></h2>\n",
        text(&r.name()),
        v = r.verdict
    ));
    let mut meta = format!("snapshot {} · {} ms", r.snapshot, r.duration_ms);
    if let Some(ev) = ev {
        meta = format!(
            "{} · {} · {}{}",
            text(&ev.spec_file),
            text(&ev.url),
            if ev.gpc { "GPC on · " } else { "" },
            meta
        );
    }
    h.push_str(&format!("<p class=\"meta\">{meta}</p>\n"));
}

/// The steps, the expectations and Segment's library.
fn trial_plan(h: &mut String, ev: &TrialEvidence) {
    let steps = ev
        .steps
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(&super::step_text(s))));
    rows_section(
        h,
        "Steps",
        "no steps: the visitor makes no choice; the whole visit is judged",
        ("<ol class=\"steps\">", "</ol>\n"),
        steps,
    );
    h.push_str("<h3>Expectations</h3>\n<ul class=\"expectations\">");
    for e in &ev.expectations {
        h.push_str(&format!("<li><code>{}</code></li>", text(e)));
    }
    if ev.expectations.is_empty() {
        h.push_str("<li class=\"none\">none beyond the built-in checks</li>");
    }
    h.push_str("</ul>\n");
    if !ev.library.is_empty() {
        h.push_str(&format!(
            "<p class=\"library\">Segment's library: {}</p>\n",
            text(&ev.library)
        ));
    }
}

/// Each failing check with its evidence.
fn failures(h: &mut String, r: &TrialResult) {
    h.push_str("<h3>Failing checks</h3>\n");
    if r.failures.is_empty() {
        h.push_str("<p class=\"none\">none</p>\n");
    }
    for f in &r.failures {
        h.push_str(&format!(
            "<div class=\"failure check-{c}\" data-check=\"{c}\"><strong>{c}</strong>{dest}: {msg}",
            c = f.check,
            dest = f
                .destination
                .as_deref()
                .map(|d| format!(" <em>{}</em>", text(d)))
                .unwrap_or_default(),
            msg = text(&f.message).replace('\n', "<br>"),
        ));
        if !f.evidence.is_empty() {
            h.push_str("<ul class=\"evidence\">");
            for e in &f.evidence {
                let when = e
                    .phase
                    .map_or(String::new(), |p| format!(", {p} the decision"));
                h.push_str(&format!(
                    "<li><code>{}</code> at {} ms{when}</li>",
                    text(&e.what),
                    e.at_ms,
                ));
            }
            h.push_str("</ul>");
        }
        h.push_str("</div>\n");
    }
}

/// The Playwright trace kept for the trial.
fn trace_link(h: &mut String, trace: &Path, report_dir: &Path) {
    let href = trace_href(trace, report_dir);
    h.push_str(&format!(
        "<p class=\"trace\">Playwright trace: <a href=\"{}\">{}</a> \
         (<code>npx playwright show-trace {}</code>)</p>\n",
        escape(&href),
        escape(
            &trace
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        escape(&trace.display().to_string())
    ));
}

/// The screenshots before and after the decision.
fn screenshots(h: &mut String, ev: &TrialEvidence) {
    h.push_str("<h3>Screenshots</h3>\n<div class=\"shots\">");
    let shots = [
        (
            &ev.screenshot_before,
            "before",
            if ev.steps.is_empty() {
                "the page, no choice made"
            } else {
                "before the decision"
            },
        ),
        (&ev.screenshot_after, "after", "after the decision"),
    ];
    let mut any = false;
    for (file, which, caption) in shots {
        if let Some(file) = file {
            any = true;
            h.push_str(&format!(
                "<figure class=\"shot-{which}\"><img src=\"{}\" alt=\"{caption}\"><figcaption>{caption}</figcaption></figure>",
                escape(file)
            ));
        }
    }
    if !any {
        h.push_str("<p class=\"none\">no screenshots</p>");
    }
    h.push_str("</div>\n");
}

/// Every timeline row of the visit.
fn timeline(h: &mut String, ev: &TrialEvidence) {
    let rows = ev.timeline.iter().map(|e| {
        format!(
            "<tr class=\"kind-{k} phase-{p}\"><td class=\"at\">{at}</td><td>{p}</td><td class=\"kind\">{k}</td><td class=\"mono\">{what}</td><td>{d}</td><td>{detail}</td></tr>\n",
            k = e.kind,
            p = e.phase,
            at = e.at_ms,
            what = text(&e.what),
            d = e.destination.as_deref().map(text).unwrap_or_default(),
            detail = e.detail.as_deref().map(text).unwrap_or_default(),
        )
    });
    rows_section(
        h,
        "Timeline",
        "nothing recorded",
        (
            "<table class=\"timeline\">\n<thead><tr><th>ms</th><th>phase</th><th>kind</th><th>what</th><th>destination</th><th>detail</th></tr></thead>\n<tbody>\n",
            "</tbody>\n</table>\n",
        ),
        rows,
    );
}

/// `<h3>{title}</h3>`, then the rows between `open` and `close`, or `empty` when there are none.
fn rows_section(
    h: &mut String,
    title: &str,
    empty: &str,
    (open, close): (&str, &str),
    rows: impl ExactSizeIterator<Item = String>,
) {
    h.push_str(&format!("<h3>{title}</h3>\n"));
    if rows.len() == 0 {
        h.push_str(&format!("<p class=\"none\">{empty}</p>\n"));
        return;
    }
    h.push_str(open);
    rows.for_each(|row| h.push_str(&row));
    h.push_str(close);
}

/// A link to the trace from the report folder: relative when both sit under the same output
/// folder (`../traces/x.zip`), else a `file://` URL.
fn trace_href(trace: &Path, report_dir: &Path) -> String {
    if let Some(out) = report_dir.parent()
        && let Ok(rel) = trace.strip_prefix(out)
    {
        return format!("../{}", rel.display());
    }
    let abs = if trace.is_absolute() {
        trace.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(trace))
            .unwrap_or_else(|_| trace.to_path_buf())
    };
    format!("file://{}", abs.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Phase;
    use crate::outcome::{CheckId, Evidence, Failure, SnapshotStatus, TimelineEntry, TimelineKind};

    #[test]
    fn escapes_and_strips_everything_it_shows() {
        let row = TrialResult {
            spec: "shop".into(),
            state: "reject-all".into(),
            verdict: Verdict::Fail,
            failures: vec![Failure {
                check: CheckId::BlockedReceived,
                destination: Some("Facebook <Pixel>".into()),
                message: "received data".into(),
                evidence: vec![Evidence {
                    at_ms: 5,
                    phase: Some(Phase::After),
                    what: "GET https://www.facebook.com/tr/?ud[em]=jane@example.com&ev=Lead".into(),
                }],
            }],
            snapshot: SnapshotStatus::Match,
            duration_ms: 10,
            attempts: 1,
            flaky: false,
            trace: Some("/out/traces/shop-reject-all.zip".into()),
            evidence: None,
        };
        let mut evidence = BTreeMap::new();
        evidence.insert(
            row.name(),
            TrialEvidence {
                steps: vec!["eval \"analytics.identify('u', {email: 'jane@example.com'})\"".into()],
                timeline: vec![TimelineEntry {
                    at_ms: 7,
                    phase: Phase::After,
                    kind: TimelineKind::Vendor,
                    what: "GET https://t.example/p?uid=42".into(),
                    destination: Some("T".into()),
                    detail: None,
                }],
                ..Default::default()
            },
        );
        let html = render(&[row], &evidence, Path::new("/out/report"));
        assert!(!html.contains("jane"), "{html}");
        assert!(!html.contains("uid=42") && html.contains("uid=…"), "{html}");
        assert!(html.contains("Facebook &lt;Pixel&gt;"));
        assert!(html.contains("href=\"../traces/shop-reject-all.zip\""));
        assert!(html.contains("id=\"trial-shop-reject-all\""));
        assert!(!html.contains("http://") && !html.contains("<script"));
    }
}
