//! `shoptrain train`: data → windows → model → AdamW with early stopping →
//! every artifact of DESIGN §4, index rows kept in step.

use crate::atomic::write_atomic;
use crate::data::LoadedData;
use crate::device::{default_batch_size, select_device, DeviceChoice};
use crate::optim::{AdamW, OPT_M, OPT_V};
use crate::plot::draw_loss_curve;
use crate::registry::{host_name, user_name, Registry};
use crate::seeded_vars::{named_vars, seeded_var_builder, stream_seed};
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shoptrain_shared::features::{feature_rows, make_windows, Fill, Normalization, Split, Windows};
use shoptrain_shared::forecast::{
    read_weights, sha256_hex, to_sales, Forecaster, FORMAT_KEY, FORMAT_VALUE, MODEL_TYPE_KEY,
    PREFIX_KEY,
};
use shoptrain_shared::metadata::{
    DataInfo, EpochRecord, HostInfo, ModelMetadata, ScopeIds, Status, TrainingInfo, SCHEMA_VERSION,
};
use shoptrain_shared::metrics::{moving_average, seasonal_naive, seasonal_naive_scale, Metrics};
use shoptrain_shared::models::{Model, ModelConfig, Noise};
use shoptrain_shared::naming::{Artifact, ModelName, ModelType, Scope, VersionedName};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// How product and store models normalise (global models always use instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum NormChoice {
    /// Each input window by its own statistics (RevIN-style): follows level shifts.
    #[default]
    Instance,
    /// Per-feature statistics fitted on the training part.
    Fitted,
}

/// Everything `train` needs besides the data.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub epochs: u32,
    pub batch_size: Option<usize>,
    pub lr: f64,
    pub weight_decay: f64,
    pub window: usize,
    pub horizon: usize,
    pub seed: u64,
    pub device: DeviceChoice,
    pub checkpoint_every: u32,
    pub patience: u32,
    pub val_ratio: f64,
    pub fill: Fill,
    pub norm: NormChoice,
    pub quiet: bool,
    /// Fault injection for tests: exit abruptly after this epoch's checkpoint.
    pub halt_after_epoch: Option<u32>,
}

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
    if !(0.0..1.0).contains(&opts.val_ratio) || opts.val_ratio == 0.0 {
        bail!(
            "--val-ratio must be between 0 and 1 (exclusive), got {}",
            opts.val_ratio
        );
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
    };
    for s in &series {
        let rows = feature_rows(s, features)?;
        let split = Split::new(
            &s.label,
            rows.len(),
            opts.window,
            opts.horizon,
            opts.val_ratio,
        )?;
        let train_rows = split.train_rows(opts.window, opts.horizon);
        let norm = if global || opts.norm == NormChoice::Instance {
            Normalization::Instance
        } else {
            Normalization::fit(&rows[..train_rows])
        };
        out.train.extend(make_windows(
            &rows,
            &norm,
            opts.window,
            opts.horizon,
            0,
            split.train,
        ));
        out.val.extend(make_windows(
            &rows,
            &norm,
            opts.window,
            opts.horizon,
            split.train,
            split.val,
        ));
        let sales: Vec<f32> = rows[..train_rows].iter().map(|r| r[0]).collect();
        let scale = seasonal_naive_scale(&sales, 7);
        out.val_mase_scale
            .extend(std::iter::repeat_n(scale, split.val));
        out.normalization = norm;
    }
    Ok(out)
}

/// Windows per forward when validating and scoring: bounds inference memory
/// (`shoptrain bench` measures it with the same size).
pub const EVAL_BATCH: usize = 256;

/// One optimiser step on a batch (dropout on); returns the detached MSE loss.
/// Shared by training and `shoptrain bench`, so the bench times the real step.
pub fn train_step(
    model: &Model,
    opt: &mut AdamW,
    x: &Tensor,
    y: &Tensor,
    noise: &Noise,
) -> Result<Tensor> {
    let pred = model.forward(x, Some(noise))?;
    let loss = candle_nn::loss::mse(&pred, y)?;
    opt.backward_step(&loss)?;
    Ok(loss.detach())
}

