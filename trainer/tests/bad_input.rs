//! The bad-input matrix (tests/reliability.md lists it):
//! every case exits non-zero with a message naming the problem, and leaves
//! every byte under the test folder (data, models directory, index,
//! versions.json) as it was.

use shoptrain_shared::bundle::sha256_hex;
use shoptrain_tests::Dir;
use std::collections::BTreeMap;
use std::path::Path;

const HEAD: &str = "date,store_id,product_id,sales,price\n";

/// `relative path -> sha256` of every file below `root`.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, sha256_hex(&std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A folder with data, bad files and one trained model.
fn fixture() -> (Dir, String) {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let prefix = dir.quick_train(&data, "kan", &[]);
    let good = std::fs::read_to_string(&data).unwrap();
    let files: [(&str, String); 13] = [
        (
            "missing_column.csv",
            "date,store_id,sales\n2024-01-01,S1,3\n".into(),
        ),
        (
            "bad_date.csv",
            format!("{HEAD}2024-01-01,S1,P1,3,1.0\n2024-13-01,S1,P1,3,1.0\n"),
        ),
        ("bad_number.csv", format!("{HEAD}2024-01-01,S1,P1,3,abc\n")),
        ("nan.csv", format!("{HEAD}2024-01-01,S1,P1,NaN,1\n")),
        ("inf.csv", format!("{HEAD}2024-01-01,S1,P1,1,inf\n")),
        (
            "negative.csv",
            format!("{HEAD}2024-01-01,S1,P1,1,1\n2024-01-02,S1,P1,-2,1\n"),
        ),
        (
            "duplicate.csv",
            format!("{HEAD}2024-01-01,S1,P1,1,1\n2024-01-02,S1,P1,2,1\n2024-01-01,S1,P1,5,1\n"),
        ),
        ("ragged.csv", format!("{HEAD}2024-01-01,S1,P1,1\n")),
        ("empty.csv", String::new()),
        ("header_only.csv", HEAD.into()),
        (
            "gap.csv",
            good.lines()
                .enumerate()
                .filter(|(i, _)| !(40..52).contains(i))
                .map(|(_, l)| format!("{l}\n"))
                .collect(),
        ),
        (
            "short.csv",
            good.lines()
                .take(1 + 6 * 20)
                .map(|l| format!("{l}\n"))
                .collect(),
        ),
        (
            "other_products.csv",
            good.lines()
                .filter(|l| !l.contains(",P001,"))
                .map(|l| format!("{l}\n"))
                .collect(),
        ),
    ];
    for (name, text) in files {
        dir.create(name, &text);
    }
    (dir, prefix)
}

/// Runs `args`, expects a non-zero exit whose stderr contains `expected`,
/// and no file created, changed or removed.
fn rejects(dir: &Dir, args: &[&str], expected: &str) {
    let before = snapshot(dir.path());
    let out = dir.cmd().args(args).output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        stderr.contains(expected),
        "{args:?}: expected {expected:?} in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(before, snapshot(dir.path()), "{args:?} changed files");
}

fn train<'a>(data: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "train",
        "--data",
        data,
        "--product",
        "P001",
        "--epochs",
        "1",
    ];
    v.extend_from_slice(more);
    v
}

#[test]
fn train_rejects_every_csv_fault() {
    let (dir, _) = fixture();
    for (file, expected) in [
        (
            "missing_column.csv",
            "missing_column.csv:1: missing column \"product_id\"",
        ),
        (
            "bad_date.csv",
            "bad_date.csv:3: column \"date\": \"2024-13-01\" is not a YYYY-MM-DD date",
        ),
        (
            "bad_number.csv",
            "bad_number.csv:2: column \"price\": \"abc\" is not a number",
        ),
        (
            "nan.csv",
            "nan.csv:2: column \"sales\": \"NaN\" is not a finite number",
        ),
        (
            "inf.csv",
            "inf.csv:2: column \"price\": \"inf\" is not a finite number",
        ),
        (
            "negative.csv",
            "negative.csv:3: column \"sales\": -2 is negative",
        ),
        (
            "duplicate.csv",
            "duplicate.csv:4: duplicate row for date 2024-01-01",
        ),
        ("ragged.csv", "ragged.csv:2:"),
        ("empty.csv", "empty.csv:1: the file is empty"),
        (
            "header_only.csv",
            "header_only.csv: no data rows after the header",
        ),
        ("no_such_file.csv", "cannot read data file no_such_file.csv"),
    ] {
        rejects(&dir, &train(file, &[]), expected);
    }
    rejects(
        &dir,
        &train("gap.csv", &["--fill", "error"]),
        "are missing (use --fill zero or --fill ffill to fill them)",
    );
    rejects(
        &dir,
        &train("data.csv", &["--features", "price,humidity"]),
        "data.csv:1: unknown feature column \"humidity\"",
    );
    rejects(
        &dir,
        &train("short.csv", &[]),
        "has 20 days, but window 30 + horizon 7 with a validation split needs at least",
    );
    rejects(
        &dir,
        &train("data.csv", &["--window", "80", "--horizon", "14"]),
        "has 90 days, but window 80 + horizon 14",
    );
}

