//! The model-and-series lookup `predict`, `evaluate`, `export` and the
//! `--each` commands share: a prefix or alias, its forecaster, the data file
//! and the series the model forecasts in it.

use crate::data::LoadedData;
use crate::registry::Registry;
use crate::store::load_data;
use anyhow::{bail, Context, Result};
use shoptrain_shared::features::{Fill, Series};
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::metadata::ModelMetadata;
use shoptrain_shared::naming::Scope;
use std::path::{Path, PathBuf};

/// Which model forecasts which series of which file.
#[derive(Debug, Clone)]
pub struct ForecastOptions {
    /// Prefix or alias.
    pub model: String,
    pub data: PathBuf,
    /// For global models: the series to forecast.
    pub store: Option<String>,
    pub product: Option<String>,
}

/// The series a model forecasts, from a data file.
pub fn series_for(
    meta: &ModelMetadata,
    data: &LoadedData,
    store: Option<&str>,
    product: Option<&str>,
) -> Result<Series> {
    let scope = scope_for(meta, data, store, product)?;
    let fill = Fill::from_recorded(&meta.data.fill);
    let mut series = data.dataset.select(&scope, fill)?;
    series.pop().context("no series selected")
}

/// Which series of `data` a model forecasts: its own scope, or for a
/// global model the one `--store`/`--product` name (the first when none).
pub fn scope_for(
    meta: &ModelMetadata,
    data: &LoadedData,
    store: Option<&str>,
    product: Option<&str>,
) -> Result<Scope> {
    let scope = meta.versioned_name()?.name.scope;
    Ok(match scope {
        Scope::Global => match (store, product) {
            (Some(s), Some(p)) => Scope::Store {
                store: s.into(),
                product: Some(p.into()),
            },
            (None, None) => {
                let first = data.dataset.rows.first().context("no rows")?;
                Scope::Store {
                    store: first.store.clone(),
                    product: Some(first.product.clone()),
                }
            }
            _ => bail!("a global model forecasts one series: give both --store and --product"),
        },
        s => {
            if store.is_some() || product.is_some() {
                bail!(
                    "{} forecasts its own series; --store/--product apply to global models only",
                    meta.prefix
                );
            }
            s
        }
    })
}

/// What `predict` and `evaluate` both start from.
pub struct Opened {
    pub reg: Registry,
    pub prefix: String,
    pub forecaster: Forecaster,
    pub data: LoadedData,
    pub scope: Scope,
    pub series: Series,
}

impl Opened {
    pub fn target(&self) -> Target<'_> {
        Target {
            reg: &self.reg,
            prefix: &self.prefix,
            forecaster: &self.forecaster,
            data: &self.data,
            series: &self.series,
        }
    }
}

/// A model and its series, borrowed (one of many for `--each`).
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub reg: &'a Registry,
    pub prefix: &'a str,
    pub forecaster: &'a Forecaster,
    pub data: &'a LoadedData,
    pub series: &'a Series,
}

/// Resolves the model, loads its forecaster and finds its series.
pub fn open_model_and_series(dir: &Path, opts: &ForecastOptions) -> Result<Opened> {
    let reg = Registry::open(dir)?;
    let prefix = reg.resolve(&opts.model)?;
    let forecaster = reg.load_forecaster(&prefix)?;
    let data = load_data(dir, &opts.data, None)?;
    let (store, product) = (opts.store.as_deref(), opts.product.as_deref());
    let scope = scope_for(&forecaster.meta, &data, store, product)?;
    let series = series_for(&forecaster.meta, &data, store, product)?;
    Ok(Opened {
        reg,
        prefix,
        forecaster,
        data,
        scope,
        series,
    })
}
