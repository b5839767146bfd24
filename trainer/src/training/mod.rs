//! `shoptrain train`: data → windows → model → AdamW with early stopping →
//! the artifacts of ARCHITECTURE.md (Artifacts), written through the
//! `Registry` so files and index stay in step.

mod artifacts;
mod calibration;
mod checkpoint;
mod known_future_fit;
mod objective;
mod prepare;
pub mod progress;
mod run;
mod scoring;
mod series_cut;
mod successor;

pub use checkpoint::RunState;
pub use objective::{loss_value, train_step};
pub use prepare::{prepare, series_digests, Prepared};
pub use progress::{Counting, Progress, ProgressSink};
pub use scoring::{forecast_windows, EVAL_BATCH};
pub use successor::{begin_successor, Succession, Successor};

use crate::data::LoadedData;
use crate::device::{default_batch_size, select_device_for, DeviceChoice};
use crate::registry::Registry;
use anyhow::{bail, Result};
use artifacts::{new_metadata, RunSetup};
use candle_core::{Device, Tensor};
use checkpoint::{latest_epoch_checkpoint, resume_best_weights};
use run::{Run, StartState};
use shoptrain_shared::features::{Fill, NormChoice};
use shoptrain_shared::metadata::{ModelMetadata, Status, TrainConfig};
use shoptrain_shared::metrics::{Metrics, QuantileMetrics};
use shoptrain_shared::models::{ModelConfig, WEEK};
use shoptrain_shared::naming::{ModelName, ModelType, VersionedName};
use std::collections::{BTreeMap, HashMap};

/// The quantiles new models forecast unless told otherwise: P10–P90, the
/// interval a buyer orders against, around the median.
pub const DEFAULT_QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

/// Everything `train` needs besides the data: the recorded settings
/// (`config`) and how this run uses the machine.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub config: TrainConfig,
    /// Default 32 on CPU, 256 on CUDA.
    pub batch_size: Option<usize>,
    pub window: usize,
    pub horizon: usize,
    pub device: DeviceChoice,
    pub fill: Fill,
    pub norm: NormChoice,
    /// Weeks of the seasonal base new models correct (0: no base).
    pub base_weeks: usize,
    /// New models blend an ETS forecast into their seasonal base
    /// (`--base blend`, needs `base_weeks` > 0; `shoptrain_shared::hybrid`).
    pub ets_blend: bool,
    /// Data columns known for the forecast days; `None`: every data column
    /// among the features.
    pub known_future: Option<Vec<String>>,
    /// Quantile levels new models forecast (with 0.5); empty: points only.
    pub quantiles: Vec<f64>,
    /// Let validation blend a classical forecast under the network's
    /// (`shoptrain_shared::floor`); off: the network forecasts alone.
    pub floor: bool,
    /// Where the run reports its epochs (the command layer's bar, or nothing).
    pub progress: ProgressSink,
    /// Fault injection for tests: exit abruptly after this epoch's checkpoint.
    pub halt_after_epoch: Option<u32>,
}

impl TrainOptions {
    /// Whether new models' rows carry the ETS forecast their base blends in:
    /// asked for, and a base to blend (a window of at least a week).
    pub fn blends_ets(&self) -> bool {
        self.ets_blend && self.base_weeks.min(self.window / WEEK) > 0
    }

    /// These options with the inputs `meta`'s model reads (its base weeks
    /// and known-future columns), for runs that continue from its weights.
    pub fn reading_like(self, meta: &ModelMetadata) -> TrainOptions {
        TrainOptions {
            base_weeks: meta.architecture.base_weeks(),
            ets_blend: meta.architecture.ets_blend(),
            known_future: Some(
                meta.known_future
                    .as_ref()
                    .map_or_else(Vec::new, |k| k.columns.clone()),
            ),
            quantiles: meta.architecture.quantiles().to_vec(),
            ..self
        }
    }
}

impl TrainOptions {
    /// These options with every training setting `meta` recorded (epochs,
    /// learning rate, batch, window, inputs): a run that trains its model
    /// again, resumed or on newer data. The floor stays as given: a run
    /// records its choice only when it finishes.
    pub fn like(self, meta: &ModelMetadata) -> TrainOptions {
        TrainOptions {
            config: meta.training.config.clone(),
            batch_size: Some(meta.training.batch_size),
            window: meta.window,
            horizon: meta.horizon,
            norm: meta.normalization.choice(),
            fill: Fill::from_recorded(&meta.data.fill),
            ..self.reading_like(meta)
        }
    }
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            config: TrainConfig::default(),
            batch_size: None,
            window: 30,
            horizon: 7,
            device: DeviceChoice::Auto,
            fill: Fill::Zero,
            norm: NormChoice::Instance,
            base_weeks: 4,
            ets_blend: true,
            known_future: None,
            quantiles: DEFAULT_QUANTILES.to_vec(),
            floor: true,
            progress: ProgressSink::silent(),
            halt_after_epoch: None,
        }
    }
}

/// Where a run starts from.
pub enum Start {
    /// Fresh weights from the seed.
    Fresh,
    /// Weights of a parent model (`--from`).
    FineTune {
        parent: String,
        weights: HashMap<String, Tensor>,
        architecture: ModelConfig,
    },
}

