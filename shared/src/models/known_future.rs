//! The known-future layer: what the forecast days' known columns change
//! (see `features::KnownFuture` for the inputs). Each column's change acts
//! twice, as a share of the base level and as an amount, with one weight
//! per column shared by every forecast day: few weights, so that a short
//! series can still learn them. It starts at zero, so a fresh model
//! forecasts as if nothing known were different.

use super::linear::{linear_no_bias, Linear};
use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};

#[derive(Debug, Clone)]
pub struct KnownFutureLayer {
    columns: usize,
    relative: Linear,
    absolute: Linear,
}

impl KnownFutureLayer {
    pub fn new(columns: usize, vb: VarBuilder) -> Result<KnownFutureLayer> {
        Ok(KnownFutureLayer {
            columns,
            relative: linear_no_bias(columns, 1, vb.pp("relative"))?,
            absolute: linear_no_bias(columns, 1, vb.pp("absolute"))?,
        })
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// `block`: `[batch, horizon, columns + 1]` (changes, then the base
    /// level) → `[batch, horizon]` in normalised sales.
    pub fn forward(&self, block: &Tensor) -> Result<Tensor> {
        let changes = block.narrow(2, 0, self.columns)?;
        let level = block.narrow(2, self.columns, 1)?;
        let relative = self.relative.forward(&changes)?.mul(&level)?;
        (relative + self.absolute.forward(&changes)?)?.squeeze(2)
    }
}
