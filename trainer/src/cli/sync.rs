//! `sync`'s and `monitor`'s arguments.

use crate::batch::{cores, Shard};
use crate::commands::monitor::MonitorRequest;
use crate::commands::sync::SyncRequest;
use crate::device::DeviceChoice;
use crate::sync::{PlanRules, SyncOptions};
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The sales store (default: sales.db in the models folder).
    #[arg(long = "store")]
    pub store_path: Option<PathBuf>,
    /// List what would be retrained and why; train nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Models retrained at once (default: the cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Be worker I of N (0 <= I < N), taking every N-th model.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// A full retrain instead of a fine-tune on every N-th sync of a model
    /// (1: always full).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub full_every: u32,
    /// Most epochs of a fine-tune (default: a quarter of the model's own).
    #[arg(long)]
    pub fine_tune_epochs: Option<u32>,
    /// Weeks on which a new version must beat the old before an alias
    /// (production) moves to it.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=52))]
    pub alias_weeks: u16,
    /// Retrain (in full) only the models `monitor` finds drifting: worse
    /// than seasonal naive for --weeks weeks running.
    #[arg(long)]
    pub when_drifting: bool,
    /// With --when-drifting: the weeks of drift that count.
    #[arg(long, default_value_t = 2, requires = "when_drifting", value_parser = clap::value_parser!(u16).range(1..=52))]
    pub weeks: u16,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Fault injection for tests: exit abruptly after this epoch.
    #[arg(long, hide = true)]
    pub halt_after_epoch: Option<u32>,
}

impl SyncArgs {
    pub fn into_request(self, quiet: bool) -> Result<SyncRequest> {
        if self.jobs == Some(0) {
            bail!("--jobs must be at least 1");
        }
        if self.fine_tune_epochs == Some(0) {
            bail!("--fine-tune-epochs must be at least 1");
        }
        Ok(SyncRequest {
            store: self.store_path,
            dry_run: self.dry_run,
            when_drifting: self.when_drifting.then_some(self.weeks as usize),
            opts: SyncOptions {
                rules: PlanRules {
                    full_every: self.full_every,
                    only: None,
                },
                shard: self.shard.unwrap_or(Shard::WHOLE),
                jobs: self.jobs.unwrap_or_else(cores),
                device: self.device,
                fine_tune_epochs: self.fine_tune_epochs,
                alias_weeks: self.alias_weeks as usize,
                progress: crate::output::progress_for(quiet),
                halt_after_epoch: self.halt_after_epoch,
            },
        })
    }
}

#[derive(Args, Debug)]
pub struct MonitorArgs {
    /// The sales to score against: the sales store (`store`, the default;
    /// `store@V`) or a long CSV file.
    #[arg(long, default_value = "store")]
    pub data: PathBuf,
    /// A model in use is drifting when its forecasts lost to seasonal naive
    /// in each of its last N weeks; monitor then exits 3 (errors exit 1).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=52))]
    pub weeks: u16,
    /// Also draw the weekly scores as a PNG chart here.
    #[arg(long)]
    pub png: Option<PathBuf>,
}

impl From<MonitorArgs> for MonitorRequest {
    fn from(a: MonitorArgs) -> MonitorRequest {
        MonitorRequest {
            data: a.data,
            weeks: a.weeks as usize,
            png: a.png,
        }
    }
}
