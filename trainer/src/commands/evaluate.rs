//! `shoptrain evaluate`: a rolling-origin backtest of a trained model on a
//! data file, beside naive baselines.

use super::predict::{open_model_and_series, ForecastOptions};
use crate::backtest::head;
use crate::baselines::{ets_with_quantiles, ETS, SEASONAL_NAIVE};
use crate::output::{metrics_json, print_json, print_metrics_table, print_quantile_table};
use anyhow::{bail, Result};
use shoptrain_shared::metrics::{
    moving_average, seasonal_naive, seasonal_naive_scale, Metrics, QuantileMetrics, Quantiles,
};
use std::path::Path;
use std::time::Instant;

pub fn run(dir: &Path, opts: &ForecastOptions, windows: usize, json: bool) -> Result<()> {
    let o = open_model_and_series(dir, opts)?;
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
            .predict(&head(&o.series, origin), Some(&o.series))?;
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
        .log_prediction(&o.prefix, "evaluate", &o.data.sha256, h, seconds)?;
    let mut rows = vec![
        (o.prefix.as_str(), Metrics::compute(&actual, &model, scale)),
        (SEASONAL_NAIVE, Metrics::compute(&actual, &naive, scale)),
        ("moving_average_7", Metrics::compute(&actual, &avg, scale)),
    ];
    let mut quantile_rows: Vec<(&str, QuantileMetrics)> = Vec::new();
    let score = |q: &Option<Quantiles>| {
        q.as_ref()
            .and_then(|q| QuantileMetrics::compute(&actual, q, scale))
    };
    quantile_rows.extend(score(&model_q).map(|m| (o.prefix.as_str(), m)));
    let ets_error = match &ets {
        Ok(f) => {
            rows.push((ETS, Metrics::compute(&actual, f, scale)));
            quantile_rows.extend(score(&ets_q).map(|m| (ETS, m)));
            None
        }
        Err(e) => Some(e.clone()),
    };
    if json {
        let quantiles: serde_json::Map<String, serde_json::Value> = quantile_rows
            .iter()
            .map(|(n, m)| (n.to_string(), serde_json::to_value(m).unwrap_or_default()))
            .collect();
        print_json(&serde_json::json!({
            "series": o.series.label, "windows": windows, "horizon": h,
            "metrics": metrics_json(&rows), "quantile_metrics": quantiles, "ets_error": ets_error,
        }))
    } else {
        println!(
            "rolling-origin backtest of {} on {}: {windows} windows x {h} days",
            o.prefix, o.series.label
        );
        print_metrics_table(&rows);
        if !quantile_rows.is_empty() {
            println!();
            print_quantile_table(&quantile_rows);
        }
        if let Some(e) = ets_error {
            println!("{ETS}: no forecast: {e}");
        }
        Ok(())
    }
}
