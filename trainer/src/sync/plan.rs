//! What `sync` would retrain, and why: every model in use (the newest
//! completed version of each identifier) whose series changed since the
//! data version it learned from.

use crate::data::LoadedData;
use crate::registry::{ListFilter, Registry};
use crate::training::{series_digests, Succession};
use anyhow::Result;
use serde::Serialize;
use shoptrain_shared::features::Fill;
use shoptrain_shared::metadata::{ModelMetadata, Status};
use std::collections::{BTreeMap, BTreeSet};

/// One model in use and what sync does with it.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub identifier: String,
    /// The version in use (the newest completed one).
    pub current: String,
    /// `None`: nothing to do.
    pub action: Option<Succession>,
    pub why: String,
}

/// Which models a sync looks at and how it retrains them.
#[derive(Debug, Clone)]
pub struct PlanRules {
    /// A full retrain instead of a fine-tune once a model has been
    /// fine-tuned this many times less one in a row (1: always full).
    pub full_every: u32,
    /// Only these identifiers, retrained in full whether or not their data
    /// changed (`--when-drifting`); every model in use when `None`.
    pub only: Option<BTreeSet<String>>,
}

/// The newest completed, not deleted, version of every identifier.
pub fn models_in_use(reg: &Registry) -> Result<BTreeMap<String, String>> {
    let filter = ListFilter {
        status: Some(Status::Completed),
        ..ListFilter::default()
    };
    // rows come by identifier, then version: the last one seen is the newest
    Ok(reg
        .list(&filter)?
        .into_iter()
        .map(|r| (r.model_identifier, r.prefix))
        .collect())
}

/// A decision for every model in use, by identifier.
pub fn plan(reg: &Registry, data: &LoadedData, rules: &PlanRules) -> Result<Vec<Decision>> {
    let mut out = Vec::new();
    for (identifier, current) in models_in_use(reg)? {
        let meta = reg.read_metadata(&current)?;
        let decide = |action, why: String| Decision {
            identifier: identifier.clone(),
            current: current.clone(),
            action,
            why,
        };
        let Some(version) = meta.data.store_version else {
            out.push(decide(
                None,
                format!(
                    "trained from {}, not the sales store; train it with --data store to keep it in step",
                    meta.data.path
                ),
            ));
            continue;
        };
        if let Some(only) = &rules.only {
            out.push(if only.contains(&identifier) {
                decide(
                    Some(Succession::Retrain),
                    "drifting: worse than seasonal naive on its recent forecasts".into(),
                )
            } else {
                decide(None, "not drifting".into())
            });
            continue;
        }
        let changed = match changed_series(&meta, data) {
            Ok(changed) => changed,
            Err(e) => {
                out.push(decide(None, format!("its series cannot be read: {e:#}")));
                continue;
            }
        };
        if changed.is_empty() {
            out.push(decide(
                None,
                format!("up to date: its series are as in data version {version}"),
            ));
            continue;
        }
        let fine_tunes = fine_tunes_in_a_row(reg, &meta);
        let what = format!("{} changed since data version {version}", list(&changed, 3));
        out.push(if fine_tunes + 1 >= rules.full_every {
            decide(
                Some(Succession::Retrain),
                format!(
                    "{what}; a full retrain after {fine_tunes} fine-tunes (--full-every {})",
                    rules.full_every
                ),
            )
        } else {
            decide(Some(Succession::FineTune), what)
        });
    }
    Ok(out)
}

/// The labels of the model's series whose rows differ in `data` from what
/// it learned from (new days, corrected days, a series gone or added).
pub fn changed_series(meta: &ModelMetadata, data: &LoadedData) -> Result<Vec<String>> {
    let scope = meta.versioned_name()?.name.scope;
    let now = series_digests(
        data,
        &scope,
        Fill::from_recorded(&meta.data.fill),
        &meta.features,
        meta.training.learnt_from_siblings(),
    )?;
    let then = &meta.data.series_sha256;
    let labels: BTreeSet<&String> = now.keys().chain(then.keys()).collect();
    Ok(labels
        .into_iter()
        .filter(|l| now.get(*l) != then.get(*l))
        .cloned()
        .collect())
}

/// How many fine-tunes lead to this model since its last fresh training.
fn fine_tunes_in_a_row(reg: &Registry, meta: &ModelMetadata) -> u32 {
    let mut count = 0;
    let mut parent = meta.parent_prefix.clone();
    while let Some(p) = parent {
        count += 1;
        // a parent deleted since ends the chain
        parent = reg.read_metadata(&p).ok().and_then(|m| m.parent_prefix);
    }
    count
}

fn list(items: &[String], at_most: usize) -> String {
    if items.len() > at_most {
        format!(
            "{} and {} more series",
            items[..at_most].join(", "),
            items.len() - at_most
        )
    } else {
        items.join(", ")
    }
}
