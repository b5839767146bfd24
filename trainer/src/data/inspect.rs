//! `shoptrain data inspect`: what a dataset holds.

use super::LoadedData;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct ColumnStats {
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub path: String,
    pub sha256: String,
    pub rows: usize,
    pub stores: usize,
    pub products: usize,
    pub series: usize,
    pub date_min: String,
    pub date_max: String,
    /// Series with missing days, and how many days are missing in all.
    pub series_with_gaps: usize,
    pub missing_days: i64,
    pub columns: Vec<ColumnStats>,
}

pub fn inspect(data: &LoadedData) -> Inspection {
    let ds = &data.dataset;
    let mut per_series: BTreeMap<(&str, &str), Vec<chrono::NaiveDate>> = BTreeMap::new();
    for r in &ds.rows {
        per_series
            .entry((&r.store, &r.product))
            .or_default()
            .push(r.date);
    }
    let mut series_with_gaps = 0;
    let mut missing_days = 0;
    for dates in per_series.values_mut() {
        dates.sort();
        let span = (*dates.last().unwrap_or(&data.date_min) - dates[0]).num_days() + 1;
        let missing = span - dates.len() as i64;
        if missing > 0 {
            series_with_gaps += 1;
            missing_days += missing;
        }
    }
    let columns = ds
        .columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let vals = ds.rows.iter().map(|r| r.values[c]);
            let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
            for v in vals {
                min = min.min(v);
                max = max.max(v);
                sum += v;
            }
            ColumnStats {
                name: name.clone(),
                min,
                max,
                mean: sum / ds.rows.len().max(1) as f64,
            }
        })
        .collect();
    Inspection {
        path: data.path.clone(),
        sha256: data.sha256.clone(),
        rows: ds.rows.len(),
        stores: ds.stores().len(),
        products: ds.products().len(),
        series: per_series.len(),
        date_min: data.date_min.to_string(),
        date_max: data.date_max.to_string(),
        series_with_gaps,
        missing_days,
        columns,
    }
}
