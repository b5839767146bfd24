//! The starts of the layers around the base, fitted on the training
//! windows: the ETS blend's weights ([`fit_blend`]), then the known-future
//! layer by least squares, and the choice of columns it reads. Each known
//! column's change (as a share of the base level, and as an amount) is
//! regressed on what the (blended) base misses in the training windows, so
//! a fresh model starts as "base plus known changes" (epoch 0). By default a column is read only if adding it to that
//! fit lowers the validation error: a column whose effect is not a steady
//! share or amount (temperature on electricity demand, QUALITY.md) stays out.

use shoptrain_shared::features::Windows;
use shoptrain_shared::models::{self, base_day, ModelConfig};

/// Ridge strength, relative to each regressor's own sum of squares.
const RIDGE: f64 = 0.01;

/// A column joins only if it lowers the validation MAE by this share.
const MIN_GAIN: f64 = 0.005;

/// How a flat window row splits: the history, then `columns` changes and
/// the base level per forecast day.
#[derive(Debug, Clone)]
pub struct Layout {
    pub window: usize,
    pub features: usize,
    pub horizon: usize,
    pub weeks: usize,
    pub columns: usize,
    /// The row ends with the ETS forecast the base blends in.
    pub ets: bool,
    /// The blend's weight per forecast day (empty: the seasonal mean alone).
    pub blend: Vec<f64>,
}

impl Layout {
    pub fn of(cfg: &ModelConfig) -> Layout {
        Layout {
            window: cfg.window(),
            features: cfg.features(),
            horizon: cfg.horizon(),
            weeks: cfg.base_weeks(),
            columns: cfg.known_future_columns(),
            ets: cfg.ets_blend(),
            blend: Vec::new(),
        }
    }

    fn width(&self) -> usize {
        self.ets_offset() + if self.ets { self.horizon } else { 0 }
    }

    /// After the history and the known-future block (none without columns).
    fn ets_offset(&self) -> usize {
        models::ets_offset(self.window, self.features, self.horizon, self.columns)
    }

    /// The seasonal mean and the ETS forecast (the mean again without one)
    /// of forecast day `h` of row `x`.
    fn bases(&self, x: &[f32], h: usize) -> (f64, f64) {
        let seasonal = (1..=self.weeks)
            .map(|k| x[base_day(self.window, h, k) * self.features] as f64)
            .sum::<f64>()
            / self.weeks as f64;
        let ets = if self.ets {
            x[self.ets_offset() + h] as f64
        } else {
            seasonal
        };
        (seasonal, ets)
    }

    /// Every (window, day): the base (blended as `blend` says), the target
    /// and the regressors of the columns `cols` (shares first, then amounts).
    fn rows<'a>(
        &'a self,
        w: &'a Windows,
        cols: &'a [usize],
    ) -> impl Iterator<Item = (f64, f64, Vec<f64>)> + 'a {
        (0..w.count).flat_map(move |i| {
            let x = &w.x[i * self.width()..(i + 1) * self.width()];
            (0..self.horizon).map(move |h| {
                let (seasonal, ets) = self.bases(x, h);
                let base = seasonal + self.blend.get(h).map_or(0.0, |w| w * (ets - seasonal));
                let width = models::known_future_width(self.columns);
                let block = &x[self.window * self.features + h * width..][..width];
                let level = block[self.columns] as f64;
                let z = cols
                    .iter()
                    .map(|&c| block[c] as f64 * level)
                    .chain(cols.iter().map(|&c| block[c] as f64))
                    .collect();
                (base, w.y[i * self.horizon + h] as f64, z)
            })
        })
    }
}

/// Blend weights a fit may choose, seasonal mean first.
const BLEND_STEPS: usize = 10;

/// Per forecast day, the ETS blend's weight (0, 0.1, …, 1) with the least
/// absolute error on the training windows (what training minimises):
/// the blend's start, chosen over every training origin rather than over
/// validation's few. Ties go to the smaller weight, the seasonal mean.
pub fn fit_blend(layout: &Layout, train: &Windows) -> Vec<f64> {
    let mut errors = vec![[0.0f64; BLEND_STEPS + 1]; layout.horizon];
    for i in 0..train.count {
        let x = &train.x[i * layout.width()..(i + 1) * layout.width()];
        for (h, row) in errors.iter_mut().enumerate() {
            let (seasonal, ets) = layout.bases(x, h);
            let y = train.y[i * layout.horizon + h] as f64;
            for (k, e) in row.iter_mut().enumerate() {
                let w = k as f64 / BLEND_STEPS as f64;
                *e += (y - seasonal - w * (ets - seasonal)).abs();
            }
        }
    }
    errors
        .iter()
        .map(|row| {
            let best = (0..=BLEND_STEPS).fold(0, |b, k| if row[k] < row[b] - 1e-9 { k } else { b });
            best as f64 / BLEND_STEPS as f64
        })
        .collect()
}

/// Least-squares `(share, amount)` weights of columns `cols` on the
/// training windows; `None` if the system cannot be solved.
pub fn fit(layout: &Layout, train: &Windows, cols: &[usize]) -> Option<(Vec<f32>, Vec<f32>)> {
    let dim = 2 * cols.len();
    let mut a = nalgebra::DMatrix::<f64>::zeros(dim, dim);
    let mut b = nalgebra::DVector::<f64>::zeros(dim);
    for (base, y, z) in layout.rows(train, cols) {
        for r in 0..dim {
            b[r] += z[r] * (y - base);
            for c in 0..dim {
                a[(r, c)] += z[r] * z[c];
            }
        }
    }
    for d in 0..dim {
        let own = a[(d, d)];
        // a column that never changes gets weight 0 (an identity row)
        a[(d, d)] = if own > 0.0 { own * (1.0 + RIDGE) } else { 1.0 };
    }
    let w = a.cholesky()?.solve(&b);
    if w.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let w: Vec<f32> = w.iter().map(|v| *v as f32).collect();
    let k = cols.len();
    Some((w[..k].to_vec(), w[k..].to_vec()))
}

