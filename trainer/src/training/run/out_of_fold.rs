//! After the epoch loop: the quantile steps' scale, calibrated on misses of
//! two half-models (same architecture and seed, from the base, the best
//! epoch count) that forecast the training windows they did not see
//! (QUALITY.md, experiment 26c; the arithmetic is `training/calibration.rs`).

use super::{load_weights, trained, DeviceData, Run};
use crate::compute;
use crate::optim::AdamW;
use crate::seeded_vars::frozen_model;
use crate::training::calibration::{out_of_sample_misses, step_factors, widen};
use anyhow::{Context, Result};
use candle_core::{Device, Tensor, Var};
use shoptrain_shared::metadata::ModelMetadata;
use shoptrain_shared::models::quantiles::SCALE;
use shoptrain_shared::models::{check_levels, ModelConfig, QUANTILE_LAYER};
use std::collections::HashMap;

/// The quantiles of the model with these variables for every window in
/// `xs`, `[n, levels, horizon]` flattened, forecast in row blocks side by
/// side without an autograd graph.
fn quantiles_of(cfg: &ModelConfig, vars: &[(String, Var)], xs: &Tensor) -> Result<Vec<f32>> {
    let model = frozen_model(cfg, vars, xs.device())?;
    let (count, device) = (xs.dim(0)?, xs.device());
    let blocks = compute::in_row_blocks(device, count, compute::FORECAST_BLOCK, |start, n| {
        let (_, q) = model.forward_quantiles(&xs.narrow(0, start, n)?, None)?;
        let q = q.context("a model with quantile levels gave no quantiles")?;
        Ok(q.flatten_all()?.to_vec1::<f32>()?)
    })?;
    Ok(blocks.concat())
}

impl Run<'_> {
    /// Scales the best weights' quantile steps to fit every window of the
    /// run, training and validation (see `calibration`). Leaves the model's
    /// variables at the best weights.
    pub(super) fn calibrate(
        &self,
        meta: &ModelMetadata,
        vars: &[(String, Var)],
        data: &DeviceData,
        best: &mut [(String, Tensor)],
    ) -> Result<()> {
        let levels = meta.architecture.quantiles().to_vec();
        if levels.is_empty() {
            return Ok(());
        }
        let median = check_levels(&levels).map_err(anyhow::Error::msg)?;
        // the model's own windows only: pooled series' misses are not its own
        // (QUALITY.md, experiment 29)
        let own = self.prepared.own_train;
        let data = &DeviceData {
            x_train: data.x_train.narrow(0, 0, own)?,
            y_train: data.y_train.narrow(0, 0, own)?,
            x_val: data.x_val.clone(),
            y_val: data.y_val.clone(),
        };
        let weights: HashMap<String, Tensor> = best.iter().cloned().collect();
        load_weights(vars, &weights, self.device)?;
        let xs = Tensor::cat(&[&data.x_train, &data.x_val], 0)?;
        let ys = Tensor::cat(&[&data.y_train, &data.y_val], 0)?;
        let mut quantiles = quantiles_of(&meta.architecture, vars, &xs)?;
        let mut actual = ys.flatten_all()?.to_vec1::<f32>()?;
        if let Some(held_out) = self.out_of_fold_medians(meta, data, median)? {
            let levels = levels.len();
            out_of_sample_misses(
                &mut actual,
                &quantiles,
                &held_out,
                levels,
                median,
                meta.horizon,
            );
        }
        let scales = self.prepared.train.scales.iter().take(own);
        let ratios: Vec<f32> = scales
            .chain(&self.prepared.val.scales)
            .map(|s| s.spread(meta.spread_floor) / s.std)
            .collect();
        widen(&mut quantiles, &ratios, levels.len(), median, meta.horizon);
        let factors = step_factors(&levels, median, &quantiles, &actual, meta.horizon);
        let name = format!("{QUANTILE_LAYER}.{SCALE}");
        let (_, scale) = best
            .iter_mut()
            .find(|(n, _)| *n == name)
            .with_context(|| format!("the model has no {name}"))?;
        let factors = Tensor::from_vec(factors, levels.len() - 1, &Device::Cpu)?;
        *scale = (scale.to_device(&Device::Cpu)? * factors)?;
        Ok(())
    }

    /// Medians of the training windows from models that did not see them
    /// (`[n_train, horizon]`, normalised): two models, each trained from the
    /// base for the run's best epoch count on one half of the training
    /// windows, forecast the other half. None with fewer than two windows.
    /// The known-future layer starts at its fit on every training window,
    /// as the run's did: a few linear weights, not the network. `median` is
    /// the index of level 0.5.
    fn out_of_fold_medians(
        &self,
        meta: &ModelMetadata,
        data: &DeviceData,
        median: usize,
    ) -> Result<Option<Vec<f32>>> {
        let n = data.x_train.dim(0)?;
        let mid = n / 2;
        if mid == 0 {
            return Ok(None);
        }
        let (h, levels) = (meta.horizon, meta.architecture.quantiles().len());
        let mut out = Vec::with_capacity(n * h);
        for (held, fit) in [((0, mid), (mid, n - mid)), ((mid, n - mid), (0, mid))] {
            let vars = self.trained_on(meta, data, fit)?;
            let held_out = data.x_train.narrow(0, held.0, held.1)?;
            let q = quantiles_of(&meta.architecture, &vars, &held_out)?;
            for window in q.chunks(levels * h) {
                out.extend_from_slice(&window[median * h..(median + 1) * h]);
            }
        }
        Ok(Some(out))
    }

    /// A model trained from the base for the run's best epoch count on the
    /// training windows `fit` (start, count) only.
    fn trained_on(
        &self,
        meta: &ModelMetadata,
        data: &DeviceData,
        fit: (usize, usize),
    ) -> Result<Vec<(String, Var)>> {
        let (model, vars) = self.fresh_model(meta)?;
        if meta.architecture.base_weeks() > 0 {
            self.set_to_the_base(&vars, &meta.architecture)?;
        }
        let config = &meta.training.config;
        let mut opt = AdamW::new(trained(&vars), config.lr, config.weight_decay)?;
        let part = DeviceData {
            x_train: data.x_train.narrow(0, fit.0, fit.1)?,
            y_train: data.y_train.narrow(0, fit.0, fit.1)?,
            x_val: data.x_val.clone(),
            y_val: data.y_val.clone(),
        };
        for epoch in 1..=meta.training.best_epoch.unwrap_or(0) {
            self.train_epoch(&model, &mut opt, &part, meta, epoch)?;
        }
        Ok(vars)
    }
}
