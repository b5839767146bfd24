//! The epoch loop: shuffled mini-batches, validation, early stopping from
//! the base (epoch 0), and the checkpoints of the run's own loop.

use super::{load_weights, snapshot, trained, DeviceData, Run, StartState};
use crate::compute;
use crate::optim::AdamW;
use crate::registry::{Checkpoint, CheckpointKind};
use crate::seeded_vars::{frozen_model, stream_seed};
use crate::training::checkpoint::{best_header, RunState};
use crate::training::objective::{objective, train_step};
use crate::training::progress::Counting;
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shoptrain_shared::bundle::header;
use shoptrain_shared::metadata::{EpochRecord, Loss, ModelMetadata};
use shoptrain_shared::models::{Model, ModelConfig, Noise};
use std::time::Instant;

/// Whether a loop is the run's own (recorded in the index, checkpointed)
/// or a trial whose weights are kept only if validation prefers them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Trial {
    No,
    Pooled,
}

/// What an epoch loop ends with.
pub(super) struct Trained {
    pub best: Vec<(String, Tensor)>,
    pub state: RunState,
    pub windows_per_second: f64,
}

impl Run<'_> {
    /// The epoch loop from `start`: the best weights and where it ended. A
    /// trial (`run/pooled.rs`) writes no epoch rows or checkpoints.
    pub(super) fn train_loop(
        &self,
        meta: &ModelMetadata,
        model: &Model,
        vars: &[(String, Var)],
        data: &DeviceData,
        start: StartState,
        trial: Trial,
    ) -> Result<Trained> {
        // a fresh model with a seasonal base starts as that base (epoch 0)
        let starts_at_base = start.weights.is_none() && meta.architecture.base_weeks() > 0;
        match &start.weights {
            Some(weights) => load_weights(vars, weights, self.device)?,
            None if starts_at_base => self.set_to_the_base(vars, &meta.architecture)?,
            None => {}
        }
        let config = &meta.training.config;
        let mut opt = AdamW::new(trained(vars), config.lr, config.weight_decay)?;
        if let Some(state) = &start.opt_state {
            opt.load_state(state, start.state.step)?;
        }
        let progress = &self.opts.progress;
        let label = match trial {
            Trial::No => meta.prefix.clone(),
            Trial::Pooled => format!("{} (pooled)", meta.prefix),
        };
        progress.start(
            Counting::Epochs,
            &label,
            config.epochs as u64,
            start.state.epoch as u64,
        );
        let (mut state, mut best) = (start.state, start.best);
        if starts_at_base {
            self.start_at_the_base(meta, vars, data, &mut state, &mut best, trial)?;
        }
        let train_started = Instant::now();
        let mut windows_seen = 0usize;
        // a run resumed after patience ran out trains no further epoch
        let stopped = |s: &RunState| s.epoch > 0 && s.bad_epochs >= config.patience;
        while state.epoch < config.epochs && !stopped(&state) {
            let epoch = state.epoch + 1;
            let t0 = Instant::now();
            let train_loss = self.train_epoch(model, &mut opt, data, meta, epoch)?;
            windows_seen += self.prepared.train.count;
            let val_loss = self.validation_loss(&meta.architecture, vars, data, config.loss)?;
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
            let improved = state.record(record.clone(), opt.step);
            match trial {
                Trial::No => {
                    self.reg.record_epoch(self.run_id, &record)?;
                    self.save_checkpoints(meta, vars, &opt, &state, improved, &mut best)?;
                }
                Trial::Pooled if improved => best = Some(snapshot(vars, &Device::Cpu)?),
                Trial::Pooled => {}
            }
            progress.step(
                epoch as u64,
                &format!("train {train_loss:.4} val {val_loss:.4}"),
            );
            if trial == Trial::No && self.opts.halt_after_epoch == Some(epoch) {
                // fault injection: die like a killed process, leaving the run mid-way
                std::process::exit(86);
            }
            if state.bad_epochs >= config.patience {
                break;
            }
        }
        progress.finish();
        let seconds = train_started.elapsed().as_secs_f64();
        Ok(Trained {
            best: best.context("training ran no epoch (is --epochs 0?)")?,
            state,
            windows_per_second: windows_seen as f64 / seconds.max(1e-9),
        })
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
        trial: Trial,
    ) -> Result<()> {
        let val_loss =
            self.validation_loss(&meta.architecture, vars, data, meta.training.config.loss)?;
        state.best_val_loss = Some(val_loss);
        state.best_epoch = Some(0);
        match trial {
            Trial::No => self.save_best(meta, vars, 0, Some(val_loss), best),
            Trial::Pooled => {
                *best = Some(snapshot(vars, &Device::Cpu)?);
                Ok(())
            }
        }
    }

    /// One pass over the shuffled training windows; returns the mean loss.
    pub(super) fn train_epoch(
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
        self.save_best_weights(meta, epoch, val_loss, &weights)?;
        *best = Some(weights);
        Ok(())
    }

    /// Writes `weights` as the run's best checkpoint.
    pub(super) fn save_best_weights(
        &self,
        meta: &ModelMetadata,
        epoch: u32,
        val_loss: Option<f64>,
        weights: &[(String, Tensor)],
    ) -> Result<()> {
        let val = val_loss.unwrap_or(f64::NAN);
        let checkpoint = Checkpoint {
            kind: CheckpointKind::Best,
            epoch,
            tensors: weights,
            header: best_header(header(&meta.prefix, meta.model_type), epoch, val),
            val_loss,
        };
        self.reg
            .save_checkpoint(self.run_id, &meta.prefix, checkpoint)
    }
}
