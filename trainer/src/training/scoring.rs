//! Scoring a model on validation windows, beside naive baselines.

use super::prepare::{Baselines, ClassicalForecasts};
use super::Prepared;
use crate::baselines::{classical_at_origins, naive_forecast, ETS, SEASONAL_NAIVE};
use crate::compute;
use anyhow::Result;
use rayon::prelude::*;
use shoptrain_shared::features::Windows;
use shoptrain_shared::floor::{finite, Classical};
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::metrics::{
    moving_average, seasonal_naive_scale, Metrics, QuantileMetrics, Quantiles,
};
use shoptrain_shared::models::WEEK;

/// Windows per forward when validating and scoring: bounds inference memory
/// (`shoptrain bench` measures it with the same size).
pub const EVAL_BATCH: usize = 256;

/// Quantile metrics where each window has its own MASE denominator.
pub fn quantile_score(
    actual: &[f32],
    q: &Quantiles,
    horizon: usize,
    scales: &[f64],
) -> Option<QuantileMetrics> {
    QuantileMetrics::compute_scaled(actual, q, |d| scales[d / horizon])
}

/// Seasonal naive, moving average and ETS on the validation windows.
pub fn baselines(p: &Prepared, horizon: usize) -> Baselines {
    let mut out = Baselines::default();
    let hist = &p.val.history_sales;
    let score_of = |f: &[f32]| Metrics::compute_blocks(&p.val.y_raw, f, horizon, &p.val_mase_scale);
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
    for (method, forecast) in classical(p, horizon) {
        if *method != Classical::Ets {
            continue;
        }
        match forecast {
            Ok(f) => {
                out.metrics.insert(ETS.into(), score_of(f));
            }
            Err(e) => {
                out.errors.insert(ETS.into(), e.clone());
            }
        }
    }
    out
}

/// Every classical method's forecasts of the validation windows, in window
/// order, computed once per prepared data (see `Prepared::classical`).
pub fn classical(p: &Prepared, horizon: usize) -> &[ClassicalForecasts] {
    p.classical.get_or_init(|| {
        Classical::ALL
            .iter()
            .map(|&m| (m, classical_on_windows(p, m, horizon)))
            .collect()
    })
}

/// One method's forecasts of the validation windows: series by series, on
/// the compute pool (ETS fits once per series, see
/// `baselines::classical_at_origins`).
fn classical_on_windows(
    p: &Prepared,
    method: Classical,
    horizon: usize,
) -> Result<Vec<f32>, String> {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for &(series, origin) in &p.val_origins {
        match groups.last_mut() {
            Some((s, origins)) if *s == series => origins.push(origin),
            _ => groups.push((series, vec![origin])),
        }
    }
    let parts: Vec<Result<Vec<f32>, String>> = groups
        .par_iter()
        .map(|(s, origins)| {
            let sales = &p.sales[*s];
            classical_at_origins(method, sales, origins, horizon, || {
                p.ets_fits[*s].get(sales)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(p.val_origins.len() * horizon);
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// The classical method the floor stands on: the one with the lower mean
/// MASE over every origin of the model's own series up to its last
/// validation window — training's origins too, hundreds where validation
/// has tens (QUALITY.md, experiment 33) — or `None` where one has no
/// forecast (then validation chooses among all). ETS runs with parameters
/// fitted on the days before the first validation window, as there.
pub fn classical_pick(p: &Prepared, window: usize, horizon: usize) -> Option<Classical> {
    *p.classical_pick.get_or_init(|| {
        // (series, last validation origin)
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for &(s, o) in &p.val_origins {
            match spans.last_mut() {
                Some((k, last)) if *k == s => *last = o,
                _ => spans.push((s, o)),
            }
        }
        let mut cost = [0.0f64; 2];
        for (s, last) in spans {
            let sales = &p.sales[s];
            let origins: Vec<usize> = (window.max(2 * WEEK)..=last).collect();
            let y: Vec<f64> = sales.iter().map(|v| *v as f64).collect();
            let ets = p.ets_fits[s]
                .get(sales)
                .ok()?
                .forecasts_at(&y, &origins, horizon);
            for (&o, ets) in origins.iter().zip(ets) {
                let scale = seasonal_naive_scale(&sales[..o], WEEK);
                let actual = &sales[o..(o + horizon).min(sales.len())];
                let naive = Classical::SeasonalNaive
                    .forecast(&sales[..o], horizon)
                    .ok()?;
                for (c, f) in cost.iter_mut().zip([finite(ets).ok()?, naive]) {
                    let err: f64 = actual
                        .iter()
                        .zip(&f)
                        .map(|(a, f)| (a - f).abs() as f64)
                        .sum();
                    *c += err / (actual.len().max(1) as f64 * scale);
                }
            }
        }
        Some(if cost[0] <= cost[1] {
            Classical::Ets
        } else {
            Classical::SeasonalNaive
        })
    })
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
