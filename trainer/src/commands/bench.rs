//! `shoptrain bench`: the measurements of `crate::bench`, printed.

use crate::bench::{measure, BenchOptions};
use crate::output::{print_bench_table, print_json};
use anyhow::Result;

pub fn run(args: &BenchOptions, json: bool) -> Result<()> {
    let report = measure(args)?;
    if json {
        print_json(&report)?;
    } else {
        eprintln!(
            "bench on {}: {} training windows of {} days x {} features from {} series",
            report.device, report.train_windows, report.window, report.features, report.series
        );
        print_bench_table(&report.models);
    }
    Ok(())
}
