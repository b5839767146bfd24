//! Forecast accuracy metrics, in sales units.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub rmse: f64,
    pub mae: f64,
    /// Mean absolute percentage error over days with non-zero sales, in percent.
    pub mape: f64,
    /// Symmetric MAPE in percent (0..200).
    pub smape: f64,
    pub r2: f64,
    /// MAE divided by the in-sample MAE of the seasonal-naive lag-7 forecast.
    pub mase: f64,
    pub count: usize,
}

/// In-sample MAE of the lag-`season` naive forecast: the MASE denominator.
pub fn seasonal_naive_scale(history: &[f32], season: usize) -> f64 {
    let diffs: Vec<f64> = history
        .windows(season + 1)
        .map(|w| (w[season] as f64 - w[0] as f64).abs())
        .collect();
    if diffs.is_empty() {
        return 1.0;
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    if mean > 0.0 {
        mean
    } else {
        1.0
    }
}

/// Seasonal-naive forecast: each future day repeats the same weekday of the
/// last `season` days of history.
pub fn seasonal_naive(history: &[f32], horizon: usize, season: usize) -> Vec<f32> {
    let n = history.len();
    (0..horizon)
        .map(|h| history[n - season + (h % season)])
        .collect()
}

/// Moving-average forecast: the mean of the last `k` days, repeated.
pub fn moving_average(history: &[f32], horizon: usize, k: usize) -> Vec<f32> {
    let tail = &history[history.len().saturating_sub(k)..];
    let mean = tail.iter().sum::<f32>() / tail.len().max(1) as f32;
    vec![mean; horizon]
}

impl Metrics {
    /// Compares `predicted` with `actual`; `mase_scale` from [`seasonal_naive_scale`].
    pub fn compute(actual: &[f32], predicted: &[f32], mase_scale: f64) -> Metrics {
        let n = actual.len().min(predicted.len());
        let nf = n.max(1) as f64;
        let (mut se, mut ae, mut ape, mut ape_n, mut sape) = (0.0, 0.0, 0.0, 0usize, 0.0);
        let mean = actual[..n].iter().map(|v| *v as f64).sum::<f64>() / nf;
        let mut ss_tot = 0.0;
        for i in 0..n {
            let (a, p) = (actual[i] as f64, predicted[i] as f64);
            let e = p - a;
            se += e * e;
            ae += e.abs();
            if a != 0.0 {
                ape += (e / a).abs();
                ape_n += 1;
            }
            let denom = a.abs() + p.abs();
            if denom > 0.0 {
                sape += 2.0 * e.abs() / denom;
            }
            ss_tot += (a - mean) * (a - mean);
        }
        let mae = ae / nf;
        Metrics {
            rmse: (se / nf).sqrt(),
            mae,
            mape: 100.0 * ape / ape_n.max(1) as f64,
            smape: 100.0 * sape / nf,
            r2: if ss_tot > 0.0 { 1.0 - se / ss_tot } else { 0.0 },
            mase: mae / mase_scale,
            count: n,
        }
    }

    /// Metrics of forecasts made in blocks of `horizon` days from several
    /// origins, block `b`'s MASE scaled by `scales[b]`: the in-sample MAE of
    /// the lag-7 naive forecast on the history before that block's origin
    /// (`seasonal_naive_scale`). The one MASE rule of training's validation
    /// windows, `evaluate` and `backtest`: every block is scaled by the
    /// history its forecast saw.
    pub fn compute_blocks(
        actual: &[f32],
        predicted: &[f32],
        horizon: usize,
        scales: &[f64],
    ) -> Metrics {
        let mut m = Metrics::compute(actual, predicted, 1.0);
        let n = actual.len().min(predicted.len());
        let scaled: f64 = (0..n)
            .map(|i| (predicted[i] as f64 - actual[i] as f64).abs() / scales[i / horizon.max(1)])
            .sum();
        m.mase = scaled / n.max(1) as f64;
        m
    }
}

/// Quantile forecasts of the same days: `values[j][d]` is level
/// `levels[j]` on day `d`; levels increase, and so do the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub levels: Vec<f64>,
    pub values: Vec<Vec<f32>>,
}

impl Quantiles {
    /// Adds the days of `more` after those of `all` (`None` until the first).
    pub fn append(all: &mut Option<Quantiles>, more: &Quantiles) {
        match all {
            Some(all) => {
                for (mine, theirs) in all.values.iter_mut().zip(&more.values) {
                    mine.extend_from_slice(theirs);
                }
            }
            None => *all = Some(more.clone()),
        }
    }

    /// The outermost interval's levels, e.g. `(0.1, 0.9)`.
    pub fn interval(&self) -> Option<(f64, f64)> {
        match (self.levels.first(), self.levels.last()) {
            (Some(lo), Some(hi)) if lo < hi => Some((*lo, *hi)),
            _ => None,
        }
    }
}

/// The name of a quantile level in tables and CSV headers: 0.1 → `p10`,
/// 0.025 → `p2.5`.
pub fn level_name(level: f64) -> String {
    let percent = (level * 1000.0).round() / 10.0;
    format!("p{percent}")
}

/// Pinball (quantile) loss of forecasting `q` for level `level` when
/// `actual` happened: `level·(a−q)` above the quantile, `(1−level)·(q−a)` below.
pub fn pinball(actual: f64, q: f64, level: f64) -> f64 {
    let d = actual - q;
    if d >= 0.0 {
        level * d
    } else {
        (level - 1.0) * d
    }
}

