//! Fused CPU kernels with their own backward pass for the chains of small
//! element-wise ops that dominated a training step (BENCHMARKS.md, "Fused
//! kernels"): each is one pass over memory where candle's composite version
//! allocated and walked a tensor per op, forward and backward.
//!
//! Every op has a composite `reference` written with candle's differentiable
//! ops: it is what runs on other devices and dtypes (CUDA), and what the
//! tests hold the kernels to, values and gradients.

pub mod b_spline;
pub mod bias;
pub mod gelu;
pub mod layer_norm;
pub mod softmax;

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, DType, Layout, Result, Tensor};

/// Whether the fused CPU kernels apply to these tensors: f32 on the CPU.
pub(crate) fn fusable(xs: &[&Tensor]) -> bool {
    xs.iter()
        .all(|t| t.device().is_cpu() && t.dtype() == DType::F32)
}

/// The f32 values of a contiguous CPU tensor (the wrappers make inputs
/// contiguous before calling a kernel).
pub(crate) fn values<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = storage else {
        bail!("fused kernels take f32, got {:?}", storage.dtype())
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&v[start..end]),
        None => bail!("fused kernels take contiguous tensors"),
    }
}

/// Length of the last dimension: the row every per-row kernel walks.
pub(crate) fn row_width(l: &Layout) -> usize {
    l.dims().last().copied().unwrap_or(1).max(1)
}

/// `tanh` as a rational function (the minimax approximation Eigen uses for
/// float), accurate to a few ulp and free of branches, so the loops around it
/// vectorise; `f32::tanh` was a fifth of a transformer step through GELU.
#[inline]
pub(crate) fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = -2.760_768_5e-16_f32;
    p = p * x2 + 2.000_188e-13;
    p = p * x2 - 8.604_672e-11;
    p = p * x2 + 5.122_297e-8;
    p = p * x2 + 1.485_722_4e-5;
    p = p * x2 + 6.372_619_3e-4;
    p = p * x2 + 4.893_524_6e-3;
    let p = p * x;
    let mut q = 1.198_258_4e-6_f32;
    q = q * x2 + 1.185_347e-4;
    q = q * x2 + 2.268_434_6e-3;
    q = q * x2 + 4.893_525e-3;
    p / q
}

#[cfg(test)]
pub(crate) mod testing {
    use candle_core::{Device, Result, Tensor, Var};

    /// A variable of standard-normal values scaled by `scale`.
    pub fn randn(shape: &[usize], scale: f64, seed: u64) -> Result<Var> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        // Box-Muller from the seeded generator: the same values on every run
        let v: Vec<f32> = (0..n)
            .map(|_| {
                let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * scale) as f32
            })
            .collect();
        Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu)?)
    }

    /// Largest absolute difference between two tensors of one shape.
    pub fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        assert_eq!(a.dims(), b.dims());
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    }

    /// Gradients of `sum(f(x) * w)` for a fixed random `w`: every output
    /// element gets its own weight, so a wrong term cannot cancel out.
    pub fn grads_of(
        vars: &[&Var],
        f: impl Fn() -> Result<Tensor>,
        seed: u64,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let y = f()?;
        let w = randn(y.dims(), 1.0, seed)?;
        let loss = (&y * w.as_tensor())?.sum_all()?;
        let grads = loss.backward()?;
        let gs = vars
            .iter()
            .map(|v| grads.get(v.as_tensor()).expect("a gradient").clone())
            .collect();
        Ok((y, gs))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rational_tanh_matches_the_library_tanh() {
        let mut worst = 0f32;
        for i in -20_000..=20_000 {
            let x = i as f32 * 1e-3;
            worst = worst.max((super::tanh(x) - x.tanh()).abs());
        }
        assert!(worst < 5e-7, "worst error {worst}");
        assert_eq!(super::tanh(0.0), 0.0);
        assert!((super::tanh(50.0) - 1.0).abs() < 1e-7);
        assert!((super::tanh(-50.0) + 1.0).abs() < 1e-7);
    }
}
