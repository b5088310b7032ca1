//! Layer 2, the browser: drives Chromium through Playwright and records what the site sends.
//! [`launch`] starts (or shares) the browser, [`session`] runs one visit in a fresh context,
//! [`pinned`] keeps the machine out of what a page sees, [`edge`] is the network edge (served folders, the pinned Segment build, answers for tracking
//! calls, offline refusals) and [`backstop`] the network layer behind it (what goes past every
//! route: shared workers, beacons of a real unload), [`steps`] and [`cmp`] act like a visitor,
//! [`visitor`] browses like one (scrolling, moving the pointer: never a choice), [`settle`] decides when the
//! page is done. Produces a [`crate::capture::Capture`]; judges nothing.

pub(crate) mod backstop;
pub(crate) mod chromium;
pub mod cmp;
pub mod edge;
pub mod error;
pub mod launch;
mod navigate;
pub(crate) mod pinned;
pub mod server;
pub mod session;
pub(crate) mod settle;
mod steps;
pub(crate) mod visitor;
