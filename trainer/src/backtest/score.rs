//! Scores of a backtest: per origin (MASE against that origin's history,
//! sMAPE, RMSE, and for quantile forecasts the interval's coverage and the
//! pinball loss and WIS scaled like MASE), their means per series, and
//! means over series.

use crate::baselines::SEASON;
use serde::Serialize;
use shoptrain_shared::metrics::{seasonal_naive_scale, Metrics, QuantileMetrics, Quantiles};
use std::collections::BTreeMap;

/// One forecaster on one series: the means over origins.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Score {
    pub mase: f64,
    pub smape: f64,
    pub rmse: f64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<QuantileScore>,
    /// MASE at each origin, oldest first.
    pub origin_mase: Vec<f64>,
    /// Why this forecaster has no score (e.g. ETS could not be fitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a forecaster's quantiles fared, means over origins (or series).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct QuantileScore {
    /// Share of actual days inside the outermost interval (P10–P90).
    pub coverage: f64,
    /// Mean pinball loss over levels and days, divided by the MASE scale.
    pub scaled_pinball: f64,
    /// Weighted interval score divided by the MASE scale.
    pub scaled_wis: f64,
}

impl QuantileScore {
    fn mean<'a>(scores: impl Iterator<Item = &'a QuantileScore>) -> Option<QuantileScore> {
        let (mut sum, mut n) = (QuantileScore::default(), 0usize);
        for s in scores {
            sum.coverage += s.coverage;
            sum.scaled_pinball += s.scaled_pinball;
            sum.scaled_wis += s.scaled_wis;
            n += 1;
        }
        let d = n as f64;
        (n > 0).then(|| QuantileScore {
            coverage: sum.coverage / d,
            scaled_pinball: sum.scaled_pinball / d,
            scaled_wis: sum.scaled_wis / d,
        })
    }
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
    quantiles: Vec<QuantileScore>,
}

impl OriginScores {
    /// Scores a forecast made at an origin; `history` is everything before it.
    /// `quantiles`: the forecaster's quantiles of the same days, if any.
    pub fn add(
        &mut self,
        history: &[f32],
        actual: &[f32],
        forecast: &[f32],
        quantiles: Option<&Quantiles>,
    ) {
        let scale = seasonal_naive_scale(history, SEASON);
        let m = Metrics::compute(actual, forecast, scale);
        self.mase.push(m.mase);
        self.smape.push(m.smape);
        self.rmse.push(m.rmse);
        if let Some(q) = quantiles.and_then(|q| QuantileMetrics::compute(actual, q, scale)) {
            self.quantiles.push(QuantileScore {
                coverage: q.coverage,
                scaled_pinball: q.pinball / scale,
                scaled_wis: q.scaled_wis,
            });
        }
    }

    pub fn finish(self) -> Score {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        Score {
            mase: mean(&self.mase),
            smape: mean(&self.smape),
            rmse: mean(&self.rmse),
            quantiles: QuantileScore::mean(self.quantiles.iter()),
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
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<QuantileScore>,
    pub series: usize,
}

pub fn means<'a>(
    per_series: impl Iterator<Item = &'a BTreeMap<String, Score>>,
) -> BTreeMap<String, MeanScore> {
    let mut sums: BTreeMap<String, (f64, f64, f64, usize)> = BTreeMap::new();
    let mut quantiles: BTreeMap<String, Vec<QuantileScore>> = BTreeMap::new();
    for scores in per_series {
        for (name, s) in scores {
            let e = sums.entry(name.clone()).or_default();
            if s.error.is_none() {
                *e = (e.0 + s.mase, e.1 + s.smape, e.2 + s.rmse, e.3 + 1);
            }
            if let (None, Some(q)) = (&s.error, &s.quantiles) {
                quantiles.entry(name.clone()).or_default().push(q.clone());
            }
        }
    }
    sums.into_iter()
        .map(|(name, (m, s, r, n))| {
            let q = quantiles
                .get(&name)
                .and_then(|q| QuantileScore::mean(q.iter()));
            let d = n.max(1) as f64;
            let mean = if n == 0 {
                MeanScore {
                    mase: f64::NAN,
                    smape: f64::NAN,
                    rmse: f64::NAN,
                    quantiles: None,
                    series: 0,
                }
            } else {
                MeanScore {
                    mase: m / d,
                    smape: s / d,
                    rmse: r / d,
                    quantiles: q,
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
        s.add(&history, &[10.0; 7], &[15.0; 7], None); // MAE 5
        s.add(&history, &[10.0; 7], &[10.0; 7], None);
        let score = s.finish();
        assert_eq!(score.origin_mase, vec![0.5, 0.0]);
        assert_eq!(score.mase, 0.25);
        assert_eq!(score.rmse, 2.5);
        assert_eq!(score.quantiles, None);
    }

    #[test]
    fn quantile_scores_are_scaled_like_mase_and_averaged_over_origins() {
        let history: Vec<f32> = (0..14).map(|t| if t < 7 { 0.0 } else { 10.0 }).collect();
        let q = |lo: f32, hi: f32| Quantiles {
            levels: vec![0.1, 0.5, 0.9],
            values: vec![vec![lo; 2], vec![10.0; 2], vec![hi; 2]],
        };
        let mut s = OriginScores::default();
        // all inside, pinball 0.1*2 + 0.1*2 per day over 3 levels
        s.add(&history, &[10.0; 2], &[10.0; 2], Some(&q(8.0, 12.0)));
        // all outside (actual 14 above 12): 0.1*6 + 0.5*4 + 0.9*2 = 4.4 per day
        s.add(&history, &[14.0; 2], &[10.0; 2], Some(&q(8.0, 12.0)));
        let q = s.finish().quantiles.unwrap();
        assert_eq!(q.coverage, 0.5);
        let pinball = (0.4 / 3.0 + 4.4 / 3.0) / 2.0 / 10.0;
        assert!((q.scaled_pinball - pinball).abs() < 1e-9, "{q:?}");
        assert!((q.scaled_wis - 2.0 * pinball).abs() < 1e-9);
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
