//! `shoptrain train --each`: one model per series of a chain, trained
//! `--jobs` at a time, journaled so that a killed batch resumes where it
//! stopped (`--resume-batch`), and split over workers with `--shard I/N`.
//! Every model is an ordinary run: its own version, files and index row.

mod chosen;
mod journal;
mod selection;
mod workers;

pub use chosen::{chosen_models, Pick};
pub use journal::{Journal, Task, TaskState};
pub use selection::{select_series, Each, Shard};
pub use workers::cores;

use crate::data::LoadedData;
use crate::registry::Registry;
use crate::training::TrainOptions;
use anyhow::{bail, Result};
use sha2::{Digest, Sha256};
use shoptrain_shared::naming::{ModelType, Scope};
use std::path::{Path, PathBuf};

/// A checked `train --each` command.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    pub each: Each,
    /// Filters: one product / store, or every one.
    pub product: Option<String>,
    pub store: Option<String>,
    pub types: Vec<ModelType>,
    pub shard: Shard,
    /// Series trained at once.
    pub jobs: usize,
    /// Continue the unfinished batch these settings started.
    pub resume: bool,
}

/// What `train --each` reports: every task of the batch (this worker's).
#[derive(Debug, serde::Serialize)]
pub struct BatchReport {
    pub batch: String,
    pub journal: PathBuf,
    pub tasks: Vec<Task>,
}

/// Trains every selected series of this worker's shard. A series that fails
/// is recorded as failed and the others go on; the call fails only when the
/// batch cannot start.
pub fn run(
    dir: &Path,
    data: &LoadedData,
    plan: &BatchPlan,
    opts: &TrainOptions,
    device: &(candle_core::Device, String),
) -> Result<BatchReport> {
    let scopes = plan.shard.take(select_series(
        &data.dataset,
        plan.each,
        plan.product.as_deref(),
        plan.store.as_deref(),
    )?);
    let id = batch_id(data, plan, opts);
    let reg = Registry::open(dir)?;
    let _held = Journal::lock(reg.dir(), &id)?;
    let mut journal = match Journal::read(reg.dir(), &id)? {
        Some(old) if plan.resume => old,
        Some(old) if old.unfinished() > 0 => bail!(
            "batch {id} with these settings stopped with {} of {} models unfinished ({}); continue it with --resume-batch, or delete that file to start it over",
            old.unfinished(),
            old.tasks.len(),
            old.path().display()
        ),
        _ => Journal::new(reg.dir(), id.clone(), describe(plan), tasks(&scopes, plan)?),
    };
    workers::settle_interrupted(&reg, &mut journal.tasks);
    journal.save()?;
    drop(reg);
    let journal = workers::train_all(dir, data, journal, plan.jobs, opts, device)?;
    Ok(BatchReport {
        batch: id,
        journal: journal.path().to_path_buf(),
        tasks: journal.tasks,
    })
}

fn tasks(scopes: &[Scope], plan: &BatchPlan) -> Result<Vec<Task>> {
    let mut out = Vec::with_capacity(scopes.len() * plan.types.len());
    for scope in scopes {
        for &model_type in &plan.types {
            out.push(Task {
                series: scope.token()?,
                scope: scope.clone(),
                store: scope.store_id().unwrap_or("all").to_string(),
                product: scope.product_id().unwrap_or("all").to_string(),
                model_type,
                state: TaskState::Pending,
                prefix: None,
                error: None,
                mase: None,
                coverage: None,
                seconds: None,
            });
        }
    }
    Ok(out)
}

fn describe(plan: &BatchPlan) -> String {
    let types: Vec<&str> = plan.types.iter().map(|t| t.as_str()).collect();
    format!(
        "train --each {:?} --product {} --store {} --model {} --shard {}",
        plan.each,
        plan.product.as_deref().unwrap_or("all"),
        plan.store.as_deref().unwrap_or("all"),
        types.join(","),
        plan.shard
    )
    .to_lowercase()
}

/// Same data, selection, shard and training settings, same id: running the
/// command again with `--resume-batch` finds the journal. `--jobs` and
/// `--quiet` change how a batch runs, not what it trains, so they are left
/// out.
fn batch_id(data: &LoadedData, plan: &BatchPlan, opts: &TrainOptions) -> String {
    let settings = TrainOptions {
        quiet: true,
        ..opts.clone()
    };
    let mut hash = Sha256::new();
    hash.update(data.sha256.as_bytes());
    hash.update(describe(plan).as_bytes());
    hash.update(format!("{settings:?}").as_bytes());
    hex::encode(&hash.finalize()[..6])
}
