//! Dropout driven by a seeded generator, so that training is reproducible on
//! every device and a resumed run replays the same masks (candle's own CPU
//! random numbers cannot be seeded).

use candle_core::{Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

/// The source of dropout masks for one training step; `None` means inference.
pub struct Noise {
    rng: Mutex<ChaCha8Rng>,
}

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise {
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// A stream of its own seeded from this one, for a micro-batch computed
    /// beside others: the masks depend on the order of forks, not of threads.
    pub fn fork(&self) -> Noise {
        Noise::new(self.rng().random())
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, ChaCha8Rng> {
        // a panic while drawing leaves the generator usable
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
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
        let mut rng = noise.rng();
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