/// What a finished run reports.
#[derive(Debug, serde::Serialize)]
pub struct TrainReport {
    pub prefix: String,
    pub status: Status,
    pub epochs_run: u32,
    pub best_epoch: Option<u32>,
    pub best_val_loss: Option<f64>,
    pub metrics: Option<Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantile_metrics: Option<QuantileMetrics>,
    pub baselines: BTreeMap<String, Metrics>,
    /// Baselines that could not be computed, and why.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline_errors: BTreeMap<String, String>,
    pub device: String,
    pub seconds: f64,
    pub train_windows: usize,
    pub windows_per_second: f64,
}

/// Trains a new version of `model_type` on the prepared windows. The caller
/// prepares the data and picks the device first, so that bad input fails
/// before any file is written.
pub fn train_new(
    reg: &Registry,
    data: &LoadedData,
    model_type: ModelType,
    prepared: &Prepared,
    device: &(Device, String),
    opts: &TrainOptions,
    start: Start,
) -> Result<TrainReport> {
    begin_new(reg, data, model_type, prepared, device, opts, start)?
        .train(reg, prepared, &device.0, opts)
}

/// A new run whose version is reserved and whose row says training: its
/// prefix is known before the first epoch (a batch journals it).
pub struct NewRun {
    meta: ModelMetadata,
    run_id: i64,
    start: StartState,
}

impl NewRun {
    pub fn prefix(&self) -> &str {
        &self.meta.prefix
    }

    pub fn train(
        mut self,
        reg: &Registry,
        prepared: &Prepared,
        device: &Device,
        opts: &TrainOptions,
    ) -> Result<TrainReport> {
        execute_and_record(
            reg,
            &mut self.meta,
            self.run_id,
            prepared,
            device,
            opts,
            self.start,
        )
    }
}

/// Reserves the version and records the run, as [`train_new`] does first.
pub fn begin_new(
    reg: &Registry,
    data: &LoadedData,
    model_type: ModelType,
    prepared: &Prepared,
    (device, device_name): &(Device, String),
    opts: &TrainOptions,
    start: Start,
) -> Result<NewRun> {
    let name = ModelName::new(prepared.scope.clone(), model_type);
    let version = reg.reserve_version(&name.identifier())?;
    let architecture = match &start {
        Start::FineTune { architecture, .. } => architecture.clone(),
        Start::Fresh => ModelConfig::default_for(
            model_type,
            prepared.features.len(),
            opts.window,
            opts.horizon,
        )
        .with_base_weeks(opts.base_weeks)
        .with_ets_blend(opts.ets_blend)
        .with_known_future(
            prepared
                .known_future
                .as_ref()
                .map_or(0, |k| k.columns.len()),
        )
        .with_quantiles(&opts.quantiles),
    };
    let setup = RunSetup {
        name: VersionedName::new(name, version),
        architecture,
        batch_size: opts
            .batch_size
            .unwrap_or_else(|| default_batch_size(device)),
        device_name,
        start: &start,
    };
    let meta = new_metadata(data, prepared, opts, setup)?;
    let run_id = reg.begin_run(&meta, &data.dataset.columns)?;
    let weights = match start {
        Start::Fresh => None,
        Start::FineTune { weights, .. } => Some(weights),
    };
    Ok(NewRun {
        meta,
        run_id,
        start: StartState {
            weights,
            ..StartState::default()
        },
    })
}

/// Continues an interrupted run from its latest epoch checkpoint, with the
/// settings it recorded.
pub fn resume(
    reg: &Registry,
    data: &LoadedData,
    prefix: &str,
    opts: &TrainOptions,
) -> Result<TrainReport> {
    let mut meta = reg.read_metadata(prefix)?;
    if meta.status == Status::Completed {
        bail!("{prefix} already completed; train a new version instead of resuming it");
    }
    if meta.data.sha256 != data.sha256 {
        bail!(
            "{} (sha256 {}) is not the data {prefix} was trained on (sha256 {}, {}); pass the original file with --data",
            data.path, data.sha256, meta.data.sha256, meta.data.path
        );
    }
    let resumed = latest_epoch_checkpoint(reg, prefix)?;
    let run_opts = opts.clone().like(&meta);
    let scope = meta.versioned_name()?.name.scope;
    let prepared = prepare(data, &scope, &meta.features, &run_opts)?;
    let (device, _) = select_device_for(opts.device, prepared.train.count)?;
    let run_id = reg.take_over_run(&mut meta)?;
    let best = resume_best_weights(reg, prefix, &resumed)?;
    let start = StartState {
        state: resumed.state,
        weights: Some(resumed.weights),
        opt_state: Some(resumed.opt_state),
        best,
    };
    execute_and_record(reg, &mut meta, run_id, &prepared, &device, &run_opts, start)
}

/// Runs training; on error marks the run failed (file and index) and
/// returns the error.
fn execute_and_record(
    reg: &Registry,
    meta: &mut ModelMetadata,
    run_id: i64,
    prepared: &Prepared,
    device: &Device,
    opts: &TrainOptions,
    start: StartState,
) -> Result<TrainReport> {
    let run = Run {
        reg,
        run_id,
        prepared,
        device,
        opts,
    };
    run.execute(meta, start).map_err(|e| {
        reg.fail_run(meta, &e);
        e.context(format!("training {} failed", meta.prefix))
    })
}
