//! The classical floor under every network forecast (QUALITY.md, "A floor
//! that holds"). A network trained on a short or unusual series can lose to
//! a classical forecast; so after training, validation chooses a blend
//! `w · network + (1 − w) · classical` per model, the classical method and
//! the weight `w` on a grid from 0 (the classical forecast alone: the
//! fallback) to 1 (the network alone). Since both ends are candidates, the
//! chosen forecast is never worse on the validation origins than either.
//! The trainer's scores, `predict`, `backtest` and the browser all blend
//! through [`Floor::mix`] (`predict` with the ETS forecast it shares with a
//! hybrid base; [`Floor::apply`] fits the method itself), so they forecast
//! the same way.

use crate::classical::{auto_ets, EtsModel};
use crate::metrics::seasonal_naive;
use serde::{Deserialize, Serialize};

/// Weekly season of daily sales.
pub const SEASON: usize = 7;
/// The classical methods' names in reports and metadata.
pub const ETS: &str = "ets";
pub const SEASONAL_NAIVE: &str = "seasonal_naive_7";

/// Network weights validation tries, network alone last.
pub const WEIGHTS: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// A classical forecaster the floor can stand on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classical {
    /// AutoETS with a weekly season, fitted on the whole history.
    Ets,
    /// Same weekday last week.
    SeasonalNaive,
}

impl Classical {
    pub const ALL: [Classical; 2] = [Classical::Ets, Classical::SeasonalNaive];

    /// The forecast of the `horizon` days after `history` (sales), or why
    /// there is none (a history too short for the method).
    pub fn forecast(self, history: &[f32], horizon: usize) -> Result<Vec<f32>, String> {
        match self {
            Classical::SeasonalNaive if history.len() >= SEASON => {
                Ok(seasonal_naive(history, horizon, SEASON))
            }
            Classical::SeasonalNaive => Err(format!(
                "seasonal naive needs a week of history, got {} days",
                history.len()
            )),
            Classical::Ets => finite(ets_fit(history)?.forecast(horizon)),
        }
    }
}

/// AutoETS with a weekly season fitted on `history` (sales), or an error
/// saying why it could not be: the one ETS fit of the floor, the baselines
/// and the backtests.
pub fn ets_fit(history: &[f32]) -> Result<EtsModel, String> {
    let y: Vec<f64> = history.iter().map(|v| *v as f64).collect();
    auto_ets(&y, SEASON).map_err(|e| format!("ETS could not be fitted on {} days: {e}", y.len()))
}

/// Sales forecasts of `f64` as the models' `f32`, refusing non-finite ones.
pub fn finite(v: Vec<f64>) -> Result<Vec<f32>, String> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err("the classical forecast is not finite".into());
    }
    Ok(v.into_iter().map(|x| x.max(0.0) as f32).collect())
}

/// The floor a model stands on: recorded in its metadata when validation
/// chose one (absent: the network forecasts alone, as models trained
/// before the floor do).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    pub classical: Classical,
    /// Weight of the network's forecast; the classical one gets the rest.
    pub network_weight: f64,
}

impl Floor {
    /// Whether the classical forecast takes part at all.
    pub fn blends(&self) -> bool {
        self.network_weight < 1.0
    }

    /// The blended forecast of one window: `network` (points, and
    /// quantiles `[level][day]` when the model gives them) moved towards
    /// the classical forecast of `history`. The quantiles move with the
    /// point, keeping the network's calibrated spread around it.
    pub fn apply(
        &self,
        history: &[f32],
        network: &mut [f32],
        quantiles: Option<&mut [Vec<f32>]>,
    ) -> Result<(), String> {
        if !self.blends() {
            return Ok(());
        }
        let classical = self.classical.forecast(history, network.len())?;
        self.mix(network, &classical, quantiles);
        Ok(())
    }

