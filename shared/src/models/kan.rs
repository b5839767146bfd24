//! KANForecaster: the window is flattened to `window * features`
//! and passed through KAN layers of widths `[in, hidden.., horizon]`, each as
//! in efficient-KAN: a SiLU-then-linear base branch plus a B-spline branch
//! (Cox–de Boor bases on an extended uniform grid). A layer norm before each
//! KAN layer keeps inputs inside the grid, where the spline bases are live.

use super::linear::{linear_no_bias, Linear};
use super::matmul::linear;
use super::norm::{layer_norm, LayerNorm};
use candle_core::{Result, Tensor, D};
use candle_nn::{Init, Module, VarBuilder};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KanConfig {
    pub features: usize,
    pub window: usize,
    pub horizon: usize,
    pub hidden: Vec<usize>,
    pub grid_size: usize,
    pub spline_order: usize,
    pub grid_range: [f64; 2],
    /// The seasonal base the network corrects, if any.
    #[serde(flatten)]
    pub base: super::BaseConfig,
}

impl KanConfig {
    pub fn new(features: usize, window: usize, horizon: usize) -> KanConfig {
        KanConfig {
            features,
            window,
            horizon,
            hidden: vec![64],
            grid_size: 5,
            spline_order: 3,
            grid_range: [-3.0, 3.0],
            base: super::BaseConfig::default(),
        }
    }

    /// Knots of the extended uniform grid: `grid_size + 2*order + 1` values.
    pub fn knots(&self) -> Vec<f64> {
        let [lo, hi] = self.grid_range;
        let h = (hi - lo) / self.grid_size as f64;
        let order = self.spline_order as i64;
        (-order..=self.grid_size as i64 + order)
            .map(|j| lo + j as f64 * h)
            .collect()
    }
}

pub use super::fused::b_spline::b_spline_bases;

#[derive(Debug, Clone)]
pub struct KanLayer {
    norm: LayerNorm,
    base: Linear,
    spline_weight: Tensor,
    knots: Vec<f64>,
    order: usize,
}

impl KanLayer {
    pub fn new(input: usize, output: usize, cfg: &KanConfig, vb: VarBuilder) -> Result<KanLayer> {
        let n_bases = cfg.grid_size + cfg.spline_order;
        let stdev = 0.1 / (input as f64).sqrt();
        Ok(KanLayer {
            norm: layer_norm(input, vb.pp("norm"))?,
            base: linear_no_bias(input, output, vb.pp("base"))?,
            spline_weight: vb.get_with_hints(
                (output, input * n_bases),
                "spline_weight",
                Init::Randn { mean: 0.0, stdev },
            )?,
            knots: cfg.knots(),
            order: cfg.spline_order,
        })
    }

    /// The normalised input the spline branch sees.
    pub fn spline_input(&self, x: &Tensor) -> Result<Tensor> {
        self.norm.forward(x)
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = self.norm.forward(x)?;
        let base = self.base.forward(&candle_nn::ops::silu(&x)?)?;
        let bases = b_spline_bases(&x, &self.knots, self.order)?;
        let (b, n, nb) = bases.dims3()?;
        let spline = linear(&bases.reshape((b, n * nb))?, &self.spline_weight)?;
        base + spline
    }

    /// Share of input values that fall inside the spline grid (non-zero bases).
    pub fn grid_coverage(&self, x: &Tensor) -> Result<f32> {
        let x = self.norm.forward(x)?;
        let sums = b_spline_bases(&x, &self.knots, self.order)?.sum(D::Minus1)?;
        let live = sums.gt(0.5)?.to_dtype(candle_core::DType::F32)?;
        live.mean_all()?.to_scalar::<f32>()
    }
}

#[derive(Debug, Clone)]
pub struct KanForecaster {
    pub layers: Vec<KanLayer>,
}

impl KanForecaster {
    pub fn new(cfg: &KanConfig, vb: VarBuilder) -> Result<KanForecaster> {
        let mut widths = vec![cfg.window * cfg.features];
        widths.extend(&cfg.hidden);
        widths.push(cfg.horizon);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| KanLayer::new(w[0], w[1], cfg, vb.pp(format!("layers.{i}"))))
            .collect::<Result<_>>()?;
        Ok(KanForecaster { layers })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.flatten_from(1)?;
        for layer in &self.layers {
            h = layer.forward(&h)?;
        }
        Ok(h)
    }
}
