//! Dropout driven by a seeded generator, so that training is reproducible on
//! every device and a resumed run replays the same masks (candle's own CPU
//! random numbers cannot be seeded).

use candle_core::{Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;

/// The source of dropout masks for one training step; `None` means inference.
pub struct Noise {
    rng: RefCell<ChaCha8Rng>,
}

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise {
            rng: RefCell::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Dropout {
    p: f32,
}

impl Dropout {
    pub fn new(p: f32) -> Dropout {
        Dropout { p }
    }

    pub fn forward(&self, x: &Tensor, noise: Option<&Noise>) -> Result<Tensor> {
        let Some(noise) = noise else {
            return Ok(x.clone());
        };
        if self.p <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p;
        let mut rng = noise.rng.borrow_mut();
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if rng.random::<f32>() < keep {
                    1.0 / keep
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x * mask
    }
}