    /// [`Self::apply`] with the classical forecast already computed; also
    /// for many windows at once (points and each level's values window after
    /// window, as the classical forecast).
    pub fn mix(&self, network: &mut [f32], classical: &[f32], quantiles: Option<&mut [Vec<f32>]>) {
        let w = self.network_weight as f32;
        let mut shift = Vec::with_capacity(network.len());
        for (n, c) in network.iter_mut().zip(classical) {
            let blended = (w * *n + (1.0 - w) * c).max(0.0);
            shift.push(blended - *n);
            *n = blended;
        }
        for level in quantiles.into_iter().flatten() {
            for (q, s) in level.iter_mut().zip(&shift) {
                *q = (*q + s).max(0.0);
            }
        }
    }
}

/// The floor validation chooses: for each classical method with a forecast
/// of every validation window, each weight of [`WEIGHTS`], the mean scaled
/// error (`cost(blended)`, lower is better) — and the lowest. Ties go to
/// the larger network weight, then to the method listed first.
pub fn choose(
    network: &[f32],
    classical: &[(Classical, Vec<f32>)],
    cost: impl Fn(&[f32]) -> f64,
) -> Option<(Floor, f64)> {
    let mut best: Option<(Floor, f64)> = None;
    for (method, forecast) in classical {
        if forecast.len() != network.len() {
            continue;
        }
        for &w in WEIGHTS.iter().rev() {
            let floor = Floor {
                classical: *method,
                network_weight: w,
            };
            let mut blended = network.to_vec();
            floor.mix(&mut blended, forecast, None);
            let c = cost(&blended);
            if c.is_finite() && best.is_none_or(|(_, b)| c < b - 1e-12) {
                best = Some((floor, c));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mae(actual: &[f32]) -> impl Fn(&[f32]) -> f64 + '_ {
        move |f: &[f32]| {
            f.iter()
                .zip(actual)
                .map(|(a, b)| (a - b).abs() as f64)
                .sum::<f64>()
                / f.len() as f64
        }
    }

    #[test]
    fn validation_picks_the_blend_with_the_least_error_and_both_ends_are_candidates() {
        let actual = [10.0, 10.0, 10.0, 10.0];
        // the network runs 4 high, the classical forecast 4 low: the middle wins
        let (floor, cost) =
            choose(&[14.0; 4], &[(Classical::Ets, vec![6.0; 4])], mae(&actual)).unwrap();
        assert_eq!(floor.network_weight, 0.5);
        assert!(cost < 1e-6);
        // a perfect network stands alone; a useless one falls back entirely
        let alone = choose(&actual, &[(Classical::Ets, vec![0.0; 4])], mae(&actual));
        assert_eq!(alone.unwrap().0.network_weight, 1.0);
        let fallback = choose(
            &[50.0; 4],
            &[(Classical::SeasonalNaive, actual.to_vec())],
            mae(&actual),
        );
        assert_eq!(
            fallback.unwrap().0,
            Floor {
                classical: Classical::SeasonalNaive,
                network_weight: 0.0
            }
        );
    }

    #[test]
    fn the_quantiles_move_with_the_point_and_never_below_zero() {
        let floor = Floor {
            classical: Classical::SeasonalNaive,
            network_weight: 0.5,
        };
        let history: Vec<f32> = (0..14).map(|d| (d % 7) as f32).collect();
        let mut point = vec![4.0; 3];
        let mut q = vec![vec![1.0; 3], vec![4.0; 3], vec![9.0; 3]];
        floor.apply(&history, &mut point, Some(&mut q)).unwrap();
        // seasonal naive gives 0, 1, 2: the points move half way
        assert_eq!(point, vec![2.0, 2.5, 3.0]);
        assert_eq!(q[0], vec![0.0, 0.0, 0.0]);
        assert_eq!(q[1], point);
        assert_eq!(q[2], vec![7.0, 7.5, 8.0]);
        let err = floor.apply(&history[..3], &mut point, None).unwrap_err();
        assert!(err.contains("a week of history"), "{err}");
    }

    #[test]
    fn models_without_a_floor_keep_their_metadata() {
        let f = Floor {
            classical: Classical::Ets,
            network_weight: 0.3,
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"classical":"ets","network_weight":0.3}"#);
        assert_eq!(serde_json::from_str::<Floor>(&json).unwrap(), f);
    }
}
