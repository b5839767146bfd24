//! Everything commands print: tables for people, JSON for programs.

use crate::backtest::{BacktestReport, MeanScore, Refit, Score};
use crate::baselines::{ETS, SEASONAL_NAIVE};
use crate::batch::{BatchReport, TaskState};
use crate::bench::BenchRow;
use crate::data::inspect::Inspection;
use crate::evaluation::Evaluation;
use crate::registry::{AliasEvent, ModelRow};
use crate::training::{Counting, Progress, ProgressSink, TrainReport};
use anyhow::Result;
use serde::Serialize;
use shoptrain_shared::forecast::Forecast;
use shoptrain_shared::metadata::{EpochRecord, ModelMetadata};
use shoptrain_shared::metrics::{level_name, Metrics, QuantileMetrics};

/// How `predict` prints a forecast.
#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// A progress bar on stderr with `template` (indicatif's syntax), or a
/// hidden one when `quiet`.
/// A terminal progress bar (indicatif) for a training run or a batch: what
/// the command line hands training unless `--quiet` or `--json`.
#[derive(Default)]
pub struct Bar {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Bar {
    fn with<F: FnOnce(&mut Option<indicatif::ProgressBar>)>(&self, f: F) {
        // a panic elsewhere while drawing leaves the bar usable
        f(&mut self.bar.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl Progress for Bar {
    fn start(&self, counting: Counting, name: &str, total: u64, done: u64) {
        let template = match counting {
            Counting::Epochs => "{prefix} [{bar:30}] epoch {pos}/{len} {msg} eta {eta}",
            Counting::Models => "{prefix} [{bar:30}] {pos}/{len} models, eta {eta} {msg}",
        };
        let bar = progress_bar(total, template, false);
        bar.set_prefix(name.to_string());
        bar.set_position(done);
        self.with(|b| *b = Some(bar));
    }
    fn step(&self, done: u64, note: &str) {
        self.with(|b| {
            if let Some(bar) = b {
                bar.set_message(note.to_string());
                bar.set_position(done);
            }
        });
    }
    fn finish(&self) {
        self.with(|b| {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        });
    }
}

/// The progress a command reports to: a bar, or nothing when `quiet`.
pub fn progress_for(quiet: bool) -> ProgressSink {
    if quiet {
        ProgressSink::silent()
    } else {
        ProgressSink(std::sync::Arc::new(Bar::default()))
    }
}

pub fn progress_bar(len: u64, template: &str, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn print_inspection(report: &Inspection) {
    println!("file      {}", report.path);
    println!("sha256    {}", report.sha256);
    println!("rows      {}", report.rows);
    println!(
        "series    {} ({} stores x {} products)",
        report.series, report.stores, report.products
    );
    println!("dates     {} to {}", report.date_min, report.date_max);
    println!(
        "gaps      {} series miss {} days in all",
        report.series_with_gaps, report.missing_days
    );
    println!(
        "{:<14} {:>12} {:>12} {:>12}",
        "column", "min", "mean", "max"
    );
    for c in &report.columns {
        println!(
            "{:<14} {:>12.3} {:>12.3} {:>12.3}",
            c.name, c.min, c.mean, c.max
        );
    }
}

pub fn print_train_report(r: &TrainReport) {
    let m = r.metrics.as_ref();
    let mase_of = |name: &str| {
        r.baselines
            .get(name)
            .map_or("-".into(), |b| format!("{:.3}", b.mase))
    };
    println!(
        "{} {} on {}: {} epochs (best {}), val RMSE {:.3} MAE {:.3} MASE {:.3} (seasonal naive {}, ETS {}), {:.0} windows/s",
        r.prefix,
        r.status.as_str(),
        r.device,
        r.epochs_run,
        r.best_epoch.map_or("-".into(), |e| e.to_string()),
        m.map_or(f64::NAN, |m| m.rmse),
        m.map_or(f64::NAN, |m| m.mae),
        m.map_or(f64::NAN, |m| m.mase),
        mase_of(SEASONAL_NAIVE),
        mase_of(ETS),
        r.windows_per_second
    );
    if let Some(q) = &r.quantile_metrics {
        println!(
            "  {}-{} interval holds {:.0}% of the validation days, scaled WIS {:.3}",
            level_name(q.interval[0]),
            level_name(q.interval[1]),
            100.0 * q.coverage,
            q.scaled_wis
        );
    }
    for (name, why) in &r.baseline_errors {
        println!("  {name}: {why}");
    }
}

/// A forecast's columns after the date: `sales` for a point forecast, one
/// per quantile level (`p10`, `p50`, `p90`) for a quantile forecast.
fn forecast_columns(f: &Forecast) -> Vec<(String, &[f32])> {
    match &f.quantiles {
        Some(q) => q
            .levels
            .iter()
            .zip(&q.values)
            .map(|(l, v)| (level_name(*l), v.as_slice()))
            .collect(),
        None => vec![("sales".to_string(), f.values.as_slice())],
    }
}

pub fn print_forecast(prefix: &str, f: &Forecast, format: Format) -> Result<()> {
    let columns = forecast_columns(f);
    match format {
        Format::Table => {
            print!("{:<12}", "date");
            for (name, _) in &columns {
                print!(" {name:>10}");
            }
            println!();
            for (d, date) in f.dates.iter().enumerate() {
                print!("{:<12}", date.to_string());
                for (_, v) in &columns {
                    print!(" {:>10.2}", v[d]);
                }
                println!();
            }
        }
        Format::Csv => {
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            println!("date,{}", names.join(","));
            for (d, date) in f.dates.iter().enumerate() {
                let values: Vec<String> = columns.iter().map(|(_, v)| v[d].to_string()).collect();
                println!("{date},{}", values.join(","));
            }
        }
        Format::Json => {
            let rows: Vec<_> = f
                .dates
                .iter()
                .enumerate()
                .map(|(d, date)| {
                    let mut row =
                        serde_json::json!({"date": date.to_string(), "sales": f.values[d]});
                    for (name, v) in &columns {
                        row[name] = serde_json::json!(v[d]);
                    }
                    row
                })
                .collect();
            let levels = f.quantiles.as_ref().map(|q| q.levels.clone());
            print_json(
                &serde_json::json!({"model": prefix, "quantiles": levels, "forecast": rows}),
            )?;
        }
    }
    Ok(())
}

pub fn print_metrics_table(rows: &[(&str, Metrics)]) {
    println!(
        "{:<34} {:>9} {:>9} {:>8} {:>8} {:>7} {:>7}",
        "forecast", "RMSE", "MAE", "MAPE%", "sMAPE%", "R2", "MASE"
    );
    for (name, m) in rows {
        println!(
            "{:<34} {:>9.3} {:>9.3} {:>8.2} {:>8.2} {:>7.3} {:>7.3}",
            name, m.rmse, m.mae, m.mape, m.smape, m.r2, m.mase
        );
    }
}

/// How quantile forecasts fared: the interval's coverage, mean pinball
/// loss and WIS (sales units) and WIS scaled like MASE.
pub fn print_quantile_table(rows: &[(&str, QuantileMetrics)]) {
    println!(
        "{:<34} {:>14} {:>9} {:>9} {:>10}",
        "quantiles", "coverage", "pinball", "WIS", "scaled WIS"
    );
    for (name, m) in rows {
        let interval = format!(
            "{}-{} {:.0}%",
            level_name(m.interval[0]),
            level_name(m.interval[1]),
            100.0 * m.coverage
        );
        println!(
            "{:<34} {:>14} {:>9.3} {:>9.3} {:>10.3}",
            name, interval, m.pinball, m.wis, m.scaled_wis
        );
    }
}

/// Named metrics as one JSON object, name → metrics.
pub fn metrics_json(rows: &[(&str, Metrics)]) -> serde_json::Map<String, serde_json::Value> {
    rows.iter()
        .map(|(n, m)| (n.to_string(), serde_json::to_value(m).unwrap_or_default()))
        .collect()
}

pub fn print_model_rows(rows: &[ModelRow]) {
    println!(
        "{:<44} {:<11} {:<12} {:>9} {:>7}  created",
        "prefix", "type", "status", "RMSE", "MASE"
    );
    for r in rows {
        let metric = |k: &str| {
            r.metrics
                .as_ref()
                .and_then(|m| m.get(k))
                .and_then(|v| v.as_f64())
                .map_or("-".to_string(), |v| format!("{v:.3}"))
        };
        println!(
            "{:<44} {:<11} {:<12} {:>9} {:>7}  {}",
            r.prefix,
            r.model_type.as_str(),
            r.status.as_str(),
            metric("rmse"),
            metric("mase"),
            r.created_at
        );
    }
}

/// `models show` for people: the row, settings, data, epochs.
pub fn print_model_details(
    row: &ModelRow,
    meta: Option<&ModelMetadata>,
    epochs: &[EpochRecord],
    predictions: i64,
) {
    print_model_rows(std::slice::from_ref(row));
    if let Some(m) = meta {
        println!(
            "window {} horizon {} features {}",
            m.window,
            m.horizon,
            m.features.join(",")
        );
        println!(
            "data {} ({}), {} to {}",
            m.data.path,
            &m.data.sha256[..12.min(m.data.sha256.len())],
            m.data.date_min,
            m.data.date_max
        );
        if let Some(p) = &m.parent_prefix {
            println!("fine-tuned from {p}");
        }
    }
    for e in epochs {
        println!(
            "epoch {:>3}  train {:.5}  val {:.5}  {:.2}s",
            e.epoch, e.train_loss, e.val_loss, e.seconds
        );
    }
    println!("{predictions} predictions logged");
}

pub fn print_alias_history(events: &[AliasEvent]) {
    for h in events {
        println!(
            "{} {} {} {} -> {} by {}",
            h.at,
            h.action,
            h.alias,
            h.previous.as_deref().unwrap_or("-"),
            h.prefix.as_deref().unwrap_or("-"),
            h.by
        );
    }
}

pub fn print_bench_table(rows: &[BenchRow]) {
    println!(
        "{:<12} {:>10} {:>16} {:>14} {:>14} {:>18} {:>13}",
        "model",
        "params",
        "train windows/s",
        "forecast p50",
        "forecast p95",
        "batched windows/s",
        "peak RSS"
    );
    for r in rows {
        println!(
            "{:<12} {:>10} {:>16.0} {:>11.3} ms {:>11.3} ms {:>18.0} {:>9}",
            r.model_type.to_string(),
            r.parameters,
            r.train_windows_per_second,
            r.forecast_ms_p50,
            r.forecast_ms_p95,
            r.batched_windows_per_second,
            r.peak_rss_mib
                .map(|m| format!("{m:.0} MiB"))
                .unwrap_or_else(|| "n/a".into()),
        );
    }
}

/// One block per measure: a row per series, a column per forecaster, then
/// the mean over series.
pub fn print_backtest(r: &BacktestReport) {
    println!(
        "backtest of {}: {} series, {} origins x {} days, models trained {}",
        r.data,
        r.series.len(),
        r.origins,
        r.horizon,
        match r.refit {
            Refit::Once => "once before the first origin",
            Refit::Each => "at each origin",
        }
    );
    let names: Vec<&String> = r.mean.keys().collect();
    let width = r
        .series
        .iter()
        .map(|s| s.series.len())
        .max()
        .unwrap_or(6)
        .max(6);
    type Pick = fn(&Score) -> f64;
    type PickMean = fn(&MeanScore) -> f64;
    let mut blocks: Vec<(&str, Pick, PickMean)> = vec![
        ("MASE", |s| s.mase, |m| m.mase),
        ("sMAPE %", |s| s.smape, |m| m.smape),
        ("RMSE", |s| s.rmse, |m| m.rmse),
    ];
    if r.mean.values().any(|m| m.quantiles.is_some()) {
        blocks.extend::<[(&str, Pick, PickMean); 3]>([
            (
                "coverage (interval)",
                |s| s.quantiles.as_ref().map_or(f64::NAN, |q| q.coverage),
                |m| m.quantiles.as_ref().map_or(f64::NAN, |q| q.coverage),
            ),
            (
                "scaled pinball",
                |s| s.quantiles.as_ref().map_or(f64::NAN, |q| q.scaled_pinball),
                |m| m.quantiles.as_ref().map_or(f64::NAN, |q| q.scaled_pinball),
            ),
            (
                "scaled WIS",
                |s| s.quantiles.as_ref().map_or(f64::NAN, |q| q.scaled_wis),
                |m| m.quantiles.as_ref().map_or(f64::NAN, |q| q.scaled_wis),
            ),
        ]);
    }
    for (title, pick, pick_mean) in blocks {
        print!("\n{title:<width$}");
        for n in &names {
            print!(" {:>16}", n);
        }
        println!();
        for s in &r.series {
            print!("{:<width$}", s.series);
            for n in &names {
                let v = s.scores.get(*n).map_or(f64::NAN, pick);
                print!(" {:>16.3}", v);
            }
            println!();
        }
        print!("{:<width$}", "mean");
        for n in &names {
            print!(" {:>16.3}", pick_mean(&r.mean[*n]));
        }
        println!();
    }
    for s in &r.series {
        for (name, score) in &s.scores {
            if let Some(e) = &score.error {
                println!("{}: {name} has no score: {e}", s.series);
            }
        }
    }
}

/// `train --each`'s summary: one line per model of the batch, then counts.
pub fn print_batch_summary(r: &BatchReport) {
    println!(
        "{:<10} {:<10} {:<11} {:<7} {:<44} {:>7} {:>8} {:>8}",
        "store", "product", "type", "status", "prefix", "MASE", "P10-P90", "seconds"
    );
    let num = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("-".to_string(), f);
    for t in &r.tasks {
        println!(
            "{:<10} {:<10} {:<11} {:<7} {:<44} {:>7} {:>8} {:>8}",
            t.store,
            t.product,
            t.model_type.as_str(),
            format!("{:?}", t.state).to_lowercase(),
            t.prefix.as_deref().unwrap_or("-"),
            num(t.mase, &|v| format!("{v:.3}")),
            num(t.coverage, &|v| format!("{:.0}%", 100.0 * v)),
            num(t.seconds, &|v| format!("{v:.1}")),
        );
        if let Some(e) = &t.error {
            println!("  error: {e}");
        }
    }
    let done = r
        .tasks
        .iter()
        .filter(|t| t.state == TaskState::Done)
        .count();
    println!(
        "batch {}: {done} of {} models done (journal {})",
        r.batch,
        r.tasks.len(),
        r.journal.display()
    );
}

/// One series' forecast in `predict --each`'s table.
pub struct EachForecast {
    pub store: String,
    pub product: String,
    pub model: String,
    pub forecast: Forecast,
}

/// `predict --each`: one line per series and day — store, product, date,
/// the forecast (the median), every other quantile any model gives (empty
/// for point models) and the model that made it.
pub fn print_each_forecast(rows: &[EachForecast], format: Format) -> Result<()> {
    let mut levels: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.forecast.quantiles.as_ref())
        .flat_map(|q| q.levels.iter().copied())
        .filter(|l| *l != 0.5)
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let names: Vec<String> = levels.iter().map(|l| level_name(*l)).collect();
    let mut lines = Vec::new();
    for r in rows {
        for (d, date) in r.forecast.dates.iter().enumerate() {
            let at = |level: &f64| {
                let q = r.forecast.quantiles.as_ref()?;
                let i = q.levels.iter().position(|l| l == level)?;
                Some(q.values[i][d])
            };
            let quantiles: Vec<Option<f32>> = levels.iter().map(at).collect();
            lines.push((r, date, r.forecast.values[d], quantiles));
        }
    }
    match format {
        Format::Csv | Format::Table => {
            let csv = format == Format::Csv;
            let cell = |v: Option<f32>| v.map_or(String::new(), |v| format!("{v:.2}"));
            let mut header = vec!["store", "product", "date", "forecast"];
            header.extend(names.iter().map(String::as_str));
            header.push("model");
            if csv {
                println!("{}", header.join(","));
            } else {
                println!("{}", table_line(&header));
            }
            for (r, date, value, quantiles) in lines {
                let mut cells = vec![
                    r.store.clone(),
                    r.product.clone(),
                    date.to_string(),
                    cell(Some(value)),
                ];
                cells.extend(quantiles.into_iter().map(cell));
                cells.push(r.model.clone());
                if csv {
                    println!("{}", cells.join(","));
                } else {
                    println!("{}", table_line(&cells));
                }
            }
        }
        Format::Json => {
            let out: Vec<serde_json::Value> = lines
                .into_iter()
                .map(|(r, date, value, quantiles)| {
                    let mut row = serde_json::json!({
                        "store": r.store, "product": r.product, "date": date.to_string(),
                        "forecast": value, "model": r.model,
                    });
                    for (name, q) in names.iter().zip(quantiles) {
                        row[name] = serde_json::json!(q);
                    }
                    row
                })
                .collect();
            print_json(&out)?;
        }
    }
    Ok(())
}

/// Cells padded to a table: ids and dates left, numbers right.
fn table_line<S: AsRef<str>>(cells: &[S]) -> String {
    cells
        .iter()
        .map(|c| {
            let c = c.as_ref();
            if c.parse::<f64>().is_ok() {
                format!("{c:>10}")
            } else {
                format!("{c:<10}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `evaluate --each`: one line per series, the model beside seasonal naive
/// and ETS, then the mean.
pub fn print_each_evaluation(rows: &[(String, String, Evaluation)]) {
    println!(
        "{:<10} {:<10} {:<44} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "store", "product", "model", "MASE", "SN", "ETS", "P10-P90", "ETS P10-P90"
    );
    let mase = |e: &Evaluation, name: &str| e.get(name).map(|m| m.mase);
    let coverage = |e: &Evaluation, name: &str| {
        e.quantile_metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, q)| q.coverage)
    };
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0}%", 100.0 * v));
    let mut sums = [0.0f64; 3];
    for (store, product, e) in rows {
        let m = [mase(e, &e.prefix), mase(e, SEASONAL_NAIVE), mase(e, ETS)];
        for (s, v) in sums.iter_mut().zip(m) {
            *s += v.unwrap_or(f64::NAN);
        }
        println!(
            "{store:<10} {product:<10} {:<44} {:>7} {:>7} {:>7} {:>8} {:>8}",
            e.prefix,
            fmt(m[0]),
            fmt(m[1]),
            fmt(m[2]),
            pct(coverage(e, &e.prefix)),
            pct(coverage(e, ETS)),
        );
    }
    let n = rows.len().max(1) as f64;
    println!(
        "{:<10} {:<10} {:<44} {:>7} {:>7} {:>7}",
        "mean",
        "",
        format!("{} series", rows.len()),
        fmt(Some(sums[0] / n)),
        fmt(Some(sums[1] / n)),
        fmt(Some(sums[2] / n)),
    );
}

/// `evaluate --json`: the model's and the baselines' metrics and quantile scores.
pub fn evaluation_json(e: &Evaluation) -> serde_json::Value {
    let quantiles: serde_json::Map<String, serde_json::Value> = e
        .quantile_metrics
        .iter()
        .map(|(n, m)| (n.clone(), serde_json::to_value(m).unwrap_or_default()))
        .collect();
    serde_json::json!({
        "model": e.prefix, "series": e.series, "windows": e.windows,
        "horizon": e.horizon, "metrics": metrics_json(&e.metrics_rows()),
        "quantile_metrics": quantiles, "ets_error": e.ets_error,
    })
}
