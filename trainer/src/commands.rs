//! What each `shoptrain` subcommand does.

use crate::cli::*;
use crate::data::generate::{generate, GenOptions};
use crate::data::inspect::inspect;
use crate::data::{load_csv, LoadedData};
use crate::device::select_device;
use crate::registry::Registry;
use crate::train::{prepare, resume, train_new, Start, TrainOptions, TrainReport};
use anyhow::{bail, Context, Result};
use shoptrain_shared::features::{feature_names, Fill, Series};
use shoptrain_shared::forecast::{read_weights, sha256_hex, Forecast, Forecaster};
use shoptrain_shared::metadata::ModelMetadata;
use shoptrain_shared::metrics::{moving_average, seasonal_naive, seasonal_naive_scale, Metrics};
use shoptrain_shared::naming::{Artifact, Scope};
use std::path::Path;
use std::time::Instant;

pub fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    let dir = cli.models_dir.as_path();
    match cli.command {
        Command::Data(DataCommand::Gen {
            out,
            stores,
            products,
            days,
            start,
            seed,
        }) => {
            let start = chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")
                .with_context(|| format!("--start {start:?} is not a YYYY-MM-DD date"))?;
            if stores == 0 || products == 0 || days == 0 {
                bail!("--stores, --products and --days must be at least 1");
            }
            let text = generate(&GenOptions {
                stores,
                products,
                days,
                start,
                seed,
            });
            crate::atomic::write_atomic(&out, text.as_bytes())?;
            let rows = stores * products * days;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"path": out, "rows": rows, "sha256": sha256_hex(text.as_bytes())})
                );
            } else {
                println!(
                    "wrote {} ({rows} rows: {stores} stores x {products} products x {days} days)",
                    out.display()
                );
            }
        }
        Command::Data(DataCommand::Inspect { file }) => {
            let data = load_csv(&file, None)?;
            let report = inspect(&data);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
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
        }
        Command::Train(args) => train_cmd(dir, args, json, cli.quiet)?,
        Command::Predict(args) => predict_cmd(dir, args)?,
        Command::Evaluate(args) => evaluate_cmd(dir, args, json)?,
        Command::Models(cmd) => crate::models_cmd::run(dir, cmd, json)?,
        Command::Index(cmd) => crate::models_cmd::index(dir, cmd, json)?,
        Command::Export(args) => crate::export::export(dir, &args, json)?,
        Command::Serve(args) => crate::serve::serve(dir, &args)?,
        Command::Bench(args) => crate::bench::bench(&args, json)?,
    }
    Ok(())
}

fn fill(f: FillArg) -> Fill {
    match f {
        FillArg::Zero => Fill::Zero,
        FillArg::Ffill => Fill::Ffill,
        FillArg::Error => Fill::Error,
    }
}

fn not_all(v: Option<&str>) -> Option<&str> {
    v.filter(|v| *v != "all")
}

/// The scope of `--mode/--product/--store`.
pub fn scope_of(mode: ModeArg, product: Option<&str>, store: Option<&str>) -> Result<Scope> {
    Ok(match mode {
        ModeArg::Product => {
            let p = product.context("--mode product needs --product ID")?;
            Scope::product(p, not_all(store))?
        }
        ModeArg::Store => {
            let s = store.context("--mode store needs --store ID")?;
            Scope::store(s, not_all(product))?
        }
        ModeArg::Global => {
            if product.is_some() || store.is_some() {
                bail!("--mode global trains on every series; drop --product/--store");
            }
            Scope::Global
        }
    })
}