/// How well quantile forecasts fit what happened, in sales units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileMetrics {
    /// Levels of the outermost interval, e.g. `[0.1, 0.9]`.
    pub interval: [f64; 2],
    /// Share of actual days inside that interval (nominal: its width, 0.8).
    pub coverage: f64,
    /// Mean pinball loss over levels and days.
    pub pinball: f64,
    /// Weighted interval score: with the median and K symmetric intervals
    /// it is `(½|y−m| + Σ αₖ/2·ISₐ)/(K+½)`, which equals twice the mean
    /// pinball loss over the levels; that form is used for any levels.
    pub wis: f64,
    /// WIS divided by the MASE scale (each day's own), comparable across series.
    pub scaled_wis: f64,
    pub count: usize,
}

impl QuantileMetrics {
    /// Scores `q` against `actual`; `mase_scale` from [`seasonal_naive_scale`].
    /// `None` without an interval (fewer than two levels).
    pub fn compute(actual: &[f32], q: &Quantiles, mase_scale: f64) -> Option<QuantileMetrics> {
        Self::compute_scaled(actual, q, |_| mase_scale)
    }

    /// As [`Self::compute`], with day `d`'s MASE scale `scale_of(d)` (days
    /// of windows with their own histories).
    pub fn compute_scaled(
        actual: &[f32],
        q: &Quantiles,
        scale_of: impl Fn(usize) -> f64,
    ) -> Option<QuantileMetrics> {
        let (lo, hi) = q.interval()?;
        let n = q.values.iter().map(Vec::len).fold(actual.len(), usize::min);
        let (first, last) = (&q.values[0], &q.values[q.values.len() - 1]);
        let inside = (0..n)
            .filter(|&d| first[d] <= actual[d] && actual[d] <= last[d])
            .count();
        let (mut total, mut scaled) = (0.0, 0.0);
        for d in 0..n {
            let day: f64 = q
                .levels
                .iter()
                .zip(&q.values)
                .map(|(level, values)| pinball(actual[d] as f64, values[d] as f64, *level))
                .sum();
            total += day;
            scaled += day / scale_of(d);
        }
        let per = (n * q.levels.len()).max(1) as f64;
        let pinball = total / per;
        Some(QuantileMetrics {
            interval: [lo, hi],
            coverage: inside as f64 / n.max(1) as f64,
            pinball,
            wis: 2.0 * pinball,
            scaled_wis: 2.0 * scaled / per,
            count: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_known_errors() {
        let m = Metrics::compute(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 1.0);
        assert_eq!((m.rmse, m.mae, m.r2), (0.0, 0.0, 1.0));
        let m = Metrics::compute(&[2.0, 4.0], &[3.0, 2.0], 2.0);
        assert!((m.mae - 1.5).abs() < 1e-12);
        assert!((m.rmse - (2.5f64).sqrt()).abs() < 1e-12);
        assert!((m.mape - 50.0).abs() < 1e-12);
        assert!((m.mase - 0.75).abs() < 1e-12);
        // sMAPE: 2*1/5 and 2*2/6
        assert!((m.smape - 100.0 * (0.4 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn pinball_loss_matches_hand_computed_values() {
        // above the quantile: level x miss; below: (1 - level) x miss
        assert!((pinball(10.0, 8.0, 0.9) - 1.8).abs() < 1e-12);
        assert!((pinball(10.0, 12.0, 0.9) - 0.2).abs() < 1e-12);
        assert!((pinball(10.0, 8.0, 0.1) - 0.2).abs() < 1e-12);
        assert!((pinball(10.0, 12.0, 0.1) - 1.8).abs() < 1e-12);
        assert_eq!(pinball(5.0, 5.0, 0.3), 0.0);
        // at the median it is half the absolute error
        assert!((pinball(3.0, 7.0, 0.5) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn quantile_metrics_match_hand_computed_values() {
        let q = Quantiles {
            levels: vec![0.1, 0.5, 0.9],
            values: vec![vec![8.0, 8.0], vec![10.0, 10.0], vec![12.0, 12.0]],
        };
        // day 1 inside [8, 12]; day 2 above it
        let m = QuantileMetrics::compute(&[11.0, 14.0], &q, 2.0).unwrap();
        assert_eq!(m.coverage, 0.5);
        assert_eq!(m.interval, [0.1, 0.9]);
        // day 1: 0.1*3 + 0.5*1 + 0.1*1 = 0.9; day 2: 0.1*6 + 0.5*4 + 0.9*2 = 4.4
        assert!((m.pinball - (0.9 + 4.4) / 6.0).abs() < 1e-9);
        // WIS from its interval form: (0.5|y-m| + 0.2/2 * IS_0.2) / 1.5
        let is = |y: f64| 4.0 + 10.0 * ((8.0 - y).max(0.0) + (y - 12.0).max(0.0));
        let wis = |y: f64| (0.5 * (y - 10.0f64).abs() + 0.1 * is(y)) / 1.5;
        assert!((m.wis - (wis(11.0) + wis(14.0)) / 2.0).abs() < 1e-9);
        assert!((m.scaled_wis - m.wis / 2.0).abs() < 1e-12);
        assert_eq!(level_name(0.1), "p10");
        assert_eq!(level_name(0.025), "p2.5");
        let point = Quantiles {
            levels: vec![0.5],
            values: vec![vec![1.0]],
        };
        assert_eq!(QuantileMetrics::compute(&[1.0], &point, 1.0), None);
    }

    #[test]
    fn baselines() {
        let h: Vec<f32> = (0..14).map(|v| v as f32).collect();
        assert_eq!(seasonal_naive(&h, 3, 7), vec![7.0, 8.0, 9.0]);
        assert_eq!(moving_average(&h, 2, 4), vec![11.5, 11.5]);
        assert_eq!(seasonal_naive_scale(&h, 7), 7.0);
    }
}
