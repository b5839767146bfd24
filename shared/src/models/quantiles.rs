//! The quantile layer: the forecast's spread around the point forecast.
//! The point forecast is the median; every other quantile sits a
//! non-negative step from its inner neighbour (`softplus` of a learned
//! width per step and forecast day, times a per-step `scale`), so quantiles
//! never cross. Steps are in the window's normalised units, so in sales
//! they follow each window's own spread (instance normalisation). They do
//! not read the network's representation: that made the intervals worse
//! on every real set (QUALITY.md, experiment 24). The layer reads the
//! median detached: learning the spread never moves the point forecast.
//! `scale` is not trained; it starts at 1 and is set after training so that
//! the quantiles fit the run's days (`trainer/src/training/calibration.rs`).

use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// Name of the calibration tensor inside the layer (`quantiles.scale`).
pub const SCALE: &str = "scale";

/// Checks a list of quantile levels: strictly increasing, inside (0, 1),
/// with the median 0.5 among them. Returns the median's index.
pub fn check_levels(levels: &[f64]) -> std::result::Result<usize, String> {
    if levels.iter().any(|l| !(*l > 0.0 && *l < 1.0)) {
        return Err(format!(
            "quantile levels must lie strictly between 0 and 1, got {levels:?}"
        ));
    }
    if levels.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!(
            "quantile levels must be strictly increasing, got {levels:?}"
        ));
    }
    levels.iter().position(|l| *l == 0.5).ok_or_else(|| {
        format!(
            "quantile levels must include 0.5 (the median is the point forecast), got {levels:?}"
        )
    })
}

/// `log(1 + e^x)`, written so that large `x` cannot overflow.
fn softplus(x: &Tensor) -> Result<Tensor> {
    x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?
}

#[derive(Debug, Clone)]
pub struct QuantileLayer {
    levels: Vec<f64>,
    median: usize,
    /// `[levels - 1, horizon]`, before softplus.
    widths: Tensor,
    /// `[levels - 1]`.
    scale: Tensor,
}

impl QuantileLayer {
    /// `levels` checked by [`check_levels`].
    pub fn new(horizon: usize, levels: &[f64], vb: VarBuilder) -> Result<QuantileLayer> {
        let median = check_levels(levels).map_err(candle_core::Error::Msg)?;
        let steps = levels.len() - 1;
        Ok(QuantileLayer {
            levels: levels.to_vec(),
            median,
            widths: vb.get_with_hints((steps, horizon), "widths", Init::Const(0.0))?,
            scale: vb.get_with_hints(steps, SCALE, Init::Const(1.0))?,
        })
    }

    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// `median`: `[batch, horizon]` → every quantile, `[batch, levels,
    /// horizon]`, in level order.
    pub fn forward(&self, median: &Tensor) -> Result<Tensor> {
        let steps = self.levels.len() - 1;
        let step = softplus(&self.widths)?.broadcast_mul(&self.scale.reshape((steps, 1))?)?;
        // step j lies between levels j and j + 1, so level j sits at the sum
        // of the steps below it, less that sum at the median. Summed one by
        // one (not `cumsum`, a matmul): adding a non-negative step never
        // lowers a float, so the order holds exactly.
        let mut sums = vec![step.narrow(0, 0, 1)?.zeros_like()?];
        for j in 0..steps {
            sums.push((&sums[j] + step.narrow(0, j, 1)?)?);
        }
        let below = Tensor::cat(&sums, 0)?;
        let offsets = below.broadcast_sub(&below.narrow(0, self.median, 1)?)?;
        median
            .detach()
            .unsqueeze(1)?
            .broadcast_add(&offsets.unsqueeze(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn levels_must_be_ordered_inside_0_1_and_hold_the_median() {
        assert_eq!(check_levels(&[0.1, 0.5, 0.9]), Ok(1));
        assert_eq!(check_levels(&[0.5]), Ok(0));
        assert!(check_levels(&[0.1, 0.9])
            .unwrap_err()
            .contains("include 0.5"));
        assert!(check_levels(&[0.5, 0.1])
            .unwrap_err()
            .contains("increasing"));
        assert!(check_levels(&[0.0, 0.5])
            .unwrap_err()
            .contains("between 0 and 1"));
        assert!(check_levels(&[0.5, 1.0])
            .unwrap_err()
            .contains("between 0 and 1"));
    }

    #[test]
    fn softplus_is_stable_and_positive() {
        let x = Tensor::new(&[-100f32, 0.0, 100.0], &Device::Cpu).unwrap();
        let y = softplus(&x).unwrap().to_vec1::<f32>().unwrap();
        assert!(y[0] >= 0.0 && y[0] < 1e-6);
        assert!((y[1] - 2f32.ln()).abs() < 1e-6);
        assert!((y[2] - 100.0).abs() < 1e-4);
    }

    #[test]
    fn quantiles_never_cross_and_keep_the_median() {
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let levels = [0.05, 0.1, 0.5, 0.8, 0.95];
        let layer = QuantileLayer::new(7, &levels, vb).unwrap();
        for seed in 0..5 {
            // random widths of every size, including very negative ones
            let spread = 10f64.powi(seed - 2);
            let widths = (Tensor::randn(0f32, 1.0, (4, 7), &dev).unwrap() * spread).unwrap();
            varmap.data().lock().unwrap()["widths"]
                .set(&widths)
                .unwrap();
            let median = (Tensor::randn(0f32, 1.0, (64, 7), &dev).unwrap() * 50.0).unwrap();
            let q = layer.forward(&median).unwrap();
            assert_eq!(q.dims(), &[64, 5, 7]);
            let q = q.to_vec3::<f32>().unwrap();
            let m = median.to_vec2::<f32>().unwrap();
            for (b, row) in q.iter().enumerate() {
                for h in 0..7 {
                    assert_eq!(row[2][h], m[b][h]);
                    for j in 0..4 {
                        assert!(row[j][h] <= row[j + 1][h], "{row:?}");
                    }
                }
            }
        }
    }
}
