//! mLSTM + Transformer: mLSTM blocks as in xLSTM (Beck et al.,
//! 2024) — matrix memory, exponential input gate, sigmoid forget gate,
//! normaliser and max-stabiliser — computed in the stabilised *parallel* form
//! (one batched matmul over the window, no per-step loop), then one
//! transformer encoder layer and a linear head on the flattened window.
//! Dropout (`dropout` of the config) on each block's residual branch and on
//! the head's input: without it the mLSTM overfits within ten epochs.
//!
//! Input `[batch, window, features]`, output `[batch, horizon]`.

use super::dropout::{Dropout, Noise};
use super::encoder::EncoderLayer;
use super::linear::{linear, Linear};
use super::matmul::matmul;
use super::norm::{layer_norm, LayerNorm};
use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{Module, VarBuilder};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlstmConfig {
    pub features: usize,
    pub window: usize,
    pub horizon: usize,
    pub d_model: usize,
    pub heads: usize,
    pub blocks: usize,
    /// Width of the feed-forward in the transformer layer after the blocks.
    pub ff: usize,
    pub dropout: f32,
    /// The seasonal base the network corrects, if any.
    #[serde(flatten)]
    pub base: super::BaseConfig,
}

impl MlstmConfig {
    pub fn new(features: usize, window: usize, horizon: usize) -> MlstmConfig {
        MlstmConfig {
            features,
            window,
            horizon,
            d_model: 64,
            heads: 4,
            blocks: 2,
            ff: 128,
            dropout: 0.1,
            base: super::BaseConfig::default(),
        }
    }
}

/// `log(sigmoid(x))`, stable for large |x|: `min(x, 0) - ln(1 + e^{-|x|})`.
fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    let neg_abs = x.abs()?.neg()?;
    x.minimum(0f32)? - (neg_abs.exp()? + 1.0)?.log()?
}

/// `[t, t]`: 0 where a step may read another (itself and earlier steps),
/// −∞ where it may not. Built once per block, not per forward.
pub fn causal_mask(t: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let causal: Vec<f32> = (0..t * t)
        .map(|idx| {
            if idx % t <= idx / t {
                0.0
            } else {
                f32::NEG_INFINITY
            }
        })
        .collect();
    Tensor::from_vec(causal, (t, t), device)?.to_dtype(dtype)
}

/// The stabilised parallel mLSTM cell.
///
/// `q`, `k`, `v`: `[b, heads, t, dh]`; `i_pre`, `f_pre` (gate pre-activations):
/// `[b, heads, t]`; `causal`: [`causal_mask`] of `t`. Returns `h`: `[b, heads, t, dh]`, equal to running the
/// recurrence `C_t = f_t C_{t-1} + i_t v_t k_tᵀ/√dh`, `n_t = f_t n_{t-1} + i_t k_t/√dh`,
/// `h_t = C_t q_t / max(|n_tᵀ q_t|, 1)` step by step.
pub fn mlstm_parallel(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    i_pre: &Tensor,
    f_pre: &Tensor,
    causal: &Tensor,
) -> Result<Tensor> {
    let dh = q.dim(3)?;
    // F[t] = Σ_{s≤t} log f_s ; log D[t, s] = F[t] - F[s] + ĩ[s] for s ≤ t.
    let cum = log_sigmoid(f_pre)?.cumsum(D::Minus1)?;
    let log_d = cum
        .unsqueeze(3)?
        .broadcast_sub(&cum.unsqueeze(2)?)?
        .broadcast_add(&i_pre.unsqueeze(2)?)?
        .broadcast_add(causal)?;
    // The stabiliser cancels out mathematically, so it carries no gradient.
    let m = log_d.max_keepdim(D::Minus1)?.detach();
    let decay = log_d.broadcast_sub(&m)?.exp()?;
    let scores = (matmul(q, &k.t()?)? / (dh as f64).sqrt())?;
    let c = (scores * decay)?;
    let n = c.sum_keepdim(D::Minus1)?.abs()?.maximum(&m.neg()?.exp()?)?;
    matmul(&c.broadcast_div(&n)?, &v.contiguous()?)
}

/// Normalises each head's output over its own dimensions (no affine part).
fn head_norm(h: &Tensor) -> Result<Tensor> {
    let (dh, dtype, dev) = (h.dim(D::Minus1)?, h.dtype(), h.device());
    let (ones, zeros) = (
        Tensor::ones(dh, dtype, dev)?,
        Tensor::zeros(dh, dtype, dev)?,
    );
    super::fused::layer_norm::layer_norm(h, &ones, &zeros, 1e-5)
}

