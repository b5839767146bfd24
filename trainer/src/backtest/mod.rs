//! Rolling-origin backtests (the protocol of QUALITY.md, Protocol): at
//! each of K origins, `horizon` days apart at the end of a series, every
//! forecaster sees only the days before the origin; models are trained on
//! those days (once before the first origin, or again at each one) into a
//! models folder of their own.

mod score;

pub use score::{MeanScore, Score};

use crate::baselines::{ets_with_quantiles, naive_forecast, ETS, SEASONAL_NAIVE};
use crate::batch::{select_series, Each};
use crate::data::LoadedData;
use crate::registry::Registry;
use crate::training::{prepare, train_new, Prepared, Start, TrainOptions};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use score::{means, OriginScores};
use serde::Serialize;
use shoptrain_shared::features::{feature_names, Series};
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::naming::{ModelType, Scope};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// When models are trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Refit {
    /// One model per type, trained on the days before the first origin.
    Once,
    /// A model per type and origin, trained on the days before that origin.
    Each,
}

/// A checked backtest: which series, which models, how.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scopes: Vec<Scope>,
    pub types: Vec<ModelType>,
    pub origins: usize,
    pub refit: Refit,
    pub opts: TrainOptions,
}

/// Every forecaster's scores on one series.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesScores {
    pub series: String,
    pub days: usize,
    pub scores: BTreeMap<String, Score>,
    /// The type `best` stands for: the lowest validation MASE of the models
    /// trained before the first origin (as `--type best` picks), never the
    /// test weeks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<ModelType>,
}

/// The name of the default pick's scores in a backtest report.
pub const BEST: &str = "best";

#[derive(Debug, Clone, Serialize)]
pub struct BacktestReport {
    pub data: String,
    pub origins: usize,
    pub horizon: usize,
    pub refit: Refit,
    pub series: Vec<SeriesScores>,
    /// Means over series, by forecaster.
    pub mean: BTreeMap<String, MeanScore>,
}

/// Every (store, product) series of a file, and their total where one
/// scope sums them all (one store, or one product).
pub fn every_series(data: &LoadedData) -> Result<Vec<Scope>> {
    let mut scopes = select_series(&data.dataset, Each::Series, None, None)?;
    let pairs = scopes.len();
    let (stores, products) = (data.dataset.stores(), data.dataset.products());
    if pairs > 1 && stores.len() == 1 {
        scopes.push(Scope::store(&stores[0], None)?);
    } else if pairs > 1 && products.len() == 1 {
        scopes.push(Scope::product(&products[0], None)?);
    }
    Ok(scopes)
}

/// The first `days` days of a series.
pub fn head(series: &Series, days: usize) -> Series {
    Series {
        label: series.label.clone(),
        dates: series.dates[..days].to_vec(),
        columns: series.columns.clone(),
        values: series.values.iter().map(|c| c[..days].to_vec()).collect(),
    }
}

/// Runs the plan, training into `env`'s registry.
pub fn run(data: &LoadedData, plan: &Plan, env: &RunEnv) -> Result<BacktestReport> {
    let mut series = Vec::new();
    for scope in &plan.scopes {
        series.push(backtest_series(data, plan, scope, env)?);
    }
    Ok(BacktestReport {
        data: data.path.clone(),
        origins: plan.origins,
        horizon: plan.opts.horizon,
        refit: plan.refit,
        mean: means(series.iter().map(|s| &s.scores)),
        series,
    })
}

/// Origin indices into a series of `days` days: the last `k` blocks of `h`.
fn origin_indices(days: usize, k: usize, h: usize, label: &str, need: usize) -> Result<Vec<usize>> {
    if k == 0 || days < need + k * h {
        bail!(
            "{label} has {days} days; a backtest with {k} origins of {h} days needs at least {} (the last {} days plus {need} to train on); use fewer --origins or a longer file",
            need + k * h,
            k * h
        );
    }
    Ok((0..k).map(|i| days - (k - i) * h).collect())
}

fn backtest_series(
    data: &LoadedData,
    plan: &Plan,
    scope: &Scope,
    env: &RunEnv,
) -> Result<SeriesScores> {
    let mut selected = data.dataset.select(scope, plan.opts.fill)?;
    let series = selected.pop().context("no series selected")?;
    let sales: Vec<f32> = series.values[0].iter().map(|v| *v as f32).collect();
    let (h, need) = (plan.opts.horizon, plan.opts.window + 4 * plan.opts.horizon);
    let origins = origin_indices(sales.len(), plan.origins, h, &series.label, need)?;
    let run = SeriesRun {
        data,
        plan,
        scope,
        series,
        sales,
        origins,
        env,
        prepared: RefCell::default(),
    };
    let mut scores = run.baselines();
    let mut best: Option<(f64, ModelType)> = None;
    for &t in &plan.types {
        let (score, val_mase) = run.model(t);
        if score.error.is_none() && best.is_none_or(|(b, _)| val_mase < b) {
            best = Some((val_mase, t));
        }
        scores.insert(t.to_string(), score);
    }
    let best = best.filter(|_| plan.types.len() > 1).map(|(_, t)| t);
    if let Some(score) = best.and_then(|t| scores.get(&t.to_string()).cloned()) {
        scores.insert(BEST.to_string(), score);
    }
    Ok(SeriesScores {
        series: run.series.label.clone(),
        days: run.sales.len(),
        scores,
        best,
    })
}

