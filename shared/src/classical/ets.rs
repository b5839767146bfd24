//! Exponential smoothing state-space models (Hyndman et al. 2008) with
//! automatic selection by AICc, the way statsforecast's `AutoETS(model="ZZZ")`
//! does it, so that its accuracy carries over: same candidates, starting
//! values, bounds, likelihood and optimiser settings.
//!
//! Errors are additive (`y = ŷ + e`) or multiplicative (`y = ŷ(1 + e)`).

/// An ETS component: error (A/M), trend (N/A; damping is separate) or season (N/A/M).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    None,
    Additive,
    Multiplicative,
}
pub(super) use Component::{Additive as A, Multiplicative as M, None as N};

/// A model form such as ETS(M,Ad,A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtsSpec {
    pub error: Component,
    pub trend: Component,
    pub damped: bool,
    pub season: Component,
}

impl EtsSpec {
    pub fn new(error: Component, trend: Component, damped: bool, season: Component) -> Self {
        EtsSpec {
            error,
            trend,
            damped,
            season,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EtsError {
    #[error("{0} points are too few for ETS (at least 7 needed)")]
    TooShort(usize),
    #[error("value {0} of the series is not finite")]
    NonFinite(usize),
    #[error("unsupported model form: {0}")]
    Unsupported(String),
    #[error("no ETS model could be fitted")]
    NoModel,
}

/// Smoothing parameters; beta = 0 without trend, gamma = 0 without season, phi = 1 undamped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
}

/// Level, slope (0 without trend) and the `m` seasonal states as a ring
/// whose element 0 is the one the next point uses (empty without season).
#[derive(Debug, Clone)]
pub(super) struct State {
    pub level: f64,
    pub slope: f64,
    pub season: Vec<f64>,
}

impl State {
    pub fn new(level: f64, slope: f64, season: Vec<f64>) -> State {
        State {
            level,
            slope,
            season,
        }
    }
}

/// A fitted model: its form, parameters, initial and final states.
#[derive(Debug, Clone)]
pub struct EtsModel {
    pub(super) spec: EtsSpec,
    pub(super) params: Params,
    /// The states before the first point (for [`EtsModel::refilter`]).
    init: State,
    /// The states after the last point: where forecasts start.
    pub(super) last: State,
    pub(super) sigma2: f64,
    aicc: f64,
    n: usize,
    /// Free parameters counted by AICc, sigma included.
    k: usize,
}

const TOL: f64 = 1e-10;
/// Objective value of invalid parameters (above any real `n·ln(SSE)`).
pub(super) const PENALTY: f64 = 1e10;
pub(super) const LOWER: [f64; 4] = [1e-4, 1e-4, 1e-4, 0.8];
pub(super) const UPPER: [f64; 4] = [0.9999, 0.9999, 0.9999, 0.98];

/// `a / b`, or 1e10 when `b` is about 0 (statsforecast's guard).
fn ratio(a: f64, b: f64) -> f64 {
    if b.abs() < TOL {
        1e10
    } else {
        a / b
    }
}

/// One pass of the model over `y`, advancing `st` in place. Returns the sum
/// of squared (relative) errors and, for multiplicative errors, Σ ln|ŷ|.
pub(super) fn filter(spec: &EtsSpec, p: &Params, y: &[f64], st: &mut State) -> (f64, f64) {
    let (mut l, mut b, season) = (st.level, st.slope, &mut st.season);
    let m = season.len();
    let (trend, mult_err) = (spec.trend != N, spec.error == M);
    let (mut sse, mut sum_log, mut prod, mut k) = (0.0, 0.0, 1.0, 0);
    let beta_over_alpha = p.beta / p.alpha;
    for &yt in y {
        let phib = if trend { p.phi * b } else { 0.0 };
        let q = l + phib;
        let s = if m > 0 { season[k] } else { 0.0 };
        let (f, deseason) = match spec.season {
            N => (q, yt),
            A => (q + s, yt - s),
            M => (q * s, ratio(yt, s)),
        };
        let e = if mult_err {
            // Σ ln|ŷ| as logs of running products: one ln per many points.
            prod *= if f != 0.0 { f.abs() } else { 1e-8 };
            if !(1e-100..=1e100).contains(&prod) {
                sum_log += prod.ln();
                prod = 1.0;
            }
            (yt - f) / if f.abs() < TOL { f + TOL } else { f }
        } else {
            yt - f
        };
        sse += e * e;
        let new_l = q + p.alpha * (deseason - q);
        if trend {
            b = phib + beta_over_alpha * (new_l - l - phib);
        }
        if m > 0 {
            let t = if spec.season == M {
                ratio(yt, q)
            } else {
                yt - q
            };
            season[k] = s + p.gamma * (t - s);
            k = if k + 1 == m { 0 } else { k + 1 };
        }
        l = new_l;
    }
    season.rotate_left(k);
    (st.level, st.slope) = (l, b);
    (sse, sum_log + prod.ln())
}

/// The optimiser's criterion, statsforecast's `lik`: n·ln(SSE), plus
/// 2·Σ ln|ŷ| for multiplicative errors (−2 log-likelihood less a constant).
pub(super) fn lik(n: usize, sse: f64, sum_log: f64, spec: &EtsSpec) -> f64 {
    let sse = if sse > 0.0 { sse } else { sse + 1e-8 };
    n as f64 * sse.ln() + if spec.error == M { 2.0 * sum_log } else { 0.0 }
}

/// A series must be finite and longer than 6 points (statsforecast's minimum).
pub(super) fn validate(y: &[f64]) -> Result<(), EtsError> {
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(EtsError::NonFinite(i));
    }
    if y.len() <= 6 {
        return Err(EtsError::TooShort(y.len()));
    }
    Ok(())
}

pub(super) fn name(s: &EtsSpec) -> String {
    let c = |c: Component| match c {
        N => "N",
        A => "A",
        M => "M",
    };
    let d = if s.damped { "d" } else { "" };
    format!("ETS({},{}{d},{})", c(s.error), c(s.trend), c(s.season))
}

impl EtsModel {
    /// Runs `params` from the initial states over `y` and scores the fit.
    pub(super) fn run(
        spec: EtsSpec,
        params: Params,
        init: State,
        y: &[f64],
        k: usize,
    ) -> Option<EtsModel> {
        let mut last = init.clone();
        let (sse, sum_log) = filter(&spec, &params, y, &mut last);
        let (n, nf, kf) = (y.len(), y.len() as f64, k as f64);
        // −2 log-likelihood of Gaussian errors with sigma² at its MLE.
        let neg2ll =
            lik(n, sse, sum_log, &spec) + nf * (1.0 + (2.0 * std::f64::consts::PI / nf).ln());
        let (aicc, sigma2) = if n > k + 1 {
            // sigma²'s divisor is statsforecast's
            (
                neg2ll + 2.0 * kf + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0),
                sse / (nf - kf - 1.0),
            )
        } else {
            (f64::INFINITY, sse / nf)
        };
        let finite = last.level.is_finite()
            && last.slope.is_finite()
            && last.season.iter().all(|v| v.is_finite());
        (finite && sse.is_finite()).then_some(EtsModel {
            spec,
            params,
            init,
            last,
            sigma2,
            aicc,
            n,
            k,
        })
    }

