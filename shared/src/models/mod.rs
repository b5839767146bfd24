//! The three forecasters (see ARCHITECTURE.md, Models), one file each, and the config enum the
//! metadata file carries. A [`Model`] reads each window as one flat row
//! (`ModelConfig::input_width`): the `[window, features]` history, then the
//! `[horizon, columns + 1]` known-future block when it has one, then the
//! `[horizon]` ETS forecast when its base blends one in; it outputs
//! `[batch, horizon]` in normalised sales, and with a quantile layer also
//! `[batch, levels, horizon]` quantiles around it.

pub mod dropout;
pub mod encoder;
pub mod ets_blend;
pub mod fused;
pub mod kan;
pub mod known_future;
pub mod linear;
pub mod matmul;
pub mod mlstm;
pub mod norm;
pub mod quantiles;
pub mod transformer;

pub use dropout::Noise;
pub use ets_blend::EtsBlendLayer;
pub use kan::{KanConfig, KanForecaster};
pub use known_future::KnownFutureLayer;
pub use mlstm::{MlstmConfig, MlstmForecaster};
pub use quantiles::{check_levels, QuantileLayer};
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

/// Numbers per forecast day in the known-future block of a row with
/// `columns` known-future columns: each column and the base level, or none.
pub fn known_future_width(columns: usize) -> usize {
    match columns {
        0 => 0,
        k => k + 1,
    }
}

/// Where the ETS forecast starts in a flat input row (module docs): the
/// one rule for a config and for rows laid out before a config exists.
pub fn ets_offset(window: usize, features: usize, horizon: usize, columns: usize) -> usize {
    window * features + horizon * known_future_width(columns)
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
    /// rows start with this), which a model with a seasonal base starts at
    /// zero so that it starts as that base.
    pub fn output_layer(&self) -> String {
        match self {
            ModelConfig::Mlstm(_) | ModelConfig::Transformer(_) => "head.".into(),
            ModelConfig::Kan(c) => format!("layers.{}.", c.hidden.len()),
        }
    }

    fn base(&self) -> &BaseConfig {
        match self {
            ModelConfig::Mlstm(c) => &c.base,
            ModelConfig::Transformer(c) => &c.base,
            ModelConfig::Kan(c) => &c.base,
        }
    }

    /// Weeks the seasonal base averages (see [`seasonal_base`]); 0 when the
    /// network forecasts the days itself.
    pub fn base_weeks(&self) -> usize {
        self.base().weeks()
    }

    /// Known-future columns the model reads (see [`known_future`]); 0: none.
    pub fn known_future_columns(&self) -> usize {
        self.base().known_future
    }

    /// Inputs per forecast day of the known-future block (0: no block).
    pub fn known_future_width(&self) -> usize {
        known_future_width(self.known_future_columns())
    }

    /// Whether the base blends the seasonal mean with the ETS forecast the
    /// row carries last ([`crate::hybrid`], [`EtsBlendLayer`]).
    pub fn ets_blend(&self) -> bool {
        self.base().ets_blend
    }

    /// Where the ETS forecast starts in a flat input row (after the history
    /// and the known-future block).
    pub fn ets_offset(&self) -> usize {
        ets_offset(
            self.window(),
            self.features(),
            self.horizon(),
            self.known_future_columns(),
        )
    }

    /// Numbers in one window's flat input row.
    pub fn input_width(&self) -> usize {
        self.ets_offset() + if self.ets_blend() { self.horizon() } else { 0 }
    }

    /// Quantile levels the model forecasts, in increasing order with 0.5
    /// among them; empty: a point forecast only (models before quantiles).
    pub fn quantiles(&self) -> &[f64] {
        &self.base().quantiles
    }

    /// The same architecture forecasting these quantile levels (checked by
    /// [`check_levels`]); `[0.5]` or none: the point forecast alone.
    pub fn with_quantiles(mut self, levels: &[f64]) -> ModelConfig {
        self.base_mut().quantiles = if levels.len() > 1 {
            levels.to_vec()
        } else {
            vec![]
        };
        self
    }

    /// The same architecture reading `columns` known-future columns; only a
    /// model with a seasonal base can (the changes are measured against it).
    pub fn with_known_future(mut self, columns: usize) -> ModelConfig {
        let columns = if self.base_weeks() > 0 { columns } else { 0 };
        self.base_mut().known_future = columns;
        self
    }

    /// The same architecture with a seasonal base of `weeks` weeks (0: none),
    /// capped at the weeks the window holds; a window shorter than a week
    /// gets none.
    pub fn with_base_weeks(mut self, weeks: usize) -> ModelConfig {
        let (known_future, quantiles, ets) = (
            self.known_future_columns(),
            self.quantiles().to_vec(),
            self.ets_blend(),
        );
        *self.base_mut() = BaseConfig::of_weeks(weeks.min(self.window() / WEEK));
        self.with_known_future(known_future)
            .with_quantiles(&quantiles)
            .with_ets_blend(ets)
    }

    /// The same architecture with its seasonal base blended with an ETS
    /// forecast (`true`) or not; only a model with a base can.
    pub fn with_ets_blend(mut self, on: bool) -> ModelConfig {
        let on = on && self.base_weeks() > 0;
        self.base_mut().ets_blend = on;
        self
    }

    fn base_mut(&mut self) -> &mut BaseConfig {
        match self {
            ModelConfig::Mlstm(c) => &mut c.base,
            ModelConfig::Transformer(c) => &mut c.base,
            ModelConfig::Kan(c) => &mut c.base,
        }
    }
}

