//! `shoptrain backtest`: train and score the model types at rolling origins
//! beside seasonal naive and ETS, in a models folder of its own.

use crate::backtest::{every_series, run as run_backtest, Plan, Refit, RunEnv};
use crate::device::{select_device_for, series_days};
use crate::output::{print_backtest, print_json, progress_bar};
use crate::registry::Registry;
use crate::store::load_data;
use crate::training::TrainOptions;
use anyhow::{Context, Result};
use shoptrain_shared::naming::{ModelType, Scope};
use std::path::{Path, PathBuf};

/// A checked `backtest` command.
#[derive(Debug, Clone)]
pub struct BacktestRequest {
    pub data: PathBuf,
    pub features: Option<Vec<String>>,
    /// One series, or every series of the file when `None`.
    pub target: Option<Scope>,
    pub types: Vec<ModelType>,
    pub origins: usize,
    pub refit: Refit,
    pub opts: TrainOptions,
    /// Where the trained models stay; a temporary folder when `None`.
    pub keep: Option<PathBuf>,
    pub quiet: bool,
}

/// `dir`: the models folder, whose sales store `--data store[@V]` reads.
pub fn run(dir: &Path, req: BacktestRequest, json: bool) -> Result<()> {
    let data = load_data(dir, &req.data, req.features.as_deref())?;
    let scopes = match &req.target {
        Some(scope) => vec![scope.clone()],
        None => every_series(&data)?,
    };
    // each backtest model learns from one series: at most its days of windows
    let device = select_device_for(req.opts.device, series_days(&data))?;
    let temp;
    let models = match &req.keep {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("shoptrain-backtest-")
                .tempdir()
                .context("cannot create a temporary models folder")?;
            temp.path().to_path_buf()
        }
    };
    let plan = Plan {
        scopes,
        types: req.types,
        origins: req.origins,
        refit: req.refit,
        opts: req.opts,
    };
    let bar = progress_bar(
        (plan.scopes.len() * plan.types.len() * plan.origins) as u64,
        "backtest [{bar:30}] {pos}/{len} origins x models {msg} eta {eta}",
        req.quiet,
    );
    let tick = |what: &str| {
        bar.set_message(what.to_string());
        bar.inc(1);
    };
    let env = RunEnv {
        reg: Registry::open(&models)?,
        device,
        tick: &tick,
    };
    let report = run_backtest(&data, &plan, &env)?;
    bar.finish_and_clear();
    if json {
        print_json(&report)
    } else {
        print_backtest(&report);
        if let Some(dir) = &req.keep {
            println!("models kept in {}", dir.display());
        }
        Ok(())
    }
}
