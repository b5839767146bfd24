//! `shoptrain sync`: keeps the models in use in step with the sales store.
//! Every model whose series changed since the data version it learned from
//! gets a new version bound to the newest data: fine-tuned from the version
//! in use (a full retrain every `--full-every` syncs, or when the fine-tune
//! validates worse than its parent by more than [`FINE_TUNE_TOLERANCE`]).
//! Aliases move to a new version only when it beats the old on the newest
//! weeks (`promote`). Journaled and locked (`journal`): a killed sync run
//! again resumes its cut run; two syncs never retrain one model at once.

mod journal;
mod plan;
mod promote;

pub use journal::{AliasMove, SyncJournal, SyncTask, Trained, SYNC_DIR};
pub use plan::{changed_series, models_in_use, plan, Decision, PlanRules};
pub use promote::newest_weeks_mase;

use crate::batch::{on_workers, Shard, TaskState};
use crate::data::LoadedData;
use crate::device::DeviceChoice;
use crate::registry::Registry;
use crate::training::{
    begin_successor, resume, Counting, ProgressSink, Succession, TrainOptions, TrainReport,
};
use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};
use shoptrain_shared::metadata::ModelMetadata;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// A fine-tune that validates worse than its parent by more than this
/// factor is followed by a full retrain, and the better of the two is kept.
/// Validation weeks move with the data, so equal models differ a little.
pub const FINE_TUNE_TOLERANCE: f64 = 1.10;

/// A checked `sync` command.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub rules: PlanRules,
    pub shard: Shard,
    /// Models retrained at once.
    pub jobs: usize,
    pub device: DeviceChoice,
    /// Most epochs of a fine-tune; default a quarter of the parent's.
    pub fine_tune_epochs: Option<u32>,
    /// Weeks the alias rule compares old and new versions on.
    pub alias_weeks: usize,
    pub progress: ProgressSink,
    /// Fault injection for tests: exit abruptly after this epoch.
    pub halt_after_epoch: Option<u32>,
}

/// What a sync did: every decision of its shard, and the journal's tasks
/// this run worked on.
#[derive(Debug, serde::Serialize)]
pub struct SyncReport {
    pub data: String,
    pub decisions: Vec<Decision>,
    pub journal: Option<PathBuf>,
    pub tasks: Vec<SyncTask>,
    /// Aliases left on an older, stale version of a model whose newest
    /// version is up to date, compared with it by the alias rule.
    pub stale_aliases: Vec<AliasMove>,
}

/// This shard's decisions, without training anything (`--dry-run`).
pub fn dry_run(dir: &Path, data: &LoadedData, opts: &SyncOptions) -> Result<SyncReport> {
    let reg = Registry::open(dir)?;
    Ok(SyncReport {
        data: data.path.clone(),
        decisions: opts.shard.take(plan(&reg, data, &opts.rules)?),
        journal: None,
        tasks: Vec::new(),
        stale_aliases: Vec::new(),
    })
}

/// Plans, then retrains this shard's models `jobs` at a time. A model that
/// fails is recorded and the others go on.
pub fn run(dir: &Path, data: &LoadedData, opts: &SyncOptions) -> Result<SyncReport> {
    let reg = Registry::open(dir)?;
    let decisions = opts.shard.take(plan(&reg, data, &opts.rules)?);
    let id = sync_id(&data.sha256, opts);
    let _held = journal::lock_journal(reg.dir(), &id)?;
    let mut journal = SyncJournal::read_or_new(reg.dir(), &id, &data.path)?;
    for d in &decisions {
        let Some(action) = d.action else { continue };
        let known = journal
            .tasks
            .iter()
            .any(|t| t.identifier == d.identifier && t.parent == d.current);
        if !known {
            journal.tasks.push(SyncTask {
                identifier: d.identifier.clone(),
                parent: d.current.clone(),
                action,
                why: d.why.clone(),
                state: TaskState::Pending,
                running: None,
                trained: Vec::new(),
                kept: None,
                alias_moves: Vec::new(),
                note: None,
                error: None,
                seconds: None,
            });
        }
    }
    for t in &mut journal.tasks {
        if t.state == TaskState::Failed {
            t.state = TaskState::Pending;
            t.error = None;
        }
    }
    journal.save()?;
    drop(reg);
    // the journal keeps what earlier runs on this data did; report this run's
    let todo: Vec<bool> = journal
        .tasks
        .iter()
        .map(|t| t.state != TaskState::Done)
        .collect();
    let journal = retrain_all(dir, data, journal, opts)?;
    let retrained: Vec<&str> = journal
        .tasks
        .iter()
        .map(|t| t.identifier.as_str())
        .collect();
    let stale_aliases =
        promote::promote_stale_aliases(dir, data, &decisions, &retrained, opts.alias_weeks)?;
    Ok(SyncReport {
        data: data.path.clone(),
        decisions,
        journal: Some(journal.path().to_path_buf()),
        tasks: journal
            .tasks
            .into_iter()
            .zip(todo)
            .filter_map(|(t, todo)| todo.then_some(t))
            .collect(),
        stale_aliases,
    })
}

