//! `shoptrain backtest`: rolling origins, models trained into a folder of
//! their own, scored beside seasonal naive and ETS.

use std::collections::BTreeMap;

/// Sales of one (store, product) series, in date order, read straight from
/// the CSV (the file has every day of every series).
fn sales_of(csv: &str, store: &str, product: &str) -> Vec<f64> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1] == store && f[2] == product)
        .map(|f| f[3].parse().unwrap())
        .collect()
}

/// The protocol by hand: MASE of last week's values at each origin, averaged.
fn seasonal_naive_mase(sales: &[f64], origins: usize, h: usize) -> f64 {
    let n = sales.len();
    let mut total = 0.0;
    for k in 0..origins {
        let o = n - (origins - k) * h;
        let hist = &sales[..o];
        let scale: f64 =
            hist.windows(8).map(|w| (w[7] - w[0]).abs()).sum::<f64>() / (hist.len() - 7) as f64;
        let mae: f64 = (0..h)
            .map(|i| (hist[o - 7 + i % 7] - sales[o + i]).abs())
            .sum::<f64>()
            / h as f64;
        total += mae / scale;
    }
    total / origins as f64
}

#[test]
fn backtest_scores_a_model_beside_baselines_and_leaves_the_registry_alone() {
    let dir = crate::dir();
    let data = dir.small_data(200);
    let out = dir
        .cmd()
        .args(["--json", "backtest", "--data"])
        .arg(&data)
        .args(["--mode", "product", "--product", "P001", "--store", "S001"])
        .args([
            "--model",
            "kan",
            "--origins",
            "3",
            "--epochs",
            "2",
            "--window",
            "14",
        ])
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["origins"], 3);
    assert_eq!(report["series"].as_array().unwrap().len(), 1);
    let scores = &report["series"][0]["scores"];
    for name in ["kan", "seasonal_naive_7", "ets"] {
        let origin_mase = scores[name]["origin_mase"].as_array().unwrap();
        assert_eq!(origin_mase.len(), 3, "{name}: {scores}");
        let mase = scores[name]["mase"].as_f64().unwrap();
        assert!(mase.is_finite() && mase > 0.0, "{name}: {mase}");
    }
    let csv = std::fs::read_to_string(&data).unwrap();
    let expected = seasonal_naive_mase(&sales_of(&csv, "S001", "P001"), 3, 7);
    let got = scores["seasonal_naive_7"]["mase"].as_f64().unwrap();
    assert!(
        (got - expected).abs() < 1e-4,
        "seasonal naive {got} vs by hand {expected}"
    );
    assert_eq!(report["mean"]["kan"]["mase"], scores["kan"]["mase"]);
    // trained in a temporary folder: the user's models folder was never made
    assert!(!dir.models().exists());
}

#[test]
fn backtest_each_covers_every_series_and_keep_keeps_the_models() {
    let dir = crate::dir();
    let data = dir.small_data(120);
    let kept = dir.path().join("kept");
    let out = dir
        .cmd()
        .args(["--json", "backtest", "--data"])
        .arg(&data)
        .args([
            "--each",
            "--model",
            "kan",
            "--origins",
            "1",
            "--epochs",
            "1",
        ])
        .args(["--window", "14", "--refit", "each", "--keep"])
        .arg(&kept)
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let series: Vec<&str> = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["series"].as_str().unwrap())
        .collect();
    // 2 stores x 3 products; no single scope sums them all, so no total
    assert_eq!(series.len(), 6, "{series:?}");
    assert_eq!(report["refit"], "each");
    let listed = dir
        .cmd()
        .args(["--json", "--models-dir"])
        .arg(&kept)
        .args(["models", "list"])
        .ok();
    let rows: Vec<BTreeMap<String, serde_json::Value>> = serde_json::from_str(&listed).unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["status"] == "completed"));
}

#[test]
fn backtest_rejects_bad_settings_with_the_fix() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    let err = dir
        .cmd()
        .args(["backtest", "--data"])
        .arg(&data)
        .args(["--each", "--product", "P001"])
        .fails();
    assert!(
        err.contains("--each backtests every series of the file; drop --product/--store"),
        "{err}"
    );
    let err = dir
        .cmd()
        .args(["backtest", "--data"])
        .arg(&data)
        .args(["--mode", "product", "--product", "P001", "--origins", "0"])
        .fails();
    assert!(err.contains("--origins must be at least 1"), "{err}");
    let err = dir
        .cmd()
        .args(["backtest", "--data"])
        .arg(&data)
        .args(["--mode", "product", "--product", "P001", "--origins", "8"])
        .fails();
    assert!(
        err.contains("has 60 days; a backtest with 8 origins of 7 days needs at least"),
        "{err}"
    );
    assert!(!dir.models().exists());
}

/// One MASE rule: `evaluate` of a model over the last 3 weeks scores seasonal
/// naive exactly as `backtest` over the same 3 origins does (and as by hand),
/// and says how it scales.
#[test]
fn evaluate_and_backtest_give_the_same_mase() {
    let dir = crate::dir();
    let data = dir.small_data(200);
    let prefix = dir.quick_train(&data, "kan", &["--store", "S001"]);
    let eval: serde_json::Value = serde_json::from_str(
        &dir.cmd()
            .args(["--json", "evaluate", &prefix, "--data"])
            .arg(&data)
            .args(["--windows", "3"])
            .ok(),
    )
    .unwrap();
    assert_eq!(eval["mase_scaling"], "each window by the history before it");
    let csv = std::fs::read_to_string(&data).unwrap();
    let by_hand = seasonal_naive_mase(&sales_of(&csv, "S001", "P001"), 3, 7);
    let evaluated = eval["metrics"]["seasonal_naive_7"]["mase"]
        .as_f64()
        .unwrap();
    assert!(
        (evaluated - by_hand).abs() < 1e-4,
        "evaluate's seasonal naive {evaluated} vs the protocol by hand {by_hand}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &dir.cmd()
            .args(["--json", "backtest", "--data"])
            .arg(&data)
            .args(["--mode", "product", "--product", "P001", "--store", "S001"])
            .args([
                "--model",
                "kan",
                "--origins",
                "3",
                "--epochs",
                "1",
                "--window",
                "14",
            ])
            .ok(),
    )
    .unwrap();
    let backtested = report["series"][0]["scores"]["seasonal_naive_7"]["mase"]
        .as_f64()
        .unwrap();
    assert!(
        (evaluated - backtested).abs() < 1e-9,
        "{evaluated} vs {backtested}"
    );
}
