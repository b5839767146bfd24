//! Training, prediction and evaluation through the real binary.

use shoptrain_shared::bundle::read_weights;
use shoptrain_tests::Dir;

#[test]
fn train_all_writes_three_artifact_sets_then_v2() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    let train = |dir: &Dir| {
        dir.cmd()
            .args(["--quiet", "train", "--data"])
            .arg(&data)
            .args([
                "--mode",
                "product",
                "--product",
                "P001",
                "--store",
                "all",
                "--model",
                "all",
                "--epochs",
                "2",
                "--window",
                "14",
                "--checkpoint-every",
                "1",
            ])
            .ok()
    };
    let out = train(&dir);
    for t in ["mlstm", "transformer", "kan"] {
        let prefix = format!("product_P001_all_{t}_v1");
        assert!(out.contains(&format!("{prefix} completed")), "{out}");
        for file in [
            format!("{prefix}_model.safetensors"),
            format!("{prefix}_metadata.json"),
            format!("{prefix}_loss_curve.png"),
            format!("checkpoints/{prefix}_checkpoint_best.safetensors"),
            format!("checkpoints/{prefix}_checkpoint_epoch_2.safetensors"),
        ] {
            let path = dir.models().join(&file);
            assert!(path.is_file(), "missing {file}");
            // artifacts are for others to read too (a web server, a colleague),
            // the loss curve included: not tempfile's private 0600
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o044, 0o044, "{file} has mode {mode:o}");
            }
        }
        let png = std::fs::read(dir.models().join(format!("{prefix}_loss_curve.png"))).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        let meta: serde_json::Value =
            serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
        assert_eq!(meta["status"], "completed");
        assert_eq!(meta["history"].as_array().unwrap().len(), 2);
        // the model is the best epoch's weights (epoch 0: the untrained
        // model, which forecasts its seasonal base), not the last epoch's,
        // with its quantile steps calibrated after training
        let (model, scale) = calibrated(final_weights(&dir, &prefix));
        let (best, unscaled) = calibrated(weights(
            &dir,
            &format!("checkpoints/{prefix}_checkpoint_best.safetensors"),
        ));
        assert_eq!(model, best, "{prefix}: model is not the best checkpoint");
        assert_eq!(unscaled, [1.0, 1.0]);
        assert!(
            scale.iter().all(|s| *s > 0.0) && scale != unscaled,
            "{scale:?}"
        );
        let best_epoch = meta["training"]["best_epoch"].as_u64().unwrap();
        let history = meta["history"].as_array().unwrap();
        let best_loss = meta["training"]["best_val_loss"].as_f64().unwrap();
        assert!(history
            .iter()
            .all(|h| h["val_loss"].as_f64().unwrap() >= best_loss));
        if best_epoch != 2 {
            // the epoch checkpoint also holds the optimiser's state
            let last: Vec<_> = weights(
                &dir,
                &format!("checkpoints/{prefix}_checkpoint_epoch_2.safetensors"),
            )
            .into_iter()
            .filter(|(n, _)| model.iter().any(|(m, _)| m == n))
            .collect();
            assert_ne!(model, last, "{prefix}: best epoch {best_epoch}");
        }
        assert!(meta["metrics"]["mase"].as_f64().unwrap() > 0.0);
        assert_eq!(meta["data"]["sha256"].as_str().unwrap().len(), 64);
    }
    let versions: serde_json::Value =
        serde_json::from_str(&dir.read("models/versions.json")).unwrap();
    assert_eq!(
        versions,
        serde_json::json!({"product_P001_all_kan": 1, "product_P001_all_mlstm": 1, "product_P001_all_transformer": 1})
    );
    let rows: serde_json::Value = serde_json::from_str(
        &dir.cmd()
            .args(["--json", "models", "list", "--status", "completed"])
            .ok(),
    )
    .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["metrics"]["rmse"].as_f64().is_some()));

    let again = train(&dir);
    assert!(
        again.contains("product_P001_all_kan_v2 completed"),
        "{again}"
    );
}