/// Metrics where each window has its own MASE denominator.
pub fn score(actual: &[f32], predicted: &[f32], horizon: usize, scales: &[f64]) -> Metrics {
    let mut m = Metrics::compute(actual, predicted, 1.0);
    let n = actual.len().min(predicted.len());
    let scaled: f64 = (0..n)
        .map(|i| (predicted[i] as f64 - actual[i] as f64).abs() / scales[i / horizon])
        .sum();
    m.mase = scaled / n.max(1) as f64;
    m
}

/// Naive baselines on the validation windows, by name.
fn baselines(p: &Prepared, horizon: usize) -> BTreeMap<String, Metrics> {
    let mut out = BTreeMap::new();
    let hist = &p.val.history_sales;
    if hist.first().is_some_and(|h| h.len() >= 7) {
        let f: Vec<f32> = hist
            .iter()
            .flat_map(|h| seasonal_naive(h, horizon, 7))
            .collect();
        out.insert(
            "seasonal_naive_7".into(),
            score(&p.val.y_raw, &f, horizon, &p.val_mase_scale),
        );
    }
    let f: Vec<f32> = hist
        .iter()
        .flat_map(|h| moving_average(h, horizon, 7))
        .collect();
    out.insert(
        "moving_average_7".into(),
        score(&p.val.y_raw, &f, horizon, &p.val_mase_scale),
    );
    out
}

/// Forecasts of a forecaster for normalised windows, in sales units.
pub fn forecast_windows(f: &Forecaster, w: &Windows) -> Result<Vec<f32>> {
    let per = f.meta.window * f.meta.features.len();
    let h = f.meta.horizon;
    let mut out = Vec::with_capacity(w.count * h);
    for start in (0..w.count).step_by(EVAL_BATCH) {
        let n = (w.count - start).min(EVAL_BATCH);
        let z = f.forward_normalized(&w.x[start * per..(start + n) * per], n)?;
        for (i, v) in z.iter().enumerate() {
            out.push(to_sales(w.scales[start + i / h].denormalize(*v)));
        }
    }
    Ok(out)
}

/// Serialises named tensors with a safetensors header and writes atomically;
/// returns `(bytes, sha256)`.
pub fn save_safetensors(
    path: &std::path::Path,
    tensors: &[(String, Tensor)],
    info: HashMap<String, String>,
) -> Result<(u64, String)> {
    let cpu: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.to_device(&Device::Cpu)?.to_dtype(DType::F32)?)))
        .collect::<Result<_>>()?;
    let bytes = safetensors::serialize(cpu.iter().map(|(n, t)| (n.as_str(), t)), Some(info))
        .context("cannot serialise weights")?;
    write_atomic(path, &bytes)?;
    Ok((bytes.len() as u64, sha256_hex(&bytes)))
}

fn header(meta: &ModelMetadata) -> HashMap<String, String> {
    HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT_VALUE.to_string()),
        (PREFIX_KEY.to_string(), meta.prefix.clone()),
        (MODEL_TYPE_KEY.to_string(), meta.model_type.to_string()),
    ])
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
    pub status: String,
    pub epochs_run: u32,
    pub best_epoch: Option<u32>,
    pub best_val_loss: Option<f64>,
    pub metrics: Option<Metrics>,
    pub baselines: BTreeMap<String, Metrics>,
    pub device: String,
    pub seconds: f64,
    pub train_windows: usize,
    pub windows_per_second: f64,
}

struct Progress {
    epoch: u32,
    step: u64,
    best_epoch: Option<u32>,
    best_val_loss: Option<f64>,
    /// Weights of the best epoch so far, sorted by name.
    best_weights: Option<Vec<(String, Tensor)>>,
    bad_epochs: u32,
    history: Vec<EpochRecord>,
}

