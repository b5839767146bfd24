//! `shoptrain train`: a fresh run per model type, a resumed run, or a
//! fine-tuned new version.

use crate::batch::{self, BatchPlan, TaskState};
use crate::data::LoadedData;
use crate::device::{select_device_for, series_days};
use crate::output::{print_batch_summary, print_json, print_train_report};
use crate::registry::Registry;
use crate::store::load_data;
use crate::training::{
    begin_successor, prepare, resume, train_new, Start, Succession, TrainOptions, TrainReport,
};
use anyhow::{bail, Result};
use shoptrain_shared::features::feature_names;
use shoptrain_shared::naming::{ModelType, Scope};
use std::path::{Path, PathBuf};

/// How a `train` command starts.
#[derive(Debug, Clone)]
pub enum TrainStart {
    /// New versions of these types on this scope.
    Fresh { scope: Scope, types: Vec<ModelType> },
    /// Continue this interrupted run.
    Resume(String),
    /// A new version fine-tuned from this model (prefix or alias).
    FineTune(String),
    /// One new model per selected series and type (`--each`).
    Each(BatchPlan),
}

/// A checked `train` command.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub data: PathBuf,
    /// Extra columns to use; all when `None`.
    pub features: Option<Vec<String>>,
    pub start: TrainStart,
    pub opts: TrainOptions,
}

pub fn run(dir: &Path, req: TrainRequest, json: bool) -> Result<()> {
    let data = load_data(dir, &req.data, req.features.as_deref())?;
    let mut reports: Vec<TrainReport> = Vec::new();
    let mut record = |report: TrainReport| {
        if !json {
            print_train_report(&report);
        }
        reports.push(report);
    };
    match &req.start {
        TrainStart::Fresh { scope, types } => {
            // every input (data, windows, device) is checked before the
            // models directory is opened, so bad input leaves no file behind
            let extra = &data.dataset.columns[1..];
            let prepared = prepare(&data, scope, &feature_names(extra), &req.opts)?;
            let device = select_device_for(req.opts.device, prepared.train.count)?;
            let reg = Registry::open(dir)?;
            for &t in types {
                record(train_new(
                    &reg,
                    &data,
                    t,
                    &prepared,
                    &device,
                    &req.opts,
                    Start::Fresh,
                )?);
            }
        }
        TrainStart::Resume(prefix) => {
            let reg = Registry::open(dir)?;
            record(resume(&reg, &data, prefix, &req.opts)?);
        }
        TrainStart::FineTune(parent) => record(fine_tune(dir, &data, parent, &req.opts)?),
        TrainStart::Each(plan) => return train_each(dir, &data, plan, &req.opts, json),
    }
    if json {
        print_json(&reports)?;
    }
    Ok(())
}

/// A new version of `parent`'s identifier, starting from its weights.
fn fine_tune(
    dir: &Path,
    data: &LoadedData,
    parent: &str,
    opts: &TrainOptions,
) -> Result<TrainReport> {
    let reg = Registry::open(dir)?;
    let parent = reg.resolve(parent)?;
    begin_successor(&reg, data, &parent, Succession::FineTune, opts)?.train(&reg)
}

/// `--each`: the batch, its summary, and a failure exit when any model of
/// it failed (the others are trained and kept).
fn train_each(
    dir: &Path,
    data: &LoadedData,
    plan: &BatchPlan,
    opts: &TrainOptions,
    json: bool,
) -> Result<()> {
    // each model learns from one series: at most its days of windows
    let device = select_device_for(opts.device, series_days(data))?;
    let report = batch::run(dir, data, plan, opts, &device)?;
    if json {
        print_json(&report)?;
    } else {
        print_batch_summary(&report);
    }
    let failed = report
        .tasks
        .iter()
        .filter(|t| t.state != TaskState::Done)
        .count();
    if failed > 0 {
        bail!(
            "{failed} of {} models of batch {} failed (errors above and in {}); fix the cause and run the same command with --resume-batch to train them",
            report.tasks.len(),
            report.batch,
            report.journal.display()
        );
    }
    Ok(())
}
