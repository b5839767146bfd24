//! Quantile forecasts: a new model prints its P10/P50/P90 in every format,
//! never crossed; a point-forecast model saved under metadata schema 1 still
//! predicts; bad levels are named; backtest reports coverage and pinball
//! loss beside ETS's intervals.

use shoptrain_tests::csv_column;

fn predict(
    dir: &shoptrain_tests::Dir,
    prefix: &str,
    data: &std::path::Path,
    format: &str,
) -> String {
    dir.cmd()
        .args(["predict", prefix, "--format", format, "--data"])
        .arg(data)
        .ok()
}

#[test]
fn a_new_model_prints_ordered_quantiles_and_an_old_one_still_predicts() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    let prefix = dir.quick_train(&data, "kan", &[]);

    let csv = predict(&dir, &prefix, &data, "csv");
    assert_eq!(csv.lines().next(), Some("date,p10,p50,p90"), "{csv}");
    let (p10, p50, p90) = (
        csv_column(&csv, "p10"),
        csv_column(&csv, "p50"),
        csv_column(&csv, "p90"),
    );
    assert_eq!(p50.len(), 7);
    for d in 0..7 {
        assert!(p10[d] <= p50[d] && p50[d] <= p90[d], "day {d}: {csv}");
        assert!(p10[d] < p90[d], "day {d} has an empty interval: {csv}");
    }

    let json: serde_json::Value =
        serde_json::from_str(&predict(&dir, &prefix, &data, "json")).unwrap();
    assert_eq!(json["quantiles"], serde_json::json!([0.1, 0.5, 0.9]));
    let first = &json["forecast"][0];
    assert_eq!(first["sales"], first["p50"]);
    assert!((first["p10"].as_f64().unwrap() - p10[0]).abs() < 1e-4);
    let table = predict(&dir, &prefix, &data, "table");
    assert_eq!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["date", "p10", "p50", "p90"]
    );

    let meta_file = format!("models/{prefix}_metadata.json");
    let meta: serde_json::Value = serde_json::from_str(&dir.read(&meta_file)).unwrap();
    assert_eq!(meta["schema_version"], 2);
    assert_eq!(
        meta["architecture"]["quantiles"],
        serde_json::json!([0.1, 0.5, 0.9])
    );
    let coverage = meta["quantile_metrics"]["coverage"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&coverage), "{coverage}");
    assert_eq!(
        meta["quantile_metrics"]["interval"],
        serde_json::json!([0.1, 0.9])
    );

    // the spread floor: the model's own, and raising it widens every
    // interval around the unchanged median by one factor (the window's std
    // is under the new floor, so the floor is what scales the distances)
    let floor = meta["spread_floor"]
        .as_f64()
        .expect("a product model has a spread floor");
    assert!(floor > 0.0, "{floor}");
    let mut raised = meta.clone();
    raised["spread_floor"] = serde_json::json!(floor * 1000.0);
    dir.create(&meta_file, &raised.to_string());
    let wide = predict(&dir, &prefix, &data, "csv");
    assert_eq!(csv_column(&wide, "p50"), p50);
    let wide90 = csv_column(&wide, "p90");
    let ratios: Vec<f64> = (0..7)
        .map(|d| (wide90[d] - p50[d]) / (p90[d] - p50[d]))
        .collect();
    assert!(ratios[0] > 10.0, "{ratios:?}");
    assert!(
        ratios.iter().all(|r| (r / ratios[0] - 1.0).abs() < 1e-3),
        "{ratios:?}"
    );
    dir.create(&meta_file, &meta.to_string());

    // a model from before quantiles: point forecast only, metadata schema 1
    let old = dir.quick_train(&data, "transformer", &["--quantiles", "none"]);
    let old_file = format!("models/{old}_metadata.json");
    let mut old_meta: serde_json::Value = serde_json::from_str(&dir.read(&old_file)).unwrap();
    assert!(
        old_meta["architecture"].get("quantiles").is_none(),
        "{old_meta}"
    );
    old_meta["schema_version"] = serde_json::json!(1);
    dir.create(&old_file, &old_meta.to_string());
    let csv = predict(&dir, &old, &data, "csv");
    assert_eq!(csv.lines().next(), Some("date,sales"), "{csv}");
    assert_eq!(csv_column(&csv, "sales").len(), 7);
    // and a newer schema than this shoptrain knows is refused, not misread
    old_meta["schema_version"] = serde_json::json!(3);
    dir.create(&old_file, &old_meta.to_string());
    let err = dir
        .cmd()
        .args(["predict", &old, "--data"])
        .arg(&data)
        .fails();
    assert!(
        err.contains("newer than this shoptrain understands"),
        "{err}"
    );
}

#[test]
fn bad_quantile_levels_are_named() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    for (levels, why) in [
        ("0.1,0.9", "must include 0.5"),
        ("0.5,0.1", "strictly increasing"),
        ("0.5,1.5", "strictly between 0 and 1"),
        ("0.5,ten", "\"ten\" is not a number"),
    ] {
        let err = dir
            .quick_train_cmd(&data, "kan")
            .args(["--quantiles", levels])
            .fails();
        assert!(
            err.contains("--quantiles") && err.contains(why),
            "{levels}: {err}"
        );
    }
    assert!(!dir.models().join("versions.json").exists());
}

/// 400 days of one series: a weekly pattern plus Gaussian noise of known
/// standard deviation 8 (a fixed linear congruential generator and
/// Box-Muller, so the file is the same every run).
fn noisy_weekly_series(dir: &shoptrain_tests::Dir) -> std::path::PathBuf {
    let mut state = 12345u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let week = [60.0, 80.0, 85.0, 90.0, 100.0, 120.0, 40.0];
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 2).unwrap();
    let mut csv = String::from("date,store_id,product_id,sales\n");
    for t in 0..400 {
        let z = (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
        let sales = week[t % 7] + 8.0 * z;
        let date = start + chrono::Duration::days(t as i64);
        csv.push_str(&format!("{date},S1,P1,{sales:.2}\n"));
    }
    dir.create("noisy.csv", &csv)
}

#[test]
fn backtest_reports_coverage_near_the_nominal_80_percent_on_known_noise() {
    let dir = crate::dir();
    let data = noisy_weekly_series(&dir);
    let out = dir
        .cmd()
        .args(["--json", "backtest", "--data"])
        .arg(&data)
        .args(["--product", "P1", "--store", "S1", "--model", "kan"])
        .args(["--origins", "8", "--epochs", "8", "--window", "28"])
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for name in ["kan", "ets"] {
        let m = &report["mean"][name];
        let coverage = m["coverage"].as_f64().unwrap();
        // 56 days: a binomial 80% lands in 0.65..0.95 all but rarely
        assert!((0.65..=0.95).contains(&coverage), "{name}: {m}");
        let (pinball, wis) = (
            m["scaled_pinball"].as_f64().unwrap(),
            m["scaled_wis"].as_f64().unwrap(),
        );
        assert!(
            pinball > 0.0 && (wis - 2.0 * pinball).abs() < 1e-9,
            "{name}: {m}"
        );
    }
    // the seasonal naive forecast has no quantiles, so no coverage
    assert!(report["mean"]["seasonal_naive_7"].get("coverage").is_none());
}
