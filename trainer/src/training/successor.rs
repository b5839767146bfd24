//! A new version of a trained model on newer data: fine-tuned from its
//! weights (`train --from`, `sync`'s default) or retrained from fresh
//! weights (`sync`'s full retrain). Either reads exactly what the parent
//! reads: its window, horizon, features, base and known-future columns.

use super::{begin_new, prepare, NewRun, Prepared, Start, TrainOptions, TrainReport};
use crate::data::LoadedData;
use crate::device::select_device_for;
use crate::registry::Registry;
use anyhow::{Context, Result};
use candle_core::Device;
use shoptrain_shared::bundle::read_weights;
use shoptrain_shared::metadata::Pool;
use shoptrain_shared::naming::Artifact;

/// How the new version starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Succession {
    /// From the parent's weights (recorded as its `parent_prefix`).
    FineTune,
    /// From fresh seeded weights, with the parent's inputs.
    Retrain,
}

/// A successor whose version is reserved and whose row says training.
pub struct Successor {
    run: NewRun,
    prepared: Prepared,
    opts: TrainOptions,
    device: Device,
}

impl Successor {
    pub fn prefix(&self) -> &str {
        self.run.prefix()
    }

    pub fn train(self, reg: &Registry) -> Result<TrainReport> {
        self.run
            .train(reg, &self.prepared, &self.device, &self.opts)
    }
}

/// Prepares `data` as `parent` reads it and begins its next version. `opts`
/// give the training settings (epochs, learning rate, seed, device).
pub fn begin_successor(
    reg: &Registry,
    data: &LoadedData,
    parent: &str,
    how: Succession,
    opts: &TrainOptions,
) -> Result<Successor> {
    let meta = reg.read_metadata(parent)?;
    let scope = meta.versioned_name()?.name.scope;
    let mut opts = TrainOptions {
        window: meta.window,
        horizon: meta.horizon,
        ..opts.clone()
    }
    .reading_like(&meta);
    if how == Succession::FineTune {
        // the weights learnt from the windows the parent learnt from
        opts.config.pool = Pool::as_done(meta.training.learnt_from_siblings());
    }
    let prepared = prepare(data, &scope, &meta.features, &opts)?;
    let device = select_device_for(opts.device, prepared.train.count)?;
    let start = match how {
        Succession::Retrain => Start::Fresh,
        Succession::FineTune => {
            let bytes = reg.read_artifact(parent, Artifact::Weights)?;
            let (weights, _) =
                read_weights(&bytes).with_context(|| format!("weights of {parent}"))?;
            Start::FineTune {
                parent: parent.to_string(),
                weights,
                architecture: meta.architecture.clone(),
            }
        }
    };
    let run = begin_new(reg, data, meta.model_type, &prepared, &device, &opts, start)?;
    Ok(Successor {
        run,
        prepared,
        opts,
        device: device.0,
    })
}
