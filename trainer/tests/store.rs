//! The sales store (`data import|versions|export|inspect`) as a user's week
//! begins: a first import, then new days with one corrected day.

use shoptrain_tests::Dir;
use std::path::PathBuf;

/// Splits generated data into a first file (days 0..60) and a second (days
/// 53..67) in which one day of S001/P001 was corrected by +5.
fn two_imports(dir: &Dir) -> (PathBuf, PathBuf, String) {
    let full = shoptrain_tests::generated_data(dir.path(), 2, 2, 67);
    let text = std::fs::read_to_string(full).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    let mut dates: Vec<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
    dates.dedup();
    let (first, second): (Vec<&str>, Vec<&str>) = (
        rows.iter()
            .copied()
            .filter(|r| dates[..60].contains(&&r[..10]))
            .collect(),
        rows.iter()
            .copied()
            .filter(|r| dates[53..].contains(&&r[..10]))
            .collect(),
    );
    let corrected_day = dates[55].to_string();
    let second: Vec<String> = second
        .iter()
        .map(|r| {
            let mut f: Vec<String> = r.split(',').map(str::to_string).collect();
            if f[0] == corrected_day && f[1] == "S001" && f[2] == "P001" {
                f[3] = (f[3].parse::<f64>().unwrap() + 5.0).to_string();
            }
            f.join(",")
        })
        .collect();
    let v1 = dir.create("v1.csv", &format!("{head}\n{}\n", first.join("\n")));
    let v2 = dir.create("v2.csv", &format!("{head}\n{}\n", second.join("\n")));
    (v1, v2, corrected_day)
}

/// The rows of a long CSV as (date, store, product, values), sorted: the same
/// data whatever its number formatting ("7.90" and "7.9").
fn rows_of(csv: &str) -> Vec<(String, String, String, Vec<f64>)> {
    let mut rows: Vec<_> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let values = f[3..].iter().map(|v| v.parse::<f64>().unwrap()).collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string(), values)
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    rows
}

#[test]
fn imports_are_versions_that_read_back_as_they_were() {
    let dir = crate::dir();
    let (v1, v2, day) = two_imports(&dir);
    let first: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "data", "import"]).arg(&v1).ok()).unwrap();
    assert_eq!(first["version"], 1);
    assert_eq!(first["rows_added"], 240);
    let second: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "data", "import"]).arg(&v2).ok()).unwrap();
    assert_eq!(second["version"], 2);
    // 7 new days x 4 series; 7 overlapping days, one of them corrected
    assert_eq!(
        (
            &second["rows_added"],
            &second["rows_changed"],
            &second["rows_unchanged"]
        ),
        (
            &serde_json::json!(28),
            &serde_json::json!(1),
            &serde_json::json!(27)
        )
    );
    let s001_p001 = second["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["store"] == "S001" && s["product"] == "P001")
        .unwrap();
    assert_eq!(s001_p001["changed"], 1);
    // version 1 reads back exactly as imported, version 2 holds the correction
    let export1 = dir.cmd().args(["data", "export", "--version", "1"]).ok();
    assert_eq!(
        rows_of(&export1),
        rows_of(&std::fs::read_to_string(&v1).unwrap())
    );
    let out = dir.path().join("v2-export.csv");
    dir.cmd().args(["data", "export", "--out"]).arg(&out).ok();
    let export2 = std::fs::read_to_string(&out).unwrap();
    assert_eq!(export2.lines().count(), 1 + 67 * 4);
    let corrected: Vec<&str> = export2
        .lines()
        .filter(|l| l.starts_with(&format!("{day},S001,P001,")))
        .collect();
    let old: Vec<&str> = export1
        .lines()
        .filter(|l| l.starts_with(&format!("{day},S001,P001,")))
        .collect();
    let sales = |l: &str| l.split(',').nth(3).unwrap().parse::<f64>().unwrap();
    assert_eq!(sales(corrected[0]), sales(old[0]) + 5.0);
    // the store is inspected like a file
    let inspected = dir.cmd().args(["data", "inspect", "store@1"]).ok();
    assert!(inspected.contains("rows      240"), "{inspected}");
    let listed = dir.cmd().args(["data", "versions"]).ok();
    assert_eq!(listed.lines().count(), 3, "{listed}");
}