/// Same data, shard and rules, same journal.
fn sync_id(data_sha256: &str, opts: &SyncOptions) -> String {
    let key = serde_json::json!({
        "data": data_sha256,
        "shard": opts.shard.to_string(),
        "full_every": opts.rules.full_every,
        "only": opts.rules.only,
    });
    let mut hash = Sha256::new();
    hash.update(key.to_string());
    format!("sync-{}", hex::encode(&hash.finalize()[..6]))
}

struct Shared<'a> {
    dir: &'a Path,
    data: &'a LoadedData,
    journal: Mutex<SyncJournal>,
    opts: &'a SyncOptions,
    finished: AtomicU64,
}

impl Shared<'_> {
    fn task(&self, i: usize) -> SyncTask {
        self.journal().tasks[i].clone()
    }

    /// Changes task `i` and saves the journal at once.
    fn update(&self, i: usize, change: impl FnOnce(&mut SyncTask)) -> Result<()> {
        let mut journal = self.journal();
        change(&mut journal.tasks[i]);
        journal.save()
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, SyncJournal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn retrain_all(
    dir: &Path,
    data: &LoadedData,
    journal: SyncJournal,
    opts: &SyncOptions,
) -> Result<SyncJournal> {
    let todo: Vec<usize> = (0..journal.tasks.len())
        .filter(|&i| journal.tasks[i].state != TaskState::Done)
        .collect();
    let jobs = opts.jobs.clamp(1, todo.len().max(1));
    let shared = Shared {
        dir,
        data,
        journal: Mutex::new(journal),
        opts,
        finished: AtomicU64::new(0),
    };
    opts.progress
        .start(Counting::Models, "sync", todo.len() as u64, 0);
    let results = on_workers(dir, jobs, &todo, "sync", |reg, &i| {
        run_task(&shared, reg, i)
    });
    opts.progress.finish();
    results?;
    Ok(shared
        .journal
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner))
}

/// One model: its runs, the better kept, the alias rule. Its failure is
/// recorded in the journal; only a journal that cannot be written stops
/// the worker.
fn run_task(shared: &Shared, reg: &mut Registry, i: usize) -> Result<()> {
    let t0 = Instant::now();
    let task = shared.task(i);
    let _lock = journal::lock_model(shared.dir, &task.identifier)?;
    let outcome = catch_unwind(AssertUnwindSafe(|| retrain(shared, reg, i)))
        .unwrap_or_else(|_| Err(anyhow!("retraining {} panicked", task.identifier)));
    shared.update(i, |t| {
        match outcome {
            Ok(()) => t.state = TaskState::Done,
            Err(e) => {
                t.state = TaskState::Failed;
                t.error = Some(format!("{e:#}"));
            }
        }
        t.seconds = Some(t.seconds.unwrap_or(0.0) + t0.elapsed().as_secs_f64());
    })?;
    let done = shared.finished.fetch_add(1, Ordering::SeqCst) + 1;
    shared.opts.progress.step(done, &task.identifier);
    Ok(())
}

