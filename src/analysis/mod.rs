//! Layer 1, analysis: pure functions over a [`crate::capture::Capture`]. [`segment`] decodes the
//! Segment traffic, [`catalog`] names destinations, [`routing`] says which destination received
//! what, [`verdict`] judges it against the spec, [`redact`] keeps personal data out of every
//! artefact. Nothing here touches the browser or writes files.

pub mod catalog;
pub mod redact;
pub mod routing;
pub mod segment;
pub mod verdict;
