//! Data → training and validation windows of every selected series.

use super::scoring::Baselines;
use super::TrainOptions;
use crate::data::LoadedData;
use anyhow::{bail, Result};
use shoptrain_shared::features::{
    feature_rows, make_windows, NormChoice, Normalization, Split, Windows,
};
use shoptrain_shared::metrics::seasonal_naive_scale;
use shoptrain_shared::naming::Scope;
use std::sync::OnceLock;

/// Windows of every selected series, split chronologically.
pub struct Prepared {
    pub scope: Scope,
    pub features: Vec<String>,
    pub normalization: Normalization,
    pub train: Windows,
    pub val: Windows,
    /// MASE denominator of each validation window's series.
    pub val_mase_scale: Vec<f64>,
    pub series: usize,
    /// Each series' sales, and each validation window's (series, first
    /// forecast day): the whole history a classical baseline fits on.
    pub sales: Vec<Vec<f32>>,
    pub val_origins: Vec<(usize, usize)>,
    /// The baselines' metrics on the validation windows, computed once for
    /// every model type trained on these windows.
    pub baselines: OnceLock<Baselines>,
}

pub fn prepare(
    data: &LoadedData,
    scope: &Scope,
    features: &[String],
    opts: &TrainOptions,
) -> Result<Prepared> {
    if opts.window == 0 || opts.horizon == 0 {
        bail!("--window and --horizon must be at least 1");
    }
    if let Err(e) = opts.config.check() {
        bail!(e);
    }
    let series = data.dataset.select(scope, opts.fill)?;
    let global = matches!(scope, Scope::Global);
    let mut out = Prepared {
        scope: scope.clone(),
        features: features.to_vec(),
        normalization: Normalization::Instance,
        train: Windows::default(),
        val: Windows::default(),
        val_mase_scale: Vec::new(),
        series: series.len(),
        sales: Vec::new(),
        val_origins: Vec::new(),
        baselines: OnceLock::new(),
    };
    let (window, horizon) = (opts.window, opts.horizon);
    for s in &series {
        let rows = feature_rows(s, features)?;
        let split = Split::new(&s.label, rows.len(), window, horizon, opts.config.val_ratio)?;
        let train_rows = split.train_rows(window, horizon);
        let norm = if global || opts.norm == NormChoice::Instance {
            Normalization::Instance
        } else {
            Normalization::fit(&rows[..train_rows])
        };
        out.train
            .extend(make_windows(&rows, &norm, window, horizon, 0, split.train));
        out.val.extend(make_windows(
            &rows,
            &norm,
            window,
            horizon,
            split.train,
            split.val,
        ));
        let sales: Vec<f32> = rows.iter().map(|r| r[0]).collect();
        let scale = seasonal_naive_scale(&sales[..train_rows], 7);
        out.val_mase_scale
            .extend(std::iter::repeat_n(scale, split.val));
        let k = out.sales.len();
        out.val_origins
            .extend((split.train..split.train + split.val).map(|i| (k, i + window)));
        out.sales.push(sales);
        out.normalization = norm;
    }
    Ok(out)
}
