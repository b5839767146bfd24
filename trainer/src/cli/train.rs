//! `train`'s arguments: the series selection and the training settings.

use super::{check_batch_size, ModelChoice};
use crate::backtest::Refit;
use crate::batch::{cores, BatchPlan, Each, Shard};
use crate::commands::backtest::BacktestRequest;
use crate::commands::train::{TrainRequest, TrainStart};
use crate::device::DeviceChoice;
use crate::training::TrainOptions;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use shoptrain_shared::features::{Fill, NormChoice};
use shoptrain_shared::metadata::TrainConfig;
use shoptrain_shared::models::check_levels;
use shoptrain_shared::naming::{Mode, Scope};
use std::path::PathBuf;

/// Which series a model learns from.
#[derive(Args, Debug)]
pub struct SelectionArgs {
    #[arg(long, value_enum, default_value_t = Mode::Product)]
    pub mode: Mode,
    /// Product id (product mode), or one product / `all` (store mode).
    #[arg(long)]
    pub product: Option<String>,
    /// Store id or `all` (product mode), or the store (store mode).
    #[arg(long)]
    pub store: Option<String>,
}

fn not_all(v: Option<&str>) -> Option<&str> {
    v.filter(|v| *v != "all")
}

impl SelectionArgs {
    /// The scope of `--mode/--product/--store`.
    pub fn scope(&self) -> Result<Scope> {
        let (product, store) = (self.product.as_deref(), self.store.as_deref());
        Ok(match self.mode {
            Mode::Product => {
                let p = product.context("--mode product needs --product ID")?;
                Scope::product(p, not_all(store))?
            }
            Mode::Store => {
                let s = store.context("--mode store needs --store ID")?;
                Scope::store(s, not_all(product))?
            }
            Mode::Global => {
                if product.is_some() || store.is_some() {
                    bail!("--mode global trains on every series; drop --product/--store");
                }
                Scope::Global
            }
        })
    }
}

/// What a new model's output is added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Base {
    /// The seasonal mean moved toward an ETS forecast fitted on the
    /// history, by a weight per forecast day the model learns (QUALITY.md,
    /// experiment 33): the network forecasts a correction to that.
    Blend,
    /// Nothing: the network forecasts the days itself.
    Zero,
    /// The same weekday's mean sales over the last `--base-weeks` weeks:
    /// the network forecasts a correction to them.
    Seasonal,
}

/// Window, horizon, batch and device: what `train`, `backtest` and `bench`
/// all take.
#[derive(Args, Debug)]
pub struct ShapeFlags {
    /// Default 32 on CPU, 256 on CUDA.
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 30)]
    pub window: usize,
    #[arg(long, default_value_t = 7)]
    pub horizon: usize,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
}

