//! What a training step minimises and the step itself: the point loss
//! (MSE, MAE or Huber), the quantiles' pinball loss, their sum, and one
//! AdamW step over micro-batches (`train` and `bench` run the same step).

use crate::compute;
use crate::optim::AdamW;
use anyhow::Result;
use candle_core::Tensor;
use shoptrain_shared::metadata::Loss;
use shoptrain_shared::models::{Model, Noise};

/// The mean of `loss` between forecasts and targets, a scalar tensor.
pub fn loss_value(loss: Loss, pred: &Tensor, y: &Tensor) -> Result<Tensor> {
    let d = (pred - y)?;
    Ok(match loss {
        Loss::Mse => d.sqr()?.mean_all()?,
        Loss::Mae => d.abs()?.mean_all()?,
        Loss::Huber => {
            // 0.5 min(|d|, 1)^2 + (|d| - min(|d|, 1)): quadratic below 1, linear above
            let a = d.abs()?;
            let q = a.clamp(0f32, 1f32)?;
            ((q.sqr()? * 0.5)? + (a - q)?)?.mean_all()?
        }
    })
}

/// Twice the mean pinball loss of the quantiles other than the median
/// (`quantiles` `[batch, levels, horizon]`, `y` `[batch, horizon]`): twice,
/// so that the median's own would equal its MAE.
pub fn quantile_loss(quantiles: &Tensor, y: &Tensor, levels: &[f64]) -> Result<Tensor> {
    let mut total = Tensor::zeros((), y.dtype(), y.device())?;
    let mut count = 0usize;
    for (j, level) in levels.iter().enumerate().filter(|(_, l)| **l != 0.5) {
        let d = (y - quantiles.narrow(1, j, 1)?.squeeze(1)?)?;
        let pinball = (&d * *level)?.maximum(&(&d * (*level - 1.0))?)?;
        total = (total + pinball.mean_all()?)?;
        count += 1;
    }
    Ok((total * (2.0 / count.max(1) as f64))?)
}

/// What training minimises (and early stopping watches): `loss` of the
/// point forecast, plus [`quantile_loss`] for a model with quantiles.
pub fn objective(
    model: &Model,
    (x, y): (&Tensor, &Tensor),
    noise: Option<&Noise>,
    loss: Loss,
) -> Result<Tensor> {
    let (point, quantiles) = model.forward_quantiles(x, noise)?;
    let point_loss = loss_value(loss, &point, y)?;
    Ok(match quantiles {
        Some(q) => (point_loss + quantile_loss(&q, y, model.quantile_levels())?)?,
        None => point_loss,
    })
}

/// Windows per micro-batch on the CPU: a step's batch is cut into blocks of
/// this many, whose gradients are computed side by side (`compute`) and
/// summed. Fixed rather than the thread count, so that a run gives the same
/// model on any machine.
pub const MICRO_BATCH: usize = 16;

/// One optimiser step on a batch (dropout on); returns the detached loss.
/// Shared by training and `shoptrain bench`, so the bench times the real step.
pub fn train_step(
    model: &Model,
    opt: &mut AdamW,
    (x, y): (&Tensor, &Tensor),
    noise: &Noise,
    loss: Loss,
) -> Result<Tensor> {
    if !x.device().is_cpu() {
        let loss = objective(model, (x, y), Some(noise), loss)?;
        opt.backward_step(&loss)?;
        return Ok(loss.detach());
    }
    let n = x.dim(0)?;
    let noises: Vec<Noise> = (0..n.div_ceil(MICRO_BATCH)).map(|_| noise.fork()).collect();
    let parts = compute::in_row_blocks(x.device(), n, MICRO_BATCH, |start, len| {
        let (xb, yb) = (x.narrow(0, start, len)?, y.narrow(0, start, len)?);
        let noise = &noises[start / MICRO_BATCH];
        // each block's mean loss weighted by its share: the sum is the batch's mean
        let part = (objective(model, (&xb, &yb), Some(noise), loss)? * (len as f64 / n as f64))?;
        let grads = part.backward()?;
        Ok((part.detach(), grads))
    })?;
    let (losses, grads): (Vec<Tensor>, Vec<_>) = parts.into_iter().unzip();
    opt.apply(&grads)?;
    Ok(Tensor::stack(&losses, 0)?.sum(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn losses_match_hand_computed_values() {
        let dev = Device::Cpu;
        let pred = Tensor::new(&[[0.0f32, 2.0], [0.5, -3.0]], &dev).unwrap();
        let y = Tensor::new(&[[0.0f32, 0.0], [0.0, 0.0]], &dev).unwrap();
        let value = |l| {
            loss_value(l, &pred, &y)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        // errors 0, 2, 0.5, -3
        assert!((value(Loss::Mse) - (0.0 + 4.0 + 0.25 + 9.0) / 4.0).abs() < 1e-6);
        assert!((value(Loss::Mae) - (0.0 + 2.0 + 0.5 + 3.0) / 4.0).abs() < 1e-6);
        // huber: 0, 2-0.5, 0.5*0.25, 3-0.5
        assert!((value(Loss::Huber) - (0.0 + 1.5 + 0.125 + 2.5) / 4.0).abs() < 1e-6);
    }

    #[test]
    fn the_quantile_loss_matches_hand_computed_pinball_values() {
        let dev = Device::Cpu;
        // one window, two days; levels 0.1, 0.5, 0.9 (the median is left out)
        let q = Tensor::new(&[[[8f32, 8.0], [10.0, 10.0], [12.0, 12.0]]], &dev).unwrap();
        let y = Tensor::new(&[[11f32, 14.0]], &dev).unwrap();
        let value = quantile_loss(&q, &y, &[0.1, 0.5, 0.9])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        // P10: 0.1*3, 0.1*6 -> mean 0.45; P90: 0.1*1, 0.9*2 -> mean 0.95;
        // twice their mean: 0.45 + 0.95 = 1.4
        assert!((value - 1.4).abs() < 1e-6, "{value}");
    }
}
