//! The metadata a run starts with and the final artifacts it ends with.

use super::scoring::{baselines, classical, classical_pick, forecast_windows, quantile_score};
use super::{Prepared, Start, TrainOptions, TrainReport};
use crate::data::LoadedData;
use crate::registry::{host_name, now, user_name, Registry};
use anyhow::Result;
use candle_core::{Device, Tensor};
use shoptrain_shared::bundle::header;
use shoptrain_shared::floor::{self, Classical, Floor};
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::metadata::{
    DataInfo, HostInfo, ModelMetadata, ScopeIds, Status, TrainingInfo, SCHEMA_VERSION,
};
use shoptrain_shared::metrics::{Metrics, Quantiles};
use shoptrain_shared::models::ModelConfig;
use shoptrain_shared::naming::VersionedName;
use std::collections::BTreeMap;

fn host_info(device: &str) -> HostInfo {
    HostInfo {
        user: user_name(),
        host: host_name(),
        os: std::env::consts::OS.to_string(),
        device_name: device.to_string(),
        shoptrain_version: env!("CARGO_PKG_VERSION").to_string(),
        candle_version: shoptrain_shared::CANDLE_VERSION.to_string(),
    }
}

fn data_info(data: &LoadedData, p: &Prepared, opts: &TrainOptions) -> DataInfo {
    DataInfo {
        path: data.path.clone(),
        sha256: data.sha256.clone(),
        date_min: data.date_min.to_string(),
        date_max: data.date_max.to_string(),
        rows: data.dataset.rows.len(),
        series: p.series,
        fill: opts.fill.as_str().to_string(),
        store_version: data.store_version,
        series_sha256: p.series_sha256.clone(),
    }
}

/// What a new run records before its first epoch.
pub struct RunSetup<'a> {
    pub name: VersionedName,
    pub architecture: ModelConfig,
    pub batch_size: usize,
    pub device_name: &'a str,
    pub start: &'a Start,
}

/// The metadata of a run that is about to train.
pub fn new_metadata(
    data: &LoadedData,
    p: &Prepared,
    opts: &TrainOptions,
    setup: RunSetup,
) -> Result<ModelMetadata> {
    let scope = &p.scope;
    Ok(ModelMetadata {
        schema_version: SCHEMA_VERSION,
        prefix: setup.name.prefix(),
        model_identifier: setup.name.name.identifier(),
        mode: scope.mode(),
        scope: scope.token()?,
        scope_ids: ScopeIds {
            product: scope.product_id().map(str::to_string),
            store: scope.store_id().map(str::to_string),
        },
        model_type: setup.name.name.model_type,
        version: setup.name.version,
        status: Status::Training,
        created_at: now(),
        finished_at: None,
        architecture: setup.architecture,
        training: TrainingInfo {
            config: opts.config.clone(),
            epochs_run: 0,
            batch_size: setup.batch_size,
            device: setup.device_name.to_string(),
            duration_seconds: 0.0,
            best_epoch: None,
            best_val_loss: None,
            train_windows: p.train.count,
            val_windows: p.val.count,
            pooled: p.with_siblings,
        },
        data: data_info(data, p, opts),
        features: p.features.clone(),
        normalization: p.normalization.clone(),
        known_future: p.known_future.clone(),
        window: opts.window,
        horizon: opts.horizon,
        metrics: None,
        quantile_metrics: None,
        spread_floor: p.spread_floor,
        baselines: BTreeMap::new(),
        baseline_errors: BTreeMap::new(),
        history: Vec::new(),
        weights_sha256: None,
        parent_prefix: match setup.start {
            Start::FineTune { parent, .. } => Some(parent.clone()),
            Start::Fresh => None,
        },
        host: host_info(setup.device_name),
        error_message: None,
        deleted_at: None,
        floor: None,
        warnings: Vec::new(),
    })
}

/// What validation makes of a run's best weights.
pub struct Validated {
    /// The forecasts of the validation windows through the same
    /// `Forecaster` the browser uses, moved by the floor.
    pub forecast: Vec<f32>,
    pub quantiles: Option<Quantiles>,
    pub floor: Option<Floor>,
}

