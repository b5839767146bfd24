//! Scoring a model on validation windows, beside naive baselines.

use super::Prepared;
use anyhow::Result;
use shoptrain_shared::features::Windows;
use shoptrain_shared::forecast::{to_sales, Forecaster};
use shoptrain_shared::metrics::{moving_average, seasonal_naive, Metrics};
use std::collections::BTreeMap;

/// Windows per forward when validating and scoring: bounds inference memory
/// (`shoptrain bench` measures it with the same size).
pub const EVAL_BATCH: usize = 256;

/// Metrics where each window has its own MASE denominator.
pub fn score(actual: &[f32], predicted: &[f32], horizon: usize, scales: &[f64]) -> Metrics {
    let mut m = Metrics::compute(actual, predicted, 1.0);
    let n = actual.len().min(predicted.len());
    let scaled: f64 = (0..n)
        .map(|i| (predicted[i] as f64 - actual[i] as f64).abs() / scales[i / horizon])
        .sum();
    m.mase = scaled / n.max(1) as f64;
    m
}

/// Naive baselines on the validation windows, by name.
pub fn baselines(p: &Prepared, horizon: usize) -> BTreeMap<String, Metrics> {
    let mut out = BTreeMap::new();
    let hist = &p.val.history_sales;
    if hist.first().is_some_and(|h| h.len() >= 7) {
        let f: Vec<f32> = hist
            .iter()
            .flat_map(|h| seasonal_naive(h, horizon, 7))
            .collect();
        out.insert(
            "seasonal_naive_7".into(),
            score(&p.val.y_raw, &f, horizon, &p.val_mase_scale),
        );
    }
    let f: Vec<f32> = hist
        .iter()
        .flat_map(|h| moving_average(h, horizon, 7))
        .collect();
    out.insert(
        "moving_average_7".into(),
        score(&p.val.y_raw, &f, horizon, &p.val_mase_scale),
    );
    out
}

/// Forecasts of a forecaster for normalised windows, in sales units.
pub fn forecast_windows(f: &Forecaster, w: &Windows) -> Result<Vec<f32>> {
    let per = f.meta.window * f.meta.features.len();
    let h = f.meta.horizon;
    let mut out = Vec::with_capacity(w.count * h);
    for start in (0..w.count).step_by(EVAL_BATCH) {
        let n = (w.count - start).min(EVAL_BATCH);
        let z = f.forward_normalized(&w.x[start * per..(start + n) * per], n)?;
        for (i, v) in z.iter().enumerate() {
            out.push(to_sales(w.scales[start + i / h].denormalize(*v)));
        }
    }
    Ok(out)
}
