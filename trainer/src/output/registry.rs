//! The registry and data as people read them: `models list|show`, alias
//! history, `data inspect`.

use crate::data::inspect::Inspection;
use crate::registry::{AliasEvent, ModelRow};
use crate::store::DataVersion;
use shoptrain_shared::metadata::{EpochRecord, ModelMetadata};

pub fn print_inspection(report: &Inspection) {
    println!("file      {}", report.path);
    println!("sha256    {}", report.sha256);
    println!("rows      {}", report.rows);
    println!(
        "series    {} ({} stores x {} products)",
        report.series, report.stores, report.products
    );
    println!("dates     {} to {}", report.date_min, report.date_max);
    println!(
        "gaps      {} series miss {} days in all",
        report.series_with_gaps, report.missing_days
    );
    println!(
        "{:<14} {:>12} {:>12} {:>12}",
        "column", "min", "mean", "max"
    );
    for c in &report.columns {
        println!(
            "{:<14} {:>12.3} {:>12.3} {:>12.3}",
            c.name, c.min, c.mean, c.max
        );
    }
}

pub fn print_model_rows(rows: &[ModelRow]) {
    println!(
        "{:<44} {:<11} {:<12} {:>9} {:>7}  created",
        "prefix", "type", "status", "RMSE", "MASE"
    );
    for r in rows {
        let metric = |k: &str| {
            r.metrics
                .as_ref()
                .and_then(|m| m.get(k))
                .and_then(|v| v.as_f64())
                .map_or("-".to_string(), |v| format!("{v:.3}"))
        };
        println!(
            "{:<44} {:<11} {:<12} {:>9} {:>7}  {}",
            r.prefix,
            r.model_type.as_str(),
            r.status.as_str(),
            metric("rmse"),
            metric("mase"),
            r.created_at
        );
    }
}

/// `models show` for people: the row, settings, data, epochs.
pub fn print_model_details(
    row: &ModelRow,
    meta: Option<&ModelMetadata>,
    epochs: &[EpochRecord],
    predictions: i64,
) {
    print_model_rows(std::slice::from_ref(row));
    if let Some(m) = meta {
        println!(
            "window {} horizon {} features {}",
            m.window,
            m.horizon,
            m.features.join(",")
        );
        println!(
            "data {} ({}), {} to {}",
            m.data.path,
            &m.data.sha256[..12.min(m.data.sha256.len())],
            m.data.date_min,
            m.data.date_max
        );
        if let Some(v) = m.data.store_version {
            println!("sales store data version {v}");
        }
        for (series, sha) in &m.data.series_sha256 {
            println!("learned from {series} ({})", &sha[..12.min(sha.len())]);
        }
        if let Some(p) = &m.parent_prefix {
            println!("fine-tuned from {p}");
        }
    }
    for e in epochs {
        println!(
            "epoch {:>3}  train {:.5}  val {:.5}  {:.2}s",
            e.epoch, e.train_loss, e.val_loss, e.seconds
        );
    }
    println!("{predictions} predictions logged");
}

pub fn print_alias_history(events: &[AliasEvent]) {
    for h in events {
        println!(
            "{} {} {} {} -> {} by {}",
            h.at,
            h.action,
            h.alias,
            h.previous.as_deref().unwrap_or("-"),
            h.prefix.as_deref().unwrap_or("-"),
            h.by
        );
    }
}

/// `data versions`: one line per data version, oldest first.
pub fn print_data_versions(versions: &[DataVersion]) {
    if versions.is_empty() {
        println!("no data versions yet: `shoptrain data import FILE` adds the first");
        return;
    }
    println!(
        "{:>7}  {:<24}  {:>8} {:>8} {:>9}  {:>6}  {:<12}  source",
        "version", "imported at", "added", "changed", "unchanged", "series", "sha256"
    );
    for v in versions {
        println!(
            "{:>7}  {:<24}  {:>8} {:>8} {:>9}  {:>6}  {:<12}  {}",
            v.version,
            v.imported_at,
            v.rows_added,
            v.rows_changed,
            v.rows_unchanged,
            v.series.len(),
            &v.sha256[..12.min(v.sha256.len())],
            v.source
        );
    }
}