/// Whether, and over how many weeks, a network corrects the seasonal base,
/// how many known-future columns adjust it, and which quantiles surround
/// it; flattened into each type's config. The keys are absent in models
/// trained without them; `base_weeks` is absent (1: same day last week) in
/// models trained before it was configurable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseConfig {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    last_week_base: bool,
    #[serde(default = "one_week", skip_serializing_if = "is_one_week")]
    base_weeks: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    known_future: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    quantiles: Vec<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ets_blend: bool,
}

impl Default for BaseConfig {
    fn default() -> Self {
        BaseConfig::of_weeks(0)
    }
}

impl BaseConfig {
    /// A base over `weeks` weeks; 0: none.
    fn of_weeks(weeks: usize) -> BaseConfig {
        BaseConfig {
            last_week_base: weeks > 0,
            base_weeks: weeks.max(1),
            known_future: 0,
            quantiles: vec![],
            ets_blend: false,
        }
    }

    fn weeks(&self) -> usize {
        if self.last_week_base {
            self.base_weeks
        } else {
            0
        }
    }
}

/// Name prefix of the known-future layer's weights.
pub const KNOWN_FUTURE_LAYER: &str = "known_future";
/// Name prefix of the ETS blend's weights.
pub const ETS_BLEND_LAYER: &str = "ets_blend";
/// Name prefix of the quantile layer's weights.
pub const QUANTILE_LAYER: &str = "quantiles";

/// Days of the seasonal cycle the base repeats.
pub const WEEK: usize = 7;

fn one_week() -> usize {
    1
}
fn is_one_week(weeks: &usize) -> bool {
    *weeks == 1
}
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The day of a `window`-day history that forecast day `h` repeats,
/// `weeks_back` weeks back (the first day if the window is shorter): the one
/// indexing rule of the seasonal base and everything measured against it.
pub fn base_day(window: usize, h: usize, weeks_back: usize) -> usize {
    (window + h % WEEK).saturating_sub(weeks_back * WEEK)
}

/// The seasonal base: for each forecast day, the mean normalised sales
/// (feature 0) of the same weekday over the window's last `weeks` weeks,
/// `[batch, window, features]` → `[batch, horizon]`. With it, an untrained
/// network already forecasts that mean, and training learns only what to
/// change. One week is "same day last week"; averaging four is steadier on
/// noisy days (QUALITY.md, experiment 15).
pub fn seasonal_base(x: &Tensor, horizon: usize, weeks: usize) -> Result<Tensor> {
    let (batch, t, _) = x.dims3()?;
    if weeks == 0 || weeks * WEEK > t {
        candle_core::bail!(
            "a seasonal base of {weeks} weeks needs 1 to {} weeks",
            t / WEEK
        );
    }
    let idx: Vec<u32> = (1..=weeks)
        .flat_map(|w| (0..horizon).map(move |h| base_day(t, h, w) as u32))
        .collect();
    let idx = Tensor::from_vec(idx, weeks * horizon, x.device())?;
    x.narrow(2, 0, 1)?
        .squeeze(2)?
        .contiguous()?
        .index_select(&idx, 1)?
        .reshape((batch, weeks, horizon))?
        .mean(1)
}

#[derive(Debug, Clone)]
enum Network {
    Mlstm(MlstmForecaster),
    Transformer(TransformerForecaster),
    Kan(KanForecaster),
}

