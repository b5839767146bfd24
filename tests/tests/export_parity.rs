//! train → export → the runtime (built natively here, same code as in wasm)
//! reproduces the native forecasts recorded in the manifest.

use shoptrain_runtime_wasm::predict_json;
use shoptrain_shared::features::SeriesPick;
use shoptrain_shared::forecast::Forecaster;
use shoptrain_tests::{shoptrain, small_data};
use std::path::Path;

/// The forecaster of one manifest entry, from the exported files.
fn exported(out: &Path, entry: &serde_json::Value) -> Forecaster {
    let weights = std::fs::read(out.join(entry["weights"].as_str().unwrap())).unwrap();
    let meta = std::fs::read_to_string(out.join(entry["metadata"].as_str().unwrap())).unwrap();
    Forecaster::from_bytes(&weights, &meta).unwrap()
}

/// A JSON array of numbers.
fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn exported_models_forecast_their_samples_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_data(tmp.path(), 120);
    let models = tmp.path().join("models");
    let d = data.to_string_lossy().into_owned();
    shoptrain(
        &models,
        &[
            "train",
            "--data",
            &d,
            "--mode",
            "product",
            "--product",
            "P002",
            "--store",
            "S001",
            "--model",
            "all",
            "--epochs",
            "1",
            "--window",
            "21",
        ],
    )
    .unwrap();
    shoptrain(
        &models,
        &[
            "train", "--data", &d, "--mode", "global", "--model", "kan", "--epochs", "1",
            "--window", "21",
        ],
    )
    .unwrap();
    // the seasonal mean alone; the others blend in the ETS forecast the runtime fits itself
    shoptrain(
        &models,
        &[
            "train",
            "--data",
            &d,
            "--product",
            "P001",
            "--store",
            "S002",
            "--model",
            "mlstm",
            "--epochs",
            "1",
            "--window",
            "21",
            "--base",
            "seasonal",
        ],
    )
    .unwrap();
    let out = tmp.path().join("export");
    let o = out.to_string_lossy().into_owned();
    shoptrain(
        &models,
        &[
            "export",
            "product_P002_S001_mlstm_v1",
            "product_P002_S001_transformer_v1",
            "product_P002_S001_kan_v1",
            "global_all_kan_v1",
            "product_P001_S002_mlstm_v1",
            "--out",
            &o,
        ],
    )
    .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    let entries = manifest["models"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    let blends: Vec<bool> = entries
        .iter()
        .map(|m| exported(&out, m).meta.architecture.ets_blend())
        .collect();
    assert_eq!(blends, [true, true, true, true, false]);
    for m in entries {
        let f = exported(&out, m);
        let got: serde_json::Value = serde_json::from_str(
            &predict_json(
                &f,
                m["sample_history_csv"].as_str().unwrap(),
                None,
                SeriesPick::default(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(got["dates"], m["native_forecast"]["dates"]);
        // the point forecast, then every quantile (P10, P50, P90 by default)
        let levels = m["native_forecast"]["quantiles"]["values"]
            .as_array()
            .unwrap();
        assert_eq!(levels.len(), 3, "{}", m["prefix"]);
        assert_eq!(
            got["quantiles"]["levels"],
            serde_json::json!([0.1, 0.5, 0.9])
        );
        let mut pairs = vec![(&got["values"], &m["native_forecast"]["values"])];
        for (j, want) in levels.iter().enumerate() {
            pairs.push((&got["quantiles"]["values"][j], want));
        }
        for (got, want) in pairs {
            let (got, want) = (numbers(got), numbers(want));
            assert_eq!(got.len(), 7);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-4 * w.abs().max(1e-6),
                    "{}: {g} vs {w}",
                    m["prefix"]
                );
            }
        }
        // the median is the point forecast, and the band holds it
        assert_eq!(got["quantiles"]["values"][1], got["values"]);
        assert!(out
            .join(format!("sample_{}.csv", m["prefix"].as_str().unwrap()))
            .is_file());
    }
    // the global model forecasts a series picked from the data, a store/product pair
    let global = entries.iter().find(|m| m["mode"] == "global").unwrap();
    assert_eq!(global["series"], "store S001 for product P001");
}

#[test]
fn unknown_or_unfinished_models_cannot_be_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    let err = shoptrain(
        &models,
        &["export", "product_P001_all_kan_v1", "--out", "x"],
    )
    .unwrap_err();
    assert!(
        err.contains("no model \"product_P001_all_kan_v1\""),
        "{err}"
    );
    let err = shoptrain(&models, &["export", "production", "--out", "x"]).unwrap_err();
    assert!(
        err.contains("\"production\" is neither an alias nor a model prefix"),
        "{err}"
    );
}

#[test]
fn the_runtime_reads_the_forecast_days_known_columns() {
    let tmp = tempfile::tempdir().unwrap();
    // 400 days end on 2024-02-04; the training windows see every holiday once
    let data = shoptrain_tests::generated_data(tmp.path(), 2, 2, 400);
    let models = tmp.path().join("models");
    let d = data.to_string_lossy().into_owned();
    shoptrain(
        &models,
        &[
            "train",
            "--data",
            &d,
            "--product",
            "P001",
            "--model",
            "kan",
            "--epochs",
            "1",
            "--window",
            "14",
            "--known-future",
            "is_holiday",
            // the network alone: a classical floor would dilute the
            // holiday's effect this test measures
            "--floor",
            "none",
        ],
    )
    .unwrap();
    let out = tmp.path().join("export");
    let o = out.to_string_lossy().into_owned();
    shoptrain(&models, &["export", "product_P001_all_kan_v1", "--out", &o]).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    let m = &manifest["models"][0];
    let f = exported(&out, m);
    let history = m["sample_history_csv"].as_str().unwrap();
    let values = |future: Option<&str>| -> Vec<f64> {
        let v: serde_json::Value = serde_json::from_str(
            &predict_json(&f, history, future, SeriesPick::default()).unwrap(),
        )
        .unwrap();
        numbers(&v["values"])
    };
    let plan = "date,is_holiday\n2024-02-05,1\n2024-02-06,0\n2024-02-07,0\n2024-02-08,0\n\
                2024-02-09,0\n2024-02-10,0\n2024-02-11,0\n";
    let (unchanged, planned) = (values(None), values(Some(plan)));
    assert!(
        planned[0] < 0.8 * unchanged[0],
        "{planned:?} vs {unchanged:?}"
    );
    assert!((planned[1] - unchanged[1]).abs() < 1e-3);
    let err = predict_json(
        &f,
        history,
        Some("date,is_holiday\n2024-02-05,1\n"),
        SeriesPick::default(),
    )
    .unwrap_err();
    assert!(err.contains("known future: no row for 2024-02-06"), "{err}");
}
