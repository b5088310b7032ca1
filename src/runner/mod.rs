//! Layer 4, the runner: [`trial`] is the engine for one spec × state (browser visit → analysis →
//! outputs); [`harness`] is the libtest-mimic face; [`exit`] maps outcomes to exit codes.

pub mod exit;
pub mod harness;
pub mod trial;
