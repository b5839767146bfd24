//! The epoch loop: shuffled mini-batches, validation, early stopping and
//! checkpoints, from fresh, fine-tuned or resumed weights. The quantiles'
//! calibration after the loop is `run/out_of_fold.rs`.

mod out_of_fold;

use super::artifacts::finish;
use super::checkpoint::{best_header, RunState};
use super::known_future_fit::{fit, Layout};
use super::objective::{objective, train_step};
use super::progress::Counting;
use super::{Prepared, TrainOptions, TrainReport};
use crate::compute;
use crate::optim::AdamW;
use crate::registry::{Checkpoint, CheckpointKind, Registry};
use crate::seeded_vars::{frozen_model, named_vars, seeded_var_builder, stream_seed};
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shoptrain_shared::bundle::header;
use shoptrain_shared::metadata::{EpochRecord, Loss, ModelMetadata};
use shoptrain_shared::models::quantiles::SCALE;
use shoptrain_shared::models::{Model, ModelConfig, Noise, KNOWN_FUTURE_LAYER, QUANTILE_LAYER};
use std::collections::HashMap;
use std::time::Instant;

/// Where a run's weights and progress start.
#[derive(Default)]
pub struct StartState {
    pub state: RunState,
    /// Starting weights (fine-tune or resume); fresh seeded weights if none.
    pub weights: Option<HashMap<String, Tensor>>,
    pub opt_state: Option<HashMap<String, Tensor>>,
    /// Weights of the best epoch so far (resume).
    pub best: Option<Vec<(String, Tensor)>>,
}

/// Everything a run reads besides its metadata.
pub struct Run<'a> {
    pub reg: &'a Registry,
    pub run_id: i64,
    pub prepared: &'a Prepared,
    pub device: &'a Device,
    pub opts: &'a TrainOptions,
}

/// The windows on the device.
struct DeviceData {
    x_train: Tensor,
    y_train: Tensor,
    x_val: Tensor,
    y_val: Tensor,
}

/// Copies `weights` into the model's variables, checking names and shapes.
fn load_weights(
    vars: &[(String, Var)],
    weights: &HashMap<String, Tensor>,
    device: &Device,
) -> Result<()> {
    for (name, var) in vars {
        let t = weights
            .get(name)
            .with_context(|| format!("starting weights lack tensor {name}"))?;
        if t.dims() != var.dims() {
            bail!(
                "starting weights give {name} shape {:?}, the model needs {:?}",
                t.dims(),
                var.dims()
            );
        }
        var.set(&t.to_device(device)?)?;
    }
    Ok(())
}

/// Zeroes the output layer's weights (`[horizon, …]` tensors) and the
/// known-future layer so that a model with a seasonal base starts out
/// forecasting that base exactly.
fn zero_output_layer(vars: &[(String, Var)], cfg: &ModelConfig) -> Result<()> {
    let prefix = cfg.output_layer();
    for (name, var) in vars {
        let output = name.starts_with(&prefix) && var.dims().first() == Some(&cfg.horizon());
        if output || name.starts_with(KNOWN_FUTURE_LAYER) {
            var.set(&var.as_tensor().zeros_like()?)?;
        }
    }
    Ok(())
}

/// The variables the optimiser moves: all but the quantile calibration,
/// which is set after training.
fn trained(vars: &[(String, Var)]) -> Vec<(String, Var)> {
    let calibration = format!("{QUANTILE_LAYER}.{SCALE}");
    vars.iter()
        .filter(|(name, _)| *name != calibration)
        .cloned()
        .collect()
}

/// A copy of the weights as they are now. `copy` first: on the same device
/// `to_device` shares the variable's storage, which the optimiser updates in
/// place, so a "best" snapshot would silently become the last epoch's.
fn snapshot(vars: &[(String, Var)], device: &Device) -> Result<Vec<(String, Tensor)>> {
    vars.iter()
        .map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?.to_device(device)?)))
        .collect()
}

