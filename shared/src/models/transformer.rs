//! TimeSeriesTransformer: project each day's features to
//! `d_model`, add sinusoidal positions, run pre-norm encoder layers, normalise,
//! and read the forecast from the last position.
//!
//! Input `[batch, window, features]`, output `[batch, horizon]`.

use super::dropout::Noise;
use super::encoder::{sinusoidal_positions, EncoderLayer};
use super::linear::{linear, Linear};
use super::norm::{layer_norm, LayerNorm};
use candle_core::{IndexOp, Result, Tensor};
use candle_nn::{Module, VarBuilder};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    pub features: usize,
    pub window: usize,
    pub horizon: usize,
    pub d_model: usize,
    pub heads: usize,
    pub layers: usize,
    pub ff: usize,
    pub dropout: f32,
    /// The seasonal base the network corrects, if any.
    #[serde(flatten)]
    pub base: super::BaseConfig,
}

impl TransformerConfig {
    pub fn new(features: usize, window: usize, horizon: usize) -> TransformerConfig {
        TransformerConfig {
            features,
            window,
            horizon,
            d_model: 64,
            heads: 4,
            layers: 2,
            ff: 128,
            dropout: 0.1,
            base: super::BaseConfig::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TransformerForecaster {
    proj: Linear,
    layers: Vec<EncoderLayer>,
    norm: LayerNorm,
    head: Linear,
    /// `[window, d_model]`, built once.
    positions: Tensor,
}

impl TransformerForecaster {
    pub fn new(cfg: &TransformerConfig, vb: VarBuilder) -> Result<TransformerForecaster> {
        let layers = (0..cfg.layers)
            .map(|i| {
                EncoderLayer::new(
                    cfg.d_model,
                    cfg.heads,
                    cfg.ff,
                    cfg.dropout,
                    vb.pp(format!("layers.{i}")),
                )
            })
            .collect::<Result<_>>()?;
        Ok(TransformerForecaster {
            proj: linear(cfg.features, cfg.d_model, vb.pp("proj"))?,
            layers,
            norm: layer_norm(cfg.d_model, vb.pp("norm"))?,
            head: linear(cfg.d_model, cfg.horizon, vb.pp("head"))?,
            positions: sinusoidal_positions(cfg.window, cfg.d_model, vb.device())?
                .to_dtype(vb.dtype())?,
        })
    }

    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        let (_, t, _) = x.dims3()?;
        let mut h = self.proj.forward(x)?;
        if t != self.positions.dim(0)? {
            candle_core::bail!(
                "windows of {t} days, the model reads {}",
                self.positions.dim(0)?
            );
        }
        h = h.broadcast_add(&self.positions)?;
        for layer in &self.layers {
            h = layer.forward(&h, noise)?;
        }
        let last = self.norm.forward(&h)?.i((.., t - 1, ..))?;
        self.head.forward(&last)
    }
}
