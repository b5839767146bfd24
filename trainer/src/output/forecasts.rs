//! Forecasts as a table, CSV or JSON (`predict`, `predict --each`).

use super::{print_json, table_line, Format};
use anyhow::Result;
use shoptrain_shared::forecast::Forecast;
use shoptrain_shared::metrics::level_name;

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