#[test]
fn a_bad_import_is_refused_with_its_line_and_changes_nothing() {
    let dir = crate::dir();
    let (v1, _, _) = two_imports(&dir);
    dir.cmd().args(["data", "import"]).arg(&v1).ok();
    let before = dir.cmd().args(["--json", "data", "versions"]).ok();
    let negative = dir.create(
        "negative.csv",
        "date,store_id,product_id,sales,price,is_promotion,is_holiday,temperature\n\
         2023-03-10,S001,P001,-5,9.8,0,0,5.0\n",
    );
    let err = dir.cmd().args(["data", "import"]).arg(&negative).fails();
    assert!(
        err.contains("negative.csv:2") && err.contains("negative"),
        "{err}"
    );
    let renamed = dir.create(
        "renamed.csv",
        "date,store_id,product_id,sales,cost,is_promotion,is_holiday,temperature\n\
         2023-03-10,S001,P001,5,9.8,0,0,5.0\n",
    );
    let err = dir.cmd().args(["data", "import"]).arg(&renamed).fails();
    assert!(
        err.contains("renamed.csv:1: its value columns") && err.contains("differ from the store's"),
        "{err}"
    );
    let header = "date,store_id,product_id,sales,price,is_promotion,is_holiday,temperature";
    let duplicate = dir.create(
        "duplicate.csv",
        &format!(
            "{header}\n2023-03-02,S001,P001,5,9.8,0,0,5.0\n2023-03-02,S001,P001,6,9.8,0,0,5.0\n"
        ),
    );
    let err = dir.cmd().args(["data", "import"]).arg(&duplicate).fails();
    assert!(
        err.contains("duplicate.csv:3: duplicate row") && err.contains("first at line 2"),
        "{err}"
    );
    // the store ends on 2023-03-01: a file that starts on 03-04 leaves 03-02..03-03 empty
    let gap = dir.create(
        "gap.csv",
        &format!(
            "{header}\n2023-03-02,S002,P002,5,9.8,0,0,5.0\n2023-03-04,S001,P001,5,9.8,0,0,5.0\n"
        ),
    );
    let err = dir.cmd().args(["data", "import"]).arg(&gap).fails();
    assert!(
        err.contains("gap.csv:3:")
            && err.contains("no rows from 2023-03-02 to 2023-03-03")
            && err.contains("add the missing days"),
        "{err}"
    );
    assert_eq!(dir.cmd().args(["--json", "data", "versions"]).ok(), before);
    // days before the store's first, up to it, are a backfill, not a gap
    let backfill = dir.create(
        "backfill.csv",
        &format!("{header}\n2022-12-29,S002,P002,5,9.8,0,0,5.0\n2022-12-30,S002,P002,5,9.8,0,0,5.0\n2022-12-31,S002,P002,5,9.8,0,0,5.0\n"),
    );
    dir.cmd().args(["data", "import"]).arg(&backfill).ok();
    let before = dir.cmd().args(["--json", "data", "versions"]).ok();
    // the same file again (a retried nightly job) makes no version
    let again = dir.cmd().args(["data", "import"]).arg(&v1).ok();
    assert!(
        again.contains("nothing new") && again.contains("data version 2"),
        "{again}"
    );
    assert_eq!(dir.cmd().args(["--json", "data", "versions"]).ok(), before);
    // a mistyped file whose name begins like the store is not taken for one
    let mut inspect = dir.cmd();
    inspect.cmd.current_dir(dir.path());
    let err = inspect.args(["data", "inspect", "store_sales.csv"]).fails();
    assert!(
        err.contains("cannot read data file store_sales.csv"),
        "{err}"
    );
    assert!(!dir.path().join("store_sales.csv").exists());
    let err = dir.cmd().args(["data", "export", "--version", "7"]).fails();
    assert!(err.contains("no data version 7 (versions 1 to 2)"), "{err}");
}

#[test]
fn models_train_and_forecast_from_the_store_and_record_its_version() {
    let dir = crate::dir();
    let (v1, v2, _) = two_imports(&dir);
    dir.cmd().args(["data", "import"]).arg(&v1).ok();
    let prefix = dir.quick_train(std::path::Path::new("store"), "kan", &[]);
    let meta: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{prefix}_metadata.json"))).unwrap();
    let recorded = meta["data"]["path"].as_str().unwrap();
    assert!(recorded.ends_with("sales.db@1"), "{recorded}");
    // the same rows as the file they came from: the same digest of the data
    let from_file = dir.quick_train(&v1, "kan", &[]);
    let meta_file: serde_json::Value =
        serde_json::from_str(&dir.read(&format!("models/{from_file}_metadata.json"))).unwrap();
    assert_eq!(meta["data"]["rows"], 240);
    assert_eq!(meta["data"]["rows"], meta_file["data"]["rows"]);
    // the store's version and each series' digest: the same rows, the same digest
    assert_eq!(meta["data"]["store_version"], 1);
    assert!(meta_file["data"].get("store_version").is_none());
    let digests = &meta["data"]["series_sha256"];
    assert_eq!(digests.as_object().unwrap().len(), 1, "{digests}");
    assert_eq!(digests, &meta_file["data"]["series_sha256"]);
    let shown = dir.cmd().args(["models", "show", &prefix]).ok();
    assert!(
        shown.contains("sales store data version 1") && shown.contains("learned from product P001"),
        "{shown}"
    );
    // ... and the same model from them (seeded training)
    assert_eq!(
        meta["training"]["best_val_loss"],
        meta_file["training"]["best_val_loss"]
    );
    dir.cmd().args(["data", "import"]).arg(&v2).ok();
    // a forecast from the newest version runs a week further than from version 1
    let last_date = |data: &str| {
        let csv = dir
            .cmd()
            .args(["predict", &prefix, "--data", data, "--format", "csv"])
            .ok();
        csv.lines()
            .last()
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string()
    };
    assert!(last_date("store") > last_date("store@1"));
    // export reads a model's recorded store version for its sample
    dir.cmd()
        .args(["export", &prefix, "--out"])
        .arg(dir.path().join("web"))
        .ok();
}