#[test]
fn train_rejects_hostile_ids_unknown_choices_and_bad_numbers() {
    let (dir, _) = fixture();
    for id in [
        "../x",
        "a/b",
        "a_b",
        "Ibuprofène 400",
        "P 001",
        "..",
        "P001\\x",
    ] {
        let args = [
            "train",
            "--data",
            "data.csv",
            "--product",
            id,
            "--epochs",
            "1",
        ];
        rejects(&dir, &args, &format!("unknown product {id:?}"));
    }
    rejects(
        &dir,
        &["train", "--data", "data.csv", "--product", ""],
        "product id is empty",
    );
    let long = "x".repeat(200);
    rejects(
        &dir,
        &["train", "--data", "data.csv", "--product", &long],
        "is 200 bytes once escaped; the limit is 64 bytes",
    );
    rejects(
        &dir,
        &[
            "train", "--data", "data.csv", "--store", "S999", "--mode", "store",
        ],
        "unknown store \"S999\"; known stores include: S001, S002",
    );
    rejects(
        &dir,
        &train("data.csv", &["--mode", "weekly"]),
        "invalid value 'weekly' for '--mode <MODE>'",
    );
    rejects(
        &dir,
        &train("data.csv", &["--model", "lstm"]),
        "invalid value 'lstm' for '--model <MODEL>'",
    );
    rejects(
        &dir,
        &["train", "--data", "data.csv", "--mode", "product"],
        "--mode product needs --product ID",
    );
    rejects(
        &dir,
        &[
            "train",
            "--data",
            "data.csv",
            "--mode",
            "global",
            "--product",
            "P001",
        ],
        "--mode global trains on every series; drop --product/--store",
    );
    for (flag, value, expected) in [
        ("--epochs", "0", "--epochs must be at least 1"),
        ("--batch-size", "0", "--batch-size must be at least 1"),
        ("--lr", "0", "--lr must be a positive number"),
        ("--lr", "NaN", "--lr must be a positive number"),
        ("--val-ratio", "1.5", "--val-ratio must be between 0 and 1"),
        ("--window", "0", "--window and --horizon must be at least 1"),
        ("--device", "cuda", "--device cuda"),
        (
            "--resume",
            "product_P001_all_kan_v9",
            "product_P001_all_kan_v9",
        ),
        (
            "--from",
            "product_P001_all_kan_v9",
            "no model \"product_P001_all_kan_v9\"",
        ),
    ] {
        let args = [
            "train",
            "--data",
            "data.csv",
            "--product",
            "P001",
            flag,
            value,
        ];
        rejects(&dir, &args, expected);
    }
}

#[test]
fn models_dir_that_cannot_be_a_folder() {
    let (dir, _) = fixture();
    // a file stands where the models directory should be
    let args = [
        "--models-dir",
        "data.csv/models",
        "train",
        "--data",
        "data.csv",
        "--product",
        "P001",
        "--epochs",
        "1",
        "--window",
        "14",
    ];
    rejects(
        &dir,
        &args,
        "cannot create models folder data.csv/models: Not a directory",
    );
    rejects(
        &dir,
        &["--models-dir", "data.csv", "models", "list"],
        "data.csv",
    );
}

#[test]
fn predict_and_evaluate_reject_bad_models_and_data() {
    let (dir, prefix) = fixture();
    for cmd in ["predict", "evaluate"] {
        rejects(
            &dir,
            &[cmd, "product_P009_all_kan_v1", "--data", "data.csv"],
            "no model \"product_P009_all_kan_v1\"",
        );
        rejects(
            &dir,
            &[cmd, "../../etc/passwd", "--data", "data.csv"],
            "\"../../etc/passwd\" is neither an alias nor a model prefix",
        );
        rejects(
            &dir,
            &[cmd, &prefix, "--data", "other_products.csv"],
            "unknown product \"P001\"",
        );
        rejects(
            &dir,
            &[cmd, &prefix, "--data", "bad_date.csv"],
            "bad_date.csv:3: column \"date\"",
        );
    }
    rejects(
        &dir,
        &["predict", &prefix, "--data", "data.csv", "--format", "xml"],
        "invalid value 'xml' for '--format <FORMAT>'",
    );
    rejects(
        &dir,
        &["evaluate", &prefix, "--data", "data.csv", "--windows", "0"],
        "--windows must be at least 1",
    );
    rejects(
        &dir,
        &[
            "evaluate",
            &prefix,
            "--data",
            "data.csv",
            "--windows",
            "500",
        ],
        "500 backtest windows of 7 days after a 14-day history need 3514",
    );
}

