//! The one way the models multiply matrices. candle's CPU matmul takes any
//! strides; its CUDA matmul (cuBLAS strided-batched gemm) takes an operand
//! only when its last two dimensions are contiguous or transposed-contiguous
//! and its batch dimensions step evenly. A narrowed or indexed view (the
//! transformer's last position, the known-future block) is neither, so
//! [`matmul`] and [`linear`] copy such an operand to a contiguous tensor on
//! every device but the CPU, where the copy would only cost time.
//!
//! **Strict mode** (tests): on the CPU, treat every matmul as CUDA would —
//! normalise operands as on a GPU, reject what cuBLAS would still reject,
//! and record each operand that needed a copy — so CI, which has no GPU,
//! catches this class of bug. It is per thread: a test turns it on for the
//! forward and backward it runs without touching other tests.

use candle_core::{Layout, Result, Tensor};
use std::cell::{Cell, RefCell};

thread_local! {
    static STRICT: Cell<bool> = const { Cell::new(false) };
    static COPIED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Turns strict mode on for this thread until the guard drops.
pub fn strict() -> StrictGuard {
    STRICT.with(|s| s.set(true));
    COPIED.with(|c| c.borrow_mut().clear());
    StrictGuard(())
}

/// Strict mode's guard; [`StrictGuard::copied`] lists the operands that a
/// GPU could not have taken as they came (`"lhs [256, 64] stride [1920, 1]"`).
pub struct StrictGuard(());

impl StrictGuard {
    pub fn copied(&self) -> Vec<String> {
        COPIED.with(|c| c.borrow().clone())
    }
}

impl Drop for StrictGuard {
    fn drop(&mut self) {
        STRICT.with(|s| s.set(false));
    }
}

fn strict_mode() -> bool {
    STRICT.with(|s| s.get())
}

/// `a @ b` over the last two dimensions (same batch dimensions), as
/// `Tensor::matmul`.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.device().is_cpu() && !strict_mode() {
        return a.matmul(b);
    }
    let a = ready(a, Side::Lhs, b)?;
    let b = ready(b, Side::Rhs, &a)?;
    check(&a, &b)?;
    a.matmul(&b)
}

/// `x Wᵀ` for `x`: `[.., in]` and `weight`: `[out, in]`, as candle-nn's
/// `Linear` without its bias (whose weight operand, `Wᵀ` or its batch
/// broadcast, every backend takes).
pub fn linear(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let layer = candle_nn::Linear::new(weight.clone(), None);
    if x.device().is_cpu() && !strict_mode() {
        return candle_nn::Module::forward(&layer, x);
    }
    let wt = weight.t()?;
    let x = ready(x, Side::Lhs, &wt)?;
    check(&x, &wt)?;
    candle_nn::Module::forward(&layer, &x)
}

/// The side of a matmul an operand is on.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Side {
    Lhs,
    Rhs,
}

/// `t` itself when a GPU matmul takes it as that side, else a contiguous copy.
fn ready(t: &Tensor, side: Side, other: &Tensor) -> Result<Tensor> {
    let (m, n, k) = match side {
        Side::Lhs => mnk(t, other)?,
        Side::Rhs => mnk(other, t)?,
    };
    if operand_ok(t.layout(), side, m, n, k) {
        return Ok(t.clone());
    }
    if strict_mode() {
        let l = t.layout();
        let note = format!(
            "{} {:?} stride {:?}",
            if side == Side::Lhs { "lhs" } else { "rhs" },
            l.dims(),
            l.stride()
        );
        COPIED.with(|c| c.borrow_mut().push(note));
    }
    t.contiguous()
}

fn mnk(lhs: &Tensor, rhs: &Tensor) -> Result<(usize, usize, usize)> {
    let (l, r) = (lhs.dims(), rhs.dims());
    if l.len() < 2 || r.len() < 2 {
        candle_core::bail!("matmul needs two dimensions or more, got {l:?} and {r:?}");
    }
    Ok((l[l.len() - 2], r[r.len() - 1], l[l.len() - 1]))
}

