//! Layer 3, outputs: what a run leaves for people and tools — the insta [`snapshot`] of each
//! trial and the [`report`] files (results.json, JUnit, HTML, the terminal table).

pub mod report;
pub mod snapshot;
