//! What `shoptrain bench` measures: training throughput, forecast latency and peak memory
//! of each model type. Speed and memory targets are checked here, with
//! numbers a person reads, not in timed tests.
//!
//! Training is timed through `training::train_step` (the step `train` runs) on
//! real windows of every series; forecasts through the model's inference
//! forward with the read-back a forecast needs.

use crate::compute;
use crate::data::generate::{generate, GenOptions};
use crate::data::{load_csv, parse_csv, LoadedData};
use crate::device::{default_batch_size, select_device, DeviceChoice};
use crate::optim::AdamW;
use crate::seeded_vars::{frozen_model, named_vars, seeded_var_builder};
use crate::training::{prepare, train_step, TrainOptions, EVAL_BATCH};
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use shoptrain_shared::features::feature_names;
use shoptrain_shared::metadata::TrainConfig;
use shoptrain_shared::models::{Model, ModelConfig, Noise};
use shoptrain_shared::naming::{ModelType, Scope};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Untimed steps first: the first ones pay for allocation and kernel set-up.
const WARMUP_STEPS: usize = 3;
const SEED: u64 = 42;

#[derive(Debug, Serialize, Deserialize)]
pub struct BenchReport {
    pub device: String,
    pub series: usize,
    pub train_windows: usize,
    pub window: usize,
    pub horizon: usize,
    pub features: usize,
    pub models: Vec<BenchRow>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BenchRow {
    pub model_type: ModelType,
    pub parameters: usize,
    pub batch_size: usize,
    pub train_steps: usize,
    pub train_windows_per_second: f64,
    pub forecast_ms_p50: f64,
    pub forecast_ms_p95: f64,
    pub batched_windows_per_second: f64,
    /// Peak resident memory of the process that benchmarked this type alone
    /// (data included), in MiB; Unix only.
    pub peak_rss_mib: Option<f64>,
}

/// What `shoptrain bench` measures, checked.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Default: the generated sample data, built in memory.
    pub data: Option<PathBuf>,
    pub types: Vec<ModelType>,
    pub steps: usize,
    pub forecasts: usize,
    pub batch_size: Option<usize>,
    pub window: usize,
    pub horizon: usize,
    pub device: DeviceChoice,
}

/// Measures every type in `args`: each in a process of its own when there
/// are several (peak memory is per process), else here.
pub fn measure(args: &BenchOptions) -> Result<BenchReport> {
    if args.types.len() > 1 {
        each_type_in_own_process(args)
    } else {
        bench_here(args)
    }
}

