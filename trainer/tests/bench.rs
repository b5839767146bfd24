//! `shoptrain bench` reports real measurements of the real models and
//! touches no saved model.

use shoptrain_shared::bundle::read_weights;

#[test]
fn bench_measures_each_model_type_and_saves_nothing() {
    let dir = crate::dir();
    let data = dir.small_data(120);
    let out = dir
        .cmd()
        .args(["--json", "bench", "--data"])
        .arg(&data)
        .args(["--steps", "2", "--forecasts", "9", "--window", "14"])
        .ok();
    assert!(
        !dir.models().exists(),
        "bench must not create the models dir"
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["device"], "cpu");
    assert_eq!(report["window"], 14);
    let rows = report["models"].as_array().unwrap();
    let types: Vec<&str> = rows
        .iter()
        .map(|r| r["model_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["mlstm", "transformer", "kan"]);

    for row in rows {
        let t = row["model_type"].as_str().unwrap();
        // the parameter count is the one of a model trained with the same
        // shape; bench times the networks alone, without known-future columns,
        // quantiles or the ETS blend's 7 weights
        let alone = [
            "--known-future",
            "none",
            "--quantiles",
            "none",
            "--base",
            "seasonal",
        ];
        let prefix = dir.quick_train(&data, t, &alone);
        let weights =
            std::fs::read(dir.models().join(format!("{prefix}_model.safetensors"))).unwrap();
        let (tensors, _) = read_weights(&weights).unwrap();
        let params: usize = tensors.values().map(|t| t.elem_count()).sum();
        assert_eq!(row["parameters"], params, "{t}");

        assert_eq!(row["batch_size"], 32);
        assert_eq!(row["train_steps"], 2);
        let f = |k: &str| {
            row[k]
                .as_f64()
                .unwrap_or_else(|| panic!("{t}: {k} in {row}"))
        };
        assert!(f("train_windows_per_second") > 0.0, "{row}");
        assert!(
            f("forecast_ms_p50") > 0.0 && f("forecast_ms_p50") <= f("forecast_ms_p95"),
            "{row}"
        );
        assert!(f("batched_windows_per_second") > 0.0, "{row}");
        assert!(f("peak_rss_mib") > 10.0, "{row}");
    }
}

#[test]
fn bench_prints_a_table_by_default() {
    let dir = crate::dir();
    let data = dir.small_data(120);
    let out = dir
        .cmd()
        .args(["bench", "--model", "kan", "--data"])
        .arg(&data)
        .args(["--steps", "1", "--forecasts", "3", "--window", "14"])
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("model") && lines[0].contains("train windows/s"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("kan") && lines[1].ends_with("MiB"),
        "{out}"
    );
}

#[test]
fn bench_rejects_impossible_settings() {
    let dir = crate::dir();
    let data = dir.small_data(120);
    let err = dir.cmd().args(["bench", "--steps", "0"]).fails();
    assert!(
        err.contains("--steps and --forecasts must be at least 1"),
        "{err}"
    );
    let err = dir
        .cmd()
        .args([
            "bench",
            "--batch-size",
            "100000",
            "--window",
            "14",
            "--data",
        ])
        .arg(&data)
        .fails();
    assert!(err.contains("fewer than one batch of 100000"), "{err}");
    let err = dir.cmd().args(["bench", "--data", "missing.csv"]).fails();
    assert!(err.contains("missing.csv"), "{err}");
}