fn retrain(shared: &Shared, reg: &mut Registry, i: usize) -> Result<()> {
    let task = shared.task(i);
    // under the model's lock: another sync may have finished it meanwhile
    let in_use = models_in_use(reg)?.remove(&task.identifier);
    let ours = |p: &String| {
        task.trained.iter().any(|t| &t.prefix == p) || task.running.as_ref() == Some(p)
    };
    if let Some(now) = in_use.as_ref().filter(|p| **p != task.parent && !ours(p)) {
        let now = now.clone();
        if changed_series(&reg.read_metadata(&now)?, shared.data)?.is_empty() {
            return shared.update(i, |t| {
                t.note = Some(format!(
                    "retrained meanwhile as {now} (another sync or by hand)"
                ));
                t.kept = Some(now);
            });
        }
        // a newer version appeared (trained by hand, or on older data): follow it
        shared.update(i, |t| t.parent = now)?;
    }
    let task = shared.task(i);
    if task.trained.is_empty() {
        let first = train_step(shared, reg, i, task.action)?;
        shared.update(i, |t| {
            t.running = None;
            t.trained.push(first);
        })?;
    }
    let task = shared.task(i);
    let first = &task.trained[0];
    let parent_mase = reg.read_metadata(&task.parent)?.metrics.map(|m| m.mase);
    let worse =
        matches!((first.mase, parent_mase), (Some(m), Some(p)) if m > FINE_TUNE_TOLERANCE * p);
    let mut kept = first.prefix.clone();
    if first.how == Succession::FineTune && worse {
        if task.trained.len() < 2 {
            let full = train_step(shared, reg, i, Succession::Retrain)?;
            shared.update(i, |t| {
                t.running = None;
                t.trained.push(full);
            })?;
        }
        let task = shared.task(i);
        let (ft, full) = (&task.trained[0], &task.trained[1]);
        let better_full = full.mase.unwrap_or(f64::INFINITY) <= ft.mase.unwrap_or(f64::INFINITY);
        let (keep, drop) = if better_full { (full, ft) } else { (ft, full) };
        // the worse run is hidden (soft-deleted), so the better is in use
        reg.delete(&drop.prefix, false)?;
        kept = keep.prefix.clone();
        let note = format!(
            "the fine-tune validated at MASE {:.3}, worse than its parent's {:.3}: retrained in full ({:.3}); kept {}",
            ft.mase.unwrap_or(f64::NAN),
            parent_mase.unwrap_or(f64::NAN),
            full.mase.unwrap_or(f64::NAN),
            keep.prefix
        );
        shared.update(i, |t| t.note = Some(note))?;
    }
    if shared.opts.rules.only.is_some() {
        // monitor's drift clock for this model starts again here
        reg.mark_drift_retrain(&kept)?;
    }
    // the model is trained and kept whatever the alias rule finds
    let moves = promote::promote(
        reg,
        shared.data,
        &task.identifier,
        &kept,
        shared.opts.alias_weeks,
    );
    shared.update(i, |t| {
        t.kept = Some(kept);
        match moves {
            Ok(moves) => t.alias_moves = moves,
            Err(e) => t.note = Some(format!("aliases left as they were: {e:#}")),
        }
    })
}

/// One run of a task, or the finish of the run a kill cut short. The
/// caller records it (and clears `running`) in one journal write.
fn train_step(shared: &Shared, reg: &Registry, i: usize, how: Succession) -> Result<Trained> {
    let task = shared.task(i);
    let trained = |report: TrainReport| Trained {
        prefix: report.prefix,
        how,
        mase: report.metrics.map(|m| m.mase),
    };
    let base = TrainOptions {
        device: shared.opts.device,
        progress: ProgressSink::silent(),
        halt_after_epoch: shared.opts.halt_after_epoch,
        ..TrainOptions::default()
    };
    if let Some(cut) = &task.running {
        match reg.read_metadata(cut) {
            Ok(meta) if meta.status == shoptrain_shared::metadata::Status::Completed => {
                return Ok(Trained {
                    prefix: cut.clone(),
                    how,
                    mase: meta.metrics.map(|m| m.mase),
                });
            }
            Ok(_) if !reg.epoch_checkpoints(cut).is_empty() => {
                return Ok(trained(resume(reg, shared.data, cut, &base)?));
            }
            // cut before its first checkpoint: it stays interrupted, a new run begins
            _ => {}
        }
    }
    // the settings of the last version trained from scratch: a fine-tune's
    // own (reduced) ones would shrink again at every sync
    let mut opts = base.like(&from_scratch(reg, reg.read_metadata(&task.parent)?));
    if how == Succession::FineTune {
        fine_tune_settings(&mut opts.config, shared.opts.fine_tune_epochs);
    }
    let run = begin_successor(reg, shared.data, &task.parent, how, &opts)?;
    let prefix = run.prefix().to_string();
    shared.update(i, |t| t.running = Some(prefix))?;
    Ok(trained(run.train(reg)?))
}

/// The newest ancestor of `meta` (itself included) trained from fresh
/// weights, as far as the fine-tune chain can be read.
fn from_scratch(reg: &Registry, mut meta: ModelMetadata) -> ModelMetadata {
    while let Some(parent) = meta.parent_prefix.as_deref() {
        match reg.read_metadata(parent) {
            Ok(up) => meta = up,
            Err(_) => break,
        }
    }
    meta
}

/// A fine-tune starts from a model that already fits: a quarter of its
/// epochs (or `--fine-tune-epochs`), a third of its learning rate, and
/// early stopping after 3 epochs without a better validation loss instead
/// of its own patience (BENCHMARKS.md, sync).
pub fn fine_tune_settings(
    config: &mut shoptrain_shared::metadata::TrainConfig,
    epochs: Option<u32>,
) {
    config.epochs = epochs.unwrap_or(config.epochs.div_ceil(4)).max(1);
    config.lr /= 3.0;
    config.patience = config.patience.min(3);
}
