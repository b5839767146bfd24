//! The classical forecasts every model is judged against: seasonal naive
//! (same weekday last week) and ETS — shoptrain's own AutoETS
//! (`shoptrain_shared::classical`: error, trend and weekly season chosen by
//! AICc, as statsforecast's), the same code the floor under every network
//! forecast uses (`shoptrain_shared::floor`).

use shoptrain_shared::classical::EtsModel;
use shoptrain_shared::floor::{ets_fit, finite, Classical};
use shoptrain_shared::metrics::{seasonal_naive, Quantiles};

/// The weekly season and the baselines' names in reports and metadata.
pub use shoptrain_shared::floor::{ETS, SEASON, SEASONAL_NAIVE};

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
/// of ETS's prediction intervals.
pub fn ets_with_quantiles(
    history: &[f32],
    horizon: usize,
    levels: &[f64],
) -> Result<(Vec<f32>, Option<Quantiles>), String> {
    let fit = ets_fit(history)?;
    let point = finite(fit.forecast(horizon)).map_err(|_| {
        format!(
            "ETS gave no finite {horizon}-day forecast on {} days",
            history.len()
        )
    })?;
    if levels.len() < 2 {
        return Ok((point, None));
    }
    let values = fit
        .quantiles(horizon, levels)
        .into_iter()
        .zip(levels)
        .map(|(v, &l)| {
            if l == 0.5 {
                Ok(point.clone())
            } else {
                finite(v)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let quantiles = Quantiles {
        levels: levels.to_vec(),
        values,
    };
    Ok((point, Some(quantiles)))
}

/// A classical method's forecasts from several origins of one series
/// (`origins` ascending, each the index of the first forecast day). ETS is
/// `ets`, fitted once on days before the first origin and run on to the
/// later ones with the same parameters: one fit, not one per origin, and no
/// parameter has seen a day it forecasts.
pub fn classical_at_origins<'a>(
    method: Classical,
    sales: &[f32],
    origins: &[usize],
    horizon: usize,
    ets: impl FnOnce() -> Result<&'a EtsModel, String>,
) -> Result<Vec<f32>, String> {
    let mut out = Vec::with_capacity(origins.len() * horizon);
    match method {
        Classical::SeasonalNaive => {
            for &o in origins {
                out.extend(method.forecast(&sales[..o], horizon)?);
            }
        }
        Classical::Ets => {
            if origins.is_empty() {
                return Ok(out);
            }
            let y: Vec<f64> = sales.iter().map(|v| *v as f64).collect();
            for f in ets()?.forecasts_at(&y, origins, horizon) {
                out.extend(finite(f)?);
            }
        }
    }
    Ok(out)
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
        let never = || Err("not fitted".to_string());
        let at = classical_at_origins(Classical::SeasonalNaive, &[1.0; 3], &[], 7, never).unwrap();
        assert!(at.is_empty());
        assert_eq!(naive_forecast(&[1.0, 2.0], 7), None);
    }
}
