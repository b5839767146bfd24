//! Scoring a model on validation windows, beside naive baselines.

use super::Prepared;
use crate::baselines::{ets_forecast, naive_forecast, ETS, SEASONAL_NAIVE};
use crate::compute;
use anyhow::Result;
use shoptrain_shared::features::Windows;
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::metrics::{moving_average, Metrics, QuantileMetrics, Quantiles};
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

/// Quantile metrics where each window has its own MASE denominator.
pub fn quantile_score(
    actual: &[f32],
    q: &Quantiles,
    horizon: usize,
    scales: &[f64],
) -> Option<QuantileMetrics> {
    QuantileMetrics::compute_scaled(actual, q, |d| scales[d / horizon])
}

/// ETS needs a fit per validation window; past this many windows (large
/// global models) the report leaves it to `shoptrain backtest`.
pub const ETS_MAX_WINDOWS: usize = 400;

/// The baselines' metrics on the validation windows by name, and why a
/// baseline is missing, by name.
#[derive(Debug, Clone, Default)]
pub struct Baselines {
    pub metrics: BTreeMap<String, Metrics>,
    pub errors: BTreeMap<String, String>,
}

/// Seasonal naive, moving average and ETS on the validation windows.
pub fn baselines(p: &Prepared, horizon: usize) -> Baselines {
    let mut out = Baselines::default();
    let hist = &p.val.history_sales;
    let score_of = |f: &[f32]| score(&p.val.y_raw, f, horizon, &p.val_mase_scale);
    let naive: Option<Vec<Vec<f32>>> = hist.iter().map(|h| naive_forecast(h, horizon)).collect();
    if let Some(naive) = naive.filter(|f| !f.is_empty()) {
        out.metrics
            .insert(SEASONAL_NAIVE.into(), score_of(&naive.concat()));
    }
    let f: Vec<f32> = hist
        .iter()
        .flat_map(|h| moving_average(h, horizon, 7))
        .collect();
    out.metrics.insert("moving_average_7".into(), score_of(&f));
    match ets_on_windows(p, horizon) {
        Ok(f) => {
            out.metrics.insert(ETS.into(), score_of(&f));
        }
        Err(e) => {
            out.errors.insert(ETS.into(), e);
        }
    }
    out
}

/// ETS fitted on each validation window's whole history.
fn ets_on_windows(p: &Prepared, horizon: usize) -> Result<Vec<f32>, String> {
    if p.val_origins.len() > ETS_MAX_WINDOWS {
        return Err(format!(
            "not computed on {} validation windows (more than {ETS_MAX_WINDOWS}); `shoptrain backtest` compares with ETS",
            p.val_origins.len()
        ));
    }
    let mut out = Vec::with_capacity(p.val_origins.len() * horizon);
    for &(series, origin) in &p.val_origins {
        out.extend(ets_forecast(&p.sales[series][..origin], horizon)?);
    }
    Ok(out)
}

/// Forecasts of a forecaster for normalised windows, in sales units: the
/// points, and the quantiles when the model gives them.
pub fn forecast_windows(f: &Forecaster, w: &Windows) -> Result<(Vec<f32>, Option<Quantiles>)> {
    let per = f.meta.architecture.input_width();
    let blocks =
        compute::in_row_blocks(f.device(), w.count, compute::FORECAST_BLOCK, |start, n| {
            let x = &w.x[start * per..(start + n) * per];
            Ok(f.forecast_rows(x, &w.scales[start..start + n])?)
        })?;
    let mut out = Vec::with_capacity(w.count * f.meta.horizon);
    let mut quantiles = None;
    for (values, q) in blocks {
        out.extend(values);
        if let Some(q) = &q {
            Quantiles::append(&mut quantiles, q);
        }
    }
    Ok((out, quantiles))
}
