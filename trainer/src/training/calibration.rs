//! Calibrating a trained model's quantiles. The steps between quantiles
//! are trained on the training windows, where the network fits better than
//! it will fit new days, so the intervals come out too narrow; each step is
//! scaled by the factor that minimises that quantile's pinball loss over
//! every window of the run, working outwards from the median so that the
//! quantiles stay ordered. The factor is a step-weighted quantile of the
//! misses measured in steps, so the share of days below each quantile comes
//! out near its level, and days where the model was sure (small steps)
//! cannot blow every other day's interval up. Training and validation
//! windows both count: the validation weeks alone are too few to hold the
//! calm and the turbulent stretches of a year (QUALITY.md, experiment 24).
//! On the training windows the misses are those of models that did not see
//! them (`out_of_sample_misses`): the network fits its own training windows
//! better than it will fit new days (experiment 26).

/// Scales each window's quantiles' distances from its median by its entry
/// of `ratios` (the window's `Scale::spread` over its std), as the
/// forecaster will, so that calibration fits what is forecast.
/// `quantiles` is `[n, levels, horizon]`.
pub fn widen(quantiles: &mut [f32], ratios: &[f32], levels: usize, median: usize, horizon: usize) {
    for (i, window) in quantiles.chunks_mut(levels * horizon).enumerate() {
        let (below, rest) = window.split_at_mut(median * horizon);
        let (mid, above) = rest.split_at_mut(horizon);
        for level in below.chunks_mut(horizon).chain(above.chunks_mut(horizon)) {
            for (q, m) in level.iter_mut().zip(mid.iter()) {
                *q = m + (*q - m) * ratios[i];
            }
        }
    }
}

/// Replaces the misses of the first windows (those `held_out` covers,
/// `[n, horizon]` medians from models that did not train on them) by those
/// models' misses, around the final model's median: `actual` becomes
/// `median + (actual − held-out median)`, so the factors fit out-of-sample
/// errors. `quantiles` is `[n, levels, horizon]`, `actual` `[n, horizon]`.
pub fn out_of_sample_misses(
    actual: &mut [f32],
    quantiles: &[f32],
    held_out: &[f32],
    levels: usize,
    median: usize,
    horizon: usize,
) {
    for (d, (y, other)) in actual.iter_mut().zip(held_out).enumerate() {
        let own = quantiles[((d / horizon) * levels + median) * horizon + d % horizon];
        *y = own + (*y - other);
    }
}

/// Per-step factors for the quantile layer's `scale`: `quantiles` is
/// `[n, levels, horizon]` as the model gives them, `actual` `[n, horizon]`,
/// both normalised; `median` the index of level 0.5. Factors are never
/// negative, so quantiles never cross.
pub fn step_factors(
    levels: &[f64],
    median: usize,
    quantiles: &[f32],
    actual: &[f32],
    horizon: usize,
) -> Vec<f32> {
    let n_levels = levels.len();
    let n = actual.len() / horizon.max(1);
    let at = |i: usize, j: usize, h: usize| quantiles[(i * n_levels + j) * horizon + h];
    let days = n * horizon;
    // the calibrated inner neighbour of each day, starting at the median
    let median_days: Vec<f32> = (0..days)
        .map(|d| at(d / horizon, median, d % horizon))
        .collect();
    let mut factors = vec![1.0; n_levels - 1];
    // outwards from the median on each side: (step, the level of the
    // misses' quantile that is its factor, direction). Step j lies between
    // levels j and j + 1.
    let below: Vec<(usize, f64, f32)> = (0..median)
        .rev()
        .map(|j| (j, 1.0 - levels[j], -1.0))
        .collect();
    let above: Vec<(usize, f64, f32)> = (median..n_levels - 1)
        .map(|j| (j, levels[j + 1], 1.0))
        .collect();
    for side in [below, above] {
        let mut inner = median_days.clone();
        for (j, target, sign) in side {
            let step =
                |d: usize| at(d / horizon, j + 1, d % horizon) - at(d / horizon, j, d % horizon);
            // below: y < inner − s·step  <=>  (inner − y)/step > s, which must
            // be the level's share of days, so s is the (1 − level) quantile;
            // above: y < inner + s·step  <=>  (y − inner)/step < s, the level's
            let misses: Vec<(f32, f32)> = (0..days)
                .map(|d| weighted_ratio(sign * (actual[d] - inner[d]), step(d)))
                .collect();
            let s = weighted_quantile(misses, target).max(0.0);
            factors[j] = s;
            for (d, v) in inner.iter_mut().enumerate() {
                *v += sign * s * step(d);
            }
        }
    }
    factors
}

/// A miss measured in steps, weighted by the step: the pinball loss of
/// `inner ∓ s·step` is `step · ρ(s − miss/step)`.
fn weighted_ratio(miss: f32, step: f32) -> (f32, f32) {
    let step = step.max(f32::EPSILON);
    (miss / step, step)
}