/// What every series of a run shares: the models folder, the device and
/// the progress callback.
pub struct RunEnv<'a> {
    pub reg: Registry,
    pub device: (Device, String),
    pub tick: &'a dyn Fn(&str),
}

/// One series being backtested.
struct SeriesRun<'a> {
    data: &'a LoadedData,
    plan: &'a Plan,
    scope: &'a Scope,
    series: Series,
    sales: Vec<f32>,
    origins: Vec<usize>,
    env: &'a RunEnv<'a>,
    /// Training data and windows by origin (see `prepared_at`).
    prepared: RefCell<BTreeMap<usize, Rc<(LoadedData, Prepared)>>>,
}

impl SeriesRun<'_> {
    /// `(history, actual)` at an origin.
    fn split(&self, o: usize) -> (&[f32], &[f32]) {
        (&self.sales[..o], &self.sales[o..o + self.plan.opts.horizon])
    }

    fn baselines(&self) -> BTreeMap<String, Score> {
        let h = self.plan.opts.horizon;
        let (mut naive, mut ets, mut ets_error) =
            (OriginScores::default(), OriginScores::default(), None);
        for &o in &self.origins {
            let (history, actual) = self.split(o);
            if let Some(f) = naive_forecast(history, h) {
                naive.add(history, actual, &f, None);
            }
            match ets_with_quantiles(history, h, &self.plan.opts.quantiles) {
                Ok((f, q)) => ets.add(history, actual, &f, q.as_ref()),
                Err(e) => ets_error = Some(e),
            }
        }
        let ets = match ets_error {
            Some(e) => Score::failed(e),
            None => ets.finish(),
        };
        BTreeMap::from([
            (SEASONAL_NAIVE.to_string(), naive.finish()),
            (ETS.to_string(), ets),
        ])
    }

    /// A model type's score and the validation MASE of its first model; a
    /// run that fails is recorded as failed.
    fn model(&self, t: ModelType) -> (Score, f64) {
        match self.try_model(t) {
            Ok(done) => done,
            Err(e) => (Score::failed(format!("{e:#}")), f64::INFINITY),
        }
    }

    fn try_model(&self, t: ModelType) -> Result<(Score, f64)> {
        let mut scores = OriginScores::default();
        let mut forecaster: Option<Forecaster> = None;
        let mut val_mase = f64::INFINITY;
        for (i, &o) in self.origins.iter().enumerate() {
            let current = match forecaster.take() {
                Some(f) if i > 0 && self.plan.refit == Refit::Once => f,
                _ => self.train(t, o)?,
            };
            if i == 0 {
                val_mase = current
                    .meta
                    .metrics
                    .as_ref()
                    .map_or(f64::INFINITY, |m| m.mase);
            }
            let f = current.predict(&head(&self.series, o), Some(&self.series))?;
            let (history, actual) = self.split(o);
            scores.add(history, actual, &f.values, f.quantiles.as_ref());
            forecaster = Some(current);
            (self.env.tick)(&format!("{} {t}", self.series.label));
        }
        Ok((scores.finish(), val_mase))
    }

    /// The data before origin `o` and its windows, made once per origin and
    /// shared by every model type (so are the baselines computed on them).
    fn prepared_at(&self, o: usize) -> Result<Rc<(LoadedData, Prepared)>> {
        if let Some(done) = self.prepared.borrow().get(&o) {
            return Ok(done.clone());
        }
        let cut = self.data.before(self.series.dates[o]);
        let features = feature_names(&cut.dataset.columns[1..]);
        let prepared = prepare(&cut, self.scope, &features, &self.plan.opts)?;
        let done = Rc::new((cut, prepared));
        self.prepared.borrow_mut().insert(o, done.clone());
        Ok(done)
    }

    /// A new model of type `t` trained on every day before origin `o`.
    fn train(&self, t: ModelType, o: usize) -> Result<Forecaster> {
        let done = self.prepared_at(o)?;
        let (cut, prepared) = &*done;
        let report = train_new(
            &self.env.reg,
            cut,
            t,
            prepared,
            &self.env.device,
            &self.plan.opts,
            Start::Fresh,
        )?;
        self.env.reg.load_forecaster(&report.prefix)
    }
}