/// Peak memory is per process, so each type runs in a child of its own.
fn each_type_in_own_process(args: &BenchOptions) -> Result<BenchReport> {
    let exe = std::env::current_exe().context("cannot find the shoptrain executable")?;
    let mut merged: Option<BenchReport> = None;
    for t in &args.types {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["--json", "--quiet", "bench", "--model", &t.to_string()])
            .args(["--steps", &args.steps.to_string()])
            .args(["--forecasts", &args.forecasts.to_string()])
            .args(["--window", &args.window.to_string()])
            .args(["--horizon", &args.horizon.to_string()]);
        if let Some(device) = args.device.to_possible_value() {
            cmd.args(["--device", device.get_name()]);
        }
        if let Some(b) = args.batch_size {
            cmd.args(["--batch-size", &b.to_string()]);
        }
        if let Some(data) = &args.data {
            cmd.arg("--data").arg(data);
        }
        let out = cmd
            .output()
            .context("cannot start the bench of one model type")?;
        if !out.status.success() {
            bail!(
                "the {t} bench failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let report: BenchReport = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("the {t} bench printed no report"))?;
        match &mut merged {
            Some(m) => m.models.extend(report.models),
            None => merged = Some(report),
        }
    }
    merged.context("no model types to bench")
}

fn bench_here(args: &BenchOptions) -> Result<BenchReport> {
    let data = bench_data(args)?;
    let opts = TrainOptions {
        config: TrainConfig {
            seed: SEED,
            ..TrainConfig::default()
        },
        batch_size: args.batch_size,
        window: args.window,
        horizon: args.horizon,
        device: args.device,
        // the networks alone, as `torch_ref.py` has them
        known_future: Some(Vec::new()),
        ets_blend: false,
        ..TrainOptions::default()
    };
    let features = feature_names(&data.dataset.columns[1..]);
    let prepared = prepare(&data, &Scope::Global, &features, &opts)?;
    let (device, device_name) = select_device(args.device)?;
    let batch = args
        .batch_size
        .unwrap_or_else(|| default_batch_size(&device));
    let (w, f, h) = (args.window, features.len(), args.horizon);
    let n = prepared.train.count;
    if n < batch {
        bail!("the data gives {n} training windows, fewer than one batch of {batch}; use more data or a smaller --batch-size");
    }
    let x = Tensor::from_slice(&prepared.train.x, (n, w * f), &device)?;
    let y = Tensor::from_slice(&prepared.train.y, (n, h), &device)?;
    let mut models = Vec::new();
    for &t in &args.types {
        let cfg = ModelConfig::default_for(t, f, w, h);
        models.push(bench_model(&cfg, &x, &y, batch, args, &device)?);
    }
    Ok(BenchReport {
        device: device_name,
        series: prepared.series,
        train_windows: n,
        window: w,
        horizon: h,
        features: f,
        models,
    })
}

fn bench_data(args: &BenchOptions) -> Result<LoadedData> {
    match &args.data {
        Some(path) => load_csv(path, None),
        None => parse_csv(
            generate(&GenOptions::default()).as_bytes(),
            "generated sample data",
            None,
        ),
    }
}

fn bench_model(
    cfg: &ModelConfig,
    x: &Tensor,
    y: &Tensor,
    batch: usize,
    args: &BenchOptions,
    device: &Device,
) -> Result<BenchRow> {
    let varmap = VarMap::new();
    let model = Model::new(cfg, seeded_var_builder(&varmap, SEED, device))?;
    let vars = named_vars(&varmap);
    let parameters = vars.iter().map(|(_, v)| v.elem_count()).sum();
    let mut opt = AdamW::new(vars, 1e-3, 1e-4)?;
    let noise = Noise::new(SEED);
    let n = x.dim(0)?;
    let batch_at = |step: usize| -> Result<(Tensor, Tensor)> {
        let start = (step * batch) % (n - batch + 1);
        Ok((x.narrow(0, start, batch)?, y.narrow(0, start, batch)?))
    };
    for step in 0..WARMUP_STEPS {
        let (xb, yb) = batch_at(step)?;
        train_step(
            &model,
            &mut opt,
            (&xb, &yb),
            &noise,
            TrainConfig::default().loss,
        )?
        .to_scalar::<f32>()?;
    }
    let t0 = Instant::now();
    let mut total = Tensor::zeros((), candle_core::DType::F32, device)?;
    for step in 0..args.steps {
        let (xb, yb) = batch_at(WARMUP_STEPS + step)?;
        total = (total
            + train_step(
                &model,
                &mut opt,
                (&xb, &yb),
                &noise,
                TrainConfig::default().loss,
            )?)?;
    }
    // reading the loss back waits for every queued step (CUDA is asynchronous)
    total.to_scalar::<f32>()?;
    let train_secs = t0.elapsed().as_secs_f64();

    // forecasts as `predict` makes them: no autograd graph, many windows
    // split into row blocks side by side
    let model = frozen_model(cfg, &named_vars(&varmap), device)?;
    let mut times = Vec::with_capacity(args.forecasts);
    for i in 0..args.forecasts {
        let xi = x.narrow(0, i % n, 1)?;
        let t = Instant::now();
        model.forward(&xi, None)?.to_vec2::<f32>()?;
        times.push(t.elapsed());
    }
    let big = x.narrow(0, 0, n.min(EVAL_BATCH))?;
    let forecast_big = || {
        compute::in_row_blocks(
            device,
            big.dim(0)?,
            compute::FORECAST_BLOCK,
            |start, len| {
                Ok(model
                    .forward(&big.narrow(0, start, len)?, None)?
                    .to_vec2::<f32>()?)
            },
        )
    };
    forecast_big()?;
    let t = Instant::now();
    let reps = 3;
    for _ in 0..reps {
        forecast_big()?;
    }
    let batched_secs = t.elapsed().as_secs_f64();
    Ok(BenchRow {
        model_type: cfg.model_type(),
        parameters,
        batch_size: batch,
        train_steps: args.steps,
        train_windows_per_second: (args.steps * batch) as f64 / train_secs,
        forecast_ms_p50: percentile_ms(&mut times, 0.50),
        forecast_ms_p95: percentile_ms(&mut times, 0.95),
        batched_windows_per_second: (reps * big.dim(0)?) as f64 / batched_secs,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The nearest-rank percentile of durations, in milliseconds.
fn percentile_ms(times: &mut [Duration], q: f64) -> f64 {
    times.sort();
    let rank = ((q * times.len() as f64).ceil() as usize).clamp(1, times.len());
    times[rank - 1].as_secs_f64() * 1e3
}

#[cfg(unix)]
fn peak_rss_mib() -> Option<f64> {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    // ru_maxrss is in KiB on Linux and in bytes on macOS
    let kib = if cfg!(target_os = "macos") {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        usage.ru_maxrss as f64
    };
    Some(kib / 1024.0)
}

#[cfg(not(unix))]
fn peak_rss_mib() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut t: Vec<Duration> = (1..=20).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&mut t, 0.50), 10.0);
        assert_eq!(percentile_ms(&mut t, 0.95), 19.0);
        assert_eq!(percentile_ms(&mut t[..1], 0.95), 1.0);
    }
}
