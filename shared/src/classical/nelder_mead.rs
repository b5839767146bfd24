//! A small box-bounded Nelder–Mead minimiser.
//!
//! ETS likelihoods are cheap, low-dimensional (up to ~13 parameters with
//! weekly seasonality) and not smooth enough at the bounds for gradients to
//! pay off, so, like statsforecast and augurs, we use a simplex search. This
//! one follows the variant statsforecast runs for ETS: adaptive coefficients
//! (Gao & Han 2012), every trial point clamped into the box, a start simplex
//! that moves each coordinate by a relative step, and a stop when the
//! spread of the simplex's values falls under a tolerance. It allocates only
//! when it starts and is fully deterministic.

/// Settings of [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Iteration cap (one reflection, expansion, contraction or shrink each).
    pub max_iter: usize,
    /// Stop when the standard deviation of the simplex's values is below this.
    pub tol_std: f64,
    /// Relative step of the start simplex: coordinate `x` moves to `x·(1+step)`.
    pub init_step: f64,
    /// The start-simplex step for coordinates that are exactly zero.
    pub zero_step: f64,
}

impl Default for Options {
    /// statsforecast's ETS settings.
    fn default() -> Self {
        Options {
            max_iter: 1000,
            tol_std: 1e-4,
            init_step: 0.05,
            zero_step: 1e-4,
        }
    }
}

/// The best vertex found.
#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
}

/// Minimises `f` over the box `lower <= x <= upper` (infinite bounds are
/// fine) from `x0`. `f` returning NaN counts as +∞.
pub fn minimize<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    opts: &Options,
) -> Minimum {
    let n = x0.len();
    let mut eval = |x: &[f64]| {
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let clamp = |x: &mut [f64]| {
        for (i, v) in x.iter_mut().enumerate() {
            *v = v.max(lower[i]).min(upper[i]);
        }
    };
    if n == 0 {
        return Minimum {
            x: Vec::new(),
            value: eval(&[]),
            iterations: 0,
        };
    }
    // Adaptive coefficients keep the search from stalling in higher dimensions.
    let nf = n as f64;
    let (refl, expand, contract, shrink) = (1.0, 1.0 + 2.0 / nf, 0.75 - 0.5 / nf, 1.0 - 1.0 / nf);

    // Vertices row by row, n + 1 rows.
    let mut simplex = Vec::with_capacity((n + 1) * n);
    let mut start = x0.to_vec();
    clamp(&mut start);
    for i in 0..=n {
        simplex.extend_from_slice(&start);
        if i < n {
            let v = &mut simplex[i * n + i];
            *v = if *v == 0.0 {
                opts.zero_step
            } else {
                *v * (1.0 + opts.init_step)
            };
            *v = v.max(lower[i]).min(upper[i]);
        }
    }
    let mut fv: Vec<f64> = (0..=n)
        .map(|i| eval(&simplex[i * n..(i + 1) * n]))
        .collect();
    let (mut centroid, mut xr, mut xt) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut best = 0;
    let mut iterations = 0;
    while iterations < opts.max_iter {
        iterations += 1;
        // Best, worst and second-worst vertices.
        best = 0;
        let mut worst = 0;
        for i in 1..=n {
            if fv[i] < fv[best] {
                best = i;
            }
            if fv[i] >= fv[worst] {
                worst = i;
            }
        }
        let mut second = if worst == 0 { 1 } else { 0 };
        for i in 0..=n {
            if i != worst && fv[i] >= fv[second] {
                second = i;
            }
        }
        let mean = fv.iter().sum::<f64>() / (nf + 1.0);
        let sd = (fv.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (nf + 1.0)).sqrt();
        if sd < opts.tol_std {
            break;
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for i in (0..=n).filter(|&i| i != worst) {
            for (c, v) in centroid.iter_mut().zip(&simplex[i * n..(i + 1) * n]) {
                *c += v / nf;
            }
        }
        let w = worst * n;
        for j in 0..n {
            xr[j] = centroid[j] + refl * (centroid[j] - simplex[w + j]);
        }
        clamp(&mut xr);
        let fr = eval(&xr);
        if fv[best] <= fr && fr < fv[second] {
            simplex[w..w + n].copy_from_slice(&xr);
            fv[worst] = fr;
            continue;
        }
        if fr < fv[best] {
            for j in 0..n {
                xt[j] = centroid[j] + expand * (xr[j] - centroid[j]);
            }
            clamp(&mut xt);
            let fe = eval(&xt);
            let (x, v) = if fe < fr { (&xt, fe) } else { (&xr, fr) };
            simplex[w..w + n].copy_from_slice(x);
            fv[worst] = v;
            continue;
        }
        // Outside contraction when the reflection beat the worst, inside otherwise.
        let outside = fr < fv[worst];
        let sign = if outside { 1.0 } else { -1.0 };
        for j in 0..n {
            xt[j] = centroid[j] + sign * contract * (xr[j] - centroid[j]);
        }
        clamp(&mut xt);
        let fc = eval(&xt);
        if (outside && fc <= fr) || (!outside && fc < fv[worst]) {
            simplex[w..w + n].copy_from_slice(&xt);
            fv[worst] = fc;
            continue;
        }
        // Shrink every vertex towards the best one.
        let b = best * n;
        for i in (0..=n).filter(|&i| i != best) {
            for j in 0..n {
                let v = simplex[b + j] + shrink * (simplex[i * n + j] - simplex[b + j]);
                simplex[i * n + j] = v.max(lower[j]).min(upper[j]);
            }
            fv[i] = eval(&simplex[i * n..(i + 1) * n]);
        }
    }
    // The loop may have stopped right after changing a vertex: pick the best again.
    for i in 0..=n {
        if fv[i] < fv[best] {
            best = i;
        }
    }
    Minimum {
        x: simplex[best * n..(best + 1) * n].to_vec(),
        value: fv[best],
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64]) -> f64 {
        (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let opts = Options {
            max_iter: 5000,
            tol_std: 1e-14,
            ..Options::default()
        };
        let m = minimize(rosenbrock, &[-1.2, 1.0], &[-2.0, -2.0], &[2.0, 2.0], &opts);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{:?}",
            m
        );
        assert!(m.value < 1e-8);
    }

    #[test]
    fn respects_the_bounds() {
        // The unconstrained minimum (1, 1) lies outside; the best point in the
        // box [-2, 0.5] x [-2, 2] is on the edge x = 0.5, y = 0.25.
        let opts = Options {
            max_iter: 5000,
            tol_std: 1e-14,
            ..Options::default()
        };
        let m = minimize(rosenbrock, &[-1.2, 1.0], &[-2.0, -2.0], &[0.5, 2.0], &opts);
        assert!(m.x[0] <= 0.5 && (m.x[0] - 0.5).abs() < 1e-4, "{:?}", m);
        assert!((m.x[1] - 0.25).abs() < 1e-3, "{:?}", m);
    }

    #[test]
    fn nan_counts_as_worse_than_anything() {
        let f = |x: &[f64]| {
            if x[0] < 0.0 {
                f64::NAN
            } else {
                (x[0] - 0.3).powi(2)
            }
        };
        let m = minimize(
            f,
            &[1.0],
            &[-1.0],
            &[2.0],
            &Options {
                tol_std: 1e-12,
                ..Options::default()
            },
        );
        assert!((m.x[0] - 0.3).abs() < 1e-4, "{:?}", m);
    }
}
