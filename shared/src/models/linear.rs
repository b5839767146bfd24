//! A fully connected layer, `x Wᵀ + b`, over the last dimension: candle-nn's
//! `Linear` (same variable names and initialisation, so seeded weights are
//! unchanged) with the bias added by `fused::bias`, whose backward is one
//! pass of column sums instead of a broadcast reduction.

use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};

#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    fn from_candle(l: candle_nn::Linear) -> Linear {
        Linear {
            weight: l.weight().clone(),
            bias: l.bias().cloned(),
        }
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = super::matmul::linear(x, &self.weight)?;
        match &self.bias {
            Some(b) => super::fused::bias::add_bias(&y, b),
            None => Ok(y),
        }
    }
}

/// `linear(in, out, vb.pp("name"))` reads `name.weight` `[out, in]` and `name.bias` `[out]`.
pub fn linear(input: usize, output: usize, vb: VarBuilder) -> Result<Linear> {
    candle_nn::linear(input, output, vb).map(Linear::from_candle)
}

/// The same without a bias.
pub fn linear_no_bias(input: usize, output: usize, vb: VarBuilder) -> Result<Linear> {
    candle_nn::linear_no_bias(input, output, vb).map(Linear::from_candle)
}
