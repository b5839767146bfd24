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

    /// Names of the output layer's weight tensors (those with `horizon`
    /// rows start with this), which a last-week-based model starts at zero
    /// so that it starts as "same day last week".
    pub fn output_layer(&self) -> String {
        match self {
            ModelConfig::Mlstm(_) | ModelConfig::Transformer(_) => "head.".into(),
            ModelConfig::Kan(c) => format!("layers.{}.", c.hidden.len()),
        }
    }

    /// Whether the network corrects last week's sales (see [`last_week`]).
    pub fn last_week_base(&self) -> bool {
        match self {
            ModelConfig::Mlstm(c) => c.last_week_base,
            ModelConfig::Transformer(c) => c.last_week_base,
            ModelConfig::Kan(c) => c.last_week_base,
        }
    }

    /// The same architecture with the last-week base on or off (on only
    /// where the window holds a week).
    pub fn with_last_week_base(mut self, on: bool) -> ModelConfig {
        let on = on && self.window() >= WEEK;
        match &mut self {
            ModelConfig::Mlstm(c) => c.last_week_base = on,
            ModelConfig::Transformer(c) => c.last_week_base = on,
            ModelConfig::Kan(c) => c.last_week_base = on,
        }
        self
    }
}

/// Days of the seasonal cycle the last-week base repeats.
pub const WEEK: usize = 7;

/// Normalised sales (feature 0) of the window's last week, repeated over
/// the horizon: `[batch, window, features]` → `[batch, horizon]`. With it
/// as the base, an untrained network already forecasts "same day last
/// week", and training learns only what to change.
pub fn last_week(x: &Tensor, horizon: usize) -> Result<Tensor> {
    let (_, t, _) = x.dims3()?;
    let idx: Vec<u32> = (0..horizon).map(|h| (t - WEEK + h % WEEK) as u32).collect();
    let idx = Tensor::from_vec(idx, horizon, x.device())?;
    x.narrow(2, 0, 1)?
        .squeeze(2)?
        .contiguous()?
        .index_select(&idx, 1)
}

#[derive(Debug, Clone)]
enum Network {
    Mlstm(MlstmForecaster),
    Transformer(TransformerForecaster),
    Kan(KanForecaster),
}

/// A forecaster network and, when its config says so, the last-week base
/// it corrects.
#[derive(Debug, Clone)]
pub struct Model {
    network: Network,
    /// `Some(horizon)` when the output is added to [`last_week`].
    last_week_base: Option<usize>,
}

impl Model {
    /// Builds the model, reading (or creating) its weights through `vb`.
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Model> {
        let network = match cfg {
            ModelConfig::Mlstm(c) => Network::Mlstm(MlstmForecaster::new(c, vb)?),
            ModelConfig::Transformer(c) => Network::Transformer(TransformerForecaster::new(c, vb)?),
            ModelConfig::Kan(c) => Network::Kan(KanForecaster::new(c, vb)?),
        };
        Ok(Model {
            network,
            last_week_base: cfg.last_week_base().then(|| cfg.horizon()),
        })
    }

    /// `x`: `[batch, window, features]` → `[batch, horizon]`. Pass `noise`
    /// while training (dropout on), `None` to forecast.
    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        let out = match &self.network {
            Network::Mlstm(m) => m.forward(x, noise)?,
            Network::Transformer(m) => m.forward(x, noise)?,
            Network::Kan(m) => m.forward(x)?,
        };
        match self.last_week_base {
            Some(horizon) => out + last_week(x, horizon)?,
            None => Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn last_week_repeats_the_windows_last_seven_days_of_sales() {
        // 1 window of 10 days x 2 features; sales are 0..10, the other column 100+
        let rows: Vec<f32> = (0..10).flat_map(|t| [t as f32, 100.0 + t as f32]).collect();
        let x = Tensor::from_vec(rows, (1, 10, 2), &Device::Cpu).unwrap();
        let base = last_week(&x, 9).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(base, vec![vec![3., 4., 5., 6., 7., 8., 9., 3., 4.]]);
    }

    #[test]
    fn the_base_is_recorded_only_when_the_window_holds_a_week() {
        let on = ModelConfig::default_for(ModelType::Kan, 3, 14, 7).with_last_week_base(true);
        assert!(on.last_week_base());
        let short = ModelConfig::default_for(ModelType::Kan, 3, 5, 7).with_last_week_base(true);
        assert!(!short.last_week_base());
        // models trained without it keep their metadata unchanged
        let off = ModelConfig::default_for(ModelType::Mlstm, 3, 14, 7);
        assert!(!serde_json::to_string(&off)
            .unwrap()
            .contains("last_week_base"));
    }
}
