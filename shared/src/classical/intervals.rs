//! Prediction intervals of ETS forecasts: analytic forecast variances
//! (Hyndman et al. 2008, ch. 6) and Gaussian quantiles. No simulation, so
//! they are cheap and deterministic.

use super::ets::{Component, EtsModel, Params};

impl EtsModel {
    /// Forecast variances for steps 1..=horizon.
    ///
    /// With c_j = α + β(φ + … + φ^j) + γ·[j ≡ 0 mod m] (φ = 1 undamped):
    /// additive errors (class 1) give the exact σ²(1 + Σ_{j<h} c_j²); Table 6.1
    /// of Hyndman et al. (2008) is this sum in closed form. Multiplicative
    /// errors with no or additive season (class 2) give the exact recursion
    /// θ_h = μ_h² + σ² Σ_{j<h} c_j² θ_{h−j}, v_h = (1 + σ²)θ_h − μ_h².
    /// Multiplicative error and season (class 3) has no closed form
    /// (statsforecast uses a matrix recursion; R simulates). We approximate
    /// it by the class-2 recursion on the deseasonalised forecast, scaled by
    /// the squared seasonal factor: exact for h ≤ m, where the factors are
    /// known states, and first-order in σ beyond.
    pub fn variances(&self, horizon: usize) -> Vec<f64> {
        let Params {
            alpha,
            beta,
            gamma,
            phi,
        } = self.params;
        let season = &self.last.season;
        let m = season.len().max(1);
        let (mut phi_j, mut pow) = (0.0, 1.0);
        let c2: Vec<f64> = (1..horizon.max(1))
            .map(|j| {
                pow *= phi;
                phi_j += pow;
                let c = alpha + beta * phi_j + if j % m == 0 { gamma } else { 0.0 };
                c * c
            })
            .collect();
        let s2 = self.sigma2;
        if self.spec.error == Component::Additive {
            let mut acc = 1.0;
            return (0..horizon)
                .map(|h| {
                    acc += if h > 0 { c2[h - 1] } else { 0.0 };
                    s2 * acc
                })
                .collect();
        }
        let mult_season = self.spec.season == Component::Multiplicative;
        let factor = |h: usize| if mult_season { season[h % m] } else { 1.0 };
        let mu: Vec<f64> = self
            .forecast(horizon)
            .iter()
            .enumerate()
            .map(|(h, v)| v / factor(h))
            .collect();
        let mut theta: Vec<f64> = Vec::with_capacity(horizon);
        (0..horizon)
            .map(|h| {
                let sum: f64 = (1..=h).map(|j| c2[j - 1] * theta[h - j]).sum();
                theta.push(mu[h] * mu[h] + s2 * sum);
                ((1.0 + s2) * theta[h] - mu[h] * mu[h]) * factor(h).powi(2)
            })
            .collect()
    }

    /// Forecast quantiles under Gaussian errors: one `Vec` of `horizon`
    /// values per level in (0, 1); level 0.5 is exactly the point forecast,
    /// a level outside [0, 1] gives NaN.
    pub fn quantiles(&self, horizon: usize, levels: &[f64]) -> Vec<Vec<f64>> {
        let mean = self.forecast(horizon);
        let sd: Vec<f64> = self
            .variances(horizon)
            .iter()
            .map(|v| v.max(0.0).sqrt())
            .collect();
        levels
            .iter()
            .map(|&p| {
                let z = inverse_normal_cdf(p);
                mean.iter()
                    .zip(&sd)
                    .map(|(m, s)| if z == 0.0 { *m } else { m + z * s })
                    .collect()
            })
            .collect()
    }
}

/// Horner evaluation, highest power first.
fn poly(c: &[f64], x: f64) -> f64 {
    c.iter().fold(0.0, |acc, v| acc * x + v)
}

/// Standard normal quantile: Acklam's rational approximation (relative
/// error under 1.2e-9, ample for intervals). 0.5 maps to exactly 0.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 6] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
        1.0,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 5] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
        1.0,
    ];
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let tail = |q: f64| poly(&C, q) / poly(&D, q);
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        poly(&A, q * q) * q / poly(&B, q * q)
    }
}
