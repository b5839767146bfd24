//! AdamW (decoupled weight decay, Loshchilov & Hutter) with its state open to
//! checkpoints: candle-nn's AdamW keeps its moments private, and `--resume`
//! must continue with exactly the moments it stopped with. On the CPU each
//! parameter's step is three in-place passes (first moment, second moment,
//! weights) instead of a dozen tensor ops that each allocate.

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, InplaceOp2, InplaceOp3, Layout, Result, Tensor, Var};
use std::collections::HashMap;

pub struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    pub step: u64,
    pub lr: f64,
    pub weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl AdamW {
    pub fn new(vars: Vec<(String, Var)>, lr: f64, weight_decay: f64) -> Result<AdamW> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let m = vars.iter().map(|(_, v)| zeros(v)).collect::<Result<_>>()?;
        let v = vars.iter().map(|(_, v)| zeros(v)).collect::<Result<_>>()?;
        Ok(AdamW {
            vars,
            m,
            v,
            step: 0,
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        })
    }

    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.apply(&[grads])
    }

    /// One step on the sum of the gradients in `stores` (one per micro-batch).
    pub fn apply(&mut self, stores: &[GradStore]) -> Result<()> {
        self.step += 1;
        for i in 0..self.vars.len() {
            let var = self.vars[i].1.as_tensor();
            let mut sum: Option<Tensor> = None;
            for g in stores.iter().filter_map(|s| s.get(var)) {
                sum = Some(match sum {
                    Some(total) => (total + g)?,
                    None => g.clone(),
                });
            }
            let Some(g) = &sum else {
                continue;
            };
            if var.device().is_cpu() && var.dtype() == DType::F32 {
                self.update_in_place(i, g)?;
            } else {
                self.update_with_tensor_ops(i, g)?;
            }
        }
        Ok(())
    }

    /// Bias corrections `1 − β₁ᵗ`, `1 − β₂ᵗ` of the current step.
    fn corrections(&self) -> (f64, f64) {
        let t = self.step as i32;
        (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t))
    }

    fn update_in_place(&mut self, i: usize, g: &Tensor) -> Result<()> {
        let (c1, c2) = self.corrections();
        let g = g.contiguous()?;
        self.m[i].inplace_op2(&g, &Moment::first(self.beta1))?;
        self.v[i].inplace_op2(&g, &Moment::second(self.beta2))?;
        let update = Update {
            lr: self.lr as f32,
            decay: (1.0 - self.lr * self.weight_decay) as f32,
            c1: c1 as f32,
            c2: c2 as f32,
            eps: self.eps as f32,
        };
        self.vars[i]
            .1
            .as_tensor()
            .inplace_op3(&self.m[i], &self.v[i], &update)
    }

    /// The same step in tensor ops, for devices without the in-place kernels.
    fn update_with_tensor_ops(&mut self, i: usize, g: &Tensor) -> Result<()> {
        let (c1, c2) = self.corrections();
        let var = &self.vars[i].1;
        let m = ((&self.m[i] * self.beta1)? + (g * (1.0 - self.beta1))?)?;
        let v = ((&self.v[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
        let update = ((&m / c1)? / ((&v / c2)?.sqrt()? + self.eps)?)?;
        let decayed = (var.as_tensor() * (1.0 - self.lr * self.weight_decay))?;
        var.set(&(decayed - (update * self.lr)?)?)?;
        self.m[i] = m;
        self.v[i] = v;
        Ok(())
    }

    /// Moments as named tensors for a checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(self.vars.len() * 2);
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.push((format!("{OPT_M}{name}"), self.m[i].clone()));
            out.push((format!("{OPT_V}{name}"), self.v[i].clone()));
        }
        out
    }

    /// Restores moments saved by [`AdamW::state`].
    pub fn load_state(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        step: u64,
    ) -> anyhow::Result<()> {
        for (i, (name, var)) in self.vars.iter().enumerate() {
            for (key, slot) in [(OPT_M, &mut self.m[i]), (OPT_V, &mut self.v[i])] {
                let t = tensors.get(&format!("{key}{name}")).ok_or_else(|| {
                    anyhow::anyhow!("checkpoint lacks optimiser state {key}{name}")
                })?;
                // a copy: the moments are updated in place
                *slot = t.to_device(var.device())?.copy()?;
            }
        }
        self.step = step;
        Ok(())
    }
}

