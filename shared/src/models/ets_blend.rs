//! The ETS blend of the base (`--base blend`, QUALITY.md experiment 33):
//! per forecast day a weight `w` moving the seasonal mean toward an ETS
//! forecast, `base = seasonal + w · (ets − seasonal)`. The trainer starts
//! the weights at their least-squares fit on the training windows (many
//! origins, so the choice between the two is not made on validation's few)
//! and trains them with the network.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

#[derive(Debug, Clone)]
pub struct EtsBlendLayer {
    /// `[horizon]`: 0 the seasonal mean, 1 the ETS forecast.
    weight: Tensor,
}

impl EtsBlendLayer {
    pub fn new(horizon: usize, vb: VarBuilder) -> Result<EtsBlendLayer> {
        Ok(EtsBlendLayer {
            weight: vb.get(horizon, "weight")?,
        })
    }

    /// `seasonal`, `ets`: `[batch, horizon]` → the blended base.
    pub fn forward(&self, seasonal: &Tensor, ets: &Tensor) -> Result<Tensor> {
        seasonal + (ets - seasonal)?.broadcast_mul(&self.weight)?
    }
}
