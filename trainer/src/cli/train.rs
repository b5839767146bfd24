//! `train`'s arguments: the series selection and the training settings.

use super::ModelChoice;
use crate::commands::train::{TrainRequest, TrainStart};
use crate::device::DeviceChoice;
use crate::training::TrainOptions;
use anyhow::{bail, Context, Result};
use clap::Args;
use shoptrain_shared::features::{Fill, NormChoice};
use shoptrain_shared::metadata::TrainConfig;
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
    pub config: TrainConfig,
    /// Default 32 on CPU, 256 on CUDA.
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 30)]
    pub window: usize,
    #[arg(long, default_value_t = 7)]
    pub horizon: usize,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Extra numeric columns to use as features (comma-separated); default: all.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "zero")]
    pub fill: Fill,
    /// Normalisation of product/store models (global models always use instance).
    #[arg(long, value_enum, default_value = "instance")]
    pub norm: NormChoice,
    /// Continue an interrupted run from its latest epoch checkpoint.
    #[arg(long, conflicts_with = "from")]
    pub resume: Option<String>,
    /// Fine-tune a new version from this parent model (prefix or alias).
    #[arg(long)]
    pub from: Option<String>,
    /// Fault injection for tests: exit abruptly after this epoch.
    #[arg(long, hide = true)]
    pub halt_after_epoch: Option<u32>,
}

impl TrainArgs {
    /// Checks the settings (a fresh run's scope too) before any file is read.
    pub fn into_request(self, quiet: bool) -> Result<TrainRequest> {
        if self.config.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if self.batch_size == Some(0) {
            bail!("--batch-size must be at least 1");
        }
        if let Err(e) = self.config.check() {
            bail!(e);
        }
        let start = match (self.resume, self.from) {
            (Some(prefix), _) => TrainStart::Resume(prefix),
            (None, Some(parent)) => TrainStart::FineTune(parent),
            (None, None) => TrainStart::Fresh {
                scope: self.selection.scope()?,
                types: self.model.types(),
            },
        };
        let opts = TrainOptions {
            config: self.config,
            batch_size: self.batch_size,
            window: self.window,
            horizon: self.horizon,
            device: self.device,
            fill: self.fill,
            norm: self.norm,
            quiet,
            halt_after_epoch: self.halt_after_epoch,
        };
        Ok(TrainRequest {
            data: self.data,
            features: self.features,
            start,
            opts,
        })
    }
}
