//! consent-gates proves, in CI, that a website's consent gates stop Segment data.
//!
//! Data flow, one module per concern: [`spec`] → [`session`] (browser, network edge, steps) →
//! [`capture`] → [`segment`] (decoding) → [`routing`] (which destination received what, with
//! [`catalog`]) → [`verdict`] → [`snapshot`] and [`report`]. [`trial`] is the engine for one
//! spec × state; [`harness`] is the libtest-mimic face; [`exit`] maps outcomes to exit codes.

pub mod capture;
pub mod catalog;
pub mod cmp;
pub mod exit;
pub mod harness;
pub mod redact;
pub mod report;
pub mod routing;
pub mod segment;
pub mod session;
pub mod snapshot;
pub mod spec;
pub mod trial;
pub mod verdict;