/// Forecasts the validation windows with the best weights and, when
/// `with_floor`, chooses the classical floor on them.
pub fn validate(
    meta: &ModelMetadata,
    p: &Prepared,
    best: &[(String, Tensor)],
    with_floor: bool,
) -> Result<Validated> {
    // the network alone: the floor is chosen here
    let network = ModelMetadata {
        floor: None,
        ..meta.clone()
    };
    let forecaster =
        Forecaster::from_tensors(network, best.iter().cloned().collect(), Device::Cpu)?;
    let (mut forecast, mut quantiles) = forecast_windows(&forecaster, &p.val)?;
    let mut floor = None;
    if with_floor {
        let mut candidates: Vec<(Classical, Vec<f32>)> = classical(p, meta.horizon)
            .iter()
            .filter_map(|(m, f)| f.as_ref().ok().map(|f| (*m, f.clone())))
            .collect();
        // the method chosen over every origin, if it has forecasts here
        if let Some(pick) = classical_pick(p, meta.window, meta.horizon) {
            if candidates.iter().any(|(m, _)| *m == pick) {
                candidates.retain(|(m, _)| *m == pick);
            }
        }
        let cost = |f: &[f32]| validation_metrics(p, meta.horizon, f).mase;
        if let Some((chosen, _)) = floor::choose(&forecast, &candidates, cost) {
            blend(&chosen, &candidates, &mut forecast, quantiles.as_mut());
            floor = Some(chosen);
        }
    }
    Ok(Validated {
        forecast,
        quantiles,
        floor,
    })
}

/// Point metrics of forecasts of the validation windows.
pub fn validation_metrics(p: &Prepared, horizon: usize, forecast: &[f32]) -> Metrics {
    Metrics::compute_blocks(&p.val.y_raw, forecast, horizon, &p.val_mase_scale)
}

/// Scores the best weights on the validation windows with their floor
/// ([`validate`]), then has the registry write the final artifacts.
pub fn finish(
    reg: &Registry,
    meta: &mut ModelMetadata,
    p: &Prepared,
    best: &[(String, Tensor)],
    elapsed_seconds: f64,
    with_floor: bool,
) -> Result<()> {
    let v = validate(meta, p, best, with_floor)?;
    meta.floor = v.floor;
    meta.metrics = Some(validation_metrics(p, meta.horizon, &v.forecast));
    meta.quantile_metrics = v
        .quantiles
        .and_then(|q| quantile_score(&p.val.y_raw, &q, meta.horizon, &p.val_mase_scale));
    let computed = p.baselines.get_or_init(|| baselines(p, meta.horizon));
    meta.baselines = computed.metrics.clone();
    meta.baseline_errors = computed.errors.clone();
    meta.training.duration_seconds += elapsed_seconds;
    reg.complete_run(meta, best, header(&meta.prefix, meta.model_type))
}

/// The validation forecasts moved by the chosen floor, quantiles with them.
fn blend(
    chosen: &Floor,
    candidates: &[(Classical, Vec<f32>)],
    predicted: &mut [f32],
    quantiles: Option<&mut Quantiles>,
) {
    let Some((_, classical)) = candidates.iter().find(|(m, _)| *m == chosen.classical) else {
        return;
    };
    chosen.mix(
        predicted,
        classical,
        quantiles.map(|q| q.values.as_mut_slice()),
    );
}

impl TrainReport {
    pub fn new(meta: &ModelMetadata, train_windows: usize, windows_per_second: f64) -> Self {
        TrainReport {
            prefix: meta.prefix.clone(),
            status: meta.status,
            epochs_run: meta.training.epochs_run,
            best_epoch: meta.training.best_epoch,
            best_val_loss: meta.training.best_val_loss,
            metrics: meta.metrics.clone(),
            quantile_metrics: meta.quantile_metrics.clone(),
            baselines: meta.baselines.clone(),
            baseline_errors: meta.baseline_errors.clone(),
            device: meta.training.device.clone(),
            seconds: meta.training.duration_seconds,
            train_windows,
            windows_per_second,
        }
    }
}
