//! Where a run keeps its files. Layer 0: the browser (its shared server's state), the outputs
//! and the runner all need these names, and none of them should import another for it.

use std::path::{Path, PathBuf};

/// The folder a run writes into: `$CONSENT_GATES_OUT`, else `<target>/consent-gates`.
pub(crate) fn output_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CONSENT_GATES_OUT") {
        return PathBuf::from(p);
    }
    target_dir().join("consent-gates")
}

/// Cargo's target folder: `$CARGO_TARGET_DIR`, else the `target` folder holding this executable,
/// else `./target`.
pub(crate) fn target_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(p);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "target"))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// A file-name-safe form of a trial name: `shop::reject-all` → `shop-reject-all`.
pub(crate) fn file_stem(spec: &str, state: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}-{}", safe(spec), safe(state))
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("shop", "reject-all"), "shop-reject-all");
        assert_eq!(file_stem("a b", "x/y"), "a_b-x_y");
    }
}
