//! Known-future columns: a model that reads the forecast days' holidays
//! forecasts less on a planned holiday, names a missing plan day, and
//! leaves continuous columns out unless asked.

use shoptrain_tests::{Dir, TestCommand};
use std::path::{Path, PathBuf};

/// 400 generated days (2023-01-01 to 2024-02-04): the training windows see
/// New Year, May Day, 3 October and Christmas; the last two weeks (the base
/// of a 14-day window) have none.
fn data(dir: &Dir) -> PathBuf {
    shoptrain_tests::generated_data(dir.path(), 2, 2, 400)
}

/// `shoptrain predict PREFIX --data DATA` with a plan file, if any.
fn predict(dir: &Dir, prefix: &str, data: &Path, plan: Option<&Path>) -> TestCommand {
    let mut cmd = dir.cmd();
    cmd.args(["predict", prefix, "--format", "csv", "--data"])
        .arg(data);
    if let Some(plan) = plan {
        cmd.arg("--future").arg(plan);
    }
    cmd
}

fn forecast(dir: &Dir, prefix: &str, data: &Path, plan: Option<&Path>) -> Vec<f64> {
    shoptrain_tests::csv_column(&predict(dir, prefix, data, plan).ok(), "p50")
}

#[test]
fn a_planned_holiday_lowers_its_day_and_a_missing_plan_day_is_named() {
    let dir = crate::dir();
    let data = data(&dir);
    // the network alone (no classical floor diluting the holiday's effect)
    let prefix = dir.quick_train(
        &data,
        "kan",
        &["--known-future", "is_holiday", "--floor", "none"],
    );
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    assert_eq!(
        meta["known_future"]["columns"],
        serde_json::json!(["is_holiday"])
    );
    assert_eq!(meta["architecture"]["known_future"], 1);

    let unchanged = forecast(&dir, &prefix, &data, None);
    // the forecast days are 2024-02-05..11; plan a holiday on the first
    let mut plan = String::from("date,is_holiday\n");
    for d in 5..=11 {
        plan.push_str(&format!("2024-02-{d:02},{}\n", (d == 5) as u8));
    }
    let future = dir.create("plan.csv", &plan);
    let planned = forecast(&dir, &prefix, &data, Some(&future));
    assert_eq!(planned.len(), 7);
    // pharmacies sell 60% less on holidays; the fitted effect must show it
    assert!(
        planned[0] < 0.8 * unchanged[0],
        "{planned:?} vs {unchanged:?}"
    );
    // a day that is no holiday, like the base weeks, is unchanged
    for d in 1..7 {
        assert!(
            (planned[d] - unchanged[d]).abs() < 1e-3,
            "day {d}: {planned:?} vs {unchanged:?}"
        );
    }

    let short = dir.create("short.csv", "date,is_holiday\n2024-02-05,1\n2024-02-06,0\n");
    let err = predict(&dir, &prefix, &data, Some(&short)).fails();
    assert!(
        err.contains("known future: no row for 2024-02-07; give all 7 forecast days after 2024-02-04, or none"),
        "{err}"
    );
    let wrong = dir.create("wrong.csv", "date,is_promotion\n2024-02-05,1\n");
    let err = predict(&dir, &prefix, &data, Some(&wrong)).fails();
    assert!(err.contains("column \"is_holiday\" is missing"), "{err}");
}

#[test]
fn by_default_only_flag_columns_may_be_read_and_asked_columns_are_checked() {
    let dir = crate::dir();
    let data = data(&dir);
    let prefix = dir.quick_train(&data, "kan", &[]);
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    // price and temperature are data columns too, but never read unasked
    let columns = meta["known_future"]["columns"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        columns
            .iter()
            .all(|c| c == "is_holiday" || c == "is_promotion"),
        "{meta}"
    );
    assert_eq!(
        meta["architecture"]["known_future"].as_u64().unwrap_or(0),
        columns.len() as u64
    );

    let err = dir
        .quick_train_cmd(&data, "kan")
        .args(["--known-future", "rainfall"])
        .fails();
    assert!(
        err.contains("--known-future \"rainfall\" is not one of the model's data columns (price, is_promotion, is_holiday, temperature)"),
        "{err}"
    );
    let err = dir
        .quick_train_cmd(&data, "kan")
        .args(["--known-future", "is_holiday", "--base", "zero"])
        .fails();
    assert!(
        err.contains("--known-future needs a base (--base blend or seasonal"),
        "{err}"
    );

    let plain = dir.quick_train(&data, "kan", &["--known-future", "none"]);
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{plain}_metadata.json"))).unwrap();
    assert!(meta.get("known_future").is_none(), "{meta}");
    let plan = dir.create("plan.csv", "date,is_holiday\n2024-02-05,1\n");
    let err = predict(&dir, &plain, &data, Some(&plan)).fails();
    assert!(err.contains("reads no known-future columns"), "{err}");
}