fn sorted(tensors: HashMap<String, Tensor>) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = tensors.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The best weights a resumed run starts from. Each epoch writes its epoch
/// checkpoint before the best checkpoint, so a kill between the two leaves
/// the best epoch's weights in the epoch checkpoint itself.
fn resume_best_weights(
    reg: &Registry,
    prefix: &str,
    progress: &Progress,
    checkpoint: &HashMap<String, Tensor>,
) -> Result<Option<Vec<(String, Tensor)>>> {
    let Some(best) = progress.best_epoch else {
        return Ok(None);
    };
    if best == progress.epoch {
        return Ok(Some(sorted(checkpoint.clone())));
    }
    let rel = Artifact::BestCheckpoint.file_name(prefix);
    let bytes = std::fs::read(reg.dir.join(&rel))
        .with_context(|| format!("cannot read {rel}, the weights of best epoch {best}"))?;
    let (tensors, info) = read_weights(&bytes).with_context(|| format!("checkpoint {rel}"))?;
    match info.get("epoch").and_then(|e| e.parse::<u32>().ok()) {
        Some(e) if e == best => {}
        // Written by the killed run after its last epoch checkpoint: the
        // resumed run re-runs that epoch and replaces these weights then.
        Some(e) if e > progress.epoch => {}
        found => bail!(
            "{rel} holds epoch {found:?}, but the run recorded epoch {best} as its best; its best weights are lost, so train a new version"
        ),
    }
    Ok(Some(sorted(tensors)))
}

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

/// Trains a new version of `model_type` on the prepared windows. The caller
/// prepares the data and picks the device first, so that bad input fails
/// before any file is written.
pub fn train_new(
    reg: &Registry,
    data: &LoadedData,
    model_type: ModelType,
    prepared: &Prepared,
    (device, device_name): &(Device, String),
    opts: &TrainOptions,
    start: Start,
) -> Result<TrainReport> {
    let scope = &prepared.scope;
    let features = prepared.features.clone();
    let name = ModelName::new(scope.clone(), model_type);
    let version = reg.versions().reserve(&name.identifier())?;
    let vname = VersionedName::new(name, version);
    let architecture = match &start {
        Start::FineTune { architecture, .. } => architecture.clone(),
        Start::Fresh => {
            ModelConfig::default_for(model_type, features.len(), opts.window, opts.horizon)
        }
    };
    let batch_size = opts
        .batch_size
        .unwrap_or_else(|| default_batch_size(device));
    let meta = ModelMetadata {
        schema_version: SCHEMA_VERSION,
        prefix: vname.prefix(),
        model_identifier: vname.name.identifier(),
        mode: scope.mode(),
        scope: scope.token()?,
        scope_ids: ScopeIds {
            product: scope.product_id().map(str::to_string),
            store: scope.store_id().map(str::to_string),
        },
        model_type,
        version,
        status: Status::Training,
        created_at: crate::index::now(),
        finished_at: None,
        architecture,
        training: TrainingInfo {
            epochs_requested: opts.epochs,
            epochs_run: 0,
            batch_size,
            lr: opts.lr,
            weight_decay: opts.weight_decay,
            seed: opts.seed,
            patience: opts.patience,
            val_ratio: opts.val_ratio,
            checkpoint_every: opts.checkpoint_every,
            device: device_name.clone(),
            duration_seconds: 0.0,
            best_epoch: None,
            best_val_loss: None,
            train_windows: prepared.train.count,
            val_windows: prepared.val.count,
        },
        data: DataInfo {
            path: data.path.clone(),
            sha256: data.sha256.clone(),
            date_min: data.date_min.to_string(),
            date_max: data.date_max.to_string(),
            rows: data.dataset.rows.len(),
            series: prepared.series,
            fill: opts.fill.as_str().to_string(),
        },
        features,
        normalization: prepared.normalization.clone(),
        window: opts.window,
        horizon: opts.horizon,
        metrics: None,
        baselines: BTreeMap::new(),
        history: Vec::new(),
        weights_sha256: None,
        parent_prefix: match &start {
            Start::FineTune { parent, .. } => Some(parent.clone()),
            Start::Fresh => None,
        },
        host: host_info(device_name),
        error_message: None,
        deleted_at: None,
    };
    reg.write_metadata(&meta)?;
    let dataset_id = reg.index.upsert_dataset(&meta, &data.dataset.columns)?;
    let model_id =
        reg.index
            .insert_model(&meta, dataset_id, Some(std::process::id()), &host_name())?;
    let progress = Progress {
        epoch: 0,
        step: 0,
        best_epoch: None,
        best_val_loss: None,
        best_weights: None,
        bad_epochs: 0,
        history: Vec::new(),
    };
    let init = match start {
        Start::Fresh => None,
        Start::FineTune { weights, .. } => Some(weights),
    };
    run_and_record(
        reg, meta, model_id, prepared, device, opts, progress, init, None,
    )
}

