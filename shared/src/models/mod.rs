//! The three forecasters (see ARCHITECTURE.md, Models), one file each, and the config enum the
//! metadata file carries. Input `[batch, window, features]`, output
//! `[batch, horizon]` in normalised sales.

pub mod dropout;
pub mod encoder;
pub mod kan;
pub mod mlstm;
pub mod norm;
pub mod transformer;

pub use dropout::Noise;
pub use kan::{KanConfig, KanForecaster};
pub use mlstm::{MlstmConfig, MlstmForecaster};
pub use transformer::{TransformerConfig, TransformerForecaster};

use crate::naming::ModelType;
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ModelConfig {
    Mlstm(MlstmConfig),
    Transformer(TransformerConfig),
    Kan(KanConfig),
}

impl ModelConfig {
    /// The default architecture of a type for the given input shape.
    pub fn default_for(
        model_type: ModelType,
        features: usize,
        window: usize,
        horizon: usize,
    ) -> ModelConfig {
        match model_type {
            ModelType::Mlstm => ModelConfig::Mlstm(MlstmConfig::new(features, window, horizon)),
            ModelType::Transformer => {
                ModelConfig::Transformer(TransformerConfig::new(features, window, horizon))
            }
            ModelType::Kan => ModelConfig::Kan(KanConfig::new(features, window, horizon)),
        }
    }

    pub fn model_type(&self) -> ModelType {
        match self {
            ModelConfig::Mlstm(_) => ModelType::Mlstm,
            ModelConfig::Transformer(_) => ModelType::Transformer,
            ModelConfig::Kan(_) => ModelType::Kan,
        }
    }

    fn dims(&self) -> (usize, usize, usize) {
        match self {
            ModelConfig::Mlstm(c) => (c.features, c.window, c.horizon),
            ModelConfig::Transformer(c) => (c.features, c.window, c.horizon),
            ModelConfig::Kan(c) => (c.features, c.window, c.horizon),
        }
    }
    pub fn features(&self) -> usize {
        self.dims().0
    }
    pub fn window(&self) -> usize {
        self.dims().1
    }
    pub fn horizon(&self) -> usize {
        self.dims().2
    }
}

#[derive(Debug, Clone)]
pub enum Model {
    Mlstm(MlstmForecaster),
    Transformer(TransformerForecaster),
    Kan(KanForecaster),
}

impl Model {
    /// Builds the model, reading (or creating) its weights through `vb`.
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Model> {
        Ok(match cfg {
            ModelConfig::Mlstm(c) => Model::Mlstm(MlstmForecaster::new(c, vb)?),
            ModelConfig::Transformer(c) => Model::Transformer(TransformerForecaster::new(c, vb)?),
            ModelConfig::Kan(c) => Model::Kan(KanForecaster::new(c, vb)?),
        })
    }

    /// `x`: `[batch, window, features]` → `[batch, horizon]`. Pass `noise`
    /// while training (dropout on), `None` to forecast.
    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        match self {
            Model::Mlstm(m) => m.forward(x, noise),
            Model::Transformer(m) => m.forward(x, noise),
            Model::Kan(m) => m.forward(x),
        }
    }
}
