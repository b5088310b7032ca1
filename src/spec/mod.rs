//! Specs: YAML files that describe a site, its consent categories and destinations, and the
//! visitor states to test (docs/spec.md is the reference). [`load`] and [`parse_str`] turn one into a
//! validated [`Spec`] or a [`SpecError`] that points at the offending line and column.
//!
//! serde_yaml is used only inside this module, so that a maintained fork can replace it here.

// `SpecError` is a plain struct with public fields (file, position, message, snippet, others);
// it is returned once per spec file, so its size does not matter.
#![allow(clippy::result_large_err)]

pub(crate) mod cmp_names;
mod error;
pub(crate) mod host_globs;
pub(crate) mod locate;
mod parse;
pub mod schema;
mod schema_shapes;
pub(crate) mod signals;
pub(crate) mod types;

use std::path::Path;

pub use error::SpecError;
pub use host_globs::HostGlobs;
pub use parse::KNOWN_CMP_ADAPTERS;
pub use types::*;

/// Reads and validates the spec at `path`. Relative paths inside it are resolved against
/// `path`'s folder; the spec's `name` is the file stem.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SpecError::new(path, 0, 0, format!("cannot read spec file: {e}"))
            .with_help("check the path (CONSENT_GATES_SPECS selects the spec files)")
    })?;
    parse_str(&text, path)
}

/// Validates spec text as if it had been read from `path` (used for messages, for the spec's
/// name and for resolving relative paths against `path.parent()`).
pub fn parse_str(text: &str, path: &Path) -> Result<Spec, SpecError> {
    parse::parse_spec(text, path)
}

#[cfg(test)]
mod tests;
