//! `shoptrain train --each`: one model per series of a chain, trained
//! `--jobs` at a time, journaled so that a killed batch resumes where it
//! stopped (`--resume-batch`), and split over workers with `--shard I/N`.
//! Every model is an ordinary run: its own version, files and index row.

mod chosen;
mod journal;
mod selection;
mod workers;

pub use chosen::{chosen_models, Pick};
pub use journal::{lock_file_in, Journal, Task, TaskState};
pub use selection::{select_series, Each, Shard};
pub use workers::{cores, on_workers};

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
    let id = batch_id(&data.sha256, plan, opts);
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

/// What a batch trains, as its id hashes it: a serialized, versioned key,
/// not a `Debug` text, so that a new option or `TrainConfig` field leaves
/// the ids of batches that do not use it alone (`--resume-batch` across an
/// upgrade). A setting added later joins the key only when it differs from
/// its default (`floor`, say); `KEY_VERSION` changes only when an id must.
#[derive(serde::Serialize)]
struct BatchKey<'a> {
    key_version: u32,
    data_sha256: &'a str,
    selection: String,
    config: &'a shoptrain_shared::metadata::TrainConfig,
    batch_size: Option<usize>,
    window: usize,
    horizon: usize,
    device: String,
    fill: shoptrain_shared::features::Fill,
    norm: shoptrain_shared::features::NormChoice,
    base_weeks: usize,
    /// Always in the key: models train differently since it came (and the
    /// floor's method with it, QUALITY.md experiment 33).
    ets_blend: bool,
    known_future: &'a Option<Vec<String>>,
    quantiles: &'a [f64],
    #[serde(skip_serializing_if = "is_on")]
    floor: bool,
}

const KEY_VERSION: u32 = 1;

fn is_on(b: &bool) -> bool {
    *b
}

/// Same data, selection, shard and training settings, same id: running the
/// command again with `--resume-batch` finds the journal. `--jobs` and
/// `--quiet` change how a batch runs, not what it trains, so they are left
/// out.
fn batch_id(data_sha256: &str, plan: &BatchPlan, opts: &TrainOptions) -> String {
    let key = BatchKey {
        key_version: KEY_VERSION,
        data_sha256,
        selection: describe(plan),
        config: &opts.config,
        batch_size: opts.batch_size,
        window: opts.window,
        horizon: opts.horizon,
        device: format!("{:?}", opts.device).to_lowercase(),
        fill: opts.fill,
        norm: opts.norm,
        base_weeks: opts.base_weeks,
        ets_blend: opts.ets_blend,
        known_future: &opts.known_future,
        quantiles: &opts.quantiles,
        floor: opts.floor,
    };
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(&key).unwrap_or_default());
    hex::encode(&hash.finalize()[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> BatchPlan {
        BatchPlan {
            each: Each::Series,
            product: None,
            store: Some("S001".into()),
            types: vec![ModelType::Kan],
            shard: Shard::WHOLE,
            jobs: 2,
            resume: false,
        }
    }

    #[test]
    fn a_batch_id_is_pinned_by_what_it_trains() {
        let opts = TrainOptions::default();
        let id = batch_id("ab12", &plan(), &opts);
        // pinned: a change here means every journal's --resume-batch starts over
        // (moved when --pool auto became the default, and again with the ETS
        // blend: each time every batch trains differently)
        assert_eq!(id, "00e1a42e4589");
        // how it runs does not count, what it trains does
        let shown = TrainOptions {
            progress: crate::training::ProgressSink::silent(),
            ..opts.clone()
        };
        let jobs = BatchPlan { jobs: 1, ..plan() };
        assert_eq!(batch_id("ab12", &jobs, &shown), id);
        let no_floor = TrainOptions {
            floor: false,
            ..opts.clone()
        };
        assert_ne!(batch_id("ab12", &plan(), &no_floor), id);
        let seasonal = TrainOptions {
            ets_blend: false,
            ..opts.clone()
        };
        assert_ne!(batch_id("ab12", &plan(), &seasonal), id);
        let mut alone = opts.clone();
        alone.config.pool = shoptrain_shared::metadata::Pool::Never;
        assert_ne!(batch_id("ab12", &plan(), &alone), id);
        assert_ne!(batch_id("cd34", &plan(), &opts), id);
    }
}