/// Continues an interrupted run from its latest epoch checkpoint.
pub fn resume(
    reg: &Registry,
    data: &LoadedData,
    prefix: &str,
    opts: &TrainOptions,
) -> Result<TrainReport> {
    let meta = reg.read_metadata(prefix)?;
    if meta.status == Status::Completed {
        bail!("{prefix} already completed; train a new version instead of resuming it");
    }
    if meta.data.sha256 != data.sha256 {
        bail!(
            "{} (sha256 {}) is not the data {prefix} was trained on (sha256 {}, {}); pass the original file with --data",
            data.path, data.sha256, meta.data.sha256, meta.data.path
        );
    }
    let latest = reg
        .checkpoint_files(prefix)
        .into_iter()
        .filter_map(|(k, rel)| match k {
            Artifact::EpochCheckpoint(n) => Some((n, rel)),
            _ => None,
        })
        .max_by_key(|(n, _)| *n)
        .with_context(|| {
            format!(
                "{prefix} has no epoch checkpoint to resume from (train with --checkpoint-every 1)"
            )
        })?;
    let bytes = std::fs::read(reg.dir.join(&latest.1))?;
    let (tensors, info) =
        read_weights(&bytes).with_context(|| format!("checkpoint {}", latest.1))?;
    let field = |k: &str| {
        info.get(k)
            .with_context(|| format!("checkpoint {} lacks {k}", latest.1))
    };
    let history: Vec<EpochRecord> = serde_json::from_str(field("history")?)?;
    let mut progress = Progress {
        epoch: field("epoch")?.parse()?,
        step: field("step")?.parse()?,
        best_epoch: field("best_epoch")?.parse().ok(),
        best_val_loss: field("best_val_loss")?.parse().ok(),
        best_weights: None,
        bad_epochs: field("bad_epochs")?.parse()?,
        history,
    };
    let scope = meta.versioned_name()?.name.scope;
    let run_opts = TrainOptions {
        epochs: meta.training.epochs_requested,
        batch_size: Some(meta.training.batch_size),
        lr: meta.training.lr,
        weight_decay: meta.training.weight_decay,
        window: meta.window,
        horizon: meta.horizon,
        seed: meta.training.seed,
        checkpoint_every: meta.training.checkpoint_every,
        patience: meta.training.patience,
        val_ratio: meta.training.val_ratio,
        norm: match meta.normalization {
            Normalization::Instance => NormChoice::Instance,
            Normalization::Fitted { .. } => NormChoice::Fitted,
        },
        fill: Fill::from_recorded(&meta.data.fill),
        ..opts.clone()
    };
    let prepared = prepare(data, &scope, &meta.features, &run_opts)?;
    let (device, _) = select_device(opts.device)?;
    let model_id = reg
        .index
        .find(prefix)?
        .with_context(|| format!("{prefix} has no index row; run `shoptrain index rebuild`"))?
        .id;
    let mut meta = meta;
    meta.status = Status::Training;
    meta.error_message = None;
    reg.write_metadata(&meta)?;
    reg.index
        .set_owner(prefix, std::process::id(), &host_name())?;
    reg.index.update_from_metadata(&meta)?;
    let opt_state: HashMap<String, Tensor> = tensors
        .iter()
        .filter(|(n, _)| n.starts_with(OPT_M) || n.starts_with(OPT_V))
        .map(|(n, t)| (n.clone(), t.clone()))
        .collect();
    let weights: HashMap<String, Tensor> = tensors
        .into_iter()
        .filter(|(n, _)| !n.starts_with(OPT_M) && !n.starts_with(OPT_V))
        .collect();
    progress.best_weights = resume_best_weights(reg, prefix, &progress, &weights)?;
    run_and_record(
        reg,
        meta,
        model_id,
        &prepared,
        &device,
        &run_opts,
        progress,
        Some(weights),
        Some(opt_state),
    )
}

