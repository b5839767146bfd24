//! The base blended with ETS (`--base blend`, the default): the seasonal
//! mean moved toward an ETS forecast by a weight per forecast day that
//! starts at its best fit on the training windows; through the real binary.

use shoptrain_tests::Dir;

/// 300 days of sales rising from 50 to 200 with a weekly pattern: the
/// four-week weekday mean lags the level, ETS's trend follows it.
fn trending(dir: &Dir) -> std::path::PathBuf {
    let mut csv = String::from("date,store_id,product_id,sales\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for d in 0..300 {
        csv.push_str(&format!(
            "{},S001,P001,{:.2}\n",
            start + chrono::Duration::days(d as i64),
            truth(d)
        ));
    }
    let path = dir.path().join("trend.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn truth(day: usize) -> f64 {
    (50.0 + day as f64 * 0.5) * [1.0, 1.1, 1.2, 1.0, 1.4, 1.8, 0.6][day % 7]
}

/// Trains kan with `base` and `window` for one epoch, the network alone
/// (no floor); returns its prefix and metadata.
fn train(
    dir: &Dir,
    data: &std::path::Path,
    base: &str,
    window: &str,
) -> (String, serde_json::Value) {
    let out = dir
        .cmd()
        .args(["--json", "train", "--data"])
        .arg(data)
        .args(["--product", "P001", "--model", "kan", "--epochs", "1"])
        .args(["--window", window, "--floor", "none", "--base", base])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let prefix = v[0]["prefix"].as_str().unwrap().to_string();
    let meta = serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    (prefix, meta)
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

/// Mean absolute percentage error of a forecast of days 300..307.
fn error(forecast: &[f64]) -> f64 {
    assert_eq!(forecast.len(), 7);
    let e: f64 = forecast
        .iter()
        .enumerate()
        .map(|(h, f)| (f - truth(300 + h)).abs() / truth(300 + h))
        .sum();
    e / 7.0
}

#[test]
fn on_a_trending_series_the_blend_leans_on_ets_and_predict_follows_the_trend() {
    let dir = crate::dir();
    let data = trending(&dir);
    let (blend, meta) = train(&dir, &data, "blend", "28");
    assert_eq!(meta["architecture"]["ets_blend"], true);
    // the blend's weights, started on the training windows: mostly ETS
    let weights = std::fs::read(dir.models().join(format!("{blend}_model.safetensors"))).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&weights).unwrap();
    let w = tensors.tensor("ets_blend.weight").unwrap();
    assert_eq!(w.shape(), [7]);
    let w: Vec<f32> = w
        .data()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert!(w.iter().all(|v| *v > 0.5 && *v <= 1.05), "{w:?}");
    // predict fits ETS on the history it is given and forecasts the rising level
    let (seasonal, meta) = train(&dir, &data, "seasonal", "28");
    assert_eq!(meta["architecture"].get("ets_blend"), None);
    let (with_ets, without) = (
        error(&p50(&dir, &blend, &data)),
        error(&p50(&dir, &seasonal, &data)),
    );
    assert!(with_ets < 0.02, "blend off by {with_ets}");
    assert!(
        with_ets < without / 2.0,
        "blend {with_ets} vs seasonal mean {without}"
    );
}

#[test]
fn a_window_shorter_than_a_week_trains_without_a_base_to_blend() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    let (prefix, meta) = train(&dir, &data, "blend", "5");
    assert_eq!(
        meta["architecture"].get("ets_blend"),
        None,
        "{}",
        meta["architecture"]
    );
    assert_eq!(meta["architecture"].get("last_week_base"), None);
    let forecast = p50(&dir, &prefix, &data);
    assert_eq!(forecast.len(), 7);
}
