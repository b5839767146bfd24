//! `shoptrain evaluate`: a rolling-origin backtest of a trained model on a
//! data file, beside naive baselines.

use super::predict::{open_model_and_series, ForecastOptions, Target};
use crate::backtest::head;
use crate::baselines::{ets_with_quantiles, ETS, SEASONAL_NAIVE};
use crate::output::{metrics_json, print_json, print_metrics_table, print_quantile_table};
use anyhow::{bail, Result};
use shoptrain_shared::metrics::{
    moving_average, seasonal_naive, seasonal_naive_scale, Metrics, QuantileMetrics, Quantiles,
};
use std::path::Path;
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

pub fn run(dir: &Path, opts: &ForecastOptions, windows: usize, json: bool) -> Result<()> {
    let o = open_model_and_series(dir, opts)?;
    let e = evaluate(o.target(), windows)?;
    if json {
        print_json(&e.to_json())
    } else {
        println!(
            "rolling-origin backtest of {} on {}: {windows} windows x {} days",
            e.prefix, e.series, e.horizon
        );
        print_metrics_table(&e.metrics_rows());
        if !e.quantile_metrics.is_empty() {
            println!();
            let rows: Vec<(&str, QuantileMetrics)> = e
                .quantile_metrics
                .iter()
                .map(|(n, m)| (n.as_str(), m.clone()))
                .collect();
            print_quantile_table(&rows);
        }
        if let Some(err) = &e.ets_error {
            println!("{ETS}: no forecast: {err}");
        }
        Ok(())
    }
}

impl Evaluation {
    pub fn metrics_rows(&self) -> Vec<(&str, Metrics)> {
        self.metrics
            .iter()
            .map(|(n, m)| (n.as_str(), m.clone()))
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let quantiles: serde_json::Map<String, serde_json::Value> = self
            .quantile_metrics
            .iter()
            .map(|(n, m)| (n.clone(), serde_json::to_value(m).unwrap_or_default()))
            .collect();
        serde_json::json!({
            "model": self.prefix, "series": self.series, "windows": self.windows,
            "horizon": self.horizon, "metrics": metrics_json(&self.metrics_rows()),
            "quantile_metrics": quantiles, "ets_error": self.ets_error,
        })
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
    let scale = seasonal_naive_scale(&sales[..first_origin], 7);
    let t0 = Instant::now();
    let (mut actual, mut model, mut naive, mut avg) = (vec![], vec![], vec![], vec![]);
    let levels = o.forecaster.meta.architecture.quantiles();
    let (mut model_q, mut ets_q) = (None, None);
    let mut ets: Result<Vec<f32>, String> = Ok(vec![]);
    for k in 0..windows {
        let origin = first_origin + k * h;
        let f = o
            .forecaster
            .predict(&head(o.series, origin), Some(o.series))?;
        model.extend(f.values);
        if let Some(q) = &f.quantiles {
            Quantiles::append(&mut model_q, q);
        }
        naive.extend(seasonal_naive(&sales[..origin], h, 7));
        avg.extend(moving_average(&sales[..origin], h, 7));
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
            Metrics::compute(&actual, &model, scale),
        ),
        (
            SEASONAL_NAIVE.to_string(),
            Metrics::compute(&actual, &naive, scale),
        ),
        (
            "moving_average_7".to_string(),
            Metrics::compute(&actual, &avg, scale),
        ),
    ];
    let score = |q: &Option<Quantiles>| {
        q.as_ref()
            .and_then(|q| QuantileMetrics::compute(&actual, q, scale))
    };
    let mut quantile_metrics: Vec<(String, QuantileMetrics)> = Vec::new();
    quantile_metrics.extend(score(&model_q).map(|m| (o.prefix.to_string(), m)));
    let ets_error = match &ets {
        Ok(f) => {
            metrics.push((ETS.to_string(), Metrics::compute(&actual, f, scale)));
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