/// Runs training; on error marks the run failed (file and index) and returns the error.
#[allow(clippy::too_many_arguments)]
fn run_and_record(
    reg: &Registry,
    mut meta: ModelMetadata,
    model_id: i64,
    prepared: &Prepared,
    device: &Device,
    opts: &TrainOptions,
    progress: Progress,
    init: Option<HashMap<String, Tensor>>,
    opt_state: Option<HashMap<String, Tensor>>,
) -> Result<TrainReport> {
    match run(
        reg, &mut meta, model_id, prepared, device, opts, progress, init, opt_state,
    ) {
        Ok(report) => Ok(report),
        Err(e) => {
            meta.status = Status::Failed;
            meta.finished_at = Some(crate::index::now());
            meta.error_message = Some(format!("{e:#}"));
            // best effort: the original error matters more than a second one
            let _ = reg.write_metadata(&meta);
            let _ = reg.index.update_from_metadata(&meta);
            Err(e.context(format!("training {} failed", meta.prefix)))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    reg: &Registry,
    meta: &mut ModelMetadata,
    model_id: i64,
    p: &Prepared,
    device: &Device,
    opts: &TrainOptions,
    mut progress: Progress,
    init: Option<HashMap<String, Tensor>>,
    opt_state: Option<HashMap<String, Tensor>>,
) -> Result<TrainReport> {
    let started = Instant::now();
    let varmap = VarMap::new();
    let model = Model::new(
        &meta.architecture,
        seeded_var_builder(&varmap, meta.training.seed, device),
    )?;
    let vars = named_vars(&varmap);
    if let Some(weights) = init {
        for (name, var) in &vars {
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
    }
    let mut opt = AdamW::new(vars.clone(), meta.training.lr, meta.training.weight_decay)?;
    if let Some(state) = opt_state {
        opt.load_state(&state, progress.step)?;
    }
    let (w, f, h) = (meta.window, meta.features.len(), meta.horizon);
    let n_train = p.train.count;
    let x_train = Tensor::from_slice(&p.train.x, (n_train, w, f), device)?;
    let y_train = Tensor::from_slice(&p.train.y, (n_train, h), device)?;
    let x_val = Tensor::from_slice(&p.val.x, (p.val.count, w, f), device)?;
    let y_val = Tensor::from_slice(&p.val.y, (p.val.count, h), device)?;
    let batch = meta.training.batch_size.max(1);
    let bar = if opts.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(opts.epochs as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] epoch {pos}/{len} {msg} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(meta.prefix.clone());
        bar.set_position(progress.epoch as u64);
        bar
    };
    let mut best_weights = progress.best_weights.take();
    let train_started = Instant::now();
    let mut windows_seen = 0usize;
    while progress.epoch < meta.training.epochs_requested {
        let epoch = progress.epoch + 1;
        let t0 = Instant::now();
        let mut order: Vec<u32> = (0..n_train as u32).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream_seed(
            meta.training.seed,
            &format!("shuffle{epoch}"),
        )));
        let noise = Noise::new(stream_seed(meta.training.seed, &format!("dropout{epoch}")));
        let mut total = Tensor::zeros((), DType::F32, device)?;
        for chunk in order.chunks(batch) {
            let idx = Tensor::from_slice(chunk, chunk.len(), device)?;
            let xb = x_train.index_select(&idx, 0)?;
            let yb = y_train.index_select(&idx, 0)?;
            let loss = train_step(&model, &mut opt, &xb, &yb, &noise)?;
            // accumulated on the device: read back once per epoch, not per step
            total = (total + (loss * chunk.len() as f64)?)?;
        }
        windows_seen += n_train;
        let train_loss = total.to_scalar::<f32>()? as f64 / n_train.max(1) as f64;
        let mut val_total = 0.0f64;
        for start in (0..p.val.count).step_by(EVAL_BATCH) {
            let n = (p.val.count - start).min(EVAL_BATCH);
            let pred = model.forward(&x_val.narrow(0, start, n)?, None)?;
            let l = candle_nn::loss::mse(&pred, &y_val.narrow(0, start, n)?)?.to_scalar::<f32>()?
                as f64;
            val_total += l * n as f64;
        }
        let val_loss = val_total / p.val.count.max(1) as f64;
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
        reg.index.add_epoch(model_id, &record)?;
        progress.history.push(record);
        progress.epoch = epoch;
        progress.step = opt.step;
        let improved = progress.best_val_loss.is_none_or(|b| val_loss < b);
        if improved {
            progress.best_val_loss = Some(val_loss);
            progress.best_epoch = Some(epoch);
            progress.bad_epochs = 0;
        } else {
            progress.bad_epochs += 1;
        }
        // The epoch checkpoint goes first: a run killed before the best
        // checkpoint below is written still has this epoch's weights on disk.
        if meta.training.checkpoint_every > 0
            && epoch.is_multiple_of(meta.training.checkpoint_every)
        {
            let mut tensors: Vec<(String, Tensor)> = vars
                .iter()
                .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
                .collect();
            tensors.extend(opt.state());
            let mut info = header(meta);
            for (k, v) in [
                ("epoch", epoch.to_string()),
                ("step", opt.step.to_string()),
                (
                    "best_epoch",
                    progress
                        .best_epoch
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                ),
                (
                    "best_val_loss",
                    progress
                        .best_val_loss
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                ),
                ("bad_epochs", progress.bad_epochs.to_string()),
                ("history", serde_json::to_string(&progress.history)?),
            ] {
                info.insert(k.into(), v);
            }
            let rel = Artifact::EpochCheckpoint(epoch).file_name(&meta.prefix);
            let (bytes, sha) = save_safetensors(&reg.dir.join(&rel), &tensors, info)?;
            reg.index.add_checkpoint(
                model_id,
                epoch,
                "epoch",
                &rel,
                bytes,
                &sha,
                Some(val_loss),
            )?;
        }
        if improved {
            let weights: Vec<(String, Tensor)> = vars
                .iter()
                .map(|(n, v)| Ok((n.clone(), v.as_tensor().to_device(&Device::Cpu)?)))
                .collect::<Result<_>>()?;
            let rel = Artifact::BestCheckpoint.file_name(&meta.prefix);
            let mut info = header(meta);
            info.insert("epoch".into(), epoch.to_string());
            info.insert("val_loss".into(), val_loss.to_string());
            let (bytes, sha) = save_safetensors(&reg.dir.join(&rel), &weights, info)?;
            reg.index
                .add_checkpoint(model_id, epoch, "best", &rel, bytes, &sha, Some(val_loss))?;
            best_weights = Some(weights);
        }
        bar.set_message(format!("train {train_loss:.4} val {val_loss:.4}"));
        bar.set_position(epoch as u64);
        if opts.halt_after_epoch == Some(epoch) {
            // fault injection: die like a killed process, leaving the run mid-way
            std::process::exit(86);
        }
        if progress.bad_epochs >= meta.training.patience {
            break;
        }
    }
    bar.finish_and_clear();
    let train_seconds = train_started.elapsed().as_secs_f64();
    let best = best_weights.context("training ran no epoch (is --epochs 0?)")?;

    // Final weights = best validation weights; scored through the same
    // Forecaster the browser uses.
    meta.training.epochs_run = progress.epoch;
    meta.training.best_epoch = progress.best_epoch;
    meta.training.best_val_loss = progress.best_val_loss;
    meta.history = progress.history.clone();
    let forecaster =
        Forecaster::from_tensors(meta.clone(), best.iter().cloned().collect(), Device::Cpu)?;
    let predicted = forecast_windows(&forecaster, &p.val)?;
    meta.metrics = Some(score(
        &p.val.y_raw,
        &predicted,
        meta.horizon,
        &p.val_mase_scale,
    ));
    meta.baselines = baselines(p, meta.horizon);
    let title = format!("{} — loss per epoch", meta.prefix);
    draw_loss_curve(
        &reg.path(&meta.prefix, Artifact::LossCurve),
        &title,
        &meta.history,
        meta.training.best_epoch,
    )?;
    let (_, sha) = save_safetensors(
        &reg.path(&meta.prefix, Artifact::Weights),
        &best,
        header(meta),
    )?;
    meta.weights_sha256 = Some(sha);
    meta.training.duration_seconds += started.elapsed().as_secs_f64();
    meta.status = Status::Completed;
    meta.finished_at = Some(crate::index::now());
    reg.write_metadata(meta)?;
    reg.index.update_from_metadata(meta)?;
    Ok(TrainReport {
        prefix: meta.prefix.clone(),
        status: meta.status.as_str().into(),
        epochs_run: meta.training.epochs_run,
        best_epoch: meta.training.best_epoch,
        best_val_loss: meta.training.best_val_loss,
        metrics: meta.metrics.clone(),
        baselines: meta.baselines.clone(),
        device: meta.training.device.clone(),
        seconds: meta.training.duration_seconds,
        train_windows: n_train,
        windows_per_second: windows_seen as f64 / train_seconds.max(1e-9),
    })
}