#[test]
fn export_models_and_index_reject_bad_names() {
    let (dir, prefix) = fixture();
    rejects(
        &dir,
        &["export", "product_P009_all_kan_v1", "--out", "site"],
        "no model \"product_P009_all_kan_v1\"",
    );
    rejects(&dir, &["export", &prefix, "--out", "data.csv"], "data.csv");
    rejects(
        &dir,
        &["export", "--out", "site"],
        "required arguments were not provided",
    );
    for args in [
        vec!["models", "show", "nope_v1"],
        vec!["models", "delete", "product_P009_all_kan_v1"],
        vec![
            "models",
            "alias",
            "set",
            "production",
            "product_P009_all_kan_v1",
        ],
        vec!["models", "compare", &prefix, "product_P009_all_kan_v1"],
    ] {
        let last = args[args.len() - 1];
        rejects(&dir, &args, last);
    }
    rejects(
        &dir,
        &["models", "alias", "rm", "staging"],
        "no alias \"staging\"",
    );
    rejects(
        &dir,
        &["models", "alias", "set", "a/b", &prefix],
        "alias name \"a/b\" has characters outside the allowed set",
    );
    rejects(
        &dir,
        &["index", "repair"],
        "unrecognized subcommand 'repair'",
    );
}

#[test]
fn hostile_ids_in_the_data_become_safe_file_names() {
    let dir = crate::dir();
    let ids = ["../x", "a/b", "a_b", "Ibuprofène 400", "nul\0id", "..\\y"];
    let mut csv = String::from("date,store_id,product_id,sales\n");
    for day in 0..60 {
        let date =
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(day);
        for (i, id) in ids.iter().enumerate() {
            csv.push_str(&format!(
                "{date},S1,\"{id}\",{}\n",
                10 + (day + i as i64) % 7
            ));
        }
    }
    dir.create("hostile.csv", &csv);
    // (an id holding NUL cannot be typed on a command line; it trains below
    // inside the store model, and escapes to ~00 when named)
    for (id, prefix) in ids.iter().filter(|id| !id.contains('\0')).zip([
        "product_~2E~2E~2Fx_all_kan_v1",
        "product_a~2Fb_all_kan_v1",
        "product_a~5Fb_all_kan_v1",
        "product_Ibuprof~C3~A8ne~20400_all_kan_v1",
        "product_~2E~2E~5Cy_all_kan_v1",
    ]) {
        let out = dir
            .cmd()
            .args(["--json", "train", "--data", "hostile.csv", "--model", "kan"])
            .args(["--product", id, "--epochs", "1", "--window", "14"])
            .ok();
        assert!(out.contains(&format!("\"prefix\": \"{prefix}\"")), "{out}");
        let meta = dir.read(&format!("models/{prefix}_metadata.json"));
        assert!(meta.contains(&serde_json::to_string(id).unwrap()), "{meta}");
    }
    dir.cmd()
        .args([
            "train",
            "--data",
            "hostile.csv",
            "--model",
            "kan",
            "--mode",
            "store",
        ])
        .args(["--store", "S1", "--epochs", "1", "--window", "14"])
        .ok();
    // everything stayed inside the models directory, one flat folder
    let files = snapshot(dir.path());
    assert!(
        files
            .keys()
            .all(|f| f.starts_with("models/") || f == "hostile.csv"),
        "{files:?}"
    );
    assert_eq!(
        files
            .keys()
            .filter(|f| f.ends_with("_model.safetensors"))
            .count(),
        ids.len()
    );
    dir.cmd().args(["index", "verify"]).ok();
}

#[test]
fn a_full_disk_fails_the_run_and_keeps_what_was_saved() {
    use std::os::unix::process::CommandExt;
    let dir = crate::dir();
    let data = dir.small_data(90);
    let v1 = dir.quick_train(&data, "kan", &[]);
    let before = snapshot(dir.path());
    let mut cmd = dir.cmd();
    cmd.args([
        "train",
        "--data",
        "data.csv",
        "--product",
        "P001",
        "--model",
        "kan",
    ])
    .args(["--epochs", "2", "--window", "14"]);
    // A file-size limit makes writes past 200 kB fail with EFBIG, as a full
    // disk fails them with ENOSPC: the index and metadata fit, weights do not.
    unsafe {
        cmd.cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 200_000,
                rlim_max: 200_000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("training product_P001_all_kan_v2 failed: cannot write ")
            && stderr
                .contains("product_P001_all_kan_v2_checkpoint_best.safetensors: File too large"),
        "{stderr}"
    );
    // The failed run keeps its number and says why; nothing else changed.
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read("models/product_P001_all_kan_v2_metadata.json")).unwrap();
    assert_eq!(meta["status"], "failed");
    assert!(meta["error_message"]
        .as_str()
        .unwrap()
        .contains("File too large"));
    let after = snapshot(dir.path());
    for (file, sha) in &before {
        if !file.starts_with("models/models.db") && file != "models/versions.json" {
            assert_eq!(after.get(file), Some(sha), "{file} changed");
        }
    }
    let new: Vec<&String> = after.keys().filter(|f| !before.contains_key(*f)).collect();
    assert_eq!(new, ["models/product_P001_all_kan_v2_metadata.json"]);
    let rows: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "models", "list"]).ok()).unwrap();
    assert_eq!(rows[0]["prefix"], v1.as_str());
    assert_eq!(rows[0]["status"], "completed");
    assert_eq!(rows[1]["status"], "failed");
    dir.cmd().args(["index", "verify"]).ok();
}