#[derive(Debug, Clone)]
pub struct MlstmBlock {
    q: Linear,
    k: Linear,
    v: Linear,
    igate: Linear,
    fgate: Linear,
    ogate: Linear,
    out: Linear,
    norm: LayerNorm,
    dropout: Dropout,
    heads: usize,
    causal: Tensor,
}

impl MlstmBlock {
    pub fn new(
        d: usize,
        heads: usize,
        window: usize,
        dropout: f32,
        vb: VarBuilder,
    ) -> Result<MlstmBlock> {
        if heads == 0 || !d.is_multiple_of(heads) {
            candle_core::bail!("d_model {d} must be a multiple of heads {heads}");
        }
        Ok(MlstmBlock {
            q: linear(d, d, vb.pp("q"))?,
            k: linear(d, d, vb.pp("k"))?,
            v: linear(d, d, vb.pp("v"))?,
            igate: linear(d, heads, vb.pp("igate"))?,
            fgate: linear(d, heads, vb.pp("fgate"))?,
            ogate: linear(d, d, vb.pp("ogate"))?,
            out: linear(d, d, vb.pp("out"))?,
            norm: layer_norm(d, vb.pp("norm"))?,
            dropout: Dropout::new(dropout),
            heads,
            causal: causal_mask(window, vb.dtype(), vb.device())?,
        })
    }

    /// Pre-norm residual block: `x + drop(out(sigmoid(ogate(n)) ⊙ headnorm(mlstm(n))))`
    /// with `n = norm(x)`; the per-head normalisation of `h` is xLSTM's
    /// multi-head layer norm, which keeps the cell's output scale steady.
    pub fn forward(&self, input: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        let x = &self.norm.forward(input)?;
        let (b, t, d) = x.dims3()?;
        let dh = d / self.heads;
        let split = |y: Tensor| -> Result<Tensor> {
            y.reshape((b, t, self.heads, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        let gate = |g: &Linear| -> Result<Tensor> { g.forward(x)?.transpose(1, 2)?.contiguous() };
        let h = mlstm_parallel(
            &split(self.q.forward(x)?)?,
            &split(self.k.forward(x)?)?,
            &split(self.v.forward(x)?)?,
            &gate(&self.igate)?,
            // a +3 bias starts the forget gate near 0.95: remember by default
            &(gate(&self.fgate)? + 3.0)?,
            &self.causal,
        )?;
        let h = head_norm(&h)?.transpose(1, 2)?.reshape((b, t, d))?;
        let o = candle_nn::ops::sigmoid(&self.ogate.forward(x)?)?;
        input + self.dropout.forward(&self.out.forward(&(o * h)?)?, noise)?
    }
}

#[derive(Debug, Clone)]
pub struct MlstmForecaster {
    proj: Linear,
    blocks: Vec<MlstmBlock>,
    encoder: EncoderLayer,
    norm: LayerNorm,
    head: Linear,
    dropout: Dropout,
}

impl MlstmForecaster {
    pub fn new(cfg: &MlstmConfig, vb: VarBuilder) -> Result<MlstmForecaster> {
        let blocks = (0..cfg.blocks)
            .map(|i| {
                MlstmBlock::new(
                    cfg.d_model,
                    cfg.heads,
                    cfg.window,
                    cfg.dropout,
                    vb.pp(format!("blocks.{i}")),
                )
            })
            .collect::<Result<_>>()?;
        Ok(MlstmForecaster {
            proj: linear(cfg.features, cfg.d_model, vb.pp("proj"))?,
            blocks,
            encoder: EncoderLayer::new(
                cfg.d_model,
                cfg.heads,
                cfg.ff,
                cfg.dropout,
                vb.pp("encoder"),
            )?,
            norm: layer_norm(cfg.d_model, vb.pp("norm"))?,
            head: linear(cfg.window * cfg.d_model, cfg.horizon, vb.pp("head"))?,
            dropout: Dropout::new(cfg.dropout),
        })
    }

    /// The head reads every position of the window (flattened), not only
    /// the last: the recurrent blocks blur exact lags, and the head needs
    /// them to place the weekly pattern.
    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        let mut h = self.proj.forward(x)?;
        for block in &self.blocks {
            h = block.forward(&h, noise)?;
        }
        let h = self.norm.forward(&self.encoder.forward(&h, noise)?)?;
        self.head
            .forward(&self.dropout.forward(&h.flatten_from(1)?, noise)?)
    }
}