/// Writes a long CSV's rows as Parquet (snappy): dates as DATE, ids as
/// strings, every value column as DOUBLE, as pandas or Polars would.
fn write_parquet(csv: &str, path: &std::path::Path) {
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut schema = String::from(
        "message sales { REQUIRED INT32 date (DATE); REQUIRED BYTE_ARRAY store_id (UTF8); REQUIRED BYTE_ARRAY product_id (UTF8);",
    );
    for name in &header[3..] {
        schema.push_str(&format!(" REQUIRED DOUBLE {name};"));
    }
    schema.push('}');
    let schema = Arc::new(parquet::schema::parser::parse_message_type(&schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let days: Vec<i32> = rows
        .iter()
        .map(|r| (r[0].parse::<chrono::NaiveDate>().unwrap() - epoch).num_days() as i32)
        .collect();
    let mut col = group.next_column().unwrap().unwrap();
    col.typed::<Int32Type>()
        .write_batch(&days, None, None)
        .unwrap();
    col.close().unwrap();
    for c in 1..3 {
        let ids: Vec<ByteArray> = rows.iter().map(|r| ByteArray::from(r[c])).collect();
        let mut col = group.next_column().unwrap().unwrap();
        col.typed::<ByteArrayType>()
            .write_batch(&ids, None, None)
            .unwrap();
        col.close().unwrap();
    }
    for c in 3..header.len() {
        let values: Vec<f64> = rows.iter().map(|r| r[c].parse().unwrap()).collect();
        let mut col = group.next_column().unwrap().unwrap();
        col.typed::<DoubleType>()
            .write_batch(&values, None, None)
            .unwrap();
        col.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_files_import_like_their_csv_and_fail_with_their_row() {
    let dir = crate::dir();
    let (v1, _, _) = two_imports(&dir);
    let csv = std::fs::read_to_string(&v1).unwrap();
    let pq = dir.path().join("v1.parquet");
    write_parquet(&csv, &pq);
    let v: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "data", "import"]).arg(&pq).ok()).unwrap();
    assert_eq!(
        (v["version"].as_u64(), v["rows_added"].as_u64()),
        (Some(1), Some(240))
    );
    assert_eq!(
        rows_of(&dir.cmd().args(["data", "export"]).ok()),
        rows_of(&csv)
    );
    // the same rows from the CSV are nothing new
    let again = dir.cmd().args(["data", "import"]).arg(&v1).ok();
    assert!(again.contains("nothing new"), "{again}");
    // every command reads a Parquet file as it reads a CSV
    let inspect = dir.cmd().args(["data", "inspect"]).arg(&pq).ok();
    assert!(
        inspect
            .lines()
            .any(|l| l.starts_with("rows") && l.ends_with(" 240"))
            && inspect.contains("4 (2 stores x 2 products)"),
        "{inspect}"
    );
    // a bad row is named by its line as the CSV would have it
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let mut f: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    f[3] = "-4".into();
    lines[3] = f.join(",");
    let bad = dir.path().join("bad.parquet");
    write_parquet(&lines.join("\n"), &bad);
    let err = dir.cmd().args(["data", "import"]).arg(&bad).fails();
    assert!(
        err.contains("bad.parquet:4") && err.contains("negative"),
        "{err}"
    );
    let err = dir
        .cmd()
        .args(["data", "import"])
        .arg(dir.create("text.parquet", "date,store_id\n"))
        .fails();
    assert!(
        err.contains("text.parquet: not a readable Parquet file"),
        "{err}"
    );
}
