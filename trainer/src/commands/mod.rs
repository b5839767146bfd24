//! One module per `shoptrain` subcommand. Each takes validated options (the
//! command line converts into them in `cli`) and prints through `output`.

pub mod backtest;
pub mod bench;
pub mod data;
pub mod each;
pub mod evaluate;
pub mod export;
pub mod index;
pub mod models;
pub mod monitor;
pub mod predict;
pub mod serve;
pub mod sync;
pub mod train;
