//! The trainer's integration tests, one binary with a module per area (as
//! ripgrep's `tests/tests.rs`). Each drives the real `shoptrain` executable
//! the way a user's shell session would, through the workspace's one
//! harness (`shoptrain_tests`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration test code"
)]

mod backtest;
mod bad_input;
mod batch;
mod bench;
mod concurrency;
mod corrupt_files;
mod crashes;
mod csv_errors;
mod hybrid;
mod known_future;
mod layers;
mod pooling;
mod quantiles;
mod registry;
mod store;
mod sync;
mod training;
mod versions;

/// A fresh test folder driving this crate's `shoptrain` binary.
fn dir() -> shoptrain_tests::Dir {
    shoptrain_tests::Dir::new(env!("CARGO_BIN_EXE_shoptrain"))
}
