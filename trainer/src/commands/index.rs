//! `shoptrain index verify|rebuild`.

use crate::output::print_json;
use crate::registry::Registry;
use anyhow::{bail, Result};
use std::path::Path;

pub fn verify(dir: &Path, json: bool) -> Result<()> {
    let reg = Registry::open(dir)?;
    let problems = reg.verify()?;
    if json {
        print_json(&serde_json::json!({"ok": problems.is_empty(), "problems": problems}))?;
    } else {
        for p in &problems {
            println!("{p}");
        }
    }
    if !problems.is_empty() {
        bail!(
            "index verify found {} problem(s) in {}",
            problems.len(),
            dir.display()
        );
    }
    if !json {
        println!("{}: files and index agree", dir.display());
    }
    Ok(())
}

pub fn rebuild(dir: &Path, wait: std::time::Duration, json: bool) -> Result<()> {
    let report = Registry::rebuild(dir, wait)?;
    if json {
        return print_json(&report);
    }
    println!(
        "rebuilt {} from {} metadata files ({} identifiers, {} aliases, {} recorded forecasts kept)",
        dir.display(),
        report.models,
        report.identifiers,
        report.aliases,
        report.forecasts
    );
    if let Some(why) = &report.forecasts_lost {
        eprintln!("the recorded forecasts could not be read from the old index, so monitor starts afresh: {why}");
    }
    for s in &report.skipped {
        eprintln!("skipped {s}");
    }
    Ok(())
}
