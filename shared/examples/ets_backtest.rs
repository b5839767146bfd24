//! Rolling-origin backtest of `classical::auto_ets` on a long sales CSV
//! (`date,store_id,product_id,sales,...`), with the protocol of
//! `shared/data/README.md`: 8 origins over the last 8×7 days (step 7),
//! horizon 7, MASE against the in-sample lag-7 naive error of each history.
//! Series: each (store, product) and, when there are several, their total;
//! days missing from a series count as 0 sales (as `eval/peers.py` does).
//!
//! cargo run --release -p shoptrain-shared --example ets_backtest -- FILE.csv [-v]

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use shoptrain_shared::classical::auto_ets;

const H: usize = 7;
const ORIGINS: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .ok_or("usage: ets_backtest FILE.csv [-v]")?;
    let verbose = args.iter().any(|a| a == "-v");

    let mut rows: Vec<(NaiveDate, String, f64)> = Vec::new();
    let mut reader = csv::Reader::from_path(path)?;
    let header = reader.headers()?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column {name}"))
    };
    let (c_date, c_store, c_product, c_sales) = (
        col("date")?,
        col("store_id")?,
        col("product_id")?,
        col("sales")?,
    );
    for rec in reader.records() {
        let rec = rec?;
        let date = NaiveDate::parse_from_str(&rec[c_date], "%Y-%m-%d")?;
        rows.push((
            date,
            format!("{}/{}", &rec[c_store], &rec[c_product]),
            rec[c_sales].parse()?,
        ));
    }
    let first = rows.iter().map(|r| r.0).min().ok_or("empty file")?;
    let last = rows.iter().map(|r| r.0).max().ok_or("empty file")?;
    let days = (last - first).num_days() as usize + 1;
    let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (date, key, sales) in &rows {
        series.entry(key.clone()).or_insert_with(|| vec![0.0; days])
            [(*date - first).num_days() as usize] += sales;
    }
    if series.len() > 1 {
        let mut total = vec![0.0; days];
        for s in series.values() {
            total.iter_mut().zip(s).for_each(|(t, v)| *t += v);
        }
        series.insert("total".into(), total);
    }

    let (mut sum, mut fits, mut fit_secs) = (0.0, 0usize, 0.0);
    for (name, s) in &series {
        let n = s.len();
        let mut mases = Vec::new();
        for i in 0..ORIGINS {
            let o = n - (ORIGINS - i) * H;
            let (hist, actual) = (&s[..o], &s[o..o + H]);
            let t = Instant::now();
            let model = auto_ets(hist, 7)?;
            fit_secs += t.elapsed().as_secs_f64();
            fits += 1;
            let f = model.forecast(H);
            let scale = hist.windows(8).map(|w| (w[7] - w[0]).abs()).sum::<f64>() / (o - 7) as f64;
            let mae = f
                .iter()
                .zip(actual)
                .map(|(a, b)| (a - b).abs())
                .sum::<f64>()
                / H as f64;
            let mase = mae / scale.max(1e-9);
            if verbose {
                let p = model.params();
                println!(
                    "  {name} origin {o}: {} mase {mase:.3} aicc {:.2} a={:.4} b={:.4} g={:.4} phi={:.4}",
                    model.name(),
                    model.aicc(),
                    p.alpha,
                    p.beta,
                    p.gamma,
                    p.phi
                );
            }
            mases.push(mase);
        }
        let mean = mases.iter().sum::<f64>() / mases.len() as f64;
        println!("{name:40} {mean:.3}");
        sum += mean;
    }
    println!("{:40} {:.3}", "mean", sum / series.len() as f64);
    println!(
        "fit time: {:.1} ms per series-origin ({fits} fits)",
        1000.0 * fit_secs / fits.max(1) as f64
    );
    Ok(())
}