/// `m ← β m + (1 − β) g` (first moment) or `v ← β v + (1 − β) g²` (second).
struct Moment {
    beta: f32,
    /// `1 − β` rounded from f64: `1 − 0.999` in f32 is off by 5e-5 relative.
    rest: f32,
    square: bool,
}

impl Moment {
    fn first(beta: f64) -> Moment {
        Moment {
            beta: beta as f32,
            rest: (1.0 - beta) as f32,
            square: false,
        }
    }
    fn second(beta: f64) -> Moment {
        Moment {
            beta: beta as f32,
            rest: (1.0 - beta) as f32,
            square: true,
        }
    }
}

impl InplaceOp2 for Moment {
    fn name(&self) -> &'static str {
        "adamw-moment"
    }

    fn cpu_fwd(&self, m: &mut CpuStorage, lm: &Layout, g: &CpuStorage, lg: &Layout) -> Result<()> {
        let (m, g) = (values_mut(m, lm)?, values(g, lg)?);
        let (beta, rest) = (self.beta, self.rest);
        if self.square {
            m.iter_mut()
                .zip(g)
                .for_each(|(m, g)| *m = *m * beta + g * g * rest);
        } else {
            m.iter_mut()
                .zip(g)
                .for_each(|(m, g)| *m = *m * beta + g * rest);
        }
        Ok(())
    }
}

/// `w ← w (1 − lr·wd) − lr · (m / c1) / (√(v / c2) + eps)`.
struct Update {
    lr: f32,
    decay: f32,
    c1: f32,
    c2: f32,
    eps: f32,
}

impl InplaceOp3 for Update {
    fn name(&self) -> &'static str {
        "adamw-update"
    }

    fn cpu_fwd(
        &self,
        w: &mut CpuStorage,
        lw: &Layout,
        m: &CpuStorage,
        lm: &Layout,
        v: &CpuStorage,
        lv: &Layout,
    ) -> Result<()> {
        let (w, m, v) = (values_mut(w, lw)?, values(m, lm)?, values(v, lv)?);
        for ((w, m), v) in w.iter_mut().zip(m).zip(v) {
            let update = (m / self.c1) / ((v / self.c2).sqrt() + self.eps);
            *w = *w * self.decay - update * self.lr;
        }
        Ok(())
    }
}

/// The f32 values of a contiguous CPU tensor (parameters, moments and
/// contiguous gradients all are).
fn values<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("the optimiser takes contiguous f32 tensors"),
    }
}

fn values_mut<'a>(s: &'a mut CpuStorage, l: &Layout) -> Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => candle_core::bail!("the optimiser takes contiguous f32 tensors"),
    }
}

/// Name prefixes of optimiser moments inside an epoch checkpoint.
pub const OPT_M: &str = "optimizer.m.";
pub const OPT_V: &str = "optimizer.v.";

#[cfg(test)]
mod tests {
    use super::AdamW;
    use candle_core::{Device, Tensor, Var};

    /// Three steps of both implementations from the same start.
    fn after_three_steps(in_place: bool) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
        let w = Var::from_tensor(&Tensor::new(&[[0.5f32, -1.5], [2.0, 0.25]], &Device::Cpu)?)?;
        let mut opt = AdamW::new(vec![("w".into(), w.clone())], 0.1, 0.01)?;
        for step in 0..3 {
            let x = Tensor::new(&[[1f32, step as f32], [-2.0, 0.5]], &Device::Cpu)?;
            let loss = w.as_tensor().mul(&x)?.sqr()?.sum_all()?;
            let grads = loss.backward()?;
            let g = grads.get(w.as_tensor()).unwrap().t()?; // a strided gradient
            let g = g.t()?;
            opt.step += 1;
            if in_place {
                opt.update_in_place(0, &g)?;
            } else {
                opt.update_with_tensor_ops(0, &g)?;
            }
        }
        let m = opt.m[0].flatten_all()?.to_vec1::<f32>()?;
        Ok((w.as_tensor().flatten_all()?.to_vec1::<f32>()?, m))
    }

    #[test]
    fn in_place_steps_equal_the_tensor_op_steps() -> candle_core::Result<()> {
        let (w_fast, m_fast) = after_three_steps(true)?;
        let (w_ref, m_ref) = after_three_steps(false)?;
        for (a, b) in w_fast.iter().zip(&w_ref).chain(m_fast.iter().zip(&m_ref)) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        // the weights moved: a step that did nothing would also agree
        assert!((w_ref[0] - 0.5).abs() > 0.1);
        Ok(())
    }
}
