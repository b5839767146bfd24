//! The classical forecasts every model is judged against: seasonal naive
//! (same weekday last week) and ETS. augurs-ets fits no seasonal ETS model
//! (every seasonal candidate fails, so AutoETS falls back to simple
//! smoothing), so the weekly season comes from augurs' MSTL decomposition
//! and AutoETS (error and trend chosen by AICc) forecasts the rest.

use augurs_core::{Fit, Predict};
use augurs_ets::trend::AutoETSTrendModel;
use augurs_ets::AutoETS;
use augurs_mstl::MSTLModel;
use shoptrain_shared::metrics::{seasonal_naive, Quantiles};

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
    Ok(ets_with_quantiles(history, horizon, &[])?.0)
}

/// [`ets_forecast`] and, for `levels` (with 0.5 among them), the quantiles
/// of ETS's prediction intervals: level τ below the median is the lower
/// end of the `1 − 2τ` interval, above it the upper end of `2τ − 1`.
pub fn ets_with_quantiles(
    history: &[f32],
    horizon: usize,
    levels: &[f64],
) -> Result<(Vec<f32>, Option<Quantiles>), String> {
    let y: Vec<f64> = history.iter().map(|v| *v as f64).collect();
    let trend = AutoETSTrendModel::from(AutoETS::non_seasonal());
    let fitted = MSTLModel::new(vec![SEASON], trend)
        .fit(&y)
        .map_err(|e| format!("ETS could not be fitted on {} days: {e}", y.len()))?;
    let finite = |v: &[f64]| -> Result<Vec<f32>, String> {
        if v.len() != horizon || v.iter().any(|v| !v.is_finite()) {
            return Err(format!(
                "ETS gave no finite {horizon}-day forecast on {} days",
                y.len()
            ));
        }
        Ok(v.iter().map(|v| *v as f32).collect())
    };
    let forecast = fitted
        .predict(horizon, None)
        .map_err(|e| format!("ETS could not forecast: {e}"))?;
    let point = finite(&forecast.point)?;
    if levels.len() < 2 {
        return Ok((point, None));
    }
    let mut values = Vec::with_capacity(levels.len());
    for &level in levels {
        if level == 0.5 {
            values.push(point.clone());
            continue;
        }
        let width = (2.0 * level - 1.0).abs();
        let intervals = fitted
            .predict(horizon, Some(width))
            .map_err(|e| format!("ETS could not forecast: {e}"))?
            .intervals
            .ok_or_else(|| "ETS gave no prediction intervals".to_string())?;
        values.push(finite(if level < 0.5 {
            &intervals.lower
        } else {
            &intervals.upper
        })?);
    }
    let quantiles = Quantiles {
        levels: levels.to_vec(),
        values,
    };
    Ok((point, Some(quantiles)))
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
    fn ets_quantiles_surround_its_point_forecast_and_widen_with_the_level() {
        let history: Vec<f32> = (0..140)
            .map(|t| 100.0 + 10.0 * ((t * 7919) % 13) as f32 / 13.0)
            .collect();
        let (point, q) = ets_with_quantiles(&history, 7, &[0.05, 0.1, 0.5, 0.9, 0.95]).unwrap();
        let q = q.unwrap();
        assert_eq!(q.values[2], point);
        for d in 0..7 {
            let day: Vec<f32> = q.values.iter().map(|v| v[d]).collect();
            assert!(day.windows(2).all(|w| w[0] < w[1]), "{day:?}");
        }
        assert_eq!(ets_with_quantiles(&history, 7, &[]).unwrap().1, None);
    }

    #[test]
    fn ets_on_too_little_data_is_an_error_not_a_panic() {
        let err = ets_forecast(&[1.0, 2.0, 3.0], 7).unwrap_err();
        assert!(err.contains("ETS could not be fitted on 3 days"), "{err}");
        assert_eq!(naive_forecast(&[1.0, 2.0], 7), None);
    }
}
