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
    fn baselines() {
        let h: Vec<f32> = (0..14).map(|v| v as f32).collect();
        assert_eq!(seasonal_naive(&h, 3, 7), vec![7.0, 8.0, 9.0]);
        assert_eq!(moving_average(&h, 2, 4), vec![11.5, 11.5]);
        assert_eq!(seasonal_naive_scale(&h, 7), 7.0);
    }
}
