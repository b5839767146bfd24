//! Which trained model forecasts each series of a selection: the newest
//! completed version of one type, or of the type with the best validation
//! MASE (what `predict --each` and `evaluate --each` use).

use crate::registry::{ListFilter, Registry};
use anyhow::{bail, Result};
use clap::ValueEnum;
use shoptrain_shared::metadata::Status;
use shoptrain_shared::naming::{ModelName, ModelType, Scope};
use std::collections::HashMap;

/// Which model of a series: the best type's (`best`) or one type's. Its
/// values come from `ModelType::ALL`, the one list of types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The type whose newest model has the lowest validation MASE.
    Best,
    One(ModelType),
}

impl Pick {
    fn types(self) -> Vec<ModelType> {
        match self {
            Pick::Best => ModelType::ALL.to_vec(),
            Pick::One(t) => vec![t],
        }
    }
}

impl ValueEnum for Pick {
    fn value_variants<'a>() -> &'a [Self] {
        static VARIANTS: std::sync::OnceLock<Vec<Pick>> = std::sync::OnceLock::new();
        VARIANTS.get_or_init(|| {
            [Pick::Best]
                .into_iter()
                .chain(ModelType::ALL.into_iter().map(Pick::One))
                .collect()
        })
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            Pick::Best => clap::builder::PossibleValue::new("best")
                .help("the type whose newest model has the lowest validation MASE"),
            Pick::One(t) => clap::builder::PossibleValue::new(t.as_str()),
        })
    }
}

/// The model prefix for each scope, in the scopes' order. Fails, naming
/// every series without one, before anything is forecast.
pub fn chosen_models(reg: &Registry, scopes: &[Scope], pick: Pick) -> Result<Vec<String>> {
    let filter = ListFilter {
        status: Some(Status::Completed),
        ..ListFilter::default()
    };
    // rows come by identifier, then version: the last one seen is the newest
    let mut newest: HashMap<String, (String, f64)> = HashMap::new();
    for row in reg.list(&filter)? {
        let mase = row
            .metrics
            .as_ref()
            .and_then(|m| m.get("mase"))
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::INFINITY);
        newest.insert(row.model_identifier, (row.prefix, mase));
    }
    let mut chosen = Vec::with_capacity(scopes.len());
    let mut missing = Vec::new();
    for scope in scopes {
        let best = pick
            .types()
            .into_iter()
            .filter_map(|t| newest.get(&ModelName::new(scope.clone(), t).identifier()))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((prefix, _)) => chosen.push(prefix.clone()),
            None => missing.push(scope.token()?),
        }
    }
    if !missing.is_empty() {
        bail!(
            "no completed {}model for {} of the {} selected series ({}); train them first, e.g. `shoptrain train --each ...`",
            match pick {
                Pick::Best => String::new(),
                Pick::One(t) => format!("{t} "),
            },
            missing.len(),
            scopes.len(),
            if missing.len() > 10 {
                format!("{}, …", missing[..10].join(", "))
            } else {
                missing.join(", ")
            }
        );
    }
    Ok(chosen)
}
