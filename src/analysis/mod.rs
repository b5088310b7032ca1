//! Layer 1, analysis: pure functions over a [`crate::capture::Capture`]. [`segment`] decodes the
//! Segment traffic, [`catalog`] names destinations, [`routing`] says which destination received
//! what, [`verdict`] judges it against the spec, [`privacy`] says what personal data is and keeps
//! it out of every artefact. Nothing here touches the browser or writes files.

pub mod catalog;
pub mod privacy;
pub mod routing;
pub mod segment;
pub mod verdict;
