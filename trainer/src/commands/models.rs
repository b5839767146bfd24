//! `shoptrain models list|show|delete|alias|compare`.

use crate::output::{
    print_alias_history, print_json, print_metrics_table, print_model_details, print_model_rows,
};
use crate::registry::{DeleteReport, ListFilter, Registry};
use anyhow::{bail, Result};
use shoptrain_shared::metrics::Metrics;
use std::collections::BTreeMap;
use std::path::Path;

/// `models list`, checked.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub filter: ListFilter,
}

pub fn list(dir: &Path, opts: &ListOptions, json: bool) -> Result<()> {
    let reg = Registry::open(dir)?;
    let rows = reg.list(&opts.filter)?;
    if json {
        print_json(&rows)?;
    } else if rows.is_empty() {
        println!("no models in {}", dir.display());
    } else {
        print_model_rows(&rows);
    }
    Ok(())
}

pub fn show(dir: &Path, model: &str, json: bool) -> Result<()> {
    let reg = Registry::open(dir)?;
    let prefix = reg.resolve_alias(model)?;
    let Some(row) = reg.find(&prefix)? else {
        bail!(
            "no model {model:?} in {}; see `shoptrain models list`",
            dir.display()
        );
    };
    let meta = reg.read_metadata(&prefix).ok();
    let epochs = reg.epochs(row.id)?;
    let predictions = reg.prediction_count(row.id)?;
    if json {
        print_json(&serde_json::json!({
            "row": row, "metadata": meta, "epochs": epochs, "predictions": predictions,
        }))
    } else {
        print_model_details(&row, meta.as_ref(), &epochs, predictions);
        Ok(())
    }
}

pub fn delete(dir: &Path, prefix: &str, hard: bool) -> Result<()> {
    let reg = Registry::open(dir)?;
    match reg.delete(prefix, hard)? {
        DeleteReport::Hard { files } => println!("deleted {prefix} and {files} files"),
        DeleteReport::Soft => {
            println!("deleted {prefix} (files kept; `models delete --hard` removes them)")
        }
    }
    Ok(())
}

/// Models side by side, each followed by the baselines on its own
/// validation windows.
pub fn compare(dir: &Path, models: &[String], json: bool) -> Result<()> {
    if models.len() < 2 {
        bail!("give two or more models to compare");
    }
    let reg = Registry::open(dir)?;
    let mut rows: Vec<(String, Metrics)> = Vec::new();
    let mut by_model = serde_json::Map::new();
    for m in models {
        let prefix = reg.resolve(m)?;
        let meta = reg.read_metadata(&prefix)?;
        let Some(metrics) = meta.metrics.clone() else {
            bail!("{prefix} has no metrics (status {})", meta.status.as_str());
        };
        by_model.insert(
            prefix.clone(),
            serde_json::json!({ "metrics": metrics, "baselines": meta.baselines }),
        );
        rows.push((prefix.clone(), metrics));
        for (name, b) in &meta.baselines {
            rows.push((format!("  {name}"), b.clone()));
        }
    }
    if json {
        print_json(&by_model)
    } else {
        let borrowed: Vec<(&str, _)> = rows.iter().map(|(p, m)| (p.as_str(), m.clone())).collect();
        print_metrics_table(&borrowed);
        Ok(())
    }
}

pub fn alias_set(dir: &Path, name: &str, prefix: &str) -> Result<()> {
    let mut reg = Registry::open(dir)?;
    match reg.alias_set(name, prefix)? {
        Some(p) => println!("{name}: {p} -> {prefix}"),
        None => println!("{name} -> {prefix}"),
    }
    Ok(())
}

pub fn alias_rm(dir: &Path, name: &str) -> Result<()> {
    let mut reg = Registry::open(dir)?;
    let previous = reg.alias_rm(name)?;
    println!("removed {name} (was {previous})");
    Ok(())
}

pub fn alias_list(dir: &Path, history: bool, json: bool) -> Result<()> {
    let reg = Registry::open(dir)?;
    match (history, json) {
        (true, true) => print_json(&reg.alias_history()?)?,
        (true, false) => print_alias_history(&reg.alias_history()?),
        (false, true) => {
            let map: BTreeMap<String, String> = reg.aliases()?.into_iter().collect();
            print_json(&map)?
        }
        (false, false) => {
            for (name, prefix) in reg.aliases()? {
                println!("{name} -> {prefix}");
            }
        }
    }
    Ok(())
}
