//! A run from its starting weights (fresh, fine-tuned or resumed) to its
//! final artifacts: the epoch loop (`run/epochs.rs`), the quantiles'
//! calibration after it (`run/out_of_fold.rs`), the pooled trial of a short
//! series (`run/pooled.rs`), then the final scoring with the floor.

mod epochs;
mod out_of_fold;
mod pooled;

use super::artifacts::finish;
use super::checkpoint::RunState;
use super::known_future_fit::{fit, fit_blend, Layout};
use super::{Prepared, TrainOptions, TrainReport};
use crate::registry::Registry;
use crate::seeded_vars::{named_vars, seeded_var_builder};
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;
use epochs::{Trained, Trial};
use shoptrain_shared::metadata::ModelMetadata;
use shoptrain_shared::models::quantiles::SCALE;
use shoptrain_shared::models::{
    Model, ModelConfig, ETS_BLEND_LAYER, KNOWN_FUTURE_LAYER, QUANTILE_LAYER,
};
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

/// A calibrated loop outcome of a run.
struct Finalist<'a> {
    run: Run<'a>,
    trained: Trained,
}

/// Everything a run reads besides its metadata.
#[derive(Clone, Copy)]
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

impl<'a> Run<'a> {
    /// Starts the ETS blend at its best weights on the training windows,
    /// then the known-future layer at its least-squares fit around it.
    fn start_base_layers(&self, vars: &[(String, Var)], cfg: &ModelConfig) -> Result<()> {
        let set = |name: String, w: Vec<f32>, shape: &[usize]| -> Result<()> {
            let (_, var) = vars
                .iter()
                .find(|(n, _)| *n == name)
                .with_context(|| format!("the model has no {name}"))?;
            Ok(var.set(&Tensor::from_vec(w, shape, var.device())?)?)
        };
        let mut layout = Layout::of(cfg);
        if layout.ets {
            layout.blend = fit_blend(&layout, &self.prepared.train);
            let w = layout.blend.iter().map(|w| *w as f32).collect();
            set(format!("{ETS_BLEND_LAYER}.weight"), w, &[cfg.horizon()])?;
        }
        let all: Vec<usize> = (0..layout.columns).collect();
        if all.is_empty() {
            return Ok(());
        }
        let Some((relative, absolute)) = fit(&layout, &self.prepared.train, &all) else {
            return Ok(());
        };
        for (part, w) in [("relative", relative), ("absolute", absolute)] {
            let k = w.len();
            set(format!("{KNOWN_FUTURE_LAYER}.{part}.weight"), w, &[1, k])?;
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
        self.start_base_layers(vars, cfg)
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

    /// Trains until the epochs run out or patience does (and, for a short
    /// series, pooled with its siblings too: `run/pooled.rs`), then
    /// calibrates, scores and writes the final artifacts.
    pub fn execute(&self, meta: &mut ModelMetadata, start: StartState) -> Result<TrainReport> {
        let started = Instant::now();
        // from fresh weights, resumed or not; a fine-tune keeps its parent's windows
        let fresh = meta.parent_prefix.is_none();
        let (model, vars) = self.fresh_model(meta)?;
        let data = self.device_data(meta)?;
        let trained = self.train_loop(meta, &model, &vars, &data, start, Trial::No)?;
        let own = self.finalist(meta, &vars, &data, trained)?;
        let kept = match &self.prepared.pooled {
            Some(pooled) if fresh => self.choose_pooling(meta, pooled, own)?,
            _ => own,
        };
        let Finalist { run, trained } = kept;
        meta.history = trained.state.history;
        finish(
            run.reg,
            meta,
            run.prepared,
            &trained.best,
            started.elapsed().as_secs_f64(),
            run.opts.floor,
        )?;
        Ok(TrainReport::new(
            meta,
            run.prepared.train.count,
            trained.windows_per_second,
        ))
    }

    /// A loop's outcome made ready to finish: `meta` takes its epochs, its
    /// best weights their calibrated intervals.
    fn finalist(
        &self,
        meta: &mut ModelMetadata,
        vars: &[(String, Var)],
        data: &DeviceData,
        mut trained: Trained,
    ) -> Result<Finalist<'a>> {
        meta.training.epochs_run = trained.state.epoch;
        meta.training.best_epoch = trained.state.best_epoch;
        meta.training.best_val_loss = trained.state.best_val_loss;
        self.calibrate(meta, vars, data, &mut trained.best)?;
        Ok(Finalist {
            run: *self,
            trained,
        })
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
