//! The metadata a run starts with and the final artifacts it ends with.

use super::folds::earlier_fold;
use super::scoring::{baselines, classical, forecast_windows, quantile_score};
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
    /// The forecasts of the validation windows (fold A) through the same
    /// `Forecaster` the browser uses, moved by the floor.
    pub forecast: Vec<f32>,
    pub quantiles: Option<Quantiles>,
    pub floor: Option<Floor>,
    /// The mean MASE over fold A and fold B (`folds.rs`), when B exists.
    pub folds_mase: Option<f64>,
}

/// Forecasts the validation windows with the best weights and, when
/// `with_floor`, chooses the classical floor: on fold A alone, or on the
/// mean of both folds' MASE when the half-model's forecasts of fold B
/// (`earlier`, sales units) are given.
pub fn validate(
    meta: &ModelMetadata,
    p: &Prepared,
    best: &[(String, Tensor)],
    with_floor: bool,
    earlier: Option<&[f32]>,
) -> Result<Validated> {
    // the network alone: the floor is chosen here
    let network = ModelMetadata {
        floor: None,
        ..meta.clone()
    };
    let forecaster =
        Forecaster::from_tensors(network, best.iter().cloned().collect(), Device::Cpu)?;
    let (mut forecast, mut quantiles) = forecast_windows(&forecaster, &p.val)?;
    let h = meta.horizon;
    let fold_b = earlier
        .zip(earlier_fold(p, meta.window, h))
        .filter(|(f, fold)| f.len() == fold.actual.len());
    let on_a = forecast.len();
    // each candidate over fold A, then fold B when there is one
    let joined = |a: &[f32], b: Option<&[f32]>| [a, b.unwrap_or_default()].concat();
    let cost = |f: &[f32]| {
        let a = validation_metrics(p, h, &f[..on_a]).mase;
        match fold_b {
            Some((_, fold)) => (a + fold.mase(&f[on_a..], h)) / 2.0,
            None => a,
        }
    };
    let network_b = fold_b.map(|(f, _)| f);
    let mut folds_mase = fold_b.map(|_| cost(&joined(&forecast, network_b)));
    let mut floor = None;
    if with_floor {
        let candidates: Vec<(Classical, Vec<f32>)> = classical(p, h)
            .iter()
            .filter_map(|(m, f)| {
                let a = f.as_ref().ok()?;
                let b = match fold_b {
                    Some((_, fold)) => {
                        Some(fold.classical.iter().find(|(c, _)| c == m)?.1.as_slice())
                    }
                    None => None,
                };
                Some((*m, joined(a, b)))
            })
            .collect();
        let both = joined(&forecast, network_b);
        let cost_a = |f: &[f32]| validation_metrics(p, h, &f[..on_a]).mase;
        if let Some((chosen, _)) = floor::choose(&both, &candidates, cost_a) {
            let mut both_blended = both.clone();
            if let Some((_, c)) = candidates.iter().find(|(m, _)| *m == chosen.classical) {
                chosen.mix(&mut both_blended, c, None);
            }
            let c = cost(&both_blended);
            let on_fold_a: Vec<(Classical, Vec<f32>)> = candidates
                .iter()
                .map(|(m, f)| (*m, f[..on_a].to_vec()))
                .collect();
            blend(&chosen, &on_fold_a, &mut forecast, quantiles.as_mut());
            floor = Some(chosen);
            folds_mase = fold_b.map(|_| c);
        }
    }
    Ok(Validated {
        forecast,
        quantiles,
        floor,
        folds_mase,
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
    (with_floor, earlier): (bool, Option<&[f32]>),
) -> Result<()> {
    let v = validate(meta, p, best, with_floor, earlier)?;
    meta.floor = v.floor;
    let mut metrics = validation_metrics(p, meta.horizon, &v.forecast);
    metrics.folds_mase = v.folds_mase;
    meta.metrics = Some(metrics);
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
