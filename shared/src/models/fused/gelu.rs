//! GELU, tanh approximation (candle's `Tensor::gelu`): `0.5 x (1 + tanh u)`,
//! `u = √(2/π) (x + 0.044715 x³)`. candle's backward builds the derivative
//! from nine tensor ops with two `powf`; this one recomputes `tanh u` in the
//! same pass that applies the chain rule.

use super::{fusable, values};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const CUBIC: f32 = 0.044_715;

/// GELU of every element.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if fusable(&[x]) {
        x.contiguous()?.apply_op1(Gelu)
    } else {
        reference(x)
    }
}

/// candle's own op, for other devices and as the tests' oracle.
pub fn reference(x: &Tensor) -> Result<Tensor> {
    x.gelu()
}

#[inline]
fn inner(x: f32) -> f32 {
    SQRT_2_OVER_PI * x * (1.0 + CUBIC * x * x)
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "fused-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = values(s, l)?;
        let y = x
            .iter()
            .map(|&v| 0.5 * v * (1.0 + super::tanh(inner(v))))
            .collect();
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&grad.contiguous()?, &GeluGrad)?))
    }
}

/// `grad · d gelu / dx` at `x`.
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "fused-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, g) = (values(s1, l1)?, values(s2, l2)?);
        let dx = x
            .iter()
            .zip(g)
            .map(|(&v, &g)| {
                let t = super::tanh(inner(v));
                let du = SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * v * v);
                g * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du)
            })
            .collect();
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{grads_of, max_diff, randn};

    #[test]
    fn values_and_gradients_match_candles_gelu() -> candle_core::Result<()> {
        let x = randn(&[4, 30, 128], 2.0, 1)?;
        let (y, g) = grads_of(&[&x], || super::gelu(&x), 2)?;
        let (y_ref, g_ref) = grads_of(&[&x], || super::reference(&x), 2)?;
        assert!(max_diff(&y, &y_ref)? < 1e-5);
        let d = max_diff(&g[0], &g_ref[0])?;
        // candle's backward rounds its constants to six digits
        assert!(d < 5e-5, "{d}");
        Ok(())
    }
}
