//! `shoptrain export`: weights + metadata for the browser, and a manifest
//! `index.json` holding, per model, a sample history and the native forecast
//! of it (what the browser must reproduce).

use crate::atomic::write_atomic;
use crate::lookup::series_for;
use crate::output::print_json;
use crate::registry::{now, Registry};
use crate::store::load_data;
use anyhow::{Context, Result};
use shoptrain_shared::features::{Series, CALENDAR_FEATURES};
use shoptrain_shared::manifest::{
    model_files, sample_file, Manifest, ManifestEntry, NativeForecast, FORMAT,
};
use shoptrain_shared::naming::Artifact;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Extra days of history shown before the model's window.
const CONTEXT_DAYS: usize = 28;

/// Decimals kept in sample histories: sums and means over stores carry float
/// noise (`17.445999999999998`) that nobody wants to read in a text box.
const SAMPLE_DECIMALS: i32 = 4;

/// The last rows of a series as CSV with `date` and the model's data columns.
pub fn history_csv(series: &Series, features: &[String], rows: usize) -> String {
    let cols: Vec<usize> = features
        .iter()
        .filter(|f| !CALENDAR_FEATURES.contains(&f.as_str()))
        .filter_map(|f| series.columns.iter().position(|c| c == f))
        .collect();
    let mut out = String::from("date");
    for c in &cols {
        out.push(',');
        out.push_str(&series.columns[*c]);
    }
    out.push('\n');
    let start = series.dates.len().saturating_sub(rows);
    for t in start..series.dates.len() {
        let _ = write!(out, "{}", series.dates[t]);
        for c in &cols {
            let _ = write!(out, ",{}", round_decimals(series.values[*c][t]));
        }
        out.push('\n');
    }
    out
}

/// Rounds to `SAMPLE_DECIMALS`; `Display` then prints the shortest form.
fn round_decimals(v: f64) -> f64 {
    let scale = 10f64.powi(SAMPLE_DECIMALS);
    (v * scale).round() / scale
}

/// Which models go where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Prefixes or aliases.
    pub models: Vec<String>,
    pub out: PathBuf,
    /// Where sample histories come from; each model's training data if `None`.
    pub data: Option<PathBuf>,
}

pub fn run(dir: &Path, args: &ExportOptions, json: bool) -> Result<()> {
    let reg = Registry::open(dir)?;
    let mut entries = Vec::new();
    for name in &args.models {
        let prefix = reg.resolve(name)?;
        let forecaster = reg.load_forecaster(&prefix)?;
        let meta = &forecaster.meta;
        let data_path = args
            .data
            .clone()
            .unwrap_or_else(|| meta.data.path.clone().into());
        let data = load_data(dir, &data_path, None).with_context(|| {
            format!("sample history for {prefix} (pass --data to choose a file)")
        })?;
        let series = series_for(meta, &data, None, None)?;
        let csv = history_csv(&series, &meta.features, meta.window + CONTEXT_DAYS);
        // The native forecast goes through the same CSV text the browser gets.
        let forecast = forecaster.predict(&Series::from_csv(&csv)?, None)?;
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        // the sample as a file too, for widgets that read history from a URL
        write_atomic(&args.out.join(sample_file(&prefix)), csv.as_bytes())?;
        for kind in [Artifact::Weights, Artifact::Metadata] {
            let file = kind.file_name(&prefix);
            write_atomic(&args.out.join(&file), &reg.read_artifact(&prefix, kind)?)?;
        }
        let version = meta.versioned_name()?.version;
        let (weights, metadata) = model_files(&prefix);
        entries.push(ManifestEntry {
            prefix: prefix.clone(),
            version,
            model_type: meta.model_type,
            mode: meta.mode,
            scope: meta.scope.clone(),
            scope_ids: meta.scope_ids.clone(),
            series: series.label.clone(),
            window: meta.window,
            horizon: meta.horizon,
            features: meta.features.clone(),
            weights,
            metadata,
            sample: sample_file(&prefix),
            metrics: meta.metrics.clone(),
            quantile_metrics: meta.quantile_metrics.clone(),
            sample_history_csv: csv,
            native_forecast: NativeForecast {
                dates: forecast.dates.iter().map(|d| d.to_string()).collect(),
                values: forecast.values,
                quantiles: forecast.quantiles,
            },
        });
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        exported_at: now(),
        models: entries,
    };
    write_atomic(&args.out.join("index.json"), manifest.to_json()?.as_bytes())?;
    if json {
        print_json(&manifest.models)?;
    } else {
        println!(
            "exported {} model(s) to {}",
            args.models.len(),
            args.out.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn sample_history_has_no_float_noise() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let series = Series {
            label: "product P001 at all stores".into(),
            dates: vec![day(1), day(2), day(3)],
            columns: vec!["sales".into(), "price".into()],
            values: vec![
                vec![106.0, 182.0, 0.1 + 0.2],
                vec![17.445999999999998, 6.4799999999999995, 2.00004],
            ],
        };
        let features = ["sales", "price", "dow_sin"].map(String::from);
        assert_eq!(
            history_csv(&series, &features, 2),
            "date,sales,price\n2024-01-02,182,6.48\n2024-01-03,0.3,2\n"
        );
    }
}