    /// The form, e.g. `ETS(M,Ad,A)`.
    pub fn name(&self) -> String {
        name(&self.spec)
    }

    pub fn spec(&self) -> EtsSpec {
        self.spec
    }

    pub fn params(&self) -> Params {
        self.params
    }

    /// AICc of the fit (Gaussian likelihood; comparable between forms on the same data).
    pub fn aicc(&self) -> f64 {
        self.aicc
    }

    /// Variance of the one-step errors (of the relative errors for multiplicative error).
    pub fn sigma2(&self) -> f64 {
        self.sigma2
    }

    /// Number of points the states have run over.
    pub fn n_obs(&self) -> usize {
        self.n
    }

    /// Point forecasts for steps 1..=horizon after the last point.
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        self.forecast_from(&self.last, horizon)
    }

    /// The forecasts of `horizon` steps from each of `origins` (points of
    /// `y` seen, increasing, at most `y.len()`): this model's parameters run
    /// from its initial states over `y`, which begins with the data it was
    /// fitted on, in one pass for all origins. What a model fitted once
    /// forecasts at every later origin without being refitted.
    pub fn forecasts_at(&self, y: &[f64], origins: &[usize], horizon: usize) -> Vec<Vec<f64>> {
        let (mut state, mut seen) = (self.init.clone(), 0);
        origins
            .iter()
            .map(|&o| {
                let o = o.clamp(seen, y.len());
                filter(&self.spec, &self.params, &y[seen..o], &mut state);
                seen = o;
                self.forecast_from(&state, horizon)
            })
            .collect()
    }

    fn forecast_from(&self, state: &State, horizon: usize) -> Vec<f64> {
        let State {
            level,
            slope,
            season,
        } = state;
        let (mut phi_h, mut phi_pow) = (0.0, 1.0);
        (0..horizon)
            .map(|h| {
                phi_pow *= self.params.phi;
                phi_h += phi_pow;
                let base = level + phi_h * slope;
                match self.spec.season {
                    N => base,
                    A => base + season[h % season.len()],
                    M => base * season[h % season.len()],
                }
            })
            .collect()
    }

    /// The same form and smoothing parameters run from the same initial
    /// states over a longer series `y` (which begins with the data it was
    /// fitted on), without re-estimating: forecasts from a later origin at
    /// the cost of one pass. Sigma² and AICc are recomputed on `y`.
    pub fn refilter(&self, y: &[f64]) -> Result<EtsModel, EtsError> {
        validate(y)?;
        EtsModel::run(self.spec, self.params, self.init.clone(), y, self.k).ok_or(EtsError::NoModel)
    }
}
