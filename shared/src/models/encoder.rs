//! A pre-norm transformer encoder layer: multi-head self-attention and a GELU
//! feed-forward, each added back to the residual stream.
//!
//! `x + drop(attn(ln1(x)))`, then `x + drop(ff2(gelu(ff1(ln2(x)))))`.

use super::dropout::{Dropout, Noise};
use super::fused::gelu::gelu;
use super::fused::softmax::softmax_last_dim;
use super::linear::{linear, Linear};
use super::matmul::matmul;
use super::norm::{layer_norm, LayerNorm};
use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};

#[derive(Debug, Clone)]
pub struct SelfAttention {
    qkv: Linear,
    out: Linear,
    heads: usize,
}

impl SelfAttention {
    pub fn new(d_model: usize, heads: usize, vb: VarBuilder) -> Result<SelfAttention> {
        if heads == 0 || !d_model.is_multiple_of(heads) {
            candle_core::bail!("d_model {d_model} must be a multiple of heads {heads}");
        }
        Ok(SelfAttention {
            qkv: linear(d_model, 3 * d_model, vb.pp("qkv"))?,
            out: linear(d_model, d_model, vb.pp("out"))?,
            heads,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let dh = d / self.heads;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, t, 3, self.heads, dh))?
            .permute((2, 0, 3, 1, 4))?; // [3, b, heads, t, dh]
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scores = (matmul(&q, &k.t()?)? / (dh as f64).sqrt())?;
        let attn = softmax_last_dim(&scores)?;
        let y = matmul(&attn, &v)?.transpose(1, 2)?.reshape((b, t, d))?;
        self.out.forward(&y)
    }
}

#[derive(Debug, Clone)]
pub struct EncoderLayer {
    ln1: LayerNorm,
    attn: SelfAttention,
    ln2: LayerNorm,
    ff1: Linear,
    ff2: Linear,
    dropout: Dropout,
}

impl EncoderLayer {
    pub fn new(
        d_model: usize,
        heads: usize,
        ff: usize,
        dropout: f32,
        vb: VarBuilder,
    ) -> Result<EncoderLayer> {
        Ok(EncoderLayer {
            ln1: layer_norm(d_model, vb.pp("ln1"))?,
            attn: SelfAttention::new(d_model, heads, vb.pp("attn"))?,
            ln2: layer_norm(d_model, vb.pp("ln2"))?,
            ff1: linear(d_model, ff, vb.pp("ff1"))?,
            ff2: linear(ff, d_model, vb.pp("ff2"))?,
            dropout: Dropout::new(dropout),
        })
    }

    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        let a = self.attn.forward(&self.ln1.forward(x)?)?;
        let x = (x + self.dropout.forward(&a, noise)?)?;
        let f = self
            .ff2
            .forward(&gelu(&self.ff1.forward(&self.ln2.forward(&x)?)?)?)?;
        x + self.dropout.forward(&f, noise)?
    }
}

/// Sinusoidal positions `[t, d]` as in "Attention is all you need".
pub fn sinusoidal_positions(t: usize, d: usize, device: &candle_core::Device) -> Result<Tensor> {
    let mut pe = vec![0f32; t * d];
    for pos in 0..t {
        for i in 0..d {
            let rate = 1.0 / 10000f64.powf((2 * (i / 2)) as f64 / d as f64);
            let angle = pos as f64 * rate;
            pe[pos * d + i] = if i % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    Tensor::from_vec(pe, (t, d), device)
}
