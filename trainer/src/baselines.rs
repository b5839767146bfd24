//! The classical forecasts every model is judged against: seasonal naive
//! (same weekday last week) and ETS. augurs-ets fits no seasonal ETS model
//! (every seasonal candidate fails, so AutoETS falls back to simple
//! smoothing), so the weekly season comes from augurs' MSTL decomposition
//! and AutoETS (error and trend chosen by AICc) forecasts the rest.

use augurs_core::{Fit, Predict};
use augurs_ets::trend::AutoETSTrendModel;
use augurs_ets::AutoETS;
use augurs_mstl::MSTLModel;
use shoptrain_shared::metrics::seasonal_naive;

/// Weekly season of daily sales.
pub const SEASON: usize = 7;
/// Names of the baselines in reports and metadata.
pub const SEASONAL_NAIVE: &str = "seasonal_naive_7";
pub const ETS: &str = "ets";

/// The seasonal-naive forecast, or `None` when the history is shorter than a week.
pub fn naive_forecast(history: &[f32], horizon: usize) -> Option<Vec<f32>> {
    (history.len() >= SEASON).then(|| seasonal_naive(history, horizon, SEASON))
}

/// AutoETS fitted on `history`, forecasting `horizon` days. A series it
/// cannot fit (too short, no valid model, non-finite forecast) gives an
/// error saying so, never a panic.
pub fn ets_forecast(history: &[f32], horizon: usize) -> Result<Vec<f32>, String> {
    let y: Vec<f64> = history.iter().map(|v| *v as f64).collect();
    let trend = AutoETSTrendModel::from(AutoETS::non_seasonal());
    let fitted = MSTLModel::new(vec![SEASON], trend)
        .fit(&y)
        .map_err(|e| format!("ETS could not be fitted on {} days: {e}", y.len()))?;
    let forecast = fitted
        .predict(horizon, None)
        .map_err(|e| format!("ETS could not forecast: {e}"))?;
    if forecast.point.len() != horizon || forecast.point.iter().any(|v| !v.is_finite()) {
        return Err(format!(
            "ETS gave no finite {horizon}-day forecast on {} days",
            y.len()
        ));
    }
    Ok(forecast.point.iter().map(|v| *v as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ets_follows_a_weekly_pattern_and_level() {
        let week = [10.0, 12.0, 14.0, 16.0, 30.0, 40.0, 5.0];
        let history: Vec<f32> = (0..140).map(|t| week[t % 7] + 100.0).collect();
        let f = ets_forecast(&history, 7).unwrap();
        for (h, v) in f.iter().enumerate() {
            assert!(
                (v - (week[(140 + h) % 7] + 100.0)).abs() < 1.0,
                "day {h}: {v}"
            );
        }
    }

    #[test]
    fn ets_on_too_little_data_is_an_error_not_a_panic() {
        let err = ets_forecast(&[1.0, 2.0, 3.0], 7).unwrap_err();
        assert!(err.contains("ETS could not be fitted on 3 days"), "{err}");
        assert_eq!(naive_forecast(&[1.0, 2.0], 7), None);
    }
}