/// The value minimising `Σ wᵢ·ρ_level(xᵢ − s)` over `(xᵢ, wᵢ)`: the
/// smallest `x` whose cumulative weight reaches `level` of the total; 1
/// for no values, which leaves a step as trained.
fn weighted_quantile(mut values: Vec<(f32, f32)>, level: f64) -> f32 {
    values.retain(|(x, w)| x.is_finite() && w.is_finite());
    let total: f64 = values.iter().map(|(_, w)| *w as f64).sum();
    if values.is_empty() || total <= 0.0 {
        return 1.0;
    }
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let target = level.clamp(0.0, 1.0) * total;
    let mut cumulative = 0.0;
    for (x, w) in &values {
        cumulative += *w as f64;
        if cumulative >= target {
            return *x;
        }
    }
    values[values.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn widening_scales_distances_from_each_windows_median() {
        // two windows, levels [0.1, 0.5, 0.9], horizon 2
        let mut q = vec![
            -1.0, -2.0, 0.0, 1.0, 2.0, 3.0, // window 0: median 0, 1
            4.0, 4.0, 5.0, 5.0, 7.0, 6.0, // window 1: median 5, 5
        ];
        widen(&mut q, &[2.0, 1.0], 3, 1, 2);
        assert_eq!(
            q,
            [-2.0, -5.0, 0.0, 1.0, 4.0, 5.0, 4.0, 4.0, 5.0, 5.0, 7.0, 6.0]
        );
    }

    #[test]
    fn held_out_misses_replace_the_fitted_ones_around_the_own_median() {
        // two windows, levels [0.1, 0.5, 0.9], horizon 2; medians 10, 11 and 20, 21
        let q = [
            9.0, 10.0, 10.0, 11.0, 11.0, 12.0, 19.0, 20.0, 20.0, 21.0, 21.0, 22.0,
        ];
        let mut actual = [10.5, 11.0, 30.0, 18.0];
        // held-out models forecast the first window only: 12 and 9
        out_of_sample_misses(&mut actual, &q, &[12.0, 9.0], 3, 1, 2);
        // 10 + (10.5 − 12), 11 + (11 − 9); the second window keeps its own
        assert_eq!(actual, [8.5, 13.0, 30.0, 18.0]);
    }

    #[test]
    fn weighted_quantiles_follow_the_weights() {
        let even = vec![(3.0, 1.0), (1.0, 1.0), (2.0, 1.0)];
        assert_eq!(weighted_quantile(even, 0.5), 2.0);
        // a huge miss on a day of tiny step weighs little
        let skew = vec![(1.0, 1.0), (2.0, 1.0), (100.0, 0.01)];
        assert_eq!(weighted_quantile(skew, 0.9), 2.0);
        assert_eq!(weighted_quantile(vec![], 0.5), 1.0);
    }

    /// The factor is the one with the least pinball loss: no other does better.
    #[test]
    fn the_factor_minimises_the_validation_pinball_loss() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let noise = Normal::new(0.0f32, 1.0).unwrap();
        let n = 500;
        let steps: Vec<f32> = (0..n).map(|i| 0.2 + (i % 7) as f32 * 0.3).collect();
        let actual: Vec<f32> = (0..n).map(|i| steps[i] * noise.sample(&mut rng)).collect();
        let quantiles: Vec<f32> = (0..n).flat_map(|i| [-steps[i], 0.0, steps[i]]).collect();
        let f = step_factors(&[0.1, 0.5, 0.9], 1, &quantiles, &actual, 1);
        let loss = |s: f32| -> f64 {
            (0..n)
                .map(|i| {
                    let d = (actual[i] - s * steps[i]) as f64;
                    if d >= 0.0 {
                        0.9 * d
                    } else {
                        -0.1 * d
                    }
                })
                .sum()
        };
        for other in [0.5, 0.9, 0.99, 1.01, 1.1, 2.0] {
            assert!(loss(f[1]) <= loss(f[1] * other) + 1e-9, "{f:?} vs x{other}");
        }
    }

    /// Actuals are N(0, 2) around a median of 0; the model's steps are 1, so
    /// P10/P90 (±1.28σ = ±2.56) need factors near 2.56.
    #[test]
    fn too_narrow_steps_are_widened_to_the_levels() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let noise = Normal::new(0.0f32, 2.0).unwrap();
        let (n, horizon) = (4000, 1);
        let actual: Vec<f32> = (0..n).map(|_| noise.sample(&mut rng)).collect();
        let quantiles: Vec<f32> = (0..n).flat_map(|_| [-1.0f32, 0.0, 1.0]).collect();
        let f = step_factors(&[0.1, 0.5, 0.9], 1, &quantiles, &actual, horizon);
        for s in &f {
            assert!((s - 2.563).abs() < 0.15, "{f:?}");
        }
        // and the calibrated interval holds about 80% of the days
        let inside = actual
            .iter()
            .filter(|y| -f[0] <= **y && **y <= f[1])
            .count();
        let share = inside as f64 / n as f64;
        assert!((share - 0.8).abs() < 0.01, "{share}");
    }

    #[test]
    fn nested_levels_stay_ordered_and_skewed_noise_gives_skewed_steps() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise = Normal::new(0.0f32, 1.0).unwrap();
        // exponential-like right skew: |z|^2 above the median, small below
        let actual: Vec<f32> = (0..3000)
            .map(|i| {
                let z: f32 = noise.sample(&mut rng);
                if i % 2 == 0 {
                    z * z
                } else {
                    -0.1 * z.abs()
                }
            })
            .collect();
        let levels = [0.05, 0.25, 0.5, 0.75, 0.95];
        let quantiles: Vec<f32> = (0..3000)
            .flat_map(|_| [-2.0f32, -1.0, 0.0, 1.0, 2.0])
            .collect();
        let f = step_factors(&levels, 2, &quantiles, &actual, 1);
        assert!(f.iter().all(|s| *s >= 0.0), "{f:?}");
        assert!(f[2] + f[3] > 5.0 * (f[0] + f[1]), "{f:?}");
    }
}
