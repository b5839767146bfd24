//! A whole chain in one command: `train --each` trains every series as its
//! own model, four shard workers on one folder train the same set exactly
//! once, a failed series does not stop the rest, and a batch killed with
//! `kill -9` resumes without training any series twice.

use serde_json::Value;
use shoptrain_tests::{generated_data, Dir};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const QUICK: [&str; 4] = ["--model", "kan", "--window", "14"];

/// `train --each product` of quick kan models (2 epochs unless told).
fn each_product(dir: &Dir, data: &Path) -> shoptrain_tests::TestCommand {
    each_product_for(dir, data, 2)
}

fn each_product_for(dir: &Dir, data: &Path, epochs: u32) -> shoptrain_tests::TestCommand {
    let mut cmd = dir.cmd();
    cmd.args(["--json", "train", "--each", "product", "--data"])
        .arg(data)
        .args(QUICK)
        .args(["--epochs", &epochs.to_string()]);
    cmd
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Completed models per identifier, from `models list --json`.
fn completed(dir: &Dir) -> BTreeMap<String, Vec<String>> {
    let rows = json(&dir.cmd().args(["models", "list", "--json"]).ok());
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows.as_array().unwrap() {
        if r["status"] == "completed" {
            let prefix = r["prefix"].as_str().unwrap();
            let identifier = prefix.rsplit_once("_v").unwrap().0.to_string();
            out.entry(identifier).or_default().push(prefix.to_string());
        }
    }
    out
}

fn verify_clean(dir: &Dir) {
    let out = dir.cmd().args(["index", "verify"]).ok();
    assert!(out.contains("files and index agree"), "{out}");
}

#[test]
fn each_product_trains_every_product_once_and_four_shards_train_the_same_set() {
    let dir = crate::dir();
    let data = generated_data(dir.path(), 2, 4, 120);
    let report = json(&each_product(&dir, &data).args(["--jobs", "2"]).ok());
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4, "{report}");
    for (i, t) in tasks.iter().enumerate() {
        assert_eq!(t["state"], "done", "{t}");
        assert_eq!(t["store"], "all");
        assert_eq!(t["product"], format!("P{:03}", i + 1));
        assert_eq!(
            t["prefix"],
            format!("product_P{:03}_all_kan_v1", i + 1),
            "{t}"
        );
        assert!(t["mase"].as_f64().unwrap() > 0.0, "{t}");
    }
    let models = completed(&dir);
    assert_eq!(models.len(), 4, "{models:?}");
    verify_clean(&dir);
    forecasts_of_every_product_fill_one_table(&dir, &data);

    // four workers, one folder, run through the Slurm array script
    let sharded = crate::dir();
    let data = generated_data(sharded.path(), 2, 4, 120);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/slurm/train-shards.sbatch"
    );
    let workers: Vec<_> = (0..4)
        .map(|i| {
            std::process::Command::new("bash")
                .arg(script)
                .current_dir(sharded.path())
                .env("SHOPTRAIN", env!("CARGO_BIN_EXE_shoptrain"))
                .env("MODELS_DIR", sharded.models())
                .env("DATA", &data)
                .env("MODEL", "kan")
                .env("SHOPTRAIN_ARGS", "--epochs 2 --window 14")
                .env("SLURM_ARRAY_TASK_ID", i.to_string())
                .env("SLURM_ARRAY_TASK_COUNT", "4")
                .output()
        })
        .collect();
    for w in workers {
        let w = w.unwrap();
        assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    }
    // …and again at the same time, each worker its own process
    let again = crate::dir();
    let data = generated_data(again.path(), 2, 4, 120);
    let mut running: Vec<_> = (0..4)
        .map(|i| {
            each_product(&again, &data)
                .args(["--jobs", "1", "--shard", &format!("{i}/4")])
                .spawn()
        })
        .collect();
    for child in running.iter_mut() {
        assert!(child.wait().unwrap().success());
    }
    for d in [&sharded, &again] {
        let models = completed(d);
        assert_eq!(
            models.keys().collect::<Vec<_>>(),
            completed(&dir).keys().collect::<Vec<_>>()
        );
        // each exactly once: one version per identifier
        assert!(models.values().all(|v| v.len() == 1), "{models:?}");
        let versions = json(&d.read("models/versions.json"));
        assert!(
            versions.as_object().unwrap().values().all(|v| v == 1),
            "{versions}"
        );
        verify_clean(d);
    }
    // the index rebuilt from the workers' files alone lists the same models
    std::fs::remove_file(sharded.models().join("models.db")).unwrap();
    sharded.cmd().args(["index", "rebuild"]).ok();
    assert_eq!(
        completed(&sharded).keys().collect::<Vec<_>>(),
        completed(&dir).keys().collect::<Vec<_>>()
    );
    verify_clean(&sharded);
}

