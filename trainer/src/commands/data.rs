//! `shoptrain data gen|inspect|import|versions|export`.

use crate::atomic::write_atomic;
use crate::data::generate::{generate, GenOptions};
use crate::data::inspect::inspect as inspect_data;
use crate::output::{print_data_versions, print_inspection, print_json};
use crate::store::{load_data, store_data, SalesStore, STORE_FILE};
use anyhow::{Context, Result};
use shoptrain_shared::bundle::sha256_hex;
use std::path::Path;

/// Writes the generated CSV.
pub fn generate_file(out: &Path, opts: &GenOptions, json: bool) -> Result<()> {
    let GenOptions {
        stores,
        products,
        days,
        ..
    } = *opts;
    let text = generate(opts);
    write_atomic(out, text.as_bytes())?;
    let rows = stores * products * days;
    if json {
        println!(
            "{}",
            serde_json::json!({"path": out, "rows": rows, "sha256": sha256_hex(text.as_bytes())})
        );
    } else {
        println!(
            "wrote {} ({rows} rows: {stores} stores x {products} products x {days} days)",
            out.display()
        );
    }
    Ok(())
}

fn open_store(dir: &Path, store: Option<&Path>) -> Result<SalesStore> {
    SalesStore::open(&store.map_or_else(|| dir.join(STORE_FILE), Path::to_path_buf))
}

pub fn inspect(dir: &Path, file: &Path, store: Option<&Path>, json: bool) -> Result<()> {
    let data = match (store, store_data(dir, file)) {
        (Some(path), Some(s)) => SalesStore::open(path)?.load(s.version, None)?,
        _ => load_data(dir, file, None)?,
    };
    let report = inspect_data(&data);
    if json {
        print_json(&report)
    } else {
        print_inspection(&report);
        Ok(())
    }
}

pub fn import(dir: &Path, file: &Path, store: Option<&Path>, json: bool) -> Result<()> {
    let mut store = open_store(dir, store)?;
    let Some(v) = store.import(file)? else {
        let latest = store.latest()?.unwrap_or(0);
        if json {
            return print_json(&serde_json::json!({"version": latest, "unchanged": true}));
        }
        println!(
            "nothing new in {}: every row is already in data version {latest}; no version made",
            file.display()
        );
        return Ok(());
    };
    if json {
        print_json(&v)
    } else {
        println!(
            "data version {}: {} rows added, {} changed, {} unchanged ({} series) from {}",
            v.version,
            v.rows_added,
            v.rows_changed,
            v.rows_unchanged,
            v.series.len(),
            v.source
        );
        Ok(())
    }
}

pub fn versions(dir: &Path, store: Option<&Path>, json: bool) -> Result<()> {
    let versions = open_store(dir, store)?.versions()?;
    if json {
        print_json(&versions)
    } else {
        print_data_versions(&versions);
        Ok(())
    }
}

pub fn export(
    dir: &Path,
    version: Option<u32>,
    out: Option<&Path>,
    store: Option<&Path>,
) -> Result<()> {
    let store = open_store(dir, store)?;
    let v = match version {
        Some(v) => v,
        None => store
            .latest()?
            .context("the sales store is empty: `shoptrain data import FILE` first")?,
    };
    let csv = store.export_csv(v)?;
    match out {
        Some(path) => write_atomic(path, csv.as_bytes()),
        None => {
            print!("{csv}");
            Ok(())
        }
    }
}
