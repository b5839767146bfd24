//! `shoptrain data gen|inspect`.

use crate::atomic::write_atomic;
use crate::data::generate::{generate, GenOptions};
use crate::data::inspect::inspect;
use crate::data::load_csv;
use crate::output::{print_inspection, print_json};
use anyhow::Result;
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

pub fn inspect_file(file: &Path, json: bool) -> Result<()> {
    let data = load_csv(file, None)?;
    let report = inspect(&data);
    if json {
        print_json(&report)
    } else {
        print_inspection(&report);
        Ok(())
    }
}
