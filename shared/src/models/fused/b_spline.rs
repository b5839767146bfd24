//! B-spline bases (Cox–de Boor) of every input value, the KAN layer's spline
//! branch. The composite version is about thirty broadcast tensor ops on
//! `[batch, inputs, bases]` per call and as many backward; this kernel runs
//! the recursion per value in registers, and its backward carries the
//! derivative through the same recursion (forward mode), so it equals what
//! autodiff of the composite version gives.

use super::{fusable, values};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, D};

/// Bases of order `order` for every value of `x` (`[.., n]`), giving
/// `[.., n, knots.len() - order - 1]`; zero outside the knots.
pub fn b_spline_bases(x: &Tensor, knots: &[f64], order: usize) -> Result<Tensor> {
    if knots.len() < order + 2 {
        candle_core::bail!("{} knots are too few for order {order}", knots.len());
    }
    if fusable(&[x]) {
        let op = Bases {
            knots: knots.iter().map(|&k| k as f32).collect(),
            order,
        };
        x.contiguous()?.apply_op1(op)
    } else {
        reference(x, knots, order)
    }
}

/// The composite version, for other devices and as the tests' oracle.
pub fn reference(x: &Tensor, knots: &[f64], order: usize) -> Result<Tensor> {
    let dev = x.device();
    let g: Vec<f32> = knots.iter().map(|v| *v as f32).collect();
    let g = Tensor::from_vec(g, knots.len(), dev)?.to_dtype(x.dtype())?;
    let nk = knots.len();
    let x = x.unsqueeze(D::Minus1)?;
    // order 0: indicator of [g_j, g_{j+1})
    let lo = g.narrow(0, 0, nk - 1)?;
    let hi = g.narrow(0, 1, nk - 1)?;
    let mut bases =
        (x.broadcast_ge(&lo)?.to_dtype(x.dtype())? * x.broadcast_lt(&hi)?.to_dtype(x.dtype())?)?;
    for k in 1..=order {
        let cnt = nk - 1 - k;
        let g_j = g.narrow(0, 0, cnt)?;
        let g_jk = g.narrow(0, k, cnt)?;
        let g_j1 = g.narrow(0, 1, cnt)?;
        let g_jk1 = g.narrow(0, k + 1, cnt)?;
        let left = x
            .broadcast_sub(&g_j)?
            .broadcast_div(&(&g_jk - &g_j)?)?
            .mul(&bases.narrow(D::Minus1, 0, cnt)?)?;
        let right = x
            .broadcast_sub(&g_jk1)?
            .neg()?
            .broadcast_div(&(&g_jk1 - &g_j1)?)?
            .mul(&bases.narrow(D::Minus1, 1, cnt)?)?;
        bases = (left + right)?;
    }
    Ok(bases)
}

/// Runs the recursion for one value: `b` ends with the bases and `db` with
/// their derivatives in their first `knots.len() - order - 1` slots.
#[inline]
fn recurse(x: f32, g: &[f32], order: usize, b: &mut [f32], db: &mut [f32]) {
    let nk = g.len();
    for j in 0..nk - 1 {
        b[j] = if x >= g[j] && x < g[j + 1] { 1.0 } else { 0.0 };
        db[j] = 0.0;
    }
    for k in 1..=order {
        for j in 0..nk - 1 - k {
            let (l_den, r_den) = (g[j + k] - g[j], g[j + k + 1] - g[j + 1]);
            let (l, r) = ((x - g[j]) / l_den, -(x - g[j + k + 1]) / r_den);
            db[j] = b[j] / l_den + l * db[j] - b[j + 1] / r_den + r * db[j + 1];
            b[j] = l * b[j] + r * b[j + 1];
        }
    }
}

struct Bases {
    knots: Vec<f32>,
    order: usize,
}

impl Bases {
    fn count(&self) -> usize {
        self.knots.len() - self.order - 1
    }
}

impl CustomOp1 for Bases {
    fn name(&self) -> &'static str {
        "fused-b-spline-bases"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = values(s, l)?;
        let nb = self.count();
        let mut out = vec![0f32; x.len() * nb];
        let (mut b, mut db) = (vec![0f32; self.knots.len()], vec![0f32; self.knots.len()]);
        for (&v, o) in x.iter().zip(out.chunks_exact_mut(nb)) {
            recurse(v, &self.knots, self.order, &mut b, &mut db);
            o.copy_from_slice(&b[..nb]);
        }
        let mut dims = l.dims().to_vec();
        dims.push(nb);
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let op = BasesGrad {
            knots: self.knots.clone(),
            order: self.order,
        };
        Ok(Some(x.apply_op2_no_bwd(&grad.contiguous()?, &op)?))
    }
}

/// `dx = Σ_j grad_j · dB_j/dx` for every value.
struct BasesGrad {
    knots: Vec<f32>,
    order: usize,
}

impl CustomOp2 for BasesGrad {
    fn name(&self) -> &'static str {
        "fused-b-spline-bases-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, g) = (values(s1, l1)?, values(s2, l2)?);
        let nb = self.knots.len() - self.order - 1;
        let (mut b, mut db) = (vec![0f32; self.knots.len()], vec![0f32; self.knots.len()]);
        let dx = x
            .iter()
            .zip(g.chunks_exact(nb))
            .map(|(&v, gr)| {
                recurse(v, &self.knots, self.order, &mut b, &mut db);
                gr.iter().zip(&db[..nb]).map(|(a, d)| a * d).sum()
            })
            .collect();
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{grads_of, max_diff, randn};
    use crate::models::KanConfig;

    #[test]
    fn values_and_gradients_match_the_composite_recursion() -> candle_core::Result<()> {
        let knots = KanConfig::new(10, 30, 7).knots();
        // spread past the grid's ends, where every basis is zero
        let x = randn(&[6, 300], 2.5, 9)?;
        let (y, g) = grads_of(&[&x], || super::b_spline_bases(&x, &knots, 3), 10)?;
        let (y_ref, g_ref) = grads_of(&[&x], || super::reference(&x, &knots, 3), 10)?;
        assert_eq!(y.dims(), &[6, 300, 8]);
        assert!(max_diff(&y, &y_ref)? < 1e-6);
        assert!(max_diff(&g[0], &g_ref[0])? < 1e-5);
        Ok(())
    }

    #[test]
    fn bases_inside_the_grid_sum_to_one() -> candle_core::Result<()> {
        let knots = KanConfig::new(1, 1, 1).knots();
        let x = candle_core::Tensor::new(
            &[[-2.9f32, -0.1, 0.0, 1.7, 2.99]],
            &candle_core::Device::Cpu,
        )?;
        let sums = super::b_spline_bases(&x, &knots, 3)?
            .sum(2)?
            .to_vec2::<f32>()?;
        for s in &sums[0] {
            assert!((s - 1.0).abs() < 1e-6, "{s}");
        }
        Ok(())
    }
}
