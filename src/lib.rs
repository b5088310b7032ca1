//! consent-gates proves, in CI, that a website's consent gates stop Segment data.
//!
//! The crate is layered; a module imports only from layers below it (a test enforces it, see
//! `tests/layers.rs`), and the folders follow the data flow of one trial:
//!
//! | layer | modules | concern |
//! |---|---|---|
//! | 0 | [`spec`], [`capture`], [`outcome`] | what to test (the spec model and parser); what a visit recorded; what a trial concluded |
//! | 1 | [`analysis`] | Segment decoding, catalog, routing, verdict, redaction: pure functions over a capture |
//! | 2 | [`browser`] | Chromium via Playwright: session, network edge, steps, CMP adapters, settling |
//! | 3 | [`output`] | insta snapshots and reports (results.json, JUnit, HTML, terminal table) |
//! | 4 | [`runner`] | the trial engine, the libtest-mimic harness, exit codes |
//!
//! `ARCHITECTURE.md` in the repository walks through one trial.

// What is `pub` is what the binary, the tests and a library user reach; everything else is
// `pub(crate)` (the lint keeps it so).
#![warn(unreachable_pub)]

pub mod analysis;
pub mod browser;
pub mod capture;
pub mod outcome;
pub mod output;
pub mod paths;
pub mod runner;
pub mod spec;

pub use runner::{exit, harness};