/// The base a network's output is added to.
#[derive(Debug, Clone)]
enum BaseKind {
    /// The mean of the same weekday over the window's last `weeks` weeks.
    Seasonal { weeks: usize },
    /// That mean blended with the normalised ETS forecast at `offset` of
    /// the input row.
    Blend {
        weeks: usize,
        offset: usize,
        layer: EtsBlendLayer,
    },
}

/// A forecaster network and, when its config says so, the seasonal base
/// it corrects and the known-future layer that adjusts it.
#[derive(Debug, Clone)]
pub struct Model {
    network: Network,
    /// `(window, features, horizon)`: how a flat input row splits.
    dims: (usize, usize, usize),
    /// Numbers in a flat input row ([`ModelConfig::input_width`]).
    input_width: usize,
    /// What the output is added to, if anything.
    base: Option<BaseKind>,
    known_future: Option<KnownFutureLayer>,
    quantiles: Option<QuantileLayer>,
}

impl Model {
    /// Builds the model, reading (or creating) its weights through `vb`.
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Model> {
        let network = match cfg {
            ModelConfig::Mlstm(c) => Network::Mlstm(MlstmForecaster::new(c, vb.clone())?),
            ModelConfig::Transformer(c) => {
                Network::Transformer(TransformerForecaster::new(c, vb.clone())?)
            }
            ModelConfig::Kan(c) => Network::Kan(KanForecaster::new(c, vb.clone())?),
        };
        let known_future = match cfg.known_future_columns() {
            0 => None,
            k => Some(KnownFutureLayer::new(k, vb.pp(KNOWN_FUTURE_LAYER))?),
        };
        let quantiles = match cfg.quantiles() {
            [] => None,
            levels => Some(QuantileLayer::new(
                cfg.horizon(),
                levels,
                vb.pp(QUANTILE_LAYER),
            )?),
        };
        Ok(Model {
            network,
            dims: (cfg.window(), cfg.features(), cfg.horizon()),
            input_width: cfg.input_width(),
            base: match (cfg.base_weeks(), cfg.ets_blend()) {
                (0, _) => None,
                (weeks, true) => Some(BaseKind::Blend {
                    weeks,
                    offset: cfg.ets_offset(),
                    layer: EtsBlendLayer::new(cfg.horizon(), vb.pp(ETS_BLEND_LAYER))?,
                }),
                (weeks, false) => Some(BaseKind::Seasonal { weeks }),
            },
            known_future,
            quantiles,
        })
    }

