//! The ETS forecast a hybrid model's base blends in (`--base blend`, the
//! default; issue 26's idea from Smyl's ES-RNN, QUALITY.md experiment 33):
//! the four-week weekday mean moved toward it by a weight per forecast day
//! ([`crate::models::EtsBlendLayer`]), and the network corrects that. The
//! trainer's windows and every forecast (`predict`, `backtest`, the
//! browser) take the ETS forecast from here, so they agree.

use crate::classical::EtsModel;
use crate::floor::{finite, Classical, SEASON};
use crate::metrics::seasonal_naive;

/// The ETS forecast of the `horizon` days after `history` (sales), fitted
/// on the whole history, or why it has none (the floor's when it stands on
/// ETS), and the base that blends it in: it, or where it has none,
/// [`fallback`].
pub fn base_forecast(history: &[f32], horizon: usize) -> (Vec<f32>, Result<Vec<f32>, String>) {
    let ets = Classical::Ets.forecast(history, horizon);
    let base = ets.clone().unwrap_or_else(|_| fallback(history, horizon));
    (base, ets)
}

/// The bases of the `horizon` days after each of `origins` (days of
/// `sales` seen): `ets`, fitted once on days before the first origin, run on
/// with the same parameters (no parameter has seen a day it forecasts), or
/// [`fallback`] where it could not be fitted or forecasts nothing finite.
pub fn base_forecasts(
    sales: &[f32],
    ets: Option<&EtsModel>,
    origins: &[usize],
    horizon: usize,
) -> Vec<Vec<f32>> {
    let Some(model) = ets else {
        return origins
            .iter()
            .map(|&o| fallback(&sales[..o.min(sales.len())], horizon))
            .collect();
    };
    let y: Vec<f64> = sales.iter().map(|v| *v as f64).collect();
    model
        .forecasts_at(&y, origins, horizon)
        .into_iter()
        .zip(origins)
        .map(|(f, &o)| {
            finite(f).unwrap_or_else(|_| fallback(&sales[..o.min(sales.len())], horizon))
        })
        .collect()
}

/// Same weekday last week, or the last day repeated when there is no week
/// (0 without history): the base where ETS has none.
pub fn fallback(history: &[f32], horizon: usize) -> Vec<f32> {
    if history.len() >= SEASON {
        seasonal_naive(history, horizon, SEASON)
    } else {
        vec![history.last().copied().unwrap_or(0.0).max(0.0); horizon]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::ets_fit;

    fn fitted(sales: &[f32]) -> Option<EtsModel> {
        ets_fit(sales).ok()
    }

    fn weekly(days: usize) -> Vec<f32> {
        let week = [10.0, 12.0, 14.0, 16.0, 30.0, 40.0, 5.0];
        (0..days)
            .map(|t| week[t % 7] + 100.0 + (t as f32 * 0.7).sin())
            .collect()
    }

    #[test]
    fn the_base_at_the_fit_origin_is_the_forecast_of_a_fit_on_those_days() {
        let sales = weekly(120);
        let at = base_forecasts(&sales, fitted(&sales).as_ref(), &[120], 7);
        assert_eq!(at, vec![base_forecast(&sales, 7).0]);
        // and it follows the weekly pattern (day 120 is weekday 1)
        for (h, v) in at[0].iter().enumerate() {
            let want = [10.0, 12.0, 14.0, 16.0, 30.0, 40.0, 5.0][(120 + h) % 7] + 100.0;
            assert!((v - want).abs() < 3.0, "{:?}", at[0]);
        }
    }

    #[test]
    fn later_origins_run_on_from_the_fit_without_refitting() {
        let sales = weekly(140);
        let at = base_forecasts(&sales, fitted(&sales[..100]).as_ref(), &[100, 107, 133], 7);
        assert_eq!(at[0], base_forecast(&sales[..100], 7).0);
        // a refit on more days would move the parameters; running on keeps them
        let run_on = ets_fit(&sales[..100]).unwrap();
        let y: Vec<f64> = sales.iter().map(|v| *v as f64).collect();
        let want = run_on.forecasts_at(&y, &[107, 133], 7);
        assert_eq!(
            at[1..],
            [
                finite(want[0].clone()).unwrap(),
                finite(want[1].clone()).unwrap()
            ]
        );
        // same weekday a week apart: the same weekly shape
        assert!((at[1][4] - at[0][4]).abs() < 3.0, "{at:?}");
    }

    #[test]
    fn a_history_ets_cannot_fit_falls_back_to_last_week_or_the_last_day() {
        assert_eq!(base_forecast(&[3.0, 4.0], 3).0, vec![4.0; 3]);
        assert_eq!(base_forecast(&[], 2).0, vec![0.0; 2]);
        let short: Vec<f32> = (0..5).map(|d| d as f32).collect();
        assert!(fitted(&short).is_none());
        assert_eq!(base_forecasts(&short, None, &[5], 2), vec![vec![4.0, 4.0]]);
    }
}
