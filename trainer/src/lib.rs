//! shoptrain's native half: CLI, CSV loading, training, artifacts, the
//! version counter, the SQLite index, export and the demo server.

pub mod atomic;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod data;
pub mod device;
pub mod export;
pub mod index;
pub mod models_cmd;
pub mod optim;
pub mod plot;
pub mod registry;
pub mod seeded_vars;
pub mod serve;
pub mod train;
pub mod versions;
