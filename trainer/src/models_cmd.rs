//! `shoptrain models ...` and `shoptrain index ...`: the registry commands.

use crate::cli::{AliasCommand, IndexCommand, ModeArg, ModelChoice, ModelsCommand};
use crate::index::{ListFilter, ModelRow};
use crate::registry::{user_name, Registry};
use anyhow::{bail, Result};
use shoptrain_shared::metadata::Status;
use shoptrain_shared::naming::{check_alias, Artifact, VersionedName};
use std::path::Path;

fn print_rows(rows: &[ModelRow]) {
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
            r.model_type,
            r.status,
            metric("rmse"),
            metric("mase"),
            r.created_at
        );
    }
}

pub fn run(dir: &Path, cmd: ModelsCommand, json: bool) -> Result<()> {
    let mut reg = Registry::open(dir)?;
    match cmd {
        ModelsCommand::List {
            mode,
            model_type,
            status,
            all,
        } => {
            if let Some(s) = &status {
                if Status::parse(s).is_none() {
                    bail!(
                        "unknown status {s:?}; expected training, completed, failed or interrupted"
                    );
                }
            }
            let filter = ListFilter {
                mode: mode.map(|m| {
                    match m {
                        ModeArg::Product => "product",
                        ModeArg::Store => "store",
                        ModeArg::Global => "global",
                    }
                    .to_string()
                }),
                model_type: match model_type {
                    None | Some(ModelChoice::All) => None,
                    Some(ModelChoice::Mlstm) => Some("mlstm".into()),
                    Some(ModelChoice::Transformer) => Some("transformer".into()),
                    Some(ModelChoice::Kan) => Some("kan".into()),
                },
                status,
                include_deleted: all,
            };
            let rows = reg.index.list(&filter)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no models in {}", dir.display());
            } else {
                print_rows(&rows);
            }
        }
        ModelsCommand::Show { model } => {
            let prefix = reg.index.resolve(&model)?;
            let Some(row) = reg.index.find(&prefix)? else {
                bail!(
                    "no model {model:?} in {}; see `shoptrain models list`",
                    dir.display()
                );
            };
            let meta = reg.read_metadata(&prefix).ok();
            let epochs = reg.index.epochs(row.id)?;
            let predictions = reg.index.prediction_count(row.id)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "row": row, "metadata": meta, "epochs": epochs, "predictions": predictions,
                    }))?
                );
            } else {
                print_rows(std::slice::from_ref(&row));
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
        }
        ModelsCommand::Delete { prefix, hard } => {
            VersionedName::parse(&prefix)?;
            if reg.index.find(&prefix)?.is_none() {
                bail!(
                    "no model {prefix:?} in {}; see `shoptrain models list`",
                    dir.display()
                );
            }
            if hard {
                let mut files = vec![
                    Artifact::Weights.file_name(&prefix),
                    Artifact::LossCurve.file_name(&prefix),
                ];
                files.extend(
                    reg.checkpoint_files(&prefix)
                        .into_iter()
                        .map(|(_, rel)| rel),
                );
                // metadata last: until it is gone, `index rebuild` still knows the model
                files.push(Artifact::Metadata.file_name(&prefix));
                for rel in &files {
                    match std::fs::remove_file(dir.join(rel)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => bail!("cannot remove {}: {e}", dir.join(rel).display()),
                    }
                }
                reg.index.remove(&prefix)?;
                reg.save_aliases()?;
                println!("deleted {prefix} and {} files", files.len());
            } else {
                let at = crate::index::now();
                if let Ok(mut meta) = reg.read_metadata(&prefix) {
                    meta.deleted_at = Some(at.clone());
                    reg.write_metadata(&meta)?;
                }
                reg.index.set_deleted(&prefix, &at)?;
                println!("deleted {prefix} (files kept; `models delete --hard` removes them)");
            }
        }
        ModelsCommand::Alias(AliasCommand::Set { name, prefix }) => {
            check_alias(&name)?;
            let previous = reg.index.alias_set(&name, &prefix, &user_name())?;
            reg.save_aliases()?;
            match previous {
                Some(p) => println!("{name}: {p} -> {prefix}"),
                None => println!("{name} -> {prefix}"),
            }
        }
        ModelsCommand::Alias(AliasCommand::Rm { name }) => {
            let previous = reg.index.alias_rm(&name, &user_name())?;
            reg.save_aliases()?;
            println!("removed {name} (was {previous})");
        }
        ModelsCommand::Alias(AliasCommand::List { history }) => {
            if json {
                let value = if history {
                    serde_json::to_value(reg.index.alias_history()?)?
                } else {
                    serde_json::to_value(
                        reg.index
                            .aliases()?
                            .into_iter()
                            .collect::<std::collections::BTreeMap<_, _>>(),
                    )?
                };
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else if history {
                for h in reg.index.alias_history()? {
                    println!(
                        "{} {} {} {} -> {} by {}",
                        h["at"].as_str().unwrap_or(""),
                        h["action"].as_str().unwrap_or(""),
                        h["alias"].as_str().unwrap_or(""),
                        h["previous"].as_str().unwrap_or("-"),
                        h["prefix"].as_str().unwrap_or("-"),
                        h["by"].as_str().unwrap_or("")
                    );
                }
            } else {
                for (name, prefix) in reg.index.aliases()? {
                    println!("{name} -> {prefix}");
                }
            }
        }
        ModelsCommand::Compare { models } => {
            if models.len() < 2 {
                bail!("give two or more models to compare");
            }
            let mut rows = Vec::new();
            for m in &models {
                let prefix = reg.resolve(m)?;
                let meta = reg.read_metadata(&prefix)?;
                let Some(metrics) = meta.metrics else {
                    bail!("{prefix} has no metrics (status {})", meta.status.as_str());
                };
                rows.push((prefix, metrics));
            }
            if json {
                let map: serde_json::Map<String, serde_json::Value> = rows
                    .iter()
                    .map(|(p, m)| (p.clone(), serde_json::to_value(m).unwrap_or_default()))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&map)?);
            } else {
                let borrowed: Vec<(&str, _)> =
                    rows.iter().map(|(p, m)| (p.as_str(), m.clone())).collect();
                crate::commands::print_metrics_table(&borrowed);
            }
        }
    }
    Ok(())
}

pub fn index(dir: &Path, cmd: IndexCommand, json: bool) -> Result<()> {
    match cmd {
        IndexCommand::Verify => {
            let reg = Registry::open(dir)?;
            let problems = reg.verify()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"ok": problems.is_empty(), "problems": problems})
                    )?
                );
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
        }
        IndexCommand::Rebuild => {
            let report = Registry::rebuild(dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "rebuilt {} from {} metadata files ({} identifiers, {} aliases)",
                    dir.display(),
                    report.models,
                    report.identifiers,
                    report.aliases
                );
                for s in &report.skipped {
                    eprintln!("skipped {s}");
                }
            }
        }
    }
    Ok(())
}
