//! A user's week with the sales store: import, train every product,
//! forecast, import the days sold (and a correction), `sync`, `monitor`;
//! drift found and retrained; `kill -9` mid-import and mid-sync.

use serde_json::Value;
use shoptrain_tests::Dir;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Generated data (2 stores x 3 products), its header and its rows by day.
struct Days {
    header: String,
    days: Vec<Vec<String>>,
}

impl Days {
    fn generate(dir: &Dir, days: usize) -> Days {
        let text = std::fs::read_to_string(shoptrain_tests::generated_data(dir.path(), 2, 3, days))
            .unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap().to_string();
        let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for l in lines {
            by_day
                .entry(l[..10].to_string())
                .or_default()
                .push(l.to_string());
        }
        Days {
            header,
            days: by_day.into_values().collect(),
        }
    }

    /// A CSV of days `from..to` plus extra rows.
    fn file(&self, dir: &Dir, name: &str, from: usize, to: usize, extra: &[String]) -> PathBuf {
        let mut rows: Vec<String> = self.days[from..to].concat();
        rows.extend_from_slice(extra);
        dir.create(name, &format!("{}\n{}\n", self.header, rows.join("\n")))
    }

    /// Day `day`'s row of (store, product) with its sales moved by `by`.
    fn corrected(&self, day: usize, store: &str, product: &str, by: f64) -> String {
        let row = self.days[day]
            .iter()
            .find(|r| r.contains(&format!(",{store},{product},")))
            .unwrap();
        let mut f: Vec<String> = row.split(',').map(str::to_string).collect();
        f[3] = (f[3].parse::<f64>().unwrap() + by).to_string();
        f.join(",")
    }