/// The settings every training run takes (`train` and `backtest`).
#[derive(Args, Debug)]
pub struct TrainingFlags {
    #[command(flatten)]
    pub config: TrainConfig,
    #[command(flatten)]
    pub shape: ShapeFlags,
    /// Extra numeric columns to use as features (comma-separated); default: all.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "zero")]
    pub fill: Fill,
    /// Normalisation of product/store models (global models always use instance).
    #[arg(long, value_enum, default_value = "instance")]
    pub norm: NormChoice,
    /// What a new model's output is added to (QUALITY.md, experiments 8 and 15).
    #[arg(long, value_enum, default_value = "blend")]
    pub base: Base,
    /// Weeks the seasonal base averages (1: same day last week); at most the
    /// weeks the window holds.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=52))]
    pub base_weeks: u16,
    /// Data columns whose values for the forecast days are known when
    /// forecasting (promotion plan, holidays, prices), comma-separated, or
    /// `none`; default: every data column the model reads.
    #[arg(long, value_delimiter = ',')]
    pub known_future: Option<Vec<String>>,
    /// Quantile levels to forecast around the median, comma-separated
    /// (0.5 among them), or `none` for a point forecast only.
    #[arg(long, default_value = "0.1,0.5,0.9")]
    pub quantiles: String,
    /// The classical floor: `auto` lets validation blend ETS or seasonal
    /// naive into the network's forecast where that forecasts better (the
    /// network alone, the classical forecast alone, or a mix); `none`: the
    /// network alone.
    #[arg(long, value_enum, default_value = "auto")]
    pub floor: FloorChoice,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloorChoice {
    Auto,
    None,
}

/// Reads `--quantiles`: levels in (0, 1), increasing, 0.5 among them.
fn parse_quantiles(text: &str) -> Result<Vec<f64>> {
    if text.trim() == "none" {
        return Ok(vec![]);
    }
    let levels = text
        .split(',')
        .map(|t| {
            t.trim().parse::<f64>().map_err(|_| {
                anyhow::anyhow!(
                    "--quantiles: {t:?} is not a number; give levels like 0.1,0.5,0.9 or `none`"
                )
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    check_levels(&levels).map_err(|e| anyhow::anyhow!("--quantiles: {e}"))?;
    Ok(levels)
}

impl TrainingFlags {
    /// The checked options, and the feature columns asked for.
    pub fn into_options(self, quiet: bool) -> Result<(TrainOptions, Option<Vec<String>>)> {
        check_batch_size(self.shape.batch_size)?;
        if let Err(e) = self.config.check() {
            bail!(e);
        }
        let opts = TrainOptions {
            config: self.config,
            batch_size: self.shape.batch_size,
            window: self.shape.window,
            horizon: self.shape.horizon,
            device: self.shape.device,
            fill: self.fill,
            norm: self.norm,
            base_weeks: match self.base {
                Base::Zero => 0,
                Base::Blend | Base::Seasonal => self.base_weeks as usize,
            },
            ets_blend: self.base == Base::Blend,
            known_future: self
                .known_future
                .map(|c| c.into_iter().filter(|c| c != "none").collect()),
            quantiles: parse_quantiles(&self.quantiles)?,
            floor: self.floor == FloorChoice::Auto,
            progress: crate::output::progress_for(quiet),
            halt_after_epoch: None,
        };
        Ok((opts, self.features))
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Long CSV: date,store_id,product_id,sales[,extra columns].
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[arg(long, value_enum, default_value = "all")]
    pub model: ModelChoice,
    #[command(flatten)]
    pub flags: TrainingFlags,
    /// Continue an interrupted run from its latest epoch checkpoint.
    #[arg(long, conflicts_with = "from")]
    pub resume: Option<String>,
    /// Fine-tune a new version from this parent model (prefix or alias).
    #[arg(long)]
    pub from: Option<String>,
    /// Train one model per product, store or (store, product) series of
    /// the file; --product/--store narrow the selection.
    #[arg(long, value_enum, conflicts_with_all = ["resume", "from"])]
    pub each: Option<Each>,
    /// With --each: series trained at once (default: the cores).
    #[arg(long, requires = "each")]
    pub jobs: Option<usize>,
    /// With --each: be worker I of N (0 <= I < N), taking every N-th series.
    #[arg(long, requires = "each")]
    pub shard: Option<Shard>,
    /// With --each: continue the batch these settings started (after a kill
    /// or failures), or start it when there is none.
    #[arg(long, requires = "each")]
    pub resume_batch: bool,
    /// Fault injection for tests: exit abruptly after this epoch.
    #[arg(long, hide = true)]
    pub halt_after_epoch: Option<u32>,
}

impl TrainArgs {
    /// Checks the settings (a fresh run's scope too) before any file is read.
    pub fn into_request(self, quiet: bool) -> Result<TrainRequest> {
        let (mut opts, features) = self.flags.into_options(quiet)?;
        opts.halt_after_epoch = self.halt_after_epoch;
        if self.jobs == Some(0) {
            bail!("--jobs must be at least 1");
        }
        let start = match (self.resume, self.from, self.each) {
            (_, _, Some(each)) => TrainStart::Each(BatchPlan {
                each,
                product: self.selection.product,
                store: self.selection.store,
                types: self.model.types(),
                shard: self.shard.unwrap_or(Shard::WHOLE),
                jobs: self.jobs.unwrap_or_else(cores),
                resume: self.resume_batch,
            }),
            (Some(prefix), _, None) => TrainStart::Resume(prefix),
            (None, Some(parent), None) => TrainStart::FineTune(parent),
            (None, None, None) => TrainStart::Fresh {
                scope: self.selection.scope()?,
                types: self.model.types(),
            },
        };
        Ok(TrainRequest {
            data: self.data,
            features,
            start,
            opts,
        })
    }
}

#[derive(Args, Debug)]
pub struct BacktestArgs {
    /// Long CSV: date,store_id,product_id,sales[,extra columns].
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Every (store, product) series of the file, and their total.
    #[arg(long)]
    pub each: bool,
    #[arg(long, value_enum, default_value = "all")]
    pub model: ModelChoice,
    /// Rolling origins: the last K blocks of --horizon days.
    #[arg(long, default_value_t = 8)]
    pub origins: usize,
    /// Train once before the first origin, or again at each origin.
    #[arg(long, value_enum, default_value = "once")]
    pub refit: Refit,
    /// Keep the trained models in this folder (default: a temporary one).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    #[command(flatten)]
    pub flags: TrainingFlags,
}

impl BacktestArgs {
    pub fn into_request(self, quiet: bool) -> Result<BacktestRequest> {
        if self.origins == 0 {
            bail!("--origins must be at least 1");
        }
        let target = if self.each {
            if self.selection.product.is_some() || self.selection.store.is_some() {
                bail!("--each backtests every series of the file; drop --product/--store");
            }
            None
        } else {
            Some(self.selection.scope()?)
        };
        let (opts, features) = self.flags.into_options(true)?;
        Ok(BacktestRequest {
            data: self.data,
            features,
            target,
            types: self.model.types(),
            origins: self.origins,
            refit: self.refit,
            opts,
            keep: self.keep,
            quiet,
        })
    }
}
