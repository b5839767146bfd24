//! Classical statistical forecasters in pure Rust, as baselines for training
//! reports and for the browser (no extra crates; builds for wasm32).
//!
//! [`auto_ets`] selects and fits an exponential smoothing state-space model
//! by AICc the way statsforecast's `AutoETS` does, so that its backtest
//! accuracy is a like-for-like reference; an [`EtsModel`] forecasts, gives
//! quantiles and re-runs over a longer history without re-estimating.

mod ets;
mod init;
mod intervals;
pub mod nelder_mead;
mod select;
#[cfg(test)]
mod tests;

pub use ets::{Component, EtsError, EtsModel, EtsSpec, Params};
pub use intervals::inverse_normal_cdf;
pub use select::{auto_ets, fit_ets};
