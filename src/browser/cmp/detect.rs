//! `cmp: auto`: which built-in adapter's CMP is on the page, from each adapter's globals and DOM
//! markers (checked in [`super::ALL`] order, the commercial CMPs' specific markers first).

use super::{ALL, PRELUDE};

/// A JS expression evaluating to the name of the first adapter whose CMP is on the page, or
/// `null`.
pub(crate) fn script() -> String {
    let checks: String = ALL
        .iter()
        .map(|a| {
            format!(
                "try {{ if ({}) return {}; }} catch (e) {{}} ",
                a.detect,
                serde_json::Value::from(a.name)
            )
        })
        .collect();
    format!("(() => {{ {PRELUDE} {checks}return null; }})()")
}

/// The adapters `cmp: auto` looks for, for messages.
pub(crate) fn names() -> String {
    ALL.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}
