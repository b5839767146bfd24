//! shoptrain's shared rules: naming and versions, the metadata schema,
//! feature engineering and normalisation, the three model architectures and
//! metrics. Builds for native targets and `wasm32-unknown-unknown`; no file
//! locking or threads here, and SQLite only behind the native-only `sql`
//! feature (column conversions of the shared enums for the trainer).

pub mod bundle;
pub mod classical;
pub mod features;
pub mod floor;
pub mod forecast;
pub mod hybrid;
pub mod manifest;
pub mod metadata;
pub mod metrics;
pub mod models;
pub mod naming;
#[cfg(feature = "sql")]
pub mod sql;

/// Version of candle the models are built with, recorded in metadata.
pub const CANDLE_VERSION: &str = "0.11.1";
