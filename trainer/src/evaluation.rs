//! A trained model's rolling-origin backtest on one series of a data file,
//! beside the naive baselines and ETS (`shoptrain evaluate`).

use crate::backtest::head;
use crate::baselines::{ets_with_quantiles, ETS, SEASON, SEASONAL_NAIVE};
use crate::lookup::Target;
use anyhow::{bail, Result};
use shoptrain_shared::metrics::{
    moving_average, seasonal_naive, seasonal_naive_scale, Metrics, QuantileMetrics, Quantiles,
};
use std::time::Instant;

/// A model's rolling-origin scores on one series beside the baselines.
pub struct Evaluation {
    pub prefix: String,
    pub series: String,
    pub windows: usize,
    pub horizon: usize,
    /// The model first, then the baselines.
    pub metrics: Vec<(String, Metrics)>,
    pub quantile_metrics: Vec<(String, QuantileMetrics)>,
    pub ets_error: Option<String>,
}

impl Evaluation {
    pub fn metrics_rows(&self) -> Vec<(&str, Metrics)> {
        self.metrics
            .iter()
            .map(|(n, m)| (n.as_str(), m.clone()))
            .collect()
    }

    /// The named row's metrics (the model's prefix, or a baseline's name).
    pub fn get(&self, name: &str) -> Option<&Metrics> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }
}

/// Forecasts the last `windows` blocks of `horizon` days of the opened
/// series, each from the days before it, and scores them.
pub fn evaluate(o: Target<'_>, windows: usize) -> Result<Evaluation> {
    let (w, h) = (o.forecaster.window(), o.forecaster.horizon());
    let t = o.series.dates.len();
    if windows == 0 {
        bail!("--windows must be at least 1");
    }
    if t < w.max(7) + windows * h {
        bail!(
            "{} has {t} days; {windows} backtest windows of {h} days after a {w}-day history need {}",
            o.series.label,
            w.max(7) + windows * h
        );
    }
    let sales: Vec<f32> = o.series.values[0].iter().map(|v| *v as f32).collect();
    let first_origin = t - windows * h;
    // each block scaled by the history its forecast saw, as `backtest` does
    let mut scales = Vec::with_capacity(windows);
    let t0 = Instant::now();
    let (mut actual, mut model, mut naive, mut avg) = (vec![], vec![], vec![], vec![]);
    let levels = o.forecaster.meta.architecture.quantiles();
    let (mut model_q, mut ets_q) = (None, None);
    let mut ets: Result<Vec<f32>, String> = Ok(vec![]);
    for k in 0..windows {
        let origin = first_origin + k * h;
        scales.push(seasonal_naive_scale(&sales[..origin], SEASON));
        let f = o
            .forecaster
            .predict(&head(o.series, origin), Some(o.series))?;
        model.extend(f.values);
        if let Some(q) = &f.quantiles {
            Quantiles::append(&mut model_q, q);
        }
        naive.extend(seasonal_naive(&sales[..origin], h, SEASON));
        avg.extend(moving_average(&sales[..origin], h, SEASON));
        if let Ok(done) = &mut ets {
            match ets_with_quantiles(&sales[..origin], h, levels) {
                Ok((f, q)) => {
                    done.extend(f);
                    if let Some(q) = &q {
                        Quantiles::append(&mut ets_q, q);
                    }
                }
                Err(e) => ets = Err(e),
            }
        }
        actual.extend_from_slice(&sales[origin..origin + h]);
    }
    let seconds = t0.elapsed().as_secs_f64();
    o.reg
        .log_prediction(o.prefix, "evaluate", &o.data.sha256, h, seconds)?;
    let mut metrics = vec![
        (
            o.prefix.to_string(),
            Metrics::compute_blocks(&actual, &model, h, &scales),
        ),
        (
            SEASONAL_NAIVE.to_string(),
            Metrics::compute_blocks(&actual, &naive, h, &scales),
        ),
        (
            "moving_average_7".to_string(),
            Metrics::compute_blocks(&actual, &avg, h, &scales),
        ),
    ];
    let score = |q: &Option<Quantiles>| {
        q.as_ref()
            .and_then(|q| QuantileMetrics::compute_scaled(&actual, q, |d| scales[d / h]))
    };
    let mut quantile_metrics: Vec<(String, QuantileMetrics)> = Vec::new();
    quantile_metrics.extend(score(&model_q).map(|m| (o.prefix.to_string(), m)));
    let ets_error = match &ets {
        Ok(f) => {
            metrics.push((
                ETS.to_string(),
                Metrics::compute_blocks(&actual, f, h, &scales),
            ));
            quantile_metrics.extend(score(&ets_q).map(|m| (ETS.to_string(), m)));
            None
        }
        Err(e) => Some(e.clone()),
    };
    Ok(Evaluation {
        prefix: o.prefix.to_string(),
        series: o.series.label.clone(),
        windows,
        horizon: h,
        metrics,
        quantile_metrics,
        ets_error,
    })
}
