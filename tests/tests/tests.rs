//! Cross-crate tests: train → files → index → export → runtime parity, the
//! models' behaviour on real windows, and the forecast-quality bar.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration test code"
)]

mod demo_script;
mod export_parity;
mod model_behaviour;
mod quality;
