//! Adding a bias vector to every row. As a broadcast add, its backward sums
//! the gradient over every row through candle's generic strided reduction,
//! which was the largest single cost of a step's backward pass; here the
//! input's gradient is the incoming one unchanged and the bias's is one pass
//! of column sums.

use super::{fusable, row_width, values};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

/// `x + bias` with `bias` (`[n]`) added to every row of `x` (`[.., n]`).
pub fn add_bias(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    if fusable(&[x, bias]) {
        x.contiguous()?.apply_op2(&bias.contiguous()?, AddBias)
    } else {
        reference(x, bias)
    }
}

/// The broadcast add, for other devices and as the tests' oracle.
pub fn reference(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    x.broadcast_add(bias)
}

struct AddBias;

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "fused-add-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (values(s1, l1)?, values(s2, l2)?);
        let n = b.len();
        if l1.dims().last() != Some(&n) {
            candle_core::bail!(
                "a bias of {n} values added to rows of shape {:?}",
                l1.dims()
            );
        }
        let mut y = Vec::with_capacity(x.len());
        for row in x.chunks_exact(n) {
            y.extend(row.iter().zip(b).map(|(v, b)| v + b));
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _bias: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let db = grad.contiguous()?.apply_op1_no_bwd(&ColumnSums)?;
        Ok((Some(grad.clone()), Some(db)))
    }
}

/// Sums of `[.., n]` over every row, `[n]`.
struct ColumnSums;

impl CustomOp1 for ColumnSums {
    fn name(&self) -> &'static str {
        "fused-column-sums"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let g = values(s, l)?;
        let n = row_width(l);
        let mut sums = vec![0f32; n];
        for row in g.chunks_exact(n) {
            sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
        Ok((CpuStorage::F32(sums), Shape::from(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{grads_of, max_diff, randn};

    #[test]
    fn values_and_gradients_match_the_broadcast_add() -> candle_core::Result<()> {
        let x = randn(&[4, 30, 48], 1.0, 11)?;
        let b = randn(&[48], 1.0, 12)?;
        let (y, g) = grads_of(&[&x, &b], || super::add_bias(&x, &b), 13)?;
        let (y_ref, g_ref) = grads_of(&[&x, &b], || super::reference(&x, &b), 13)?;
        assert_eq!(max_diff(&y, &y_ref)?, 0.0);
        assert_eq!(max_diff(&g[0], &g_ref[0])?, 0.0);
        assert!(max_diff(&g[1], &g_ref[1])? < 1e-4);
        Ok(())
    }
}