/// The error cuBLAS's set-up would give for these operands, before a GPU
/// (or strict mode) gets them.
fn check(a: &Tensor, b: &Tensor) -> Result<()> {
    let (m, n, k) = mnk(a, b)?;
    if operand_ok(a.layout(), Side::Lhs, m, n, k) && operand_ok(b.layout(), Side::Rhs, m, n, k) {
        return Ok(());
    }
    candle_core::bail!(
        "matmul operands a GPU would refuse: lhs {:?} stride {:?}, rhs {:?} stride {:?}",
        a.dims(),
        a.stride(),
        b.dims(),
        b.stride()
    )
}

/// Whether candle's CUDA gemm set-up (`cuda_backend::gemm_config`, candle
/// 0.11) accepts this operand: its last two dimensions plain or transposed
/// (a dimension of one may have any stride), and batch dimensions that step
/// evenly (or a batch of one, or a broadcast of stride 0).
pub fn operand_ok(l: &Layout, side: Side, m: usize, n: usize, k: usize) -> bool {
    let s = l.stride();
    let d = l.dims();
    let (s1, s2) = (s[s.len() - 1], s[s.len() - 2]);
    // rows x cols of this operand: lhs is m x k, rhs is k x n
    let (rows, cols) = match side {
        Side::Lhs => (m, k),
        Side::Rhs => (k, n),
    };
    let plain = (s1 == 1 || cols == 1) && (s2 == cols || rows == 1);
    let transposed = (s1 == rows || cols == 1) && (s2 == 1 || rows == 1);
    let batch_ok = match (&s[..s.len() - 2], &d[..d.len() - 2]) {
        ([a, b], [_, d1]) => *a == b * d1 || d[0] == 1 || *d1 == 1,
        ([_, _], _) => false,
        ([_] | [], _) => true,
        _ => false,
    };
    (plain || transposed) && batch_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, IndexOp};

    fn zeros(shape: &[usize]) -> Tensor {
        Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap()
    }

    #[test]
    fn the_layouts_cuda_refused_on_the_h200_are_refused_here() {
        // the transformer's head on the last position: [256, 64] of [256, 30, 64]
        let h = zeros(&[256, 30, 64]).i((.., 29, ..)).unwrap();
        assert_eq!(h.stride(), &[1920, 1]);
        let w = zeros(&[7, 64]).t().unwrap();
        assert!(!operand_ok(h.layout(), Side::Lhs, 256, 7, 64));
        assert!(operand_ok(w.layout(), Side::Rhs, 256, 7, 64));
        // the known-future layer on its narrowed block: [64, 7, 2] of [64, 7, 3]
        let block = zeros(&[64, 7, 3]).narrow(2, 0, 2).unwrap();
        assert_eq!(block.stride(), &[21, 3, 1]);
        assert!(!operand_ok(block.layout(), Side::Lhs, 7, 1, 2));
        let wb = zeros(&[1, 2]).broadcast_left(64).unwrap().t().unwrap();
        assert_eq!(wb.stride(), &[0, 1, 2]);
        assert!(operand_ok(wb.layout(), Side::Rhs, 7, 1, 2));
        // plain, transposed and single-row operands are taken as they are
        let c = zeros(&[4, 5, 6]);
        assert!(operand_ok(c.layout(), Side::Lhs, 5, 3, 6));
        let t = zeros(&[4, 6, 5]).transpose(1, 2).unwrap();
        assert!(operand_ok(t.layout(), Side::Lhs, 5, 3, 6));
    }

    #[test]
    fn strict_mode_copies_what_a_gpu_would_refuse_and_keeps_the_values() {
        let x = Tensor::arange(0f32, 24.0, &Device::Cpu)
            .unwrap()
            .reshape((2, 4, 3))
            .unwrap()
            .narrow(2, 0, 2)
            .unwrap();
        let w = Tensor::new(&[[1f32, 2.0]], &Device::Cpu).unwrap();
        let plain = linear(&x, &w).unwrap().to_vec3::<f32>().unwrap();
        let guard = strict();
        let strict_out = linear(&x, &w).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(plain, strict_out);
        assert_eq!(guard.copied(), vec!["lhs [2, 4, 2] stride [12, 3, 1]"]);
        drop(guard);
        assert!(!strict_mode());
    }
}