#[test]
fn predict_prints_seven_dated_values_and_evaluate_logs_its_runs() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    let prefix = dir.quick_train(&data, "kan", &[]);
    let out = dir
        .cmd()
        .args(["predict", &prefix, "--data"])
        .arg(&data)
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["date", "p10", "p50", "p90"]
    );
    assert_eq!(lines.len(), 8, "{out}");
    // data gen starts 2023-01-01; 100 days end on 2023-04-10
    assert!(lines[1].starts_with("2023-04-11"), "{out}");
    assert!(lines[7].starts_with("2023-04-17"), "{out}");
    let csv = dir
        .cmd()
        .args(["predict", &prefix, "--format", "csv", "--data"])
        .arg(&data)
        .ok();
    let values = shoptrain_tests::csv_column(&csv, "p50");
    assert_eq!(values.len(), 7);
    assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0));

    let eval = dir
        .cmd()
        .args(["--json", "evaluate", &prefix, "--windows", "3", "--data"])
        .arg(&data)
        .ok();
    let e: serde_json::Value = serde_json::from_str(&eval).unwrap();
    for name in [prefix.as_str(), "seasonal_naive_7", "moving_average_7"] {
        assert!(e["metrics"][name]["mase"].as_f64().unwrap() > 0.0, "{eval}");
        assert_eq!(e["metrics"][name]["count"], 21);
    }
    let show: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "models", "show", &prefix]).ok()).unwrap();
    assert_eq!(show["predictions"], 3);
}

fn final_weights(dir: &Dir, prefix: &str) -> Vec<(String, Vec<f32>)> {
    weights(dir, &format!("{prefix}_model.safetensors"))
}

/// Weights without the quantile calibration (set after training), and it.
fn calibrated(mut weights: Vec<(String, Vec<f32>)>) -> (Vec<(String, Vec<f32>)>, Vec<f32>) {
    let i = weights
        .iter()
        .position(|(n, _)| n == "quantiles.scale")
        .expect("a quantile model has quantiles.scale");
    let (_, scale) = weights.remove(i);
    (weights, scale)
}

/// The tensors of a weights file under the models folder, sorted by name.
fn weights(dir: &Dir, file: &str) -> Vec<(String, Vec<f32>)> {
    let bytes = std::fs::read(dir.models().join(file)).unwrap();
    let (tensors, _) = read_weights(&bytes).unwrap();
    let mut out: Vec<(String, Vec<f32>)> = tensors
        .into_iter()
        .map(|(n, t)| (n, t.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn interrupted_then_resumed_equals_uninterrupted() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    let args = [
        "--mode",
        "product",
        "--product",
        "P001",
        "--model",
        "transformer",
        "--epochs",
        "4",
        "--window",
        "14",
        "--patience",
        "50",
    ];
    dir.cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args(args)
        .ok();
    let halted = dir
        .cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args(args)
        .args(["--halt-after-epoch", "2"])
        .output();
    assert_eq!(halted.status.code(), Some(86));
    dir.cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args(["--resume", "product_P001_all_transformer_v2"])
        .ok();
    let a = final_weights(&dir, "product_P001_all_transformer_v1");
    let b = final_weights(&dir, "product_P001_all_transformer_v2");
    assert_eq!(a.len(), b.len());
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        for (x, y) in va.iter().zip(vb) {
            assert!((x - y).abs() <= 1e-5, "{na}: {x} vs {y}");
        }
    }
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read("models/product_P001_all_transformer_v2_metadata.json"))
            .unwrap();
    assert_eq!(meta["status"], "completed");
    assert_eq!(meta["training"]["epochs_run"], 4);
}

#[test]
fn fine_tune_records_its_parent() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    let parent = dir.quick_train(&data, "kan", &[]);
    let newer = dir.path().join("newer.csv");
    dir.cmd()
        .args([
            "data",
            "gen",
            "--stores",
            "2",
            "--products",
            "3",
            "--days",
            "120",
            "--seed",
            "9",
            "--out",
        ])
        .arg(&newer)
        .ok();
    let out = dir
        .cmd()
        .args(["--json", "train", "--data"])
        .arg(&newer)
        .args(["--from", &parent, "--epochs", "1"])
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report[0]["prefix"], "product_P001_all_kan_v2");
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read("models/product_P001_all_kan_v2_metadata.json")).unwrap();
    assert_eq!(meta["parent_prefix"], parent.as_str());
    assert_eq!(meta["window"], 14);
}

#[test]
fn bad_input_is_named_and_writes_nothing() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    let err = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&data)
        .args(["--mode", "product", "--product", "P999"])
        .fails();
    assert!(
        err.contains("unknown product \"P999\"; known products include: P001, P002, P003"),
        "{err}"
    );
    let err = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&data)
        .args(["--mode", "product", "--product", "P001", "--window", "60"])
        .fails();
    assert!(
        err.contains("has 60 days, but window 60 + horizon 7"),
        "{err}"
    );
    let err = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&data)
        .args(["--mode", "product", "--product", "P001", "--device", "cuda"])
        .fails();
    assert!(err.contains("--device cuda"), "{err}");
    assert!(!dir.models().join("versions.json").exists());
    assert!(
        !dir.models().exists()
            || std::fs::read_dir(dir.models()).unwrap().all(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                n.starts_with("models.db") || n.starts_with("versions.json")
            })
    );
}

