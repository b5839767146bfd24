//! Pooled cross-learning chosen by validation (`--pool auto`, the default),
//! through the real binary.

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
fn a_resumed_run_makes_the_same_choice_as_an_uninterrupted_one() {
    let dir = crate::dir();
    // 200 days of 2 x 2 series: here the pooled trial validates better
    let data = shoptrain_tests::generated_data(dir.path(), 2, 2, 200);
    let args = [
        "--mode",
        "product",
        "--product",
        "P001",
        "--store",
        "S001",
        "--model",
        "kan",
        "--epochs",
        "4",
        "--window",
        "14",
        "--patience",
        "50",
        // on the seasonal mean alone the pooled trial wins here, the case this test is about
        "--base",
        "seasonal",
    ];
    let train = |extra: &[&str]| {
        dir.cmd()
            .args(["--quiet", "train", "--data"])
            .arg(&data)
            .args(extra)
            .output()
    };
    assert!(train(&args).status.success());
    let halted = train(&[&args[..], &["--halt-after-epoch", "2"]].concat());
    assert_eq!(halted.status.code(), Some(86));
    assert!(train(&["--resume", "product_P001_S001_kan_v2"])
        .status
        .success());
    let meta = |v: u32| -> serde_json::Value {
        serde_json::from_str(&dir.read(&format!("models/product_P001_S001_kan_v{v}_metadata.json")))
            .unwrap()
    };
    let (a, b) = (meta(1), meta(2));
    assert_eq!(b["status"], "completed");
    assert_eq!(a["training"]["pooled"], true, "the case this test is about");
    assert_eq!(b["training"]["pooled"], true);
    assert_eq!(
        a["training"]["train_windows"],
        b["training"]["train_windows"]
    );
    assert!(
        (mase(&a) - mase(&b)).abs() < 1e-6,
        "{} vs {}",
        mase(&a),
        mase(&b)
    );
}
