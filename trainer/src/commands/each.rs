//! `predict --each` and `evaluate --each`: the chosen model of every
//! selected series, forecast or scored into one table — the file a buyer
//! orders from.

use crate::batch::{chosen_models, select_series, Each, Pick};
use crate::data::LoadedData;
use crate::evaluation::{evaluate as evaluate_one, Evaluation};
use crate::lookup::{series_for, Target};
use crate::output::{
    evaluation_json, print_each_evaluation, print_each_forecast, print_json, EachForecast, Format,
};
use crate::registry::Registry;
use crate::store::load_data;
use anyhow::{Context, Result};
use shoptrain_shared::features::Series;
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::naming::Scope;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The series and the model of each.
#[derive(Debug, Clone)]
pub struct EachOptions {
    pub data: PathBuf,
    pub each: Each,
    /// Filters: one product / store, or every one.
    pub product: Option<String>,
    pub store: Option<String>,
    pub pick: Pick,
}

struct Chosen {
    scope: Scope,
    store: String,
    product: String,
    prefix: String,
    forecaster: Forecaster,
    series: Series,
}

/// Every selected series with its model loaded; fails before forecasting
/// anything when a series has no model.
fn open_each(dir: &Path, opts: &EachOptions) -> Result<(Registry, LoadedData, Vec<Chosen>)> {
    let data = load_data(dir, &opts.data, None)?;
    let scopes = select_series(
        &data.dataset,
        opts.each,
        opts.product.as_deref(),
        opts.store.as_deref(),
    )?;
    let reg = Registry::open(dir)?;
    let prefixes = chosen_models(&reg, &scopes, opts.pick)?;
    let mut chosen = Vec::with_capacity(scopes.len());
    for (scope, prefix) in scopes.iter().zip(prefixes) {
        let forecaster = reg.load_forecaster(&prefix)?;
        let series = series_for(&forecaster.meta, &data, None, None)
            .with_context(|| format!("the series of {prefix}"))?;
        chosen.push(Chosen {
            scope: scope.clone(),
            store: scope.store_id().unwrap_or("all").to_string(),
            product: scope.product_id().unwrap_or("all").to_string(),
            prefix,
            forecaster,
            series,
        });
    }
    Ok((reg, data, chosen))
}

pub fn predict(dir: &Path, opts: &EachOptions, format: Format) -> Result<()> {
    let (reg, data, chosen) = open_each(dir, opts)?;
    let mut rows = Vec::with_capacity(chosen.len());
    for c in chosen {
        let t0 = Instant::now();
        let forecast = c
            .forecaster
            .predict(&c.series, None)
            .with_context(|| format!("forecasting {} with {}", c.series.label, c.prefix))?;
        let seconds = t0.elapsed().as_secs_f64();
        reg.log_prediction(
            &c.prefix,
            "predict",
            &data.sha256,
            c.forecaster.horizon(),
            seconds,
        )?;
        reg.record_forecast(&c.prefix, &c.scope, &c.series.label, &data.path, &forecast)?;
        rows.push(EachForecast {
            store: c.store,
            product: c.product,
            model: c.prefix,
            forecast,
        });
    }
    print_each_forecast(&rows, format)
}

pub fn evaluate(dir: &Path, opts: &EachOptions, windows: usize, json: bool) -> Result<()> {
    let (reg, data, chosen) = open_each(dir, opts)?;
    let mut rows: Vec<(String, String, Evaluation)> = Vec::with_capacity(chosen.len());
    for c in &chosen {
        let target = Target {
            reg: &reg,
            prefix: &c.prefix,
            forecaster: &c.forecaster,
            data: &data,
            series: &c.series,
        };
        rows.push((
            c.store.clone(),
            c.product.clone(),
            evaluate_one(target, windows)?,
        ));
    }
    if json {
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|(store, product, e)| {
                let mut v = evaluation_json(e);
                v["store"] = store.as_str().into();
                v["product"] = product.as_str().into();
                v
            })
            .collect();
        print_json(&out)
    } else {
        print_each_evaluation(&rows);
        Ok(())
    }
}