    /// `x`: `[batch, input_width]` → `[batch, horizon]`. Pass `noise`
    /// while training (dropout on), `None` to forecast.
    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        Ok(self.run(x, noise, false)?.0)
    }

    /// The quantile levels [`Self::forward_quantiles`] gives; empty: none.
    pub fn quantile_levels(&self) -> &[f64] {
        self.quantiles.as_ref().map_or(&[], |q| q.levels())
    }

    /// The point forecast and, when the model has a quantile layer, every
    /// quantile `[batch, levels, horizon]` (the median equal to the point).
    pub fn forward_quantiles(
        &self,
        x: &Tensor,
        noise: Option<&Noise>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        self.run(x, noise, true)
    }

    fn run(
        &self,
        x: &Tensor,
        noise: Option<&Noise>,
        with_quantiles: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (batch, width) = x.dims2()?;
        let (window, features, horizon) = self.dims;
        if width != self.input_width {
            candle_core::bail!(
                "input rows have {width} numbers, the model reads {}",
                self.input_width
            );
        }
        let history = x
            .narrow(1, 0, window * features)?
            .reshape((batch, window, features))?;
        let mut out = match &self.network {
            Network::Mlstm(m) => m.forward(&history, noise)?,
            Network::Transformer(m) => m.forward(&history, noise)?,
            Network::Kan(m) => m.forward(&history)?,
        };
        match &self.base {
            Some(BaseKind::Seasonal { weeks }) => {
                out = (out + seasonal_base(&history, horizon, *weeks)?)?;
            }
            Some(BaseKind::Blend {
                weeks,
                offset,
                layer,
            }) => {
                let seasonal = seasonal_base(&history, horizon, *weeks)?;
                let ets = x.narrow(1, *offset, horizon)?;
                out = (out + layer.forward(&seasonal, &ets)?)?;
            }
            None => {}
        }
        if let Some(layer) = &self.known_future {
            let width = layer.columns() + 1;
            let block = x
                .narrow(1, window * features, horizon * width)?
                .reshape((batch, horizon, width))?;
            out = (out + layer.forward(&block)?)?;
        }
        let quantiles = match (&self.quantiles, with_quantiles) {
            (Some(layer), true) => Some(layer.forward(&out)?),
            _ => None,
        };
        Ok((out, quantiles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn the_seasonal_base_averages_the_same_weekday_over_the_last_weeks() {
        // 1 window of 15 days x 2 features; sales are 0..15, the other column 100+
        let rows: Vec<f32> = (0..15).flat_map(|t| [t as f32, 100.0 + t as f32]).collect();
        let x = Tensor::from_vec(rows, (1, 15, 2), &Device::Cpu).unwrap();
        let one = seasonal_base(&x, 9, 1).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(one, vec![vec![8., 9., 10., 11., 12., 13., 14., 8., 9.]]);
        // mean of day t-14 and t-7: (1+8)/2 …
        let two = seasonal_base(&x, 7, 2).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(two, vec![vec![4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5]]);
    }

    #[test]
    fn the_base_is_capped_at_the_weeks_the_window_holds() {
        let four = ModelConfig::default_for(ModelType::Kan, 3, 30, 7).with_base_weeks(4);
        assert_eq!(four.base_weeks(), 4);
        let capped = ModelConfig::default_for(ModelType::Kan, 3, 14, 7).with_base_weeks(4);
        assert_eq!(capped.base_weeks(), 2);
        let short = ModelConfig::default_for(ModelType::Kan, 3, 5, 7).with_base_weeks(4);
        assert_eq!(short.base_weeks(), 0);
        // models trained without a base keep their metadata unchanged
        let off = ModelConfig::default_for(ModelType::Mlstm, 3, 14, 7);
        let json = serde_json::to_string(&off).unwrap();
        assert!(!json.contains("last_week_base") && !json.contains("base_weeks"));
    }

    #[test]
    fn the_ets_blend_moves_the_seasonal_mean_toward_the_forecast_at_the_end_of_the_row(
    ) -> Result<()> {
        let cfg = ModelConfig::default_for(ModelType::Kan, 1, 14, 7)
            .with_base_weeks(2)
            .with_ets_blend(true);
        assert!(cfg.ets_blend());
        assert_eq!(cfg.input_width(), 14 + 7);
        let varmap = VarMap::new();
        let model = Model::new(
            &cfg,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )?;
        // an output layer at zero: the model forecasts its base; the blend a quarter of the way
        for (name, var) in varmap.data().lock().unwrap().iter() {
            if name.starts_with(&cfg.output_layer()) {
                var.set(&var.zeros_like()?)?;
            } else if name.starts_with(ETS_BLEND_LAYER) {
                var.set(&var.ones_like()?.affine(0.25, 0.0)?)?;
            }
        }
        let history: Vec<f32> = (0..14).map(|t| (t % 7) as f32).collect();
        let ets = [4.0f32, 1.0, 2.0, 7.0, 4.0, 5.0, 2.0];
        let row: Vec<f32> = history.iter().chain(&ets).copied().collect();
        let out = model.forward(&Tensor::from_vec(row, (1, 21), &Device::Cpu)?, None)?;
        // the seasonal mean is the weekday 0..6; a quarter of the way to ets
        let want: Vec<f32> = ets
            .iter()
            .enumerate()
            .map(|(d, e)| d as f32 + 0.25 * (e - d as f32))
            .collect();
        assert_eq!(out.to_vec2::<f32>()?, vec![want]);
        // without a base there is nothing to blend, and old metadata reads as before
        let none = ModelConfig::default_for(ModelType::Kan, 1, 14, 7).with_ets_blend(true);
        assert!(!none.ets_blend());
        let json = serde_json::to_string(&cfg.clone().with_ets_blend(false)).unwrap();
        assert!(!json.contains("ets_blend"), "{json}");
        let kept = cfg.with_base_weeks(1);
        assert!(kept.ets_blend() && kept.base_weeks() == 1);
        Ok(())
    }

    #[test]
    fn models_saved_before_base_weeks_keep_same_day_last_week() {
        let old = r#"{"type":"kan","features":3,"window":14,"horizon":7,"hidden":[8],
            "grid_size":5,"spline_order":3,"grid_range":[-3.0,3.0],"last_week_base":true}"#;
        let cfg: ModelConfig = serde_json::from_str(old).unwrap();
        assert_eq!(cfg.base_weeks(), 1);
        // nor do they read known-future columns: their input is the window alone
        assert_eq!(cfg.known_future_columns(), 0);
        assert_eq!(cfg.input_width(), 14 * 3);
        let again = serde_json::to_string(&cfg).unwrap();
        assert!(!again.contains("base_weeks"), "{again}");
    }
}
