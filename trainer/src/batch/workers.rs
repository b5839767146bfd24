//! Training a batch's tasks `jobs` series at a time. Each worker thread has
//! its own registry handle and a rayon pool of its share of the cores, which
//! candle's matrix products run in, so `jobs` series at once do not fight
//! over every core each.

use super::journal::{Journal, Task, TaskState};
use crate::data::LoadedData;
use crate::registry::Registry;
use crate::training::{
    begin_new, prepare, resume, Counting, Prepared, ProgressSink, Start, TrainOptions, TrainReport,
};
use anyhow::{anyhow, Result};
use candle_core::Device;
use shoptrain_shared::features::feature_names;
use shoptrain_shared::metadata::Status;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Makes a journal read back after a kill ready to run again: a run that
/// finished before the journal said so is done; a run cut short after an
/// epoch checkpoint is resumed from it; one cut short before any checkpoint
/// is trained afresh (its interrupted version stays, marked so); failed
/// tasks are tried again.
pub fn settle_interrupted(reg: &Registry, tasks: &mut [Task]) {
    for task in tasks.iter_mut() {
        match (&task.state, task.prefix.clone()) {
            (TaskState::Running, Some(prefix)) => {
                let meta = reg.read_metadata(&prefix).ok();
                if let Some(meta) = meta.as_ref().filter(|m| m.status == Status::Completed) {
                    task.state = TaskState::Done;
                    task.mase = meta.metrics.as_ref().map(|m| m.mase);
                    task.coverage = meta.quantile_metrics.as_ref().map(|q| q.coverage);
                    task.seconds = Some(meta.training.duration_seconds);
                } else if meta.is_none() || reg.epoch_checkpoints(&prefix).is_empty() {
                    task.state = TaskState::Pending;
                    task.prefix = None;
                }
            }
            (TaskState::Running, None) | (TaskState::Failed, _) => {
                task.state = TaskState::Pending;
                task.prefix = None;
                task.error = None;
            }
            _ => {}
        }
    }
}

/// The cores this process may use: `--jobs`'s default.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What every worker shares.
struct Shared<'a> {
    data: &'a LoadedData,
    features: Vec<String>,
    journal: Mutex<Journal>,
    /// The runs' own options: silent, the batch reports for them all.
    opts: TrainOptions,
    device: &'a (Device, String),
    progress: ProgressSink,
    /// Models finished so far (any worker).
    finished: AtomicU64,
}

impl Shared<'_> {
    /// The journal; a worker that panicked holding it left it whole (each
    /// change is one assignment), so a poisoned lock is still usable.
    fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Trains every unfinished task of `journal` and returns it, updated.
pub fn train_all(
    dir: &Path,
    data: &LoadedData,
    journal: Journal,
    jobs: usize,
    opts: &TrainOptions,
    device: &(Device, String),
) -> Result<Journal> {
    let series = unfinished_series(&journal.tasks);
    let jobs = jobs.clamp(1, series.len().max(1));
    // each run's steps and forecasts share the one compute pool
    // (`compute`), so jobs × threads never oversubscribes the cores
    let todo = journal.unfinished() as u64;
    let shared = Shared {
        data,
        features: feature_names(&data.dataset.columns[1..]),
        journal: Mutex::new(journal),
        opts: TrainOptions {
            progress: ProgressSink::silent(),
            ..opts.clone()
        },
        device,
        progress: opts.progress.clone(),
        finished: AtomicU64::new(0),
    };
    shared
        .progress
        .start(Counting::Models, "train --each", todo, 0);
    let results = on_workers(dir, jobs, &series, "batch", |reg, group| {
        train_series(&shared, reg, group)
    });
    shared.progress.finish();
    results?;
    Ok(shared
        .journal
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner))
}

/// Runs `work` on every item, `jobs` threads at a time, each with its own
/// registry handle, taking the next item as it finishes one (`train --each`
/// and `sync`). An error or a panic of `work` stops its thread; the first
/// is returned once every thread has ended.
pub fn on_workers<T: Sync>(
    dir: &Path,
    jobs: usize,
    items: &[T],
    what: &str,
    work: impl Fn(&mut Registry, &T) -> Result<()> + Sync,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    let mut reg = Registry::open(dir)?;
                    while let Some(item) = items.get(next.fetch_add(1, Ordering::SeqCst)) {
                        work(&mut reg, item)?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow!("a {what} worker panicked")))
            })
            .collect()
    });
    results.into_iter().collect()
}

/// The unfinished tasks' indices, one group per series (in journal order).
fn unfinished_series(tasks: &[Task]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        if task.state == TaskState::Done {
            continue;
        }
        match groups.last_mut() {
            Some(g) if tasks[g[0]].series == task.series => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups
}

/// One series' tasks, one model type after another on the same windows.
/// Only a journal that cannot be written stops the worker.
fn train_series(shared: &Shared, reg: &Registry, group: &[usize]) -> Result<()> {
    let mut prepared: Option<std::result::Result<Prepared, String>> = None;
    for &i in group {
        let task = shared.journal().tasks[i].clone();
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_task(shared, reg, i, &task, &mut prepared)
        }))
        .unwrap_or_else(|panic| Err(anyhow!("training panicked: {}", panic_text(&panic))));
        let mut journal = shared.journal();
        let entry = &mut journal.tasks[i];
        match outcome {
            Ok(report) => {
                entry.state = TaskState::Done;
                entry.prefix = Some(report.prefix.clone());
                entry.mase = report.metrics.as_ref().map(|m| m.mase);
                entry.coverage = report.quantile_metrics.as_ref().map(|q| q.coverage);
                entry.error = None;
            }
            Err(e) => {
                entry.state = TaskState::Failed;
                entry.error = Some(format!("{e:#}"));
            }
        }
        entry.seconds = Some(t0.elapsed().as_secs_f64());
        let label = entry.prefix.clone().unwrap_or_else(|| entry.series.clone());
        journal.save()?;
        let done = shared.finished.fetch_add(1, Ordering::SeqCst) + 1;
        shared.progress.step(done, &label);
    }
    Ok(())
}

fn run_task(
    shared: &Shared,
    reg: &Registry,
    i: usize,
    task: &Task,
    prepared: &mut Option<std::result::Result<Prepared, String>>,
) -> Result<TrainReport> {
    if let (TaskState::Running, Some(prefix)) = (&task.state, &task.prefix) {
        return resume(reg, shared.data, prefix, &shared.opts);
    }
    let windows = prepared.get_or_insert_with(|| {
        prepare(shared.data, &task.scope, &shared.features, &shared.opts)
            .map_err(|e| format!("{e:#}"))
    });
    let windows = windows.as_ref().map_err(|e| anyhow!("{e}"))?;
    let run = begin_new(
        reg,
        shared.data,
        task.model_type,
        windows,
        shared.device,
        &shared.opts,
        Start::Fresh,
    )?;
    {
        let mut journal = shared.journal();
        journal.tasks[i].state = TaskState::Running;
        journal.tasks[i].prefix = Some(run.prefix().to_string());
        journal.save()?;
    }
    run.train(reg, windows, &shared.device.0, &shared.opts)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}
