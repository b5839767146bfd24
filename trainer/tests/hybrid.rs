//! The ETS base chosen by validation (`--base auto`, the default): a fresh
//! model is trained correcting the four-week weekday mean and correcting an
//! ETS forecast, and keeps what validates better; through the real binary.

use shoptrain_tests::Dir;

/// Trains the (S001, P001) series with `base` and returns its metadata.
fn train(dir: &Dir, data: &std::path::Path, base: &str, extra: &[&str]) -> serde_json::Value {
    let out = dir
        .cmd()
        .args(["--json", "train", "--data"])
        .arg(data)
        .args(["--mode", "product", "--product", "P001", "--store", "S001"])
        .args(["--model", "kan", "--epochs", "3", "--window", "14"])
        // the same inputs either way, so that the runs compare exactly
        .args(["--known-future", "is_promotion", "--pool", "never"])
        .args(["--base", base])
        .args(extra)
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let prefix = v[0]["prefix"].as_str().unwrap();
    serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap()
}

fn mase(meta: &serde_json::Value) -> f64 {
    meta["metrics"]["mase"].as_f64().unwrap()
}

/// The median forecast `predict` prints for `prefix`.
fn p50(dir: &Dir, prefix: &str, data: &std::path::Path) -> Vec<f64> {
    let csv = dir
        .cmd()
        .args(["predict", prefix, "--format", "csv", "--data"])
        .arg(data)
        .ok();
    shoptrain_tests::csv_column(&csv, "p50")
}

fn ets_base(meta: &serde_json::Value) -> bool {
    meta["architecture"]["ets_base"].as_bool().unwrap_or(false)
}

#[test]
fn a_fresh_model_is_trained_on_both_bases_and_keeps_what_validates_better() {
    let dir = crate::dir();
    let data = shoptrain_tests::generated_data(dir.path(), 2, 2, 300);
    let seasonal = train(&dir, &data, "seasonal", &[]);
    let ets = train(&dir, &data, "ets", &[]);
    let auto = train(&dir, &data, "auto", &[]);
    assert!(!ets_base(&seasonal) && ets_base(&ets));
    assert_eq!(seasonal["training"].get("ets_trial"), None);
    assert_eq!(auto["training"]["ets_trial"], true);
    // both read the history and the promotion plan; the ETS base adds a day-by-day forecast
    assert_eq!(
        ets["architecture"]["window"],
        seasonal["architecture"]["window"]
    );
    let ets_won = mase(&ets) < mase(&seasonal);
    let kept = if ets_won { &ets } else { &seasonal };
    assert_eq!(ets_base(&auto), ets_won);
    assert!(
        (mase(&auto) - mase(kept)).abs() < 1e-9,
        "{} vs {}",
        mase(&auto),
        mase(kept)
    );
    for key in ["best_epoch", "epochs_run", "best_val_loss"] {
        assert_eq!(auto["training"][key], kept["training"][key], "{key}");
    }
    assert_eq!(auto["floor"], kept["floor"]);
    // the index's epoch rows are those of the loop that was kept
    let db = rusqlite::Connection::open(dir.models().join("models.db")).unwrap();
    let rows: i64 = db
        .query_row(
            "SELECT count(*) FROM epochs JOIN models ON models.id = epochs.model_id WHERE filename_prefix = ?1",
            [auto["prefix"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows as usize, auto["history"].as_array().unwrap().len());
    // the kept model forecasts: predict reads its base from the history it is given
    let prefix = auto["prefix"].as_str().unwrap();
    let values = p50(&dir, prefix, &data);
    assert_eq!(values.len(), 7);
    assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn a_trending_series_keeps_the_ets_base_and_predict_applies_it() {
    let dir = crate::dir();
    // sales that double over the year: the four-week mean lags, ETS follows
    let mut csv = String::from("date,store_id,product_id,sales\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for d in 0..300 {
        let week = [1.0, 1.1, 1.2, 1.0, 1.4, 1.8, 0.6][d % 7];
        let sales = (50.0 + d as f64 * 0.5) * week;
        csv.push_str(&format!(
            "{},S001,P001,{sales:.2}\n",
            start + chrono::Duration::days(d as i64)
        ));
    }
    let data = dir.path().join("trend.csv");
    std::fs::write(&data, csv).unwrap();
    let out = dir
        .cmd()
        .args(["--json", "train", "--data"])
        .arg(&data)
        .args(["--product", "P001", "--model", "kan", "--epochs", "1"])
        .args(["--window", "28", "--floor", "none"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let prefix = v[0]["prefix"].as_str().unwrap().to_string();
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    assert!(ets_base(&meta), "{}", meta["architecture"]);
    // the level keeps rising after the history ends: the four-week mean lags
    // it by about 9 units a day, ETS's trend follows it
    let values = p50(&dir, &prefix, &data);
    let want: Vec<f64> = (300..307)
        .map(|d| (50.0 + d as f64 * 0.5) * [1.0, 1.1, 1.2, 1.0, 1.4, 1.8, 0.6][d % 7])
        .collect();
    for (v, w) in values.iter().zip(&want) {
        assert!((v - w).abs() < 0.1 * w, "{values:?} vs {want:?}");
    }
}
