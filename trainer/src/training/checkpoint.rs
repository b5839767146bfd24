//! Checkpoint files of a run: the state an epoch checkpoint carries in its
//! safetensors header (one serde struct), and reading it back to resume.

use crate::optim::{OPT_M, OPT_V};
use crate::registry::Registry;
use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use shoptrain_shared::bundle::read_weights;
use shoptrain_shared::metadata::EpochRecord;
use shoptrain_shared::naming::Artifact;
use std::collections::HashMap;

/// Header key of the run state in an epoch checkpoint.
const STATE_KEY: &str = "state";
/// Header key of the epoch in every checkpoint.
const EPOCH_KEY: &str = "epoch";

/// Where a run stands after an epoch: what `--resume` needs besides weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub epoch: u32,
    /// Optimiser steps taken (AdamW's bias correction depends on it).
    pub step: u64,
    pub best_epoch: Option<u32>,
    pub best_val_loss: Option<f64>,
    /// Epochs since the best one, for early stopping.
    pub bad_epochs: u32,
    pub history: Vec<EpochRecord>,
}

impl RunState {
    /// Adds a finished epoch; returns whether it is the best so far.
    pub fn record(&mut self, record: EpochRecord, step: u64) -> bool {
        let (epoch, val_loss) = (record.epoch, record.val_loss);
        self.history.push(record);
        self.epoch = epoch;
        self.step = step;
        let improved = self.best_val_loss.is_none_or(|b| val_loss < b);
        if improved {
            self.best_val_loss = Some(val_loss);
            self.best_epoch = Some(epoch);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        improved
    }

    /// The header of an epoch checkpoint: `base` plus this state.
    pub fn epoch_header(
        &self,
        mut base: HashMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        base.insert(EPOCH_KEY.into(), self.epoch.to_string());
        base.insert(STATE_KEY.into(), serde_json::to_string(self)?);
        Ok(base)
    }
}

/// The header of a best checkpoint: `base` plus its epoch and loss.
pub fn best_header(
    mut base: HashMap<String, String>,
    epoch: u32,
    val_loss: f64,
) -> HashMap<String, String> {
    base.insert(EPOCH_KEY.into(), epoch.to_string());
    base.insert("val_loss".into(), val_loss.to_string());
    base
}

/// What the latest epoch checkpoint of a run holds.
pub struct Resumed {
    pub state: RunState,
    pub weights: HashMap<String, Tensor>,
    pub opt_state: HashMap<String, Tensor>,
}

/// Reads the latest epoch checkpoint of `prefix`.
pub fn latest_epoch_checkpoint(reg: &Registry, prefix: &str) -> Result<Resumed> {
    let (_, rel) = reg
        .epoch_checkpoints(prefix)
        .into_iter()
        .max_by_key(|(n, _)| *n)
        .with_context(|| {
            format!(
                "{prefix} has no epoch checkpoint to resume from (train with --checkpoint-every 1)"
            )
        })?;
    let bytes = std::fs::read(reg.dir().join(&rel))
        .with_context(|| format!("cannot read checkpoint {rel}"))?;
    let (tensors, info) = read_weights(&bytes).with_context(|| format!("checkpoint {rel}"))?;
    let state: RunState = serde_json::from_str(
        info.get(STATE_KEY)
            .with_context(|| format!("checkpoint {rel} lacks its run state"))?,
    )
    .with_context(|| format!("checkpoint {rel} has an unreadable run state"))?;
    let is_opt = |n: &str| n.starts_with(OPT_M) || n.starts_with(OPT_V);
    let (opt_state, weights): (HashMap<_, _>, HashMap<_, _>) =
        tensors.into_iter().partition(|(n, _)| is_opt(n));
    Ok(Resumed {
        state,
        weights,
        opt_state,
    })
}

pub fn sorted(tensors: HashMap<String, Tensor>) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = tensors.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The best weights a resumed run starts from. Each epoch writes its epoch
/// checkpoint before the best checkpoint, so a kill between the two leaves
/// the best epoch's weights in the epoch checkpoint itself.
pub fn resume_best_weights(
    reg: &Registry,
    prefix: &str,
    resumed: &Resumed,
) -> Result<Option<Vec<(String, Tensor)>>> {
    let state = &resumed.state;
    let Some(best) = state.best_epoch else {
        return Ok(None);
    };
    if best == state.epoch {
        return Ok(Some(sorted(resumed.weights.clone())));
    }
    let rel = Artifact::BestCheckpoint.file_name(prefix);
    let bytes = std::fs::read(reg.dir().join(&rel))
        .with_context(|| format!("cannot read {rel}, the weights of best epoch {best}"))?;
    let (tensors, info) = read_weights(&bytes).with_context(|| format!("checkpoint {rel}"))?;
    match info.get(EPOCH_KEY).and_then(|e| e.parse::<u32>().ok()) {
        Some(e) if e == best => {}
        // Written by the killed run after its last epoch checkpoint: the
        // resumed run re-runs that epoch and replaces these weights then.
        Some(e) if e > state.epoch => {}
        found => bail!(
            "{rel} holds epoch {found:?}, but the run recorded epoch {best} as its best; its best weights are lost, so train a new version"
        ),
    }
    Ok(Some(sorted(tensors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(n: u32, val_loss: f64) -> EpochRecord {
        EpochRecord {
            epoch: n,
            train_loss: 1.0,
            val_loss,
            lr: 1e-3,
            seconds: 0.1,
        }
    }

    #[test]
    fn record_tracks_best_and_patience() {
        let mut s = RunState::default();
        assert!(s.record(epoch(1, 0.9), 10));
        assert!(!s.record(epoch(2, 0.95), 20));
        assert!(!s.record(epoch(3, 0.9), 30), "a tie is not an improvement");
        assert_eq!((s.best_epoch, s.bad_epochs, s.step), (Some(1), 2, 30));
        assert!(s.record(epoch(4, 0.5), 40));
        assert_eq!(
            (s.best_epoch, s.best_val_loss, s.bad_epochs),
            (Some(4), Some(0.5), 0)
        );
    }

    #[test]
    fn state_round_trips_through_the_header() {
        let mut s = RunState::default();
        s.record(epoch(1, 0.7), 5);
        s.record(epoch(2, 0.8), 9);
        let header = s.epoch_header(HashMap::new()).unwrap();
        assert_eq!(header[EPOCH_KEY], "2");
        let back: RunState = serde_json::from_str(&header[STATE_KEY]).unwrap();
        assert_eq!(back, s);
    }
}
