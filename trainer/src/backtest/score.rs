//! Scores of a backtest: per origin (MASE against that origin's history,
//! sMAPE, RMSE), their means per series, and means over series.

use crate::baselines::SEASON;
use serde::Serialize;
use shoptrain_shared::metrics::{seasonal_naive_scale, Metrics};
use std::collections::BTreeMap;

/// One forecaster on one series: the means over origins.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Score {
    pub mase: f64,
    pub smape: f64,
    pub rmse: f64,
    /// MASE at each origin, oldest first.
    pub origin_mase: Vec<f64>,
    /// Why this forecaster has no score (e.g. ETS could not be fitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Score {
    pub fn failed(error: String) -> Score {
        Score {
            mase: f64::NAN,
            smape: f64::NAN,
            rmse: f64::NAN,
            error: Some(error),
            ..Score::default()
        }
    }
}

/// Accumulates one forecaster's origins on one series.
#[derive(Debug, Default)]
pub struct OriginScores {
    mase: Vec<f64>,
    smape: Vec<f64>,
    rmse: Vec<f64>,
}

impl OriginScores {
    /// Scores a forecast made at an origin; `history` is everything before it.
    pub fn add(&mut self, history: &[f32], actual: &[f32], forecast: &[f32]) {
        let m = Metrics::compute(actual, forecast, seasonal_naive_scale(history, SEASON));
        self.mase.push(m.mase);
        self.smape.push(m.smape);
        self.rmse.push(m.rmse);
    }

    pub fn finish(self) -> Score {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        Score {
            mase: mean(&self.mase),
            smape: mean(&self.smape),
            rmse: mean(&self.rmse),
            origin_mase: self.mase,
            error: None,
        }
    }
}

/// Means over series of each forecaster's scores; a forecaster that failed
/// on some series is averaged over the others, and says on how many.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MeanScore {
    pub mase: f64,
    pub smape: f64,
    pub rmse: f64,
    pub series: usize,
}

pub fn means<'a>(
    per_series: impl Iterator<Item = &'a BTreeMap<String, Score>>,
) -> BTreeMap<String, MeanScore> {
    let mut sums: BTreeMap<String, (f64, f64, f64, usize)> = BTreeMap::new();
    for scores in per_series {
        for (name, s) in scores {
            let e = sums.entry(name.clone()).or_default();
            if s.error.is_none() {
                *e = (e.0 + s.mase, e.1 + s.smape, e.2 + s.rmse, e.3 + 1);
            }
        }
    }
    sums.into_iter()
        .map(|(name, (m, s, r, n))| {
            let d = n.max(1) as f64;
            let mean = if n == 0 {
                MeanScore {
                    mase: f64::NAN,
                    smape: f64::NAN,
                    rmse: f64::NAN,
                    series: 0,
                }
            } else {
                MeanScore {
                    mase: m / d,
                    smape: s / d,
                    rmse: r / d,
                    series: n,
                }
            };
            (name, mean)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mase_is_per_origin_then_averaged() {
        // a week of 0 then a week of 10: the lag-7 in-sample MAE is 10
        let history: Vec<f32> = (0..14).map(|t| if t < 7 { 0.0 } else { 10.0 }).collect();
        let mut s = OriginScores::default();
        s.add(&history, &[10.0; 7], &[15.0; 7]); // MAE 5
        s.add(&history, &[10.0; 7], &[10.0; 7]);
        let score = s.finish();
        assert_eq!(score.origin_mase, vec![0.5, 0.0]);
        assert_eq!(score.mase, 0.25);
        assert_eq!(score.rmse, 2.5);
    }

    #[test]
    fn means_skip_failed_series_and_count_the_rest() {
        let ok = |mase| Score {
            mase,
            ..Score::default()
        };
        let a = BTreeMap::from([("ets".to_string(), ok(0.5)), ("kan".to_string(), ok(1.0))]);
        let b = BTreeMap::from([
            ("ets".to_string(), Score::failed("no".into())),
            ("kan".to_string(), ok(0.5)),
        ]);
        let m = means([a, b].iter());
        assert_eq!((m["ets"].mase, m["ets"].series), (0.5, 1));
        assert_eq!((m["kan"].mase, m["kan"].series), (0.75, 2));
    }
}
