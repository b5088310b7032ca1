//! The plain-text verdict table printed after a run.

use super::color::Paint;
use crate::outcome::TrialResult;

/// A plain-text verdict table, one row per trial, with verdicts coloured when `color` (pass green,
/// fail red, error yellow).
pub(crate) fn verdict_table_colored(results: &[TrialResult], color: bool) -> String {
    let paint = Paint(color);
    let mut sorted = results.to_vec();
    sorted.sort_by_key(TrialResult::name);
    let width = sorted
        .iter()
        .map(|r| r.name().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = paint.bold(&format!(
        "{:width$}  {:7}  {:8}  checks",
        "trial", "verdict", "snapshot"
    ));
    out.push('\n');
    for r in &sorted {
        let mut checks: Vec<String> = r.failures.iter().map(|f| f.label()).collect();
        checks.dedup();
        out.push_str(&format!(
            "{:width$}  {}  {:8}  {}\n",
            r.name(),
            paint.verdict(r.verdict, 7),
            r.snapshot.as_str(),
            if checks.is_empty() {
                "-".to_string()
            } else {
                checks.join(", ")
            }
        ));
    }
    out
}
