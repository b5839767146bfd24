//! Starting states for the ETS optimiser, by the heuristic of Hyndman et al.
//! (2008, §2.6.1) as statsforecast (and R's `forecast::ets`) apply it: a
//! classical decomposition gives the seasonal states, a regression on the
//! first seasonally adjusted points gives level and slope. Nelder–Mead then
//! refines them, so they only need to start it in the right basin.

use super::ets::Component;

/// `l0`, `b0` (0 without trend) and the first `m - 1` seasonal states, newest
/// first (statsforecast's layout; the oldest state is implied by the others).
pub(crate) struct Start {
    pub level: f64,
    pub slope: f64,
    pub season: Vec<f64>,
}

pub(crate) fn initial_states(y: &[f64], m: usize, trend: bool, season: Component) -> Start {
    let n = y.len();
    let mut y_sa = y.to_vec();
    let mut init_season = Vec::new();
    let mut m_eff = 1;
    if season != Component::None && m > 1 {
        m_eff = m;
        let mult = season == Component::Multiplicative;
        // Seasonal index of every point: one per phase from a full
        // decomposition when there are three seasons, else the residual of a
        // line plus one Fourier pair (too few seasons to average phases).
        let seasonal: Vec<f64> = if n >= 3 * m {
            let idx = decompose(y, m, mult);
            (0..n).map(|t| idx[t % m]).collect()
        } else {
            fourier_seasonal(y, m, mult)
        };
        init_season = seasonal[1..m].iter().rev().copied().collect();
        if mult {
            init_season.iter_mut().for_each(|s| *s = s.max(1e-2));
            let sum: f64 = init_season.iter().sum();
            if sum > m as f64 {
                let norm = sum + 1e-2 * init_season.len() as f64;
                init_season.iter_mut().for_each(|s| *s /= norm);
            }
            y_sa.iter_mut()
                .zip(&seasonal)
                .for_each(|(v, s)| *v /= s.max(1e-2));
        } else {
            y_sa.iter_mut().zip(&seasonal).for_each(|(v, s)| *v -= s);
        }
    }
    let head = &y_sa[..n.min((2 * m_eff).max(10))];
    let (level, slope) = if trend {
        let (mut l, mut b) = line(head);
        // keeps l0 + b0 away from 0, where a multiplicative error divides
        if (l + b).abs() < 1e-8 {
            l *= 1.0 + 1e-3;
            b *= 1.0 - 1e-3;
        }
        (l, b)
    } else {
        (head.iter().sum::<f64>() / head.len() as f64, 0.0)
    };
    Start {
        level,
        slope,
        season: init_season,
    }
}

/// Seasonal indices of a classical decomposition (centred moving average,
/// phase means of the detrended series, normalised to mean 0 or 1).
fn decompose(y: &[f64], m: usize, mult: bool) -> Vec<f64> {
    let n = y.len();
    let half = m / 2;
    let (mut sums, mut counts) = (vec![0.0; m], vec![0usize; m]);
    for t in half..n.saturating_sub(half) {
        let trend = if m % 2 == 1 {
            y[t - half..=t + half].iter().sum::<f64>() / m as f64
        } else {
            let inner: f64 = y[t - half + 1..t + half].iter().sum();
            (inner + 0.5 * (y[t - half] + y[t + half])) / m as f64
        };
        sums[t % m] += if mult { y[t] / trend } else { y[t] - trend };
        counts[t % m] += 1;
    }
    let mut idx: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c.max(1) as f64)
        .collect();
    let mean = idx.iter().sum::<f64>() / m as f64;
    idx.iter_mut()
        .for_each(|v| if mult { *v /= mean } else { *v -= mean });
    idx
}

/// `y` less (or over) the line of a least-squares fit of a line plus one
/// Fourier pair of period `m`: seasonal indices from two or three seasons.
fn fourier_seasonal(y: &[f64], m: usize, mult: bool) -> Vec<f64> {
    let w = 2.0 * std::f64::consts::PI / m as f64;
    let row = |t: usize| {
        let tt = (t + 1) as f64;
        [1.0, tt, (w * tt).cos(), (w * tt).sin()]
    };
    let mut a = [[0.0; 5]; 4];
    for (t, &v) in y.iter().enumerate() {
        let x = row(t);
        for i in 0..4 {
            for j in 0..4 {
                a[i][j] += x[i] * x[j];
            }
            a[i][4] += x[i] * v;
        }
    }
    let c = solve4(a);
    (0..y.len())
        .map(|t| {
            let base = c[0] + c[1] * (t + 1) as f64;
            if mult {
                y[t] / base
            } else {
                y[t] - base
            }
        })
        .collect()
}

/// Gaussian elimination with partial pivoting on an augmented 4×5 system;
/// a singular column gets a zero coefficient (lstsq's minimum-norm spirit).
fn solve4(mut a: [[f64; 5]; 4]) -> [f64; 4] {
    for col in 0..4 {
        let piv = (col..4).fold(col, |p, r| {
            if a[r][col].abs() > a[p][col].abs() {
                r
            } else {
                p
            }
        });
        a.swap(col, piv);
        if a[col][col].abs() < 1e-12 {
            continue;
        }
        let pivot = a[col];
        for (_, row) in a.iter_mut().enumerate().filter(|(r, _)| *r != col) {
            let f = row[col] / pivot[col];
            row.iter_mut()
                .zip(pivot)
                .skip(col)
                .for_each(|(v, p)| *v -= f * p);
        }
    }
    let mut c = [0.0; 4];
    for i in 0..4 {
        if a[i][i].abs() >= 1e-12 {
            c[i] = a[i][4] / a[i][i];
        }
    }
    c
}

/// Least-squares line through `(t, v[t-1])`, t = 1..: intercept at t = 0 and slope.
fn line(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let t_mean = (n + 1.0) / 2.0;
    let v_mean = v.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &x) in v.iter().enumerate() {
        let dt = (i + 1) as f64 - t_mean;
        sxy += dt * (x - v_mean);
        sxx += dt * dt;
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (v_mean - b * t_mean, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposition_recovers_an_additive_pattern() {
        let pat = [3.0, -1.0, 0.0, 2.0, -2.0, 1.0, -3.0];
        let y: Vec<f64> = (0..70)
            .map(|t| 100.0 + 0.5 * t as f64 + pat[t % 7])
            .collect();
        let idx = decompose(&y, 7, false);
        for (a, b) in idx.iter().zip(pat) {
            assert!((a - b).abs() < 1e-9);
        }
        let s = initial_states(&y, 7, true, Component::Additive);
        // l0 sits one step before the first point: y[0] = l0 + b0
        assert!((s.level - 99.5).abs() < 1e-6 && (s.slope - 0.5).abs() < 1e-9);
        // newest first: phases 6, 5, ..., 1
        assert!((s.season[0] - pat[6]).abs() < 1e-9 && (s.season[5] - pat[1]).abs() < 1e-9);
    }

    #[test]
    fn fourier_fallback_on_two_seasons() {
        let y: Vec<f64> = (0..16)
            .map(|t| 10.0 + 2.0 * (t as f64 * 2.0 * std::f64::consts::PI / 7.0).sin())
            .collect();
        let s = initial_states(&y, 7, false, Component::Multiplicative);
        assert_eq!(s.season.len(), 6);
        assert!(
            s.season.iter().all(|v| *v > 0.5 && *v < 1.5),
            "{:?}",
            s.season
        );
    }
}