#[test]
fn a_run_that_never_beats_its_base_keeps_the_base_not_the_last_epoch() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    // a learning rate far too high: every epoch is worse than the untrained model
    dir.cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args(["--product", "P001", "--model", "kan", "--epochs", "3"])
        .args(["--window", "14", "--lr", "0.5", "--checkpoint-every", "1"])
        // the network alone on the seasonal mean, so that the forecast is that mean exactly
        .args(["--floor", "none", "--base", "seasonal"])
        .ok();
    let prefix = "product_P001_all_kan_v1";
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    assert_eq!(meta["training"]["best_epoch"], 0, "{meta}");
    let (model, _) = calibrated(final_weights(&dir, prefix));
    let (best, _) = calibrated(weights(
        &dir,
        &format!("checkpoints/{prefix}_checkpoint_best.safetensors"),
    ));
    assert_eq!(model, best);
    // and it forecasts its base: the mean of the same weekday over the last two weeks
    let csv = dir
        .cmd()
        .args(["predict", prefix, "--data"])
        .arg(&data)
        .args(["--format", "csv"])
        .ok();
    let sales = p001_daily_sales(&data);
    let n = sales.len();
    for (h, got) in shoptrain_tests::csv_column(&csv, "p50")
        .into_iter()
        .enumerate()
    {
        let want = (sales[n - 14 + h % 7] + sales[n - 7 + h % 7]) / 2.0;
        assert!(
            (got - want).abs() < 1e-3 * want.abs().max(1.0),
            "day {h}: {got} vs {want}"
        );
    }
}

#[test]
fn old_epoch_checkpoints_are_removed_as_training_goes() {
    let dir = crate::dir();
    let data = dir.small_data(100);
    let train = |extra: &[&str]| {
        dir.cmd()
            .args(["--quiet", "train", "--data"])
            .arg(&data)
            .args(["--product", "P001", "--model", "kan", "--window", "14"])
            .args(["--epochs", "5", "--patience", "50"])
            .args(extra)
            .ok()
    };
    let epoch_files = |prefix: &str| -> Vec<u32> {
        let mut found: Vec<u32> = std::fs::read_dir(dir.models().join("checkpoints"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                let rest = name.strip_prefix(&format!("{prefix}_checkpoint_epoch_"))?;
                rest.strip_suffix(".safetensors")?.parse().ok()
            })
            .collect();
        found.sort();
        found
    };
    // default: the latest epoch checkpoint (what --resume needs) and the best
    train(&[]);
    assert_eq!(epoch_files("product_P001_all_kan_v1"), vec![5]);
    assert!(dir
        .models()
        .join("checkpoints/product_P001_all_kan_v1_checkpoint_best.safetensors")
        .is_file());
    train(&["--keep-checkpoints", "3"]);
    assert_eq!(epoch_files("product_P001_all_kan_v2"), vec![3, 4, 5]);
    // a run killed mid-way keeps its latest checkpoint, the index stays
    // consistent, and the resumed run finishes with the same retention
    let halted = dir
        .cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args(["--product", "P001", "--model", "kan", "--window", "14"])
        .args([
            "--epochs",
            "5",
            "--patience",
            "50",
            "--halt-after-epoch",
            "3",
        ])
        .output();
    assert_eq!(halted.status.code(), Some(86));
    assert_eq!(epoch_files("product_P001_all_kan_v3"), vec![3]);
    dir.cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args(["--resume", "product_P001_all_kan_v3"])
        .ok();
    assert_eq!(epoch_files("product_P001_all_kan_v3"), vec![5]);
    assert_eq!(
        final_weights(&dir, "product_P001_all_kan_v1"),
        final_weights(&dir, "product_P001_all_kan_v3")
    );
    let verify = dir.cmd().args(["index", "verify"]).ok();
    assert!(!verify.contains("missing"), "{verify}");
    // zero would leave --resume nothing to start from
    let out = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&data)
        .args([
            "--product",
            "P001",
            "--model",
            "kan",
            "--keep-checkpoints",
            "0",
        ])
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--keep-checkpoints must be at least 1"),
        "{stderr}"
    );
}

/// Decodes an RGB(A) PNG; returns (width, height, pixels that are not near white).
fn png_ink(path: &std::path::Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let ink = buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|px| px[..3].iter().any(|&c| c < 200))
        .count();
    (info.width, info.height, ink)
}

