//! `shoptrain predict`: the days after a data file's last date.

use crate::lookup::{open_model_and_series, ForecastOptions};
use crate::output::{print_forecast, Format};
use anyhow::{bail, Context, Result};
use shoptrain_shared::features::Series;
use std::path::Path;
use std::time::Instant;

pub fn run(
    dir: &Path,
    opts: &ForecastOptions,
    future: Option<&Path>,
    format: Format,
) -> Result<()> {
    let o = open_model_and_series(dir, opts)?;
    let future = future
        .map(|path| -> Result<Series> {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --future {}", path.display()))?;
            Series::from_csv(&text).with_context(|| format!("--future {}", path.display()))
        })
        .transpose()?;
    if future.is_some() && o.forecaster.meta.known_future.is_none() {
        bail!(
            "{} reads no known-future columns, so --future has nothing to give it; leave it out",
            o.prefix
        );
    }
    let t0 = Instant::now();
    let forecast = o.forecaster.predict(&o.series, future.as_ref())?;
    let seconds = t0.elapsed().as_secs_f64();
    o.reg.log_prediction(
        &o.prefix,
        "predict",
        &o.data.sha256,
        o.forecaster.horizon(),
        seconds,
    )?;
    // for `monitor`, once these days are sold
    o.reg.record_forecast(
        &o.prefix,
        &o.scope,
        &o.series.label,
        &o.data.path,
        &forecast,
    )?;
    print_forecast(&o.prefix, &forecast, format)
}
