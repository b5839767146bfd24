//! The sales store (`sales.db`, SQLite): sales kept in data versions. Each
//! `data import` is one transaction and one version (1, 2, 3, ...): new days
//! are added, corrected days replace the old row for later versions, and the
//! rest is counted unchanged. A row lives from the version that wrote it to
//! the one that corrected it, so any version can be read back as it was
//! (`data export --version V`). A failed import changes nothing.

use crate::data::{load_csv, LoadedData};
use crate::registry::now;
use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The store's file name in the models folder (`--store PATH` elsewhere).
pub const STORE_FILE: &str = "sales.db";

/// Ordered migrations; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[include_str!("migrations/001_sales.sql")];

/// One data version, as `data versions` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataVersion {
    pub version: u32,
    pub imported_at: String,
    pub source: String,
    pub sha256: String,
    pub rows_added: u64,
    pub rows_changed: u64,
    pub rows_unchanged: u64,
    /// Per (store, product): rows added, changed, unchanged.
    pub series: Vec<SeriesCounts>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesCounts {
    pub store: String,
    pub product: String,
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
}

pub struct SalesStore {
    conn: Connection,
    path: PathBuf,
}

impl SalesStore {
    /// Opens (creating and migrating) the store at `path`.
    pub fn open(path: &Path) -> Result<SalesStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the sales store {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if done > MIGRATIONS.len() {
            bail!(
                "{} was written by a newer shoptrain (schema {done}, this one knows {}); upgrade shoptrain",
                path.display(),
                MIGRATIONS.len()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
            conn.execute_batch(&format!(
                "BEGIN; {sql} PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))
            .with_context(|| format!("cannot migrate {} to schema {}", path.display(), i + 1))?;
        }
        Ok(SalesStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Imports a long-format CSV as the next data version (the CSV loader's
    /// checks and errors first; then one transaction). A file that adds and
    /// changes nothing (imported again by a retried nightly job) makes no
    /// version: `Ok(None)`.
    pub fn import(&mut self, file: &Path) -> Result<Option<DataVersion>> {
        let data = load_csv(file, None)?;
        let source = file.display().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let columns = serde_json::to_string(&data.dataset.columns)?;
        let held: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'columns'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match held {
            None => {
                tx.execute("INSERT INTO meta (key, value) VALUES ('columns', ?1)", [&columns])?;
            }
            Some(held) if held != columns => bail!(
                "{source}:1: its value columns {} differ from the store's {held}; import a file with the store's columns (renamed or missing columns are not merged)",
                columns
            ),
            Some(_) => {}
        }
        check_no_gaps(&tx, file, &data)?;
        let version: u32 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM data_versions",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO data_versions (version, imported_at, source, sha256, rows_added, rows_changed, rows_unchanged)
             VALUES (?1, ?2, ?3, ?4, 0, 0, 0)",
            params![version, now(), source, data.sha256],
        )?;
        let mut counts: BTreeMap<(String, String), [u64; 3]> = BTreeMap::new();
        {
            let mut current = tx.prepare(
                "SELECT first_version, vals FROM sales
                 WHERE store = ?1 AND product = ?2 AND date = ?3 AND last_version IS NULL",
            )?;
            let mut close = tx.prepare(
                "UPDATE sales SET last_version = ?5
                 WHERE store = ?1 AND product = ?2 AND date = ?3 AND first_version = ?4",
            )?;
            let mut insert = tx.prepare(
                "INSERT INTO sales (store, product, date, first_version, vals) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for row in &data.dataset.rows {
                let date = row.date.to_string();
                let vals = serde_json::to_string(&row.values)?;
                let key = params![row.store, row.product, date];
                let old: Option<(u32, String)> = current
                    .query_row(key, |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let c = counts
                    .entry((row.store.clone(), row.product.clone()))
                    .or_default();
                match old {
                    Some((_, held)) if held == vals => c[2] += 1,
                    Some((first, _)) => {
                        close.execute(params![row.store, row.product, date, first, version])?;
                        insert.execute(params![row.store, row.product, date, version, vals])?;
                        c[1] += 1;
                    }
                    None => {
                        insert.execute(params![row.store, row.product, date, version, vals])?;
                        c[0] += 1;
                    }
                }
            }
            let mut series = tx.prepare(
                "INSERT INTO version_series (version, store, product, added, changed, unchanged)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for ((store, product), [a, c, u]) in &counts {
                series.execute(params![version, store, product, a, c, u])?;
            }
        }
        let total = |i: usize| counts.values().map(|c| c[i]).sum::<u64>();
        if total(0) + total(1) == 0 {
            // dropping the transaction rolls it back
            return Ok(None);
        }
        tx.execute(
            "UPDATE data_versions SET rows_added = ?2, rows_changed = ?3, rows_unchanged = ?4 WHERE version = ?1",
            params![version, total(0), total(1), total(2)],
        )?;
        tx.commit()
            .with_context(|| format!("cannot commit the import into {}", self.path.display()))?;
        self.version(version).map(Some)
    }

    /// Every data version, oldest first.
    pub fn versions(&self) -> Result<Vec<DataVersion>> {
        let numbers: Vec<u32> = self
            .conn
            .prepare("SELECT version FROM data_versions ORDER BY version")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        numbers.into_iter().map(|v| self.version(v)).collect()
    }

    /// One version's record; an unknown one is an error listing the known.
    pub fn version(&self, v: u32) -> Result<DataVersion> {
        let found = self
            .conn
            .query_row(
                "SELECT imported_at, source, sha256, rows_added, rows_changed, rows_unchanged
                 FROM data_versions WHERE version = ?1",
                [v],
                |r| {
                    Ok(DataVersion {
                        version: v,
                        imported_at: r.get(0)?,
                        source: r.get(1)?,
                        sha256: r.get(2)?,
                        rows_added: r.get(3)?,
                        rows_changed: r.get(4)?,
                        rows_unchanged: r.get(5)?,
                        series: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut found) = found else {
            let latest = self.latest()?;
            bail!(
                "{} has no data version {v} ({}); `shoptrain data versions` lists them",
                self.path.display(),
                latest.map_or(
                    "it is empty: `shoptrain data import FILE` first".to_string(),
                    |l| format!("versions 1 to {l}")
                )
            );
        };
        found.series = self
            .conn
            .prepare(
                "SELECT store, product, added, changed, unchanged FROM version_series
                 WHERE version = ?1 ORDER BY store, product",
            )?
            .query_map([v], |r| {
                Ok(SeriesCounts {
                    store: r.get(0)?,
                    product: r.get(1)?,
                    added: r.get(2)?,
                    changed: r.get(3)?,
                    unchanged: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(found)
    }

    /// The newest data version, if any.
    pub fn latest(&self) -> Result<Option<u32>> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM data_versions", [], |r| r.get(0))?)
    }

    /// Version `v` as the long CSV it was imported as (rows by date, store,
    /// product).
    pub fn export_csv(&self, v: u32) -> Result<String> {
        self.version(v)?;
        let columns: Vec<String> = serde_json::from_str(&self.conn.query_row(
            "SELECT value FROM meta WHERE key = 'columns'",
            [],
            |r| r.get::<_, String>(0),
        )?)?;
        // the csv crate quotes ids that hold commas or quotes
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let header = ["date", "store_id", "product_id"].map(String::from);
        out.write_record(header.iter().chain(&columns))?;
        let mut rows = self.conn.prepare(
            "SELECT date, store, product, vals FROM sales
             WHERE first_version <= ?1 AND (last_version IS NULL OR last_version > ?1)
             ORDER BY date, store, product",
        )?;
        let mut q = rows.query([v])?;
        while let Some(r) = q.next()? {
            let vals: Vec<f64> = serde_json::from_str(&r.get::<_, String>(3)?)?;
            let ids = [r.get::<_, String>(0)?, r.get(1)?, r.get(2)?];
            out.write_record(ids.into_iter().chain(vals.iter().map(f64::to_string)))?;
        }
        Ok(String::from_utf8(out.into_inner()?)?)
    }

    /// Version `v` (the newest when `None`) loaded as if from a CSV file
    /// named `STORE@V` (what a model trained on it records as its data).
    pub fn load(&self, v: Option<u32>, features: Option<&[String]>) -> Result<LoadedData> {
        let v = match v {
            Some(v) => v,
            None => self.latest()?.with_context(|| {
                format!(
                    "{} is empty: `shoptrain data import FILE` first",
                    self.path.display()
                )
            })?,
        };
        let csv = self.export_csv(v)?;
        let mut data = crate::data::parse_csv(
            csv.as_bytes(),
            &format!("{}@{v}", self.path.display()),
            features,
        )?;
        data.store_version = Some(v);
        Ok(data)
    }
}

/// Refuses an import that would leave a series with a missing day: within
/// the file, or between the store's days of that series and the file's.
/// The store holds every day of each series from its first to its last, so
/// that every version reads back as a complete file.
fn check_no_gaps(tx: &rusqlite::Transaction, file: &Path, data: &LoadedData) -> Result<()> {
    use chrono::NaiveDate;
    let mut held: BTreeMap<(String, String), (NaiveDate, NaiveDate)> = BTreeMap::new();
    let mut q = tx.prepare(
        "SELECT store, product, MIN(date), MAX(date) FROM sales WHERE last_version IS NULL GROUP BY store, product",
    )?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let date = |i: usize| -> Result<NaiveDate> { Ok(r.get::<_, String>(i)?.parse()?) };
        held.insert((r.get(0)?, r.get(1)?), (date(2)?, date(3)?));
    }
    let mut days: BTreeMap<(&str, &str), Vec<(NaiveDate, usize)>> = BTreeMap::new();
    for (i, row) in data.dataset.rows.iter().enumerate() {
        days.entry((&row.store, &row.product))
            .or_default()
            .push((row.date, i));
    }
    for ((store, product), mut dates) in days {
        dates.sort_unstable();
        // runs of consecutive days: the file's, and the store's one run
        let mut runs: Vec<(NaiveDate, NaiveDate, Option<usize>)> = Vec::new();
        for &(date, index) in &dates {
            match runs.last_mut() {
                Some(run) if run.1.succ_opt() == Some(date) => run.1 = date,
                _ => runs.push((date, date, Some(index))),
            }
        }
        let held = held.get(&(store.to_string(), product.to_string())).copied();
        runs.extend(held.map(|(first, last)| (first, last, None)));
        runs.sort_by_key(|r| r.0);
        let mut end = runs[0].1;
        for &(first, last, index) in &runs[1..] {
            if first > end.succ_opt().unwrap_or(end) {
                // the row after the gap, or the file's last before the store's days
                let index = index.or_else(|| {
                    dates
                        .iter()
                        .rev()
                        .find(|(d, _)| *d < first)
                        .map(|(_, i)| *i)
                });
                bail!(
                    "{}:{}: store {store:?}, product {product:?} would have no rows from {} to {}{}; a gap: add the missing days (0 for days without sales) to the file",
                    file.display(),
                    index.map_or(0, |i| line_of(file, i)),
                    end.succ_opt().unwrap_or(end),
                    first.pred_opt().unwrap_or(first),
                    held.map_or(String::new(), |(a, b)| format!(" (the store has {a} to {b})"))
                );
            }
            end = end.max(last);
        }
    }
    Ok(())
}

/// The line the `index`-th record of a CSV file starts on (a quoted field
/// may span lines), for error messages.
fn line_of(file: &Path, index: usize) -> u64 {
    let Ok(mut reader) = csv::Reader::from_path(file) else {
        return index as u64 + 2;
    };
    reader
        .records()
        .nth(index)
        .and_then(|r| r.ok())
        .and_then(|r| r.position().map(|p| p.line()))
        .unwrap_or(index as u64 + 2)
}

/// Where `--data` points: the sales store, newest version or version V.
pub struct StoreData {
    pub path: PathBuf,
    pub version: Option<u32>,
}

/// `--data` as the sales store, when no file of that name exists: `store`
/// or `store@V` (the store in the models folder), or `PATH@V` for a store
/// file (as a model trained on one records its data).
pub fn store_data(models_dir: &Path, data: &Path) -> Option<StoreData> {
    if data.exists() {
        return None;
    }
    let text = data.to_str()?;
    let (path, version) = match text.rsplit_once('@') {
        Some((p, v)) => (p, Some(v.parse().ok()?)),
        None => (text, None),
    };
    let path = if path == "store" {
        models_dir.join(STORE_FILE)
    } else {
        PathBuf::from(path)
    };
    // a missing file of another name is the loader's "cannot read", not a new store
    let named = path == models_dir.join(STORE_FILE);
    (named || path.is_file()).then_some(StoreData { path, version })
}

/// `--data`: a CSV file, or the sales store (see [`store_data`]).
pub fn load_data(
    models_dir: &Path,
    data: &Path,
    features: Option<&[String]>,
) -> Result<LoadedData> {
    match store_data(models_dir, data) {
        Some(s) => SalesStore::open(&s.path)?.load(s.version, features),
        None => load_csv(data, features),
    }
}
