//! Scores: a training run's report, metrics tables, `bench`, `backtest`,
//! `train --each`'s summary and `evaluate` (tables and JSON).

use crate::backtest::{BacktestReport, MeanScore, Refit, Score};
use crate::baselines::{ETS, SEASONAL_NAIVE};
use crate::batch::{BatchReport, TaskState};
use crate::bench::BenchRow;
use crate::evaluation::Evaluation;
use crate::training::TrainReport;
use shoptrain_shared::metrics::{level_name, Metrics, QuantileMetrics};

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
        "mase_scaling": "each window by the history before it",
    })
}