/// `predict --each`: one CSV, 7 days of every product, each from its own
/// model and equal to that model's own `predict`; `evaluate --each` scores
/// every product beside the baselines.
fn forecasts_of_every_product_fill_one_table(dir: &Dir, data: &Path) {
    let csv = dir
        .cmd()
        .args(["predict", "--each", "product", "--format", "csv", "--data"])
        .arg(data)
        .ok();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("store,product,date,forecast,p10,p90,model"),
        "{csv}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4 * 7, "{csv}");
    for (i, row) in rows.iter().enumerate() {
        let product = format!("P{:03}", i / 7 + 1);
        assert_eq!(row[..2], ["all", product.as_str()], "{csv}");
        assert_eq!(row[6], format!("product_{product}_all_kan_v1"));
        let v: Vec<f64> = row[3..6].iter().map(|c| c.parse().unwrap()).collect();
        assert!(v[1] <= v[0] && v[0] <= v[2], "{row:?}");
    }
    let own = dir
        .cmd()
        .args([
            "predict",
            "product_P003_all_kan_v1",
            "--format",
            "csv",
            "--data",
        ])
        .arg(data)
        .ok();
    for (d, p50) in shoptrain_tests::csv_column(&own, "p50").iter().enumerate() {
        let each: f64 = rows[14 + d][3].parse().unwrap();
        assert!((each - p50).abs() < 0.01, "day {d}: {each} vs {p50}");
    }

    let scores = json(
        &dir.cmd()
            .args([
                "--json",
                "evaluate",
                "--each",
                "product",
                "--windows",
                "2",
                "--data",
            ])
            .arg(data)
            .ok(),
    );
    let scores = scores.as_array().unwrap();
    assert_eq!(scores.len(), 4);
    for s in scores {
        let model = s["model"].as_str().unwrap();
        assert!(s["metrics"][model]["mase"].as_f64().unwrap() > 0.0, "{s}");
        assert!(
            s["metrics"]["seasonal_naive_7"]["mase"].as_f64().is_some(),
            "{s}"
        );
    }

    let err = dir
        .cmd()
        .args(["predict", "--each", "product", "--type", "mlstm", "--data"])
        .arg(data)
        .fails();
    assert!(
        err.contains("no completed mlstm model for 4 of the 4 selected series")
            && err.contains("P001_all"),
        "{err}"
    );
}

#[test]
fn a_failed_series_is_recorded_and_the_rest_go_on() {
    let dir = crate::dir();
    let full = generated_data(dir.path(), 1, 3, 120);
    // P002 keeps only its last 10 days: too short for a 14-day window
    let text = std::fs::read_to_string(&full).unwrap();
    let cut: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains(",P002,") || l[..10] >= *"2023-04-21")
        .collect();
    let data = dir.create("cut.csv", &(cut.join("\n") + "\n"));

    let out = each_product(&dir, &data).output();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of 3 models") && stderr.contains("--resume-batch"),
        "{stderr}"
    );
    let report = json(&String::from_utf8_lossy(&out.stdout));
    let states: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "failed", "done"]);
    let error = report["tasks"][1]["error"].as_str().unwrap();
    assert!(error.contains("P002"), "{error}");

    // the same command again refuses to start the batch over …
    let err = each_product(&dir, &data).fails();
    assert!(err.contains("--resume-batch"), "{err}");
    // … and --resume-batch retries only the failed series
    let out = each_product(&dir, &data).arg("--resume-batch").output();
    assert!(!out.status.success());
    let models = completed(&dir);
    assert_eq!(models.len(), 2, "{models:?}");
    assert!(models.values().all(|v| v.len() == 1), "{models:?}");
}

#[test]
fn a_batch_killed_with_kill_9_resumes_without_training_a_series_twice() {
    let dir = crate::dir();
    let data = generated_data(dir.path(), 2, 6, 200);
    // 40 epochs without early stopping: each product takes long enough
    // (now that a model's classical baselines cost one fit) to be caught
    let mut child = each_product_for(&dir, &data, 40)
        .args(["--patience", "100", "--jobs", "1"])
        .spawn();
    // kill once one product is done and the next one is training
    let started = Instant::now();
    let journal = loop {
        // the journal, not its lock file beside it (directory order is the file system's)
        let found = std::fs::read_dir(dir.models().join("batches"))
            .ok()
            .and_then(|d| {
                d.flatten()
                    .find(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .and_then(|e| std::fs::read_to_string(e.path()).ok());
        if let Some(text) = found
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        {
            let state = |s: &str| {
                text["tasks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["state"] == s)
            };
            if state("done") && state("running") {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                break text;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the batch ended ({status}) before it could be killed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the batch never got a product done"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let tasks = journal["tasks"].as_array().unwrap();
    let done_before: Vec<&Value> = tasks.iter().filter(|t| t["state"] == "done").collect();
    assert!(done_before.len() < 6, "killed too late: {journal}");

    let report = json(
        &each_product_for(&dir, &data, 40)
            .args(["--patience", "100", "--jobs", "2", "--resume-batch"])
            .ok(),
    );
    let tasks = report["tasks"].as_array().unwrap();
    assert!(tasks.iter().all(|t| t["state"] == "done"), "{report}");
    // what was done before the kill was kept, not trained again
    for before in done_before {
        let after = tasks
            .iter()
            .find(|t| t["series"] == before["series"])
            .unwrap();
        assert_eq!(after["prefix"], before["prefix"]);
    }
    let models = completed(&dir);
    assert_eq!(models.len(), 6, "{models:?}");
    assert!(models.values().all(|v| v.len() == 1), "{models:?}");
    verify_clean(&dir);
}

#[test]
fn batch_flags_are_checked() {
    let dir = crate::dir();
    let data = generated_data(dir.path(), 1, 2, 60);
    for (args, why) in [
        (vec!["--shard", "4/4"], "0 <= I < N"),
        (vec!["--shard", "two"], "--shard"),
        (vec!["--jobs", "0"], "--jobs must be at least 1"),
        (vec!["--product", "P999"], "unknown product \"P999\""),
    ] {
        let err = each_product(&dir, &data).args(&args).fails();
        assert!(err.contains(why), "{args:?}: {err}");
    }
    let err = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&data)
        .args(["--shard", "0/2"])
        .fails();
    assert!(err.contains("--each"), "{err}");
    assert!(!dir.models().join("batches").exists());
}
