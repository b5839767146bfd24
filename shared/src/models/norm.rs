//! Layer normalisation over the last dimension with learned scale and shift
//! (the kernel and its backward pass: `fused::layer_norm`).

use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        super::fused::layer_norm::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

/// `layer_norm(size, vb.pp("norm"))` reads `norm.weight` and `norm.bias`.
pub fn layer_norm(size: usize, vb: VarBuilder) -> Result<LayerNorm> {
    Ok(LayerNorm {
        weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
        bias: vb.get_with_hints(size, "bias", Init::Const(0.0))?,
        eps: 1e-5,
    })
}