impl Run<'_> {
    /// Starts the known-future layer at its least-squares fit.
    fn start_known_future(&self, vars: &[(String, Var)], cfg: &ModelConfig) -> Result<()> {
        let layout = Layout::of(cfg);
        let all: Vec<usize> = (0..layout.columns).collect();
        if all.is_empty() {
            return Ok(());
        }
        let Some((relative, absolute)) = fit(&layout, &self.prepared.train, &all) else {
            return Ok(());
        };
        for (part, w) in [("relative", relative), ("absolute", absolute)] {
            let name = format!("{KNOWN_FUTURE_LAYER}.{part}.weight");
            let (_, var) = vars
                .iter()
                .find(|(n, _)| *n == name)
                .with_context(|| format!("the model has no {name}"))?;
            let k = w.len();
            var.set(&Tensor::from_vec(w, (1, k), var.device())?)?;
        }
        Ok(())
    }

    /// A model of the run's architecture with its seeded initial weights.
    fn fresh_model(&self, meta: &ModelMetadata) -> Result<(Model, Vec<(String, Var)>)> {
        let varmap = VarMap::new();
        let model = Model::new(
            &meta.architecture,
            seeded_var_builder(&varmap, meta.training.config.seed, self.device),
        )?;
        Ok((model, named_vars(&varmap)))
    }

    /// Sets a fresh model to forecast its seasonal base exactly, with the
    /// known-future layer at its least-squares fit.
    fn set_to_the_base(&self, vars: &[(String, Var)], cfg: &ModelConfig) -> Result<()> {
        zero_output_layer(vars, cfg)?;
        self.start_known_future(vars, cfg)
    }

    fn device_data(&self, meta: &ModelMetadata) -> Result<DeviceData> {
        let (width, h) = (meta.architecture.input_width(), meta.horizon);
        let (train, val, device) = (&self.prepared.train, &self.prepared.val, self.device);
        Ok(DeviceData {
            x_train: Tensor::from_slice(&train.x, (train.count, width), device)?,
            y_train: Tensor::from_slice(&train.y, (train.count, h), device)?,
            x_val: Tensor::from_slice(&val.x, (val.count, width), device)?,
            y_val: Tensor::from_slice(&val.y, (val.count, h), device)?,
        })
    }

    /// Trains until the epochs run out or patience does, then scores and
    /// writes the final artifacts.
    pub fn execute(&self, meta: &mut ModelMetadata, start: StartState) -> Result<TrainReport> {
        let started = Instant::now();
        let (model, vars) = self.fresh_model(meta)?;
        // a fresh model with a seasonal base starts as that base (epoch 0)
        let starts_at_base = start.weights.is_none() && meta.architecture.base_weeks() > 0;
        match &start.weights {
            Some(weights) => load_weights(&vars, weights, self.device)?,
            None if starts_at_base => self.set_to_the_base(&vars, &meta.architecture)?,
            None => {}
        }
        let config = &meta.training.config;
        let mut opt = AdamW::new(trained(&vars), config.lr, config.weight_decay)?;
        if let Some(state) = &start.opt_state {
            opt.load_state(state, start.state.step)?;
        }
        let data = self.device_data(meta)?;
        let progress = &self.opts.progress;
        progress.start(
            Counting::Epochs,
            &meta.prefix,
            meta.training.config.epochs as u64,
            start.state.epoch as u64,
        );
        let (mut state, mut best) = (start.state, start.best);
        if starts_at_base {
            self.start_at_the_base(meta, &vars, &data, &mut state, &mut best)?;
        }
        let train_started = Instant::now();
        let mut windows_seen = 0usize;
        while state.epoch < meta.training.config.epochs {
            let epoch = state.epoch + 1;
            let t0 = Instant::now();
            let train_loss = self.train_epoch(&model, &mut opt, &data, meta, epoch)?;
            windows_seen += self.prepared.train.count;
            let val_loss =
                self.validation_loss(&meta.architecture, &vars, &data, meta.training.config.loss)?;
            if !train_loss.is_finite() || !val_loss.is_finite() {
                bail!("loss became non-finite at epoch {epoch} (train {train_loss}, val {val_loss}); try a lower --lr");
            }
            let record = EpochRecord {
                epoch,
                train_loss,
                val_loss,
                lr: opt.lr,
                seconds: t0.elapsed().as_secs_f64(),
            };
            self.reg.record_epoch(self.run_id, &record)?;
            let improved = state.record(record, opt.step);
            self.save_checkpoints(meta, &vars, &opt, &state, improved, &mut best)?;
            progress.step(
                epoch as u64,
                &format!("train {train_loss:.4} val {val_loss:.4}"),
            );
            if self.opts.halt_after_epoch == Some(epoch) {
                // fault injection: die like a killed process, leaving the run mid-way
                std::process::exit(86);
            }
            if state.bad_epochs >= meta.training.config.patience {
                break;
            }
        }
        progress.finish();
        let train_seconds = train_started.elapsed().as_secs_f64();
        let mut best = best.context("training ran no epoch (is --epochs 0?)")?;
        meta.training.epochs_run = state.epoch;
        meta.training.best_epoch = state.best_epoch;
        meta.training.best_val_loss = state.best_val_loss;
        self.calibrate(meta, &vars, &data, &mut best)?;
        meta.history = state.history;
        finish(
            self.reg,
            meta,
            self.prepared,
            &best,
            started.elapsed().as_secs_f64(),
            self.opts.floor,
        )?;
        let per_second = windows_seen as f64 / train_seconds.max(1e-9);
        Ok(TrainReport::new(
            meta,
            self.prepared.train.count,
            per_second,
        ))
    }

    /// Scores the untrained model, which forecasts its seasonal base
    /// exactly, as epoch 0: an epoch must beat the base on the validation
    /// windows to be kept, so training never leaves a model worse there than
    /// the base it started from (QUALITY.md, experiment 16).
    fn start_at_the_base(
        &self,
        meta: &ModelMetadata,
        vars: &[(String, Var)],
        data: &DeviceData,
        state: &mut RunState,
        best: &mut Option<Vec<(String, Tensor)>>,
    ) -> Result<()> {
        let val_loss =
            self.validation_loss(&meta.architecture, vars, data, meta.training.config.loss)?;
        state.best_val_loss = Some(val_loss);
        state.best_epoch = Some(0);
        self.save_best(meta, vars, 0, Some(val_loss), best)
    }

    /// One pass over the shuffled training windows; returns the mean loss.
    fn train_epoch(
        &self,
        model: &Model,
        opt: &mut AdamW,
        data: &DeviceData,
        meta: &ModelMetadata,
        epoch: u32,
    ) -> Result<f64> {
        let seed = meta.training.config.seed;
        let n_train = data.x_train.dim(0)?;
        let mut order: Vec<u32> = (0..n_train as u32).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream_seed(
            seed,
            &format!("shuffle{epoch}"),
        )));
        let noise = Noise::new(stream_seed(seed, &format!("dropout{epoch}")));
        let mut total = Tensor::zeros((), DType::F32, self.device)?;
        for chunk in order.chunks(meta.training.batch_size.max(1)) {
            let idx = Tensor::from_slice(chunk, chunk.len(), self.device)?;
            let xb = data.x_train.index_select(&idx, 0)?;
            let yb = data.y_train.index_select(&idx, 0)?;
            let loss = train_step(model, opt, (&xb, &yb), &noise, meta.training.config.loss)?;
            // accumulated on the device: read back once per epoch, not per step
            total = (total + (loss * chunk.len() as f64)?)?;
        }
        Ok(total.to_scalar::<f32>()? as f64 / n_train.max(1) as f64)
    }

    /// The objective over the validation windows, forecast in row blocks
    /// side by side without an autograd graph.
    fn validation_loss(
        &self,
        cfg: &ModelConfig,
        vars: &[(String, Var)],
        data: &DeviceData,
        loss: Loss,
    ) -> Result<f64> {
        let count = self.prepared.val.count;
        let model = frozen_model(cfg, vars, self.device)?;
        let sums =
            compute::in_row_blocks(self.device, count, compute::FORECAST_BLOCK, |start, n| {
                let x = data.x_val.narrow(0, start, n)?;
                let y = data.y_val.narrow(0, start, n)?;
                Ok(objective(&model, (&x, &y), None, loss)?.to_scalar::<f32>()? as f64 * n as f64)
            })?;
        Ok(sums.iter().sum::<f64>() / count.max(1) as f64)
    }

    /// The epoch checkpoint (when due) goes first: a run killed before the
    /// best checkpoint is written still has this epoch's weights on disk.
    fn save_checkpoints(
        &self,
        meta: &ModelMetadata,
        vars: &[(String, Var)],
        opt: &AdamW,
        state: &RunState,
        improved: bool,
        best: &mut Option<Vec<(String, Tensor)>>,
    ) -> Result<()> {
        let (epoch, every) = (state.epoch, meta.training.config.checkpoint_every);
        let val_loss = state.history.last().map(|r| r.val_loss);
        if every > 0 && epoch.is_multiple_of(every) {
            let mut tensors = snapshot(vars, self.device)?;
            tensors.extend(opt.state());
            let checkpoint = Checkpoint {
                kind: CheckpointKind::Epoch,
                epoch,
                tensors: &tensors,
                header: state.epoch_header(header(&meta.prefix, meta.model_type))?,
                val_loss,
            };
            self.reg
                .save_checkpoint(self.run_id, &meta.prefix, checkpoint)?;
            let keep = meta.training.config.keep_checkpoints.max(1) as usize;
            self.reg
                .prune_epoch_checkpoints(self.run_id, &meta.prefix, keep)?;
        }
        if improved {
            self.save_best(meta, vars, epoch, val_loss, best)?;
        }
        Ok(())
    }

    /// Writes the current weights as the best checkpoint and keeps a copy
    /// of them in `best`.
    fn save_best(
        &self,
        meta: &ModelMetadata,
        vars: &[(String, Var)],
        epoch: u32,
        val_loss: Option<f64>,
        best: &mut Option<Vec<(String, Tensor)>>,
    ) -> Result<()> {
        let weights = snapshot(vars, &Device::Cpu)?;
        let val = val_loss.unwrap_or(f64::NAN);
        let checkpoint = Checkpoint {
            kind: CheckpointKind::Best,
            epoch,
            tensors: &weights,
            header: best_header(header(&meta.prefix, meta.model_type), epoch, val),
            val_loss,
        };
        self.reg
            .save_checkpoint(self.run_id, &meta.prefix, checkpoint)?;
        *best = Some(weights);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_its_values_when_training_moves_the_weights() {
        let dev = Device::Cpu;
        let var = Var::from_tensor(&Tensor::new(&[1f32, 2.0], &dev).unwrap()).unwrap();
        let vars = vec![("w".to_string(), var.clone())];
        let before = snapshot(&vars, &dev).unwrap();
        var.set(&Tensor::new(&[5f32, 6.0], &dev).unwrap()).unwrap();
        assert_eq!(before[0].1.to_vec1::<f32>().unwrap(), vec![1., 2.]);
    }

    #[test]
    fn a_fresh_model_with_a_base_forecasts_the_base_for_every_type() {
        use shoptrain_shared::models::seasonal_base;
        use shoptrain_shared::naming::ModelType;
        let dev = Device::Cpu;
        // 4 rows: a 14-day history of 3 features, then 7 days x (2 known columns + level)
        let x = Tensor::randn(0f32, 1f32, (4, 14 * 3 + 7 * 3), &dev).unwrap();
        let history = x.narrow(1, 0, 14 * 3).unwrap().reshape((4, 14, 3)).unwrap();
        for t in ModelType::ALL {
            let cfg = ModelConfig::default_for(t, 3, 14, 7)
                .with_base_weeks(2)
                .with_known_future(2);
            let varmap = VarMap::new();
            let model = Model::new(&cfg, seeded_var_builder(&varmap, 1, &dev)).unwrap();
            let vars = named_vars(&varmap);
            let before = model.forward(&x, None).unwrap();
            let base = seasonal_base(&history, 7, 2).unwrap();
            let moved = (&before - &base).unwrap().abs().unwrap().max_all().unwrap();
            assert!(moved.to_scalar::<f32>().unwrap() > 1e-3, "{t}: random head");
            zero_output_layer(&vars, &cfg).unwrap();
            let after = model.forward(&x, None).unwrap();
            let diff = (&after - &base).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-6, "{t}: {diff}");
        }
    }
}
