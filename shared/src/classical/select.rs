//! Fitting ETS models: statsforecast's starting values and bounds,
//! Nelder–Mead on its likelihood criterion, and selection by AICc.

use super::ets::{
    filter, lik, name, validate, Component, EtsError, EtsModel, EtsSpec, Params, State,
};
use super::ets::{A, LOWER, M, N, PENALTY, UPPER};
use super::init::initial_states;
use super::nelder_mead::{minimize, Options};

/// Upper bounds of beta and gamma. statsforecast narrows beta's to each
/// trend model's starting alpha (0.2/m) and gamma's to 1 − that, and keeps
/// the narrowed bounds for the candidates after it: with weekly seasons,
/// beta ≤ 0.0287 from ETS(A,Ad,A) on. Slopes stay smooth, which is what its
/// AutoETS accuracy rests on, so selection threads the same bounds through.
#[derive(Debug, Clone, Copy)]
struct Caps {
    beta: f64,
    gamma: f64,
}

const FRESH: Caps = Caps {
    beta: UPPER[1],
    gamma: UPPER[2],
};

/// Fits one model form by Nelder–Mead on [`lik`] from statsforecast's
/// starting values; `None` when it has too many parameters for `y` or fails.
fn fit_spec(y: &[f64], m: usize, spec: EtsSpec, caps: &mut Caps) -> Option<EtsModel> {
    let (n, trend, seasonal) = (y.len(), spec.trend != N, spec.season != N);
    let m = if seasonal { m } else { 1 };
    // [alpha, beta?, gamma?, phi?] with bounds, then the initial states.
    let alpha0 = LOWER[0] + 0.2 * (UPPER[0] - LOWER[0]) / m as f64;
    let (mut x, mut lo, mut hi) = (vec![alpha0], vec![LOWER[0]], vec![UPPER[0]]);
    let mut push = |on: bool, i: usize, upper: f64, at: f64| {
        if on {
            x.push(LOWER[i] + at * (upper - LOWER[i]));
            lo.push(LOWER[i]);
            hi.push(upper);
        }
    };
    if trend {
        caps.beta = caps.beta.min(alpha0);
    }
    if seasonal {
        caps.gamma = caps.gamma.min(1.0 - alpha0);
    }
    push(trend, 1, caps.beta, 0.1);
    push(seasonal, 2, caps.gamma, 0.05);
    push(spec.damped, 3, UPPER[3], 0.99);
    let n_smooth = x.len();
    let start = initial_states(y, m, trend, spec.season);
    x.push(start.level);
    if trend {
        x.push(start.slope);
    }
    x.extend_from_slice(&start.season);
    if x.len() + 1 >= n {
        return None;
    }
    lo.resize(x.len(), f64::NEG_INFINITY);
    hi.resize(x.len(), f64::INFINITY);

    let ring = if seasonal { m } else { 0 };
    let mut st = State::new(0.0, 0.0, vec![0.0; ring]);
    let objective = |x: &[f64]| {
        if !states_from(&spec, m, &x[n_smooth..], &mut st) {
            return PENALTY;
        }
        let (sse, sum_log) = filter(&spec, &unpack(&spec, x), y, &mut st);
        let v = lik(n, sse, sum_log, &spec).max(-PENALTY);
        if v.is_finite() {
            v
        } else {
            PENALTY
        }
    };
    let best = minimize(objective, &x, &lo, &hi, &Options::default());
    let mut init = State::new(0.0, 0.0, vec![0.0; ring]);
    if !states_from(&spec, m, &best.x[n_smooth..], &mut init) {
        return None;
    }
    EtsModel::run(spec, unpack(&spec, &best.x), init, y, best.x.len() + 1)
}

