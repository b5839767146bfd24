//! Softmax over the last dimension. candle-nn's differentiable `softmax` is
//! five tensor ops forward (max, subtract, exp, sum, divide) and more
//! backward; this is one pass per row each way, the backward
//! `dx = y ⊙ (g − Σ g ⊙ y)` reading the saved output.

use super::{fusable, row_width, values};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, D};

/// Softmax over the last dimension.
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    if fusable(&[x]) {
        x.contiguous()?.apply_op1(Softmax)
    } else if !x.track_op() {
        // a forecast on another device: candle-nn's one-kernel softmax,
        // which has no backward pass, so training keeps the composite
        candle_nn::ops::softmax_last_dim(&x.contiguous()?)
    } else {
        reference(x)
    }
}

/// candle-nn's composite softmax, for other devices and as the tests' oracle.
pub fn reference(x: &Tensor) -> Result<Tensor> {
    candle_nn::ops::softmax(x, D::Minus1)
}

struct Softmax;

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "fused-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = values(s, l)?;
        let n = row_width(l);
        let mut y = vec![0f32; x.len()];
        for (xr, yr) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)) {
            let max = xr.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0f32;
            for (o, &v) in yr.iter_mut().zip(xr) {
                *o = (v - max).exp();
                sum += *o;
            }
            let inv = 1.0 / sum;
            yr.iter_mut().for_each(|o| *o *= inv);
        }
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, y: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(y.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxGrad)?))
    }
}

struct SoftmaxGrad;

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "fused-softmax-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (y, g) = (values(s1, l1)?, values(s2, l2)?);
        let n = row_width(l1);
        let mut dx = vec![0f32; y.len()];
        for ((yr, gr), dr) in y
            .chunks_exact(n)
            .zip(g.chunks_exact(n))
            .zip(dx.chunks_exact_mut(n))
        {
            let dot: f32 = yr.iter().zip(gr).map(|(a, b)| a * b).sum();
            for ((d, &yv), &gv) in dr.iter_mut().zip(yr).zip(gr) {
                *d = yv * (gv - dot);
            }
        }
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{grads_of, max_diff, randn};

    #[test]
    fn values_and_gradients_match_the_composite_softmax() -> candle_core::Result<()> {
        let x = randn(&[3, 4, 30, 30], 3.0, 3)?;
        let (y, g) = grads_of(&[&x], || super::softmax_last_dim(&x), 4)?;
        let (y_ref, g_ref) = grads_of(&[&x], || super::reference(&x), 4)?;
        assert!(max_diff(&y, &y_ref)? < 1e-6);
        assert!(max_diff(&g[0], &g_ref[0])? < 1e-5);
        Ok(())
    }

    #[test]
    fn the_graph_free_kernel_for_other_devices_matches_the_composite() -> candle_core::Result<()> {
        // f64 takes the non-fused branch on the CPU too; a detached input
        // (a forecast) takes candle-nn's one-kernel softmax
        let x = randn(&[3, 30, 30], 3.0, 5)?
            .as_tensor()
            .to_dtype(candle_core::DType::F64)?
            .detach();
        assert!(!x.track_op());
        let f32 = |t: candle_core::Tensor| t.to_dtype(candle_core::DType::F32);
        let fast = f32(super::softmax_last_dim(&x)?)?;
        assert!(max_diff(&fast, &f32(super::reference(&x)?)?)? < 1e-6);
        Ok(())
    }

    #[test]
    fn a_masked_position_gets_nothing() -> candle_core::Result<()> {
        let x =
            candle_core::Tensor::new(&[[0f32, f32::NEG_INFINITY, 0.0]], &candle_core::Device::Cpu)?;
        let y = super::softmax_last_dim(&x)?.to_vec2::<f32>()?;
        assert_eq!(y, vec![vec![0.5, 0.0, 0.5]]);
        Ok(())
    }
}