fn train_cmd(dir: &Path, args: TrainArgs, json: bool, quiet: bool) -> Result<()> {
    let opts = TrainOptions {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        weight_decay: args.weight_decay,
        window: args.window,
        horizon: args.horizon,
        seed: args.seed,
        device: args.device,
        checkpoint_every: args.checkpoint_every,
        patience: args.patience,
        val_ratio: args.val_ratio,
        fill: fill(args.fill),
        norm: args.norm,
        quiet: quiet || json,
        halt_after_epoch: args.halt_after_epoch,
    };
    if opts.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    if args.batch_size == Some(0) {
        bail!("--batch-size must be at least 1");
    }
    if !(opts.lr > 0.0 && opts.lr.is_finite()) {
        bail!("--lr must be a positive number");
    }
    // A fresh run checks every input (scope, data, windows, device) before
    // the models directory is opened, so bad input leaves no file behind.
    let fresh_scope = match (&args.resume, &args.from) {
        (None, None) => Some(scope_of(
            args.mode,
            args.product.as_deref(),
            args.store.as_deref(),
        )?),
        _ => None,
    };
    let data = load_csv(&args.data, args.features.as_deref())?;
    let mut reports: Vec<TrainReport> = Vec::new();
    let mut record = |report: TrainReport| {
        if !json {
            print_report(&report);
        }
        reports.push(report);
    };
    if let Some(scope) = fresh_scope {
        let extra = &data.dataset.columns[1..];
        let prepared = prepare(&data, &scope, &feature_names(extra), &opts)?;
        let device = select_device(opts.device)?;
        let reg = Registry::open(dir)?;
        for t in args.model.types() {
            record(train_new(
                &reg,
                &data,
                t,
                &prepared,
                &device,
                &opts,
                Start::Fresh,
            )?);
        }
    } else if let Some(prefix) = &args.resume {
        let reg = Registry::open(dir)?;
        record(resume(&reg, &data, prefix, &opts)?);
    } else if let Some(parent) = &args.from {
        let reg = Registry::open(dir)?;
        let parent = reg.resolve(parent)?;
        let meta = reg.read_metadata(&parent)?;
        let bytes = std::fs::read(reg.path(&parent, Artifact::Weights))?;
        let (weights, _) = read_weights(&bytes).with_context(|| format!("weights of {parent}"))?;
        let scope = meta.versioned_name()?.name.scope;
        let opts = TrainOptions {
            window: meta.window,
            horizon: meta.horizon,
            ..opts
        };
        let prepared = prepare(&data, &scope, &meta.features, &opts)?;
        let device = select_device(opts.device)?;
        let start = Start::FineTune {
            parent: parent.clone(),
            weights,
            architecture: meta.architecture.clone(),
        };
        record(train_new(
            &reg,
            &data,
            meta.model_type,
            &prepared,
            &device,
            &opts,
            start,
        )?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn print_report(r: &TrainReport) {
    let m = r.metrics.as_ref();
    let naive = r.baselines.get("seasonal_naive_7").map(|b| b.mase);
    println!(
        "{} {} on {}: {} epochs (best {}), val RMSE {:.3} MAE {:.3} MASE {:.3} (seasonal naive {}), {:.0} windows/s",
        r.prefix,
        r.status,
        r.device,
        r.epochs_run,
        r.best_epoch.map_or("-".into(), |e| e.to_string()),
        m.map_or(f64::NAN, |m| m.rmse),
        m.map_or(f64::NAN, |m| m.mae),
        m.map_or(f64::NAN, |m| m.mase),
        naive.map_or("-".into(), |v| format!("{v:.3}")),
        r.windows_per_second
    );
}

/// Loads a model from the registry into a forecaster.
pub fn load_forecaster(reg: &Registry, prefix: &str) -> Result<Forecaster> {
    let path = reg.path(prefix, Artifact::Metadata);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the metadata of {prefix}"))?;
    let meta = ModelMetadata::from_json(&text).with_context(|| format!("in {}", path.display()))?;
    if meta.status != shoptrain_shared::metadata::Status::Completed {
        bail!(
            "{prefix} is {}, not completed; it has no final weights to forecast with",
            meta.status.as_str()
        );
    }
    let weights = std::fs::read(reg.path(prefix, Artifact::Weights))
        .with_context(|| format!("cannot read the weights of {prefix}"))?;
    Forecaster::from_bytes(&weights, &text).with_context(|| format!("cannot load {prefix}"))
}

/// The series a model forecasts, from a data file.
pub fn series_for(
    meta: &ModelMetadata,
    data: &LoadedData,
    store: Option<&str>,
    product: Option<&str>,
) -> Result<Series> {
    let scope = meta.versioned_name()?.name.scope;
    let fill = Fill::from_recorded(&meta.data.fill);
    let scope = match scope {
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
    };
    let mut series = data.dataset.select(&scope, fill)?;
    series.pop().context("no series selected")
}

/// What `predict` and `evaluate` both start from: the resolved model, its
/// forecaster, the data and the model's series in it.
fn open_model_and_series(
    dir: &Path,
    model: &str,
    data: &Path,
    store: Option<&str>,
    product: Option<&str>,
) -> Result<(Registry, String, Forecaster, LoadedData, Series)> {
    let reg = Registry::open(dir)?;
    let prefix = reg.resolve(model)?;
    let forecaster = load_forecaster(&reg, &prefix)?;
    let data = load_csv(data, None)?;
    let series = series_for(&forecaster.meta, &data, store, product)?;
    Ok((reg, prefix, forecaster, data, series))
}

fn predict_cmd(dir: &Path, args: PredictArgs) -> Result<()> {
    let (reg, prefix, forecaster, data, series) = open_model_and_series(
        dir,
        &args.model,
        &args.data,
        args.store.as_deref(),
        args.product.as_deref(),
    )?;
    let t0 = Instant::now();
    let forecast = forecaster.predict(&series)?;
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(row) = reg.index.find(&prefix)? {
        reg.index.log_prediction(
            row.id,
            "predict",
            &data.sha256,
            forecaster.horizon(),
            seconds,
        )?;
    }
    print_forecast(&prefix, &forecast, args.format)
}

fn print_forecast(prefix: &str, f: &Forecast, format: Format) -> Result<()> {
    match format {
        Format::Table => {
            println!("{:<12} {:>10}", "date", "sales");
            for (d, v) in f.dates.iter().zip(&f.values) {
                println!("{:<12} {:>10.2}", d.to_string(), v);
            }
        }
        Format::Csv => {
            println!("date,sales");
            for (d, v) in f.dates.iter().zip(&f.values) {
                println!("{d},{v}");
            }
        }
        Format::Json => {
            let rows: Vec<_> = f
                .dates
                .iter()
                .zip(&f.values)
                .map(|(d, v)| serde_json::json!({"date": d.to_string(), "sales": v}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"model": prefix, "forecast": rows})
                )?
            );
        }
    }
    Ok(())
}

fn evaluate_cmd(dir: &Path, args: EvaluateArgs, json: bool) -> Result<()> {
    let (reg, prefix, forecaster, data, series) = open_model_and_series(
        dir,
        &args.model,
        &args.data,
        args.store.as_deref(),
        args.product.as_deref(),
    )?;
    let (w, h) = (forecaster.window(), forecaster.horizon());
    let t = series.dates.len();
    if args.windows == 0 {
        bail!("--windows must be at least 1");
    }
    if t < w.max(7) + args.windows * h {
        bail!(
            "{} has {t} days; {} backtest windows of {h} days after a {w}-day history need {}",
            series.label,
            args.windows,
            w.max(7) + args.windows * h
        );
    }
    let sales: Vec<f32> = series.values[0].iter().map(|v| *v as f32).collect();
    let first_origin = t - args.windows * h;
    let scale = seasonal_naive_scale(&sales[..first_origin], 7);
    let t0 = Instant::now();
    let (mut actual, mut model, mut naive, mut avg) = (vec![], vec![], vec![], vec![]);
    for k in 0..args.windows {
        let origin = first_origin + k * h;
        let history = Series {
            label: series.label.clone(),
            dates: series.dates[..origin].to_vec(),
            columns: series.columns.clone(),
            values: series.values.iter().map(|c| c[..origin].to_vec()).collect(),
        };
        model.extend(forecaster.predict(&history)?.values);
        naive.extend(seasonal_naive(&sales[..origin], h, 7));
        avg.extend(moving_average(&sales[..origin], h, 7));
        actual.extend_from_slice(&sales[origin..origin + h]);
    }
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(row) = reg.index.find(&prefix)? {
        reg.index
            .log_prediction(row.id, "evaluate", &data.sha256, h, seconds)?;
    }
    let rows = [
        (prefix.as_str(), Metrics::compute(&actual, &model, scale)),
        ("seasonal_naive_7", Metrics::compute(&actual, &naive, scale)),
        ("moving_average_7", Metrics::compute(&actual, &avg, scale)),
    ];
    if json {
        let out: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(n, m)| (n.to_string(), serde_json::to_value(m).unwrap_or_default()))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"series": series.label, "windows": args.windows, "horizon": h, "metrics": out})
            )?
        );
    } else {
        println!(
            "rolling-origin backtest of {} on {}: {} windows x {h} days",
            prefix, series.label, args.windows
        );
        print_metrics_table(&rows);
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
