//! shoptrain's native half: the command line, CSV loading, training, the
//! registry of artifacts (files, version counter, SQLite index), export and
//! the demo server. ARCHITECTURE.md describes how the pieces fit.

pub mod app;
pub mod atomic;
pub mod backtest;
pub mod baselines;
pub mod batch;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod compute;
pub mod data;
pub mod device;
pub mod evaluation;
pub mod lookup;
pub mod monitor;
pub mod optim;
pub mod output;
pub mod plot;
pub mod registry;
pub mod seeded_vars;
pub mod store;
pub mod sync;
pub mod training;
