//! `shoptrain monitor`: recorded forecasts scored against the sales since
//! imported; fails when a model in use is drifting.

use crate::monitor::{monitor, DriftFound, MonitorReport};
use crate::output::{print_json, print_monitor};
use crate::plot::{draw_weekly, WeeklyLine};
use crate::registry::Registry;
use crate::store::load_data;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A checked `monitor` command.
pub struct MonitorRequest {
    pub data: PathBuf,
    pub weeks: usize,
    pub png: Option<PathBuf>,
}

/// Models drawn one line each; more are drawn as their mean.
const LINES: usize = 6;

pub fn run(dir: &Path, req: &MonitorRequest, json: bool) -> Result<()> {
    let data = load_data(dir, &req.data, None)?;
    let reg = Registry::open(dir)?;
    let report = monitor(&reg, &data, req.weeks)?;
    if let Some(png) = &req.png {
        // a chart that cannot be drawn costs the user the picture, not the table
        if let Err(e) = chart(png, &report) {
            eprintln!("warning: no chart written to {}: {e:#}", png.display());
        }
    }
    if json {
        print_json(&report)?;
    } else {
        print_monitor(&report);
    }
    if !report.drifting.is_empty() {
        let names: Vec<&str> = report.drifting.iter().map(|d| d.prefix.as_str()).collect();
        return Err(DriftFound(format!(
            "{} model(s) in use forecast worse than seasonal naive in each of their last {} weeks: {}; `shoptrain sync --when-drifting --weeks {}` retrains them",
            names.len(),
            req.weeks,
            names.join(", "),
            req.weeks
        ))
        .into());
    }
    Ok(())
}

/// Weekly MASE of each model (or their mean) beside seasonal naive's.
fn chart(path: &Path, report: &MonitorReport) -> Result<()> {
    let weeks: Vec<chrono::NaiveDate> = report
        .weeks
        .iter()
        .map(|w| w.week)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if weeks.is_empty() {
        bail!("no recorded forecast has been sold yet");
    }
    let at = |w: chrono::NaiveDate| weeks.iter().position(|x| *x == w).unwrap_or(0);
    let mut per_model: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    let mut sums = vec![(0.0, 0.0, 0usize); weeks.len()];
    for w in &report.weeks {
        let i = at(w.week);
        per_model
            .entry(&w.prefix)
            .or_insert_with(|| vec![None; weeks.len()])[i] = Some(w.mase);
        sums[i].0 += w.mase;
        sums[i].1 += w.seasonal_naive_mase;
        sums[i].2 += 1;
    }
    let mean = |pick: fn(&(f64, f64, usize)) -> f64| -> Vec<Option<f64>> {
        sums.iter()
            .map(|s| (s.2 > 0).then(|| pick(s) / s.2 as f64))
            .collect()
    };
    let mut lines: Vec<WeeklyLine> = if per_model.len() <= LINES {
        per_model
            .into_iter()
            .map(|(prefix, values)| WeeklyLine {
                label: prefix.to_string(),
                values,
                dashed: false,
            })
            .collect()
    } else {
        vec![WeeklyLine {
            label: format!("{} models (mean)", per_model.len()),
            values: mean(|s| s.0),
            dashed: false,
        }]
    };
    lines.push(WeeklyLine {
        label: "seasonal naive (mean)".into(),
        values: mean(|s| s.1),
        dashed: true,
    });
    draw_weekly(
        path,
        "Recorded forecasts against sales",
        "MASE (lower is better)",
        &weeks,
        &lines,
    )
}
