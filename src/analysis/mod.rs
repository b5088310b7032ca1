//! Layer 1, analysis: pure functions over a [`crate::capture::Capture`]. [`segment`] decodes the
//! Segment traffic, [`catalog`] names destinations, [`routing`] says which destination received
//! what, [`verdict`] judges it against the spec, [`privacy`] says what personal data is and keeps
//! it out of every artefact; [`analyse()`] runs them all once over one visit. Nothing here touches
//! the browser or writes files.

pub use analyse::{Analysis, analyse};

pub(crate) mod analyse;
pub(crate) mod catalog;
pub mod gpp;
pub mod privacy;
pub mod routing;
pub mod segment;
pub mod tcf;
pub mod verdict;
