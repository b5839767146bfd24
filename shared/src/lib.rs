//! shoptrain's shared rules: naming and versions, the metadata schema,
//! feature engineering and normalisation, the three model architectures and
//! metrics. Builds for native targets and `wasm32-unknown-unknown`; no file
//! locking, SQLite or threads here.

pub mod features;
pub mod forecast;
pub mod metadata;
pub mod metrics;
pub mod models;
pub mod naming;

/// Version of candle the models are built with, recorded in metadata.
pub const CANDLE_VERSION: &str = "0.11.1";
