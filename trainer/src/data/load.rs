//! The long-format CSV loader. Every rule of DESIGN §2 is enforced here, and
//! every error names the file, the line and the column.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use shoptrain_shared::features::{parse_number, Dataset, Observation, TARGET};
use shoptrain_shared::forecast::sha256_hex;
use std::collections::HashMap;
use std::path::Path;

pub const REQUIRED: [&str; 4] = ["date", "store_id", "product_id", TARGET];

/// A validated dataset and what identifies it.
pub struct LoadedData {
    pub dataset: Dataset,
    pub sha256: String,
    pub path: String,
    pub date_min: NaiveDate,
    pub date_max: NaiveDate,
}

/// Loads `path`, keeping `sales` and the `features` columns (all numeric
/// extra columns when `features` is `None`).
pub fn load_csv(path: &Path, features: Option<&[String]>) -> Result<LoadedData> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read data file {file}"))?;
    parse_csv(&bytes, &file, features)
}

/// [`load_csv`] on bytes already read; `file` names them in errors.
pub fn parse_csv(bytes: &[u8], file: &str, features: Option<&[String]>) -> Result<LoadedData> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{file}:1: cannot read the CSV header"))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        bail!("{file}:1: the file is empty; expected a header like date,store_id,product_id,sales");
    }
    let mut seen = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(prev) = seen.insert(h.as_str(), i) {
            bail!(
                "{file}:1: column {h:?} appears twice (columns {} and {})",
                prev + 1,
                i + 1
            );
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    for required in REQUIRED {
        if col(required).is_none() {
            bail!(
                "{file}:1: missing column {required:?}; the header must contain date,store_id,product_id,sales (found: {})",
                header.join(",")
            );
        }
    }
    let extras: Vec<String> = match features {
        Some(list) => {
            for f in list {
                if col(f).is_none() || REQUIRED[..3].contains(&f.as_str()) {
                    bail!(
                        "{file}:1: unknown feature column {f:?}; numeric columns here: {}",
                        header
                            .iter()
                            .filter(|h| !REQUIRED.contains(&h.as_str()))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            list.iter()
                .filter(|f| f.as_str() != TARGET)
                .cloned()
                .collect()
        }
        None => header
            .iter()
            .filter(|h| !REQUIRED.contains(&h.as_str()))
            .cloned()
            .collect(),
    };
    let mut columns = vec![TARGET.to_string()];
    columns.extend(extras);
    let value_cols: Vec<usize> = columns.iter().map(|c| col(c).unwrap_or(0)).collect();
    let (di, si, pi) = (
        col("date").unwrap_or(0),
        col("store_id").unwrap_or(0),
        col("product_id").unwrap_or(0),
    );

    let mut rows = Vec::new();
    let mut keys: HashMap<(NaiveDate, String, String), u64> = HashMap::new();
    for record in reader.records() {
        // a quoted field may span lines, so ask the reader where the record began
        let record = record.map_err(|e| match e.position() {
            Some(pos) => anyhow::anyhow!("{file}:{}: {e}", pos.line()),
            None => anyhow::anyhow!("{file}: {e}"),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            bail!(
                "{file}:{line}: expected {} fields like the header, found {}",
                header.len(),
                record.len()
            );
        }
        let raw_date = &record[di];
        let date = NaiveDate::parse_from_str(raw_date, "%Y-%m-%d").map_err(|_| {
            anyhow::anyhow!("{file}:{line}: column \"date\": {raw_date:?} is not a YYYY-MM-DD date")
        })?;
        let store = record[si].to_string();
        let product = record[pi].to_string();
        for (name, v) in [("store_id", &store), ("product_id", &product)] {
            if v.is_empty() {
                bail!("{file}:{line}: column {name:?} is empty");
            }
        }
        let mut values = Vec::with_capacity(columns.len());
        for (c, name) in columns.iter().zip(&value_cols).map(|(n, c)| (*c, n)) {
            let v = parse_number(&record[c])
                .map_err(|m| anyhow::anyhow!("{file}:{line}: column {name:?}: {m}"))?;
            if name == TARGET && v < 0.0 {
                bail!(
                    "{file}:{line}: column \"sales\": {v} is negative; sales must be zero or more"
                );
            }
            values.push(v);
        }
        if let Some(first) = keys.insert((date, store.clone(), product.clone()), line) {
            bail!("{file}:{line}: duplicate row for date {date}, store {store:?}, product {product:?} (first at line {first})");
        }
        rows.push(Observation {
            date,
            store,
            product,
            values,
        });
    }
    if rows.is_empty() {
        bail!("{file}: no data rows after the header");
    }
    let date_min = rows.iter().map(|r| r.date).min().unwrap_or_default();
    let date_max = rows.iter().map(|r| r.date).max().unwrap_or_default();
    Ok(LoadedData {
        dataset: Dataset { columns, rows },
        sha256: sha256_hex(bytes),
        path: file.to_string(),
        date_min,
        date_max,
    })
}
