//! Layer normalisation over the last dimension with a per-feature scale and
//! shift. candle-nn's fused `layer_norm` has no backward pass and the
//! differentiable version is nine tensor ops forward and about twenty
//! backward; this kernel is one pass per row each way.
//!
//! The backward kernel returns its three gradients packed in one tensor —
//! `[rows + 2, n]`: the input's gradient, then the scale's, then the shift's
//! — because a custom op yields one tensor; they are narrowed apart after.

use super::{fusable, row_width, values};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, D};

/// `(x − mean) / √(var + eps) ⊙ weight + bias` over the last dimension.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    if fusable(&[x, weight, bias]) {
        x.contiguous()?.apply_op3(
            &weight.contiguous()?,
            &bias.contiguous()?,
            LayerNorm { eps },
        )
    } else if !(x.track_op() || weight.track_op() || bias.track_op()) {
        // a forecast on another device: candle-nn's one-kernel layer norm,
        // which has no backward pass, so training keeps the composite
        candle_nn::ops::layer_norm(&x.contiguous()?, weight, bias, eps)
    } else {
        reference(x, weight, bias, eps)
    }
}

/// The composite version, for other devices and as the tests' oracle.
pub fn reference(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    centred
        .broadcast_div(&(var + eps as f64)?.sqrt()?)?
        .broadcast_mul(weight)?
        .broadcast_add(bias)
}

/// Mean and reciprocal standard deviation of one row.
#[inline]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

struct LayerNorm {
    eps: f32,
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "fused-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, b) = (values(s1, l1)?, values(s2, l2)?, values(s3, l3)?);
        let n = row_width(l1);
        if w.len() != n || b.len() != n {
            candle_core::bail!("layer norm over {n} features got {} weights", w.len());
        }
        let mut y = vec![0f32; x.len()];
        for (xr, yr) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)) {
            let (mean, rstd) = moments(xr, self.eps);
            for i in 0..n {
                yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
            }
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let rows = x.elem_count() / x.dim(D::Minus1)?;
        let packed = x.apply_op3_no_bwd(
            weight,
            &grad.contiguous()?,
            &LayerNormGrad { eps: self.eps },
        )?;
        let dx = packed.narrow(0, 0, rows)?.reshape(x.shape())?;
        Ok((
            Some(dx),
            Some(packed.get(rows)?),
            Some(packed.get(rows + 1)?),
        ))
    }
}

/// Gradients of input, scale and shift, packed as `[rows + 2, n]`.
struct LayerNormGrad {
    eps: f32,
}

impl CustomOp3 for LayerNormGrad {
    fn name(&self) -> &'static str {
        "fused-layer-norm-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, g) = (values(s1, l1)?, values(s2, l2)?, values(s3, l3)?);
        let n = row_width(l1);
        let rows = x.len() / n;
        let mut out = vec![0f32; (rows + 2) * n];
        let (dx, dwb) = out.split_at_mut(rows * n);
        let (dw, db) = dwb.split_at_mut(n);
        let mut xhat = vec![0f32; n];
        let mut gw = vec![0f32; n];
        for ((xr, gr), dr) in x
            .chunks_exact(n)
            .zip(g.chunks_exact(n))
            .zip(dx.chunks_exact_mut(n))
        {
            let (mean, rstd) = moments(xr, self.eps);
            let (mut a, mut c) = (0f32, 0f32);
            for i in 0..n {
                xhat[i] = (xr[i] - mean) * rstd;
                gw[i] = gr[i] * w[i];
                a += gw[i];
                c += gw[i] * xhat[i];
                dw[i] += gr[i] * xhat[i];
                db[i] += gr[i];
            }
            let (a, c) = (a / n as f32, c / n as f32);
            for i in 0..n {
                dr[i] = rstd * (gw[i] - a - xhat[i] * c);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((rows + 2, n))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{grads_of, max_diff, randn};

    #[test]
    fn the_graph_free_kernel_for_other_devices_matches_the_composite() -> candle_core::Result<()> {
        // f16 takes the non-fused branch on the CPU too (candle-nn's CPU
        // kernel has no f64); detached tensors (a forecast) take candle-nn's
        // one-kernel layer norm
        let f64 = |v: candle_core::Var| {
            let t = v.as_tensor().to_dtype(candle_core::DType::F16)?.detach();
            assert!(!t.track_op());
            Ok::<_, candle_core::Error>(t)
        };
        let x = f64(randn(&[5, 30, 64], 1.0, 15)?)?;
        let w = f64(randn(&[64], 1.0, 16)?)?;
        let b = f64(randn(&[64], 1.0, 17)?)?;
        let f32 = |t: candle_core::Tensor| t.to_dtype(candle_core::DType::F32);
        let fast = f32(super::layer_norm(&x, &w, &b, 1e-5)?)?;
        let slow = f32(super::reference(&x, &w, &b, 1e-5)?)?;
        // half precision: the composite rounds each of its steps
        assert!(max_diff(&fast, &slow)? < 2e-2);
        Ok(())
    }

    #[test]
    fn values_and_gradients_match_the_composite_layer_norm() -> candle_core::Result<()> {
        let x = randn(&[5, 30, 64], 3.0, 5)?;
        // a large offset: the kernel's two-pass variance must not lose it
        let x = candle_core::Var::from_tensor(&(x.as_tensor() + 100.0)?)?;
        let w = randn(&[64], 1.0, 6)?;
        let b = randn(&[64], 1.0, 7)?;
        let f = || super::layer_norm(&x, &w, &b, 1e-5);
        let (y, g) = grads_of(&[&x, &w, &b], f, 8)?;
        let r = || super::reference(&x, &w, &b, 1e-5);
        let (y_ref, g_ref) = grads_of(&[&x, &w, &b], r, 8)?;
        assert!(max_diff(&y, &y_ref)? < 1e-4);
        for (got, want) in g.iter().zip(&g_ref) {
            let scale = want.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
            assert!(max_diff(got, want)? < 1e-4 * scale.max(1.0));
        }
        Ok(())
    }
}
