//! Pooled cross-learning chosen by validation (`--pool auto`, the default)
//! and decisions over two validation folds, through the real binary.

use shoptrain_tests::Dir;

/// Trains the (S001, P001) series with `pool` and returns its metadata.
fn train(dir: &Dir, data: &std::path::Path, pool: &str) -> serde_json::Value {
    let out = dir
        .cmd()
        .args(["--json", "train", "--data"])
        .arg(data)
        .args(["--mode", "product", "--product", "P001", "--store", "S001"])
        .args(["--model", "kan", "--epochs", "4", "--window", "14"])
        // the same inputs either way, so that the runs compare exactly
        .args(["--known-future", "is_promotion", "--pool", pool])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let prefix = v[0]["prefix"].as_str().unwrap();
    serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap()
}

fn mase(meta: &serde_json::Value) -> f64 {
    meta["metrics"]["mase"].as_f64().unwrap()
}

#[test]
fn a_short_series_is_trained_alone_and_pooled_and_keeps_what_validates_better() {
    let dir = crate::dir();
    // 200 days: a short series with three siblings (same store or product)
    let data = shoptrain_tests::generated_data(dir.path(), 2, 3, 200);
    let alone = train(&dir, &data, "never");
    let pooled = train(&dir, &data, "always");
    let auto = train(&dir, &data, "auto");
    assert_eq!(alone["training"].get("pooled"), None);
    assert_eq!(pooled["training"]["pooled"], true);
    assert_eq!(
        pooled["data"]["series_sha256"].as_object().unwrap().len(),
        4
    );
    assert!(
        pooled["training"]["train_windows"].as_u64() > alone["training"]["train_windows"].as_u64()
    );
    assert_eq!(auto["training"]["pool"], "auto");
    let pooled_won = mase(&pooled) < mase(&alone);
    let kept = if pooled_won { &pooled } else { &alone };
    assert_eq!(
        auto["training"]["pooled"].as_bool().unwrap_or(false),
        pooled_won
    );
    assert!(
        (mase(&auto) - mase(kept)).abs() < 1e-9,
        "{} vs {}",
        mase(&auto),
        mase(kept)
    );
    for key in ["train_windows", "best_epoch", "epochs_run"] {
        assert_eq!(auto["training"][key], kept["training"][key], "{key}");
    }
    assert_eq!(auto["data"]["series_sha256"], kept["data"]["series_sha256"]);
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
    // a long series is not tried pooled
    let long = shoptrain_tests::generated_data(dir.path(), 2, 3, 700);
    let meta = train(&dir, &long, "auto");
    assert_eq!(meta["training"].get("pooled"), None);
    assert_eq!(meta["data"]["series_sha256"].as_object().unwrap().len(), 1);
}

#[test]
fn the_floor_and_the_pick_are_chosen_over_two_folds() {
    let dir = crate::dir();
    let data = dir.small_data(200);
    let meta = train(&dir, &data, "never");
    let m = &meta["metrics"];
    let folds = m["folds_mase"].as_f64().unwrap();
    // fold B (the block before validation, forecast by a model trained on
    // the weeks before it) scores differently from fold A
    assert!(
        folds.is_finite() && folds > 0.0 && (folds - mase(&meta)).abs() > 1e-6,
        "{m}"
    );
    // a model of several series has one fold: its windows are not one timeline
    let out = dir
        .cmd()
        .args(["--json", "train", "--data"])
        .arg(&data)
        .args(["--mode", "global", "--model", "kan", "--epochs", "2", "--window", "14"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["metrics"]["mase"].as_f64().is_some(), "{v}");
    assert_eq!(v[0]["metrics"].get("folds_mase"), None);
}