/// Mean absolute error of "base plus fitted changes" on `windows`.
fn mae(layout: &Layout, windows: &Windows, cols: &[usize], w: &(Vec<f32>, Vec<f32>)) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (base, y, z) in layout.rows(windows, cols) {
        let k = cols.len();
        let effect: f64 = (0..k)
            .map(|j| z[j] * w.0[j] as f64 + z[k + j] * w.1[j] as f64)
            .sum();
        sum += (y - base - effect).abs();
        n += 1;
    }
    sum / n.max(1) as f64
}

/// The columns (indices into the block) worth reading: added one at a time,
/// best first, while each lowers the validation MAE of the fit by
/// [`MIN_GAIN`].
pub fn select_columns(layout: &Layout, train: &Windows, val: &Windows) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut best = mae(layout, val, &[], &(Vec::new(), Vec::new()));
    loop {
        let candidate = (0..layout.columns)
            .filter(|c| !chosen.contains(c))
            .filter_map(|c| {
                let cols: Vec<usize> = chosen.iter().copied().chain([c]).collect();
                let w = fit(layout, train, &cols)?;
                Some((c, mae(layout, val, &cols, &w)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match candidate {
            Some((c, err)) if err < best * (1.0 - MIN_GAIN) => {
                chosen.push(c);
                best = err;
            }
            _ => return chosen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blend_starts_where_the_training_targets_are_between_mean_and_ets() {
        // 14-day windows of one feature, no known columns, then 7 ETS days
        let layout = Layout {
            window: 14,
            features: 1,
            horizon: 7,
            weeks: 2,
            columns: 0,
            ets: true,
            blend: Vec::new(),
        };
        let mut rng = 7u64;
        let mut noise = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let mut w = Windows::default();
        for _ in 0..60 {
            let history: Vec<f32> = (0..14).map(|_| noise()).collect();
            let ets: Vec<f32> = (0..7).map(|_| 2.0 * noise()).collect();
            for h in 0..7 {
                let seasonal = (history[7 + h] + history[h]) / 2.0;
                // days 0-2 follow ETS, days 3-5 the seasonal mean, day 6 ETS 70% of the way
                let share = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.7][h];
                w.y.push(seasonal + share * (ets[h] - seasonal));
            }
            w.x.extend(history.iter().chain(&ets));
            w.count += 1;
        }
        assert_eq!(
            fit_blend(&layout, &w),
            vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.7]
        );
    }

    /// Windows of a 14-day, 1-feature history and two known columns: the
    /// target is the two-week base plus 0.5 x column 0's change as a share
    /// of the level, plus noise; column 1 is unrelated noise.
    fn windows(n: usize, seed: u64) -> (Layout, Windows) {
        let layout = Layout {
            window: 14,
            features: 1,
            horizon: 7,
            weeks: 2,
            columns: 2,
            ets: false,
            blend: Vec::new(),
        };
        let mut state = seed;
        let mut next = move || {
            // a small LCG: reproducible numbers in [-1, 1)
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f64 / (1u64 << 30) as f64 - 1.0) as f32
        };
        let mut w = Windows::default();
        for i in 0..n {
            let history: Vec<f32> = (0..14).map(|_| next()).collect();
            w.x.extend(&history);
            for h in 0..7 {
                let promo = ((i + h) % 5 == 0) as u8 as f32;
                let level = 2.0 + (i % 3) as f32;
                let base = (history[h % 7] + history[7 + h % 7]) / 2.0;
                w.x.extend([promo, next(), level]);
                w.y.push(base + 0.5 * promo * level + 0.05 * next());
            }
            w.count += 1;
        }
        (layout, w)
    }

    #[test]
    fn the_fit_recovers_a_share_effect() {
        let (layout, train) = windows(300, 1);
        let (share, amount) = fit(&layout, &train, &[0]).unwrap();
        // share and amount are nearly collinear over levels 2..4, so the ridge
        // may split the effect between them; the effect itself must hold
        for level in [2.0, 3.0, 4.0] {
            let effect = share[0] * level + amount[0];
            assert!(
                (effect - 0.5 * level).abs() < 0.05 * level,
                "level {level}: {effect} ({share:?}, {amount:?})"
            );
        }
    }

    #[test]
    fn validation_keeps_the_column_that_matters_and_drops_noise() {
        let (layout, train) = windows(300, 1);
        let (_, val) = windows(80, 2);
        assert_eq!(select_columns(&layout, &train, &val), vec![0]);
    }

    #[test]
    fn a_column_that_never_changes_gets_no_weight() {
        let (layout, mut train) = windows(50, 3);
        let width = layout.width();
        for i in 0..train.count {
            for h in 0..7 {
                train.x[i * width + 14 + h * 3] = 0.0;
            }
        }
        let (share, amount) = fit(&layout, &train, &[0]).unwrap();
        assert_eq!((share[0], amount[0]), (0.0, 0.0));
    }
}