    /// Product `product`'s sales summed over the stores, day by day.
    fn product_sales(&self, product: &str, days: usize) -> Vec<f64> {
        self.days[..days]
            .iter()
            .map(|rows| {
                rows.iter()
                    .map(|r| r.split(',').collect::<Vec<_>>())
                    .filter(|f| f[2] == product)
                    .map(|f| f[3].parse::<f64>().unwrap())
                    .sum()
            })
            .collect()
    }
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The newest completed, not deleted, version of each identifier.
fn in_use(dir: &Dir) -> BTreeMap<String, String> {
    let rows = json(&dir.cmd().args(["--json", "models", "list"]).ok());
    rows.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "completed")
        .map(|r| {
            (
                r["model_identifier"].as_str().unwrap().to_string(),
                r["prefix"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn metadata(dir: &Dir, prefix: &str) -> Value {
    json(&dir.read(&format!("models/{prefix}_metadata.json")))
}

const TRAIN: [&str; 12] = [
    "--json",
    "train",
    "--data",
    "store",
    "--each",
    "product",
    "--model",
    "kan",
    "--epochs",
    "3",
    "--checkpoint-every",
    "1",
];

#[test]
fn a_users_week_syncs_exactly_the_changed_series_and_scores_the_forecasts() {
    let dir = crate::dir();
    let data = Days::generate(&dir, 607);
    let first = data.file(&dir, "d1.csv", 0, 600, &[]);
    dir.cmd().args(["data", "import"]).arg(&first).ok();
    dir.cmd().args(TRAIN).ok();
    let v1 = in_use(&dir);
    assert_eq!(v1.len(), 3, "{v1:?}");
    dir.cmd()
        .args([
            "models",
            "alias",
            "set",
            "production",
            &v1["product_P002_all_kan"],
        ])
        .ok();
    let forecast = dir
        .cmd()
        .args([
            "predict", "--data", "store", "--each", "product", "--format", "csv",
        ])
        .ok();

    // a week sold, and a corrected day of S002/P003 from before it
    let fix = data.corrected(590, "S002", "P003", 7.0);
    let week = data.file(&dir, "d2.csv", 600, 607, &[fix]);
    let v = json(&dir.cmd().args(["--json", "data", "import"]).arg(&week).ok());
    assert_eq!(
        (v["version"].as_u64(), v["rows_added"].as_u64()),
        (Some(2), Some(42))
    );
    assert_eq!(v["rows_changed"], 1);

    let dry = json(&dir.cmd().args(["--json", "sync", "--dry-run"]).ok());
    let actions: Vec<&str> = dry["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["action"].as_str().unwrap_or("keep"))
        .collect();
    assert_eq!(actions, ["fine-tune"; 3], "{dry}");
    assert_eq!(in_use(&dir), v1, "a dry run trains nothing");

    let report = json(&dir.cmd().args(["--json", "sync", "--jobs", "2"]).ok());
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3, "{report}");
    let v2 = in_use(&dir);
    for t in tasks {
        assert_eq!(t["state"], "done", "{t}");
        let id = t["identifier"].as_str().unwrap();
        let kept = t["kept"].as_str().unwrap();
        assert_eq!(v2[id], kept);
        let meta = metadata(&dir, kept);
        assert_eq!(
            meta["data"]["store_version"], 2,
            "{kept} is bound to data version 2"
        );
        let old = metadata(&dir, &v1[id]);
        assert_ne!(meta["data"]["series_sha256"], old["data"]["series_sha256"]);
        if t["trained"].as_array().unwrap().len() == 1 {
            assert_eq!(
                meta["parent_prefix"].as_str(),
                Some(v1[id].as_str()),
                "fine-tuned"
            );
        }
    }
    // the alias moved only if the new version beat the old on the newest weeks
    let p2 = tasks
        .iter()
        .find(|t| t["identifier"] == "product_P002_all_kan")
        .unwrap();
    let m = &p2["alias_moves"][0];
    assert_eq!(m["name"], "production", "{p2}");
    let aliases = dir.cmd().args(["models", "alias", "list"]).ok();
    let beat = m["new_mase"].as_f64().unwrap() < m["old_mase"].as_f64().unwrap();
    assert_eq!(m["moved"], beat, "{m}");
    let target = if beat {
        &v2["product_P002_all_kan"]
    } else {
        &v1["product_P002_all_kan"]
    };
    assert!(
        aliases.contains(&format!("production -> {target}")),
        "{aliases}"
    );

    // monitor: each recorded forecast against the week sold, by hand for P001
    let mon = json(&dir.cmd().args(["--json", "monitor"]).ok());
    assert_eq!(
        (mon["recorded"].as_u64(), mon["waiting"].as_u64()),
        (Some(3), Some(0))
    );
    let weeks = mon["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 3, "{mon}");
    let sales = data.product_sales("P001", 607);
    let scale = (7..600)
        .map(|t| (sales[t] - sales[t - 7]).abs())
        .sum::<f64>()
        / 593.0;
    let p50: Vec<f64> = forecast
        .lines()
        .filter(|l| l.starts_with("all,P001,"))
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(p50.len(), 7, "{forecast}");
    let mase = (0..7).map(|d| (sales[600 + d] - p50[d]).abs()).sum::<f64>() / 7.0 / scale;
    let naive = (0..7)
        .map(|d| (sales[600 + d] - sales[593 + d]).abs())
        .sum::<f64>()
        / 7.0
        / scale;
    let row = weeks
        .iter()
        .find(|w| w["prefix"] == v1["product_P001_all_kan"].as_str())
        .unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 2e-3 * b.max(0.1);
    assert!(
        close(row["mase"].as_f64().unwrap(), mase),
        "{row} vs {mase}"
    );
    assert!(
        close(row["seasonal_naive_mase"].as_f64().unwrap(), naive),
        "{row} vs {naive}"
    );
    let png = dir.path().join("monitor.png");
    dir.cmd().args(["monitor", "--png"]).arg(&png).ok();
    assert!(std::fs::metadata(&png).unwrap().len() > 5000);

    // a correction of one series alone: exactly its product is retrained
    let fix = data.corrected(604, "S001", "P001", 3.0);
    let fix = dir.create("fix.csv", &format!("{}\n{fix}\n", data.header));
    dir.cmd().args(["data", "import"]).arg(&fix).ok();
    let report = json(&dir.cmd().args(["--json", "sync"]).ok());
    let ids: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["product_P001_all_kan"], "{report}");
    let v3 = in_use(&dir);
    assert_ne!(v3["product_P001_all_kan"], v2["product_P001_all_kan"]);
    for untouched in ["product_P002_all_kan", "product_P003_all_kan"] {
        assert_eq!(v3[untouched], v2[untouched]);
    }
    let p001 = metadata(&dir, &v3["product_P001_all_kan"]);
    assert_eq!(p001["data"]["store_version"], 3);
    // a fine-tune of a fine-tune starts from the settings of the model
    // trained from scratch, not from its parent's reduced ones
    if p001["parent_prefix"].is_string() {
        let lr = |m: &Value| m["training"]["lr"].as_f64().unwrap();
        let scratch = metadata(&dir, &v1["product_P001_all_kan"]);
        assert!((lr(&p001) - lr(&scratch) / 3.0).abs() < 1e-12, "{p001}");
    }
    // nothing left to do
    let again = json(&dir.cmd().args(["--json", "sync"]).ok());
    assert!(again["tasks"].as_array().unwrap().is_empty(), "{again}");
    // an alias left on the stale v1 is compared with the up-to-date newest
    // version again (the same weeks: the same verdict); one that moved is not
    let stale = again["stale_aliases"].as_array().unwrap();
    if beat {
        assert!(stale.is_empty(), "{again}");
    } else {
        assert_eq!(stale.len(), 1, "{again}");
        assert_eq!(stale[0]["moved"], false, "{again}");
        assert_eq!(stale[0]["to"], v2["product_P002_all_kan"].as_str());
    }
    dir.cmd().args(["index", "verify"]).ok();
    // a rebuilt index keeps the recorded forecasts (they live in no metadata file)
    let rebuilt = json(&dir.cmd().args(["--json", "index", "rebuild"]).ok());
    assert_eq!(rebuilt["forecasts"], 3, "{rebuilt}");
    let mon_after = json(&dir.cmd().args(["--json", "monitor"]).ok());
    assert_eq!(
        mon_after["weeks"].as_array().unwrap().len(),
        3,
        "{mon_after}"
    );
}

#[test]
fn drifting_models_fail_monitor_and_are_retrained_by_sync_when_drifting() {
    let dir = crate::dir();
    let data = Days::generate(&dir, 600);
    dir.cmd()
        .args(["data", "import"])
        .arg(data.file(&dir, "d1.csv", 0, 600, &[]))
        .ok();
    // the network alone: a blend could be seasonal naive itself
    dir.cmd().args(TRAIN).args(["--floor", "none"]).ok();
    let before = in_use(&dir);
    // two weeks that repeat the last one exactly: seasonal naive is perfect
    let repeat = |from: &str, n: usize| -> Vec<String> {
        let base = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
        data.days[593..600]
            .iter()
            .enumerate()
            .flat_map(|(d, rows)| {
                let date = base + chrono::Days::new((7 * n + d) as u64);
                rows.iter()
                    .map(move |r| format!("{date}{}", &r[10..]))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let last = &data.days[599][0][..10];
    let next = (chrono::NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap()
        + chrono::Days::new(1))
    .to_string();
    for n in 0..2 {
        dir.cmd()
            .args(["predict", "--data", "store", "--each", "product"])
            .ok();
        let week = dir.create(
            &format!("week{n}.csv"),
            &format!("{}\n{}\n", data.header, repeat(&next, n).join("\n")),
        );
        dir.cmd().args(["data", "import"]).arg(&week).ok();
        if n == 0 {
            // as the nightly job does: a new version before the next forecast
            dir.cmd().args(["sync"]).ok();
        }
    }
    let out = dir
        .cmd()
        .args(["--json", "monitor", "--weeks", "2"])
        .output();
    assert_eq!(out.status.code(), Some(3), "monitor exits 3 on drift");
    let mon = json(&String::from_utf8(out.stdout).unwrap());
    let drifting: Vec<&str> = mon["drifting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(drifting.len(), 3, "{mon}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("sync --when-drifting"), "{err}");
    // a shorter memory for drift: still failing (one week lost is enough)
    dir.cmd().args(["monitor", "--weeks", "1"]).fails();

    let report = json(
        &dir.cmd()
            .args(["--json", "sync", "--when-drifting", "--weeks", "2"])
            .ok(),
    );
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3, "{report}");
    for t in tasks {
        assert_eq!(t["action"], "retrain", "drift is retrained in full: {t}");
    }
    let after = in_use(&dir);
    for (id, old) in &before {
        assert_ne!(&after[id], old);
        assert_eq!(metadata(&dir, &after[id])["data"]["store_version"], 3);
    }
    // drift is judged per model across its versions (the fine-tunes of the
    // first sync included), and again only from the drift retrain on
    dir.cmd().args(["monitor", "--weeks", "2"]).ok();
}

/// Polls until `done` or the deadline; true when `done` held.
fn wait_for(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn kill_9_mid_import_and_mid_sync_loses_nothing_and_trains_nothing_twice() {
    let dir = crate::dir();
    let data = Days::generate(&dir, 607);
    let big = data.file(&dir, "d1.csv", 0, 600, &[]);
    // an import killed at moments through its run: no version or the whole one
    let t0 = Instant::now();
    let probe = Dir::new(env!("CARGO_BIN_EXE_shoptrain"));
    probe.cmd().args(["data", "import"]).arg(&big).ok();
    let took = t0.elapsed();
    let mut killed = 0;
    for trial in 0..4 {
        let mut child = dir.cmd().args(["data", "import"]).arg(&big).spawn();
        std::thread::sleep(took.mul_f64(0.2 + 0.2 * trial as f64));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        let versions = json(&dir.cmd().args(["--json", "data", "versions"]).ok());
        let versions = versions.as_array().unwrap();
        assert!(versions.len() <= 1, "{versions:?}");
        if let Some(v) = versions.first() {
            assert_eq!(v["rows_added"], 3600, "a whole version or none: {v}");
            break;
        }
    }
    assert!(killed >= 1, "no import was killed (each took {took:?})");
    if json(&dir.cmd().args(["--json", "data", "versions"]).ok())
        .as_array()
        .unwrap()
        .is_empty()
    {
        dir.cmd().args(["data", "import"]).arg(&big).ok();
    }
    let export = dir.cmd().args(["data", "export"]).ok();
    assert_eq!(export.lines().count(), 3601);

    dir.cmd().args(TRAIN).ok();
    let before = in_use(&dir);
    dir.cmd()
        .args(["data", "import"])
        .arg(data.file(&dir, "d2.csv", 600, 607, &[]))
        .ok();
    // a sync killed once its first model's run has a checkpoint
    let mut child = dir
        .cmd()
        .args(["sync", "--jobs", "1", "--fine-tune-epochs", "30"])
        .spawn();
    let journal = || {
        std::fs::read_dir(dir.models().join("syncs"))
            .ok()
            .and_then(|d| {
                d.filter_map(|e| e.ok())
                    .find(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .and_then(|e| std::fs::read_to_string(e.path()).ok())
            .unwrap_or_default()
    };
    let cut = wait_for(Duration::from_secs(120), || {
        let j: Value = serde_json::from_str(&journal()).unwrap_or(Value::Null);
        let running = j["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|t| t["running"].as_str().map(str::to_string));
        running.is_some_and(|p| {
            std::fs::read_dir(dir.models().join("checkpoints"))
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with(&p))
        })
    });
    assert!(cut, "sync never reached a checkpoint: {}", journal());
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_run: Value = serde_json::from_str(&journal()).unwrap();
    let killed_prefix = killed_run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|t| t["running"].as_str())
        .unwrap()
        .to_string();

    // sync again: the cut run is resumed under its own name, each model
    // gets exactly one new version
    dir.cmd()
        .args(["sync", "--jobs", "1", "--fine-tune-epochs", "30"])
        .ok();
    let after = in_use(&dir);
    assert!(
        after.values().any(|p| *p == killed_prefix),
        "{after:?} resumes {killed_prefix}"
    );
    let rows = json(&dir.cmd().args(["--json", "models", "list"]).ok());
    for (id, old) in &before {
        let versions: Vec<&Value> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["model_identifier"] == id.as_str())
            .collect();
        assert_eq!(versions.len(), 2, "{id}: {versions:?}");
        assert_ne!(&after[id], old);
        assert_eq!(metadata(&dir, &after[id])["data"]["store_version"], 2);
    }
    dir.cmd().args(["index", "verify"]).ok();
}

#[test]
fn two_syncs_at_once_never_train_a_model_twice() {
    let dir = crate::dir();
    let data = Days::generate(&dir, 607);
    dir.cmd()
        .args(["data", "import"])
        .arg(data.file(&dir, "d1.csv", 0, 600, &[]))
        .ok();
    dir.cmd().args(TRAIN).ok();
    dir.cmd()
        .args(["data", "import"])
        .arg(data.file(&dir, "d2.csv", 600, 607, &[]))
        .ok();
    // other settings, so other journals: only the per-model locks keep them apart
    let a = dir.cmd().args(["sync", "--jobs", "1"]).spawn();
    let b = dir
        .cmd()
        .args(["sync", "--jobs", "1", "--full-every", "9"])
        .spawn();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows = json(&dir.cmd().args(["--json", "models", "list"]).ok());
    assert_eq!(
        rows.as_array().unwrap().len(),
        6,
        "3 models, one new version each: {rows}"
    );
    // the same settings at once: the second refuses instead of sharing a journal
    dir.cmd()
        .args(["data", "import"])
        .arg(dir.create(
            "fix.csv",
            &format!(
                "{}\n{}\n",
                data.header,
                data.corrected(603, "S001", "P002", 2.0)
            ),
        ))
        .ok();
    let mut first = dir.cmd().args(["sync", "--jobs", "1"]).spawn();
    let locked = wait_for(Duration::from_secs(60), || {
        std::fs::read_dir(dir.models().join("syncs"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count()
            >= 3
    });
    if locked && first.try_wait().unwrap().is_none() {
        let err = dir.cmd().args(["sync", "--jobs", "1"]).fails();
        assert!(err.contains("already running"), "{err}");
    }
    assert!(first.wait().unwrap().success());
}

#[test]
fn the_nightly_script_imports_syncs_and_monitors() {
    let dir = crate::dir();
    let data = Days::generate(&dir, 607);
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/nightly.sh");
    let night = || {
        std::process::Command::new("bash")
            .arg(&script)
            .env("SHOPTRAIN", env!("CARGO_BIN_EXE_shoptrain"))
            .env("SHOPTRAIN_MODELS_DIR", dir.models())
            .env("INBOX", &inbox)
            .env("JOBS", "2")
            .output()
            .unwrap()
    };
    // night 1: the first file imports, a file with negative sales is set aside
    std::fs::copy(
        data.file(&dir, "d1.csv", 0, 600, &[]),
        inbox.join("2024-08-21.csv"),
    )
    .unwrap();
    std::fs::write(
        inbox.join("2024-08-22.csv"),
        format!("{}\n2024-08-22,S001,P001,-3,1,0,0,1\n", data.header),
    )
    .unwrap();
    let out = night();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a rejected file fails the night: {log}"
    );
    assert!(
        log.contains("rejected 2024-08-22.csv") && log.contains("negative"),
        "{log}"
    );
    assert!(inbox.join("imported/2024-08-21.csv").exists());
    assert!(inbox.join("rejected/2024-08-22.csv").exists());
    let versions = json(&dir.cmd().args(["--json", "data", "versions"]).ok());
    assert_eq!(versions.as_array().unwrap().len(), 1);

    // night 2, after models were trained and forecast: the week sold arrives
    dir.cmd().args(TRAIN).ok();
    let before = in_use(&dir);
    dir.cmd()
        .args(["predict", "--data", "store", "--each", "product"])
        .ok();
    std::fs::copy(
        data.file(&dir, "d2.csv", 600, 607, &[]),
        inbox.join("2024-08-29.csv"),
    )
    .unwrap();
    let out = night();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let after = in_use(&dir);
    for (id, old) in &before {
        assert_ne!(&after[id], old, "{id} retrained by the nightly sync: {log}");
    }
    assert!(dir.models().join("monitor.png").exists(), "{log}");
}