#[test]
fn training_on_a_machine_without_fonts_draws_the_curve_with_the_embedded_one() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    // a font configuration that lists no fonts, as on a bare server or container
    let conf = dir.create(
        "fonts.conf",
        "<?xml version=\"1.0\"?>\n<fontconfig><dir>/nonexistent</dir></fontconfig>\n",
    );
    let prefix = {
        let mut cmd = dir.quick_train_cmd(&data, "kan");
        cmd.cmd
            .env("FONTCONFIG_FILE", &conf)
            .env("FONTCONFIG_PATH", dir.path());
        let out = cmd.ok();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v[0]["prefix"].as_str().unwrap().to_string()
    };
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    assert_eq!(meta["status"], "completed");
    assert!(meta.get("warnings").is_none(), "{meta}");
    assert!(dir
        .models()
        .join(format!("{prefix}_model.safetensors"))
        .is_file());
    let (w, h, ink) = png_ink(&dir.models().join(format!("{prefix}_loss_curve.png")));
    assert_eq!((w, h), (900, 540));
    // axes, two lines, a legend and text: thousands of dark pixels
    assert!(ink > 3000, "only {ink} drawn pixels");
}

#[test]
fn a_loss_curve_that_cannot_be_written_costs_a_warning_not_the_model() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    // a directory where the PNG should go: the rename onto it fails
    let blocked = dir.models().join("product_P001_all_kan_v1_loss_curve.png");
    std::fs::create_dir_all(blocked.join("occupied")).unwrap();
    let out = dir.quick_train_cmd(&data, "kan").output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: product_P001_all_kan_v1:") && stderr.contains("not written"),
        "{stderr}"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read("models/product_P001_all_kan_v1_metadata.json")).unwrap();
    assert_eq!(meta["status"], "completed");
    let warnings = meta["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("_loss_curve.png not written"),
        "{warnings:?}"
    );
    let weights = dir
        .models()
        .join("product_P001_all_kan_v1_model.safetensors");
    assert!(weights.is_file());
    // the registry check accepts the recorded absence
    dir.cmd().args(["index", "verify"]).ok();
}

/// Product P001's sales per day, summed over the stores, of a data file.
fn p001_daily_sales(data: &std::path::Path) -> Vec<f64> {
    let text = std::fs::read_to_string(data).unwrap();
    let mut daily = std::collections::BTreeMap::<String, f64>::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[2] == "P001" {
            *daily.entry(f[0].to_string()).or_default() += f[3].parse::<f64>().unwrap();
        }
    }
    daily.into_values().collect()
}

#[test]
fn predict_stands_on_the_floor_validation_chose() {
    let dir = crate::dir();
    let data = dir.small_data(150);
    let train = |extra: &[&str]| {
        dir.cmd()
            .args(["--quiet", "train", "--data"])
            .arg(&data)
            .args(["--product", "P001", "--model", "kan", "--epochs", "2"])
            .args(["--window", "14", "--quantiles", "none"])
            .args(extra)
            .ok();
    };
    train(&[]); // v1: with the floor validation chooses
    train(&["--floor", "none"]); // v2: the same network alone
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read("models/product_P001_all_kan_v1_metadata.json")).unwrap();
    let floor: shoptrain_shared::floor::Floor =
        serde_json::from_value(meta["floor"].clone()).unwrap_or_else(|e| panic!("{e}: {meta}"));
    assert!(
        floor.blends(),
        "validation kept the network alone: {floor:?}"
    );
    let v2: serde_json::Value =
        serde_json::from_str(&dir.read("models/product_P001_all_kan_v2_metadata.json")).unwrap();
    assert!(v2.get("floor").is_none(), "{v2}");
    // the floor never scores worse on validation than the network alone
    assert!(meta["metrics"]["mase"].as_f64() <= v2["metrics"]["mase"].as_f64());
    let p50 = |prefix: &str| {
        let csv = dir
            .cmd()
            .args(["predict", prefix, "--data"])
            .arg(&data)
            .args(["--format", "csv"])
            .ok();
        // a point-forecast model prints `date,sales`
        shoptrain_tests::csv_column(&csv, "sales")
    };
    let (blended, network) = (
        p50("product_P001_all_kan_v1"),
        p50("product_P001_all_kan_v2"),
    );
    // the classical forecast of the whole history, computed here
    let sales: Vec<f32> = p001_daily_sales(&data).iter().map(|v| *v as f32).collect();
    let classical = floor.classical.forecast(&sales, 7).unwrap();
    let w = floor.network_weight;
    for d in 0..7 {
        let want = (w * network[d] + (1.0 - w) * classical[d] as f64).max(0.0);
        assert!(
            (blended[d] - want).abs() < 1e-2 * want.max(1.0),
            "day {d}: {} vs {want} ({w} x {} + classical {})",
            blended[d],
            network[d],
            classical[d]
        );
    }
}
