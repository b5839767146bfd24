//! The known-future layer's start, fitted by least squares, and the choice
//! of columns it reads. Each known column's change (as a share of the base
//! level, and as an amount) is regressed on what the seasonal base misses in
//! the training windows, so a fresh model starts as "base plus known
//! changes" (epoch 0). By default a column is read only if adding it to that
//! fit lowers the validation error: a column whose effect is not a steady
//! share or amount (temperature on electricity demand, QUALITY.md) stays out.

use shoptrain_shared::features::Windows;
use shoptrain_shared::models::{base_day, ModelConfig};

/// Ridge strength, relative to each regressor's own sum of squares.
const RIDGE: f64 = 0.01;

/// A column joins only if it lowers the validation MAE by this share.
const MIN_GAIN: f64 = 0.005;

/// How a flat window row splits: the history, then `columns` changes and
/// the base level per forecast day.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub window: usize,
    pub features: usize,
    pub horizon: usize,
    pub weeks: usize,
    pub columns: usize,
    /// The row ends with the ETS base, which the changes are fitted against.
    pub ets_base: bool,
}

impl Layout {
    pub fn of(cfg: &ModelConfig) -> Layout {
        Layout {
            window: cfg.window(),
            features: cfg.features(),
            horizon: cfg.horizon(),
            weeks: cfg.base_weeks(),
            columns: cfg.known_future_columns(),
            ets_base: cfg.ets_base(),
        }
    }

    fn width(&self) -> usize {
        self.ets_offset() + if self.ets_base { self.horizon } else { 0 }
    }

    fn ets_offset(&self) -> usize {
        self.window * self.features + self.horizon * (self.columns + 1)
    }

    /// Every (window, day): the base, the target and the regressors of the
    /// columns `cols` (shares first, then amounts).
    fn rows<'a>(
        &'a self,
        w: &'a Windows,
        cols: &'a [usize],
    ) -> impl Iterator<Item = (f64, f64, Vec<f64>)> + 'a {
        (0..w.count).flat_map(move |i| {
            let x = &w.x[i * self.width()..(i + 1) * self.width()];
            (0..self.horizon).map(move |h| {
                let base = if self.ets_base {
                    x[self.ets_offset() + h] as f64
                } else {
                    (1..=self.weeks)
                        .map(|k| x[base_day(self.window, h, k) * self.features] as f64)
                        .sum::<f64>()
                        / self.weeks as f64
                };
                let block =
                    &x[self.window * self.features + h * (self.columns + 1)..][..self.columns + 1];
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
            ets_base: false,
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