fn unpack(spec: &EtsSpec, x: &[f64]) -> Params {
    let mut it = x.iter().copied();
    let mut next = |on: bool, off: f64| if on { it.next().unwrap_or(off) } else { off };
    let alpha = next(true, LOWER[0]);
    let beta = next(spec.trend != N, 0.0);
    let gamma = next(spec.season != N, 0.0);
    Params {
        alpha,
        beta,
        gamma,
        phi: next(spec.damped, 1.0),
    }
}

/// Fills `st` from optimiser states `[l0, b0?, s_1..s_{m-1}]` (statsforecast's
/// layout: newest seasonal state first). The oldest, which the first point
/// uses, is implied: the states sum to 0 (additive) or m (multiplicative).
/// False when a multiplicative seasonal state is negative.
fn states_from(spec: &EtsSpec, m: usize, x: &[f64], st: &mut State) -> bool {
    let trend = spec.trend != N;
    st.level = x[0];
    st.slope = if trend { x[1] } else { 0.0 };
    if spec.season == N {
        return true;
    }
    let s = &x[1 + trend as usize..];
    let total = if spec.season == M { m as f64 } else { 0.0 };
    st.season[0] = total - s.iter().sum::<f64>();
    for (j, v) in s.iter().rev().enumerate() {
        st.season[j + 1] = *v;
    }
    !(spec.season == M && st.season.iter().any(|v| *v < 0.0))
}

/// Fits one model form (no selection). Multiplicative trend is not supported.
pub fn fit_ets(y: &[f64], period: usize, spec: EtsSpec) -> Result<EtsModel, EtsError> {
    validate(y)?;
    let positive = y.iter().all(|v| *v > 0.0);
    let m = period.max(1);
    if spec.trend == M
        || spec.error == N
        || (spec.damped && spec.trend == N)
        || (spec.season != N && (m == 1 || y.len() <= m))
        || (!positive && (spec.error == M || spec.season == M))
    {
        return Err(EtsError::Unsupported(format!(
            "{} for this series",
            name(&spec)
        )));
    }
    let mut caps = FRESH;
    fit_spec(y, m, spec, &mut caps).ok_or(EtsError::NoModel)
}

/// Fits every admissible form and returns the one with the smallest AICc.
/// Candidates as statsforecast's defaults: additive or multiplicative error,
/// no/additive/damped trend, no/additive/multiplicative season; no additive
/// error with multiplicative season; multiplicative parts only for positive
/// data; seasonal forms only when there is more than one season. A constant
/// series gets simple exponential smoothing, as there.
pub fn auto_ets(y: &[f64], period: usize) -> Result<EtsModel, EtsError> {
    validate(y)?;
    if y.iter().all(|v| *v == y[0]) {
        let p = Params {
            alpha: 0.9999,
            beta: 0.0,
            gamma: 0.0,
            phi: 1.0,
        };
        let init = State::new(y[0], 0.0, Vec::new());
        return EtsModel::run(EtsSpec::new(A, N, false, N), p, init, y, 2).ok_or(EtsError::NoModel);
    }
    let positive = y.iter().all(|v| *v > 0.0);
    let m = period.max(1);
    let seasons: &[Component] = if m > 1 && y.len() > m {
        &[N, A, M]
    } else {
        &[N]
    };
    let mut caps = FRESH;
    let mut best: Option<EtsModel> = None;
    // statsforecast's order, which matters for the bounds (see `Caps`).
    for error in [A, M] {
        for trend in [N, A] {
            for &season in seasons {
                for damped in [true, false] {
                    let skip = (trend == N && damped)
                        || (error == A && season == M)
                        || (!positive && (error == M || season == M));
                    if skip {
                        continue;
                    }
                    let spec = EtsSpec::new(error, trend, damped, season);
                    if let Some(fit) = fit_spec(y, m, spec, &mut caps) {
                        if fit.aicc().is_finite()
                            && best.as_ref().is_none_or(|b| fit.aicc() < b.aicc())
                        {
                            best = Some(fit);
                        }
                    }
                }
            }
        }
    }
    best.ok_or(EtsError::NoModel)
}
