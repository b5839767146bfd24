//! `shoptrain evaluate`: a rolling-origin backtest of a trained model on a
//! data file, beside naive baselines (`crate::evaluation`).

use crate::baselines::ETS;
use crate::evaluation::evaluate;
use crate::lookup::{open_model_and_series, ForecastOptions};
use crate::output::{evaluation_json, print_json, print_metrics_table, print_quantile_table};
use anyhow::Result;
use shoptrain_shared::metrics::QuantileMetrics;
use std::path::Path;

pub fn run(dir: &Path, opts: &ForecastOptions, windows: usize, json: bool) -> Result<()> {
    let o = open_model_and_series(dir, opts)?;
    let e = evaluate(o.target(), windows)?;
    if json {
        print_json(&evaluation_json(&e))
    } else {
        println!(
            "rolling-origin backtest of {} on {}: {windows} windows x {} days (MASE: each window scaled by the history before it)",
            e.prefix, e.series, e.horizon
        );
        print_metrics_table(&e.metrics_rows());
        if !e.quantile_metrics.is_empty() {
            println!();
            let rows: Vec<(&str, QuantileMetrics)> = e
                .quantile_metrics
                .iter()
                .map(|(n, m)| (n.as_str(), m.clone()))
                .collect();
            print_quantile_table(&rows);
        }
        if let Some(err) = &e.ets_error {
            println!("{ETS}: no forecast: {err}");
        }
        Ok(())
    }
}
