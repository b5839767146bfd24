//! A VarBuilder backend that creates trainable variables from a seeded
//! generator, one stream per variable name, so initial weights depend only on
//! `--seed` (candle's CPU generator cannot be seeded, and a HashMap-backed
//! VarMap has no stable order).

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Mixes a seed with a name (FNV-1a), giving each variable its own stream.
pub fn stream_seed(seed: u64, name: &str) -> u64 {
    let mut h = 0xcbf29ce484222325u64 ^ seed;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn init_values(shape: &Shape, init: Init, seed: u64) -> Vec<f32> {
    let n = shape.elem_count();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| -> Vec<f32> {
        let d = Normal::new(mean, std.max(1e-12)).unwrap_or_else(|_| unreachable!("std > 0"));
        (0..n).map(|_| d.sample(rng) as f32).collect()
    };
    match init {
        Init::Const(v) => vec![v as f32; n],
        Init::Randn { mean, stdev } => normal(&mut rng, mean, stdev),
        Init::Uniform { lo, up } => (0..n).map(|_| rng.random_range(lo..=up) as f32).collect(),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let fan = match fan {
                FanInOut::FanIn | FanInOut::FanOut => fan.for_shape(shape).max(1),
            };
            let std = non_linearity.gain() / (fan as f64).sqrt();
            match dist {
                NormalOrUniform::Normal => normal(&mut rng, 0.0, std),
                NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    (0..n)
                        .map(|_| rng.random_range(-bound..=bound) as f32)
                        .collect()
                }
            }
        }
    }
}

struct SeededVars {
    varmap: VarMap,
    seed: u64,
}

impl SimpleBackend for SeededVars {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut vars = self
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
        if let Some(v) = vars.get(name) {
            if v.shape() != &s {
                candle_core::bail!(
                    "variable {name} reused with shape {:?} and {:?}",
                    v.dims(),
                    s.dims()
                );
            }
            return Ok(v.as_tensor().clone());
        }
        let values = init_values(&s, h, stream_seed(self.seed, name));
        let var = Var::from_tensor(&Tensor::from_vec(values, s, dev)?.to_dtype(dtype)?)?;
        vars.insert(name.to_string(), var.clone());
        Ok(var.as_tensor().clone())
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> Result<Tensor> {
        let vars = self
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
        vars.get(name)
            .map(|v| v.as_tensor().clone())
            .ok_or_else(|| candle_core::Error::Msg(format!("no variable {name}")))
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap
            .data()
            .lock()
            .map(|v| v.contains_key(name))
            .unwrap_or(false)
    }
}

/// A VarBuilder creating seeded variables in `varmap`.
pub fn seeded_var_builder(varmap: &VarMap, seed: u64, device: &Device) -> VarBuilder<'static> {
    VarBuilder::from_backend(
        Box::new(SeededVars {
            varmap: varmap.clone(),
            seed,
        }),
        DType::F32,
        device.clone(),
    )
}

/// The variables of a map, sorted by name (a stable order for the optimiser
/// and for files).
/// The model on these variables' current values without their gradient
/// tracking: the same storage (the optimiser's in-place updates show), but
/// forecasting with it builds no autograd graph.
pub fn frozen_model(
    cfg: &shoptrain_shared::models::ModelConfig,
    vars: &[(String, Var)],
    device: &Device,
) -> Result<shoptrain_shared::models::Model> {
    let tensors = vars
        .iter()
        .map(|(name, v)| (name.clone(), v.as_tensor().detach()))
        .collect();
    shoptrain_shared::models::Model::new(cfg, VarBuilder::from_tensors(tensors, DType::F32, device))
}

pub fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::linear;

    #[test]
    fn same_seed_same_weights() {
        let build = |seed| {
            let vm = VarMap::new();
            linear(4, 3, seeded_var_builder(&vm, seed, &Device::Cpu).pp("l")).unwrap();
            named_vars(&vm)
                .into_iter()
                .map(|(n, v)| {
                    (
                        n,
                        v.as_tensor()
                            .flatten_all()
                            .unwrap()
                            .to_vec1::<f32>()
                            .unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(build(1), build(1));
        assert_ne!(build(1), build(2));
    }
}
