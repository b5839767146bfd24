//! Decisions over two validation folds instead of one split (issue 26,
//! item 3; QUALITY.md, experiment 31). Fold A is the validation block, which
//! the run's model forecasts. Fold B is the block of a one-series model's
//! own training windows just before it, as long as the validation block
//! (at most half the training windows), which a model trained the same way
//! on the windows before it forecasts (`run/out_of_fold.rs`): one
//! validation block earlier, with its own out-of-sample errors. The
//! classical floor and the pick between types are chosen on the mean of
//! the two folds' MASE.

use super::Prepared;
use crate::baselines::classical_at_origins;
use rayon::prelude::*;
use shoptrain_shared::floor::Classical;
use shoptrain_shared::metrics::{seasonal_naive_scale, Metrics};
use shoptrain_shared::models::WEEK;

/// The first of the own training windows that fold B holds: as many as
/// the validation windows, at most half of them.
pub fn earlier_start(own_train: usize, val: usize) -> usize {
    own_train - val.min(own_train / 2)
}

/// Fold B's windows: what the half-model's forecasts are scored against.
pub struct EarlierFold {
    /// Sales of each window's forecast days, window after window.
    pub actual: Vec<f32>,
    /// MASE denominator of each window (the history before it).
    pub scales: Vec<f64>,
    /// Every classical method with a forecast of every window.
    pub classical: Vec<(Classical, Vec<f32>)>,
}

impl EarlierFold {
    pub fn mase(&self, forecast: &[f32], horizon: usize) -> f64 {
        Metrics::compute_blocks(&self.actual, forecast, horizon, &self.scales).mase
    }
}

/// Fold B of a one-series model (computed once for every type trained on
/// these windows), or None: several series, too few windows, or a classical
/// method that forecasts fold A but not fold B (decisions then stay on A).
pub fn earlier_fold(p: &Prepared, window: usize, horizon: usize) -> Option<&EarlierFold> {
    p.earlier.get_or_init(|| build(p, window, horizon)).as_ref()
}

fn build(p: &Prepared, window: usize, horizon: usize) -> Option<EarlierFold> {
    if p.series != 1 || p.own_train < 2 {
        return None;
    }
    let sales = &p.sales[0];
    let first = earlier_start(p.own_train, p.val.count);
    let origins: Vec<usize> = (first..p.own_train).map(|i| i + window).collect();
    let actual = p.train.y_raw[first * horizon..p.own_train * horizon].to_vec();
    // the own windows start at the series' first day: window i forecasts from day i + window
    let last = *origins.last()?;
    if sales.get(origins[0]..origins[0] + horizon) != Some(&actual[..horizon])
        || sales.get(last..last + horizon) != Some(&actual[actual.len() - horizon..])
    {
        return None;
    }
    let scales = origins
        .iter()
        .map(|&o| seasonal_naive_scale(&sales[..o], WEEK))
        .collect();
    let forecasts: Vec<(Classical, Result<Vec<f32>, String>)> = Classical::ALL
        .par_iter()
        .map(|&m| (m, classical_at_origins(m, sales, &origins, horizon)))
        .collect();
    let on_a = super::scoring::classical(p, horizon);
    let mut classical = Vec::new();
    for (m, f) in forecasts {
        let a_has = on_a.iter().any(|(a, fa)| *a == m && fa.is_ok());
        match f {
            Ok(f) => classical.push((m, f)),
            Err(_) if a_has => return None,
            Err(_) => {}
        }
    }
    Some(EarlierFold {
        actual,
        scales,
        classical,
    })
}
