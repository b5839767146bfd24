//! The long-format CSV loader. Every rule of the data format is enforced
//! here (the per-field ones through `shoptrain_shared::features`, shared with
//! the browser's history parser), and every error names the file, the line
//! and the column.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use shoptrain_shared::bundle::sha256_hex;
use shoptrain_shared::features::{
    csv_reader, parse_date, parse_value, Dataset, Observation, TARGET,
};
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
    /// The sales store's data version these rows are (None: a file).
    pub store_version: Option<u32>,
}

impl LoadedData {
    /// The rows dated before `cutoff`, as if the file ended there (a
    /// backtest trains on them); its sha256 names the file and the cutoff.
    pub fn before(&self, cutoff: NaiveDate) -> LoadedData {
        let rows: Vec<Observation> = self
            .dataset
            .rows
            .iter()
            .filter(|r| r.date < cutoff)
            .cloned()
            .collect();
        let date_max = rows.iter().map(|r| r.date).max().unwrap_or(self.date_min);
        LoadedData {
            dataset: Dataset {
                columns: self.dataset.columns.clone(),
                rows,
            },
            sha256: sha256_hex(format!("{} before {cutoff}", self.sha256).as_bytes()),
            path: self.path.clone(),
            date_min: self.date_min,
            date_max,
            store_version: self.store_version,
        }
    }
}

/// Loads `path` (a long CSV, or Parquet by its extension), keeping `sales`
/// and the `features` columns (all numeric extra columns when `features` is
/// `None`). Its sha256 is the file's own.
pub fn load_csv(path: &Path, features: Option<&[String]>) -> Result<LoadedData> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read data file {file}"))?;
    if super::parquet::is_parquet(path) {
        let mut data = parse_csv(&super::parquet::parquet_as_csv(path)?, &file, features)?;
        data.sha256 = sha256_hex(&bytes);
        return Ok(data);
    }
    parse_csv(&bytes, &file, features)
}

/// Where each needed column sits in a file's header.
struct Layout {
    fields: usize,
    /// `sales` first, then the feature columns, by name.
    columns: Vec<String>,
    /// Header position of each of `columns`.
    value_cols: Vec<usize>,
    date: usize,
    store: usize,
    product: usize,
}

fn header_of(reader: &mut csv::Reader<&[u8]>, file: &str) -> Result<Vec<String>> {
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
    Ok(header)
}

/// Checks the required and requested columns and finds them.
fn layout(header: &[String], features: Option<&[String]>, file: &str) -> Result<Layout> {
    let col = |name: &str| header.iter().position(|h| h == name);
    for required in REQUIRED {
        if col(required).is_none() {
            bail!(
                "{file}:1: missing column {required:?}; the header must contain date,store_id,product_id,sales (found: {})",
                header.join(",")
            );
        }
    }
    let numeric: Vec<String> = header
        .iter()
        .filter(|h| !REQUIRED.contains(&h.as_str()))
        .cloned()
        .collect();
    let extras: Vec<String> = match features {
        Some(list) => {
            for f in list {
                if col(f).is_none() || REQUIRED[..3].contains(&f.as_str()) {
                    bail!(
                        "{file}:1: unknown feature column {f:?}; numeric columns here: {}",
                        numeric.join(", ")
                    );
                }
            }
            list.iter()
                .filter(|f| f.as_str() != TARGET)
                .cloned()
                .collect()
        }
        None => numeric,
    };
    let mut columns = vec![TARGET.to_string()];
    columns.extend(extras);
    Ok(Layout {
        fields: header.len(),
        value_cols: columns.iter().map(|c| col(c).unwrap_or(0)).collect(),
        columns,
        date: col("date").unwrap_or(0),
        store: col("store_id").unwrap_or(0),
        product: col("product_id").unwrap_or(0),
    })
}

/// One data row, checked field by field; `at` is `file:line`.
fn observation(record: &csv::StringRecord, l: &Layout, at: &str) -> Result<Observation> {
    if record.len() != l.fields {
        bail!(
            "{at}: expected {} fields like the header, found {}",
            l.fields,
            record.len()
        );
    }
    let date =
        parse_date(&record[l.date]).map_err(|m| anyhow::anyhow!("{at}: column \"date\": {m}"))?;
    let store = record[l.store].to_string();
    let product = record[l.product].to_string();
    for (name, v) in [("store_id", &store), ("product_id", &product)] {
        if v.is_empty() {
            bail!("{at}: column {name:?} is empty");
        }
    }
    let mut values = Vec::with_capacity(l.columns.len());
    for (name, &c) in l.columns.iter().zip(&l.value_cols) {
        let v = parse_value(name, &record[c])
            .map_err(|m| anyhow::anyhow!("{at}: column {name:?}: {m}"))?;
        values.push(v);
    }
    Ok(Observation {
        date,
        store,
        product,
        values,
    })
}

/// [`load_csv`] on bytes already read; `file` names them in errors.
pub fn parse_csv(bytes: &[u8], file: &str, features: Option<&[String]>) -> Result<LoadedData> {
    let mut reader = csv_reader(bytes);
    let header = header_of(&mut reader, file)?;
    let layout = layout(&header, features, file)?;
    let mut rows: Vec<Observation> = Vec::new();
    let mut keys: HashMap<(NaiveDate, String, String), u64> = HashMap::new();
    for record in reader.records() {
        // a quoted field may span lines, so ask the reader where the record began
        let record = record.map_err(|e| match e.position() {
            Some(pos) => anyhow::anyhow!("{file}:{}: {e}", pos.line()),
            None => anyhow::anyhow!("{file}: {e}"),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let row = observation(&record, &layout, &format!("{file}:{line}"))?;
        let key = (row.date, row.store.clone(), row.product.clone());
        if let Some(first) = keys.insert(key, line) {
            bail!(
                "{file}:{line}: duplicate row for date {}, store {:?}, product {:?} (first at line {first})",
                row.date, row.store, row.product
            );
        }
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("{file}: no data rows after the header");
    }
    let date_min = rows.iter().map(|r| r.date).min().unwrap_or_default();
    let date_max = rows.iter().map(|r| r.date).max().unwrap_or_default();
    Ok(LoadedData {
        dataset: Dataset {
            columns: layout.columns,
            rows,
        },
        sha256: sha256_hex(bytes),
        path: file.to_string(),
        date_min,
        date_max,
        store_version: None,
    })
}
